"""Array ops: values against numpy, static shapes and errors as TF 1.x gives
them (checked against tensorflow.compat.v1), `Tensor.__getitem__`, constant
folding of shape computations, and IndexedSlices."""
import warnings

import numpy as np
import pytest

import flowcore.compat.v1 as tf
from flowcore.ops import array
from flowcore.ops.core import constant_value

A = np.arange(24, dtype=np.float32).reshape(2, 3, 4)


def run(fetches, feed=None):
    with tf.Session() as sess:
        return sess.run(fetches, feed)


def shape_of(t):
    return None if t.shape.ndims is None else t.shape.as_list()


def assert_run_error(t, feed, message, cls=tf.errors.InvalidArgumentError):
    with pytest.raises(cls) as e:
        run(t, feed)
    assert message in str(e.value), str(e.value)
    return e.value


# -- shape, size, rank and filled tensors -------------------------------------------------

def test_shape_size_rank_fold_to_constants_when_static():
    a = tf.constant(A)
    s, n, r = tf.shape(a), tf.size(a), tf.rank(a)
    assert [t.op.type for t in (s, n, r)] == ["Const"] * 3
    assert [t.op.name for t in (s, n, r)] == ["Shape", "Size", "Rank"]
    p = tf.placeholder(tf.float32, [None, 6, 4])
    u = tf.placeholder(tf.float32)
    s, n, r = tf.shape(p), tf.size(p, out_type=tf.int64), tf.rank(u)
    assert [t.op.type for t in (s, n, r)] == ["Shape", "Size", "Rank"]
    assert shape_of(s) == [3] and n.dtype == tf.int64 and shape_of(r) == []
    x = np.zeros((2, 6, 4), np.float32)
    got = run([s, n, r], {p: x, u: np.zeros((1, 2))})
    assert got[0].tolist() == [2, 6, 4] and got[0].dtype == np.int32
    assert got[1] == 48 and got[1].dtype == np.int64 and got[2] == 2


def test_zeros_ones_like_and_fill():
    p = tf.placeholder(tf.float32, [None, 3])
    z, zi, o, oi = (tf.zeros_like(p), tf.zeros_like(p, dtype=tf.int32), tf.ones_like(p),
                    tf.ones_like(p, dtype=tf.int64))
    assert z.op.type == "ZerosLike" and z.op.name == "zeros_like"
    assert o.op.type == "Fill" and shape_of(o) == [None, 3] and oi.dtype == tf.int64
    zc = tf.zeros_like(tf.constant(A))
    assert zc.op.type == "Const" and shape_of(zc) == [2, 3, 4]
    assert tf.zeros_like(tf.constant(A), optimize=False).op.type == "ZerosLike"
    f = tf.fill([2, 3], 7.5)
    assert f.op.type == "Fill" and f.op.inputs[0].op.name == "Fill/dims"
    x = np.ones((2, 3), np.float32)
    got = run([z, zi, o, oi, f], {p: x})
    assert got[0].tolist() == np.zeros((2, 3)).tolist() and got[1].dtype == np.int32
    assert got[2].tolist() == x.tolist() and got[3].dtype == np.int64
    assert got[4].tolist() == np.full((2, 3), 7.5).tolist()


def test_zeros_ones_small_are_constants_big_are_fills():
    small, big = tf.zeros([2, 3], tf.int32), tf.ones([40, 30])
    assert small.op.type == "Const" and small.op.name == "zeros"
    assert big.op.type == "Fill" and big.op.name == "ones" and shape_of(big) == [40, 30]
    p = tf.placeholder(tf.float32, [None, 5])
    dyn = tf.ones(tf.shape(p))
    assert shape_of(dyn) == [None, 5]
    got = run([small, big, dyn], {p: np.zeros((2, 5))})
    assert got[0].dtype == np.int32 and not got[0].any()
    assert (got[1] == 1).all() and got[2].shape == (2, 5)


def test_range_dtype_inference_values_and_errors():
    cases = [(tf.range(5), np.arange(5, dtype=np.int32)),
             (tf.range(1, 5.5), np.arange(1, 5.5, dtype=np.float32)),
             (tf.range(10, 1, -3), np.arange(10, 1, -3, dtype=np.int32)),
             (tf.range(1, 10, 2, dtype=tf.float64), np.arange(1, 10, 2, dtype=np.float64)),
             (tf.range(0.0, 1.0, 0.3), np.arange(0.0, 1.0, 0.3, dtype=np.float32)),
             (tf.range(tf.constant(2, tf.int64), 7), np.arange(2, 7, dtype=np.int64))]
    got = run([t for t, _ in cases])
    for (t, want), g in zip(cases, got):
        assert t.op.type == "Range" and shape_of(t) == [len(want)] and t.dtype == want.dtype
        np.testing.assert_allclose(g, want)
        assert g.dtype == want.dtype
    assert cases[0][0].op.name == "range"
    assert [i.op.name for i in cases[0][0].op.inputs] == ["range/start", "range/limit",
                                                          "range/delta"]
    with pytest.raises(ValueError, match="Requires start <= limit when delta > 0: 5/1"):
        tf.range(5, 1)
    with pytest.raises(ValueError, match="Requires delta != 0"):
        tf.range(1, 5, 0)
    n = tf.placeholder(tf.int32, [])
    r = tf.range(n)
    assert shape_of(r) == [None]
    assert run(r, {n: 3}).tolist() == [0, 1, 2]
    assert_run_error(r, {n: -4}, "Requires start <= limit when delta > 0: 0/-4")


def test_linspace_and_eye():
    lin = tf.linspace(0., 1., 5)
    assert shape_of(lin) == [5] and lin.op.type == "LinSpace"
    e = tf.eye(3)
    e2 = tf.eye(2, 4, dtype=tf.int32)
    eb = tf.eye(2, 3, batch_shape=[2])
    assert shape_of(eb) == [2, 2, 3] and e2.dtype == tf.int32
    got = run([lin, e, e2, eb])
    np.testing.assert_allclose(got[0], np.linspace(0, 1, 5))
    assert got[1].tolist() == np.eye(3).tolist()
    assert got[2].tolist() == np.eye(2, 4, dtype=np.int32).tolist()
    assert got[3].tolist() == [np.eye(2, 3).tolist()] * 2


# -- reshape ---------------------------------------------------------------------------------

@pytest.mark.parametrize("target,static", [
    ([-1, 3], [None, 3]), ([3, -1], [3, None]), ([2, 3], [2, 3]), ([-1], [None]),
    ([-1, -1], [None, None]),
])
def test_reshape_static_shapes_with_unknown_dims(target, static):
    q = tf.placeholder(tf.float32, [None, 6])
    r = tf.reshape(q, target)
    assert r.op.type == "Reshape" and shape_of(r) == static


