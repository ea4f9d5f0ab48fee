"""Every file in ../shared/vectors (written by TensorFlow 2.21) read here gives
exactly what vectors.json describes; what we write reads back the same way."""
import gzip
import json
import pathlib
import struct
import zlib

import numpy as np
import pytest

import flowcore.compat.v1 as tf
from flowcore import errors
from flowcore import protos
from pipeline import tfrecord as tfr

# Files written by real TensorFlow, copied from the team's shared vectors so
# that every checkout (and CI) tests against them.
VECTORS = pathlib.Path(__file__).resolve().parent / "vectors"


@pytest.fixture(scope="module")
def spec():
    return json.loads((VECTORS / "vectors.json").read_text())


def _path(name):
    return str(VECTORS / name)


def test_every_vector_file_is_covered(spec):
    covered = {"README.md", "vectors.json", spec["csv"]["file"], spec["events"]["file"],
               spec["fixed_length"]["file"], spec["fixed_length"]["gzip_file"],
               spec["fixed_length"]["float_file"]["file"], spec["tfrecord"]["corrupt"]["file"],
               spec["tfrecord"]["truncated"]["file"], *spec["tfrecord"]["files"]}
    present = {str(p.relative_to(VECTORS)) for p in VECTORS.rglob("*") if p.is_file()}
    assert present == covered, "vector files without a test: %s" % (present - covered)


# -- TFRecord files ------------------------------------------------------------------------

def test_tfrecord_files_records_and_framing(spec):
    t = spec["tfrecord"]
    want = [bytes.fromhex(r["serialized_hex"]) for r in t["records"]]
    for name, info in t["files"].items():
        assert (VECTORS / name).stat().st_size == info["size"]
        got = list(tf.python_io.tf_record_iterator(_path(name), info["compression"]))
        assert got == want, name
        scanned = list(tfr.scan(_path(name), info["compression"]))
        assert [(o, n) for o, n, _ in scanned] == [(r["offset"], r["length"])
                                                  for r in t["records"]]
        assert all(p is None for _, _, p in scanned)


def _expected_values(rec, key, kind):
    f = rec["features"].get(key)
    if f is None:
        return []
    assert f["kind"] == kind
    return [bytes.fromhex(v) for v in f["values"]] if kind == "bytes" else f["values"]


def test_tfrecord_examples_parse_to_described_features(spec):
    t = spec["tfrecord"]
    kinds = t["feature_kinds"]
    dt = {"bytes": tf.string, "float": tf.float32, "int64": tf.int64}
    serialized = list(tf.python_io.tf_record_iterator(_path("examples.tfrecord")))
    out = tf.parse_example(tf.constant(serialized, dtype=tf.string),
                           {k: tf.VarLenFeature(dt[kind]) for k, kind in kinds.items()})
    ids = tf.parse_example(serialized, {"id": tf.FixedLenFeature([], tf.int64)})["id"]
    with tf.Session() as sess:
        got, got_ids = sess.run((out, ids))
    np.testing.assert_array_equal(got_ids, [r["features"]["id"]["values"][0]
                                            for r in t["records"]])
    for key, kind in kinds.items():
        sp = got[key]
        for i, rec in enumerate(t["records"]):
            vals = sp.values[sp.indices[:, 0] == i]
            want = _expected_values(rec, key, kind)
            if kind == "float":
                np.testing.assert_array_equal(vals, np.array(want, np.float32))
                assert vals.dtype == np.float32
            elif kind == "int64":
                assert [int(v) for v in vals] == want
            else:
                assert list(vals) == want, (key, i)
    # the protos agree on which features each record has
    for ser, rec in zip(serialized, t["records"]):
        ex = protos.Example.FromString(ser)
        assert sorted(ex.features.feature) == sorted(rec["features"])
        for key, f in rec["features"].items():
            assert ex.features.feature[key].WhichOneof("kind") == f["kind"] + "_list"


def test_written_tfrecords_match_tensorflow_bytes(spec, tmp_path):
    records = [bytes.fromhex(r["serialized_hex"]) for r in spec["tfrecord"]["records"]]
    tf_bytes = (VECTORS / "examples.tfrecord").read_bytes()
    for comp in ("", "GZIP", "ZLIB"):
        p = tmp_path / ("out" + comp)
        with tf.python_io.TFRecordWriter(str(p), tf.python_io.TFRecordOptions(comp)) as w:
            for r in records:
                w.write(r)
        raw = p.read_bytes()
        plain = gzip.decompress(raw) if comp == "GZIP" else zlib.decompress(raw) \
            if comp == "ZLIB" else raw
        assert plain == tf_bytes     # uncompressed: byte-identical to TensorFlow's file
        assert list(tf.python_io.tf_record_iterator(str(p), comp)) == records


