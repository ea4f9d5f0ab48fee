"""Readers: filename queue -> records, keys as TF forms them, state save/restore."""
import gzip
import threading
import zlib

import numpy as np
import pytest

import flowcore.compat.v1 as tf
from flowcore import dtypes, errors



def _queue(files, close=True):
    q = tf.FIFOQueue(max(len(files), 1) + 4, tf.string)
    ops = [q.enqueue_many([[str(f) for f in files]])] if files else []
    if close:
        ops.append(q.close())
    return q, ops


def _drain(sess, kv, limit=1000):
    """Run `kv` until an OpError; return (list of (key, value), the error)."""
    out = []
    for _ in range(limit):
        try:
            k, v = sess.run(kv)
        except errors.OpError as e:
            return out, e
        if np.ndim(k):
            out.extend(zip(k.tolist(), v.tolist()))
        else:
            out.append((k, v))
    raise AssertionError("reader did not stop")


def _read(reader, files, batch=None):
    q, init = _queue(files)
    kv = reader.read(q) if batch is None else reader.read_up_to(q, batch)
    with tf.Session() as sess:
        for op in init:
            sess.run(op)
        recs, err = _drain(sess, kv)
        counts = sess.run([reader.num_records_produced(), reader.num_work_units_completed()])
    return recs, err, counts


@pytest.fixture
def text_files(tmp_path):
    a = tmp_path / "a.txt"
    a.write_bytes(b"header\nl1\n\nl3\r\nl4")
    b = tmp_path / "b.txt"
    b.write_bytes(b"x\n")
    e = tmp_path / "empty.txt"
    e.write_bytes(b"")
    return a, b, e


def test_reader_ops_shapes_and_types():
    r = tf.TextLineReader()
    assert r.reader_ref.dtype == dtypes.resource and r.reader_ref.op.type == "TextLineReaderV2"
    assert r.supports_serialize
    q, _ = _queue(["f"], close=False)
    k, v = r.read(q)
    assert k.shape.as_list() == [] and v.dtype == tf.string and k.op.type == "ReaderReadV2"
    ks, vs = r.read_up_to(q.queue_ref, 3)
    assert ks.shape.as_list() == [None] and vs.shape.as_list() == [None]
    assert r.num_records_produced().dtype == tf.int64
    assert r.serialize_state().dtype == tf.string
    for cls in (tf.FixedLengthRecordReader, ):
        with pytest.raises(ValueError):
            cls(0)
    assert isinstance(tf.WholeFileReader(), tf.ReaderBase)


def test_text_line_reader_keys_and_counters(text_files):
    a, b, e = text_files
    recs, err, counts = _read(tf.TextLineReader(skip_header_lines=1), [a, e, b])
    # lines are numbered from 1 counting the header; b.txt is all header
    assert [k for k, _ in recs] == [("%s:%d" % (a, n)).encode() for n in (2, 3, 4, 5)]
    assert [v for _, v in recs] == [b"l1", b"", b"l3", b"l4"]
    assert isinstance(err, errors.OutOfRangeError)
    assert counts == [4, 3]
    recs, err, counts = _read(tf.TextLineReader(), [b, e, a])
    assert [k for k, _ in recs][:2] == [("%s:1" % b).encode(), ("%s:1" % a).encode()]
    assert counts == [6, 3]


def test_read_up_to_stays_in_one_file(text_files):
    a, b, _ = text_files
    q, init = _queue([a, b])
    r = tf.TextLineReader()
    k, v = r.read_up_to(q, 3)
    with tf.Session() as sess:
        for op in init:
            sess.run(op)
        batches = [sess.run(v).tolist() for _ in range(3)]
        with pytest.raises(errors.OutOfRangeError):
            sess.run(k)
        with pytest.raises(errors.InvalidArgumentError, match="positive"):
            sess.run(r.read_up_to(q, 0))
    assert batches == [[b"header", b"l1", b""], [b"l3", b"l4"], [b"x"]]


def test_fixed_length_reader_header_footer_hop(tmp_path):
    body = bytes(range(40))
    p = tmp_path / "f.bin"
    p.write_bytes(b"HDR" + body + b"FT")
    recs, err, counts = _read(tf.FixedLengthRecordReader(8, header_bytes=3, footer_bytes=2), [p])
    assert [v for _, v in recs] == [body[i:i + 8] for i in range(0, 40, 8)]
    assert [k for k, _ in recs] == [("%s:%d" % (p, i)).encode() for i in range(5)]
    assert isinstance(err, errors.OutOfRangeError) and counts == [5, 1]
    recs, err, _ = _read(tf.FixedLengthRecordReader(8, header_bytes=3, footer_bytes=2,
                                                    hop_bytes=4), [p])
    assert [v for _, v in recs] == [body[i:i + 8] for i in range(0, 33, 4)]
    assert isinstance(err, errors.OutOfRangeError)
    for enc, data in (("GZIP", gzip.compress(p.read_bytes())),
                      ("ZLIB", zlib.compress(p.read_bytes()))):
        c = tmp_path / ("f." + enc)
        c.write_bytes(data)
        recs, err, _ = _read(tf.FixedLengthRecordReader(8, 3, 2, encoding=enc), [c])
        assert [v for _, v in recs] == [body[i:i + 8] for i in range(0, 40, 8)]


