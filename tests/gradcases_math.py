"""Gradient-check cases for the math ops (format: tests/test_gradients_ops.py).

Inputs stay away from kinks and ties (abs at 0, max ties, floormod jumps) so
central differences are valid; binary ops are checked with broadcasting
shapes; reductions with int, list, negative and no axes, with and without
keepdims; matmul with every transpose and batched with broadcast batches.
"""
import numpy as np

from flowcore.ops import core
from flowcore.ops import math as m

_rng = np.random.RandomState(7)


def _r(*shape, lo=0.5, hi=1.5):
    """Uniform float64 values in [lo, hi): positive by default."""
    return _rng.uniform(lo, hi, size=shape).astype(np.float64)


def _s(*shape):
    """Signed values bounded away from 0 (kinks of abs/sign/max)."""
    return _r(*shape) * np.where(_rng.rand(*shape) < 0.5, -1.0, 1.0)


def _distinct(*shape):
    """Values with no ties (max/min reductions), shuffled."""
    n = int(np.prod(shape))
    return (_rng.permutation(n) * 0.37 + 0.5).reshape(shape).astype(np.float64)


def _y_dy(op_type, forward):
    """A fused (y, dy) gradient op (TanhGrad, ...) over y = forward(x) and dy."""
    def build(x, dy):
        return core.apply_op1(op_type, [forward(x), dy], {"T": x.dtype}, op_type)
    return build


_COND_23 = np.array([[True, False, True], [False, False, True]])