def test_reshape_infers_the_minus_one_from_known_sizes():
    q = tf.placeholder(tf.float32, [None, 28, 28])
    assert shape_of(tf.reshape(q, [-1, 784])) == [None, 784]
    assert shape_of(tf.reshape(q, [10, -1])) == [10, None]
    assert shape_of(tf.reshape(tf.constant(A), [-1, 2])) == [12, 2]
    assert shape_of(tf.reshape(tf.placeholder(tf.float32), [2, -1])) == [2, None]
    assert shape_of(tf.reshape(q, tf.placeholder(tf.int32, [3]))) == [None] * 3
    assert shape_of(tf.reshape(tf.constant([3.0]), [])) == []


def test_reshape_with_shapes_computed_from_shape_ops():
    p = tf.placeholder(tf.float32, [None, 6, 4])
    a = tf.constant(A)
    # an unknown entry and a -1 leave both dimensions unknown, as in TF
    assert shape_of(tf.reshape(p, [tf.shape(p)[0], -1])) == [None, None]
    assert shape_of(tf.reshape(p, [-1, tf.shape(p)[1] * 2])) == [None, 12]
    assert shape_of(tf.reshape(a, [tf.shape(a)[0], -1])) == [2, 12]
    assert shape_of(tf.reshape(p, tf.concat([[-1], tf.shape(p)[1:]], 0))) == [None, 6, 4]
    assert shape_of(tf.reshape(p, tf.stack([-1, tf.size(a)]))) == [None, 24]
    r = tf.reshape(p, [tf.shape(p)[0], 2, -1])
    x = np.arange(48, dtype=np.float32).reshape(2, 6, 4)
    assert run(r, {p: x}).tolist() == x.reshape(2, 2, 12).tolist()


def test_reshape_errors_at_build_and_run_time():
    a = tf.constant(A)
    with pytest.raises(ValueError, match=r"Cannot reshape a tensor with 24 elements to shape "
                                         r"\[5\] \(5 elements\)"):
        tf.reshape(a, [5])
    with pytest.raises(ValueError, match="Dimension size must be evenly divisible by 5 but is 24"):
        tf.reshape(a, [5, -1])
    with pytest.raises(TypeError, match="DataType float32 not in list of allowed values"):
        tf.reshape(a, [2.5, 3])
    p = tf.placeholder(tf.float32, [None, 6, 4])
    x = np.zeros((2, 6, 4), np.float32)
    err = assert_run_error(tf.reshape(p, [5, -1]), {p: x},
                           "Input to reshape is a tensor with 48 values, but the requested "
                           "shape requires a multiple of 5")
    assert err.op.type == "Reshape"
    s = tf.placeholder(tf.int32, [2])
    assert_run_error(tf.reshape(p, s), {p: x, s: [5, 5]},
                     "Input to reshape is a tensor with 48 values, but the requested shape "
                     "has 25")
    assert_run_error(tf.reshape(p, s), {p: x, s: [-1, -1]},
                     "Only one input size may be -1, not both 0 and 1")


# -- transpose, concat, stack, split ---------------------------------------------------------

def test_transpose():
    a = tf.constant(A)
    p = tf.placeholder(tf.float32, [None, 6, 4])
    u = tf.placeholder(tf.float32)
    t1, t2, t3, t4 = (tf.transpose(a), tf.transpose(p, [1, 0, 2]), tf.transpose(u),
                      tf.transpose(a, [-1, 0, 1]))
    assert t1.op.name == "transpose" and t1.op.inputs[1].op.name == "transpose/perm"
    assert shape_of(t1) == [4, 3, 2] and shape_of(t2) == [6, None, 4]
    assert shape_of(t3) is None and shape_of(t4) == [4, 2, 3]
    x = np.arange(48, dtype=np.float32).reshape(2, 6, 4)
    got = run([t1, t2, t3, t4], {p: x, u: x[0]})
    assert got[0].tolist() == A.T.tolist()
    assert got[1].tolist() == x.transpose(1, 0, 2).tolist()
    assert got[2].tolist() == x[0].T.tolist()
    assert got[3].tolist() == A.transpose(2, 0, 1).tolist()
    with pytest.raises(ValueError, match="Dimension must be 3 but is 2"):
        tf.transpose(p, [1, 0])
    with pytest.raises(ValueError, match="perm dim 3 is out of range of input rank 3"):
        tf.transpose(p, [1, 0, 3])
    assert run(tf.invert_permutation([2, 0, 1])).tolist() == [1, 2, 0]
    assert_run_error(tf.invert_permutation([2, 0, 0]), None, "0 is duplicated in the input.")


def test_concat_values_shapes_and_tf1_argument_order():
    a = tf.constant(A)
    p = tf.placeholder(tf.float32, [None, 6, 4])
    ax = tf.placeholder(tf.int32, [])
    c0, cn, c1, cp, cu = (tf.concat([a, a], 0), tf.concat([a, a], -1), tf.concat([a], 0),
                          tf.concat([p, p], 1), tf.concat([p, p], ax))
    assert c0.op.type == "ConcatV2" and c0.op.name == "concat"
    assert c1.op.type == "Identity"
    assert shape_of(c0) == [4, 3, 4] and shape_of(cn) == [2, 3, 8] and shape_of(c1) == [2, 3, 4]
    assert shape_of(cp) == [None, 12, 4] and shape_of(cu) == [None, None, None]
    mixed = tf.concat([a, np.ones((1, 3, 4), np.float32)], 0)
    assert shape_of(mixed) == [3, 3, 4]
    x = np.arange(48, dtype=np.float32).reshape(2, 6, 4)
    got = run([c0, cn, c1, cp, cu, mixed], {p: x, ax: 2})
    assert got[0].tolist() == np.concatenate([A, A], 0).tolist()
    assert got[1].tolist() == np.concatenate([A, A], -1).tolist()
    assert got[2].tolist() == A.tolist()
    assert got[3].tolist() == np.concatenate([x, x], 1).tolist()
    assert got[4].tolist() == np.concatenate([x, x], 2).tolist()
    assert got[5][2].tolist() == np.ones((3, 4)).tolist()


