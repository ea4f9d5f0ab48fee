"""Math ops: element-wise arithmetic with numpy broadcasting, comparisons and
logic, `add_n`, `where`, matmul, casts, and the Python operators of `Tensor`.
Reductions, argmax and cumulative ops live in `math_reduce.py`, clipping and
norms in `math_clip.py`; this module re-exports both, so its `__all__` is the
whole family (`tf.math`).

Each op's builder, static shape rule, kernel and gradient sit together.  TF's
op type names, default op names, attributes and build-time errors are kept: a
dtype an op does not take is a `TypeError`, incompatible static shapes a
`ValueError`, both raised while the graph is built.  Kernels are one numpy
call where possible, through `op.xp`.  Gradients of broadcasting ops are
summed back to each input's shape with `unbroadcast` (the `ReduceToShape` op).
Kernels that may legitimately meet inf/NaN (division, log, ...) run with
numpy's floating-point warnings off: TensorFlow never warns about them.
"""
import builtins

import numpy as np

from flowcore import backend, batching, dtypes, errors, registry
from flowcore.graph import Tensor, name_scope
from flowcore.ops import core
from flowcore.ops.core import (apply_op1, constant, constant_value, convert_same_dtype,
                               convert_to_tensor, graph_for)
from flowcore.shapes import TensorShape, broadcast_shape, unknown_shape

__all__ = []

# -- dtype groups: TF's allowed types, restricted to the dtypes flowcore has ----------

_FLOAT = (dtypes.float16, dtypes.float32, dtypes.float64)
_SIGNED = _FLOAT + (dtypes.int8, dtypes.int16, dtypes.int32, dtypes.int64)
_REAL = _SIGNED + (dtypes.uint8, dtypes.uint16, dtypes.uint32, dtypes.uint64)
_ADDABLE = _REAL + (dtypes.string,)         # Add concatenates strings
_ANY = _REAL + (dtypes.bool, dtypes.string)  # Equal, NotEqual
_BOOL = (dtypes.bool,)
_MATMUL = _FLOAT + (dtypes.int32, dtypes.int64, dtypes.uint8, dtypes.uint16,
                    dtypes.uint32, dtypes.uint64)
_INDEX = (dtypes.int32, dtypes.int64)


def _check_dtype(op_type, t, allowed, param="x"):
    """TypeError with TF's message unless `t`'s dtype is one of `allowed`."""
    if t.dtype in allowed:
        return
    if len(allowed) == 1:
        raise TypeError("Input '%s' of '%s' Op has type %s that does not match expected type "
                        "of %s." % (param, op_type, t.dtype.name, allowed[0].name))
    raise TypeError("Value passed to parameter '%s' has DataType %s not in list of allowed "
                    "values: %s" % (param, t.dtype.name, ", ".join(d.name for d in allowed)))


def _check_same(op_type, a, b, pa="x", pb="y"):
    if a.dtype is not b.dtype:
        raise TypeError("Input '%s' of '%s' Op has type %s that does not match type %s of "
                        "argument '%s'." % (pb, op_type, b.dtype.name, a.dtype.name, pa))


def _deprecated_arg(new, new_name, old, old_name):
    """TF1's deprecated-argument aliases (`keep_dims`, `reduction_indices`, ...)."""
    if old is not None:
        if new is not None:
            raise ValueError("Cannot specify both '%s' and '%s'." % (old_name, new_name))
        return old
    return new


def _is_sparse(x):
    return hasattr(x, "dense_shape") and hasattr(x, "indices") and \
        type(x).__name__ in ("SparseTensor", "SparseTensorValue")


def _is_indexed_slices(x):
    return type(x).__name__ == "IndexedSlices" and hasattr(x, "indices")


def _rebuild_slices(like, values):
    """`values` in the place of `like.values` (IndexedSlices keep indices and shape)."""
    return type(like)(values, like.indices, like.dense_shape)


def _np_fp_quiet():
    """A wrapper factory running kernels with numpy's FP warnings off.  Uses
    numpy's error-state context variable directly when available (a third of
    the cost of `np.errstate`), else `np.errstate`."""
    try:
        from numpy._core._multiarray_umath import _extobj_contextvar, _make_extobj
        ignore = _make_extobj(all="ignore")
    except ImportError:   # pragma: no cover - other numpy layouts
        def quiet(fn):
            def kernel(ctx, op, *args):
                with np.errstate(all="ignore"):
                    return fn(ctx, op, *args)
            return kernel
        return quiet

    def quiet(fn):
        def kernel(ctx, op, *args):
            token = _extobj_contextvar.set(ignore)
            try:
                return fn(ctx, op, *args)
            finally:
                _extobj_contextvar.reset(token)
        kernel.__name__ = getattr(fn, "__name__", "kernel")
        return kernel
    return quiet


_quiet = _np_fp_quiet()


def _scoped_op(op_type, inputs, extra, attrs, name):
    """Add `op_type` over `inputs` plus `extra` (named (value, input name)
    pairs converted inside the op's own name scope, so a reduction's axis is
    'Sum/reduction_indices' as in TF).  `attrs` is a function of the converted
    extra tensors returning the attribute dict."""
    g = graph_for(inputs)
    with g.as_default(), g.name_scope(name or op_type) as scope:
        ts = [v if isinstance(v, Tensor) else convert_to_tensor(
            v, name=n, dtype=dtypes.int32 if isinstance(v, (list, tuple)) and not v else None)
            for v, n in extra]
        return apply_op1(op_type, list(inputs) + ts, attrs(*ts), scope)


def _zeros_like(t):
    from flowcore.ops import array
    return array.zeros_like(t)


def _shape_of(t):
    """`t`'s shape as an int32 tensor: a constant when statically known."""
    if t.shape.is_fully_defined():
        return constant(np.asarray(t.shape.as_list(), dtype=np.int32))
    from flowcore.ops import array
    return array.shape(t)


# -- helpers for gradients ----------------------------------------------------------

def _reduce_to_shape_kernel(ctx, op, grad, shape):
    """Sum `grad` over the axes broadcasting added or stretched to reach
    `shape` (nothing to do, the common case, when the shapes already match)."""
    shape = tuple(shape.tolist())
    gs = grad.shape
    if gs == shape:
        return grad
    extra = len(gs) - len(shape)
    axes = tuple(builtins.range(extra)) + tuple(
        i + extra for i, d in enumerate(shape) if d == 1 and gs[i + extra] != 1)
    g = op.xp.sum(grad, axis=axes, dtype=grad.dtype, keepdims=True) if axes else grad
    return g.reshape(shape)