def test_fixed_length_leftover_and_short_files_are_data_loss(tmp_path):
    p = tmp_path / "odd.bin"
    p.write_bytes(b"H" + bytes(43) + b"F")
    recs, err, _ = _read(tf.FixedLengthRecordReader(8, header_bytes=1, footer_bytes=1), [p])
    assert len(recs) == 5
    assert isinstance(err, errors.DataLossError)
    assert str(p) in str(err) and "3 bytes left over after 5 records" in str(err)
    s = tmp_path / "short.bin"
    s.write_bytes(b"abc")
    recs, err, _ = _read(tf.FixedLengthRecordReader(8, header_bytes=7), [s])
    assert recs == [] and isinstance(err, errors.DataLossError) and str(s) in str(err)


def test_tfrecord_reader_keys_compression_and_sticky_errors(tmp_path):
    records = [b"a" * n for n in (0, 5, 300)]
    for comp in ("", "ZLIB", "GZIP"):
        p = tmp_path / ("r" + comp)
        with tf.python_io.TFRecordWriter(str(p), comp) as w:
            for r in records:
                w.write(r)
        opts = tf.python_io.TFRecordOptions(comp) if comp else None
        recs, err, counts = _read(tf.TFRecordReader(options=opts), [p, p])
        assert [v for _, v in recs] == records * 2
        assert [k for k, _ in recs][:3] == [("%s:%d" % (p, o)).encode() for o in (0, 16, 37)]
        assert isinstance(err, errors.OutOfRangeError) and counts == [6, 2]
    bad = bytearray((tmp_path / "r").read_bytes())
    bad[16 + 12 + 2] ^= 1
    (tmp_path / "bad").write_bytes(bytes(bad))
    q, init = _queue([tmp_path / "bad", tmp_path / "r"])
    r = tf.TFRecordReader()
    k, v = r.read(q)
    with tf.Session() as sess:
        for op in init:
            sess.run(op)
        assert sess.run(v) == b""
        for _ in range(2):   # the error repeats: the reader never skips corrupt data
            with pytest.raises(errors.DataLossError, match="corrupted record at offset 16"):
                sess.run(v)
        sess.run(r.reset())
        assert sess.run([r.num_records_produced(), r.num_work_units_completed()]) == [0, 0]
        assert sess.run(k) == ("%s:0" % (tmp_path / "r")).encode()


def test_whole_file_identity_and_missing_files(tmp_path, text_files):
    a, b, _ = text_files
    recs, err, counts = _read(tf.WholeFileReader(), [b, a])
    assert recs == [(str(b).encode(), b"x\n"), (str(a).encode(), a.read_bytes())]
    assert counts == [2, 2]
    recs, err, counts = _read(tf.IdentityReader(), ["w1", "w2"])
    assert recs == [(b"w1", b"w1"), (b"w2", b"w2")] and counts == [2, 2]
    recs, err, _ = _read(tf.IdentityReader(), ["a", "b", "c"], batch=2)
    assert recs == [(b"a", b"a"), (b"b", b"b"), (b"c", b"c")]
    for reader in (tf.TextLineReader(), tf.TFRecordReader(), tf.WholeFileReader(),
                   tf.FixedLengthRecordReader(4)):
        recs, err, _ = _read(reader, [tmp_path / "nope.dat"])
        assert isinstance(err, errors.NotFoundError) and "nope.dat" in str(err)


def test_state_save_and_restore_resumes_at_the_same_record(tmp_path, text_files):
    a, _, _ = text_files
    rec = tmp_path / "r.gz"
    with tf.python_io.TFRecordWriter(str(rec), "GZIP") as w:
        for i in range(6):
            w.write(b"rec%d" % i)
    fixed = tmp_path / "f.bin"
    fixed.write_bytes(b"HH" + bytes(range(30)))
    cases = [(tf.TFRecordReader(options="GZIP"), rec, 2),
             (tf.TextLineReader(skip_header_lines=1), a, 1),
             (tf.FixedLengthRecordReader(3, header_bytes=2), fixed, 2)]
    for reader, path, before in cases:
        assert reader.supports_serialize
        q, init = _queue([path, path])
        k, v = reader.read(q)
        state = reader.serialize_state()
        ph = tf.placeholder(tf.string, [])
        restore = reader.restore_state(ph)
        counters = [reader.num_records_produced(), reader.num_work_units_completed()]
        with tf.Session() as sess:
            for op in init:
                sess.run(op)
            for _ in range(before):
                sess.run(k)
            saved = sess.run(state)
            counts = sess.run(counters)
            after = [sess.run((k, v)) for _ in range(3)]
            sess.run(restore, {ph: saved})
            assert sess.run(counters) == counts
            assert [sess.run((k, v)) for _ in range(3)] == after, reader.reader_ref.op.type
            with pytest.raises(errors.InvalidArgumentError, match="Could not parse state"):
                sess.run(restore, {ph: b"\xff\xff garbage"})
        # a new session resumes from the saved state too
        with tf.Session() as sess:
            for op in init:
                sess.run(op)
            sess.run(restore, {ph: saved})
            assert [sess.run((k, v)) for _ in range(3)] == after