def test_corrupt_and_truncated_files_raise_data_loss(spec):
    t = spec["tfrecord"]
    for case in (t["corrupt"], t["truncated"]):
        assert case["error"] == "DataLossError"
        got = []
        with pytest.raises(errors.DataLossError) as e:
            for r in tf.python_io.tf_record_iterator(_path(case["file"])):
                got.append(r)
        assert len(got) == case["records_read_before_error"]
        assert got == [bytes.fromhex(r["serialized_hex"]) for r in t["records"][:len(got)]]
        assert case["file"] in str(e.value)
    bad = t["records"][t["corrupt"]["bad_record_index"]]
    assert bad["offset"] <= t["corrupt"]["flipped_byte_offset"] < bad["offset"] + \
        bad["length"] + 16
    with pytest.raises(errors.DataLossError, match="corrupted record at offset %d"
                       % bad["offset"]):
        list(tf.python_io.tf_record_iterator(_path(t["corrupt"]["file"])))
    assert (VECTORS / t["truncated"]["file"]).stat().st_size == t["truncated"]["size"]
    with pytest.raises(errors.DataLossError, match="truncated record at offset %d"
                       % t["records"][-1]["offset"]):
        list(tf.python_io.tf_record_iterator(_path(t["truncated"]["file"])))


def _read_all(reader, files, batch=None):
    """(keys, values) from `reader` over `files` through a FIFOQueue, and the
    error that ended it (OutOfRangeError when all went well)."""
    q = tf.FIFOQueue(len(files) + 1, tf.string)
    enq = q.enqueue_many([files])
    close = q.close()
    kv = reader.read(q) if batch is None else reader.read_up_to(q, batch)
    keys, values = [], []
    with tf.Session() as sess:
        sess.run(enq)
        sess.run(close)
        try:
            while True:
                k, v = sess.run(kv)
                keys.extend(k.tolist() if isinstance(k, np.ndarray) else [k])
                values.extend(v.tolist() if isinstance(v, np.ndarray) else [v])
        except errors.OpError as e:
            return keys, values, e


def test_tfrecord_reader_keys_and_errors(spec):
    t = spec["tfrecord"]
    want = [bytes.fromhex(r["serialized_hex"]) for r in t["records"]]
    for name, info in t["files"].items():
        keys, values, err = _read_all(tf.TFRecordReader(
            options=tf.python_io.TFRecordOptions(info["compression"])), [_path(name)])
        assert isinstance(err, errors.OutOfRangeError)
        assert values == want
        assert keys == [("%s:%d" % (_path(name), r["offset"])).encode() for r in t["records"]]
    for case in (t["corrupt"], t["truncated"]):
        keys, values, err = _read_all(tf.TFRecordReader(), [_path(case["file"])])
        assert isinstance(err, errors.DataLossError) and len(values) == \
            case["records_read_before_error"]


# -- CSV -------------------------------------------------------------------------------------

def _csv_columns_match(spec, cols):
    c = spec["csv"]
    for got, want, dtype in zip(cols, c["columns"], c["dtypes"]):
        assert got.dtype == (object if dtype == "string" else np.dtype(dtype))
        if dtype == "string":
            assert list(got) == [bytes.fromhex(v) for v in want]
        else:
            np.testing.assert_array_equal(got, np.array(want, dtype=dtype))


def test_csv_lines_decode_to_described_columns(spec):
    c = spec["csv"]
    lines = (VECTORS / c["file"]).read_bytes().split(b"\n")
    assert lines[0].decode() == c["header"]
    assert [ln.hex() for ln in lines[1:] if ln] == c["lines_hex"]
    out = tf.decode_csv([bytes.fromhex(h) for h in c["lines_hex"]], c["record_defaults"])
    assert [t.dtype.name for t in out] == c["dtypes"]
    with tf.Session() as sess:
        _csv_columns_match(spec, sess.run(out))


def test_csv_through_text_line_reader(spec):
    c = spec["csv"]
    keys, values, err = _read_all(tf.TextLineReader(skip_header_lines=c["skip_header_lines"]),
                                  [_path(c["file"])])
    assert isinstance(err, errors.OutOfRangeError)
    assert keys == [("%s:%d" % (_path(c["file"]), n)).encode() for n in c["key_line_numbers"]]
    out = tf.decode_csv(values, c["record_defaults"])
    with tf.Session() as sess:
        _csv_columns_match(spec, sess.run(out))


