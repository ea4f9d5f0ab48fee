"""Math ops (flowcore/ops/math.py): values against numpy, TF's dtypes, static
shapes, op types and names, build-time and run-time errors, the Python
operators of Tensor, and gradients checked directly against finite
differences (each op's registered gradient function, run in a session)."""
import numpy as np
import pytest

import flowcore.compat.v1 as tf
from flowcore import errors, registry
from flowcore.ops import math as fmath

rng = np.random.RandomState(0)
A = rng.randn(2, 3).astype(np.float32)
B = rng.randn(3).astype(np.float32)
P = (rng.rand(2, 3) + 0.5).astype(np.float64)
IM = np.array([[7, -7, 3], [-3, 5, 0]], np.int32)
J = np.array([2, 3, -2], np.int32)


@pytest.fixture
def sess():
    with tf.Session() as s:
        yield s


def run(t, feed=None):
    with tf.Session(graph=(t[0] if isinstance(t, (list, tuple)) else t).graph) as s:
        return s.run(t, feed)


def shape_of(t):
    return None if t.shape.ndims is None else t.shape.as_list()


# -- element-wise values ---------------------------------------------------------------

BINARY = [
    (tf.add, np.add, A, B), (tf.subtract, np.subtract, A, B), (tf.multiply, np.multiply, A, B),
    (tf.realdiv, np.true_divide, A, B), (tf.maximum, np.maximum, A, B),
    (tf.minimum, np.minimum, A, B), (tf.squared_difference, lambda x, y: (x - y) ** 2, A, B),
    (tf.floordiv, np.floor_divide, A, B), (tf.floormod, np.mod, A, B),
    (tf.pow, np.power, P, P[:1] - 0.7), (tf.atan2, np.arctan2, A, B),
    (tf.add, np.add, IM, J), (tf.subtract, np.subtract, IM, J), (tf.multiply, np.multiply, IM, J),
    (tf.maximum, np.maximum, IM, J), (tf.floordiv, np.floor_divide, IM, J),
    (tf.floormod, np.mod, IM, J), (tf.pow, np.power, IM, np.abs(J)),
    (tf.add, np.add, A.reshape(2, 3, 1), B.reshape(1, 1, 3)),
    (tf.multiply, np.multiply, np.int64(3), IM.astype(np.int64)),
]


@pytest.mark.parametrize("fn,ref,x,y", BINARY, ids=lambda v: getattr(v, "__name__", None))
def test_binary_values_dtypes_and_broadcast_shapes(fn, ref, x, y):
    xt, yt = tf.constant(x), tf.constant(y)
    t = fn(xt, yt)
    expected = ref(np.asarray(x), np.asarray(y))
    assert t.dtype.as_numpy_dtype == np.asarray(x).dtype
    assert shape_of(t) == list(expected.shape)
    got = run(t)
    assert got.dtype == np.asarray(x).dtype
    np.testing.assert_allclose(got, expected, rtol=1e-6)


UNARY = [
    (tf.negative, np.negative, A), (tf.abs, np.abs, A), (tf.abs, np.abs, IM), (tf.sign, np.sign, A),
    (tf.square, np.square, IM), (tf.sqrt, np.sqrt, P), (tf.rsqrt, lambda x: 1 / np.sqrt(x), P),
    (tf.exp, np.exp, A), (tf.expm1, np.expm1, A), (tf.log, np.log, P), (tf.log1p, np.log1p, P),
    (tf.sin, np.sin, A), (tf.cos, np.cos, A), (tf.tan, np.tan, A), (tf.asin, np.arcsin, P / 2),
    (tf.acos, np.arccos, P / 2), (tf.atan, np.arctan, A), (tf.sinh, np.sinh, A),
    (tf.cosh, np.cosh, A), (tf.tanh, np.tanh, A), (tf.sigmoid, lambda x: 1 / (1 + np.exp(-x)), A),
    (tf.reciprocal, np.reciprocal, P), (tf.floor, np.floor, A), (tf.ceil, np.ceil, A),
    (tf.rint, np.rint, A * 3), (tf.round, np.round, np.array([0.5, 1.5, 2.5, -0.5, -1.5])),
]


@pytest.mark.parametrize("fn,ref,x", UNARY, ids=lambda v: getattr(v, "__name__", None))
def test_unary_values(fn, ref, x):
    t = fn(x)
    assert t.op.type == t.op.name          # default name is the op type: "Sqrt", ...
    assert shape_of(t) == list(np.shape(x))
    got = run(t)
    assert got.dtype == np.asarray(x).dtype
    np.testing.assert_allclose(got, ref(x), rtol=1e-6)


def test_extreme_values_without_warnings(sess):
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = sess.run([tf.log(tf.constant([0., -1.])), tf.constant([1., 0.]) / 0.,
                        tf.sigmoid(tf.constant([-1000., 0., 1000.])), tf.exp(1000.),
                        tf.reduce_mean(tf.zeros([0])),
                        tf.cast(tf.constant([np.nan, 1e20]), tf.int32)])
    np.testing.assert_array_equal(out[0], [-np.inf, np.nan])
    np.testing.assert_array_equal(out[1], [np.inf, np.nan])
    np.testing.assert_allclose(out[2], [0., 0.5, 1.])
    assert out[3] == np.inf and np.isnan(out[4])


def test_add_concatenates_strings(sess):
    assert list(sess.run(tf.add(tf.constant(["a", "b"]), "c"))) == [b"ac", b"bc"]


def test_is_nan_inf_finite(sess):
    x = tf.constant([1., np.nan, np.inf, -np.inf])
    got = sess.run([tf.is_nan(x), tf.is_inf(x), tf.is_finite(x)])
    assert [g.tolist() for g in got] == [[False, True, False, False], [False, False, True, True],
                                         [True, False, False, False]]
    assert tf.is_nan(x).dtype == tf.bool


def test_div_no_nan_and_reciprocal_no_nan(sess):
    out = sess.run([tf.div_no_nan([1., 2., 3.], [0., 4., 0.]),
                    tf.math.reciprocal_no_nan(tf.constant([0., 2.]))])
    np.testing.assert_array_equal(out[0], [0., 0.5, 0.])
    np.testing.assert_array_equal(out[1], [0., 0.5])


