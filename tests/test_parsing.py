"""Example / SequenceExample parsing: values, static shapes and TF's errors."""
import random

import numpy as np
import pytest

import flowcore.compat.v1 as tf
from flowcore import errors

train = tf.train


def _ex(**feats):
    """An Example from keyword features: int list -> int64, float list -> float, bytes list."""
    fmap = {}
    for k, v in feats.items():
        if v is None:
            fmap[k] = train.Feature()
        elif v and isinstance(v[0], bytes) or v == [] and k.startswith("b"):
            fmap[k] = train.Feature(bytes_list=train.BytesList(value=v))
        elif v and isinstance(v[0], float) or v == [] and k.startswith("f"):
            fmap[k] = train.Feature(float_list=train.FloatList(value=v))
        else:
            fmap[k] = train.Feature(int64_list=train.Int64List(value=v))
    return train.Example(features=train.Features(feature=fmap)).SerializeToString()


BATCH = [_ex(i=[1], f=[0.5, 1.5], b=[b"x"], v=[1, 2, 3], s=[1.0, 2.0, 3.0, 4.0]),
         _ex(i=[2], f=[2.5, 3.5], b=[b"yy"], v=[], s=[5.0, 6.0]),
         _ex(i=[3], f=[4.5, 5.5], v=[7])]

FEATURES = {
    "i": tf.FixedLenFeature([], tf.int64),
    "f": tf.FixedLenFeature([2], tf.float32),
    "b": tf.FixedLenFeature([], tf.string, default_value=b"none"),
    "v": tf.VarLenFeature(tf.int64),
    "s": tf.FixedLenSequenceFeature([2], tf.float32, allow_missing=True, default_value=-1.0),
    "missing": tf.FixedLenFeature([1, 2], tf.int64, default_value=[[8, 9]]),
}


def test_feature_specs_are_tf1_namedtuples():
    assert repr(tf.FixedLenFeature([], tf.int64)) == \
        "FixedLenFeature(shape=[], dtype=tf.int64, default_value=None)"
    assert repr(tf.VarLenFeature(tf.int64)) == "VarLenFeature(dtype=tf.int64)"
    assert repr(tf.FixedLenSequenceFeature([], tf.int64)) == (
        "FixedLenSequenceFeature(shape=[], dtype=tf.int64, allow_missing=False, "
        "default_value=None)")
    assert tf.io.FixedLenFeature is tf.FixedLenFeature
    assert tf.io.parse_example is tf.parse_example


def test_parse_example_batch_values_and_shapes():
    out = tf.parse_example(tf.constant(BATCH), FEATURES)
    assert out["i"].shape.as_list() == [3] and out["i"].dtype == tf.int64
    assert out["f"].shape.as_list() == [3, 2] and out["f"].dtype == tf.float32
    assert out["missing"].shape.as_list() == [3, 1, 2]
    assert out["s"].shape.as_list() == [3, None, 2]
    assert isinstance(out["v"], tf.SparseTensor)
    assert out["v"].indices.shape.as_list() == [None, 2]
    assert out["v"].dense_shape.shape.as_list() == [2]
    with tf.Session() as sess:
        r = sess.run(out)
    np.testing.assert_array_equal(r["i"], [1, 2, 3])
    assert r["i"].dtype == np.int64
    np.testing.assert_array_equal(r["f"], [[0.5, 1.5], [2.5, 3.5], [4.5, 5.5]])
    assert r["f"].dtype == np.float32
    assert list(r["b"]) == [b"x", b"yy", b"none"]
    np.testing.assert_array_equal(r["missing"], [[[8, 9]]] * 3)
    np.testing.assert_array_equal(r["v"].indices, [[0, 0], [0, 1], [0, 2], [2, 0]])
    np.testing.assert_array_equal(r["v"].values, [1, 2, 3, 7])
    np.testing.assert_array_equal(r["v"].dense_shape, [3, 3])
    np.testing.assert_array_equal(r["s"], [[[1, 2], [3, 4]], [[5, 6], [-1, -1]],
                                           [[-1, -1], [-1, -1]]])


def test_parse_single_example_has_no_batch_dimension():
    out = tf.parse_single_example(BATCH[0], FEATURES)
    assert out["i"].shape.as_list() == []
    assert out["f"].shape.as_list() == [2]
    assert out["s"].shape.as_list() == [None, 2]
    assert out["v"].indices.shape.as_list() == [None, 1]
    assert out["v"].dense_shape.shape.as_list() == [1]
    with tf.Session() as sess:
        r = sess.run(out)
    assert r["i"] == 1 and r["b"] == b"x"
    np.testing.assert_array_equal(r["v"].indices, [[0], [1], [2]])
    np.testing.assert_array_equal(r["v"].dense_shape, [3])
    np.testing.assert_array_equal(r["s"], [[1, 2], [3, 4]])