def _reduce_to_shape_shape(op):
    v = constant_value(op.inputs[1])
    if v is not None:
        return [(op.inputs[0].dtype, TensorShape([int(d) for d in v]))]
    n = op.inputs[1].shape
    rank = n[0].value if n.ndims == 1 else None
    return [(op.inputs[0].dtype, TensorShape(None) if rank is None else TensorShape([None] * rank))]


def _reduce_to_shape_grad(op, grad):
    from flowcore.ops import array
    return [array.broadcast_to(grad, array.shape(op.inputs[0])), None]


registry.register("ReduceToShape", shape=_reduce_to_shape_shape,
                  kernel=_reduce_to_shape_kernel, grad=_reduce_to_shape_grad)


def unbroadcast(grad, x):
    """`grad` (shaped like a broadcast result) summed back to the shape of `x`."""
    if grad is None:
        return None
    if not isinstance(grad, Tensor):
        grad = convert_to_tensor(grad)
    gs, xs = grad.shape, x.shape
    if gs.is_fully_defined() and xs.is_fully_defined() and gs.as_list() == xs.as_list():
        return grad
    return apply_op1("ReduceToShape", [grad, _shape_of(x)], None, "ReduceToShape")


# -- element-wise op families -----------------------------------------------------------

_NO_GRAD = object()


def _register_binary(op_type, kernel, grad, allowed, out_dtype=None,
                     batch=batching.broadcasting):
    """Register a broadcasting binary op: `kernel(ctx, op, x, y)`; both inputs
    of one dtype in `allowed`; output `out_dtype` (default: the inputs')."""
    def shape(op):
        x, y = op.inputs
        _check_same(op_type, x, y)
        _check_dtype(op_type, x, allowed)
        return [(out_dtype or x.dtype, broadcast_shape(x.shape, y.shape))]
    registry.register(op_type, shape=shape, kernel=kernel,
                      grad=None if grad is _NO_GRAD else grad, batch=batch)
    if grad is _NO_GRAD:
        registry.NotDifferentiable(op_type)


def _binary_builder(op_type, default_name=None, doc=None):
    default_name = default_name or op_type

    def builder(x, y, name=None):
        x, y = convert_same_dtype([x, y], names=["x", "y"])
        return apply_op1(op_type, [x, y], {"T": x.dtype}, name or default_name)
    builder.__doc__ = doc
    return builder


def _register_unary(op_type, kernel, grad, allowed, out_dtype=None):
    """Register an element-wise unary op `kernel(ctx, op, x)`."""
    def shape(op):
        x = op.inputs[0]
        _check_dtype(op_type, x, allowed)
        return [(out_dtype or x.dtype, x.shape)]
    registry.register(op_type, shape=shape, kernel=kernel,
                      grad=None if grad is _NO_GRAD else grad,
                      batch=batching.leading_axis(_unary_batches))
    if grad is _NO_GRAD:
        registry.NotDifferentiable(op_type)


# Batch rules only for element-wise functions whose value cannot depend on
# how numpy lays out the call (a row of a batch or one 0-d element): IEEE's
# exactly rounded operations and integer ones.  numpy computes transcendental
# functions (exp, sin, ...) with SIMD loops whose results can differ in the
# last bit from its one-element path (float16 sin(300): -1 alone, -0.9995 in
# a row), so steps using them run per element.
_EXACT_UNARY = frozenset(["Neg", "Abs", "Sign", "Square", "Sqrt", "Rsqrt", "Reciprocal",
                          "Floor", "Ceil", "Round", "Rint", "IsNan", "IsInf", "IsFinite",
                          "LogicalNot"])
_HALF_EXACT = frozenset(["Neg", "Abs", "Sign", "Square", "Floor", "Ceil", "Round", "Rint",
                         "IsNan", "IsInf", "IsFinite"])


def _unary_batches(op, batched):
    dt = op.inputs[0].dtype
    return batching.first_only(op, batched) and (
        not dt.is_floating or op.type in (_HALF_EXACT if dt is dtypes.float16
                                          else _EXACT_UNARY))


def _unary_builder(op_type, sparse=False, doc=None):
    """The builder `f(x, name=None)`; with `sparse`, a SparseTensor maps its
    values (only for functions with f(0) == 0, as in TF)."""
    def builder(x, name=None):
        if sparse and _is_sparse(x):
            from flowcore.sparse import SparseTensor
            return SparseTensor(x.indices, builder(x.values, name), x.dense_shape)
        x = convert_to_tensor(x)
        return apply_op1(op_type, [x], {"T": x.dtype}, name or op_type)
    builder.__doc__ = doc
    return builder


# -- binary arithmetic ------------------------------------------------------------------

def _add_grad(op, grad):
    x, y = op.inputs
    return [unbroadcast(grad, x), unbroadcast(grad, y)]


def _sub_grad(op, grad):
    x, y = op.inputs
    return [unbroadcast(grad, x), unbroadcast(negative(grad), y)]


def _mul_grad(op, grad):
    x, y = op.inputs
    return [unbroadcast(multiply(grad, y), x), unbroadcast(multiply(grad, x), y)]


def _realdiv_grad(op, grad):
    x, y = op.inputs
    return [unbroadcast(realdiv(grad, y), x),
            unbroadcast(multiply(grad, realdiv(realdiv(negative(x), y), y)), y)]


def _divnonan_grad(op, grad):
    x, y = op.inputs
    return [unbroadcast(div_no_nan(grad, y), x),
            unbroadcast(multiply(grad, div_no_nan(div_no_nan(negative(x), y), y)), y)]


def _floormod_grad(op, grad):
    x, y = op.inputs
    return [unbroadcast(grad, x), unbroadcast(multiply(grad, negative(floordiv(x, y))), y)]


def _pow_grad(op, grad):
    """TF's rule: d/dy uses log(x) where x > 0 and 0 elsewhere."""
    x, y = op.inputs
    z = op.outputs[0]
    gx = multiply(multiply(grad, y), pow(x, subtract(y, 1)))
    mask = greater(x, 0)
    log_x = where_v2(mask, log(where_v2(mask, x, 1)), 0)
    gy = multiply(multiply(grad, z), log_x)
    return [unbroadcast(gx, x), unbroadcast(gy, y)]


def _maximum_minimum_grad(compare):
    def grad_fn(op, grad):
        """The gradient goes to x where `compare(x, y)` (x >= y for Maximum,
        x <= y for Minimum, ties to x), to y elsewhere, as in TF."""
        x, y = op.inputs
        xmask = compare(x, y)
        return [unbroadcast(where_v2(xmask, grad, 0), x),
                unbroadcast(where_v2(xmask, 0, grad), y)]
    return grad_fn


def _squared_difference_grad(op, grad):
    x, y = op.inputs
    g = multiply(multiply(grad, 2), subtract(x, y))
    return [unbroadcast(g, x), unbroadcast(negative(g), y)]