def test_concat_errors():
    a = tf.constant(A)
    p = tf.placeholder(tf.float32, [None, 6, 4])
    with pytest.raises(ValueError, match="Shape must be rank 3 but is rank 2"):
        tf.concat([a, p[0]], 0)
    with pytest.raises(ValueError, match="Dimension 0 in both shapes must be equal, but are 3 "
                                         "and 4"):
        tf.concat([a, tf.ones((2, 4, 4))], 0)
    with pytest.raises(ValueError, match="Shape must be at least rank 4 but is rank 3"):
        tf.concat([a, a], 3)
    with pytest.raises(TypeError):
        tf.concat([a, tf.constant([[[1]]])], 0)
    q = tf.placeholder_with_default(np.zeros((3, 5, 4), np.float32), [None, None, 4])
    assert_run_error(tf.concat([p, q], 0), {p: np.zeros((2, 6, 4))},
                     "ConcatOp : Dimension 1 in both shapes must be equal: shape[0] = [2,6,4] "
                     "vs. shape[1] = [3,5,4]")


def test_stack_unstack_and_tf0_aliases():
    a = tf.constant(A)
    p = tf.placeholder(tf.float32, [None, 6, 4])
    s0, sl, sc = tf.stack([a, a]), tf.stack([a, a], axis=-1), tf.stack([1, 2])
    assert s0.op.type == "Pack" and s0.op.name == "stack" and shape_of(s0) == [2, 2, 3, 4]
    assert shape_of(sl) == [2, 3, 4, 2] and sc.op.type == "Const"
    sm = tf.stack([a[0, 0, 0], 2.])
    assert sm.op.type == "Pack" and shape_of(sm) == [2]
    sp = tf.stack([p, tf.placeholder(tf.float32)], 1)
    assert shape_of(sp) == [None, 2, 6, 4]
    pk = tf.pack([a, a])
    assert pk.op.type == "Pack" and shape_of(pk) == [2, 2, 3, 4]
    us = tf.unstack(a)
    u1 = tf.unstack(p, axis=1)
    un = tf.unstack(a, axis=-1)
    assert len(us) == 2 and shape_of(us[0]) == [3, 4] and us[1].name == "unstack:1"
    assert len(u1) == 6 and shape_of(u1[0]) == [None, 4] and len(un) == 4
    assert len(tf.unpack(a)) == 2
    x = np.arange(48, dtype=np.float32).reshape(2, 6, 4)
    got = run([s0, sl, sc, sm, us, u1, un], {p: x})
    assert got[0].tolist() == np.stack([A, A]).tolist()
    assert got[1].tolist() == np.stack([A, A], -1).tolist()
    assert got[2].tolist() == [1, 2] and got[3].tolist() == [0.0, 2.0]
    assert [g.tolist() for g in got[4]] == [A[0].tolist(), A[1].tolist()]
    assert got[5][3].tolist() == x[:, 3].tolist() and got[6][2].tolist() == A[..., 2].tolist()
    with pytest.raises(ValueError, match=r"Argument `axis` = 4 not in range \[-4, 4\)"):
        tf.stack([a, a], 4)
    with pytest.raises(ValueError, match="Shapes must be equal rank, but are 3 and 1"):
        tf.stack([a, tf.ones((3,))])
    with pytest.raises(ValueError, match="Dimension 2 in both shapes must be equal"):
        tf.stack([a, tf.ones((2, 3, 5))])
    with pytest.raises(ValueError, match="Cannot infer argument `num` from shape"):
        tf.unstack(p)
    assert_run_error(tf.unstack(p, num=3)[0], {p: x},
                     "Input shape axis 0 must equal 3, got shape [2,6,4]")


def test_split_by_count_and_by_sizes():
    a = tf.constant(A)
    p = tf.placeholder(tf.float32, [None, 6, 4])
    s3 = tf.split(a, 3, 1)
    sv = tf.split(a, [1, -1], 1)
    sp = tf.split(p, [1, 2, 3], 1)
    sz = tf.placeholder(tf.int32, [2])
    sd = tf.split(p, sz, 1)
    assert [t.op.type for t in (s3[0], sv[0])] == ["Split", "SplitV"]
    assert s3[0].op.name == "split" and s3[0].op.inputs[0].op.name == "split/split_dim"
    assert [shape_of(t) for t in s3] == [[2, 1, 4]] * 3
    assert [shape_of(t) for t in sv] == [[2, 1, 4], [2, 2, 4]]
    assert [shape_of(t) for t in sp] == [[None, 1, 4], [None, 2, 4], [None, 3, 4]]
    assert [shape_of(t) for t in sd] == [[None, None, 4]] * 2
    x = np.arange(48, dtype=np.float32).reshape(2, 6, 4)
    got = run([s3, sv, sp, sd, tf.split(a, 2, -1)], {p: x, sz: [2, 4]})
    assert [g.tolist() for g in got[0]] == [v.tolist() for v in np.split(A, 3, 1)]
    assert [g.tolist() for g in got[1]] == [A[:, :1].tolist(), A[:, 1:].tolist()]
    assert [g.tolist() for g in got[2]] == [v.tolist() for v in np.split(x, [1, 3], 1)]
    assert [g.tolist() for g in got[3]] == [x[:, :2].tolist(), x[:, 2:].tolist()]
    assert [g.tolist() for g in got[4]] == [v.tolist() for v in np.split(A, 2, -1)]
    with pytest.raises(ValueError, match="Dimension size must be evenly divisible by 2 but is 3"):
        tf.split(a, 2, 1)
    with pytest.raises(ValueError, match=r"can't split axis of size 3 into pieces of size \[1,1\]"):
        tf.split(a, [1, 1], 1)
    with pytest.raises(ValueError, match="size_splits can only have one -1"):
        tf.split(a, [-1, -1, 1], 1)
    with pytest.raises(ValueError, match="Cannot infer argument `num`"):
        tf.split(p, tf.placeholder(tf.int32, [None]), 1)
    assert_run_error(tf.split(p, 3, 0)[0], {p: x}, "Number of ways to split should evenly "
                     "divide the split dimension, but got split_dim 0 (size = 2) and num_split 3")