CASES = [
    # -- binary, with broadcasting ------------------------------------------------
    ("add_bcast", ["Add"], m.add, [_s(2, 3), _s(3)]),
    ("add_outer", ["Add"], m.add, [_s(2, 1), _s(1, 3)]),
    ("sub_bcast", ["Sub"], m.subtract, [_s(3), _s(2, 3)]),
    ("mul_bcast", ["Mul"], m.multiply, [_s(2, 3), _s(2, 1)]),
    ("mul_scalar", ["Mul"], m.multiply, [_s(2, 3), _s()]),
    ("realdiv_bcast", ["RealDiv"], m.realdiv, [_s(2, 3), _r(3)]),
    ("truediv_operator", ["RealDiv"], lambda x, y: x / y, [_s(3), _r(2, 3)]),
    ("div_no_nan", ["DivNoNan"], m.div_no_nan, [_s(2, 3), _r(3)]),
    ("floormod", ["FloorMod"], m.floormod,
     [np.array([[2.3, -1.7, 4.1], [0.6, 3.3, -2.2]]), np.array([1.1, 0.9, 1.3])]),
    ("pow_bcast", ["Pow"], m.pow, [_r(2, 3), _s(3)]),
    ("pow_negative_base", ["Pow"], lambda x: m.pow(x, 3.0), [_s(2, 3)]),
    ("pow_operator", ["Pow"], lambda x, y: x ** y, [_r(3), _r(2, 1)]),
    ("maximum_bcast", ["Maximum"], m.maximum, [_distinct(2, 3), _r(3) + 0.1]),
    ("minimum_bcast", ["Minimum"], m.minimum, [_distinct(2, 3), _r(2, 1) + 0.1]),
    ("squared_difference", ["SquaredDifference"], m.squared_difference, [_s(2, 3), _s(3)]),
    ("atan2", ["Atan2"], m.atan2, [_s(2, 3), _r(3)]),
    # -- unary ----------------------------------------------------------------------
    ("neg", ["Neg"], m.negative, [_s(2, 3)]),
    ("abs", ["Abs"], m.abs, [_s(2, 3)]),
    ("sign", ["Sign", "Mul"], lambda x: m.sign(x) * x, [_s(2, 3)]),
    ("square", ["Square"], m.square, [_s(2, 3)]),
    ("sqrt", ["Sqrt"], m.sqrt, [_r(2, 3)]),
    ("rsqrt", ["Rsqrt"], m.rsqrt, [_r(2, 3)]),
    ("reciprocal", ["Reciprocal"], m.reciprocal, [_s(2, 3)]),
    ("exp", ["Exp"], m.exp, [_s(2, 3)]),
    ("expm1", ["Expm1"], m.expm1, [_s(2, 3)]),
    ("log", ["Log"], m.log, [_r(2, 3)]),
    ("log1p", ["Log1p"], m.log1p, [_r(2, 3)]),
    ("sin", ["Sin"], m.sin, [_s(2, 3)]),
    ("cos", ["Cos"], m.cos, [_s(2, 3)]),
    ("tan", ["Tan"], m.tan, [_s(2, 3) * 0.5]),
    ("asin", ["Asin"], m.asin, [_s(2, 3) * 0.5]),
    ("acos", ["Acos"], m.acos, [_s(2, 3) * 0.5]),
    ("atan", ["Atan"], m.atan, [_s(2, 3)]),
    ("sinh", ["Sinh"], m.sinh, [_s(2, 3)]),
    ("cosh", ["Cosh"], m.cosh, [_s(2, 3)]),
    ("tanh", ["Tanh"], m.tanh, [_s(2, 3)]),
    ("sigmoid", ["Sigmoid"], m.sigmoid, [_s(2, 3) * 2]),
    # -- the fused (y, dy) gradient ops (second derivatives) ------------------------
    ("tanh_grad", ["TanhGrad"], _y_dy("TanhGrad", m.tanh), [_s(2, 3), _s(2, 3)]),
    ("sigmoid_grad", ["SigmoidGrad"], _y_dy("SigmoidGrad", m.sigmoid), [_s(2, 3), _s(2, 3)]),
    ("sqrt_grad", ["SqrtGrad"], _y_dy("SqrtGrad", m.sqrt), [_r(2, 3), _s(2, 3)]),
    ("rsqrt_grad", ["RsqrtGrad"], _y_dy("RsqrtGrad", m.rsqrt), [_r(2, 3), _s(2, 3)]),
    ("reciprocal_grad", ["ReciprocalGrad"], _y_dy("ReciprocalGrad", m.reciprocal),
     [_s(2, 3), _s(2, 3)]),
    # -- add_n, select, cast -----------------------------------------------------------
    ("add_n", ["AddN"], lambda x, y: m.add_n([x, y, x]), [_s(2, 3), _s(2, 3)]),
    ("select_same_shape", ["Select"], lambda x, y: m.where(_COND_23, x, y),
     [_s(2, 3), _s(2, 3)]),
    ("select_rows", ["Select"], lambda x, y: m.where([True, False], x, y),
     [_s(2, 3), _s(2, 3)]),
    ("select_v2_bcast", ["SelectV2"], lambda x, y: m.where_v2([True, False, True], x, y),
     [_s(2, 3), _s(2, 1)]),
    # float32 round-off is below the finite-difference noise for values ~1e-6
    ("cast_roundtrip", ["Cast"],
     lambda x: m.cast(m.cast(x, "float32"), "float64") * 3.0, [_s(2, 3) * 1e-6]),
    # -- matmul ---------------------------------------------------------------------
    ("matmul", ["MatMul"], m.matmul, [_s(2, 3), _s(3, 4)]),
    ("matmul_ta", ["MatMul"], lambda a, b: m.matmul(a, b, transpose_a=True),
     [_s(3, 2), _s(3, 4)]),
    ("matmul_tb", ["MatMul"], lambda a, b: m.matmul(a, b, transpose_b=True),
     [_s(2, 3), _s(4, 3)]),
    ("matmul_ta_tb", ["MatMul"],
     lambda a, b: m.matmul(a, b, transpose_a=True, transpose_b=True), [_s(3, 2), _s(4, 3)]),
    ("matmul_operator", ["MatMul"], lambda a, b: a @ b, [_s(2, 2), _s(2, 3)]),
    ("batch_matmul", ["BatchMatMulV2"], m.matmul, [_s(2, 2, 3), _s(2, 3, 2)]),
    ("batch_matmul_bcast", ["BatchMatMulV2"], m.matmul,
     [_s(2, 2, 3), _s(3, 2)]),
    ("batch_matmul_bcast_batch", ["BatchMatMulV2"], m.matmul,
     [_s(2, 1, 2, 3), _s(2, 3, 2)]),
    ("batch_matmul_adj", ["BatchMatMulV2"],
     lambda a, b: m.matmul(a, b, adjoint_a=True, adjoint_b=True), [_s(2, 3, 2), _s(2, 2, 3)]),
    ("batch_matmul_adj_a", ["BatchMatMulV2"],
     lambda a, b: m.matmul(a, b, adjoint_a=True), [_s(2, 3, 2), _s(3, 2)]),
    ("batch_matmul_adj_b", ["BatchMatMulV2"],
     lambda a, b: m.matmul(a, b, transpose_b=True), [_s(2, 2, 3), _s(2, 2, 3)]),
    # -- reductions -------------------------------------------------------------------
    ("sum_all", ["Sum"], m.reduce_sum, [_s(2, 3)]),
    ("sum_axis", ["Sum"], lambda x: m.reduce_sum(x, 1), [_s(2, 3, 2)]),
    ("sum_axes_keepdims", ["Sum"], lambda x: m.reduce_sum(x, [0, -1], keepdims=True),
     [_s(2, 3, 2)]),
    ("sum_keep_dims_alias", ["Sum"], lambda x: m.reduce_sum(x, 0, keep_dims=True), [_s(2, 3)]),
    ("mean_all", ["Mean"], m.reduce_mean, [_s(2, 3)]),
    ("mean_axes", ["Mean"], lambda x: m.reduce_mean(x, [0, 2]), [_s(2, 3, 2)]),
    ("mean_keepdims", ["Mean"], lambda x: m.reduce_mean(x, -1, keepdims=True), [_s(2, 3)]),
    ("prod_axis", ["Prod"], lambda x: m.reduce_prod(x, 1), [_s(2, 3)]),
    ("prod_all", ["Prod"], m.reduce_prod, [_s(2, 3)]),
    ("prod_with_zeros", ["Prod"], lambda x: m.reduce_prod(x, 1, keepdims=True),
     [np.array([[0.0, 1.3, -0.7], [0.0, 0.0, 1.1], [0.9, 1.2, -1.4]])]),
    ("prod_axes", ["Prod"], lambda x: m.reduce_prod(x, [0, 2]), [_s(2, 3, 2)]),
    ("max_axis", ["Max"], lambda x: m.reduce_max(x, 1), [_distinct(2, 3)]),
    ("max_all", ["Max"], m.reduce_max, [_distinct(2, 3)]),
    ("min_keepdims", ["Min"], lambda x: m.reduce_min(x, 0, keepdims=True), [_distinct(2, 3)]),
    ("min_axes", ["Min"], lambda x: m.reduce_min(x, [0, 2]), [_distinct(2, 3, 2)]),
    ("logsumexp", ["Max", "Sum", "Exp", "Log", "SelectV2", "IsFinite"],
     lambda x: m.reduce_logsumexp(x, 1), [_s(2, 3)]),
    ("logsumexp_all", [], m.reduce_logsumexp, [_s(2, 3)]),
    ("reduce_std", [], lambda x: m.reduce_std(x, 0), [_s(3, 2)]),
    ("cumsum", ["Cumsum"], lambda x: m.cumsum(x, 1), [_s(2, 3)]),
    ("cumsum_exclusive_reverse", ["Cumsum"],
     lambda x: m.cumsum(x, 0, exclusive=True, reverse=True), [_s(3, 2)]),
    ("cumprod", ["Cumprod"], lambda x: m.cumprod(x, 1), [_s(2, 3)]),
    ("cumprod_exclusive_reverse", ["Cumprod"],
     lambda x: m.cumprod(x, 1, exclusive=True, reverse=True), [_s(2, 3)]),
    # -- clipping and norms (compositions) ---------------------------------------------
    ("clip_by_value", ["Minimum", "Maximum"], lambda x: m.clip_by_value(x, -0.9, 0.8),
     [np.array([[-1.3, -0.4, 0.2], [0.6, 1.1, -0.95]])]),
    ("clip_by_norm", [], lambda x: m.clip_by_norm(x, 1.0, axes=[1]), [_s(2, 3)]),
    ("global_norm", [], lambda x, y: m.global_norm([x, None, y]), [_s(2, 3), _s(3)]),
    ("clip_by_global_norm", [],
     lambda x, y: m.clip_by_global_norm([x, y], 1.5)[0][0], [_s(2, 3), _s(3)]),
]
