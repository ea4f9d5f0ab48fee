"""Array ops that make tensors: `Fill` (fill, zeros, ones, ones_like),
`ZerosLike`/`OnesLike`, `Range`, `LinSpace` and `eye`, with TF's defaults
(small zeros/ones are constants, `range` infers the widest dtype of its
arguments).  Re-exported by `flowcore.ops.array`."""
import builtins

import numpy as np

from flowcore import dtypes, errors, registry
from flowcore.graph import Tensor, name_scope
from flowcore.ops import core
from flowcore.ops.array import (_as_tensor, _const, _contains_tensor, _fold_rule,
                                _index_tensor, _is_tensorlike, _make_op, _make_op1,
                                broadcast_to,
                                constant_value_as_shape, reshape, shape)
from flowcore.ops.core import apply_op1, convert_to_tensor
from flowcore.shapes import Dimension, TensorShape

__all__ = ["fill", "zeros", "ones", "zeros_like", "ones_like", "range", "linspace",
           "lin_space", "eye"]


# -- filled tensors --------------------------------------------------------------------

def _fill_shape(op):
    dims, value = op.inputs
    if dims.shape.ndims not in (None, 1):
        raise ValueError("Shape must be rank 1 but is rank %d" % dims.shape.ndims)
    if value.shape.ndims not in (None, 0):
        raise ValueError("Shape must be rank 0 but is rank %d" % value.shape.ndims)
    return [(value.dtype, constant_value_as_shape(dims))]


def _fill_kernel(ctx, op, dims, value):
    dims = tuple(int(d) for d in np.reshape(dims, -1))
    if builtins.any(d < 0 for d in dims):
        raise errors.InvalidArgumentError(
            None, op, "dims must be non-negative, got %s" % (list(dims),))
    return op.xp.full(dims, value, dtype=op.outputs[0].dtype.as_numpy_dtype)


def _fill_grad(op, grad):
    from flowcore.ops import math
    return [None, math.reduce_sum(grad)]


registry.register("Fill", shape=_fill_shape, kernel=_fill_kernel, grad=_fill_grad)
_fold_rule("Fill")


def _shape_tensor(shape, name="shape"):
    """A shape argument (list, TensorShape, tensor) as an int tensor."""
    if isinstance(shape, TensorShape):
        shape = shape.as_list()
    if isinstance(shape, (list, tuple)) and not _contains_tensor(shape):
        vals = [int(d.value if isinstance(d, Dimension) else d) for d in shape]
        dt = dtypes.int64 if vals and (max(vals) >= 2**31 or min(vals) < -2**31) \
            else dtypes.int32
        return core.constant(np.asarray(vals, dtype=dt.as_numpy_dtype).reshape(len(vals)),
                             dtype=dt, name=name)
    return _index_tensor(shape, name, "Fill")


def fill(dims, value, name=None):
    """A tensor of shape `dims` with every element `value`."""
    if isinstance(dims, TensorShape):
        dims = dims.as_list()
    op = _make_op("Fill", [(dims, "dims", "index"), (value, "value", None)], None, name)
    op.attrs.update(T=op.inputs[1].dtype, index_type=op.inputs[0].dtype)
    return op._outputs[0]


def _static_shape_list(shape):
    """`shape` as a list of ints if it is a Python/TensorShape value, else None."""
    if isinstance(shape, TensorShape):
        return shape.as_list() if shape.is_fully_defined() else None
    if isinstance(shape, (list, tuple)) and not _contains_tensor(shape):
        return [int(d.value if isinstance(d, Dimension) else d) for d in shape]
    if isinstance(shape, (int, np.integer)):
        return [int(shape)]
    if isinstance(shape, np.ndarray):
        return [int(d) for d in shape.reshape(-1)]
    return None


def _filled(x, shape, dtype, name, default_name):
    dtype = dtypes.as_dtype(dtype)
    value = np.full((), x, dtype.as_numpy_dtype) if dtype is not dtypes.string else b""
    with name_scope(name, default_name, [shape] if isinstance(shape, Tensor) else []) as scope:
        dims = _static_shape_list(shape)
        if dims is not None and int(np.prod(dims, dtype=np.int64)) < 1000:
            # small: a constant, as TF builds it (keeps GraphDefs small otherwise)
            return core.constant(value, dtype=dtype, shape=dims, name=scope)
        if dims is not None:
            shape = _shape_tensor(dims, name="shape_as_tensor")
        else:
            shape = _as_tensor(shape, dtype=None)
            if shape.shape.ndims == 0:
                shape = reshape(shape, [-1])
        return fill(shape, core.constant(value, dtype=dtype), name=scope)


def zeros(shape, dtype=dtypes.float32, name=None):
    """A tensor of `shape` filled with zeros."""
    return _filled(0, shape, dtype, name, "zeros")


