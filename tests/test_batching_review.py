"""Adversarial review of flowcore.batching (batched QueueRunner steps).

Each test builds a runner step, runs it once per element (BATCH_STEP=1, the
reference: TF's behaviour) and once batched (BATCH_STEP=32), and checks that
the runner delivers the same elements (values, dtypes, shapes, order) and
stops with the same error after the same elements; where a step cannot be
batched faithfully it must not be (batched_step returns None).
"""
import gzip
import time

import numpy as np
import pytest

import flowcore.compat.v1 as tf
from flowcore import batching
from tests.test_batching import wait_for_runners

pytestmark = pytest.mark.timeout(60)


# -- harness ------------------------------------------------------------------------------

def _host(v):
    """A fetched component as an array (bytes as a 0-d object array)."""
    return np.asarray(v, dtype=object) if isinstance(v, bytes) else np.asarray(v)


def _drain(sess, q):
    """Every element left in `q`, one dequeue each (shapes may be unknown)."""
    n = sess.run(q.size())
    deq = q.dequeue()
    deq = deq if isinstance(deq, (list, tuple)) else [deq]
    return [tuple(_host(v) for v in sess.run(list(deq))) for _ in range(n)]


def _elements(build, k, setup=None, threads=1, shapes=True, after=None, capacity=100000,
              queue_cls=None):
    """Run `build()`'s tensors through a QueueRunner with BATCH_STEP=k into
    a FIFO queue (or `queue_cls(capacity, dtypes, shapes)`); return (the
    elements, in order, the error that stopped the runner or None,
    batched?, fallbacks, extra) where extra is `after(sess)` run once the
    runner ended (before draining)."""
    old = batching.BATCH_STEP
    batching.BATCH_STEP = k
    batching.fallbacks = 0
    try:
        g = tf.Graph()
        with g.as_default():
            tensors = build()
            if isinstance(tensors, tuple):  # (tensors, setup[, after]) sharing graph objects
                tensors, setup, after = (tensors + (after,))[:3]
            shp = [t.shape for t in tensors] if shapes and all(
                t.shape.is_fully_defined() for t in tensors) else None
            make = queue_cls or (lambda c, d, s: tf.FIFOQueue(c, d, shapes=s))
            q = make(capacity, [t.dtype for t in tensors], shp)
            enq = q.enqueue(tensors)
            tf.train.add_queue_runner(tf.train.QueueRunner(q, [enq] * threads))
            with tf.Session() as sess:
                sess.run([tf.global_variables_initializer(), tf.local_variables_initializer()])
                if setup is not None:
                    setup(sess)
                batched = batching.batched_step(sess, enq) is not None
                coord = tf.train.Coordinator()
                runners = tf.train.start_queue_runners(sess, coord)
                error = wait_for_runners(sess, q, coord, runners)
                extra = after(sess) if after is not None else None
                got = _drain(sess, q)
            return got, error, batched, batching.fallbacks, extra
    finally:
        batching.BATCH_STEP = old


def _assert_same_elements(a, b):
    assert len(a) == len(b), "%d elements per element, %d batched" % (len(a), len(b))
    for j, (x, y) in enumerate(zip(a, b)):
        assert len(x) == len(y)
        for i, (u, v) in enumerate(zip(x, y)):
            where = "element %d component %d (ACTUAL: per element, DESIRED: batched)" % (j, i)
            assert u.dtype == v.dtype and u.shape == v.shape, \
                "%s: %s%s vs %s%s" % (where, u.dtype, u.shape, v.dtype, v.shape)
            if u.dtype == object:
                assert u.tolist() == v.tolist(), where
            else:
                np.testing.assert_array_equal(u, v, err_msg=where)


def _compare(build, setup=None, expect_batched=True, expect_fallbacks=0, **kw):
    """Run per element and batched; assert the same elements and error.
    Returns (elements, error, fallbacks of the batched run)."""
    one, err1, b1, _, x1 = _elements(build, 1, setup, **kw)
    many, err2, b2, fb, x2 = _elements(build, 32, setup, **kw)
    assert not b1
    if expect_batched is not None:      # None: batched, or left to run per element
        assert b2 == expect_batched, "batched_step is %s" % ("a step" if b2 else "None")
    _assert_same_elements(one, many)
    assert type(err1) is type(err2), (err1, err2)
    assert str(err1) == str(err2)
    if expect_fallbacks is not None:
        assert fb == expect_fallbacks, "%d batches fell back" % fb
    if x1 is not None or x2 is not None:
        assert x1 == x2, (x1, x2)
    return one, err1, fb


def _src(data, dtype=None, epochs=1):
    """One element of `data` (a numpy array, rows in order) per dequeue."""
    x, = tf.train.slice_input_producer([tf.constant(data, dtype=dtype)], num_epochs=epochs,
                                       shuffle=False)
    return x


def _filled(q, comps):
    """A `setup` filling the source queue `q` with the rows `comps`, then
    closing it (before the runner starts)."""
    fill = q.enqueue_many(comps)
    close = q.close()

    def setup(sess):
        sess.run(fill)
        sess.run(close)
    return setup


def _obj(*items):
    a = np.empty(len(items), dtype=object)
    a[:] = items
    return a