def test_expand_dims_and_squeeze():
    a = tf.constant(A)
    e0, en, ed = tf.expand_dims(a, 0), tf.expand_dims(a, -1), tf.expand_dims(a, dim=1)
    assert e0.op.name == "ExpandDims" and e0.op.inputs[1].op.name == "ExpandDims/dim"
    assert [shape_of(t) for t in (e0, en, ed)] == [[1, 2, 3, 4], [2, 3, 4, 1], [2, 1, 3, 4]]
    with pytest.raises(ValueError, match=r"dim 4 not in the interval \[-4, 3\]"):
        tf.expand_dims(a, 4)
    with pytest.raises(ValueError, match="Cannot specify both 'dim' and 'axis'"):
        tf.expand_dims(a, 1, dim=1)
    s = tf.placeholder(tf.float32, [1, None, 3, 1])
    q, q0, q1, qn = (tf.squeeze(s), tf.squeeze(s, [0]), tf.squeeze(s, [1]),
                     tf.squeeze(s, squeeze_dims=[-1]))
    assert shape_of(q) is None and shape_of(q0) == [None, 3, 1]
    assert shape_of(q1) == [1, 3, 1] and shape_of(qn) == [1, None, 3]
    assert shape_of(tf.squeeze(tf.ones([1, 2, 1]))) == [2]
    with pytest.raises(ValueError, match=r"Can not squeeze dim\[2\], expected a dimension of 1, "
                                         r"got 3"):
        tf.squeeze(s, [2])
    with pytest.raises(ValueError, match=r"squeeze_dims\[0\] not in \[-4,4\)"):
        tf.squeeze(s, [4])
    x = np.arange(6, dtype=np.float32).reshape(1, 2, 3, 1)
    got = run([e0, en, q, q0, qn], {s: x})
    assert got[0].shape == (1, 2, 3, 4) and got[1].shape == (2, 3, 4, 1)
    assert got[2].tolist() == x.reshape(2, 3).tolist() and got[3].shape == (2, 3, 1)
    assert got[4].shape == (1, 2, 3)
    assert_run_error(q1, {s: np.zeros((1, 3, 3, 1))},
                     "Can not squeeze dim[1], expected a dimension of 1, got 3")


# -- slicing -------------------------------------------------------------------------------

def test_slice():
    p = tf.placeholder(tf.float32, [None, 6, 4])
    a = tf.constant(A)
    s1, s2 = tf.slice(p, [0, 1, 0], [-1, 2, -1]), tf.slice(a, [1, 0, 1], [1, -1, 2])
    b = tf.placeholder(tf.int32, [3])
    s3, s4 = tf.slice(p, b, [1, 2, -1]), tf.slice(p, [1, 2, 3], b)
    assert s1.op.type == "Slice" and s1.op.name == "Slice"
    assert shape_of(s1) == [None, 2, 4] and shape_of(s2) == [1, 3, 2]
    assert shape_of(s3) == [1, 2, None] and shape_of(s4) == [None, None, None]
    with pytest.raises(ValueError, match="Shape must be rank 1 but is rank 3"):
        tf.slice(a, [0], [1])
    x = np.arange(48, dtype=np.float32).reshape(2, 6, 4)
    got = run([s1, s2, s3, s4], {p: x, b: [1, 1, 1]})
    assert got[0].tolist() == x[:, 1:3].tolist() and got[1].tolist() == A[1:2, :, 1:3].tolist()
    assert got[2].tolist() == x[1:2, 1:3, 1:].tolist()
    assert got[3].tolist() == x[1:2, 2:3, 3:4].tolist()
    assert_run_error(tf.slice(p, [0, 5, 0], [-1, 2, -1]), {p: x},
                     "Expected size[1] in [0, 1], but got 2")
    assert_run_error(tf.slice(p, [3, 0, 0], [-1, 2, -1]), {p: x},
                     "Expected begin[0] in [0, 2], but got 3")


GETITEM = [
    # (expression on p [?, 6, 4], TF's static shape)
    (lambda p: p[0], [6, 4]),
    (lambda p: p[:, 1], [None, 4]),
    (lambda p: p[1:3], [None, 6, 4]),
    (lambda p: p[..., 2], [None, 6]),
    (lambda p: p[:, None, 2:], [None, 1, 4, 4]),
    (lambda p: p[::-1, ::2], [None, 3, 4]),
    (lambda p: p[:, :2, 1:3], [None, 2, 2]),
    (lambda p: p[:, -10:10], [None, 6, 4]),
    (lambda p: p[:, 7:], [None, 0, 4]),
    (lambda p: p[:, 5:2], [None, 0, 4]),
    (lambda p: p[:, 5:2:-1], [None, 3, 4]),
    (lambda p: p[-1, -2, -3], []),
    (lambda p: p[..., None], [None, 6, 4, 1]),
    (lambda p: p[None, ..., 0, None], [1, None, 6, 1]),
    (lambda p: p[:, ::-2, ::-3], [None, 3, 2]),
    (lambda p: p[:, 4:-7:-1], [None, 5, 4]),
    (lambda p: p[1, ..., 1:], [6, 3]),
    (lambda p: p[tf.newaxis, 0], [1, 6, 4]),
    (lambda p: p[tf.constant(1)], [6, 4]),
]


@pytest.mark.parametrize("i", range(len(GETITEM)))
def test_getitem_forms_match_numpy_and_tf_static_shapes(i):
    expr, static = GETITEM[i]
    p = tf.placeholder(tf.float32, [None, 6, 4])
    t = expr(p)
    assert t.op.type == "StridedSlice" and shape_of(t) == static
    x = np.arange(48, dtype=np.float32).reshape(2, 6, 4)
    want = expr(x) if i != len(GETITEM) - 1 else x[1]
    assert run(t, {p: x}).tolist() == np.asarray(want).tolist()


def test_getitem_names_and_packed_spec():
    p = tf.placeholder(tf.float32, [None, 6, 4])
    t = p[1:]
    assert t.op.name == "strided_slice"
    assert [i.op.name for i in t.op.inputs[1:]] == ["strided_slice/stack",
                                                    "strided_slice/stack_1",
                                                    "strided_slice/stack_2"]
    assert p[0].op.name == "strided_slice_1"
    assert t.op.get_attr("begin_mask") == 0 and t.op.get_attr("end_mask") == 1
    assert p[..., None, 2].op.get_attr("ellipsis_mask") == 1
    assert p[:, None, 2].op.get_attr("new_axis_mask") == 2
    assert p[:, None, 2].op.get_attr("shrink_axis_mask") == 4


def test_getitem_with_tensor_indices():
    p = tf.placeholder(tf.float32, [None, 6, 4])
    i = tf.placeholder(tf.int32, [])
    j = tf.placeholder(tf.int64, [])
    a, b, c, d = p[:, i], p[:, i:], p[:, :i, 1], p[:, j]
    assert shape_of(a) == [None, 4] and shape_of(b) == [None, None, 4]
    assert shape_of(c) == [None, None] and shape_of(d) == [None, 4]
    assert b.op.inputs[1].op.type == "Pack"
    x = np.arange(48, dtype=np.float32).reshape(2, 6, 4)
    got = run([a, b, c, d], {p: x, i: 3, j: 2})
    assert got[0].tolist() == x[:, 3].tolist() and got[1].tolist() == x[:, 3:].tolist()
    assert got[2].tolist() == x[:, :3, 1].tolist() and got[3].tolist() == x[:, 2].tolist()
    assert_run_error(a, {p: x, i: 9}, "slice index 9 of dimension 1 out of bounds.")
    assert_run_error(p[i], {p: x, i: -3}, "slice index -1 of dimension 0 out of bounds.")