def _atan2_grad(op, grad):
    y, x = op.inputs
    inv = realdiv(grad, add(square(x), square(y)))
    return [unbroadcast(multiply(x, inv), y), unbroadcast(multiply(negative(y), inv), x)]


def _int_zero_check(op, y):
    if y.dtype.kind in "iu" and not y.all():
        raise errors.InvalidArgumentError(None, op, "Integer division by zero")


def _floordiv_kernel(ctx, op, x, y):
    _int_zero_check(op, y)
    return op.xp.floor_divide(x, y)


def _floormod_kernel(ctx, op, x, y):
    _int_zero_check(op, y)
    return op.xp.mod(x, y)


def _divnonan_kernel(ctx, op, x, y):
    xp = op.xp
    out = xp.where(y == 0, xp.zeros((), x.dtype), xp.true_divide(x, y))
    return out.astype(x.dtype, copy=False)


def _realdiv_kernel(ctx, op, x, y):
    r = op.xp.true_divide(x, y)
    return r if r.dtype == x.dtype else r.astype(x.dtype)   # integers: truncated


_register_binary("Add", lambda ctx, op, x, y: op.xp.add(x, y), _add_grad, _ADDABLE)
_register_binary("Sub", lambda ctx, op, x, y: op.xp.subtract(x, y), _sub_grad, _REAL)
_register_binary("Mul", lambda ctx, op, x, y: op.xp.multiply(x, y), _mul_grad, _REAL)
_register_binary("RealDiv", _quiet(_realdiv_kernel), _realdiv_grad, _REAL)
_register_binary("DivNoNan", _quiet(_divnonan_kernel), _divnonan_grad, _FLOAT)
_register_binary("FloorDiv", _quiet(_floordiv_kernel), _NO_GRAD, _REAL)
_register_binary("FloorMod", _quiet(_floormod_kernel), _floormod_grad, _REAL)
# numpy's power takes a sqrt/square path for a stride-0 exponent of 0.5 or 2
# and a SIMD pow (1 ulp away) for others: its values depend on the layout of
# the operands, so a batched step would change them (no batch rule)
_register_binary("Pow", _quiet(lambda ctx, op, x, y: op.xp.power(x, y)), _pow_grad, _SIGNED,
                 batch=None)
_register_binary("Maximum", lambda ctx, op, x, y: op.xp.maximum(x, y),
                 _maximum_minimum_grad(lambda x, y: greater_equal(x, y)), _REAL)
_register_binary("Minimum", lambda ctx, op, x, y: op.xp.minimum(x, y),
                 _maximum_minimum_grad(lambda x, y: less_equal(x, y)), _REAL)
_register_binary("SquaredDifference",
                 lambda ctx, op, x, y: op.xp.square(op.xp.subtract(x, y)),
                 _squared_difference_grad, _SIGNED)
_register_binary("Atan2", lambda ctx, op, x, y: op.xp.arctan2(x, y), _atan2_grad, _FLOAT,
                 batch=None)        # transcendental: see _EXACT_UNARY

add = _binary_builder("Add", doc="x + y element-wise, with broadcasting (strings concatenate).")
subtract = _binary_builder("Sub", doc="x - y element-wise, with broadcasting.")
multiply = _binary_builder("Mul", doc="x * y element-wise, with broadcasting.")
realdiv = _binary_builder("RealDiv", doc="x / y for real types (no integer conversion).")
div_no_nan = _binary_builder("DivNoNan", "div_no_nan", doc="x / y, and 0 where y is 0.")
floormod = _binary_builder("FloorMod", doc="x mod y with the sign of y (Python's %).")
mod = floormod
pow = _binary_builder("Pow", doc="x ** y; integers to negative powers fail.")  # noqa: A001
maximum = _binary_builder("Maximum", doc="The element-wise maximum of x and y.")
minimum = _binary_builder("Minimum", doc="The element-wise minimum of x and y.")
squared_difference = _binary_builder("SquaredDifference", doc="(x - y) ** 2 element-wise.")
atan2 = _binary_builder("Atan2", doc="The element-wise arctangent of y / x (inputs y, x).")

_TRUEDIV_TARGET = {dtypes.int8: dtypes.float32, dtypes.uint8: dtypes.float32,
                   dtypes.int16: dtypes.float32, dtypes.uint16: dtypes.float32,
                   dtypes.int32: dtypes.float64, dtypes.uint32: dtypes.float64,
                   dtypes.int64: dtypes.float64, dtypes.uint64: dtypes.float64}


def truediv(x, y, name=None):
    """x / y, with integers converted to floating point first (TF's rules:
    int8/int16/uint8/uint16 -> float32, int32/int64 -> float64)."""
    with name_scope(name, "truediv", [x, y]) as scope:
        x, y = convert_same_dtype([x, y], names=["x", "y"])
        if x.dtype not in _REAL:
            raise TypeError("Invalid dtype %s in __truediv__" % x.dtype)
        target = _TRUEDIV_TARGET.get(x.dtype)
        if target is not None:
            x, y = cast(x, target), cast(y, target)
        return realdiv(x, y, name=scope)


def divide(x, y, name=None):
    """x / y (Python 3 division: `truediv`)."""
    return truediv(x, y, name=name)


def floordiv(x, y, name=None):
    """The floor of x / y: rounds toward negative infinity, for integers and floats."""
    x, y = convert_same_dtype([x, y], names=["x", "y"])
    return apply_op1("FloorDiv", [x, y], {"T": x.dtype}, name or "floordiv")


def div(x, y, name=None):
    """TF1's deprecated Python-2 division: real division for floats, floor
    division for integers."""
    x, y = convert_same_dtype([x, y], names=["x", "y"])
    op_type = "FloorDiv" if x.dtype.is_integer else "RealDiv"
    return apply_op1(op_type, [x, y], {"T": x.dtype}, name or "div")


def scalar_mul(scalar, x, name=None):
    """`scalar * x` for a 0-D `scalar` (ValueError otherwise)."""
    s = convert_to_tensor(scalar, dtype=None if not isinstance(x, Tensor) else x.dtype)
    if s.shape.ndims != 0:
        raise ValueError("Only scalar multiply works, got shape %s" % s.shape)
    return multiply(s, x, name=name)


__all__ += ["add", "subtract", "multiply", "realdiv", "truediv", "divide", "floordiv",
            "div", "div_no_nan", "floormod", "mod", "pow", "maximum", "minimum",
            "squared_difference", "atan2", "scalar_mul"]


# -- unary math -----------------------------------------------------------------------

def _neg_grad(op, grad):
    return [negative(grad)]


def _abs_grad(op, grad):
    return [multiply(grad, sign(op.inputs[0]))]


def _sign_grad(op, grad):
    return [_zeros_like(op.inputs[0])]