def test_placeholder_batch_and_empty_batch():
    ph = tf.placeholder(tf.string, [None])
    out = tf.parse_example(ph, {"i": tf.FixedLenFeature([2], tf.int64, default_value=[0, 0]),
                                "v": tf.VarLenFeature(tf.string)})
    assert out["i"].shape.as_list() == [None, 2]
    assert tf.parse_example(tf.placeholder(tf.string), {
        "i": tf.FixedLenFeature([], tf.int64)})["i"].shape.ndims is None
    with tf.Session() as sess:
        r = sess.run(out, {ph: []})
        assert r["i"].shape == (0, 2)
        assert r["v"].indices.shape == (0, 2) and list(r["v"].dense_shape) == [0, 0]
        r = sess.run(out, {ph: [b""]})   # an empty Example: every feature missing
        np.testing.assert_array_equal(r["i"], [[0, 0]])


def _run_error(serialized, features, **kw):
    out = tf.parse_example(tf.constant(serialized), features, **kw)
    with tf.Session() as sess, pytest.raises(errors.InvalidArgumentError) as e:
        sess.run(out)
    return str(e.value)


def test_missing_required_feature_names_key():
    msg = _run_error(BATCH, {"b": tf.FixedLenFeature([], tf.string)})
    assert msg.startswith("Name: <unknown>, Feature: b (data type: string) is required")
    msg = _run_error(BATCH, {"b": tf.FixedLenFeature([], tf.string)},
                     example_names=["a", "b", "third"])
    assert "Name: third" in msg
    # a Feature with no kind set counts as missing, as in TF
    assert "is required" in _run_error([_ex(x=None)], {"x": tf.FixedLenFeature([], tf.int64)})


def test_wrong_type_and_size_name_key_and_index():
    msg = _run_error(BATCH, {"i": tf.FixedLenFeature([], tf.float32)})
    assert msg == ("Name: <unknown>, Key: i, Index: 0.  Data types don't match. "
                   "Data type: int64 but expected type: float")
    msg = _run_error(BATCH, {"i": tf.VarLenFeature(tf.string)})
    assert "Key: i, Index: 0" in msg and "Expected type: string, Actual type: int64" in msg
    msg = _run_error(BATCH, {"v": tf.FixedLenFeature([3], tf.int64)})
    assert msg == ("Name: <unknown>, Key: v, Index: 1.  Number of int64 values != expected.  "
                   "Values size: 0 but output shape: [3]")
    msg = _run_error(BATCH, {"v": tf.FixedLenSequenceFeature([2], tf.int64,
                                                              allow_missing=True)})
    assert "Key: v, Index: 0" in msg and "not a multiple of stride length" in msg
    # an empty list of the wrong type is still a type error
    assert "Data types don't match" in _run_error(
        [_ex(f=[])], {"f": tf.VarLenFeature(tf.int64)})


def test_unparsable_record_is_invalid_argument():
    msg = _run_error([BATCH[0], b"\x0a\x05abc"], {"i": tf.VarLenFeature(tf.int64)})
    assert "Index: 1" in msg and "Could not parse example input" in msg


def test_build_time_errors():
    with pytest.raises(TypeError, match="int32"):
        tf.parse_example(BATCH, {"i": tf.FixedLenFeature([], tf.int32)})
    with pytest.raises(ValueError, match="allow_missing"):
        tf.parse_example(BATCH, {"i": tf.FixedLenSequenceFeature([], tf.int64)})
    with pytest.raises(ValueError, match="1 elements to shape \\[2\\]"):
        tf.parse_example(BATCH, {"i": tf.FixedLenFeature([2], tf.int64, default_value=7)})
    with pytest.raises(ValueError, match="rank 2"):
        tf.parse_example(tf.constant([BATCH]), {"i": tf.FixedLenFeature([], tf.int64)})
    with pytest.raises(ValueError):
        tf.parse_example(BATCH, {"i": tf.FixedLenFeature([None], tf.int64)})
    with pytest.raises(ValueError):
        tf.parse_example(BATCH, {})