def test_unary_on_sparse_tensor_maps_values(sess):
    sp = tf.SparseTensor([[0, 1], [1, 0]], tf.constant([-2., 3.]), [2, 2])
    out = sess.run(tf.abs(sp))
    np.testing.assert_array_equal(out.values, [2., 3.])
    np.testing.assert_array_equal(out.indices, [[0, 1], [1, 0]])


# -- TF1 division rules ----------------------------------------------------------------

def test_truediv_converts_integers_like_tf1(sess):
    t = tf.truediv(tf.constant([7, -7]), tf.constant([2, 2]))
    assert t.dtype == tf.float64 and t.op.type == "RealDiv" and t.op.name == "truediv"
    np.testing.assert_array_equal(sess.run(t), [3.5, -3.5])
    assert tf.truediv(tf.constant([1], tf.int16), tf.constant([2], tf.int16)).dtype == tf.float32
    assert tf.truediv(tf.constant([1], tf.uint8), tf.constant([2], tf.uint8)).dtype == tf.float32
    assert tf.truediv(tf.constant([1], tf.int64), tf.constant([2], tf.int64)).dtype == tf.float64
    assert tf.divide(A, B).dtype == tf.float32
    assert (tf.constant(IM) / J).dtype == tf.float64
    with pytest.raises(TypeError):
        tf.truediv(tf.constant([True]), tf.constant([True]))