def ones(shape, dtype=dtypes.float32, name=None):
    """A tensor of `shape` filled with ones."""
    return _filled(1, shape, dtype, name, "ones")


def _like_kernel(value):
    def kernel(ctx, op, x):
        dt = op.outputs[0].dtype
        if dt is dtypes.string:
            return np.full(np.shape(x), b"" if value == 0 else b"1", dtype=object)
        return op.xp.full(np.shape(x), value, dtype=dt.as_numpy_dtype)
    return kernel


for _t, _v in (("ZerosLike", 0), ("OnesLike", 1)):
    registry.register(_t, kernel=_like_kernel(_v),
                      shape=lambda op: [(op.inputs[0].dtype, op.inputs[0].shape)])
    registry.NotDifferentiable(_t)


def zeros_like(tensor, dtype=None, name=None, optimize=True):
    """Zeros with the shape of `tensor` (and its dtype unless `dtype` is given)."""
    with name_scope(name, "zeros_like", [tensor]) as scope:
        tensor = convert_to_tensor(tensor, name="tensor")
        dtype = None if dtype is None else dtypes.as_dtype(dtype)
        if dtype is not None and dtype is not tensor.dtype:
            return zeros(_shape_internal(tensor, optimize), dtype=dtype, name=scope)
        if optimize and tensor.shape.is_fully_defined():
            return zeros(tensor.shape.as_list(), dtype=tensor.dtype, name=scope)
        return apply_op1("ZerosLike", [tensor], {"T": tensor.dtype}, scope)


def ones_like(tensor, dtype=None, name=None, optimize=True):
    """Ones with the shape of `tensor` (and its dtype unless `dtype` is given)."""
    with name_scope(name, "ones_like", [tensor]) as scope:
        tensor = convert_to_tensor(tensor, name="tensor")
        dtype = tensor.dtype if dtype is None else dtypes.as_dtype(dtype)
        value = np.ones((), dtype.as_numpy_dtype)
        out = fill(_shape_internal(tensor, optimize), core.constant(value, dtype=dtype),
                   name=scope)
        out.set_shape(tensor.shape)
        return out


def _shape_internal(tensor, optimize):
    if optimize and tensor.shape.is_fully_defined():
        return core.constant(tensor.shape.as_list(), dtype=dtypes.int32, name="Shape")
    return apply_op1("Shape", [tensor], {"T": tensor.dtype, "out_type": dtypes.int32},
                     "Shape")


# -- range, linspace, eye ----------------------------------------------------------------

def _range_values(op, start, limit, delta):
    start, limit, delta = (np.asarray(v).item() for v in (start, limit, delta))
    if delta == 0:
        raise ValueError("Requires delta != 0: %s" % delta)
    if delta > 0 and start > limit:
        raise ValueError("Requires start <= limit when delta > 0: %s/%s" % (start, limit))
    if delta < 0 and start < limit:
        raise ValueError("Requires start >= limit when delta < 0: %s/%s" % (start, limit))
    return start, limit, delta


def _range_size(start, limit, delta, is_int):
    if is_int:
        return (abs(limit - start) + abs(delta) - 1) // abs(delta)
    return int(np.ceil(abs((limit - start) / delta)))


def _range_shape(op):
    for t, n in zip(op.inputs, ("start", "limit", "delta")):
        if t.shape.ndims not in (None, 0):
            raise ValueError("Shape must be rank 0 but is rank %d for %s"
                             % (t.shape.ndims, n))
    vals = [_const(t) for t in op.inputs]
    dt = op.attrs["Tidx"]
    if builtins.any(v is None for v in vals):
        return [(dt, TensorShape([None]))]
    start, limit, delta = _range_values(op, *vals)
    return [(dt, TensorShape([_range_size(start, limit, delta, dt.is_integer)]))]


def _range_kernel(ctx, op, start, limit, delta):
    try:
        start, limit, delta = _range_values(op, start, limit, delta)
    except ValueError as e:
        raise errors.InvalidArgumentError(None, op, str(e)) from None
    dt = op.attrs["Tidx"]
    n = _range_size(start, limit, delta, dt.is_integer)
    return (op.xp.arange(n, dtype=dt.as_numpy_dtype) * delta + start).astype(dt.as_numpy_dtype) \
        if not dt.is_integer else op.xp.arange(start, start + n * delta, delta,
                                               dtype=dt.as_numpy_dtype)[:n]


registry.register("Range", shape=_range_shape, kernel=_range_kernel)
registry.NotDifferentiable("Range")
_fold_rule("Range")

_RANGE_ORDER = (dtypes.int32, dtypes.int64, dtypes.float32, dtypes.float64)