def test_getitem_errors_and_unknown_shapes():
    p = tf.placeholder(tf.float32, [None, 6, 4])
    with pytest.raises(ValueError, match="Index out of range using input dim 3; input has only "
                                         "3 dims"):
        p[:, :, :, 1]
    with pytest.raises(ValueError, match="slice index 7 of dimension 1 out of bounds"):
        p[:, 7]
    with pytest.raises(TypeError, match="Only integers, slices"):
        p[:, 1.5]
    with pytest.raises(ValueError, match=r"strides\[1\] must be non-zero"):
        p[:, ::0]
    u = tf.placeholder(tf.float32)
    assert shape_of(u[0]) is None
    q = tf.placeholder(tf.float32, [None, None])
    assert [shape_of(t) for t in (q[2:5], q[1], q[::2, 3])] == [[None, None], [None], [None]]
    got = run([u[0], q[2:5], q[::2, 3]], {u: np.arange(6.).reshape(2, 3),
                                           q: np.arange(30.).reshape(5, 6)})
    assert got[0].tolist() == [0, 1, 2] and got[1].shape == (3, 6)
    assert got[2].tolist() == [3, 15, 27]


def test_getitem_on_variables_and_bool_mask():
    v = tf.Variable(np.arange(6.0).reshape(2, 3))
    m = tf.constant(A)[tf.constant([True, False])]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert sess.run(v[1, 1:]).tolist() == [4.0, 5.0]
        assert sess.run(m).tolist() == A[:1].tolist()


def test_strided_slice_raw_masks():
    p = tf.placeholder(tf.float32, [None, 6, 4])
    b = tf.placeholder(tf.int32, [2])
    t1 = tf.strided_slice(p, [0], [1], [1], shrink_axis_mask=1, new_axis_mask=1)
    t2 = tf.strided_slice(p, [0, 0], [1, 1], [1, 1], shrink_axis_mask=2, ellipsis_mask=1)
    t3 = tf.strided_slice(p, b, [1, 1], [1, 1], shrink_axis_mask=2, begin_mask=1, end_mask=1)
    t4 = tf.strided_slice(p, [0, 0], [2, 5], b)
    t5 = tf.strided_slice(p, [0, 1], [2, 5])
    assert t1.op.name == "StridedSlice"
    assert [shape_of(t) for t in (t1, t2, t3, t4, t5)] == [
        [1, None, 6, 4], [None, 6], [None, 4], None, [None, 4, 4]]
    x = np.arange(48, dtype=np.float32).reshape(2, 6, 4)
    got = run([t1, t2, t3, t4, t5], {p: x, b: [1, 1]})
    assert got[0].tolist() == x[None].tolist() and got[1].tolist() == x[..., 0].tolist()
    assert got[2].tolist() == x[:, 1].tolist() and got[3].tolist() == x[0:2, 0:5].tolist()
    assert got[4].tolist() == x[0:2, 1:5].tolist()


# -- gather family ---------------------------------------------------------------------------

def _gather_inputs():
    par = tf.placeholder(tf.float32, [5, 3])
    idx = tf.placeholder(tf.int32, [None])
    idx2 = tf.placeholder(tf.int32, [None, None])
    x = np.arange(15, dtype=np.float32).reshape(5, 3)
    return par, idx, idx2, {par: x, idx: [4, 0, 2, 2], idx2: [[0, 1], [2, 1]]}, x


def test_gather_values_shapes_and_names():
    par, idx, idx2, feed, x = _gather_inputs()
    g0, g2, ga, gs, gn = (tf.gather(par, idx), tf.gather(par, idx2),
                          tf.gather(par, idx2, axis=1), tf.gather(par, 2),
                          tf.gather(par, [0, 1], axis=-1))
    assert g0.op.type == "GatherV2" and g0.op.name == "GatherV2"
    assert g0.op.inputs[2].op.name == "GatherV2/axis"
    assert [shape_of(t) for t in (g0, g2, ga, gs, gn)] == [
        [None, 3], [None, None, 3], [5, None, None], [3], [5, 2]]
    got = run([g0, g2, ga, gs, gn], feed)
    assert got[0].tolist() == x[[4, 0, 2, 2]].tolist()
    assert got[1].tolist() == x[[[0, 1], [2, 1]]].tolist()
    assert got[2].tolist() == np.take(x, [[0, 1], [2, 1]], axis=1).tolist()
    assert got[3].tolist() == x[2].tolist() and got[4].tolist() == x[:, :2].tolist()


def test_gather_out_of_range_names_the_index():
    par, idx, idx2, feed, x = _gather_inputs()
    err = assert_run_error(tf.gather(par, idx), {**feed, idx: [0, 1, 2, 7]},
                           "indices[3] = 7 is not in [0, 5)")
    assert err.op.type == "GatherV2"
    assert_run_error(tf.gather(par, idx), {**feed, idx: [0, -1]},
                     "indices[1] = -1 is not in [0, 5)")
    assert_run_error(tf.gather(par, idx2), {**feed, idx2: [[0, 1], [2, 9]]},
                     "indices[1,1] = 9 is not in [0, 5)")
    assert_run_error(tf.gather(par, idx2, axis=1), {**feed, idx2: [[0, 1], [2, 9]]},
                     "indices[1,1] = 9 is not in [0, 3)")
    with pytest.raises(ValueError, match="Shape must be at least rank 3 but is rank 2"):
        tf.gather(par, [0], axis=2)


def test_gather_batch_dims():
    x = np.arange(24.).reshape(2, 3, 4)
    i = np.array([[0, 2, 1], [3, 3, 0]])
    t1 = tf.gather(tf.constant(x), i, axis=2, batch_dims=1)
    t2 = tf.gather(tf.constant(x), [[0, 1], [2, 0]], axis=1, batch_dims=1)
    assert shape_of(t1) == [2, 3, 3] and shape_of(t2) == [2, 2, 4]
    got = run([t1, t2])
    assert got[0].tolist() == np.stack([x[b][:, i[b]] for b in range(2)]).tolist()
    assert got[1].tolist() == np.stack([x[0][[0, 1]], x[1][[2, 0]]]).tolist()


