"""Math ops: element-wise arithmetic with numpy broadcasting, reductions,
matmul, comparisons and casts.  Each op's builder, shape rule, kernel and
gradient are defined together; `_binary` and `_unary` register the
element-wise families.  Gradients of broadcasting ops are summed back to each
input's shape with `ReduceToShape`.
"""
import numpy as np

from flowcore import dtypes, registry
from flowcore.graph import Tensor
from flowcore.ops import core
from flowcore.ops.core import apply_op1, convert_same_dtype, convert_to_tensor
from flowcore.shapes import TensorShape, broadcast_shape

__all__ = ["add", "subtract", "multiply", "divide", "truediv", "negative", "realdiv"]


# -- helpers for gradients ----------------------------------------------------------

def _reduce_to_shape_kernel(ctx, op, grad, shape):
    """Sum `grad` over the axes broadcasting added or stretched to reach it."""
    shape = tuple(int(d) for d in shape)
    g = grad
    extra = np.ndim(g) - len(shape)
    if extra > 0:
        g = g.sum(axis=tuple(range(extra)))
    axes = tuple(i for i, d in enumerate(shape) if d == 1 and g.shape[i] != 1)
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    return op.xp.asarray(g).reshape(shape)


def _reduce_to_shape_shape(op):
    from flowcore.ops.core import constant_value
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
    gs, xs = grad.shape, x.shape
    if gs.is_fully_defined() and xs.is_fully_defined() and gs.as_list() == xs.as_list():
        return grad
    from flowcore.ops import array
    return apply_op1("ReduceToShape", [grad, array.shape(x)], None, "ReduceToShape")


# -- element-wise families ------------------------------------------------------------

def _binary(op_type, fn, grad=None, out_dtype=None):
    """Register an element-wise binary op computing `fn(xp, x, y)`."""
    def kernel(ctx, op, x, y):
        return fn(op.xp, x, y)

    def shape(op):
        x, y = op.inputs
        if x.dtype is not y.dtype:
            raise TypeError("Input 'y' of '%s' Op has type %s that does not match type %s of "
                            "argument 'x'." % (op.type, y.dtype.name, x.dtype.name))
        return [(out_dtype or x.dtype, broadcast_shape(x.shape, y.shape))]
    registry.register(op_type, shape=shape, kernel=kernel, grad=grad)

    def builder(x, y, name=None):
        x, y = convert_same_dtype([x, y], names=["x", "y"])
        return apply_op1(op_type, [x, y], None, name or op_type)
    return builder


def _unary(op_type, fn, grad=None, out_dtype=None):
    """Register an element-wise unary op computing `fn(xp, x)`."""
    def kernel(ctx, op, x):
        return fn(op.xp, x)
    registry.register(op_type, kernel=kernel, grad=grad,
                      shape=lambda op: [(out_dtype or op.inputs[0].dtype, op.inputs[0].shape)])

    def builder(x, name=None):
        x = convert_to_tensor(x)
        return apply_op1(op_type, [x], None, name or op_type)
    return builder


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
            unbroadcast(multiply(grad, negative(realdiv(realdiv(x, y), y))), y)]


add = _binary("Add", lambda xp, x, y: xp.add(x, y), _add_grad)
subtract = _binary("Sub", lambda xp, x, y: xp.subtract(x, y), _sub_grad)
multiply = _binary("Mul", lambda xp, x, y: xp.multiply(x, y), _mul_grad)
realdiv = _binary("RealDiv", lambda xp, x, y: xp.true_divide(x, y).astype(x.dtype, copy=False),
                  _realdiv_grad)
negative = _unary("Neg", lambda xp, x: xp.negative(x), lambda op, g: [negative(g)])


def truediv(x, y, name=None):
    """x / y, with integers converted to floating point first (TF's rules:
    int8/int16/uint8/uint16 -> float32, int32/int64 -> float64)."""
    x, y = convert_same_dtype([x, y], names=["x", "y"])
    if x.dtype.is_integer:
        target = dtypes.float32 if x.dtype.size <= 2 else dtypes.float64
        x, y = cast(x, target), cast(y, target)
    return realdiv(x, y, name=name or "truediv")


def divide(x, y, name=None):
    return truediv(x, y, name=name or "truediv")


# -- cast ------------------------------------------------------------------------------

def _cast_kernel(ctx, op, x):
    return op.xp.asarray(x).astype(op.attrs["DstT"].as_numpy_dtype)


def _cast_grad(op, grad):
    src = op.inputs[0].dtype
    if src.is_floating and op.attrs["DstT"].is_floating:
        return [cast(grad, src)]
    return [None]


registry.register("Cast", kernel=_cast_kernel, grad=_cast_grad,
                  shape=lambda op: [(op.attrs["DstT"], op.inputs[0].shape)])


def cast(x, dtype, name=None):
    """`x` converted element-wise to `dtype` (floats to ints truncate)."""
    dtype = dtypes.as_dtype(dtype)
    if hasattr(x, "dense_shape") and hasattr(x, "indices"):
        from flowcore.sparse import SparseTensor
        return SparseTensor(x.indices, cast(x.values, dtype, name), x.dense_shape)
    x = convert_to_tensor(x)
    if x.dtype is dtype:
        return x
    return apply_op1("Cast", [x], {"SrcT": x.dtype, "DstT": dtype}, name or "Cast")


__all__ += ["cast", "unbroadcast"]


# -- Python operators on Tensor --------------------------------------------------------

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


install_operator("__add__", add, "__radd__")
install_operator("__sub__", subtract, "__rsub__")
install_operator("__mul__", multiply, "__rmul__")
install_operator("__truediv__", truediv, "__rtruediv__")
Tensor.__neg__ = lambda self: negative(self)