def _write(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def _lines(tmp_path, name, lines):
    return _write(tmp_path, name, b"".join(
        (ln if isinstance(ln, bytes) else ln.encode()) + b"\n" for ln in lines))


def _records(tmp_path, name, records, compression=None):
    path = str(tmp_path / name)
    opts = None if compression is None else tf.python_io.TFRecordOptions(
        getattr(tf.python_io.TFRecordCompressionType, compression))
    with tf.python_io.TFRecordWriter(path, options=opts) as w:
        for r in records:
            w.write(r)
    return path


def _read(files, reader, epochs=1):
    fq = tf.train.string_input_producer(files, num_epochs=epochs, shuffle=False)
    return reader.read(fq)


# -- element-wise ops: broadcasting, dtypes ------------------------------------------------

# element shapes cut from one (2, 1, 3) element by batchable ops, x unbatched operand shapes
_ELEMENT_VIEWS = {(): lambda x: x[0, 0, 0], (1,): lambda x: x[0, 0, :1], (3,): lambda x: x[0, 0],
                  (2, 1): lambda x: x[:, :, 0], (1, 3): lambda x: x[0],
                  (2, 3): lambda x: tf.reshape(x, [2, 3]), (2, 1, 3): lambda x: x,
                  (1, 1, 1): lambda x: tf.reshape(x[0, 0, 0], [1, 1, 1])}
_OPERANDS = [(), (1,), (3,), (2, 1), (1, 3), (2, 3), (1, 1, 1), (4, 1, 1), (2, 1, 3), (1, 2, 1, 3)]


def _broadcastable(a, b):
    try:
        np.broadcast_shapes(a, b)
        return True
    except ValueError:
        return False


@pytest.mark.parametrize("dtype", [np.float32, np.int32])
def test_broadcasting_rows_against_operands_of_every_rank(dtype):
    """Each element shape against each unbatched operand shape, both orders,
    through several broadcasting ops: one pipeline per dtype."""
    def build():
        data = (np.arange(4 * 6).reshape(4, 2, 1, 3) % 7 + 1).astype(dtype)
        x = _src(data)
        out = []
        for es, view in _ELEMENT_VIEWS.items():
            e = view(x)
            assert e.shape.as_list() == list(es)
            for os_ in _OPERANDS:
                if not _broadcastable(es, os_):
                    continue
                c = tf.constant((np.arange(int(np.prod(os_))).reshape(os_) % 5 + 1).astype(dtype))
                out += [e + c, c - e, tf.maximum(c, e), tf.floordiv(c, e), tf.less(e, c),
                        tf.equal(c, e), e * e + c]
        return out
    _compare(build)


def test_dtypes_of_element_wise_results():
    def build():
        i = _src(np.array([-7, 7, -1, 3, 0], np.int32))
        f = tf.cast(i, tf.float64) * 0.5
        u = tf.cast(i + 7, tf.uint8)
        b = tf.greater(i, 0)
        return [tf.floordiv(i, tf.constant(2)), tf.floormod(i, tf.constant(-3)),
                tf.truediv(i, tf.constant(2)), tf.realdiv(i, tf.constant(2)),
                tf.div_no_nan(f, tf.constant([0.0, 2.0], tf.float64)),
                u * tf.constant(np.uint8(40)),
                tf.logical_and(b, tf.constant([True, False])), tf.logical_not(b),
                tf.cast(b, tf.float16) - tf.constant(np.float16(0.5)), tf.abs(i), tf.sign(f),
                tf.square(u), -f, tf.round(f), tf.floor(f), tf.sqrt(tf.abs(f)),
                tf.cast(f, tf.int8), tf.cast(tf.constant(1e10) * tf.cast(i, tf.float32), tf.int32),
                tf.is_nan(f / f), tf.squared_difference(i, tf.constant(2))]
    _compare(build)


def test_integer_division_by_zero_stops_at_the_same_element():
    def build():
        i = _src(np.array([4, 3, 2, 1, 0, 5], np.int32))
        return [i, tf.floordiv(tf.constant(12), i)]
    got, err, fallbacks = _compare(build, expect_fallbacks=1)
    assert len(got) == 4 and isinstance(err, tf.errors.InvalidArgumentError)
    assert "division by zero" in str(err)


def test_pow_values_do_not_depend_on_the_batch_layout():
    """numpy's power takes a sqrt/square fast path for a scalar (stride-0)
    exponent of 0.5 or 2 and a SIMD pow otherwise, 1 ulp apart: a batch must
    not change which one an element gets.  TF gives the correctly rounded
    values (3 ** 0.5 == 1.7320508 as float32, the per-element result)."""
    def build():
        x = _src(np.array([0.5, 2.0, 0.5, 3.0], np.float32))
        return [tf.pow(tf.constant(3.0), x), tf.pow(x, x), tf.pow(tf.constant([3.0, 5.0]), x)]
    got, _, _ = _compare(build, expect_batched=None)
    assert got[0][0] == np.float32(np.sqrt(3.0))


def test_float16_transcendentals_do_not_depend_on_the_batch_layout():
    """numpy's float16 SIMD loops (contiguous rows) round differently from its
    scalar loop (a 0-d element) for a few inputs; TF (computing in float)
    gives the per-element values: sin(300) == -1, exp(0.0073) == 1.008."""
    vals = np.array([300.0, 0.007297515869140625, 0.0343017578125, 0.03125, 1.0],
                    np.float16)

    def build():
        x = _src(vals)
        return [tf.sin(x), tf.exp(x), tf.expm1(x), tf.cosh(x), tf.sigmoid(x)]
    got, _, _ = _compare(build, expect_batched=None)
    assert got[0][0] == np.float16(-1.0) and got[1][1] == np.float16(1.0078125)


# -- shape ops ------------------------------------------------------------------------------

def test_reshape_with_inferred_and_empty_dimensions():
    def build():
        x = _src(np.arange(4 * 12.0).reshape(4, 2, 6))
        return [tf.reshape(x, [-1]), tf.reshape(x, [3, -1]), tf.reshape(x, [-1, 1, 4]),
                tf.reshape(x, [2, 2, 3]), tf.reshape(x[0, 0], []),
                tf.reshape(x[0, 0], [1, 1]), tf.reshape(x, [12, 1])]
    _compare(build)

    def empty():
        z = _src(np.zeros((4, 0, 3), np.int32))
        return [tf.reshape(z, [0, 5]), tf.reshape(z, [-1, 7]), tf.reshape(z, [3, 0, 2]), z + 1]
    _compare(empty)


def test_a_reshape_that_fits_no_element_fails_as_it_does_alone():
    def build():
        z = _src(np.zeros((4, 0), np.int32))
        return [tf.reshape(z, [0, -1])]
    got, err, _ = _compare(build, expect_fallbacks=1)
    assert got == [] and isinstance(err, tf.errors.InvalidArgumentError)


def test_strided_slices_with_every_mask():
    def build():
        x = _src(np.arange(4 * 2 * 3 * 4.0).reshape(4, 2, 3, 4))
        return [x[..., 1], x[:, None, ::-1], x[1, ..., ::-2], x[-1, tf.newaxis, 2],
                x[..., tf.newaxis], x[::-1, ::2, 1:-1:1], x[0, 0, 0], x[:, :, -1:-4:-1],
                x[tf.newaxis, ..., tf.newaxis, 0], x[..., 3:0:-2], x[5:1], x[-10:10, ..., -10:10:3],
                tf.strided_slice(x, [0, 2], [0, 3], [1, 1], ellipsis_mask=1, new_axis_mask=1),
                tf.strided_slice(x, [1], [3], [1], shrink_axis_mask=1, begin_mask=1),
                tf.strided_slice(x, [0, -1], [0, 0], [1, 1], ellipsis_mask=1, shrink_axis_mask=2),
                tf.strided_slice(x, [0, 0], [0, 0], [1, 1], new_axis_mask=3),
                x[0, 0, 0][tf.newaxis], x[0, 0, 0][...]]
    _compare(build)


def test_a_strided_slice_out_of_an_element_fails_as_it_does_alone():
    def build():
        d = tf.placeholder_with_default(np.arange(24.0).reshape(4, 6), [None, None])
        x, = tf.train.slice_input_producer([d], num_epochs=1, shuffle=False)
        b = tf.Variable([1])
        return [x[7], tf.strided_slice(x, b, b + 3, [2])]
    got, err, _ = _compare(build, expect_fallbacks=1, shapes=False)
    assert got == [] and "out of bounds" in str(err)


def test_transpose_with_negative_perm_entries():
    def build():
        x = _src(np.arange(4 * 24.0).reshape(4, 2, 3, 4))
        return [tf.transpose(x, [-1, 0, -2]), tf.transpose(x, [2, -3, 1]), tf.transpose(x),
                tf.transpose(x[0, 0, 0], [])]
    _compare(build)


def test_a_transpose_by_a_perm_out_of_range_fails_as_it_does_alone():
    """perm [1, 2] for a rank-2 element (read from a variable, so the graph
    cannot check it): TF and the per-element step raise InvalidArgumentError
    ("2 is out of range [0 .. 2)" in TF); the batch rule takes 2 % 2 == 0
    and transposes every element."""
    def build():
        x = _src(np.arange(4 * 6.0).reshape(4, 2, 3))
        return [tf.transpose(x, tf.Variable([1, 2]))]
    got, err, _ = _compare(build, shapes=False, expect_fallbacks=None)
    assert got == [] and isinstance(err, tf.errors.InvalidArgumentError)


# -- gather, one_hot, cast -----------------------------------------------------------------

def test_gather_rows_along_every_axis():
    def build():
        i = _src(np.array([0, 2, 1, 0], np.int32))
        p = tf.constant(np.arange(24).reshape(2, 3, 4))
        v = tf.Variable(np.arange(12.0).reshape(3, 4))
        return [tf.gather(p, i, axis=1), tf.gather(p, i, axis=-1), tf.gather(p, i + 1, axis=-1),
                tf.gather(p, i % 2), tf.gather(v, i), tf.gather(v.value(), i, axis=1),
                tf.gather(tf.constant(_obj(b"a", b"b\x00", b"c")), i)]
    _compare(build)

    def vectors():
        i = _src(np.array([[0, 2], [1, 1], [2, 0], [0, 0]], np.int64))
        p = tf.constant(np.arange(24).reshape(2, 3, 4))
        return [tf.gather(p, i, axis=1), tf.gather(p, i, axis=2), tf.gather(p, i % 2, axis=0)]
    _compare(vectors)


@pytest.mark.parametrize("bad", [-1, 4])
def test_gather_out_of_range_fails_after_the_same_elements(bad):
    def build():
        i = _src(np.array([0, 2, bad, 0, 1], np.int32))
        return [tf.gather(tf.constant(np.arange(12).reshape(3, 4)), i, axis=1)]
    got, err, _ = _compare(build, expect_fallbacks=1)
    assert len(got) == 2 and str(err) == "indices[0] = %d is not in [0, 4)" % bad


def test_one_hot_of_scalars_and_vectors():
    def build():
        x = _src(np.array([0, 2, -1, 5], np.int32))
        return [tf.one_hot(x, 3), tf.one_hot(x, 3, on_value=5, off_value=-2),
                tf.one_hot(x, 3, on_value=True, off_value=False, dtype=tf.bool),
                tf.one_hot(x, 3, on_value=2.5, off_value=0.5, dtype=tf.float64),
                tf.one_hot(x, 0), tf.one_hot(x, 3, axis=-1), tf.one_hot(x, tf.Variable(4)),
                tf.one_hot(x, 2, on_value="on", off_value="off")]
    _compare(build)

    def vectors():
        v = _src(np.array([[0, 2], [1, -1], [3, 0], [0, 0]], np.int64))
        return [tf.one_hot(v, 4), tf.one_hot(v, 4, on_value=3, off_value=1)]
    _compare(vectors)


def test_one_hot_of_uint8_indices_deeper_than_256():
    """Index 5 of depth 300 is hot at 5 only (TF; the per-element kernel);
    the batched kernel compares with arange(300) in uint8, which wraps, so
    position 261 (== 5 mod 256) is hot as well."""
    def build():
        x = _src(np.array([5, 0, 255, 44], np.uint8))
        return [tf.one_hot(x, 300)]
    got, _, _ = _compare(build)
    assert [int(np.flatnonzero(e[0])[0]) for e in got] == [5, 0, 255, 44]
    assert all(e[0].sum() == 1 for e in got)


def test_casts():
    def build():
        x = _src(np.array([1.7, -2.5, np.nan, 1e10, -0.0], np.float32))
        return [tf.cast(x, tf.int32), tf.cast(x, tf.uint8), tf.cast(x, tf.bool),
                tf.cast(x, tf.float16), tf.cast(x, tf.int64),
                tf.cast(tf.cast(x, tf.bool), tf.float32),
                tf.cast(tf.cast(x, tf.int64), tf.float64)]
    _compare(build)


# -- decoders ------------------------------------------------------------------------------

def test_decode_raw_of_every_type_and_byte_order():
    def build():
        x = _src(_obj(b"\x01\x00\x02\x00\x00\x00\x80\x3f", b"\xff\xff\x00\x80abcd",
                      b"\x00" * 8, b"abcdefgh"))
        out = [tf.decode_raw(x, tf.uint8), tf.decode_raw(x, tf.bool)]
        for dt in (tf.int16, tf.uint16, tf.int32, tf.float32, tf.float64, tf.int64, tf.float16):
            out += [tf.decode_raw(x, dt), tf.decode_raw(x, dt, little_endian=False)]
        return out
    _compare(build, shapes=False)


def test_decode_raw_of_records_of_different_lengths():
    """Rows of one batch of different lengths cannot be decoded at once: the
    batch falls back to per-element runs, each element its own length."""
    def build():
        x = _src(_obj(b"\x01\x00", b"\xff\xff\x00\x80", b"ab", b"", b"abcdef"))
        return [tf.decode_raw(x, tf.int16, little_endian=False)]
    got, err, fallbacks = _compare(build, shapes=False, expect_fallbacks=1)
    assert [e[0].shape for e in got] == [(1,), (2,), (1,), (0,), (3,)] and err is None


def test_decode_raw_of_a_record_of_a_bad_length():
    def build():
        x = _src(_obj(b"\x01\x00", b"\xff\xff", b"abc", b"ab"))
        return [tf.decode_raw(x, tf.int16)]
    got, err, _ = _compare(build, shapes=False, expect_fallbacks=1)
    assert len(got) == 2 and "length 3 that is not a multiple of 2" in str(err)


def test_string_to_number():
    def build():
        x = _src(_obj(b"1", b" 2 ", b"-7", b"+3", b"2147483647", b"007", b"-0"))
        return [tf.string_to_number(x, tf.int32), tf.string_to_number(x, tf.int64),
                tf.string_to_number(x), tf.string_to_number(x, tf.float64)]
    _compare(build)

    def floats():
        f = _src(_obj(b"1", b" 2.5 ", b"-inf", b"nan", b"0x1p3", b"1e39", b"-0", b"1e-50",
                      b"1.00000005960464477539062500001"))
        return [tf.string_to_number(f), tf.string_to_number(f, tf.float64)]
    _compare(floats)


@pytest.mark.parametrize("bad,out_type", [(b"1_0", tf.int32), (b"abc", tf.int32), (b"", tf.int64),
                                          (b"2147483648", tf.int32), (b"1.5", tf.int64),
                                          (b"0x10", tf.int32), (b"1e", tf.float32),
                                          (b"- 1", tf.float64), (b"1_0", tf.float32)])
def test_string_to_number_errors(bad, out_type):
    def build():
        x = _src(_obj(b"1", b"2", bad, b"4"))
        return [tf.string_to_number(x, out_type)]
    got, err, _ = _compare(build, expect_fallbacks=1)
    assert len(got) == 2 and isinstance(err, tf.errors.InvalidArgumentError)


_CSV_GOOD = ['1,2.5,x,7,3.25', '"2","3.5","y z",8,4', '3,,"q""uote",,', ' 4 , 5 ,  w ,9,1e3',
             '5,inf,"a,b",-1,nan', '6,-0,"",0,0x1p2', '7,1e-50,x,9223372036854775807,3.4e38',
             '8,1.00000005960464477539062500001,s,-9223372036854775808,1',
             '9,1e39,"multi\nline",3,-0']


def test_decode_csv_with_quotes_defaults_of_every_type_and_select_cols(tmp_path):
    path = _write(tmp_path, "a.csv", "".join(ln + "\n" for ln in _CSV_GOOD * 6).encode()
                  .replace(b'"multi\nline"', b'"multi line"'))

    def build():
        key, line = _read([path], tf.TextLineReader())
        cols = tf.decode_csv(line, record_defaults=[[0], [0.0], ["d"], tf.constant([-1], tf.int64),
                                                    tf.constant([0.5], tf.float64)])
        sel = tf.decode_csv(line, record_defaults=[[0.0], ["d"], [1.5]], select_cols=[1, 2, 4])
        return [key] + cols + sel
    got, _, _ = _compare(build)
    assert len(got) == 54 and got[2][4].tolist() == -1 and got[2][3].tolist() == b'q"uote'


def test_decode_csv_with_na_values_and_a_header(tmp_path):
    path = _lines(tmp_path, "na.csv", ["a,b,c"] + ["NA,x,1", "1,NA,NA", "2,y,"] * 12)

    def build():
        key, line = _read([path], tf.TextLineReader(skip_header_lines=1))
        return [key] + tf.decode_csv(line, record_defaults=[[0], ["dflt"], [2.5]], na_value="NA")
    _compare(build)


@pytest.mark.parametrize("bad", ["1,2,3", ",x", '1,"ab"c', '1,a"b', '1,"ab', "1.5,x",
                                 "99999999999999999999,x", "2147483648,x", "", "1 2,x"])
@pytest.mark.parametrize("pos", [0, 5, 40])
def test_decode_csv_errors_after_the_same_records(tmp_path, bad, pos):
    lines = ["%d,s%d" % (i, i) for i in range(45)]
    lines[pos] = bad
    path = _lines(tmp_path, "bad.csv", lines)

    def build():
        key, line = _read([path], tf.TextLineReader())
        a, b = tf.decode_csv(line, record_defaults=[tf.constant([], tf.int32), ["z"]])
        return [key, a, b]
    got, err, _ = _compare(build, expect_fallbacks=1)
    assert len(got) == pos and isinstance(err, tf.errors.InvalidArgumentError)


# -- parse_single_example -------------------------------------------------------------------

_F = tf.train.Feature


def _example(i, drop=(), replace=None):
    feat = {"b0": _F(bytes_list=tf.train.BytesList(value=[b"r%d" % i])),
            "b2": _F(bytes_list=tf.train.BytesList(value=[b"x" * (i % 3), b"\x00y"])),
            "b23": _F(bytes_list=tf.train.BytesList(value=[b"%d" % j for j in range(6)])),
            "f0": _F(float_list=tf.train.FloatList(value=[i * 0.25])),
            "f2": _F(float_list=tf.train.FloatList(value=[i, -i])),
            "f23": _F(float_list=tf.train.FloatList(value=list(range(i, i + 6)))),
            "i0": _F(int64_list=tf.train.Int64List(value=[i * 1000 - 5000])),
            "i2": _F(int64_list=tf.train.Int64List(value=[i, -2 ** 62])),
            "i23": _F(int64_list=tf.train.Int64List(value=list(range(6))))}
    for k in drop:
        feat.pop(k)
    feat.update(replace or {})
    return tf.train.Example(features=tf.train.Features(feature=feat)).SerializeToString()


_SPEC = {"b0": tf.FixedLenFeature([], tf.string), "b2": tf.FixedLenFeature([2], tf.string),
         "b23": tf.FixedLenFeature([2, 3], tf.string), "f0": tf.FixedLenFeature([], tf.float32),
         "f2": tf.FixedLenFeature([2], tf.float32), "f23": tf.FixedLenFeature([2, 3], tf.float32),
         "i0": tf.FixedLenFeature([], tf.int64), "i2": tf.FixedLenFeature([2], tf.int64),
         "i23": tf.FixedLenFeature([2, 3], tf.int64)}


def _parse_step(path, spec=_SPEC):
    def build():
        key, ser = _read([path], tf.TFRecordReader())
        f = tf.parse_single_example(ser, spec)
        return [key] + [f[k] for k in sorted(f)]
    return build


def test_parse_single_example_of_every_type_and_shape(tmp_path):
    path = _records(tmp_path, "good.tfr", [_example(i) for i in range(60)])
    got, _, _ = _compare(_parse_step(path))
    assert len(got) == 60 and got[7][2].tolist() == [b"x", b"\x00y"]


@pytest.mark.parametrize("every", [1, 3])
def test_parse_single_example_with_missing_features_and_defaults(tmp_path, every):
    spec = dict(_SPEC)
    spec.update({"b0": tf.FixedLenFeature([], tf.string, default_value="dflt\x00"),
                 "f2": tf.FixedLenFeature([2], tf.float32, default_value=[7, 8]),
                 "i23": tf.FixedLenFeature([2, 3], tf.int64,
                                           default_value=np.arange(6).reshape(2, 3) * -1)})
    path = _records(tmp_path, "missing.tfr", [_example(i, drop=("b0", "f2", "i23") if i % every
                                                       or every == 1 else ())
                                              for i in range(60)])
    got, _, _ = _compare(_parse_step(path, spec))
    assert got[1][1].tolist() == b"dflt\x00" and got[1][-1].tolist() == [[0, -1, -2], [-3, -4, -5]]


@pytest.mark.parametrize("pos", [0, 9, 40])
@pytest.mark.parametrize("fault", ["missing", "truncated", "wrong type", "wrong count"])
def test_parse_single_example_errors_after_the_same_records(tmp_path, pos, fault):
    def record(i):
        if i != pos:
            return _example(i)
        if fault == "missing":
            return _example(i, drop=("f23",))
        if fault == "truncated":
            return _example(i)[:-3]
        if fault == "wrong type":
            return _example(i, replace={"i0": _F(float_list=tf.train.FloatList(value=[1.0]))})
        return _example(i, replace={"f2": _F(float_list=tf.train.FloatList(value=[1, 2, 3]))})
    path = _records(tmp_path, "bad.tfr", [record(i) for i in range(60)])
    got, err, _ = _compare(_parse_step(path), expect_fallbacks=1)
    assert len(got) == pos and isinstance(err, tf.errors.InvalidArgumentError)


def _varint(n):
    out = b""
    while True:
        b, n = n & 0x7F, n >> 7
        if not n:
            return out + bytes([b])
        out += bytes([b | 0x80])


def _entry(key, feature_bytes):
    e = b"\x0a" + _varint(len(key)) + key + b"\x12" + _varint(len(feature_bytes)) + feature_bytes
    return b"\x0a" + _varint(len(e)) + e


def test_a_malformed_feature_that_is_not_parsed(tmp_path):
    """Record 9's "junk" Feature is malformed (an int64_list whose packed list
    runs past it); only "label" is parsed.  TF's parser delimits the values
    of features it was not asked for without decoding them and returns all
    60 labels (checked with TF 2.21, parse_single_example and parse_example);
    both steps must agree with it (per element, the protobuf runtime rejects
    the record; a batch of 8 or more goes through example_wire, which does
    not look inside "junk")."""
    good = _F(int64_list=tf.train.Int64List(value=[1, 2])).SerializeToString()
    bad = b"\x1a\x04\x0a\x05\x01\x02"
    assert len(good) == len(bad)
    records = []
    for i in range(60):
        body = _entry(b"label", _F(int64_list=tf.train.Int64List(value=[i])).SerializeToString())
        body += _entry(b"junk", bad if i == 9 else good)
        records.append(b"\x0a" + _varint(len(body)) + body)
    path = _records(tmp_path, "junk.tfr", records)
    got, err, _ = _compare(_parse_step(path, {"label": tf.FixedLenFeature([], tf.int64)}),
                           expect_fallbacks=None)
    assert err is None and [int(e[1]) for e in got] == list(range(60))


# -- readers --------------------------------------------------------------------------------

@pytest.mark.parametrize("skip", [0, 1, 2])
def test_text_lines_of_several_files_with_headers_and_empty_files(tmp_path, skip):
    lines = b"".join(b"line%d\r\n" % i for i in range(40))
    files = [_write(tmp_path, "t1.txt", b"h1\nh2\n" + lines),
             _write(tmp_path, "t2.txt", b""), _write(tmp_path, "t3.txt", b"h\n"),
             _write(tmp_path, "t4.txt", b"only\nno newline at the end\x00"),
             _write(tmp_path, "t5.txt", b"\n\n\n"), _write(tmp_path, "t6.txt", b"x\n" * 70)]

    def build():
        key, line = _read(files, tf.TextLineReader(skip_header_lines=skip), epochs=2)
        return [key, line]
    got, _, _ = _compare(build)
    assert len(got) == 2 * (118 - [0, 5, 9][skip])


@pytest.mark.parametrize("header,record,footer,hop", [(0, 4, 0, 0), (3, 5, 2, 0), (2, 6, 1, 3),
                                                      (1, 3, 0, 0)])
def test_fixed_length_records_with_header_footer_and_hop(tmp_path, header, record, footer, hop):
    rng = np.random.default_rng(header)
    step = hop or record
    files = []
    for i, n in enumerate((50, 0, 7)):
        body = rng.integers(0, 256, record + (n - 1) * step if n else 0, dtype=np.uint8).tobytes()
        files.append(_write(tmp_path, "f%d.bin" % i, b"H" * header + body + b"F" * footer))

    def build():
        key, value = _read(files, tf.FixedLengthRecordReader(record, header_bytes=header,
                                                             footer_bytes=footer, hop_bytes=hop))
        return [key, value, tf.decode_raw(value, tf.uint8)]
    got, _, _ = _compare(build, shapes=False)
    assert len(got) == 57


def test_a_fixed_length_file_with_a_partial_record(tmp_path):
    data = bytes(range(256)) * 2
    files = [_write(tmp_path, "a.bin", b"HH" + data[:5 * 40 + 2] + b"F")]

    def build():
        key, value = _read(files, tf.FixedLengthRecordReader(5, header_bytes=2, footer_bytes=1))
        return [key, value]
    got, err, _ = _compare(build, expect_fallbacks=None)
    assert len(got) == 40 and isinstance(err, tf.errors.DataLossError)


@pytest.mark.parametrize("compression", [None, "GZIP", "ZLIB"])
def test_tfrecords_compressed_or_not(tmp_path, compression):
    files = [_records(tmp_path, "r%d.tfr" % j, [b"rec%d" % i + b"\x00" * (i % 3) for i in range(n)],
                      compression) for j, n in enumerate((45, 0, 3))]
    opts = None if compression is None else tf.python_io.TFRecordOptions(
        getattr(tf.python_io.TFRecordCompressionType, compression))

    def build():
        return list(_read(files, tf.TFRecordReader(options=opts)))
    got, _, _ = _compare(build)
    assert len(got) == 48 and got[2][1].tolist() == b"rec2\x00\x00"


@pytest.mark.parametrize("cut", ["end of the stream", "a record"])
def test_a_truncated_gzip_tfrecord_file_fails_as_it_does_per_element(tmp_path, cut):
    """Per element, the reader raises DataLossError after the records before
    the cut and the runner stops.  The batched read (`_Source.read_many`)
    returns those records and drops the error, expecting the next read to
    raise it again; a compressed stream is then at its end, so the reader
    silently goes on with the next file."""
    plain = _records(tmp_path, "plain.tfr", [b"rec%d" % i for i in range(45)])
    data = open(plain, "rb").read()
    blob = gzip.compress(data)[:-9] if cut == "end of the stream" else \
        gzip.compress(data[:len(data) // 2 + 3])
    bad = _write(tmp_path, "bad.tfr.gz", blob)
    good = _records(tmp_path, "good.tfr.gz", [b"next%d" % i for i in range(5)], "GZIP")
    opts = tf.python_io.TFRecordOptions(tf.python_io.TFRecordCompressionType.GZIP)

    def build():
        return list(_read([bad, good], tf.TFRecordReader(options=opts)))
    got, err, _ = _compare(build, expect_fallbacks=None)
    assert isinstance(err, tf.errors.DataLossError)
    assert all(e[1].tolist().startswith(b"rec") for e in got)


def test_whole_file_and_identity_readers(tmp_path):
    files = [_write(tmp_path, "w%d" % i, b"x\x00" * i) for i in range(5)]

    def build():
        return list(_read(files, tf.WholeFileReader()))
    _compare(build)

    def identity():
        return list(_read(["a", "b", "c\x00"], tf.IdentityReader(), epochs=3))
    _compare(identity)


def test_a_missing_file_between_files(tmp_path):
    a = _lines(tmp_path, "a.txt", ["a%d" % i for i in range(40)])
    b = _lines(tmp_path, "b.txt", ["b%d" % i for i in range(5)])

    def build():
        return list(_read([a, str(tmp_path / "nope.txt"), b], tf.TextLineReader()))
    got, err, _ = _compare(build, expect_fallbacks=None)
    assert len(got) == 40 and isinstance(err, tf.errors.NotFoundError)


def test_a_bad_record_leaves_the_records_after_it_to_be_read(tmp_path):
    """Per element, the runner stops at bad line 6 having read 6 records: the
    reader's next read returns line 7.  The batched step has read 32 lines
    and runs 6 of them; lines 7..32 are gone (a runner restarted after
    the error, or a `sess.run` of the reader, continues at line 33)."""
    lines = ["%d,%d" % (i, i) for i in range(70)]
    lines[5] = "x,1"
    path = _lines(tmp_path, "a.csv", lines)

    def build():
        fq = tf.train.string_input_producer([path], num_epochs=1, shuffle=False)
        reader = tf.TextLineReader()
        key, line = reader.read(fq)
        produced, nxt = reader.num_records_produced(), reader.read(fq)[0]
        a, b = tf.decode_csv(line, [[0], [0]])
        return [key, a, b], None, lambda sess: (int(sess.run(produced)), sess.run(nxt))
    got, err, _ = _compare(build, expect_fallbacks=None)
    assert len(got) == 5 and isinstance(err, tf.errors.InvalidArgumentError)


# -- sources and sinks ----------------------------------------------------------------------

def test_a_seeded_random_shuffle_queue_source_gives_the_same_order():
    """A seeded RandomShuffleQueue, filled and closed, dequeued one element
    per step: the order is fixed by the seed (the same in every run), and
    TF's DequeueMany draws its elements one at a time the same way.  The
    batched source takes up to 32 with one `rng.choice`, another order."""
    def build():
        q = tf.RandomShuffleQueue(1000, 0, [tf.int32, tf.float32], shapes=[[], [2]], seed=7)
        a, b = q.dequeue()
        return [a * 2, b + 1.0], _filled(q, [np.arange(100, dtype=np.int32),
                                             np.arange(200, dtype=np.float32).reshape(100, 2)])
    got, _, _ = _compare(build, expect_batched=None)
    assert sorted(int(e[0]) for e in got) == list(range(0, 200, 2))


def test_a_random_shuffle_queue_source_with_min_after_dequeue():
    def build():
        q = tf.RandomShuffleQueue(1000, 10, [tf.int32], shapes=[[]], seed=3)
        return [q.dequeue() + 0], _filled(q, [np.arange(100, dtype=np.int32)])
    _compare(build, expect_batched=None)


def test_padding_priority_and_multi_component_sources():
    def padding():
        q = tf.PaddingFIFOQueue(1000, [tf.int32, tf.string], shapes=[[None], []])
        a, k = q.dequeue()
        fills = [q.enqueue([np.arange(i % 4, dtype=np.int32), b"k%d" % i]) for i in range(40)]
        close = q.close()

        def setup(sess):
            for f in fills:
                sess.run(f)
            sess.run(close)
        return [a + 1, k], setup
    _compare(padding, shapes=False)

    def priority():
        q = tf.PriorityQueue(1000, [tf.string], shapes=[[]])
        p, v = q.dequeue()
        return [p, v], _filled(q, [np.array([5, 3, 3, 9, 1, 3] * 8, np.int64),
                                   _obj(*[b"v%d" % i for i in range(48)])])
    _compare(priority)

    def several():
        q = tf.FIFOQueue(1000, [tf.int32, tf.string, tf.float64], shapes=[[], [], [2, 2]])
        a, k, m = q.dequeue()
        return ([a, k, tf.transpose(m), m[0] * tf.cast(a, tf.float64), tf.constant(3)],
                _filled(q, [np.arange(50, dtype=np.int32),
                            _obj(*[b"s%d\x00" % i for i in range(50)]),
                            np.arange(200.0).reshape(50, 2, 2)]))
    _compare(several)


def test_a_source_queue_closed_while_the_runner_waits():
    def run(k):
        old = batching.BATCH_STEP
        batching.BATCH_STEP = k
        try:
            with tf.Graph().as_default():
                src = tf.FIFOQueue(100, [tf.int32], shapes=[[]])
                dst = tf.FIFOQueue(100, [tf.int32], shapes=[[]])
                enq = dst.enqueue([src.dequeue() * 3])
                tf.train.add_queue_runner(tf.train.QueueRunner(dst, [enq]))
                deq = dst.dequeue()
                with tf.Session() as sess:
                    coord = tf.train.Coordinator()
                    threads = tf.train.start_queue_runners(sess, coord)
                    time.sleep(0.02)
                    sess.run(src.enqueue_many([[1, 2, 3]]))
                    sess.run(src.enqueue_many([[4, 5]]))
                    sess.run(src.close())
                    out = []
                    with pytest.raises(tf.errors.OutOfRangeError):
                        while True:
                            out.append(int(sess.run(deq, options=tf.RunOptions(
                                timeout_in_ms=5000))))
                    coord.request_stop()
                    coord.join(threads)
                    return out
        finally:
            batching.BATCH_STEP = old
    assert run(1) == run(32) == [3, 6, 9, 12, 15]


def test_sinks_padding_and_random_shuffle_queues():
    def build():
        x = _src(np.arange(40, dtype=np.int32))
        return [x, tf.reshape(x, [1]) * 2]
    _compare(build, queue_cls=lambda c, d, s: tf.PaddingFIFOQueue(c, d, shapes=[[], [None]]))
    _compare(build, queue_cls=lambda c, d, s: tf.RandomShuffleQueue(c, 0, d, shapes=s, seed=5))


def test_a_sink_shape_mismatch_fails_as_it_does_alone(tmp_path):
    path = _lines(tmp_path, "a.txt", ["abcd"] * 40)

    def build():
        key, line = _read([path], tf.TextLineReader())
        return [tf.decode_raw(line, tf.uint8)]
    got, err, _ = _compare(build, expect_fallbacks=1,
                           queue_cls=lambda c, d, s: tf.FIFOQueue(c, d, shapes=[[3]]))
    assert got == [] and isinstance(err, tf.errors.InvalidArgumentError)


def test_tensors_that_do_not_depend_on_the_source():
    def build():
        x = _src(np.arange(40, dtype=np.float32))
        v = tf.Variable([1.0, 2.0])
        with tf.control_dependencies([x]):
            cd = tf.constant(5.0) * 2
        with tf.control_dependencies([v.value()]):
            y = x + 1
        return [x, v.value(), tf.constant([[1, 2], [3, 4]]), cd, y, x * v.value(),
                tf.constant("s\x00"), tf.size(v.value()) + tf.cast(x, tf.int32)]
    _compare(build)


def test_an_unbatched_string_component_keeps_its_trailing_nul():
    """`gather(strings, 0)` gives a Python bytes value, the same for every
    element; the sink repeats it with np.broadcast_to, which makes a numpy
    bytes (S) array and loses trailing NUL bytes: b"ab\\x00" arrives as b"ab"."""
    def build():
        x = _src(np.arange(5, dtype=np.int32))
        names = tf.constant(_obj(b"ab\x00", b"c"))
        return [x, tf.gather(names, 0)]
    got, _, _ = _compare(build)
    assert all(e[1].tolist() == b"ab\x00" for e in got)


def test_comparing_rows_with_an_unbatched_string_keeps_trailing_nuls():
    """The broadcasting rule reshapes the unbatched bytes b"ab\\x00" into an S
    array (b"ab"): rows equal to b"ab\\x00" then compare unequal."""
    def build():
        x = _src(np.array([0, 1, 0], np.int32))
        names = tf.constant(_obj(b"ab\x00", b"c"))
        row = tf.gather(names, x)
        return [tf.equal(row, tf.gather(names, 0)), tf.not_equal(tf.gather(names, 0), row)]
    got, _, _ = _compare(build)
    assert [bool(e[0]) for e in got] == [True, False, True]


def test_string_rows_compare_and_concatenate_byte_for_byte():
    """TF compares strings byte for byte: b"ab\\x00" != b"ab", and
    b"ab\\x00" + b"!" == b"ab\\x00!".  Per element the row is a Python bytes
    value, which np.equal / np.add turn into an S array, dropping trailing
    NULs; batched rows are object arrays (right)."""
    def build():
        x = _src(_obj(b"ab\x00", b"ab", b"c\x00\x00"))
        return [tf.equal(x, tf.constant(b"ab")), tf.not_equal(x, tf.constant(b"ab\x00")),
                tf.add(x, tf.constant(b"!"))]
    got, _, _ = _compare(build)
    assert [bool(e[0]) for e in got] == [False, True, False]
    assert [e[2].tolist() for e in got] == [b"ab\x00!", b"ab!", b"c\x00\x00!"]


def test_string_rows_reshaped_and_sliced_keep_their_bytes(tmp_path):
    """A reader's value is a Python bytes value per element: np.reshape and
    np.transpose make it an S array (trailing NULs lost) and `bytes[None]`
    raises TypeError; TF gives b"l0\x00" in a [1] or [1, 1] tensor, as the
    batched rows (object arrays) do."""
    path = _write(tmp_path, "a.txt", b"".join(b"l%d\x00\n" % i for i in range(40)))

    def build():
        key, line = _read([path], tf.TextLineReader())
        return [tf.reshape(line, [1]), tf.reshape(line, [1, 1]), tf.transpose(line),
                line[tf.newaxis], line[...]]
    got, err, _ = _compare(build)
    assert err is None and got[0][0].tolist() == [b"l0\x00"] and got[0][4].tolist() == b"l0\x00"


# -- threads, tf.train.batch, processes -------------------------------------------------------

def test_several_runner_threads_deliver_every_element_once():
    def build():
        x = _src(np.arange(300, dtype=np.int32))
        return [x, x * 2]
    for k in (1, 32):
        got, err, _, fallbacks, _ = _elements(build, k, threads=3)
        assert err is None and fallbacks == 0
        assert sorted(int(e[0]) for e in got) == list(range(300))
        assert all(int(e[1]) == 2 * int(e[0]) for e in got)


def _csv_files(tmp_path):
    return [_lines(tmp_path, "p%d.csv" % j, ["%d,%d.5,s%d\x00" % (j, i, i) for i in range(n)])
            for j, n in enumerate((37, 50, 0, 9))]


def _batches(build, k, processes=None):
    """Everything `build(processes)`'s batch op returns until OutOfRange."""
    old = batching.BATCH_STEP
    batching.BATCH_STEP = k
    try:
        with tf.Graph().as_default():
            batch = build(processes)
            out = [[] for _ in batch]
            with tf.Session() as sess:
                sess.run(tf.local_variables_initializer())
                if processes:       # the workers' loop: batched_fetch where k > 1
                    runner, = [r for r in tf.get_collection(tf.GraphKeys.QUEUE_RUNNERS)
                               if hasattr(r, "_tensors")]
                    assert (batching.batched_fetch(sess, runner._tensors) is not None) == (k > 1)
                coord = tf.train.Coordinator()
                threads = tf.train.start_queue_runners(sess, coord)
                try:
                    while True:
                        for o, v in zip(out, sess.run(batch)):
                            o.extend(v.tolist())
                except tf.errors.OutOfRangeError:
                    pass
                coord.request_stop()
                coord.join(threads, stop_grace_period_secs=10)
            return out
    finally:
        batching.BATCH_STEP = old


def test_train_batch_and_shuffle_batch_end_to_end(tmp_path):
    files = _csv_files(tmp_path)

    def decoded():
        key, line = _read(files, tf.TextLineReader())
        a, b, c = tf.decode_csv(line, [[0], [0.0], [""]])
        return [key, a * 10, b, c, tf.one_hot(a, 4)]

    def batch(processes):
        return tf.train.batch(decoded(), batch_size=7, num_threads=1,
                              allow_smaller_final_batch=True, processes=processes)

    def shuffled(processes):
        return tf.train.shuffle_batch(decoded(), batch_size=7, capacity=60, min_after_dequeue=20,
                                      num_threads=1, seed=1, allow_smaller_final_batch=True)
    one, many = _batches(batch, 1), _batches(batch, 32)
    assert one == many and len(one[0]) == 96 and one[3][0] == b"s0\x00"
    a, b = _batches(shuffled, 1), _batches(shuffled, 32)
    assert sorted(zip(*a)) == sorted(zip(*b)) == sorted(zip(*one))


def test_processes_deliver_what_threads_do(tmp_path):
    """tf.train.batch(..., processes=1): the worker's batched_fetch (and its
    per-element loop, BATCH_STEP=1) give the threaded pipeline's elements in
    its order."""
    files = _csv_files(tmp_path)

    def batch(processes):
        key, line = _read(files, tf.TextLineReader())
        a, b, c = tf.decode_csv(line, [[0], [0.0], [""]])
        return tf.train.batch([key, a * 10, b, c, tf.constant(2.5)], batch_size=7,
                              allow_smaller_final_batch=True, processes=processes)
    threaded = _batches(batch, 1)
    assert len(threaded[0]) == 96
    assert _batches(batch, 32, processes=1) == threaded
    assert _batches(batch, 1, processes=1) == threaded


def test_batched_fetch_of_strings_and_unbatched_values(tmp_path):
    path = _lines(tmp_path, "a.txt", ["l%d\x00" % i for i in range(40)])
    with tf.Graph().as_default():
        key, line = _read([path], tf.TextLineReader())
        names = tf.constant(_obj(b"ab\x00", b"c"))
        tensors = [key, line, tf.gather(names, 0), tf.constant(b"z\x00"), tf.constant(1.5)]
        with tf.Session() as sess:
            sess.run(tf.local_variables_initializer())
            coord = tf.train.Coordinator()
            threads = tf.train.start_queue_runners(sess, coord)
            fetch = batching.batched_fetch(sess, tensors, 16)
            assert fetch is not None
            values, m = fetch()
            coord.request_stop()
            coord.join(threads)
    assert m == 16 and [v.dtype for v in values] == [object] * 4 + [np.float32]
    assert values[1][3] == b"l3\x00" and values[2].tolist() == [b"ab\x00"] * 16
    assert values[3].tolist() == [b"z\x00"] * 16


# -- steps that must not be batched ---------------------------------------------------------

def _step_of(build):
    with tf.Graph().as_default():
        tensors = build()
        q = tf.FIFOQueue(10, [t.dtype for t in tensors])
        enq = q.enqueue(tensors)
        with tf.Session() as sess:
            return batching.batched_step(sess, enq, 8)


def test_steps_with_per_element_side_effects_or_unknown_ranks_are_not_batched():
    def index():
        return tf.train.range_input_producer(10, shuffle=False).dequeue()

    def counted():
        i = index()
        c = tf.Variable(0)
        with tf.control_dependencies([c.count_up_to(1000)]):
            return [i * 1]

    def read_after_write():
        i = index()
        c = tf.Variable(0)
        return [i + tf.assign_add(c, 1)]

    def random():
        return [index() + tf.random_uniform([], 0, 10, tf.int32)]

    def unknown_rank():
        q = tf.FIFOQueue(10, [tf.int32])
        return [q.dequeue() * 2]

    def only_control():
        with tf.control_dependencies([index()]):
            return [tf.constant(1)]
    assert _step_of(lambda: [index() * 2]) is not None
    for build in (counted, read_after_write, random, unknown_rank, only_control):
        assert _step_of(build) is None, build.__name__


@pytest.mark.parametrize("queue", ["fifo", "priority", "random"])
def test_a_bad_element_leaves_the_elements_after_it_in_the_source_queue(queue):
    """Element 3 of 10 cannot be decoded: per element, the runner stops with
    6 elements left in the source queue (and a later dequeue gets element
    4); the batched step must not take them with it."""
    recs = _obj(*[b"ab" * (1 + (i == 3)) + b"c" * (i == 3) for i in range(10)])

    def build():
        if queue == "fifo":
            q = tf.FIFOQueue(100, [tf.string], shapes=[[]])
            comps = [recs]
        elif queue == "priority":
            q = tf.PriorityQueue(100, [tf.string], shapes=[[]])
            comps = [np.arange(10, dtype=np.int64), recs]
        else:
            q = tf.RandomShuffleQueue(100, 0, [tf.string], shapes=[[]], seed=4)
            comps = [recs]
        value = q.dequeue()
        value = value[1] if queue == "priority" else value
        rest, size = q.dequeue_up_to(100), q.size()
        rest = rest[1] if queue == "priority" else rest

        def after(sess):        # what a later dequeue gets (in any order: random)
            left = sess.run(rest).tolist() if sess.run(size) else []
            return sorted(left) if queue == "random" else left
        return [tf.decode_raw(value, tf.int16)], _filled(q, comps), after
    got, err, _ = _compare(build, expect_fallbacks=None, shapes=False,
                           expect_batched=None if queue == "random" else True)
    assert isinstance(err, tf.errors.InvalidArgumentError)
    if queue != "random":
        assert len(got) == 3