def test_gather_nd_and_scatter_nd():
    par, _, _, feed, x = _gather_inputs()
    gi = tf.placeholder(tf.int32, [None, 2])
    t1, t2 = tf.gather_nd(par, gi), tf.gather_nd(par, [[1], [2]])
    assert shape_of(t1) == [None] and shape_of(t2) == [2, 3]
    sc = tf.scatter_nd([[1], [3], [1]], [[1., 2.], [3., 4.], [5., 6.]], [5, 2])
    assert shape_of(sc) == [5, 2]
    got = run([t1, t2, sc], {**feed, gi: [[0, 1], [4, 2]]})
    assert got[0].tolist() == [x[0, 1], x[4, 2]] and got[1].tolist() == x[1:3].tolist()
    assert got[2].tolist() == [[0, 0], [6, 8], [0, 0], [3, 4], [0, 0]]
    assert_run_error(t1, {**feed, gi: [[0, 1], [5, 0]]},
                     "indices[1] = [5, 0] does not index into param shape [5,3]")
    with pytest.raises(ValueError, match=r"indices.shape\[-1\] must be <= params.rank"):
        tf.gather_nd(par, [[1, 2, 3]])


def test_one_hot():
    idx = tf.placeholder(tf.int32, [None])
    t1, t2, t3 = (tf.one_hot(idx, 4), tf.one_hot(idx, 3, on_value=5, off_value=-1),
                  tf.one_hot(idx, 3, dtype=tf.int64))
    assert t1.op.type == "OneHot" and t1.op.name == "one_hot"
    assert [i.op.name for i in t1.op.inputs[1:]] == ["one_hot/depth", "one_hot/on_value",
                                                     "one_hot/off_value"]
    assert shape_of(t1) == [None, 4] and t1.dtype == tf.float32
    assert t2.dtype == tf.int32 and t3.dtype == tf.int64
    t4 = tf.one_hot([[0, 3], [2, 1]], 4, axis=1)
    t5 = tf.one_hot([0, 3, -1, 1], 3, axis=0)
    assert shape_of(t4) == [2, 4, 2] and shape_of(t5) == [3, 4]
    got = run([t1, t2, t4, t5], {idx: [0, 2, 5]})
    assert got[0].tolist() == [[1, 0, 0, 0], [0, 0, 1, 0], [0, 0, 0, 0]]
    assert got[1].tolist() == [[5, -1, -1], [-1, -1, 5], [-1, -1, -1]]
    assert got[2].tolist() == np.eye(4)[[[0, 3], [2, 1]]].transpose(0, 2, 1).tolist()
    assert got[3].tolist() == [[1, 0, 0, 0], [0, 0, 0, 1], [0, 0, 0, 0]]
    with pytest.raises(TypeError, match="dtype .* of on_value does not match dtype"):
        tf.one_hot([0], 3, on_value=1.0, off_value=np.int32(0))
    with pytest.raises(TypeError, match="of on_value does not match dtype parameter"):
        tf.one_hot([0], 3, on_value=1.0, dtype=tf.int32)


def test_tile_pad_reverse():
    p = tf.placeholder(tf.float32, [None, 6, 4])
    x = np.arange(48, dtype=np.float32).reshape(2, 6, 4)
    m = tf.placeholder(tf.int32, [3])
    t, tm = tf.tile(p, [2, 1, 3]), tf.tile(p, m)
    assert shape_of(t) == [None, 6, 12] and shape_of(tm) == [None, None, None]
    pads = [[1, 1], [2, 0], [0, 3]]
    p0, p1 = tf.pad(p, pads), tf.pad(p, pads, constant_values=3)
    pr, ps = tf.pad(p, [[1, 1], [2, 0], [0, 3]], "REFLECT"), tf.pad(p, pads, "symmetric")
    assert [t_.op.type for t_ in (p0, p1, pr, ps)] == ["Pad", "PadV2", "MirrorPad", "MirrorPad"]
    assert [shape_of(t_) for t_ in (p0, p1, pr, ps)] == [[None, 8, 7]] * 4
    r1, r2 = tf.reverse(p, [1]), tf.reverse(p, [-1, 0])
    assert r1.op.type == "ReverseV2" and shape_of(r1) == [None, 6, 4]
    got = run([t, tm, p0, p1, pr, ps, r1, r2], {p: x, m: [1, 2, 1]})
    assert got[0].tolist() == np.tile(x, [2, 1, 3]).tolist()
    assert got[1].tolist() == np.tile(x, [1, 2, 1]).tolist()
    assert got[2].tolist() == np.pad(x, pads).tolist()
    assert got[3].tolist() == np.pad(x, pads, constant_values=3).tolist()
    assert got[4].tolist() == np.pad(x, pads, "reflect").tolist()
    assert got[5].tolist() == np.pad(x, pads, "symmetric").tolist()
    assert got[6].tolist() == x[:, ::-1].tolist() and got[7].tolist() == x[::-1, :, ::-1].tolist()
    with pytest.raises(ValueError, match="Shape must be rank 3 but is rank 2"):
        tf.tile(p, [2, 2])
    with pytest.raises(ValueError, match="Value of argument `mode` expected to be one of"):
        tf.pad(p, pads, "FOO")
    with pytest.raises(ValueError, match="Paddings must be non-negative"):
        tf.pad(p, [[1, -1], [2, 0], [0, 0]])
    assert_run_error(pr, {p: x[:1]}, "paddings must be less than the dimension size: 1, 1 not "
                     "less than 1")
    with pytest.raises(ValueError, match="axis 1 specified more than once"):
        tf.reverse(p, [1, 1])


def test_boolean_mask_and_where():
    d = tf.placeholder(tf.float32, [None, 3])
    m = tf.placeholder(tf.bool, [None])
    t = tf.boolean_mask(d, m)
    assert t.op.name == "boolean_mask/GatherV2" and shape_of(t) == [None, 3]
    x3 = np.arange(24).reshape(2, 3, 4)
    mask2 = np.array([[True, False, True], [False, True, False]])
    t2 = tf.boolean_mask(tf.constant(x3), mask2)
    t3 = tf.boolean_mask(tf.constant(x3), np.array([True, False, True]), axis=1)
    assert shape_of(t2) == [None, 4] and shape_of(t3) == [2, None, 4]
    w = tf.where(m)
    assert w.op.type == "Where" and w.dtype == tf.int64 and shape_of(w) == [None, 1]
    x = np.arange(12, dtype=np.float32).reshape(4, 3)
    mv = [True, False, True, True]
    got = run([t, t2, t3, w], {d: x, m: mv})
    assert got[0].tolist() == x[mv].tolist() and got[1].tolist() == x3[mask2].tolist()
    assert got[2].tolist() == x3[:, [0, 2]].tolist() and got[3].tolist() == [[0], [2], [3]]
    with pytest.raises(ValueError, match="mask cannot be scalar"):
        tf.boolean_mask(d, True)
    with pytest.raises(ValueError, match="Number of mask dimensions must be specified"):
        tf.boolean_mask(d, tf.placeholder(tf.bool))