def _square_grad(op, grad):
    return [multiply(grad, multiply(op.inputs[0], 2))]


def _exp_grad(op, grad):
    return [multiply(grad, op.outputs[0])]


def _log_grad(op, grad):
    return [multiply(grad, reciprocal(op.inputs[0]))]


def _log1p_grad(op, grad):
    return [multiply(grad, reciprocal(add(op.inputs[0], 1)))]


def _expm1_grad(op, grad):
    return [multiply(grad, exp(op.inputs[0]))]


def _sin_grad(op, grad):
    return [multiply(grad, cos(op.inputs[0]))]


def _cos_grad(op, grad):
    return [negative(multiply(grad, sin(op.inputs[0])))]


def _tan_grad(op, grad):
    return [multiply(grad, square(reciprocal(cos(op.inputs[0]))))]


def _asin_grad(op, grad):
    return [multiply(grad, rsqrt(subtract(1, square(op.inputs[0]))))]


def _acos_grad(op, grad):
    return [negative(multiply(grad, rsqrt(subtract(1, square(op.inputs[0])))))]


def _atan_grad(op, grad):
    return [multiply(grad, reciprocal(add(square(op.inputs[0]), 1)))]


def _sinh_grad(op, grad):
    return [multiply(grad, cosh(op.inputs[0]))]


def _cosh_grad(op, grad):
    return [multiply(grad, sinh(op.inputs[0]))]


def _y_dy_grad(grad_op):
    """Gradients that TF computes with a fused op of (y, dy): TanhGrad, ..."""
    def grad_fn(op, grad):
        grad = convert_to_tensor(grad)
        return [apply_op1(grad_op, [op.outputs[0], grad], {"T": grad.dtype}, grad_op)]
    return grad_fn


def _sigmoid_kernel(ctx, op, x):
    return 1 / (1 + op.xp.exp(-x))


_register_unary("Neg", lambda ctx, op, x: op.xp.negative(x), _neg_grad, _SIGNED)
_register_unary("Abs", lambda ctx, op, x: op.xp.abs(x), _abs_grad, _SIGNED)
_register_unary("Sign", lambda ctx, op, x: op.xp.sign(x), _sign_grad, _SIGNED)
_register_unary("Square", lambda ctx, op, x: op.xp.square(x), _square_grad, _REAL)
_register_unary("Sqrt", _quiet(lambda ctx, op, x: op.xp.sqrt(x)), _y_dy_grad("SqrtGrad"), _FLOAT)
_register_unary("Rsqrt", _quiet(lambda ctx, op, x: 1 / op.xp.sqrt(x)), _y_dy_grad("RsqrtGrad"),
                _FLOAT)
_register_unary("Reciprocal", _quiet(lambda ctx, op, x: op.xp.reciprocal(x)),
                _y_dy_grad("ReciprocalGrad"), _SIGNED)
_register_unary("Exp", _quiet(lambda ctx, op, x: op.xp.exp(x)), _exp_grad, _FLOAT)
_register_unary("Expm1", _quiet(lambda ctx, op, x: op.xp.expm1(x)), _expm1_grad, _FLOAT)
_register_unary("Log", _quiet(lambda ctx, op, x: op.xp.log(x)), _log_grad, _FLOAT)
_register_unary("Log1p", _quiet(lambda ctx, op, x: op.xp.log1p(x)), _log1p_grad, _FLOAT)
_register_unary("Sin", _quiet(lambda ctx, op, x: op.xp.sin(x)), _sin_grad, _FLOAT)
_register_unary("Cos", _quiet(lambda ctx, op, x: op.xp.cos(x)), _cos_grad, _FLOAT)
_register_unary("Tan", _quiet(lambda ctx, op, x: op.xp.tan(x)), _tan_grad, _FLOAT)
_register_unary("Asin", _quiet(lambda ctx, op, x: op.xp.arcsin(x)), _asin_grad, _FLOAT)
_register_unary("Acos", _quiet(lambda ctx, op, x: op.xp.arccos(x)), _acos_grad, _FLOAT)
_register_unary("Atan", lambda ctx, op, x: op.xp.arctan(x), _atan_grad, _FLOAT)
_register_unary("Sinh", _quiet(lambda ctx, op, x: op.xp.sinh(x)), _sinh_grad, _FLOAT)
_register_unary("Cosh", _quiet(lambda ctx, op, x: op.xp.cosh(x)), _cosh_grad, _FLOAT)
_register_unary("Tanh", lambda ctx, op, x: op.xp.tanh(x), _y_dy_grad("TanhGrad"), _FLOAT)
_register_unary("Sigmoid", _quiet(_sigmoid_kernel), _y_dy_grad("SigmoidGrad"), _FLOAT)
_register_unary("Floor", lambda ctx, op, x: op.xp.floor(x), _NO_GRAD, _FLOAT)
_register_unary("Ceil", lambda ctx, op, x: op.xp.ceil(x), _NO_GRAD, _FLOAT)
_register_unary("Round", lambda ctx, op, x: op.xp.round(x), _NO_GRAD, _SIGNED)
_register_unary("Rint", lambda ctx, op, x: op.xp.rint(x), _NO_GRAD, _FLOAT)
_register_unary("IsNan", lambda ctx, op, x: op.xp.isnan(x), _NO_GRAD, _FLOAT, dtypes.bool)
_register_unary("IsInf", lambda ctx, op, x: op.xp.isinf(x), _NO_GRAD, _FLOAT, dtypes.bool)
_register_unary("IsFinite", lambda ctx, op, x: op.xp.isfinite(x), _NO_GRAD, _FLOAT, dtypes.bool)

