"""flowcore.batching: a QueueRunner's per-element step run k elements at a
time must deliver exactly what the per-element step delivers, in the same
order, raise the same errors after the same elements, and only apply to
steps it can run faithfully."""
import time

import numpy as np
import pytest

import flowcore.compat.v1 as tf
from flowcore import batching

pytestmark = pytest.mark.timeout(60)


def _examples(path, n):
    with tf.python_io.TFRecordWriter(str(path)) as w:
        for i in range(n):
            ex = tf.train.Example(features=tf.train.Features(feature={
                "image": tf.train.Feature(bytes_list=tf.train.BytesList(
                    value=[bytes([(i + j) % 256 for j in range(12)])])),
                "label": tf.train.Feature(int64_list=tf.train.Int64List(value=[i % 10])),
                "w": tf.train.Feature(float_list=tf.train.FloatList(
                    value=[i * 0.5, -i * 1.0]))}))
            w.write(ex.SerializeToString())
    return str(path)


def _csv(path, lines):
    path.write_text("".join(line + "\n" for line in lines))
    return str(path)


def _tfrecord_step(files):
    fq = tf.train.string_input_producer(files, num_epochs=1, shuffle=False)
    key, ser = tf.TFRecordReader().read(fq)
    f = tf.parse_single_example(ser, {"image": tf.FixedLenFeature([], tf.string),
                                      "label": tf.FixedLenFeature([], tf.int64),
                                      "w": tf.FixedLenFeature([2], tf.float32)})
    image = tf.reshape(tf.cast(tf.decode_raw(f["image"], tf.uint8), tf.float32) * 0.5, [3, 4])
    return [key, image, tf.one_hot(f["label"], 10), f["w"] + 1.0, tf.constant(7)]


def _csv_step(files):
    fq = tf.train.string_input_producer(files, num_epochs=1, shuffle=False)
    key, line = tf.TextLineReader().read(fq)
    a, b, c = tf.decode_csv(line, record_defaults=[[0], [0.0], ["x"]])
    return [key, a * 2, b, c]


def _fixed_step(files):
    """cifar10_input's decoding: a label byte, then a depth-major image."""
    fq = tf.train.string_input_producer(files, num_epochs=1, shuffle=False)
    key, value = tf.FixedLengthRecordReader(record_bytes=13).read(fq)
    raw = tf.decode_raw(value, tf.uint8)
    label = tf.cast(tf.reshape(tf.strided_slice(raw, [0], [1]), []), tf.int32)
    image = tf.transpose(tf.reshape(tf.strided_slice(raw, [1], [13]), [3, 2, 2]), [1, 2, 0])
    return [key, label, tf.cast(image, tf.float32) / 255.0, tf.reshape(raw[::-4], [4]), raw[5]]


def _slice_step(_files):
    data = np.arange(60, dtype=np.float32).reshape(20, 3)
    x, i = tf.train.slice_input_producer([tf.constant(data), tf.range(20)], num_epochs=2,
                                         shuffle=False)
    return [x, i, x * tf.constant([1.0, 10.0, 100.0]), tf.reshape(x, [3, 1])]


def _collect(build, files, batch_step, threads=1):
    """Everything the runner enqueues (one FIFO queue, the runner's own), in
    order, and the error that stopped it (None at the end of input)."""
    old = batching.BATCH_STEP
    batching.BATCH_STEP = batch_step
    batching.fallbacks = 0
    try:
        g = tf.Graph()
        with g.as_default():
            tensors = build(files)
            q = tf.FIFOQueue(100000, [t.dtype for t in tensors],
                             shapes=[t.shape for t in tensors])
            enq = q.enqueue(tensors)
            tf.train.add_queue_runner(tf.train.QueueRunner(q, [enq] * threads))
            out = q.dequeue_up_to(100000)
            with tf.Session() as sess:
                sess.run([tf.global_variables_initializer(), tf.local_variables_initializer()])
                coord = tf.train.Coordinator()
                runners = tf.train.start_queue_runners(sess, coord)
                batched = batching.batched_step(sess, enq) is not None
                error = wait_for_runners(sess, q, coord, runners)
                got = sess.run(out) if sess.run(q.size()) else None
            return got, error, batched
    finally:
        batching.BATCH_STEP = old