def range(start, limit=None, delta=1, dtype=None, name="range"):  # noqa: A001 (TF's name)
    """The sequence start, start+delta, ... up to (excluding) limit; with one
    argument, 0 .. start.  The dtype is the widest of the arguments' (int32 <
    int64 < float32 < float64) unless `dtype` is given."""
    if limit is None:
        start, limit = 0, start
    g = core.graph_for([v for v in (start, limit, delta) if isinstance(v, Tensor)])
    with g.as_default(), name_scope(name, "Range", []) as scope:
        raw = ((start, "start"), (limit, "limit"), (delta, "delta"))
        if dtype is None:
            ranked = [convert_to_tensor(v).dtype if _is_tensorlike(v) else
                      core._infer_dtype(v)[0] for v, _ in raw]
            for d in ranked:
                if d not in _RANGE_ORDER:
                    raise TypeError("Value passed to parameter 'start' has DataType %s not "
                                    "in list of allowed values: float32, float64, int32, "
                                    "int64" % d.name)
            dtype = max(ranked, key=_RANGE_ORDER.index)
        dtype = dtypes.as_dtype(dtype)
        if dtype not in _RANGE_ORDER:
            raise TypeError("Value passed to parameter 'Tidx' has DataType %s not in list "
                            "of allowed values: float32, float64, int32, int64" % dtype.name)
        from flowcore.ops import math
        args = []
        for v, n in raw:
            if _is_tensorlike(v):
                t = convert_to_tensor(v, name=n)
                args.append(t if t.dtype is dtype else math.cast(t, dtype))
            else:   # a Python number: a constant of the range's dtype (no Cast op)
                args.append(core.constant(np.asarray(v).astype(dtype.as_numpy_dtype),
                                          dtype=dtype, name=n))
        return g.create_op("Range", args, {"Tidx": dtype}, name=scope)._outputs[0]


def _linspace_shape(op):
    for t in op.inputs:
        if t.shape.ndims not in (None, 0):
            raise ValueError("Shape must be rank 0 but is rank %d" % t.shape.ndims)
    n = _const(op.inputs[2])
    return [(op.inputs[0].dtype, TensorShape([None if n is None else int(n)]))]


def _linspace_kernel(ctx, op, start, stop, num):
    num = int(num)
    if num <= 0:
        raise errors.InvalidArgumentError(None, op, "Requires num > 0: %d" % num)
    return op.xp.linspace(start, stop, num, dtype=op.outputs[0].dtype.as_numpy_dtype)


registry.register("LinSpace", shape=_linspace_shape, kernel=_linspace_kernel)
registry.NotDifferentiable("LinSpace")
_fold_rule("LinSpace")


def linspace(start, stop, num, name=None, axis=0):
    """`num` evenly spaced values from `start` to `stop` inclusive (scalars)."""
    if axis not in (0, -1):
        raise ValueError("linspace: only scalar start/stop are supported, so axis must "
                         "be 0; got %r" % (axis,))
    start = convert_to_tensor(start, name="start")
    if not start.dtype.is_floating:
        raise TypeError("Value passed to parameter 'start' has DataType %s not in list of "
                        "allowed values: float16, float32, float64" % start.dtype.name)
    return _make_op1("LinSpace", [(start, "start", None), (stop, "stop", start.dtype),
                                  (num, "num", "index")],
                     {"T": start.dtype}, name or "LinSpace")


lin_space = linspace


def eye(num_rows, num_columns=None, batch_shape=None, dtype=dtypes.float32, name=None):
    """An identity matrix [num_rows, num_columns] (or a batch of them):
    `one_hot(range(num_rows), num_columns)` broadcast to `batch_shape`."""
    from flowcore.ops.array_gather import one_hot
    dtype = dtypes.as_dtype(dtype)
    with name_scope(name, "eye", []) as scope:
        cols = num_rows if num_columns is None else num_columns
        rows_const = _const(num_rows) if isinstance(num_rows, Tensor) else num_rows
        cols_const = _const(cols) if isinstance(cols, Tensor) else cols
        if batch_shape is None and rows_const is not None and cols_const is not None:
            return core.constant(np.eye(int(rows_const), int(cols_const),
                                        dtype=dtype.as_numpy_dtype), dtype=dtype, name=scope)
        m = one_hot(range(num_rows), cols, dtype=dtype)
        if batch_shape is None:
            return core.identity(m, name=scope)
        bs = _as_tensor(batch_shape) if not isinstance(batch_shape, (list, tuple)) or \
            _contains_tensor(batch_shape) else _shape_tensor(batch_shape)
        from flowcore.ops.array_join import concat
        target = concat([bs, shape(m)], 0)
        return broadcast_to(m, target, name=scope)