negative = _unary_builder("Neg", sparse=True, doc="-x element-wise.")
abs = _unary_builder("Abs", sparse=True, doc="|x| element-wise.")  # noqa: A001
sign = _unary_builder("Sign", sparse=True, doc="-1, 0 or 1 by the sign of x (NaN stays NaN).")
square = _unary_builder("Square", sparse=True, doc="x * x element-wise.")
sqrt = _unary_builder("Sqrt", sparse=True, doc="The element-wise square root.")
rsqrt = _unary_builder("Rsqrt", doc="1 / sqrt(x) element-wise.")
reciprocal = _unary_builder("Reciprocal", doc="1 / x element-wise.")
exp = _unary_builder("Exp", doc="e ** x element-wise.")
expm1 = _unary_builder("Expm1", sparse=True, doc="e ** x - 1, accurate near 0.")
log = _unary_builder("Log", doc="The natural logarithm element-wise.")
log1p = _unary_builder("Log1p", sparse=True, doc="log(1 + x), accurate near 0.")
sin = _unary_builder("Sin", sparse=True, doc="The element-wise sine.")
cos = _unary_builder("Cos", doc="The element-wise cosine.")
tan = _unary_builder("Tan", sparse=True, doc="The element-wise tangent.")
asin = _unary_builder("Asin", sparse=True, doc="The element-wise arcsine.")
acos = _unary_builder("Acos", doc="The element-wise arccosine.")
atan = _unary_builder("Atan", sparse=True, doc="The element-wise arctangent.")
sinh = _unary_builder("Sinh", sparse=True, doc="The element-wise hyperbolic sine.")
cosh = _unary_builder("Cosh", doc="The element-wise hyperbolic cosine.")
tanh = _unary_builder("Tanh", sparse=True, doc="The element-wise hyperbolic tangent.")
sigmoid = _unary_builder("Sigmoid", doc="1 / (1 + exp(-x)) element-wise.")
floor = _unary_builder("Floor", sparse=True, doc="The largest integer not above x.")
ceil = _unary_builder("Ceil", sparse=True, doc="The smallest integer not below x.")
round = _unary_builder("Round", sparse=True, doc="x rounded half to even.")  # noqa: A001
rint = _unary_builder("Rint", sparse=True, doc="x rounded half to even.")
is_nan = _unary_builder("IsNan", doc="Whether each element is NaN.")
is_inf = _unary_builder("IsInf", doc="Whether each element is +/-inf.")
is_finite = _unary_builder("IsFinite", doc="Whether each element is finite.")


def reciprocal_no_nan(x, name=None):
    """1 / x, and 0 where x is 0."""
    x = convert_to_tensor(x)
    with name_scope(name, "reciprocal_no_nan", [x]) as scope:
        return div_no_nan(constant(1, dtype=x.dtype), x, name=scope)


__all__ += ["negative", "abs", "sign", "square", "sqrt", "rsqrt", "reciprocal", "exp",
            "expm1", "log", "log1p", "sin", "cos", "tan", "asin", "acos", "atan", "sinh",
            "cosh", "tanh", "sigmoid", "floor", "ceil", "round", "rint", "is_nan", "is_inf",
            "is_finite", "reciprocal_no_nan"]


# -- the fused (y, dy) gradient ops and their own gradients ---------------------------

def _tanh_grad_grad(op, grad):
    y, dy = op.inputs
    return [multiply(multiply(grad, -2.0), multiply(dy, y)),
            apply_op1("TanhGrad", [y, grad], {"T": y.dtype}, "TanhGrad")]


def _sigmoid_grad_grad(op, grad):
    y, dy = op.inputs
    gb = multiply(grad, dy)
    return [subtract(gb, multiply(multiply(gb, 2.0), y)),
            apply_op1("SigmoidGrad", [y, grad], {"T": y.dtype}, "SigmoidGrad")]


def _sqrt_grad_grad(op, grad):
    y = op.inputs[0]
    ga = realdiv(grad, y)
    return [negative(multiply(op.outputs[0], ga)), multiply(ga, 0.5)]


def _rsqrt_grad_grad(op, grad):
    y, dy = op.inputs
    return [multiply(multiply(grad, -1.5), multiply(dy, square(y))),
            apply_op1("RsqrtGrad", [y, grad], {"T": y.dtype}, "RsqrtGrad")]


def _reciprocal_grad_grad(op, grad):
    y, dy = op.inputs
    return [multiply(multiply(grad, -2.0), multiply(dy, y)),
            apply_op1("ReciprocalGrad", [y, grad], {"T": y.dtype}, "ReciprocalGrad")]


def _register_y_dy(op_type, kernel, grad):
    def shape(op):
        y, dy = op.inputs
        _check_same(op_type, y, dy, "y", "dy")
        _check_dtype(op_type, y, _FLOAT, "y")
        return [(y.dtype, y.shape.merge_with(dy.shape))]
    registry.register(op_type, shape=shape, kernel=kernel, grad=grad)


_register_y_dy("TanhGrad", lambda ctx, op, y, dy: dy * (1 - y * y), _tanh_grad_grad)
_register_y_dy("SigmoidGrad", lambda ctx, op, y, dy: dy * (y * (1 - y)), _sigmoid_grad_grad)
_register_y_dy("SqrtGrad", _quiet(lambda ctx, op, y, dy: dy * 0.5 / y), _sqrt_grad_grad)
_register_y_dy("RsqrtGrad", lambda ctx, op, y, dy: dy * (-0.5 * y * y * y), _rsqrt_grad_grad)
_register_y_dy("ReciprocalGrad", lambda ctx, op, y, dy: -dy * (y * y), _reciprocal_grad_grad)


# -- comparisons and logic ------------------------------------------------------------

for _t, _k, _allowed in (
        ("Equal", lambda ctx, op, x, y: op.xp.equal(x, y), _ANY),
        ("NotEqual", lambda ctx, op, x, y: op.xp.not_equal(x, y), _ANY),
        ("Less", lambda ctx, op, x, y: op.xp.less(x, y), _REAL),
        ("LessEqual", lambda ctx, op, x, y: op.xp.less_equal(x, y), _REAL),
        ("Greater", lambda ctx, op, x, y: op.xp.greater(x, y), _REAL),
        ("GreaterEqual", lambda ctx, op, x, y: op.xp.greater_equal(x, y), _REAL),
        ("LogicalAnd", lambda ctx, op, x, y: op.xp.logical_and(x, y), _BOOL),
        ("LogicalOr", lambda ctx, op, x, y: op.xp.logical_or(x, y), _BOOL)):
    _register_binary(_t, _k, _NO_GRAD, _allowed, dtypes.bool)
_register_unary("LogicalNot", lambda ctx, op, x: op.xp.logical_not(x), _NO_GRAD, _BOOL)

equal = _binary_builder("Equal", doc="x == y element-wise (bool), with broadcasting.")
not_equal = _binary_builder("NotEqual", doc="x != y element-wise (bool).")
less = _binary_builder("Less", doc="x < y element-wise (bool).")
less_equal = _binary_builder("LessEqual", doc="x <= y element-wise (bool).")
greater = _binary_builder("Greater", doc="x > y element-wise (bool).")
greater_equal = _binary_builder("GreaterEqual", doc="x >= y element-wise (bool).")


def _bools(x, y):
    return convert_same_dtype([x, y], dtype=None if isinstance(x, Tensor) or
                              isinstance(y, Tensor) else dtypes.bool, names=["x", "y"])


def logical_and(x, y, name=None):
    """x AND y element-wise for bool tensors."""
    x, y = _bools(x, y)
    return apply_op1("LogicalAnd", [x, y], None, name or "LogicalAnd")


def logical_or(x, y, name=None):
    """x OR y element-wise for bool tensors."""
    x, y = _bools(x, y)
    return apply_op1("LogicalOr", [x, y], None, name or "LogicalOr")