# -- fixed-length records --------------------------------------------------------------------

def test_fixed_length_layout(spec):
    f = spec["fixed_length"]
    raw = (VECTORS / f["file"]).read_bytes()
    assert raw[:f["header_bytes"]].hex() == f["header_hex"]
    assert raw[len(raw) - f["footer_bytes"]:].hex() == f["footer_hex"]
    body = raw[f["header_bytes"]:len(raw) - f["footer_bytes"]]
    recs = [body[i:i + f["record_bytes"]] for i in range(0, len(body), f["record_bytes"])]
    assert [r.hex() for r in recs] == f["records_hex"]
    assert gzip.decompress((VECTORS / f["gzip_file"]).read_bytes()) == raw
    labels = tf.decode_raw(tf.constant(recs, dtype=tf.string), tf.uint8)
    with tf.Session() as sess:
        u8 = sess.run(labels)
    assert u8.shape == (len(recs), f["record_bytes"])
    for rec, row, want in zip(recs, u8, f["records"]):
        assert row[0] == want["label"] and row[-1] == want["pad"]
        assert list(struct.unpack("<hh", rec[1:5])) == want["int16"]
        assert struct.unpack("<f", rec[5:9])[0] == want["float32"]


def test_fixed_length_reader_plain_and_gzip(spec):
    f = spec["fixed_length"]
    for name, enc in ((f["file"], None), (f["gzip_file"], "GZIP")):
        reader = tf.FixedLengthRecordReader(f["record_bytes"], header_bytes=f["header_bytes"],
                                            footer_bytes=f["footer_bytes"], encoding=enc)
        keys, values, err = _read_all(reader, [_path(name)])
        assert isinstance(err, errors.OutOfRangeError)
        assert [v.hex() for v in values] == f["records_hex"]
        assert keys == [("%s:%s" % (_path(name), s)).encode() for s in f["keys_suffix"]]


def test_fixed_length_float_file(spec):
    ff = spec["fixed_length"]["float_file"]
    reader = tf.FixedLengthRecordReader(ff["record_bytes"], header_bytes=ff["header_bytes"],
                                        footer_bytes=ff["footer_bytes"])
    keys, values, err = _read_all(reader, [_path(ff["file"])], batch=10)
    assert isinstance(err, errors.OutOfRangeError)
    floats = tf.decode_raw(values, tf.float32)
    with tf.Session() as sess:
        got = sess.run(floats)
    np.testing.assert_array_equal(got, np.array(ff["values"], np.float32))


def test_fixed_length_float_file_decode_raw(spec):
    ff = spec["fixed_length"]["float_file"]
    raw = (VECTORS / ff["file"]).read_bytes()
    body = raw[ff["header_bytes"]:len(raw) - ff["footer_bytes"]]
    recs = [body[i:i + ff["record_bytes"]] for i in range(0, len(body), ff["record_bytes"])]
    with tf.Session() as sess:
        got = sess.run(tf.decode_raw(recs, tf.float32))
    np.testing.assert_array_equal(got, np.array(ff["values"], np.float32))


# -- the event file ----------------------------------------------------------------------------

def test_event_file(spec):
    ev = spec["events"]
    events = [protos.Event.FromString(r)
              for r in tf.python_io.tf_record_iterator(_path(ev["file"]))]
    assert len(events) == ev["num_events"]
    assert events[0].file_version == ev["file_version"]
    scalars, histos, graphs = {}, {}, []
    for e in events:
        if e.WhichOneof("what") == "graph_def":
            graphs.append(protos.GraphDef.FromString(e.graph_def))
        for v in e.summary.value:
            if v.WhichOneof("value") == "simple_value":
                scalars.setdefault(v.tag, []).append([e.step, v.simple_value])
            elif v.WhichOneof("value") == "histo":
                h = v.histo
                histos.setdefault(v.tag, []).append(
                    {"step": e.step, "min": h.min, "max": h.max, "num": h.num, "sum": h.sum,
                     "sum_squares": h.sum_squares, "bucket_limit": list(h.bucket_limit),
                     "bucket": list(h.bucket)})
    assert scalars == ev["scalars"]
    assert histos == ev["histograms"]
    assert bool(graphs) == ev["has_graph_def"]
    assert graphs and len(graphs[0].node) > 0 and all(n.op for n in graphs[0].node)
