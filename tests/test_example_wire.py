"""The vectorised Example reader (pipeline/example_wire.py) behind parse_example's
large batches: the same values and the same errors as the protobuf runtime."""
import random

import numpy as np
import pytest

import flowcore.compat.v1 as tf
from flowcore import errors
from pipeline import example_wire, parsing

train = tf.train


def _feature(v):
    if isinstance(v, str):
        return train.Feature()                       # no list set
    if v and isinstance(v[0], bytes):
        return train.Feature(bytes_list=train.BytesList(value=v))
    if v and isinstance(v[0], float):
        return train.Feature(float_list=train.FloatList(value=v))
    return train.Feature(int64_list=train.Int64List(value=v))


def _ex(**feats):
    fmap = {k: _feature(v) for k, v in feats.items()}
    return train.Example(features=train.Features(feature=fmap)).SerializeToString()


INT64S = [0, 1, 127, 128, 300, 16383, 16384, -1, -2 ** 63, 2 ** 63 - 1, 2 ** 40 + 7]


def _random_batch(rng, n, layout):
    """n records with features img (bytes), lbl (int64), w (3 floats), v (ints)
    and s (pairs of floats): of one `layout` ("one": values of fixed sizes),
    of a "few" (labels and lists of a few sizes) or "any" (some features
    missing or empty, another feature here and there)."""
    recs = []
    for i in range(n):
        f = {"img": [bytes(rng.randrange(256) for _ in range(12))],
             "w": [rng.uniform(-5, 5) for _ in range(3)]}
        if layout == "one":
            f["lbl"] = [rng.randrange(128)]
            f["v"] = [rng.randrange(128), -rng.randrange(1, 2 ** 62)]    # 1 + 10 bytes
            f["s"] = [rng.uniform(-1, 1) for _ in range(4)]
        elif layout == "few":                       # 2 x 2 lengths, one layout each
            f["lbl"] = [rng.choice([5, 300])]
            f["v"] = [rng.randrange(100) for _ in range(2)]
            f["s"] = [rng.uniform(-1, 1) for _ in range(rng.choice([2, 4]))]
        else:
            f["lbl"] = [rng.choice(INT64S)]
            if rng.random() < 0.8:
                f["v"] = [rng.choice(INT64S) for _ in range(rng.randrange(4))]
            if rng.random() < 0.7:
                f["s"] = [rng.uniform(-1, 1) for _ in range(2 + 2 * rng.randrange(2))]
            if rng.random() < 0.2:
                f["img"] = "unset"                   # an empty Feature: missing
            if rng.random() < 0.3:
                f["other"] = [b"x" * rng.randrange(200)]
        recs.append(_ex(**f))
    return recs


FEATURES = {
    "img": tf.FixedLenFeature([], tf.string, default_value=b"none"),
    "lbl": tf.FixedLenFeature([], tf.int64),
    "w": tf.FixedLenFeature([3], tf.float32),
    "v": tf.VarLenFeature(tf.int64),
    "s": tf.FixedLenSequenceFeature([2], tf.float32, allow_missing=True, default_value=-1.0),
    "absent": tf.FixedLenFeature([2], tf.int64, default_value=[4, 5]),
    "other": tf.VarLenFeature(tf.string),
}


def _parse_both(batches, monkeypatch):
    """parse_example over `batches` read by the wire reader (every batch)
    and by the protobuf runtime only: both lists of results."""
    ph = tf.placeholder(tf.string, [None])
    out = tf.parse_example(ph, FEATURES)
    results = {}
    for mode, threshold in (("wire", 1), ("upb", 1 << 30)):
        monkeypatch.setattr(parsing, "WIRE_MIN_BATCH", threshold)
        with tf.Session() as sess:
            results[mode] = [sess.run(out, {ph: b}) for b in batches]
    return results["wire"], results["upb"]


def _assert_same(a, b):
    assert a.keys() == b.keys()
    for k in a:
        x, y = a[k], b[k]
        if isinstance(x, tf.SparseTensorValue):
            for p, q in zip(x, y):
                assert p.dtype == q.dtype and p.tolist() == q.tolist(), k
        else:
            assert x.dtype == y.dtype and x.shape == y.shape, k
            assert x.tolist() == y.tolist(), k