def logical_not(x, name=None):
    """NOT x element-wise for a bool tensor."""
    x = convert_to_tensor(x, preferred_dtype=dtypes.bool)
    return apply_op1("LogicalNot", [x], None, name or "LogicalNot")


def logical_xor(x, y, name="LogicalXor"):
    """x XOR y, built as TF builds it: (x OR y) AND NOT (x AND y)."""
    x, y = _bools(x, y)
    return logical_and(logical_or(x, y), logical_not(logical_and(x, y)), name=name)


__all__ += ["equal", "not_equal", "less", "less_equal", "greater", "greater_equal",
            "logical_and", "logical_or", "logical_not", "logical_xor"]


# -- add_n ----------------------------------------------------------------------------

def _add_n_shape(op):
    xs = op.inputs
    first = xs[0].dtype
    if any(t.dtype is not first for t in xs):
        raise TypeError("Tensors in list passed to 'inputs' of 'AddN' Op have types [%s] that "
                        "don't all match." % ", ".join(t.dtype.name for t in xs))
    _check_dtype("AddN", xs[0], _REAL, "inputs")
    shape = xs[0].shape
    for t in xs[1:]:
        try:
            shape = shape.merge_with(t.shape)
        except ValueError:
            raise ValueError("Shapes %s and %s are not compatible: AddN inputs must have the "
                             "same shape" % (shape, t.shape)) from None
    return [(first, shape)]


def _add_n_kernel(ctx, op, *xs):
    s0 = xs[0].shape
    for i in builtins.range(1, len(xs)):
        if xs[i].shape != s0:
            raise errors.InvalidArgumentError(
                None, op, "Inputs to operation %s of type AddN must have the same size and "
                "shape.  Input 0: %s != input %d: %s" % (op.name, list(s0), i, list(xs[i].shape)))
    out = xs[0] + xs[1]
    for x in xs[2:]:
        out += x
    return out


def _add_n_grad(op, grad):
    return [grad] * len(op.inputs)


registry.register("AddN", shape=_add_n_shape, kernel=_add_n_kernel, grad=_add_n_grad)


def add_n(inputs, name=None):
    """The element-wise sum of a list of tensors of one dtype and shape."""
    if not inputs or not isinstance(inputs, (list, tuple)):
        raise ValueError("Inputs must be an iterable of at least one Tensor/IndexedSlices with "
                         "the same dtype and shape.")
    inputs = [convert_to_tensor(t) for t in inputs]
    if len(inputs) == 1:
        return core.identity(inputs[0], name=name) if name else inputs[0]
    return apply_op1("AddN", inputs, {"N": len(inputs), "T": inputs[0].dtype}, name or "AddN")


def accumulate_n(inputs, shape=None, tensor_dtype=None, name=None):
    """TF1's `accumulate_n`: the same sum as `add_n`."""
    return add_n(inputs, name=name)


__all__ += ["add_n", "accumulate_n"]


# -- where / select ---------------------------------------------------------------------

def _select_shape(op):
    c, t, e = op.inputs
    _check_same("Select", t, e, "t", "e")
    _check_dtype("Select", c, _BOOL, "condition")
    out = t.shape.merge_with(e.shape)
    cs = c.shape
    if cs.ndims is not None and out.ndims is not None and cs.ndims != 0:
        if cs.ndims == out.ndims:
            out = out.merge_with(cs)
        elif cs.ndims == 1 and out.ndims >= 1:
            first = out[0].merge_with(cs[0])
            out = TensorShape([first] + out.dims[1:])
        else:
            raise ValueError("Shape must be rank 0, 1 or %d but is rank %d: the condition of "
                             "Select is a scalar, a vector over the first dimension or "
                             "shaped like the values" % (out.ndims, cs.ndims))
    return [(t.dtype, out)]


def _select_kernel(ctx, op, c, t, e):
    xp = op.xp
    if t.shape != e.shape:
        raise errors.InvalidArgumentError(
            None, op, "'then' and 'else' must have the same size.  but received: %s vs. %s"
            % (list(t.shape), list(e.shape)))
    if c.ndim == t.ndim or c.ndim == 0:
        if c.ndim and c.shape != t.shape:
            raise errors.InvalidArgumentError(
                None, op, "'cond' and 'then' must have the same shape: %s vs. %s"
                % (list(c.shape), list(t.shape)))
        return xp.where(c, t, e)
    if c.ndim == 1:
        if c.shape[0] != t.shape[0]:
            raise errors.InvalidArgumentError(
                None, op, "Number of batches of 'then' must match size of 'cond', but saw: "
                "%d vs. %d" % (t.shape[0], c.shape[0]))
        return xp.where(c.reshape(c.shape + (1,) * (t.ndim - 1)), t, e)
    raise errors.InvalidArgumentError(None, op, "'cond' must be a scalar, a vector or shaped "
                                      "like 'then': %s vs. %s" % (list(c.shape), list(t.shape)))


def _select_grad(op, grad):
    c, x = op.inputs[0], op.inputs[1]
    zeros = _zeros_like(x)
    return [None, select(c, grad, zeros), select(c, zeros, grad)]


registry.register("Select", shape=_select_shape, kernel=_select_kernel, grad=_select_grad)


def _select_v2_shape(op):
    c, t, e = op.inputs
    _check_same("SelectV2", t, e, "t", "e")
    _check_dtype("SelectV2", c, _BOOL, "condition")
    return [(t.dtype, broadcast_shape(broadcast_shape(c.shape, t.shape), e.shape))]


def _select_v2_grad(op, grad):
    c, x, y = op.inputs
    return [None, unbroadcast(where_v2(c, grad, 0), x), unbroadcast(where_v2(c, 0, grad), y)]


registry.register("SelectV2", shape=_select_v2_shape,
                  kernel=lambda ctx, op, c, t, e: op.xp.where(c, t, e), grad=_select_v2_grad)


def _where_coords(condition, name):
    """The `Where` op (registered with boolean_mask in ops/array_gather.py)."""
    c = convert_to_tensor(condition, preferred_dtype=dtypes.bool)
    return apply_op1("Where", [c], {"T": c.dtype}, name or "Where")


def select(condition, x, y, name=None):
    """TF1's `Select`: elements of x where `condition`, else of y.  `x` and `y`
    have one shape; `condition` has that shape, is a scalar, or is a vector
    choosing whole rows (first dimension)."""
    x, y = convert_same_dtype([x, y], names=["t", "e"])
    c = convert_to_tensor(condition, preferred_dtype=dtypes.bool)
    return apply_op1("Select", [c, x, y], {"T": x.dtype}, name or "Select")