def wait_for_runners(sess, q, coord, runners):
    """Wait until the runners closed `q` (their input ran out) or stopped
    with an error; join them; the error (None at the end of input)."""
    closed = q.is_closed()
    deadline = time.monotonic() + 20
    while not coord.should_stop() and not sess.run(closed):
        assert time.monotonic() < deadline, "the runner did not finish"
        time.sleep(0.002)
    coord.request_stop()
    try:
        coord.join(runners, stop_grace_period_secs=10)
    except tf.errors.OpError as e:
        return e
    return None


def _same(a, b):
    assert (a is None) == (b is None)
    if a is None:
        return
    assert len(a) == len(b)
    for x, y in zip(a, b):
        assert x.dtype == y.dtype and x.shape == y.shape
        np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("build", [_tfrecord_step, _csv_step, _fixed_step, _slice_step])
def test_batched_runner_delivers_what_the_per_element_runner_does(tmp_path, build):
    if build is _fixed_step:
        files = [str(tmp_path / "a.bin"), str(tmp_path / "b.bin")]
        rng = np.random.default_rng(3)
        for f, n in zip(files, (50, 7)):
            open(f, "wb").write(rng.integers(0, 256, 13 * n, dtype=np.uint8).tobytes())
    elif build is _tfrecord_step:
        files = [_examples(tmp_path / "a.tfrecord", 75), _examples(tmp_path / "b.tfrecord", 3)]
    else:
        files = [_csv(tmp_path / "a.csv", ["%d,%g,s%d" % (i, i / 4, i) for i in range(70)]),
                 _csv(tmp_path / "b.csv", ["1,2,three"])]
    one, err1, b1 = _collect(build, files, 1)
    many, err2, b2 = _collect(build, files, 32)
    assert not b1 and b2, "the step should batch with k > 1 only"
    assert batching.fallbacks == 0, "a batch rule failed on good input"
    assert err1 is None and err2 is None
    _same(one, many)
    if build is _slice_step:
        assert one[1].tolist() == list(range(20)) * 2
        np.testing.assert_array_equal(one[2][:, 2], one[0][:, 2] * 100)
        assert one[3].shape == (40, 3, 1)
    elif build is _fixed_step:
        raw = np.frombuffer(open(files[0], "rb").read(13), np.uint8)
        assert len(one[0]) == 57 and one[1][0] == raw[0] and one[4][0] == raw[5]
        np.testing.assert_allclose(one[2][0], raw[1:].reshape(3, 2, 2).transpose(1, 2, 0) / 255.0,
                                   rtol=1e-6)
    elif build is _tfrecord_step:
        assert len(one[0]) == 78 and one[0][0] == (files[0] + ":0").encode()
        assert one[4].tolist() == [7] * 78                 # a constant, per element
        assert one[2].shape == (78, 10) and one[2][13].argmax() == 3
    else:
        assert one[1][:3].tolist() == [0, 2, 4] and one[3][-1] == b"three"


@pytest.mark.parametrize("bad", [0, 1, 31, 32, 33, 69])
def test_a_bad_record_stops_after_the_same_elements_with_the_same_error(tmp_path, bad):
    lines = ["%d,%g,s%d" % (i, i / 4, i) for i in range(70)]
    lines[bad] = "1,not a number,x"
    files = [_csv(tmp_path / "a.csv", lines)]
    one, err1, _ = _collect(_csv_step, files, 1)
    many, err2, batched = _collect(_csv_step, files, 32)
    assert batched and batching.fallbacks == 1
    assert isinstance(err1, tf.errors.InvalidArgumentError)
    assert type(err2) is type(err1) and str(err2) == str(err1)
    assert err2.op is not None and err2.op.type == "DecodeCSV"
    _same(one, many)
    assert (0 if one is None else len(one[0])) == bad


def test_a_row_that_does_not_fit_a_reshape_fails_as_it_does_alone(tmp_path):
    """Reshape to [-1, 4]: 8 values fit, 6 do not; a batch of rows of 6 would
    fit [m, -1, 4] for even m, so the rule must refuse and fall back."""
    def build(_files):
        data = tf.placeholder_with_default(np.arange(24.0).reshape(4, 6), [None, None])
        x, = tf.train.slice_input_producer([data], num_epochs=1, shuffle=False)
        return [tf.reshape(tf.reshape(x, [-1, 4]), [8])]
    one, err1, _ = _collect(build, None, 1)
    many, err2, batched = _collect(build, None, 32)
    assert batched and one is None and many is None
    assert isinstance(err1, tf.errors.InvalidArgumentError) and str(err1) == str(err2)


