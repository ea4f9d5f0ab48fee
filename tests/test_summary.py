"""Summary ops (scalar, histogram, image, text, merge) and event files
(FileWriter, FileWriterCache, summary_iterator).  Expected values were
checked against TensorFlow 2.21's tf.compat.v1."""
import gc
import os
import re
import socket
import struct
import subprocess
import sys
import threading
import time
import zlib

import numpy as np
import pytest

import flowcore.compat.v1 as tf
from flowcore import registry
from flowcore.summary import ops as summary_ops, writer as writer_mod


def _run(t, feed=None):
    with tf.Session() as sess:
        return tf.Summary.FromString(sess.run(t, feed))


def decode_png(data):
    """(pixels [h, w, c], color type) of a PNG written with filter type 0."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, ihdr = 8, b"", None
    while pos < len(data):
        (n,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + n]
        (crc,) = struct.unpack(">I", data[pos + 8 + n:pos + 12 + n])
        assert crc == zlib.crc32(kind + body) & 0xffffffff
        if kind == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    assert kind == b"IEND"
    w, h, depth, color, _, _, interlace = ihdr
    assert depth == 8 and interlace == 0
    c = {0: 1, 4: 2, 2: 3, 6: 4}[color]
    rows = np.frombuffer(zlib.decompress(idat), np.uint8).reshape(h, 1 + w * c)
    assert (rows[:, 0] == 0).all()
    return rows[:, 1:].reshape(h, w, c), color


# -- scalar -----------------------------------------

def test_scalar_op_tag_value_and_collection():
    x = tf.placeholder(tf.float32, [], name="x")
    s = tf.summary.scalar("loss", x)
    assert s.op.type == "ScalarSummary" and s.name == "loss:0"
    assert s.dtype == tf.string and s.shape.as_list() == []
    assert [t.name for t in s.op.inputs] == ["loss/tags:0", "x:0"]
    assert tf.get_collection(tf.GraphKeys.SUMMARIES) == [s]
    summ = _run(s, {x: 2.5})
    assert len(summ.value) == 1
    assert summ.value[0].tag == "loss" and summ.value[0].simple_value == 2.5
    assert registry.gradient_function("ScalarSummary") is None


def test_scalar_scopes_families_and_cleaned_names():
    c = tf.constant(1.0)
    with tf.name_scope("foo"):
        a = tf.summary.scalar("lo ss", c)
        b = tf.summary.scalar("l2", c, family="fam")
    d = tf.summary.scalar("l3", c, family="fam", collections=[])
    assert (a.op.name, _run(a).value[0].tag) == ("foo/lo_ss", "foo/lo_ss")
    assert (b.op.name, _run(b).value[0].tag) == ("foo/fam/l2", "fam/foo/fam/l2")
    assert (d.op.name, _run(d).value[0].tag) == ("fam/l3", "fam/fam/l3")
    assert tf.get_collection(tf.GraphKeys.SUMMARIES) == [a, b]


def test_summary_names_uniquified_like_tf():
    a = tf.summary.scalar("loss", tf.constant(1.0))
    b = tf.summary.scalar("loss", tf.constant(2.0))
    assert (a.op.name, b.op.name) == ("loss", "loss_1")
    assert _run(b).value[0].tag == "loss_1"


def test_scalar_errors():
    with pytest.raises(TypeError, match="DataType string not in list of allowed values"):
        tf.summary.scalar("s", tf.constant("a"))
    s = tf.summary.scalar("s", tf.constant([1.0, 2.0]))
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=re.escape("tags and values are not the same shape: [] != [2]")):
        _run(s)


# -- histogram -----------------------------------------

def test_histogram_matches_tensorflow():
    x = tf.placeholder(tf.float32, [None], name="x")
    h = tf.summary.histogram("h", x)
    assert h.op.type == "HistogramSummary"
    assert [t.name for t in h.op.inputs] == ["h/tag:0", "x:0"]
    v = _run(h, {x: [1.0, 2.0, -3.0, 0.0, 1e-13]}).value[0]
    assert v.tag == "h"
    p = v.histo
    assert (p.min, p.max, p.num, p.sum_squares) == (-3.0, 2.0, 5.0, 14.0)
    assert p.sum == pytest.approx(float(np.float32(1e-13)), rel=1e-6)
    # TF 2.21 writes exactly these (empty runs collapsed into one bucket)
    assert list(p.bucket_limit) == [-3.1665833053880363, -2.8787120958073054, 0.0, 1e-12,
                                    0.917246389039776, 1.0089710279437536,
                                    1.9661990955585713, 2.1628190051144287,
                                    1.7976931348623157e+308]
    assert list(p.bucket) == [0, 1, 0, 2, 0, 1, 0, 1, 0]


def test_histogram_buckets_count_everything():
    rng = np.random.RandomState(0)
    data = np.concatenate([rng.randn(1000) * 100, [0.0, 5e-13, -1e30, 1e30]])
    p = summary_ops.histogram_proto(data)
    assert sum(p.bucket) == p.num == data.size
    assert list(p.bucket_limit) == sorted(p.bucket_limit)
    # every value lies below its bucket's limit and at/above the previous one
    limits = np.array(p.bucket_limit)
    idx = np.searchsorted(limits, data, side="right")
    np.testing.assert_array_equal(np.bincount(idx, minlength=len(limits)), p.bucket)
    assert p.sum == pytest.approx(data.sum())
    assert p.sum_squares == pytest.approx(np.dot(data, data))


def test_histogram_default_limits():
    lim = summary_ops.BUCKET_LIMITS
    assert lim[0] == -np.finfo(np.float64).max and lim[-1] == np.finfo(np.float64).max
    mid = len(lim) // 2
    assert lim[mid] == 0.0 and lim[mid + 1] == 1e-12
    np.testing.assert_array_equal(lim[:mid], -lim[:mid:-1])
    np.testing.assert_allclose(lim[mid + 2:mid + 10] / lim[mid + 1:mid + 9], 1.1)
    assert lim[-2] < 1e20 <= lim[-2] * 1.1


def test_histogram_empty_ints_and_nonfinite():
    p = _run(tf.summary.histogram("e", tf.constant([], dtype=tf.float32))).value[0].histo
    dmax = np.finfo(np.float64).max
    assert (p.min, p.max, p.num, list(p.bucket_limit), list(p.bucket)) == \
        (dmax, -dmax, 0.0, [dmax], [0.0])
    p = _run(tf.summary.histogram("i", tf.constant([1, 2, 3]))).value[0].histo
    assert list(p.bucket) == [0, 1, 0, 1, 0, 1, 0] and p.sum == 6
    x = tf.placeholder(tf.float32, [None])
    h = tf.summary.histogram("bad", x)
    with pytest.raises(tf.errors.InvalidArgumentError, match="Nan in summary histogram for: bad"):
        _run(h, {x: [1.0, np.nan]})
    with pytest.raises(tf.errors.InvalidArgumentError, match="Infinity in Histogram for: bad"):
        _run(h, {x: [1.0, np.inf]})


# -- image -----------------------------------------

def test_image_float_normalisation_matches_tensorflow():
    imgs = tf.placeholder(tf.float32, [None, 2, 3, 1], name="imgs")
    s = tf.summary.image("img", imgs, max_outputs=1)
    assert s.op.type == "ImageSummary" and s.op.get_attr("max_images") == 1
    cases = [([0, .5, 1, .25, .75, .1], [0, 127, 255, 63, 191, 25]),       # all >= 0
             ([-1, .5, 1, .25, .75, 2], [64, 159, 191, 143, 175, 255]),    # some < 0
             ([0, 2, 100, .25, np.nan, np.inf], [0, 5, 255, 0, 255, 255]),  # bad pixels
             ([0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0])]
    for values, expected in cases:
        v = _run(s, {imgs: np.array(values, np.float32).reshape(1, 2, 3, 1)}).value
        assert [x.tag for x in v] == ["img/image"]
        im = v[0].image
        assert (im.height, im.width, im.colorspace) == (2, 3, 1)
        pixels, color = decode_png(im.encoded_image_string)
        assert color == 0
        assert pixels.reshape(-1).tolist() == expected


def test_image_batch_tags_per_image_scaling_and_rgb():
    imgs = tf.placeholder(tf.float32, [None, 1, 3, 1])
    s = tf.summary.image("img", imgs)            # max_outputs=3
    batch = np.array([[1, 2, 4], [10, 20, 40], [0, 0, 1], [5, 5, 5]], np.float32)
    v = _run(s, {imgs: batch.reshape(4, 1, 3, 1)}).value
    assert [x.tag for x in v] == ["img/image/0", "img/image/1", "img/image/2"]
    got = [decode_png(x.image.encoded_image_string)[0].reshape(-1).tolist() for x in v]
    assert got == [[63, 127, 255], [63, 127, 255], [0, 0, 255]]   # scaled per image
    rgba = np.arange(2 * 2 * 3 * 4, dtype=np.uint8).reshape(2, 2, 3, 4)
    v = _run(tf.summary.image("rgba", tf.constant(rgba), max_outputs=5)).value
    assert len(v) == 2 and v[1].image.colorspace == 4
    pixels, color = decode_png(v[1].image.encoded_image_string)
    assert color == 6
    np.testing.assert_array_equal(pixels, rgba[1])             # uint8 kept as is
    rgb = np.random.RandomState(1).randint(0, 256, (1, 4, 5, 3)).astype(np.uint8)
    pixels, color = decode_png(_run(tf.summary.image("rgb", tf.constant(rgb))).value[0]
                               .image.encoded_image_string)
    assert color == 2
    np.testing.assert_array_equal(pixels, rgb[0])


def test_image_errors():
    with pytest.raises(TypeError, match="parameter 'tensor' has DataType int32"):
        tf.summary.image("i", tf.zeros([1, 2, 2, 1], tf.int32))
    with pytest.raises(ValueError, match="max_images.*less than minimum 1"):
        tf.summary.image("i", tf.zeros([1, 2, 2, 1]), max_outputs=0)
    s = tf.summary.image("bad", tf.zeros([1, 2, 2, 2]))
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=re.escape("Tensor must be 4-D with last dim 1, 3, or 4, not "
                                       "[1,2,2,2]")):
        _run(s)


# -- text, merge -----------------------------------------

def test_text_summary():
    t = tf.summary.text("txt", tf.constant(["a", "bc"]))
    assert t.op.type == "TensorSummaryV2"
    assert [x.op.name for x in t.op.inputs][::2] == ["txt/tag", "txt/serialized_summary_metadata"]
    v = _run(t).value[0]
    assert v.tag == "txt" and v.metadata.plugin_data.plugin_name == "text"
    assert v.tensor.dtype == tf.string.as_datatype_enum
    assert [d.size for d in v.tensor.tensor_shape.dim] == [2]
    assert list(v.tensor.string_val) == [b"a", b"bc"]
    with pytest.raises(ValueError, match="to have dtype string"):
        tf.summary.text("t", tf.constant(1))


def test_merge_and_merge_all():
    assert tf.summary.merge_all() is None
    a = tf.summary.scalar("a", tf.constant(1.0))
    b = tf.summary.histogram("b", tf.constant([1.0, 2.0]))
    c = tf.summary.scalar("c", tf.constant(3.0), collections=["other"])
    m = tf.summary.merge_all()
    assert m.op.name == "Merge/MergeSummary" and m.op.type == "MergeSummary"
    assert list(m.op.inputs) == [a, b]
    assert [v.tag for v in _run(m).value] == ["a", "b"]
    m2 = tf.summary.merge([m, c], collections=["merged"])
    assert m2.op.name == "Merge_1/MergeSummary"
    assert tf.get_collection("merged") == [m2]
    assert [v.tag for v in _run(m2).value] == ["a", "b", "c"]
    assert [v.tag for v in _run(tf.summary.merge_all("other")).value] == ["c"]
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match="Duplicate tag a found in summary inputs"):
        _run(tf.summary.merge([a, a]))


# -- FileWriter and event files -----------------------------------------

def _events(logdir):
    files = sorted(os.listdir(logdir))
    return [list(tf.train.summary_iterator(os.path.join(logdir, f))) for f in files]


def _writer_threads():
    return [t for t in threading.enumerate() if t.name.startswith("EventFileWriter(")]


def test_filewriter_file_name_first_event_and_steps(tmp_path):
    logdir = str(tmp_path / "logs")          # created by the writer
    t0 = time.time()
    x = tf.placeholder(tf.float32, [])
    s = tf.summary.scalar("loss", x)
    w = tf.summary.FileWriter(logdir, filename_suffix=".v2")
    assert w.get_logdir() == logdir
    with tf.Session() as sess:
        for step in range(3):
            w.add_summary(sess.run(s, {x: step * 0.5}), global_step=step * 10)
    w.add_summary(tf.Summary(value=[tf.Summary.Value(tag="p", simple_value=7)]))
    w.add_session_log(tf.SessionLog(status=tf.SessionLog.CHECKPOINT, checkpoint_path="c"), 4)
    w.close()
    (name,) = os.listdir(logdir)
    m = re.match(r"^events\.out\.tfevents\.(\d{10})\.(.+)\.v2$", name)
    assert m and m.group(2) == socket.gethostname()
    assert t0 - 1 <= int(m.group(1)) <= time.time()
    (ev,) = _events(logdir)
    assert ev[0].file_version == "brain.Event:2" and ev[0].step == 0
    assert t0 - 1 <= ev[0].wall_time <= time.time()
    assert [(e.step, e.summary.value[0].simple_value) for e in ev[1:4]] == \
        [(0, 0.0), (10, 0.5), (20, 1.0)]
    assert ev[4].step == 0 and ev[4].summary.value[0].tag == "p"
    assert ev[5].session_log.status == tf.SessionLog.CHECKPOINT and ev[5].step == 4
    assert all(ev[i].wall_time <= ev[i + 1].wall_time for i in range(5))


def test_filewriter_writes_in_background_and_flushes_on_close(tmp_path):
    w = tf.summary.FileWriter(str(tmp_path), flush_secs=1000)
    path = w.event_writer.path
    worker = w.event_writer._worker
    release = threading.Event()
    real_write = worker.writer.write
    worker.writer.write = lambda rec: (release.wait(5), real_write(rec))
    t0 = time.monotonic()
    for i in range(5):                     # the writer thread is stuck: callers are not
        w.add_summary(tf.Summary(value=[tf.Summary.Value(tag="a", simple_value=i)]), i)
    assert time.monotonic() - t0 < 1.0
    assert len(list(tf.train.summary_iterator(path))) == 1   # only the version event
    release.set()
    w.close()
    assert [e.step for e in tf.train.summary_iterator(path)] == [0, 0, 1, 2, 3, 4]
    assert not _writer_threads()


def test_filewriter_flush_and_periodic_flush(tmp_path):
    w = tf.summary.FileWriter(str(tmp_path / "a"), flush_secs=1000, max_queue=1)
    for i in range(20):
        w.add_summary(tf.Summary(value=[tf.Summary.Value(tag="a", simple_value=i)]), i)
    w.flush()
    assert len(list(tf.train.summary_iterator(w.event_writer.path))) == 21
    w.close()
    w2 = tf.summary.FileWriter(str(tmp_path / "b"), flush_secs=0.05)
    w2.add_summary(tf.Summary(value=[tf.Summary.Value(tag="a", simple_value=1)]), 3)
    deadline = time.monotonic() + 5
    while len(list(tf.train.summary_iterator(w2.event_writer.path))) < 2:
        assert time.monotonic() < deadline, "not flushed after flush_secs"
        time.sleep(0.02)
    w2.close()


def test_filewriter_close_is_idempotent_and_reopen_starts_new_file(tmp_path, caplog):
    before = len(_writer_threads())
    w = tf.summary.FileWriter(str(tmp_path))
    assert len(_writer_threads()) == before + 1
    w.add_summary(tf.Summary(value=[tf.Summary.Value(tag="a", simple_value=1)]), 1)
    w.close()
    w.close()
    assert len(_writer_threads()) == before
    w.add_summary(tf.Summary(value=[tf.Summary.Value(tag="a", simple_value=2)]), 2)  # ignored
    assert "closed FileWriter" in caplog.text
    w.reopen()
    w.add_summary(tf.Summary(value=[tf.Summary.Value(tag="a", simple_value=3)]), 3)
    w.close()
    first, second = _events(str(tmp_path))
    assert [e.step for e in first[1:]] == [1]
    assert second[0].file_version == "brain.Event:2"
    assert [e.step for e in second[1:]] == [3]


def test_filewriter_graph_meta_graph_and_metadata_once(tmp_path):
    x = tf.placeholder(tf.float32, [None, 2], name="x")
    tf.identity(x, name="y")
    t = tf.summary.text("note", tf.constant("hi"))
    with tf.summary.FileWriter(str(tmp_path), graph=tf.get_default_graph()) as w:
        with tf.Session() as sess:
            w.add_summary(sess.run(t), 1)
            w.add_summary(sess.run(t), 2)
        with pytest.raises(TypeError, match="MetaGraphDef"):
            w.add_meta_graph(tf.GraphDef())
        w.add_graph(tf.get_default_graph(), global_step=5)
    (ev,) = _events(str(tmp_path))
    gd = tf.GraphDef.FromString(ev[1].graph_def)
    assert [n.name for n in gd.node][:2] == ["x", "y"]
    assert "_output_shapes" in gd.node[0].attr
    meta = tf.MetaGraphDef.FromString(ev[2].meta_graph_def)
    assert [n.name for n in meta.graph_def.node] == [n.name for n in gd.node]
    assert list(meta.collection_def["summaries"].node_list.value) == ["note:0"]
    texts = [e.summary.value[0] for e in ev if e.WhichOneof("what") == "summary"]
    assert [v.HasField("metadata") for v in texts] == [True, False]   # plugin data once
    assert ev[-1].step == 5 and ev[-1].WhichOneof("what") == "graph_def"


def test_filewriter_many_threads(tmp_path):
    w = tf.summary.FileWriter(str(tmp_path), max_queue=3)

    def add(k):
        for i in range(50):
            w.add_summary(tf.Summary(value=[tf.Summary.Value(tag="t%d" % k, simple_value=i)]),
                          k * 1000 + i)
            if i % 10 == 0:
                w.flush()
    threads = [threading.Thread(target=add, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    w.close()
    (ev,) = _events(str(tmp_path))
    steps = [e.step for e in ev[1:]]
    assert sorted(steps) == sorted(k * 1000 + i for k in range(4) for i in range(50))
    for k in range(4):                      # each thread's events stay in its order
        mine = [x for x in steps if x // 1000 == k]
        assert mine == sorted(mine)


def test_filewriter_write_error_is_reported(tmp_path):
    w = tf.summary.FileWriter(str(tmp_path))

    def fail(rec):
        raise OSError(28, "No space left on device")
    w.event_writer._worker.writer.write = fail
    w.add_summary(tf.Summary(), 1)
    with pytest.raises(OSError, match="No space left"):
        w.flush()
    w.close()
    assert not _writer_threads()


def test_unclosed_writer_is_flushed_when_collected(tmp_path):
    w = tf.summary.FileWriter(str(tmp_path), flush_secs=1000)
    w.add_summary(tf.Summary(value=[tf.Summary.Value(tag="a", simple_value=1)]), 7)
    path = w.event_writer.path
    del w
    gc.collect()
    assert not _writer_threads()
    assert [e.step for e in tf.train.summary_iterator(path)] == [0, 7]


def test_open_writer_is_flushed_at_interpreter_exit(tmp_path):
    code = ("import sys, flowcore.compat.v1 as tf\n"
            "w = tf.summary.FileWriter(sys.argv[1], flush_secs=1000)\n"
            "w.add_summary(tf.Summary(value=[tf.Summary.Value(tag='a', simple_value=1)]), 9)\n")
    r = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    (ev,) = _events(str(tmp_path))
    assert [e.step for e in ev] == [0, 9]


def test_filewriter_cache(tmp_path):
    d1, d2 = str(tmp_path / "1"), str(tmp_path / "2")
    w = tf.summary.FileWriterCache.get(d1)
    assert tf.summary.FileWriterCache.get(d1) is w
    assert tf.summary.FileWriterCache.get(d2) is not w
    tf.summary.FileWriterCache.clear()
    assert w._closed and not _writer_threads()
    assert tf.summary.FileWriterCache.get(d1) is not w
    tf.summary.FileWriterCache.clear()
    # created with the default graph: version, graph, meta graph events
    assert [[e.WhichOneof("what") for e in f] for f in _events(d1)] == \
        [["file_version", "graph_def", "meta_graph_def"]] * 2


def test_summary_iterator_errors(tmp_path):
    with tf.summary.FileWriter(str(tmp_path)) as w:
        w.add_summary(tf.Summary(value=[tf.Summary.Value(tag="a", simple_value=1)]), 1)
        path = w.event_writer.path
    with pytest.raises(tf.errors.NotFoundError):
        list(tf.train.summary_iterator(str(tmp_path / "missing")))
    data = open(path, "rb").read()
    open(path, "wb").write(data[:-3])
    it = tf.train.summary_iterator(path)
    assert next(it).file_version == "brain.Event:2"
    with pytest.raises(tf.errors.DataLossError):
        next(it)


def test_writer_module_has_no_leftover_threads():
    assert not _writer_threads()
    assert writer_mod.FILE_VERSION == "brain.Event:2"