def test_state_of_one_record_per_file_readers(tmp_path, text_files):
    a, b, _ = text_files
    for reader, works in ((tf.IdentityReader(), ["x", "y", "z"]),
                          (tf.WholeFileReader(), [str(a), str(b), str(a)])):
        q1, init1 = _queue(works[:1])
        q2, init2 = _queue(works[1:])
        k1, _ = reader.read(q1)
        k2, _ = reader.read(q2)
        state = reader.serialize_state()
        ph = tf.placeholder(tf.string, [])
        restore = reader.restore_state(ph)
        with tf.Session() as sess:
            for op in init1 + init2:
                sess.run(op)
            assert sess.run(k1) == works[0].encode()
            saved = sess.run(state)
        with tf.Session() as sess:
            for op in init1 + init2:
                sess.run(op)
            sess.run(restore, {ph: saved})
            assert sess.run(k2) == works[1].encode()     # moves on; no repeat
            assert sess.run(reader.num_records_produced()) == 2
            # as TF: a one-record work unit is finished with its record
            assert sess.run(reader.num_work_units_completed()) == 2


def test_readers_are_per_session(tmp_path, text_files):
    a, _, _ = text_files
    r = tf.TextLineReader()
    q = tf.FIFOQueue(10, tf.string)
    enq = q.enqueue_many([[str(a)] * 2])
    k, v = r.read(q)
    with tf.Session() as s1, tf.Session() as s2:
        s1.run(enq)
        s2.run(enq)
        assert s1.run(v) == b"header" and s1.run(v) == b"l1"
        assert s2.run(v) == b"header"


@pytest.mark.timeout(30)
def test_blocked_read_times_out_and_threads_share_one_reader(tmp_path):
    lines = [b"line%03d" % i for i in range(200)]
    files = []
    for i in range(4):
        p = tmp_path / ("t%d.txt" % i)
        p.write_bytes(b"\n".join(lines[i * 50:(i + 1) * 50]) + b"\n")
        files.append(p)
    r = tf.TextLineReader()
    q, init = _queue(files, close=False)
    k, v = r.read(q)
    got, errs = [], []
    with tf.Session() as sess:
        for op in init:
            sess.run(op)

        def work():
            try:
                while True:
                    got.append(sess.run(v, options=tf.RunOptions(timeout_in_ms=300)))
            except errors.DeadlineExceededError:
                pass
            except Exception as e:   # pragma: no cover - reported below
                errs.append(e)
        threads = [threading.Thread(target=work) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert not errs and sorted(got) == lines


@pytest.mark.parametrize("hop", [None, 3, 5])
def test_fixed_length_read_up_to_matches_read(tmp_path, hop):
    path = tmp_path / "fixed.bin"
    body = bytes(range(5 * 40 if hop in (None, 5) else 3 * 39 + 5))
    path.write_bytes(b"HDR" + body + b"FT")
    reader = tf.FixedLengthRecordReader(record_bytes=5, header_bytes=3, footer_bytes=2,
                                        hop_bytes=hop)
    one, err_one, _ = _read(reader, [str(path)])
    tf.reset_default_graph()
    reader = tf.FixedLengthRecordReader(record_bytes=5, header_bytes=3, footer_bytes=2,
                                        hop_bytes=hop)
    many, err_many, _ = _read(reader, [str(path)], batch=16)
    assert many == one and len(one) == 40
    assert type(err_one) is type(err_many) is tf.errors.OutOfRangeError
    step = hop or 5
    assert [v for _, v in one[:2]] == [body[0:5], body[step:step + 5]]


def test_read_up_to_returns_the_records_before_a_corrupt_one_then_fails(tmp_path):
    """TF's ReadUpTo drops the records it read before hitting a corrupt one;
    flowcore returns them, and the next read raises the error (again and
    again: the reader never skips corrupt data)."""
    p = tmp_path / "r.tfrecord"
    with tf.python_io.TFRecordWriter(str(p)) as w:
        for i in range(6):
            w.write(bytes([i]) * 10)
    data = bytearray(p.read_bytes())
    data[3 * 26 + 14] ^= 1              # record 3's data (26 bytes per record)
    p.write_bytes(bytes(data))
    q, init = _queue([p])
    r = tf.TFRecordReader()
    k, v = r.read_up_to(q, 5)
    with tf.Session() as sess:
        for op in init:
            sess.run(op)
        assert sess.run(v).tolist() == [bytes([i]) * 10 for i in range(3)]
        for _ in range(2):
            with pytest.raises(errors.DataLossError, match="corrupted record at offset 78"):
                sess.run(v)
        assert sess.run(r.num_records_produced()) == 3