def test_floor_division_and_mod_semantics_for_negatives(sess):
    i = tf.constant([7, -7, 7, -7])
    j = tf.constant([2, 2, -2, -2])
    fd, md = sess.run([i // j, i % j])
    np.testing.assert_array_equal(fd, [3, -4, -4, 3])
    np.testing.assert_array_equal(md, [1, 1, -1, -1])
    f = sess.run(tf.constant([5.5, -5.5, 5.5]) // tf.constant([2., 2., -2.]))
    np.testing.assert_array_equal(f, [2., -3., -3.])
    np.testing.assert_allclose(sess.run(tf.floormod([5.5, -5.5, 5.5], [2., 2., -2.])),
                               [1.5, 0.5, -0.5])
    assert (i // j).dtype == tf.int32 and (i // j).op.type == "FloorDiv"


def test_div_is_python2_division(sess):
    assert tf.div(tf.constant([7, -7]), 2).op.type == "FloorDiv"
    assert tf.div(tf.constant([7., -7.]), 2.).op.type == "RealDiv"
    np.testing.assert_array_equal(sess.run(tf.div(tf.constant([7, -7]), 2)), [3, -4])


def test_integer_division_by_zero_is_invalid_argument(sess):
    for t in (tf.floordiv([2, 3], [0, 1]), tf.floormod([2, 3], [1, 0])):
        with pytest.raises(errors.InvalidArgumentError, match="Integer division by zero"):
            sess.run(t)
    with pytest.raises(errors.InvalidArgumentError, match="negative integer powers"):
        sess.run(tf.pow(tf.constant([2, 3]), tf.constant([-1, 2])))


# -- build-time errors ---------------------------------------------------------------

def test_dtype_mismatch_is_type_error_at_build_time():
    with pytest.raises(TypeError):
        tf.add(tf.constant(1), tf.constant(1.))
    with pytest.raises(TypeError):
        tf.constant(1) + 1.5
    with pytest.raises(TypeError):
        tf.matmul(tf.ones([2, 2]), tf.ones([2, 2], tf.float64))
    with pytest.raises(TypeError):
        tf.where(tf.ones([2], tf.bool), tf.ones([2]), tf.ones([2], tf.int32))


@pytest.mark.parametrize("build,match", [
    (lambda: tf.sqrt(tf.constant(1)), "DataType int32 not in list of allowed values"),
    (lambda: tf.abs(tf.constant(True)), "DataType bool not in list"),
    (lambda: tf.subtract(tf.constant([True]), tf.constant([True])), "DataType bool"),
    (lambda: tf.less(tf.constant(["a"]), "b"), "DataType string"),
    (lambda: tf.logical_and(tf.ones([2]), tf.ones([2])), "expected type of bool"),
    (lambda: tf.reduce_sum(tf.constant([True])), "DataType bool"),
    (lambda: tf.reduce_any(tf.ones([2])), "expected type of bool"),
    (lambda: tf.reduce_sum(tf.ones([2]), 1.0), "reduction_indices"),
    (lambda: tf.matmul(tf.ones([2, 3], tf.bool), tf.ones([3, 2], tf.bool)), "DataType bool"),
    (lambda: tf.where(tf.ones([2]), tf.ones([2]), tf.ones([2])), "condition"),
    (lambda: tf.argmax(tf.ones([2, 3]), output_type=tf.float32), "output_type"),
    (lambda: tf.argmax(tf.ones([2, 3]), [1]), "axis must be int"),
    (lambda: tf.add_n([tf.ones([2]), tf.ones([2], tf.int32)]), "don't all match"),
])
def test_unsupported_dtypes_are_type_errors(build, match):
    with pytest.raises(TypeError, match=match):
        build()


@pytest.mark.parametrize("build,match", [
    (lambda: tf.add(tf.ones([2]), tf.ones([3])), "Add"),
    (lambda: tf.matmul(tf.ones([2, 3]), tf.ones([4, 5])), "Dimensions must be equal"),
    (lambda: tf.matmul(tf.ones([3]), tf.ones([3, 5])), "rank 2"),
    (lambda: tf.matmul(tf.ones([2, 2, 3]), tf.ones([3, 3, 5])), "BatchMatMulV2"),
    (lambda: tf.add_n([tf.ones([2]), tf.ones([3])]), "AddN"),
    (lambda: tf.add_n([]), "at least one"),
    (lambda: tf.where(tf.ones([3], tf.bool), tf.ones([2, 3]), tf.ones([2, 3])), "Select"),
    (lambda: tf.where(tf.ones([2, 1], tf.bool), tf.ones([2, 3]), tf.ones([2, 3])), "Select"),
    (lambda: tf.where(tf.ones([2], tf.bool), tf.ones([2])), "both be non-None"),
    (lambda: tf.reduce_sum(tf.ones([2, 3]), 2), "Invalid reduction dimension 2"),
    (lambda: tf.reduce_sum(tf.ones([2, 3]), -3), "Invalid reduction dimension -3"),
    (lambda: tf.reduce_sum(tf.ones([2, 3]), [[1]]), "at most rank 1"),
    (lambda: tf.reduce_sum(tf.ones([2]), 0, keepdims=True, keep_dims=True), "keep_dims"),
    (lambda: tf.reduce_sum(tf.ones([2]), axis=0, reduction_indices=0), "reduction_indices"),
    (lambda: tf.argmax(tf.ones([2, 3]), 2), "must be in the range"),
    (lambda: tf.argmax(tf.ones([2, 3]), 1, dimension=1), "dimension"),
    (lambda: tf.clip_by_value(tf.ones([2]), tf.zeros([3, 2]), 1.), "incompatible"),
    (lambda: tf.scalar_mul(tf.ones([2]), tf.ones([2])), "scalar"),
    (lambda: tf.matmul(tf.ones([2, 2]), tf.ones([2, 2]), transpose_a=True, adjoint_a=True),
     "Only one"),
])
def test_incompatible_shapes_are_value_errors(build, match):
    with pytest.raises(ValueError, match=match):
        build()


def test_global_norm_requires_a_sequence():
    with pytest.raises(TypeError, match="should be a sequence"):
        tf.global_norm(tf.ones([2]))
    with pytest.raises(TypeError, match="should be a sequence"):
        tf.clip_by_global_norm(tf.ones([2]), 1.0)


# -- run-time errors -------------------------------------------------------------------

def _pwd(value, shape):
    return tf.placeholder_with_default(np.asarray(value), shape)


@pytest.mark.parametrize("build,match", [
    (lambda: tf.add(_pwd([1., 2.], [None]), _pwd([1., 2., 3.], [None])), "Add"),
    (lambda: tf.matmul(_pwd([[1., 2.]], [None, None]), _pwd([[1., 2.]], [None, None])), "MatMul"),
    (lambda: tf.add_n([_pwd([1., 2.], [None]), _pwd([1.], [None])]), "same size and shape"),
    (lambda: tf.where(_pwd([True], [None]), _pwd([[1., 2.]], [None, 2]),
                      _pwd([[1., 2.], [3., 4.]], [None, 2])), "same size"),
    (lambda: tf.where(_pwd([True, False], [None]), _pwd([[1., 2.]], [None, 2]),
                      _pwd([[1., 2.]], [None, 2])), "Number of batches"),
    (lambda: tf.argmax(tf.zeros([0, 2]), 0), "Reduction axis 0 is empty"),
    (lambda: tf.reduce_sum(tf.ones([2, 3]), _pwd([1, 1], [None])), "Sum"),
    (lambda: tf.reduce_sum(tf.ones([2, 3]), _pwd([3], [None])), "Sum"),
])
def test_runtime_shape_errors_are_invalid_argument(sess, build, match):
    t = build()
    with pytest.raises(errors.InvalidArgumentError, match=match) as info:
        sess.run(t)
    assert info.value.op is t.op


def test_cast_from_string_is_unimplemented(sess):
    with pytest.raises(errors.UnimplementedError, match="Cast string to float32"):
        sess.run(tf.cast(tf.constant(["1"]), tf.float32))


# -- Python operators ----------------------------------------------------------------

@pytest.mark.parametrize("expr,op_type,name,ref", [
    (lambda a, b: a + b, "Add", "add", np.add), (lambda a, b: a - b, "Sub", "sub", np.subtract),
    (lambda a, b: a * b, "Mul", "mul", np.multiply),
    (lambda a, b: a / b, "RealDiv", "truediv", np.true_divide),
    (lambda a, b: a // b, "FloorDiv", "floordiv", np.floor_divide),
    (lambda a, b: a % b, "FloorMod", "mod", np.mod),
    (lambda a, b: abs(a) ** b, "Pow", "pow", lambda a, b: np.abs(a) ** b),
    (lambda a, b: a < b, "Less", "Less", np.less),
    (lambda a, b: a <= b, "LessEqual", "LessEqual", np.less_equal),
    (lambda a, b: a > b, "Greater", "Greater", np.greater),
    (lambda a, b: a >= b, "GreaterEqual", "GreaterEqual", np.greater_equal),
])
def test_binary_operators_and_reflected_forms(sess, expr, op_type, name, ref):
    a = tf.constant(A)
    t = expr(a, B)                       # tensor op numpy array
    r = expr(A, tf.constant(B))          # numpy array op tensor: the reflected form
    s = expr(2.0, a) if op_type not in ("Less",) else expr(a, 2.0)   # Python scalar
    assert t.op.type == op_type and t.op.name == name
    assert r.op.type in (op_type, {"Less": "Greater", "Greater": "Less", "LessEqual":
                                   "GreaterEqual", "GreaterEqual": "LessEqual"}.get(op_type))
    np.testing.assert_allclose(sess.run(t), ref(A, B), rtol=1e-6)
    np.testing.assert_allclose(sess.run(r), ref(A, B), rtol=1e-6)
    assert s.dtype in (tf.float32, tf.bool)


def test_reflected_operators_with_python_numbers(sess):
    x = tf.constant([1., 2., 4.])
    got = sess.run([1 + x, 1 - x, 2 * x, 2 / x, 5 // x, 5 % x, 2 ** x])
    for g, e in zip(got, [[2, 3, 5], [0, -1, -3], [2, 4, 8], [2, 1, .5], [5, 2, 1], [0, 1, 1],
                          [2, 4, 16]]):
        np.testing.assert_allclose(g, e)
    assert (1 - x).op.name == "sub_1" and (2 ** x).op.type == "Pow"   # the 2nd "sub"
    assert (np.float32(2) * x).op.type == "Mul"


def test_unary_operators_and_matmul_operator(sess):
    a = tf.constant(A)
    assert (-a).op.type == "Neg" and abs(a).op.type == "Abs"
    np.testing.assert_allclose(sess.run(-a), -A)
    np.testing.assert_allclose(sess.run(abs(a)), np.abs(A))
    m = a @ A.T
    assert m.op.type == "MatMul" and m.op.name == "matmul"
    np.testing.assert_allclose(sess.run(m), A @ A.T, rtol=1e-5)
    np.testing.assert_allclose(sess.run(A.T @ a), A.T @ A, rtol=1e-5)


def test_bool_operators_are_logical_ops(sess):
    x = tf.constant([True, True, False, False])
    y = [True, False, True, False]
    t_and, t_or, t_xor, t_not = x & y, x | y, x ^ y, ~x
    assert (t_and.op.type, t_and.op.name) == ("LogicalAnd", "and")
    assert (t_or.op.type, t_or.op.name) == ("LogicalOr", "or")
    assert t_xor.op.name == "xor" and t_not.op.type == "LogicalNot"
    got = sess.run([t_and, t_or, t_xor, t_not, y & x])
    assert [g.tolist() for g in got] == [[True, False, False, False], [True, True, True, False],
                                         [False, True, True, False], [False, False, True, True],
                                         [True, False, False, False]]
    with pytest.raises(TypeError):
        tf.constant([1.]) & tf.constant([1.])
    with pytest.raises(TypeError):
        ~tf.constant([1])


def test_equality_is_identity_and_tensors_stay_hashable():
    a = tf.constant(1.)
    b = tf.constant(1.)
    assert (a == a) is True and (a == b) is False and (a != b) is True
    assert len({a: 1, b: 2}) == 2


def test_variables_get_the_operators(sess):
    v = tf.Variable([1., -2.])
    sess.run(tf.global_variables_initializer())
    got = sess.run([v + 1, 2 * v, v / 2, v // 1, v % 2, v ** 2, -v, abs(v), v < 0])
    np.testing.assert_allclose(got[0], [2, -1])
    np.testing.assert_allclose(got[5], [1, 4])
    assert got[-1].tolist() == [False, True]


# -- comparisons, logic, where -------------------------------------------------------

def test_comparisons_broadcast_to_bool(sess):
    for fn, ref in [(tf.equal, np.equal), (tf.not_equal, np.not_equal), (tf.less, np.less),
                    (tf.less_equal, np.less_equal), (tf.greater, np.greater),
                    (tf.greater_equal, np.greater_equal)]:
        t = fn(IM, J)
        assert t.dtype == tf.bool and shape_of(t) == [2, 3]
        np.testing.assert_array_equal(sess.run(t), ref(IM, J))
    assert sess.run(tf.equal(tf.constant(["a", "b"]), "a")).tolist() == [True, False]
    assert sess.run(tf.not_equal([True, False], True)).tolist() == [False, True]


def test_logical_ops(sess):
    x = np.array([[True, False], [True, True]])
    y = np.array([True, False])
    got = sess.run([tf.logical_and(x, y), tf.logical_or(x, y), tf.logical_not(x),
                    tf.logical_xor(x, y)])
    for g, e in zip(got, [x & y, x | y, ~x, x ^ y]):
        np.testing.assert_array_equal(g, e)
    assert tf.logical_and(True, False).dtype == tf.bool


def test_where_with_one_argument_gives_int64_coordinates(sess):
    c = tf.placeholder(tf.bool, [None, 3])
    w = tf.where(c)
    assert w.op.type == "Where" and w.dtype == tf.int64 and shape_of(w) == [None, 2]
    cv = np.array([[True, False, True], [False, False, True]])
    np.testing.assert_array_equal(sess.run(w, {c: cv}), [[0, 0], [0, 2], [1, 2]])
    np.testing.assert_array_equal(sess.run(tf.where([[0., 1.], [2., 0.]])), [[0, 1], [1, 0]])
    assert shape_of(tf.where(tf.placeholder(tf.bool))) == [None, None]


def test_where_with_three_arguments_is_tf1_select(sess):
    x = np.arange(6.).reshape(2, 3)
    y = -x
    c = np.array([[True, False, True], [False, False, True]])
    t = tf.where(c, x, y)
    assert t.op.type == "Select" and shape_of(t) == [2, 3]
    np.testing.assert_array_equal(sess.run(t), np.where(c, x, y))
    rows = tf.where([True, False], x, y)            # a vector chooses whole rows
    np.testing.assert_array_equal(sess.run(rows), [x[0], y[1]])
    np.testing.assert_array_equal(sess.run(tf.where(False, x, y)), y)
    merged = tf.where(tf.placeholder(tf.bool, [None]), tf.placeholder(tf.float32, [None, 3]),
                      tf.placeholder(tf.float32, [5, None]))
    assert shape_of(merged) == [5, 3]


def test_where_v2_broadcasts(sess):
    t = tf.where_v2([True, False, True], tf.constant([[1., 2., 3.]]), 0.)
    assert t.op.type == "SelectV2" and shape_of(t) == [1, 3]
    np.testing.assert_array_equal(sess.run(t), [[1., 0., 3.]])


# -- add_n ---------------------------------------------------------------------------

def test_add_n(sess):
    t = tf.add_n([A, A * 2, tf.constant(A)])
    assert t.op.type == "AddN" and t.op.name == "AddN" and shape_of(t) == [2, 3]
    np.testing.assert_allclose(sess.run(t), 4 * A, rtol=1e-6)
    x = tf.constant(A)
    assert tf.add_n([x]) is x
    assert tf.add_n([x], name="one").op.type == "Identity"
    merged = tf.add_n([tf.placeholder(tf.float32, [None, 2]),
                       tf.placeholder(tf.float32, [3, None])])
    assert shape_of(merged) == [3, 2]
    assert sess.run(tf.add_n([np.float32(1), np.float32(2)])) == 3


# -- matmul --------------------------------------------------------------------------

def test_matmul_transposes(sess):
    x = rng.randn(2, 3).astype(np.float32)
    y = rng.randn(3, 4).astype(np.float32)
    cases = [(tf.matmul(x, y), x @ y), (tf.matmul(x.T, y, transpose_a=True), x @ y),
             (tf.matmul(x, y.T, transpose_b=True), x @ y),
             (tf.matmul(x.T, y.T, adjoint_a=True, adjoint_b=True), x @ y)]
    for t, e in cases:
        assert t.op.type == "MatMul" and shape_of(t) == [2, 4]
        np.testing.assert_allclose(sess.run(t), e, rtol=1e-5)
    ti = tf.matmul(tf.constant([[1, 2]]), tf.constant([[3], [4]]))
    assert ti.dtype == tf.int32 and sess.run(ti).tolist() == [[11]]
    assert shape_of(tf.matmul(tf.placeholder(tf.float32, [None, None]), y)) == [None, 4]


def test_batch_matmul(sess):
    x = rng.randn(4, 1, 2, 3)
    y = rng.randn(5, 3, 2)
    t = tf.matmul(x, y)
    assert t.op.type == "BatchMatMulV2" and t.op.name == "MatMul"
    assert shape_of(t) == [4, 5, 2, 2]
    np.testing.assert_allclose(sess.run(t), np.matmul(x, y))
    t2 = tf.matmul(x, y, adjoint_a=True, adjoint_b=True)
    assert shape_of(t2) == [4, 5, 3, 3]
    np.testing.assert_allclose(sess.run(t2), np.matmul(np.swapaxes(x, -1, -2),
                                                       np.swapaxes(y, -1, -2)))
    z = rng.randn(3, 4)
    np.testing.assert_allclose(sess.run(tf.matmul(x, z)), np.matmul(x, z))
    assert tf.matmul(tf.placeholder(tf.float64), z).op.type == "BatchMatMulV2"
    assert shape_of(tf.matmul(tf.placeholder(tf.float32, [None, 2, 3]),
                              tf.placeholder(tf.float32, [7, None, None]))) == [7, 2, None]


# -- reductions ----------------------------------------------------------------------

X3 = rng.randn(2, 3, 4)


@pytest.mark.parametrize("fn,ref", [
    (tf.reduce_sum, np.sum), (tf.reduce_mean, np.mean), (tf.reduce_max, np.max),
    (tf.reduce_min, np.min), (tf.reduce_prod, np.prod),
    (tf.reduce_logsumexp, lambda x, axis=None, keepdims=False: np.log(
        np.sum(np.exp(x), axis=axis, keepdims=keepdims))),
    (tf.math.reduce_variance, np.var), (tf.math.reduce_std, np.std),
])
@pytest.mark.parametrize("axis,keepdims", [(None, False), (None, True), (1, False), (-1, True),
                                           ([0, 2], False), ([0, 2], True), ((), False)])
def test_reduction_values_and_static_shapes(sess, fn, ref, axis, keepdims):
    t = fn(tf.constant(X3), axis=axis, keepdims=keepdims)
    expected = ref(X3, axis=tuple(np.atleast_1d(axis)) if axis is not None else None,
                   keepdims=keepdims)
    assert shape_of(t) == list(np.shape(expected))
    np.testing.assert_allclose(sess.run(t), expected, rtol=1e-10)


def test_reduction_names_attrs_and_deprecated_arguments():
    x = tf.constant(X3)
    t = tf.reduce_sum(x, 1)
    assert (t.op.name, t.op.type) == ("Sum", "Sum")
    assert t.op.inputs[1].op.name == "Sum/reduction_indices"
    assert t.op.get_attr("keep_dims") is False and t.op.get_attr("Tidx") == tf.int32
    for fn, op_type in [(tf.reduce_mean, "Mean"), (tf.reduce_max, "Max"), (tf.reduce_min, "Min"),
                        (tf.reduce_prod, "Prod")]:
        assert fn(x).op.type == op_type == fn(x).op.name.split("_")[0]
    a = tf.reduce_sum(x, reduction_indices=[1], keep_dims=True)
    assert shape_of(a) == [2, 1, 4] and a.op.get_attr("keep_dims") is True
    assert tf.reduce_sum(x, name="total").op.name == "total"
    assert tf.reduce_sum(x, 1, name="total").op.name == "total_1"


def test_reduction_static_shapes_with_unknown_dims():
    p = tf.placeholder(tf.float32, [None, 3, 4])
    u = tf.placeholder(tf.float32)
    ax = tf.placeholder(tf.int32, [2])
    assert shape_of(tf.reduce_sum(p, 1)) == [None, 4]
    assert shape_of(tf.reduce_sum(p, [0, 2], keepdims=True)) == [1, 3, 1]
    assert shape_of(tf.reduce_sum(p)) == []
    assert shape_of(tf.reduce_sum(p, keepdims=True)) == [1, 1, 1]
    assert shape_of(tf.reduce_sum(p, ax)) is None
    assert shape_of(tf.reduce_sum(p, ax, keepdims=True)) == [None, None, None]
    assert shape_of(tf.reduce_sum(u, 1)) is None
    assert shape_of(tf.reduce_sum(u, 1, keepdims=True)) is None
    assert shape_of(tf.reduce_sum(u)) == []           # all axes: a scalar, rank or not
    assert shape_of(tf.reduce_sum(u, keepdims=True)) is None
    assert shape_of(tf.reduce_max(p, -1)) == [None, 3]
    assert shape_of(tf.reduce_sum(p, [])) == [None, 3, 4]


def test_reduce_over_all_axes_of_unknown_rank(sess):
    u = tf.placeholder(tf.float64)
    assert sess.run(tf.reduce_sum(u), {u: X3}) == pytest.approx(X3.sum())
    assert sess.run(tf.reduce_mean(u, keepdims=True), {u: X3}).shape == (1, 1, 1)


def test_reductions_with_tensor_axis(sess):
    ax = tf.placeholder(tf.int32, [None])
    t = tf.reduce_sum(X3, ax)
    np.testing.assert_allclose(sess.run(t, {ax: [0, 2]}), X3.sum(axis=(0, 2)))
    np.testing.assert_allclose(sess.run(t, {ax: [-1]}), X3.sum(axis=-1))
    np.testing.assert_allclose(sess.run(tf.reduce_max(X3, tf.constant(1, tf.int64))),
                               X3.max(axis=1))


def test_integer_and_bool_reductions(sess):
    got = sess.run([tf.reduce_sum(tf.constant([100, 100], tf.int8)),
                    tf.reduce_mean(tf.constant([[1, 2], [2, 2]]), 0),
                    tf.reduce_mean(tf.constant([-3, -4])), tf.reduce_prod(IM + 8),
                    tf.reduce_max(IM, 1), tf.reduce_any([[True, False], [False, False]], 1),
                    tf.reduce_all([[True, False], [True, True]], 1)])
    assert got[0].dtype == np.int8 and got[0] == np.int8(-56)   # wraps like TF
    assert got[1].tolist() == [1, 2]                             # truncating integer mean
    assert got[2] == -3
    assert got[3] == np.prod(IM + 8, dtype=np.int32)
    assert got[4].tolist() == [7, 5]
    assert got[5].tolist() == [True, False] and got[6].tolist() == [False, True]


def test_empty_reductions(sess):
    got = sess.run([tf.reduce_max(tf.zeros([0, 2]), 0), tf.reduce_min(tf.zeros([0], tf.int32)),
                    tf.reduce_sum(tf.zeros([0, 2]), 0), tf.reduce_prod(tf.zeros([0])),
                    tf.reduce_mean(tf.zeros([0, 2]), 0)])
    assert got[0].tolist() == [-np.inf, -np.inf] and got[1] == np.iinfo(np.int32).max
    assert got[2].tolist() == [0, 0] and got[3] == 1 and np.isnan(got[4]).all()


def test_reduce_logsumexp_is_stable(sess):
    x = tf.constant([[1000., 1000.], [-np.inf, -np.inf], [np.inf, 1.], [1., 2.]])
    t = tf.reduce_logsumexp(x, 1)
    assert t.op.name == "ReduceLogSumExp" and shape_of(t) == [4]
    got = sess.run(t)
    np.testing.assert_allclose(got, [1000 + np.log(2), -np.inf, np.inf, np.log(np.e + np.e ** 2)],
                               rtol=1e-6)


def test_count_nonzero(sess):
    t = tf.count_nonzero(IM, 1)
    assert t.dtype == tf.int64 and shape_of(t) == [2]
    assert sess.run(t).tolist() == [3, 2]
    assert sess.run(tf.count_nonzero(IM, keepdims=True, dtype=tf.int32)).tolist() == [[5]]
    assert sess.run(tf.count_nonzero(tf.constant(["", "a", "b"]))) == 2


def test_argmax_argmin(sess):
    x = np.array([[1., 3., 3.], [4., 0., 4.]])
    t = tf.argmax(x, 1)
    assert (t.op.type, t.op.name, t.dtype) == ("ArgMax", "ArgMax", tf.int64)
    assert t.op.inputs[1].op.name == "ArgMax/dimension"
    got = sess.run([t, tf.argmin(x, 0), tf.argmax(x, dimension=0), tf.argmax(x),
                    tf.argmin(x, -1, output_type=tf.int32)])
    assert [g.tolist() for g in got] == [[1, 0], [0, 1, 0], [1, 0, 1], [1, 0, 1], [0, 1]]
    assert got[4].dtype == np.int32
    p = tf.placeholder(tf.float32, [None, 3, 4])
    assert shape_of(tf.argmax(p, 1)) == [None, 4]
    assert shape_of(tf.argmax(p, tf.placeholder(tf.int32))) == [None, None]
    assert shape_of(tf.argmax(tf.placeholder(tf.float32), 1)) is None


def test_cumsum_and_cumprod(sess):
    x = np.array([[1, 2, 3], [4, 5, 6]])
    t = tf.cumsum(x, 1)
    assert t.op.type == "Cumsum" and t.op.inputs[1].op.name == "Cumsum/axis"
    got = sess.run([t, tf.cumsum(x, 1, exclusive=True, reverse=True),
                    tf.cumsum(x, 0, exclusive=True), tf.cumprod(x, 1, exclusive=True),
                    tf.cumprod(x.astype(np.float32), 1, reverse=True)])
    assert got[0].tolist() == [[1, 3, 6], [4, 9, 15]]
    assert got[1].tolist() == [[5, 3, 0], [11, 6, 0]]
    assert got[2].tolist() == [[0, 0, 0], [1, 2, 3]]
    assert got[3].tolist() == [[1, 1, 2], [1, 4, 20]]
    assert got[4].tolist() == [[6, 6, 3], [120, 30, 6]]


# -- casts ---------------------------------------------------------------------------

def test_casts(sess):
    x = tf.constant([1.7, -1.7, 2.5])
    assert tf.cast(x, tf.float32) is x
    names = [(tf.to_float(IM), "ToFloat", tf.float32), (tf.to_double(x), "ToDouble", tf.float64),
             (tf.to_int32(x), "ToInt32", tf.int32), (tf.to_int64(x), "ToInt64", tf.int64)]
    for t, name, dt in names:
        assert (t.op.type, t.op.name, t.dtype) == ("Cast", name, dt)
    got = sess.run([tf.cast(x, tf.int32), tf.cast([True, False], tf.float32),
                    tf.cast([0., 2.], tf.bool), tf.cast(tf.constant([300]), tf.uint8)])
    assert got[0].tolist() == [1, -1, 2]                          # truncation toward 0
    assert got[1].tolist() == [1., 0.] and got[2].tolist() == [False, True]
    assert got[3].tolist() == [44]                                # wraps like TF


def test_saturate_cast(sess):
    got = sess.run([tf.saturate_cast(tf.constant([-1e10, 3.7, 1e10]), tf.int32),
                    tf.saturate_cast(tf.constant([-1, 300]), tf.uint8)])
    assert got[0].tolist() == [-2147483648, 3, 2147483520]       # TF's values
    assert got[1].tolist() == [0, 255]


def test_string_to_number(sess):
    got = sess.run([tf.string_to_number(["1.5", " 2", "3e2", "inf"]),
                    tf.string_to_number(["12", "+13 "], out_type=tf.int64)])
    np.testing.assert_array_equal(got[0], np.array([1.5, 2, 300, np.inf], np.float32))
    assert got[1].tolist() == [12, 13] and got[1].dtype == np.int64
    with pytest.raises(errors.InvalidArgumentError,
                       match="StringToNumberOp could not correctly convert string: abc"):
        sess.run(tf.string_to_number(["1.5", "abc"]))
    with pytest.raises(errors.InvalidArgumentError, match="convert string: 3000000000"):
        sess.run(tf.string_to_number(["3000000000"], out_type=tf.int32))


# -- clipping and norms ---------------------------------------------------------------

def test_clip_by_value(sess):
    t = tf.clip_by_value(A, -0.5, 0.5)
    assert t.op.type == "Maximum" and t.op.name == "clip_by_value"
    np.testing.assert_allclose(sess.run(t), np.clip(A, -0.5, 0.5))
    assert sess.run(tf.clip_by_value(tf.constant([1, 5, 9]), 2, 6)).tolist() == [2, 5, 6]
    np.testing.assert_allclose(sess.run(tf.clip_by_value(A, B, 1.)), np.clip(A, B, 1.))


def test_clip_by_norm(sess):
    x = np.array([[3., 4.], [6., 8.]], np.float32)
    assert tf.clip_by_norm(x, 1.0).op.name == "clip_by_norm"
    np.testing.assert_allclose(sess.run(tf.clip_by_norm(x, 5.0)), x * 5 / np.sqrt(125))
    np.testing.assert_allclose(sess.run(tf.clip_by_norm(x, 5.0, axes=[1])), [[3, 4], [3, 4]])
    np.testing.assert_allclose(sess.run(tf.clip_by_norm(x, 100.0)), x)
    assert sess.run(tf.clip_by_norm(tf.zeros([2]), 1.0)).tolist() == [0, 0]


def test_global_norm_and_clip_by_global_norm(sess):
    a, b = np.array([3., 0.], np.float32), np.array([[4.]], np.float32)
    n = tf.global_norm([a, None, b])
    assert n.op.name == "global_norm/global_norm"
    assert sess.run(n) == pytest.approx(5.0)
    clipped, norm = tf.clip_by_global_norm([a, None, b], 1.0)
    assert clipped[1] is None
    assert clipped[0].op.name == "clip_by_global_norm/clip_by_global_norm/_0"
    got = sess.run([clipped[0], clipped[2], norm])
    np.testing.assert_allclose(got[0], a / 5, rtol=1e-6)
    np.testing.assert_allclose(got[1], b / 5, rtol=1e-6)
    assert got[2] == pytest.approx(5.0)
    kept, _ = tf.clip_by_global_norm([a, b], 10.0)
    np.testing.assert_allclose(sess.run(kept[0]), a, rtol=1e-6)
    given, n2 = tf.clip_by_global_norm([a], 1.0, use_norm=tf.constant(2.0))
    np.testing.assert_allclose(sess.run(given[0]), a / 2)
    inf, inf_norm = tf.clip_by_global_norm([tf.constant([np.inf, 1.])], 1.0)
    got = sess.run([inf[0], inf_norm])
    assert np.isnan(got[0]).all() and got[1] == np.inf             # TF: NaN for an inf norm
    assert sess.run(tf.global_norm([])) == 0.0


def test_clip_by_global_norm_keeps_indexed_slices(sess):
    from flowcore.indexed_slices import IndexedSlices
    s = IndexedSlices(tf.constant([[3., 4.]]), tf.constant([1]), tf.constant([3, 2]))
    d = tf.constant([0., 0.])
    (cs, cd), norm = tf.clip_by_global_norm([s, d], 1.0)
    assert isinstance(cs, IndexedSlices) and cs.indices is s.indices
    got = sess.run([cs.values, norm])
    np.testing.assert_allclose(got[0], [[0.6, 0.8]], rtol=1e-6)
    assert got[1] == pytest.approx(5.0)
    cv = tf.clip_by_value(s, 0., 3.5)
    assert isinstance(cv, IndexedSlices)
    np.testing.assert_allclose(sess.run(cv.values), [[3., 3.5]])


# -- static values (constant folding) and the namespace ---------------------------------

def test_small_constant_results_fold_for_shape_inference():
    from flowcore.ops.core import constant_value
    x = tf.placeholder(tf.float32, [2, 3])
    n = tf.reduce_prod(tf.shape(x)) * 2
    assert constant_value(n) == 12
    assert constant_value(tf.cast(tf.reduce_max(tf.shape(x)), tf.float32)) == 3.0
    assert constant_value(tf.maximum(tf.shape(x) // 2, 1)).tolist() == [1, 1]
    assert constant_value(tf.add(x, 1.)) is None          # depends on a placeholder
    big = tf.zeros([100, 100])
    assert constant_value(tf.reduce_sum(big)) is None     # too large to fold


def test_all_lists_every_public_name_and_tf_math_namespace():
    import flowcore.compat.v1 as v1
    for name in fmath.__all__:
        assert hasattr(fmath, name), name
        assert getattr(v1.math, name) is getattr(fmath, name)
    for name in ["add", "subtract", "multiply", "divide", "truediv", "floordiv", "mod", "pow",
                 "negative", "abs", "sign", "square", "sqrt", "rsqrt", "exp", "log", "log1p",
                 "sin", "cos", "tanh", "sigmoid", "maximum", "minimum", "add_n", "matmul",
                 "reduce_sum", "reduce_mean", "reduce_max", "reduce_min", "reduce_prod",
                 "reduce_any", "reduce_all", "reduce_logsumexp", "argmax", "argmin", "equal",
                 "not_equal", "less", "less_equal", "greater", "greater_equal", "logical_and",
                 "logical_or", "logical_not", "where", "cast", "to_float", "to_int32",
                 "to_int64", "clip_by_value", "clip_by_global_norm", "realdiv", "reciprocal",
                 "squared_difference", "is_nan", "is_finite", "is_inf", "logical_xor",
                 "to_double", "clip_by_norm", "global_norm", "cumsum", "count_nonzero"]:
        assert hasattr(v1, name), name


# -- gradients, each op's registered function checked directly -------------------------

def _direct_gradients(build, inputs, upstream_seed=3):
    """For y = build(*placeholders) (one op whose inputs are the placeholders,
    possibly through constants), the registered gradient function's result for
    a random upstream gradient u, and d sum(u * y) / d input by central
    differences.  Returns [(analytic, numeric), ...] per input."""
    g = tf.Graph()
    with g.as_default():
        phs = [tf.placeholder(tf.float64, np.shape(a)) for a in inputs]
        y = build(*phs)
        u = np.random.RandomState(upstream_seed).randn(*y.shape.as_list())
        with g.name_scope("grad"):
            grads = registry.gradient_function(y.op.type)(y.op, tf.constant(u))
        by_input = dict(zip(y.op.inputs, grads))
        with tf.Session(graph=g) as s:
            feed = dict(zip(phs, inputs))
            out = []
            for ph, a in zip(phs, inputs):
                analytic = s.run(by_input[ph], feed)
                numeric = np.zeros_like(a)
                for idx in np.ndindex(*np.shape(a)):
                    vals = []
                    for d in (1e-6, -1e-6):
                        moved = np.array(a, copy=True)
                        moved[idx] += d
                        vals.append(np.sum(u * s.run(y, {**feed, ph: moved})))
                    numeric[idx] = (vals[0] - vals[1]) / 2e-6
                out.append((analytic, numeric))
    return out


@pytest.mark.parametrize("build,inputs", [
    (tf.multiply, [P, P[0]]), (tf.realdiv, [A.astype(np.float64), P[0]]),
    (tf.pow, [P, A[0].astype(np.float64)]), (tf.squared_difference, [P, P[:, :1]]),
    (tf.maximum, [A.astype(np.float64), P[0] - 1]),
    (tf.floormod, [P * 3, np.array([0.7, 1.1, 0.9])]),
    (lambda x: tf.reduce_sum(x, 1), [X3]),
    (lambda x: tf.reduce_sum(x, [0, 2], keepdims=True), [X3]),
    (lambda x: tf.reduce_mean(x, -1), [X3]), (lambda x: tf.reduce_prod(x, [0, 1]), [X3]),
    (lambda x: tf.reduce_max(x, 1), [X3]), (lambda x: tf.reduce_min(x), [X3]),
    (lambda a, b: tf.matmul(a, b, transpose_b=True), [P, P]),
    (lambda a, b: tf.matmul(a, b, transpose_a=True), [P, P]),
    (tf.matmul, [X3, P.T[:2].T.repeat(2, 0)]), (lambda x: tf.cumprod(x, 1, exclusive=True), [P]),
    (tf.sigmoid, [A.astype(np.float64)]), (tf.tanh, [A.astype(np.float64)]), (tf.rsqrt, [P]),
])
def test_registered_gradients_match_finite_differences(build, inputs):
    for analytic, numeric in _direct_gradients(build, inputs):
        np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-6)


def _grads(build, *inputs):
    """Gradient of sum(build(*x)) w.r.t. each x, from the registered functions."""
    g = tf.Graph()
    with g.as_default():
        xs = [tf.constant(np.asarray(a, np.float64)) for a in inputs]
        y = build(*xs)
        gs = registry.gradient_function(y.op.type)(y.op, tf.ones_like(y))
        with tf.Session(graph=g) as s:
            return s.run([gs[i] for i in range(len(xs))])


def test_reduce_max_ties_share_the_gradient_equally():
    (gx,) = _grads(lambda x: tf.reduce_max(x, 1), [[1., 3., 3.], [2., 2., 2.]])
    np.testing.assert_allclose(gx, [[0, .5, .5], [1 / 3, 1 / 3, 1 / 3]])
    (gx,) = _grads(lambda x: tf.reduce_min(x), [[1., 3.], [1., 1.]])
    np.testing.assert_allclose(gx, [[1 / 3, 0], [1 / 3, 1 / 3]])


def test_maximum_minimum_ties_go_to_x():
    gx, gy = _grads(tf.maximum, [1., 2., 3.], [2., 2., 2.])
    assert gx.tolist() == [0, 1, 1] and gy.tolist() == [1, 0, 0]
    gx, gy = _grads(tf.minimum, [1., 2., 3.], [2., 2., 2.])
    assert gx.tolist() == [1, 1, 0] and gy.tolist() == [0, 0, 1]
    gx, gy = _grads(tf.maximum, [[1., 5.], [3., 0.]], [2., 2.])   # broadcast y sums back
    assert gy.tolist() == [1, 1]


def test_pow_gradient_uses_log_x_only_where_x_positive():
    gx, gy = _grads(tf.pow, [-2., 0., 2.], [2., 2., 2.])
    np.testing.assert_allclose(gx, [-4., 0., 4.])
    np.testing.assert_allclose(gy, [0., 0., 4 * np.log(2.)])


def test_prod_gradient_with_zeros():
    (gx,) = _grads(lambda x: tf.reduce_prod(x, 1), [[0., 2., 3.], [0., 0., 5.], [1., 2., 4.]])
    np.testing.assert_allclose(gx, [[6., 0., 0.], [0., 0., 0.], [8., 4., 2.]])


def test_gradients_reach_inputs_through_the_graph():
    """With the gradients machinery: d/dx of a mixed expression."""
    x = tf.placeholder(tf.float64, [2, 3])
    w = tf.constant(P.T)
    y = tf.reduce_mean(tf.tanh(tf.matmul(x, w)) * 2.0 + tf.reduce_max(x, 1, keepdims=True))
    gx = tf.gradients(y, x)[0]
    xv = A.astype(np.float64)
    h = np.tanh(xv @ P.T)
    expected = ((1 - h ** 2) * 2.0 / h.size) @ P
    expected[np.arange(2), xv.argmax(1)] += 2.0 / h.size
    with tf.Session() as s:
        np.testing.assert_allclose(s.run(gx, {x: xv}), expected, rtol=1e-10)


@pytest.mark.parametrize("build", [
    lambda x, ax: tf.reduce_sum(x, 1), lambda x, ax: tf.reduce_mean(x, 0),
    lambda x, ax: tf.reduce_mean(x), lambda x, ax: tf.reduce_prod(x, 1),
    lambda x, ax: tf.reduce_max(x, [0, 2]), lambda x, ax: tf.reduce_min(x, -1, keepdims=True),
    lambda x, ax: tf.reduce_sum(x, ax), lambda x, ax: tf.reduce_mean(x, ax),
    lambda x, ax: tf.reduce_max(x, ax), lambda x, ax: tf.reduce_prod(x, ax),
    lambda x, ax: x * np.array([1., 2., 3., 4.]),
    lambda x, ax: tf.matmul(x, np.arange(8.).reshape(4, 2)),
])
def test_gradients_with_shapes_known_only_at_run_time(build):
    """The same gradient whether shapes and axes are static or fed."""
    xv = rng.permutation(24).reshape(2, 3, 4) * 0.1 + 0.5
    results = []
    for static in (True, False):
        g = tf.Graph()
        with g.as_default():
            x = tf.placeholder(tf.float64, xv.shape if static else [None, None, 4])
            ax = tf.constant([0, 2]) if static else tf.placeholder(tf.int32, [None])
            y = build(x, ax)
            u = tf.constant(np.linspace(-1, 1, int(np.prod(run_shape(y, x, xv, ax)))))
            gx = tf.gradients(tf.reduce_sum(tf.reshape(y, [-1]) * u), x)[0]
            with tf.Session(graph=g) as s:
                feed = {x: xv} if static else {x: xv, ax: [0, 2]}
                results.append(s.run(gx, feed))
    np.testing.assert_allclose(results[1], results[0], rtol=1e-12)


def run_shape(y, x, xv, ax):
    """y's run-time shape (for the upstream gradient's size)."""
    with tf.Session(graph=y.graph) as s:
        feed = {x: xv}
        if ax.op.type == "Placeholder":
            feed[ax] = [0, 2]
        return s.run(y, feed).shape
