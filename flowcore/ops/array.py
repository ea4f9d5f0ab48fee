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


# -- filled tensors --------------------------------------------------------------------

def _fill_shape(op):
    dims, value = op.inputs
    v = core.constant_value(dims)
    if v is not None:
        return [(value.dtype, TensorShape([int(d) for d in v]))]
    n = dims.shape
    rank = n[0].value if n.ndims == 1 else None
    return [(value.dtype, TensorShape(None if rank is None else [None] * rank))]


def _fill_kernel(ctx, op, dims, value):
    dims = tuple(int(d) for d in dims)
    if any(d < 0 for d in dims):
        raise ValueError("Fill: dims must be non-negative, got %s" % (list(dims),))
    return op.xp.full(dims, value, dtype=op.outputs[0].dtype.as_numpy_dtype)


def _fill_grad(op, grad):
    from flowcore.ops import math
    return [None, math.reduce_sum(grad)] if hasattr(math, "reduce_sum") else [None, None]


registry.register("Fill", shape=_fill_shape, kernel=_fill_kernel, grad=_fill_grad)


def _fill_const(op, i):
    dims, value = (core.constant_value(t) for t in op.inputs)
    if dims is None or value is None:
        return None
    return np.full(tuple(int(d) for d in dims), value, dtype=op.outputs[0].dtype.as_numpy_dtype)


core.CONSTANT_VALUE_RULES["Fill"] = _fill_const


def _shape_tensor(shape):
    if hasattr(shape, "as_list"):
        shape = shape.as_list()
    if isinstance(shape, (list, tuple)) and not any(hasattr(d, "dtype") for d in shape):
        return core.constant(np.asarray([int(d) for d in shape], dtype=np.int32), dtype=dtypes.int32)
    return convert_to_tensor(shape, dtype=dtypes.int32)


def fill(dims, value, name=None):
    """A tensor of shape `dims` with every element `value`."""
    return apply_op1("Fill", [_shape_tensor(dims), convert_to_tensor(value)], None, name or "Fill")


def _filled(x, shape, dtype, name):
    from flowcore.graph import name_scope
    dtype = dtypes.as_dtype(dtype)
    with name_scope(name, "zeros" if x == 0 else "ones", []) as scope:
        value = np.zeros((), dtype.as_numpy_dtype) + x if dtype is not dtypes.string else b""
        return fill(shape, core.constant(value, dtype=dtype), name=scope)


def zeros(shape, dtype=dtypes.float32, name=None):
    """A tensor of `shape` filled with zeros."""
    return _filled(0, shape, dtype, name)


def ones(shape, dtype=dtypes.float32, name=None):
    """A tensor of `shape` filled with ones."""
    return _filled(1, shape, dtype, name)


__all__ += ["fill", "zeros", "ones"]