def test_unsorted_segment_sum():
    d = tf.placeholder(tf.float32, [None, 3])
    ids = tf.placeholder(tf.int32, [None])
    t = tf.unsorted_segment_sum(d, ids, 4)
    ids2 = tf.placeholder(tf.int32, [None, None])
    t2 = tf.unsorted_segment_sum(d, ids2, 4)
    assert shape_of(t) == [4, 3] and shape_of(t2) == [4]
    t3 = tf.unsorted_segment_sum(tf.constant([[1, 2], [3, 4], [5, 6]]), [1, 0, 1], 2)
    x = np.arange(12, dtype=np.float32).reshape(4, 3)
    got = run([t, t2, t3], {d: x, ids: [0, -1, 3, 0],
                            ids2: [[0, 1, 1], [2, 2, 0], [0, 0, 0], [1, 2, 3]]})
    assert got[0].tolist() == [(x[0] + x[3]).tolist(), [0] * 3, [0] * 3, x[2].tolist()]
    want = np.zeros(4)
    np.add.at(want, np.array([[0, 1, 1], [2, 2, 0], [0, 0, 0], [1, 2, 3]]), x)
    assert got[1].tolist() == want.tolist()
    assert got[2].tolist() == [[3, 4], [6, 8]] and got[2].dtype == np.int32
    assert_run_error(t, {d: np.ones((3, 3)), ids: [0, 5, 3]},
                     "segment_ids[1] = 5 is out of range [0, 4)")
    assert_run_error(t, {d: np.ones((3, 3)), ids: [0, 1]},
                     "data.shape = [3,3] does not start with segment_ids.shape = [2]")


def test_sparse_to_dense_and_sparse_tensor_to_dense():
    si = tf.placeholder(tf.int64, [None, 2])
    t = tf.sparse_to_dense(si, [3, 4], 1.0)
    v = tf.placeholder(tf.float32, [None])
    t2 = tf.sparse_to_dense(si, [3, 4], v, 0.5)
    t3, t4 = tf.sparse_to_dense([1, 2], [5], 7), tf.sparse_to_dense(3, [5], 7)
    assert t.op.type == "SparseToDense" and shape_of(t) == [3, 4] and shape_of(t3) == [5]
    sp = tf.SparseTensor([[0, 1], [2, 3]], [1., 2.], [3, 4])
    d = tf.sparse_tensor_to_dense(sp)
    assert shape_of(d) == [3, 4]
    got = run([t, t2, t3, t4, d], {si: [[0, 1], [2, 3]], v: [5., 6.]})
    want = np.zeros((3, 4))
    want[0, 1] = want[2, 3] = 1
    assert got[0].tolist() == want.tolist()
    assert got[1][0, 1] == 5 and got[1][2, 3] == 6 and got[1][1, 1] == 0.5
    assert got[2].tolist() == [0, 7, 7, 0, 0] and got[3].tolist() == [0, 0, 0, 7, 0]
    assert got[4].tolist() == (want * [[1], [1], [2]]).tolist()
    assert_run_error(t, {si: [[0, 1], [0, 5]]},
                     "indices[1] = [0,5] is out of bounds: need 0 <= index < [3,4]")
    assert_run_error(t, {si: [[1, 1], [0, 2]]}, "indices[1] = [0,2] is out of order")
    assert_run_error(t, {si: [[1, 1], [1, 1]]}, "indices[1] = [1,1] is repeated")
    unchecked = tf.sparse_to_dense(si, [3, 4], 1.0, validate_indices=False)
    assert run(unchecked, {si: [[1, 1], [0, 2]]}).sum() == 2


def test_dynamic_partition_and_stitch():
    d = tf.placeholder(tf.float32, [None, 3])
    ids = tf.placeholder(tf.int32, [None])
    parts = tf.dynamic_partition(d, ids, 3)
    assert [shape_of(t) for t in parts] == [[None, 3]] * 3
    st = tf.dynamic_stitch([[0, 2], [1, 3]], [tf.ones((2, 3)), tf.zeros((2, 3))])
    assert shape_of(st) == [4, 3]
    x = np.arange(12, dtype=np.float32).reshape(4, 3)
    got = run([parts, st], {d: x, ids: [2, 0, 2, 1]})
    assert [g.tolist() for g in got[0]] == [x[[1]].tolist(), x[[3]].tolist(),
                                            x[[0, 2]].tolist()]
    assert got[1].tolist() == [[1] * 3, [0] * 3, [1] * 3, [0] * 3]
    assert_run_error(parts[0], {d: x, ids: [0, 4, 0, 0]}, "partitions[1] = 4 is not in [0, 3)")


def test_broadcast_to_and_string_tensors():
    b = tf.broadcast_to([1., 2.], [3, 2])
    assert shape_of(b) == [3, 2]
    s = tf.constant([["a", "b"], ["c", "d"]])
    outs = [tf.reshape(s, [-1]), tf.transpose(s), s[0], tf.gather(s, [1, 0]),
            tf.concat([s, s], 1), tf.pad(s, [[1, 0], [0, 0]]), tf.reverse(s, [0])]
    got = run([b] + outs)
    assert got[0].tolist() == [[1, 2]] * 3
    assert got[1].tolist() == [b"a", b"b", b"c", b"d"]
    assert got[2].tolist() == [[b"a", b"c"], [b"b", b"d"]] and got[3].tolist() == [b"a", b"b"]
    assert got[4].tolist() == [[b"c", b"d"], [b"a", b"b"]]
    assert got[6].tolist() == [[b"", b""], [b"a", b"b"], [b"c", b"d"]]


# -- constant folding and autopacking -------------------------------------------------------

def test_shape_computations_fold_at_build_time():
    p = tf.placeholder(tf.float32, [None, 6, 4])
    s = tf.shape(p)
    assert constant_value(s) is None
    assert constant_value(s[1]).tolist() == 6
    assert constant_value(s[1:]).tolist() == [6, 4]
    assert constant_value(s[0]) is None
    assert constant_value(tf.stack([s[1], s[2]])).tolist() == [6, 4]
    assert constant_value(tf.concat([[1], s[1:]], 0)).tolist() == [1, 6, 4]
    assert constant_value(tf.size(tf.constant(A))).tolist() == 24
    assert constant_value(tf.reshape(tf.constant([1, 2, 3, 4]), [2, 2])).tolist() == \
        [[1, 2], [3, 4]]
    assert constant_value(tf.range(3)).tolist() == [0, 1, 2]
    assert array.constant_value_as_shape(tf.stack([s[0], 3])).as_list() == [None, 3]
    assert array.constant_value_as_shape(s).as_list() == [None, 6, 4]