def test_broadcasting_rows_against_a_larger_operand():
    def build(_files):
        x, = tf.train.slice_input_producer([tf.constant([1.0, 2.0, 3.0])], num_epochs=1,
                                           shuffle=False)
        return [x * tf.constant([[1.0, 10.0]]), tf.gather(tf.constant([[5, 6, 7], [8, 9, 0]]),
                                                          tf.cast(x, tf.int32) - 1, axis=1)]
    one, _, _ = _collect(build, None, 1)
    many, _, batched = _collect(build, None, 32)
    assert batched and batching.fallbacks == 0
    _same(one, many)
    assert many[0].tolist() == [[[1, 10]], [[2, 20]], [[3, 30]]]
    assert many[1].tolist() == [[5, 8], [6, 9], [7, 0]]


def _step(build_tensors):
    g = tf.Graph()
    with g.as_default():
        tensors = build_tensors()
        q = tf.FIFOQueue(10, [t.dtype for t in tensors])
        enq = q.enqueue(tensors)
        with tf.Session() as sess:
            return batching.batched_step(sess, enq, 8)


def _index():
    return tf.train.range_input_producer(10, shuffle=False).dequeue()


def test_steps_that_cannot_be_batched_faithfully_are_not():
    assert _step(lambda: [_index() * 2]) is not None
    # a py_func has no batch rule
    assert _step(lambda: [tf.py_func(lambda v: v, [_index()], tf.int32)]) is None
    # a stateful op beside the element would run once per batch
    def counted():
        c = tf.Variable(0)
        with tf.control_dependencies([tf.assign_add(c, 1)]):
            return [_index() + 0]
    assert _step(counted) is None
    # two sources
    assert _step(lambda: [_index() + _index()]) is None
    # no source at all
    assert _step(lambda: [tf.constant(1)]) is None
    # one_hot on another axis than the last
    assert _step(lambda: [tf.one_hot(tf.fill([2], _index()), 3, axis=0)]) is None


def test_an_enqueue_many_step_is_left_alone():
    g = tf.Graph()
    with g.as_default():
        x = tf.train.range_input_producer(10, shuffle=False).dequeue_many(2)
        q = tf.FIFOQueue(10, [tf.int32], shapes=[[]])
        enq = q.enqueue_many([x])
        with tf.Session() as sess:
            assert batching.batched_step(sess, enq, 8) is None


def test_a_batched_source_does_not_wait_for_more_than_one_element():
    """One element in the source queue (not closed): the batched runner
    passes it on at once instead of waiting for k."""
    g = tf.Graph()
    with g.as_default():
        src = tf.FIFOQueue(100, [tf.int32], shapes=[[]])
        dst = tf.FIFOQueue(100, [tf.int32], shapes=[[]])
        enq = dst.enqueue([src.dequeue() * 3])
        tf.train.add_queue_runner(tf.train.QueueRunner(dst, [enq]))
        got = dst.dequeue()
        with tf.Session() as sess:
            assert batching.batched_step(sess, enq) is not None
            coord = tf.train.Coordinator()
            threads = tf.train.start_queue_runners(sess, coord)
            sess.run(src.enqueue([5]))
            assert sess.run(got, options=tf.RunOptions(timeout_in_ms=5000)) == 15
            sess.run(src.enqueue_many([[1, 2]]))
            assert [sess.run(got), sess.run(got)] == [3, 6]
            coord.request_stop()
            sess.run(src.close(cancel_pending_enqueues=True))
            coord.join(threads)


def test_closing_the_session_unblocks_a_batched_runner():
    g = tf.Graph()
    with g.as_default():
        src = tf.FIFOQueue(100, [tf.int32], shapes=[[]])
        dst = tf.FIFOQueue(100, [tf.int32], shapes=[[]])
        enq = dst.enqueue([src.dequeue() + 1])
        tf.train.add_queue_runner(tf.train.QueueRunner(dst, [enq, enq]))
        sess = tf.Session()
        coord = tf.train.Coordinator()
        threads = tf.train.start_queue_runners(sess, coord)
        time.sleep(0.05)
        sess.close()
        with pytest.raises(tf.errors.CancelledError, match="Session closed"):
            coord.join(threads, stop_grace_period_secs=10)
        assert not any(t.is_alive() for t in threads)