def where(condition, x=None, y=None, name=None):
    """TF1's `where`: with only `condition`, the int64 coordinates [n, rank]
    of its true (non-zero) elements; with `x` and `y`, `select`."""
    if x is None and y is None:
        return _where_coords(condition, name)
    if x is None or y is None:
        raise ValueError("x and y must both be non-None or both be None.")
    return select(condition, x, y, name=name)


def where_v2(condition, x=None, y=None, name=None):
    """TF2's `where`: like `where`, but condition, x and y broadcast together."""
    if x is None and y is None:
        return _where_coords(condition, name)
    if x is None or y is None:
        raise ValueError("x and y must both be non-None or both be None.")
    x, y = convert_same_dtype([x, y], names=["t", "e"])
    c = convert_to_tensor(condition, preferred_dtype=dtypes.bool)
    return apply_op1("SelectV2", [c, x, y], {"T": x.dtype}, name or "SelectV2")


__all__ += ["where", "where_v2", "select"]


# -- matmul ---------------------------------------------------------------------------

def _inner_dims_check(a, b, ka, kb):
    if not ka.is_compatible_with(kb):
        raise ValueError("Dimensions must be equal, but are %s and %s" % (ka, kb))


def _matmul_shape(op):
    a, b = op.inputs
    _check_same("MatMul", a, b, "a", "b")
    _check_dtype("MatMul", a, _MATMUL, "a")
    sa, sb = a.shape, b.shape
    for s in (sa, sb):
        if s.ndims is not None and s.ndims != 2:
            raise ValueError("Shape must be rank 2 but is rank %d" % s.ndims)
    sa = sa if sa.ndims is not None else unknown_shape(2)
    sb = sb if sb.ndims is not None else unknown_shape(2)
    ta, tb = op.attrs["transpose_a"], op.attrs["transpose_b"]
    m, ka = (sa[1], sa[0]) if ta else (sa[0], sa[1])
    kb, n = (sb[1], sb[0]) if tb else (sb[0], sb[1])
    _inner_dims_check(a, b, ka, kb)
    return [(a.dtype, TensorShape([m, n]))]


def _matmul_kernel(ctx, op, a, b):
    attrs = op.attrs
    if attrs["transpose_a"]:
        a = a.T
    if attrs["transpose_b"]:
        b = b.T
    backend.before_blas()
    return op.xp.dot(a, b)


def _matmul_grad(op, grad):
    a, b = op.inputs
    ta, tb = op.attrs["transpose_a"], op.attrs["transpose_b"]
    if not ta and not tb:
        return [matmul(grad, b, transpose_b=True), matmul(a, grad, transpose_a=True)]
    if not ta:
        return [matmul(grad, b), matmul(grad, a, transpose_a=True)]
    if not tb:
        return [matmul(b, grad, transpose_b=True), matmul(a, grad)]
    return [matmul(b, grad, transpose_a=True, transpose_b=True),
            matmul(grad, a, transpose_a=True, transpose_b=True)]


registry.register("MatMul", shape=_matmul_shape, kernel=_matmul_kernel, grad=_matmul_grad)


def _batch_matmul_shape(op):
    a, b = op.inputs
    _check_same("BatchMatMulV2", a, b, "x", "y")
    _check_dtype("BatchMatMulV2", a, _MATMUL, "x")
    sa, sb = a.shape, b.shape
    for s in (sa, sb):
        if s.ndims is not None and s.ndims < 2:
            raise ValueError("Shape must be at least rank 2 but is rank %d" % s.ndims)
    if sa.ndims is None or sb.ndims is None:
        return [(a.dtype, unknown_shape())]
    ax, ay = op.attrs["adj_x"], op.attrs["adj_y"]
    m, ka = (sa[-1], sa[-2]) if ax else (sa[-2], sa[-1])
    kb, n = (sb[-1], sb[-2]) if ay else (sb[-2], sb[-1])
    _inner_dims_check(a, b, ka, kb)
    batch = broadcast_shape(sa[:-2], sb[:-2])
    return [(a.dtype, batch.concatenate([m, n]))]


def _batch_matmul_kernel(ctx, op, a, b):
    attrs, xp = op.attrs, op.xp
    if attrs["adj_x"]:
        a = xp.swapaxes(a, -1, -2)
    if attrs["adj_y"]:
        b = xp.swapaxes(b, -1, -2)
    backend.before_blas()
    return xp.matmul(a, b)


def _batch_matmul_grad(op, grad):
    x, y = op.inputs
    ax, ay = op.attrs["adj_x"], op.attrs["adj_y"]
    if not ax and not ay:
        gx, gy = matmul(grad, y, adjoint_b=True), matmul(x, grad, adjoint_a=True)
    elif not ax:
        gx, gy = matmul(grad, y), matmul(grad, x, adjoint_a=True)
    elif not ay:
        gx, gy = matmul(y, grad, adjoint_b=True), matmul(x, grad)
    else:
        gx = matmul(y, grad, adjoint_a=True, adjoint_b=True)
        gy = matmul(grad, x, adjoint_a=True, adjoint_b=True)
    return [unbroadcast(gx, x), unbroadcast(gy, y)]


registry.register("BatchMatMulV2", shape=_batch_matmul_shape, kernel=_batch_matmul_kernel,
                  grad=_batch_matmul_grad)


def matmul(a, b, transpose_a=False, transpose_b=False, adjoint_a=False, adjoint_b=False,
           a_is_sparse=False, b_is_sparse=False, name=None):
    """The matrix product of `a` and `b` (`MatMul`); for inputs of rank > 2 (or
    unknown rank) a batched product with broadcast batch dimensions
    (`BatchMatMulV2`).  For real types adjoint is transpose."""
    if transpose_a and adjoint_a:
        raise ValueError("Only one of transpose_a and adjoint_a can be True.")
    if transpose_b and adjoint_b:
        raise ValueError("Only one of transpose_b and adjoint_b can be True.")
    a, b = convert_same_dtype([a, b], names=["a", "b"])
    ta, tb = builtins.bool(transpose_a or adjoint_a), builtins.bool(transpose_b or adjoint_b)
    ra, rb = a.shape.ndims, b.shape.ndims
    if ra is None or rb is None or ra > 2 or rb > 2:
        return apply_op1("BatchMatMulV2", [a, b], {"adj_x": ta, "adj_y": tb, "T": a.dtype},
                         name or "MatMul")
    return apply_op1("MatMul", [a, b], {"transpose_a": ta, "transpose_b": tb, "T": a.dtype},
                     name or "MatMul")


__all__ += ["matmul"]


# -- casts ----------------------------------------------------------------------------

_NP_FLOATS = frozenset([np.float16, np.float32, np.float64])