@pytest.mark.parametrize("layout", ["one", "few", "any"])
def test_wire_reader_matches_protobuf_runtime(layout, monkeypatch):
    rng = random.Random(len(layout))
    batches = [_random_batch(rng, n, layout) for n in (1, 7, 64, 64, 30)]
    if layout == "few":
        wanted = [(b"lbl", "int64_list"), (b"s", "float_list")]
        assert [example_wire.parse_batch(b, wanted) is not None for b in batches] == \
            [True, False, True, True, False]    # 7 or 30 records: too few for 4 lengths
    wire, upb = _parse_both(batches, monkeypatch)
    for a, b in zip(wire, upb):
        _assert_same(a, b)
    if layout == "one":     # and the values are the ones written
        ex = train.Example.FromString(batches[2][5]).features.feature
        assert wire[2]["lbl"][5] == ex["lbl"].int64_list.value[0]
        np.testing.assert_array_equal(wire[2]["w"][5], np.float32(ex["w"].float_list.value))
        assert wire[2]["img"][5] == ex["img"].bytes_list.value[0]


def test_uniform_batches_use_one_template_and_notice_a_new_layout():
    wanted = [(b"a", "int64_list"), (b"b", "float_list"), (b"c", "bytes_list")]
    cache = {}
    one = [_ex(a=[i], b=[0.5 * i], c=[b"xy"]) for i in range(40)]
    got = example_wire.parse_batch(one, wanted, cache)
    assert list(cache) == [len(one[0])]
    np.testing.assert_array_equal(got[0][2], np.arange(40))
    np.testing.assert_array_equal(got[1][2], np.float32(0.5) * np.arange(40))
    assert got[2][2].tolist() == [b"xy"] * 40
    # same length, another key order: the cached template no longer fits
    other = [_ex(c=[b"xy"], b=[0.5 * i], a=[i]) for i in range(40)]
    got2 = example_wire.parse_batch(other, wanted, cache)
    np.testing.assert_array_equal(got2[0][2], np.arange(40))
    assert got2[2][2].tolist() == [b"xy"] * 40
    # same length and key order, varint values of different sizes in one payload
    mixed = [_ex(a=[1, 300], b=[1.0], c=[b"xy"]), _ex(a=[300, 1], b=[2.0], c=[b"xy"]),
             _ex(a=[1, 2, 3], b=[3.0], c=[b"xy"])]
    got3 = example_wire.parse_batch(mixed, wanted, cache)
    assert got3[0][1].tolist() == [2, 2, 3]
    assert got3[0][2].tolist() == [1, 300, 300, 1, 1, 2, 3]


def test_irregular_encodings_are_left_to_the_protobuf_runtime():
    wanted = [(b"a", "float_list")]
    good = _ex(a=[1.0])
    floats = b"\x0d\x00\x00\x80\x3f"                  # [1.0], not packed
    entry = b"\x0a\x01a\x12\x07\x12\x05" + floats
    unpacked = b"\x0a\x0e\x0a\x0c" + entry
    assert list(train.Example.FromString(unpacked).features.feature["a"]
                .float_list.value) == [1.0]
    unknown_field = good + b"\x10\x01"
    dup_key = _ex(a=[1.0])[2:] * 2
    dup_key = bytes([0x0A, len(dup_key)]) + dup_key
    for bad in (unpacked, unknown_field, dup_key, b"", b"\x0a\x05abc"):
        assert example_wire.parse_batch([good, bad], wanted, {}) is None
        assert example_wire.parse_batch([bad] * 2, wanted, {}) is None
    # a list of another type than the spec's
    assert example_wire.parse_batch([good] * 3, [(b"a", "int64_list")], {}) is None


@pytest.mark.parametrize("features,good,bad,want", [
    ({"x": tf.FixedLenFeature([], tf.int64)}, _ex(x=[7]), _ex(y=[1]),
     "Name: <unknown>, Feature: x (data type: int64) is required but could not be found."),
    ({"x": tf.FixedLenFeature([], tf.float32)}, _ex(x=[7.0]), _ex(x=[1]),
     "Name: <unknown>, Key: x, Index: 30.  Data types don't match. Data type: int64 but "
     "expected type: float"),
    ({"x": tf.FixedLenFeature([2], tf.int64)}, _ex(x=[7, 8]), _ex(x=[1, 2, 3]),
     "Name: <unknown>, Key: x, Index: 30.  Number of int64 values != expected.  Values "
     "size: 3 but output shape: [2]"),
    ({"x": tf.VarLenFeature(tf.int64)}, _ex(x=[7]), b"\x0a\x05abc",
     "Name: <unknown>, Index: 30.  Could not parse example input, value: b'\\n\\x05abc'"),
])
def test_large_batches_raise_the_same_errors(features, good, bad, want):
    batch = [good] * 30 + [bad] + [good] * 5
    assert len(batch) >= parsing.WIRE_MIN_BATCH
    out = tf.parse_example(tf.constant(batch), features)
    with tf.Session() as sess, pytest.raises(errors.InvalidArgumentError) as e:
        sess.run(out)
    assert want in str(e.value)