def _fetch_all(files, k, lines_build=_csv_step):
    """Every row batched_fetch (k > 1) or sess.run (k == 1) returns, and the
    error that ended it."""
    g = tf.Graph()
    with g.as_default():
        tensors = lines_build(files) + [tf.constant(3.5)]
        with tf.Session() as sess:
            sess.run(tf.local_variables_initializer())
            coord = tf.train.Coordinator()
            threads = tf.train.start_queue_runners(sess, coord)
            fetch = batching.batched_fetch(sess, tensors, k) if k > 1 else None
            assert (fetch is not None) == (k > 1)
            rows, error, calls = [[] for _ in tensors], None, 0
            while True:
                try:
                    if fetch is None:
                        values, m = [np.asarray(v, dtype=object if isinstance(v, bytes)
                                                else None)[None]
                                     for v in sess.run(tensors)], 1
                    else:
                        values, m = fetch()
                except tf.errors.OpError as e:
                    error = e
                    break
                calls += 1
                assert all(len(v) == m for v in values) and 1 <= m <= max(k, 1)
                for r, v in zip(rows, values):
                    r.append(v)
            coord.request_stop()
            coord.join(threads)
    return [np.concatenate(r) if r else None for r in rows], error, calls


@pytest.mark.parametrize("bad", [None, 0, 5, 40])
def test_batched_fetch_returns_the_rows_of_per_element_runs(tmp_path, bad):
    lines = ["%d,%g,s%d" % (i, i / 4, i) for i in range(50)]
    if bad is not None:
        lines[bad] = "oops,1,x"
    files = [_csv(tmp_path / "a.csv", lines)]
    one, err1, _ = _fetch_all(files, 1)
    many, err2, calls = _fetch_all(files, 16)
    if bad is None:
        assert isinstance(err1, tf.errors.OutOfRangeError) and type(err2) is type(err1)
        assert calls == 4           # 16 + 16 + 16 + 2 rows, read as they come
    else:
        assert isinstance(err1, tf.errors.InvalidArgumentError) and str(err2) == str(err1)
    for a, b in zip(one, many):
        if a is None:
            assert b is None
        else:
            assert a.dtype == b.dtype
            np.testing.assert_array_equal(a, b)
    n = 50 if bad is None else bad
    assert (0 if one[1] is None else len(one[1])) == n
    if n:
        assert many[-1].tolist() == [3.5] * n         # an unbatched fetch, per row


@pytest.mark.parametrize("bad", [0, 40, 77])
def test_a_corrupt_tfrecord_fails_after_the_same_records(tmp_path, bad):
    path = _examples(tmp_path / "a.tfrecord", 78)
    data = bytearray(open(path, "rb").read())
    size = len(data) // 78          # the records have the same length
    data[bad * size + 20] ^= 0xFF   # inside record `bad`'s data
    open(path, "wb").write(bytes(data))
    one, err1, _ = _collect(_tfrecord_step, [path], 1)
    many, err2, batched = _collect(_tfrecord_step, [path], 32)
    assert batched
    assert isinstance(err1, tf.errors.DataLossError) and type(err2) is type(err1)
    assert str(err2) == str(err1) and "offset %d" % (bad * size) in str(err1)
    _same(one, many)
    assert (0 if one is None else len(one[0])) == bad


def test_a_failing_step_beside_the_rows_gives_them_back():
    """An uninitialised variable read after the source fails every element:
    the batched step fails at the first, like the per-element one, and the
    rest of its rows stay in the source queue."""
    g = tf.Graph()
    with g.as_default():
        src = tf.FIFOQueue(100, [tf.int32], shapes=[[]])
        v = tf.Variable(5)
        dst = tf.FIFOQueue(100, [tf.int32], shapes=[[]])
        x = src.dequeue()
        with tf.control_dependencies([x]):
            y = v + 0
        enq = dst.enqueue([x * y])
        with tf.Session() as sess:
            sess.run(src.enqueue_many([list(range(10))]))
            step = batching.batched_step(sess, enq, 8)
            assert step is not None
            with pytest.raises(tf.errors.FailedPreconditionError):
                step()
            assert sess.run(src.size()) == 9
            sess.run(v.initializer)
            step()
            assert sess.run(dst.dequeue_many(8)).tolist() == [5 * i for i in range(1, 9)]