def _cast_kernel(ctx, op, x):
    npdt = op.__dict__.get("_np_dst")
    if npdt is None:
        npdt = op._np_dst = op.attrs["DstT"].as_numpy_dtype
    kind = x.dtype.kind
    if kind == "O" or npdt is np.object_:
        raise errors.UnimplementedError(None, op, "Cast %s to %s is not supported" % (
            op.attrs["SrcT"].name, op.attrs["DstT"].name))
    if kind == "f" and npdt not in _NP_FLOATS:   # NaN/inf to int: no numpy warning
        return _quiet_astype(x, npdt)
    return x.astype(npdt)


def _quiet_astype(x, npdt):
    with np.errstate(all="ignore"):
        return x.astype(npdt)


def _cast_grad(op, grad):
    src = op.inputs[0].dtype
    if src.is_floating and op.attrs["DstT"].is_floating:
        return [cast(grad, src)]
    return [None]


registry.register("Cast", kernel=_cast_kernel, grad=_cast_grad,
                  shape=lambda op: [(op.attrs["DstT"], op.inputs[0].shape)],
                  batch=batching.leading_axis())


def cast(x, dtype, name=None):
    """`x` converted element-wise to `dtype` (floats to ints truncate).  A
    SparseTensor or IndexedSlices keeps its structure; same dtype returns `x`."""
    dtype = dtypes.as_dtype(dtype)
    if _is_sparse(x):
        from flowcore.sparse import SparseTensor
        return SparseTensor(x.indices, cast(x.values, dtype, name), x.dense_shape)
    if _is_indexed_slices(x):
        return _rebuild_slices(x, cast(x.values, dtype, name))
    x = convert_to_tensor(x)
    if x.dtype is dtype:
        return x
    return apply_op1("Cast", [x], {"SrcT": x.dtype, "DstT": dtype, "Truncate": False},
                     name or "Cast")


def to_float(x, name="ToFloat"):
    """`cast(x, float32)` (TF1, deprecated there in favour of cast)."""
    return cast(x, dtypes.float32, name=name)


def to_double(x, name="ToDouble"):
    return cast(x, dtypes.float64, name=name)


def to_int32(x, name="ToInt32"):
    return cast(x, dtypes.int32, name=name)


def to_int64(x, name="ToInt64"):
    return cast(x, dtypes.int64, name=name)


def saturate_cast(value, dtype, name=None):
    """`value` clamped to the range of `dtype`, then cast (no wrap-around)."""
    dtype = dtypes.as_dtype(dtype)
    value = convert_to_tensor(value)
    with name_scope(name, "saturate_cast", [value]) as scope:
        src = value.dtype
        npsrc = src.as_numpy_dtype
        if src is not dtypes.bool and dtype is not dtypes.bool:
            if src.min < dtype.min:
                lo = np.asarray(dtype.min).astype(npsrc)
                if float(lo) < dtype.min:
                    lo = np.nextafter(lo, npsrc(np.inf))
                value = maximum(value, constant(lo, dtype=src))
            if src.max > dtype.max:
                hi = np.asarray(dtype.max).astype(npsrc)
                if float(hi) > dtype.max:
                    hi = np.nextafter(hi, npsrc(-np.inf))
                value = minimum(value, constant(hi, dtype=src))
        return cast(value, dtype, name=scope)


# string_to_number (StringToNumber) lives in pipeline/decode.py with decode_csv's parser.
__all__ += ["cast", "to_float", "to_double", "to_int32", "to_int64", "saturate_cast"]


# -- the rest of the family -----------------------------------------------------------

from flowcore.ops import math_clip as _math_clip, math_reduce as _math_reduce  # noqa: E402
from flowcore.ops.math_clip import *  # noqa: E402,F401,F403
from flowcore.ops.math_reduce import *  # noqa: E402,F401,F403

__all__ += _math_reduce.__all__ + _math_clip.__all__


# -- constant folding: small element-wise/reduction results known at build time -------

_FOLD_LIMIT = 1000


def _fold(op, i):
    vals = []
    for t in op.inputs:
        v = constant_value(t)
        if v is None or np.size(v) > _FOLD_LIMIT:
            return None
        vals.append(v)
    try:
        with np.errstate(all="ignore"):
            out = op.op_def.kernel(None, op, *vals)
    except Exception:
        return None
    return np.asarray(out, dtype=op.outputs[i].dtype.as_numpy_dtype)


for _t in ("Add", "Sub", "Mul", "RealDiv", "FloorDiv", "FloorMod", "Maximum", "Minimum", "Pow",
           "Neg", "Abs", "Sign", "Square", "Cast", "Sum", "Prod", "Max", "Min", "Equal",
           "NotEqual", "Less", "LessEqual", "Greater", "GreaterEqual", "LogicalAnd",
           "LogicalOr", "LogicalNot", "AddN", "Cumsum", "Cumprod", "Select", "SelectV2"):
    core.CONSTANT_VALUE_RULES[_t] = _fold


# -- Python operators on Tensor ----------------------------------------------------------

def _overload(name, fn, reverse=False):
    if reverse:
        def method(self, other):
            return fn(other, self)
    else:
        def method(self, other):
            return fn(self, other)
    method.__name__ = name
    setattr(Tensor, name, method)


def install_operator(name, fn, reverse_name=None):
    """Make `Tensor.<name>` (and its reflected form) build `fn`; Variables
    get the same operators through their snapshot."""
    _overload(name, fn)
    if reverse_name:
        _overload(reverse_name, fn, reverse=True)


def _named(fn, op_name):
    """`fn(x, y)` naming its op as TF's operator does ('add', 'truediv', ...)."""
    def binary(x, y):
        return fn(x, y, name=op_name)
    binary.__name__ = op_name
    return binary


install_operator("__add__", _named(add, "add"), "__radd__")
install_operator("__sub__", _named(subtract, "sub"), "__rsub__")
install_operator("__mul__", _named(multiply, "mul"), "__rmul__")
install_operator("__truediv__", _named(truediv, "truediv"), "__rtruediv__")
install_operator("__floordiv__", _named(floordiv, "floordiv"), "__rfloordiv__")
install_operator("__mod__", _named(floormod, "mod"), "__rmod__")
install_operator("__pow__", _named(pow, "pow"), "__rpow__")
install_operator("__matmul__", _named(matmul, "matmul"), "__rmatmul__")
install_operator("__lt__", less)
install_operator("__le__", less_equal)
install_operator("__gt__", greater)
install_operator("__ge__", greater_equal)
install_operator("__and__", _named(logical_and, "and"), "__rand__")
install_operator("__or__", _named(logical_or, "or"), "__ror__")
install_operator("__xor__", _named(logical_xor, "xor"), "__rxor__")
Tensor.__neg__ = lambda self: negative(self)
Tensor.__abs__ = lambda self: abs(self)
Tensor.__invert__ = lambda self: logical_not(self)

__all__ += ["unbroadcast"]
