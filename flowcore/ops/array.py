"""Array ops: shapes, reshaping, slicing, joining, gathering.  Each op's
builder, shape rule, kernel and gradient are defined together."""
import numpy as np

from flowcore import dtypes, registry
from flowcore.ops import core
from flowcore.ops.core import apply_op1, convert_to_tensor
from flowcore.shapes import TensorShape

__all__ = ["shape", "broadcast_to"]


def _shape_kernel(ctx, op, x):
    return np.asarray(np.shape(x), dtype=op.attrs["out_type"].as_numpy_dtype)


def _shape_shape(op):
    r = op.inputs[0].shape.ndims
    return [(op.attrs["out_type"], TensorShape([r]))]


registry.register("Shape", shape=_shape_shape, kernel=_shape_kernel)
registry.NotDifferentiable("Shape")


def _shape_const(op, i):
    s = op.inputs[0].shape
    if s.is_fully_defined():
        return np.asarray(s.as_list(), dtype=op.attrs["out_type"].as_numpy_dtype)
    return None


core.CONSTANT_VALUE_RULES["Shape"] = _shape_const


def shape(input, name=None, out_type=dtypes.int32):
    """The shape of `input` as a 1-D integer tensor."""
    if hasattr(input, "dense_shape") and hasattr(input, "indices"):
        return input.dense_shape
    input = convert_to_tensor(input)
    return apply_op1("Shape", [input], {"out_type": dtypes.as_dtype(out_type)}, name or "Shape")


def _broadcast_to_shape(op):
    v = core.constant_value(op.inputs[1])
    if v is not None:
        target = TensorShape([int(d) for d in v])
        from flowcore.shapes import broadcast_shape
        out = broadcast_shape(op.inputs[0].shape, target)
        if out.ndims is not None and out.ndims != target.ndims:
            raise ValueError("Cannot broadcast %s to %s" % (op.inputs[0].shape, target))
        return [(op.inputs[0].dtype, target)]
    n = op.inputs[1].shape
    rank = n[0].value if n.ndims == 1 else None
    return [(op.inputs[0].dtype, TensorShape(None if rank is None else [None] * rank))]


def _broadcast_to_grad(op, grad):
    from flowcore.ops.math import unbroadcast
    return [unbroadcast(grad, op.inputs[0]), None]


registry.register("BroadcastTo", shape=_broadcast_to_shape, grad=_broadcast_to_grad,
                  kernel=lambda ctx, op, x, s: op.xp.broadcast_to(x, tuple(int(d) for d in s)))


def broadcast_to(input, shape, name=None):
    """`input` broadcast (numpy rules) to `shape`."""
    input = convert_to_tensor(input)
    shape = convert_to_tensor(shape, dtype=dtypes.int32) if not hasattr(shape, "dtype") \
        else convert_to_tensor(shape)
    return apply_op1("BroadcastTo", [input, shape], None, name or "BroadcastTo")