def _seq():
    se = train.SequenceExample()
    se.context.feature["len"].int64_list.value.append(3)
    se.context.feature["name"].bytes_list.value.append(b"abc")
    tok = se.feature_lists.feature_list["tok"]
    for v in ([1, 2], [3], [4, 5, 6]):
        tok.feature.add().int64_list.value.extend(v)
    emb = se.feature_lists.feature_list["emb"]
    for v in ([1.0, 2.0], [3.0, 4.0], [5.0, 6.0]):
        emb.feature.add().float_list.value.extend(v)
    return se.SerializeToString()


def test_parse_single_sequence_example():
    ctx, seq = tf.parse_single_sequence_example(
        _seq(), context_features={"len": tf.FixedLenFeature([], tf.int64),
                                  "name": tf.VarLenFeature(tf.string),
                                  "opt": tf.FixedLenFeature([], tf.float32, default_value=2.5)},
        sequence_features={"tok": tf.VarLenFeature(tf.int64),
                           "emb": tf.FixedLenSequenceFeature([2], tf.float32),
                           "gone": tf.FixedLenSequenceFeature([], tf.int64, allow_missing=True),
                           "vgone": tf.VarLenFeature(tf.float32)})
    assert ctx["len"].shape.as_list() == [] and seq["emb"].shape.as_list() == [None, 2]
    assert seq["tok"].indices.shape.as_list() == [None, 2]
    with tf.Session() as sess:
        c, s = sess.run((ctx, seq))
    assert c["len"] == 3 and c["opt"] == np.float32(2.5)
    assert list(c["name"].values) == [b"abc"]
    np.testing.assert_array_equal(s["emb"], [[1, 2], [3, 4], [5, 6]])
    np.testing.assert_array_equal(s["tok"].indices,
                                  [[0, 0], [0, 1], [1, 0], [2, 0], [2, 1], [2, 2]])
    np.testing.assert_array_equal(s["tok"].values, [1, 2, 3, 4, 5, 6])
    np.testing.assert_array_equal(s["tok"].dense_shape, [3, 3])
    assert s["gone"].shape == (0,) and s["gone"].dtype == np.int64
    np.testing.assert_array_equal(s["vgone"].dense_shape, [0, 0])


@pytest.mark.parametrize("ctx_f,seq_f,match", [
    ({}, {"nope": tf.FixedLenSequenceFeature([2], tf.float32)},
     "Feature list 'nope' is required"),
    ({}, {"tok": tf.FixedLenSequenceFeature([], tf.int64)},
     "Key: tok, Index: 0.  Number of values != expected.  values size: 2"),
    ({}, {"emb": tf.FixedLenSequenceFeature([2], tf.int64)},
     "Feature list: emb, Index: 0.  Data types don't match. Expected type: int64"),
    ({"nope": tf.FixedLenFeature([], tf.int64)}, {}, "Feature: nope .* is required"),
])
def test_sequence_example_errors(ctx_f, seq_f, match):
    c, s = tf.parse_single_sequence_example(_seq(), ctx_f, seq_f)
    with tf.Session() as sess, pytest.raises(errors.InvalidArgumentError, match=match):
        sess.run((c, s))


def test_sequence_example_rejects_fixed_len_sequence_features():
    with pytest.raises(ValueError, match="FixedLenFeature"):
        tf.parse_single_sequence_example(_seq(), {}, {"tok": tf.FixedLenFeature([], tf.int64)})


@pytest.mark.timeout(60)
def test_fuzz_parser_only_raises_invalid_argument():
    rng = random.Random(99)
    ph = tf.placeholder(tf.string, [None])
    out = tf.parse_example(ph, {"i": tf.FixedLenFeature([], tf.int64, default_value=0),
                                "f": tf.VarLenFeature(tf.float32),
                                "b": tf.FixedLenSequenceFeature([], tf.string,
                                                                allow_missing=True)})
    seeds = [BATCH[0], BATCH[1], _ex(i=[5], f=[1.0], b=[b"q", b"r"])]
    with tf.Session() as sess:
        for n in range(300):
            if n % 3 == 0:
                data = bytes(rng.randrange(256) for _ in range(rng.randrange(0, 40)))
            else:
                b = bytearray(rng.choice(seeds))
                for _ in range(rng.randrange(1, 4)):
                    i = rng.randrange(len(b))
                    if rng.random() < 0.6:
                        b[i] ^= 1 << rng.randrange(8)
                    else:
                        del b[i:i + rng.randrange(1, 6)]
                data = bytes(b)
            try:
                sess.run(out, {ph: [data]})
            except errors.InvalidArgumentError:
                pass