def test_lists_with_tensors_are_packed():
    p = tf.placeholder(tf.float32, [None, 6])
    r = tf.reshape(p, [tf.shape(p)[0], 2, 3])
    assert r.op.inputs[1].op.type == "Pack" and shape_of(r) == [None, 2, 3]
    z = tf.zeros([tf.shape(p)[0], 2])
    assert shape_of(z) == [None, 2]
    got = run([r, z], {p: np.arange(12.).reshape(2, 6)})
    assert got[0].tolist() == np.arange(12.).reshape(2, 2, 3).tolist()
    assert got[1].shape == (2, 2)


# -- gradients when static shapes are unknown ---------------------------------------------------
# (tests/gradcases_array.py checks every op with fully known shapes; these
# take the other branches of the gradient functions: Shape ops, unknown rank)

UNKNOWN_SHAPE_GRADS = [
    ("tile", lambda x: tf.tile(x, [2, 3]), None),
    ("pad", lambda x: tf.pad(x, [[1, 2], [0, 1]]), None),
    ("mirror_pad", lambda x: tf.pad(x, [[1, 1], [2, 1]], "REFLECT"), [None, None]),
    ("slice", lambda x: tf.slice(x, [1, 0], [-1, 2]), None),
    ("strided_slice", lambda x: x[1:, ::-2], None),
    ("concat_tensor_axis", lambda x: tf.concat([x, x * 2.0],
                                                tf.placeholder_with_default(1, [])), [None, None]),
    ("gather", lambda x: tf.gather(x, [2, 0, 2]), None),
    ("gather_axis1", lambda x: tf.gather(x, [2, 0, 2], axis=1), [None, None]),
    ("gather_unknown_indices",
     lambda x: tf.gather(x, tf.placeholder_with_default([2, 0, 2], [None])), [None, None]),
    ("splitv", lambda x: tf.split(x, [1, -1], 1)[1], [None, None]),
    ("boolean_mask", lambda x: tf.boolean_mask(x, [True, False, True]), [None, None]),
    ("unsorted_segment_sum", lambda x: tf.unsorted_segment_sum(x, [1, -1, 1], 3), [None, None]),
]


@pytest.mark.parametrize("name,build,ph_shape", UNKNOWN_SHAPE_GRADS,
                         ids=[c[0] for c in UNKNOWN_SHAPE_GRADS])
def test_gradients_with_unknown_static_shapes(name, build, ph_shape):
    from flowcore import gradient_checker
    x = tf.placeholder(tf.float64, ph_shape)
    y = build(x)
    xv = np.random.RandomState(5).uniform(-1, 1, (3, 4))
    with warnings.catch_warnings():
        warnings.simplefilter("error")     # Reshape's gradient densifies silently
        with tf.Session():
            y_shape = run(y, {x: xv}).shape
            theo, num = gradient_checker.compute_gradient(x, (3, 4), y, y_shape,
                                                          x_init_value=xv)
    np.testing.assert_allclose(theo, num, rtol=1e-6, atol=1e-6)


# -- IndexedSlices ---------------------------------------------------------------------------

def test_indexed_slices_attributes_and_densification():
    values = tf.constant([[1., 2.], [3., 4.], [5., 6.]])
    indices = tf.constant([2, 0, 2])
    sl = tf.IndexedSlices(values, indices, tf.constant([4, 2]))
    assert sl.dtype == tf.float32 and sl.name == values.name and sl.op is values.op
    assert sl.graph is values.graph and sl.device == values.device
    assert sl.shape.as_list() == [4, 2]
    assert "IndexedSlices(indices=" in str(sl)
    dense = tf.convert_to_tensor(sl)
    assert dense.op.type == "UnsortedSegmentSum" and shape_of(dense) == [4, 2]
    doubled = tf.multiply(sl, 2.0)
    got = run([dense, tf.identity(sl), doubled, (-sl).values])
    assert got[0].tolist() == [[3, 4], [0, 0], [6, 8], [0, 0]]
    assert got[1].tolist() == got[0].tolist() and got[2].tolist() == (got[0] * 2).tolist()
    assert got[3].tolist() == [[-1, -2], [-3, -4], [-5, -6]]
    with pytest.raises(ValueError, match="requested dtype float64 for IndexedSlices"):
        tf.convert_to_tensor(sl, dtype=tf.float64)
    with pytest.raises(ValueError, match="without dense_shape"):
        tf.convert_to_tensor(tf.IndexedSlices(values, indices))


def test_gather_gradient_is_indexed_slices():
    w = tf.Variable(np.arange(12.0).reshape(4, 3))
    y = tf.gather(w, [3, 1, 3]) * 2.0
    g = tf.gradients(y, w)[0]
    assert isinstance(g, tf.IndexedSlices)
    assert shape_of(g.values) == [3, 3] and g.dense_shape.op.type == "Const"
    with warnings.catch_warnings():
        warnings.simplefilter("error")      # a known dense shape: no warning
        dense = tf.convert_to_tensor(g)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        vals, idx, d = sess.run([g.values, g.indices, dense])
    assert idx.tolist() == [3, 1, 3] and vals.tolist() == [[2.0] * 3] * 3
    assert d.tolist() == [[0] * 3, [2] * 3, [0] * 3, [4] * 3]


def test_densifying_unknown_shape_warns():
    p = tf.placeholder(tf.float32, [None, 2])
    sl = tf.IndexedSlices(p, tf.constant([0]), tf.shape(p))
    with pytest.warns(UserWarning, match="dense Tensor of unknown shape"):
        dense = tf.convert_to_tensor(sl)
    assert run(dense, {p: [[1., 2.]]}).tolist() == [[1., 2.]]


def test_all_names_exported():
    for name in array.__all__:
        assert hasattr(array, name), name
    for name in ["reshape", "transpose", "concat", "stack", "unstack", "pack", "unpack", "split",
                 "expand_dims", "squeeze", "slice", "strided_slice", "gather", "gather_nd",
                 "one_hot", "tile", "pad", "reverse", "shape", "size", "rank", "boolean_mask",
                 "sparse_to_dense", "zeros_like", "ones_like", "fill", "range", "linspace",
                 "eye", "unsorted_segment_sum", "IndexedSlices", "sparse_tensor_to_dense"]:
        assert hasattr(tf, name), name


def test_one_way_splits_return_the_tensor_itself():
    x = tf.ones([1, 3])
    with tf.Session() as sess:
        assert sess.run(tf.unstack(x)[0] + 1).shape == (3,)
        assert sess.run(tf.split(x, 1)[0]).shape == (1, 3)
        n, = tf.unstack(tf.shape(tf.zeros([5])))
        assert sess.run(n) == 5
