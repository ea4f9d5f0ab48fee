"""Gathering and scattering: `GatherV2` (whose gradient is an IndexedSlices),
`GatherNd`, `ScatterNd`, `OneHot`, `Where`, `boolean_mask`,
`UnsortedSegmentSum` (which densifies IndexedSlices), `SparseToDense`,
`DynamicPartition` and `DynamicStitch`.

Kernels are vectorised; index checks cost one pass (an unsigned max) and only build
TF's message ("indices[3] = 7 is not in [0, 5)") when an index is bad.
"""
import builtins

import numpy as np

from flowcore import batching, dtypes, errors, registry
from flowcore.graph import Tensor, name_scope
from flowcore.indexed_slices import IndexedSlices, IndexedSlicesValue
from flowcore.ops import array as _array
from flowcore.ops import core
from flowcore.ops.core import apply_op1, convert_to_tensor
from flowcore.shapes import TensorShape, unknown_shape

__all__ = ["gather", "gather_nd", "scatter_nd", "one_hot", "boolean_mask",
           "unsorted_segment_sum", "sparse_to_dense", "dynamic_partition", "dynamic_stitch",
           "IndexedSlices", "IndexedSlicesValue", "sparse_tensor_to_dense"]


def _pos(shape, flat):
    """TF's way of naming an element of an index tensor: "[1,2]"."""
    if len(shape) <= 1:
        return "%d" % flat
    return ",".join(str(int(i)) for i in np.unravel_index(flat, shape))


def _first_bad(idx, limit):
    """Flat position of the first index outside [0, limit), or None."""
    if idx.size == 0:
        return None
    if idx.min() >= 0 and idx.max() < limit:
        return None
    return int(np.flatnonzero((idx < 0) | (idx >= limit))[0])


# -- GatherV2 -----------------------------------------------------------------------------

def _gather_shape(op):
    params, indices, axis_t = op.inputs
    bd = op.attrs.get("batch_dims", 0)
    if axis_t.shape.ndims not in (None, 0):
        raise ValueError("Shape must be rank 0 but is rank %d" % axis_t.shape.ndims)
    ps, is_ = params.shape, indices.shape
    if ps.ndims is not None and ps.ndims < 1:
        raise ValueError("Shape must be at least rank 1 but is rank 0")
    axis = _array._axis_value(axis_t)
    dt = params.dtype
    if axis is None or ps.ndims is None or is_.ndims is None:
        if axis is None and ps.ndims is not None and is_.ndims is not None:
            return [(dt, TensorShape([None] * (ps.ndims + is_.ndims - 1 - bd)))]
        if axis is not None and axis >= 0 and ps.ndims is not None and ps.ndims < axis + 1:
            raise ValueError("Shape must be at least rank %d but is rank %d"
                             % (axis + 1, ps.ndims))
        return [(dt, unknown_shape())]
    r = ps.ndims
    if not -r <= axis < r:
        raise ValueError("Shape must be at least rank %d but is rank %d"
                         % ((axis if axis >= 0 else -axis) + 1 - (axis < 0), r))
    axis = axis % r
    if bd < 0:
        bd += is_.ndims
    if bd > axis:
        raise ValueError("batch_dims (%d) must be less than or equal to axis (%d)." % (bd, axis))
    if bd > is_.ndims:
        raise ValueError("batch_dims (%d) must be less than rank(indices) (%d)."
                         % (bd, is_.ndims))
    for i in builtins.range(bd):
        if not ps[i].is_compatible_with(is_[i]):
            raise ValueError("Dimensions must be equal, but are %s and %s" % (ps[i], is_[i]))
    out = ps[:axis].concatenate(is_[bd:]).concatenate(ps[axis + 1:])
    return [(dt, out)]


_UNSIGNED = {np.dtype(np.int32): np.uint32, np.dtype(np.int64): np.uint64}


def _gather_kernel(ctx, op, params, indices, axis):
    if getattr(indices, "ndim", None) == 0 and op.__dict__.get("_row_axis") is axis:
        # one row along axis 0 (slice_input_producer's per-example gather):
        # a view; `_row_axis` is the axis input seen to be 0 with no batch_dims
        i = int(indices)
        if 0 <= i < len(params):
            return params[i, ...]   # (a 0-d array for a string: not a Python bytes)
    axis = _array._cached(op, "_axis", axis, int)
    if axis == 0 and getattr(indices, "ndim", None) == 0 and not op.attrs.get("batch_dims"):
        op.__dict__["_row_axis"] = op.__dict__["_axis"][0]
        i = int(indices)
        if 0 <= i < len(params):
            return params[i, ...]
    shape = params.shape
    r = len(shape)
    if not -r <= axis < r:
        raise errors.InvalidArgumentError(
            None, op, "Expected axis in the range [%d, %d), but got %d" % (-r, r, axis))
    if axis < 0:
        axis += r
    if type(indices) is not np.ndarray:
        indices = np.asarray(indices)
    limit = shape[axis]
    # one pass checks both ends: negative indices are huge when seen unsigned
    if indices.size and indices.view(_UNSIGNED[indices.dtype]).max() >= limit:
        bad = _first_bad(indices, limit)
        raise errors.InvalidArgumentError(
            None, op, "indices[%s] = %d is not in [0, %d)"
            % (_pos(indices.shape, bad), indices.reshape(-1)[bad], limit))
    bd = op.attrs.get("batch_dims", 0)
    if bd < 0:
        bd += indices.ndim
    if bd:
        return _batched_take(op.xp, params, indices, axis, bd)
    if axis == 0:
        r = params[indices]         # numpy's fastest row gather
        return r if type(r) is not bytes else params[indices, ...]     # (not a Python bytes)
    return op.xp.take(params, indices, axis=axis)


def _batched_take(xp, params, indices, axis, bd):
    """Gather with `bd` leading batch dimensions shared by params and indices."""
    idx = []
    for j in builtins.range(bd):
        shape = [1] * indices.ndim
        shape[j] = params.shape[j]
        idx.append(xp.arange(params.shape[j]).reshape(shape))
    idx += [builtins.slice(None)] * (axis - bd) + [indices]
    out = params[tuple(idx)]
    if axis > bd:   # numpy moved the indexed dims to the front: put them back
        n_idx = indices.ndim
        mid = axis - bd
        order = list(builtins.range(bd)) + list(builtins.range(n_idx, n_idx + mid)) + \
            list(builtins.range(bd, n_idx)) + list(builtins.range(n_idx + mid, out.ndim))
        out = xp.transpose(out, order)
    return out


def _gather_grad(op, grad):
    params, indices, axis_t = op.inputs
    if op.attrs.get("batch_dims", 0):
        raise NotImplementedError("The gradient of GatherV2 with batch_dims > 0 is not "
                                  "implemented (op %s)" % op.name)
    axis = _array._axis_value(axis_t)
    ps = params.shape
    if axis is not None and axis < 0 and ps.ndims is not None:
        axis += ps.ndims
    params_shape = _array.shape(params)
    n = indices.shape.num_elements()
    if n is not None:
        indices_size = core.constant([n], dtype=dtypes.int32)
    else:
        indices_size = _array.expand_dims(_array.size(indices), 0)
    flat_indices = _array.reshape(indices, indices_size)
    if axis == 0:
        if n is not None and ps.ndims is not None and ps[1:].is_fully_defined():
            # static: one constant instead of a slice-and-concat per step
            values_shape = core.constant([n] + ps[1:].as_list(), dtype=dtypes.int32)
        else:
            values_shape = _array.concat([indices_size, params_shape[1:]], 0)
        values = _array.reshape(grad, values_shape)
        return [IndexedSlices(values, flat_indices, params_shape), None, None]
    if axis is None or ps.ndims is None:
        raise NotImplementedError("The gradient of GatherV2 needs a constant axis and params "
                                  "of known rank (op %s)" % op.name)
    r = ps.ndims
    outer = params_shape[:axis]
    inner = params_shape[axis + 1:]
    values_shape = _array.concat([outer, [-1], inner], 0)
    values = _array.reshape(grad, values_shape)          # [outer..., N, inner...]
    perm = [axis] + list(builtins.range(axis)) + list(builtins.range(axis + 1, r))
    moved = _array.transpose(values, perm)                # [N, outer..., inner...]
    summed = unsorted_segment_sum(moved, flat_indices, params_shape[axis])
    inv = list(builtins.range(1, axis + 1)) + [0] + list(builtins.range(axis + 1, r))
    return [_array.transpose(summed, inv), None, None]


def _gather_batch(ctx, op, batched, m, params, indices, axis):
    """Rows of indices gathered at once; the row axis moved to the front."""
    out = _gather_kernel(ctx, op, params, indices, axis)
    axis = int(axis) % max(np.ndim(params), 1)
    return op.xp.moveaxis(out, axis, 0) if axis else out


registry.register("GatherV2", shape=_gather_shape, kernel=_gather_kernel, grad=_gather_grad,
                  batch=batching.Rule(_gather_batch, lambda op, b: b == (False, True, False)
                                      and not op.attrs.get("batch_dims")))
_array._fold_rule("GatherV2")


def gather(params, indices, validate_indices=None, name=None, axis=None, batch_dims=0):
    """The slices of `params` along `axis` at `indices` (out-of-range indices
    raise InvalidArgumentError at run time).  The gradient for `params` is an
    IndexedSlices when axis is 0."""
    if axis is None:
        axis = batch_dims
    params = convert_to_tensor(params, name="params")
    return _array._make_op1("GatherV2", [(params, "params", None),
                                         (indices, "indices", "index"),
                                         (axis, "axis", "index")],
                            {"Tparams": params.dtype, "batch_dims": int(batch_dims)},
                            name or "GatherV2")


# -- GatherNd / ScatterNd -------------------------------------------------------------------

def _gather_nd_shape(op):
    params, indices = op.inputs
    ps, is_ = params.shape, indices.shape
    if is_.ndims is not None and is_.ndims < 1:
        raise ValueError("Shape must be at least rank 1 but is rank 0")
    if ps.ndims is None or is_.ndims is None or is_[-1].value is None:
        return [(params.dtype, unknown_shape())]
    k = is_[-1].value
    if k > ps.ndims:
        raise ValueError("indices.shape[-1] must be <= params.rank, but saw indices shape: %s "
                         "and params shape: %s" % (_array._dims_str(is_.as_list()),
                                                    _array._dims_str(ps.as_list())))
    return [(params.dtype, is_[:-1].concatenate(ps[k:]))]


def _nd_index(op, indices, shape, what):
    """`indices` [..., K] as a tuple of K flat index arrays, bounds-checked."""
    indices = np.asarray(indices)
    k = indices.shape[-1]
    flat = indices.reshape(-1, k)
    if flat.size:
        lim = np.asarray(shape[:k])
        badrows = ((flat < 0) | (flat >= lim)).any(axis=1)
        if badrows.any():
            i = int(np.flatnonzero(badrows)[0])
            raise errors.InvalidArgumentError(
                None, op, "indices[%d] = [%s] does not index into %s shape %s, node name: %s"
                % (i, ", ".join(str(int(v)) for v in flat[i]), what,
                   _array._dims_str(shape), op.name))
    return tuple(flat.T), indices.shape[:-1], k


def _gather_nd_kernel(ctx, op, params, indices):
    params = op.xp.asarray(params)
    idx, lead, k = _nd_index(op, indices, params.shape, "param")
    if k == 0:
        return op.xp.broadcast_to(params, lead + params.shape).copy()
    out = params[idx]
    return out.reshape(lead + params.shape[k:])


def _gather_nd_grad(op, grad):
    ref, indices = op.inputs
    ref_shape = _array.shape(ref, out_type=indices.dtype)
    if indices.shape.ndims == 2 and indices.shape[-1].value == 1:
        return [IndexedSlices(grad, _array.squeeze(indices, axis=[-1]), ref_shape), None]
    return [scatter_nd(indices, grad, ref_shape), None]


registry.register("GatherNd", shape=_gather_nd_shape, kernel=_gather_nd_kernel,
                  grad=_gather_nd_grad)
_array._fold_rule("GatherNd")


def gather_nd(params, indices, name=None, batch_dims=0):
    """The slices of `params` addressed by the last dimension of `indices`."""
    if batch_dims:
        raise NotImplementedError("gather_nd: batch_dims > 0 is not supported")
    params = convert_to_tensor(params, name="params")
    return _array._make_op1("GatherNd", [(params, "params", None),
                                         (indices, "indices", "index")],
                            {"Tparams": params.dtype}, name or "GatherNd")


def _scatter_nd_shape(op):
    indices, updates, shape_t = op.inputs
    return [(updates.dtype, _array.constant_value_as_shape(shape_t))]


def _scatter_nd_kernel(ctx, op, indices, updates, shape):
    shape = tuple(int(d) for d in shape)
    idx, lead, k = _nd_index(op, indices, shape, "output")
    out = op.xp.zeros(shape, dtype=np.asarray(updates).dtype)
    upd = np.reshape(updates, (-1,) + shape[k:])
    op.xp.add.at(out, idx, upd)
    return out


def _scatter_nd_grad(op, grad):
    indices = op.inputs[0]
    return [None, gather_nd(grad, indices), None]


registry.register("ScatterNd", shape=_scatter_nd_shape, kernel=_scatter_nd_kernel,
                  grad=_scatter_nd_grad)


def scatter_nd(indices, updates, shape, name=None):
    """Zeros of `shape` with `updates` added at `indices` (duplicates sum)."""
    updates = convert_to_tensor(updates, name="updates")
    return _array._make_op1("ScatterNd", [(indices, "indices", "index"),
                                          (updates, "updates", None),
                                          (shape, "shape", "index")],
                            {"T": updates.dtype}, name or "ScatterNd")


# -- OneHot -------------------------------------------------------------------------------

def _one_hot_shape(op):
    indices, depth, on, off = op.inputs
    axis = op.attrs["axis"]
    d = core.constant_value(depth)
    if d is not None and int(d) < 0:
        raise ValueError("depth must be non-negative, got: %d" % int(d))
    s = indices.shape
    if s.ndims is None:
        return [(on.dtype, unknown_shape())]
    if axis < -1 or axis > s.ndims:
        raise ValueError("Expected axis to be -1 or between [0, %d).  But received: %d"
                         % (s.ndims + 1, axis))
    dims = s.as_list()
    dims.insert(s.ndims if axis == -1 else axis, None if d is None else int(d))
    return [(on.dtype, TensorShape(dims))]


def _one_hot_kernel(ctx, op, indices, depth, on, off):
    xp = op.xp
    depth = int(depth)
    if depth < 0:
        raise errors.InvalidArgumentError(None, op, "depth must be non-negative, got: %d"
                                          % depth)
    if getattr(indices, "ndim", None) == 0:
        # one index (a per-record label): fill, then set one position
        dt = op.__dict__.get("_out_dtype")
        if dt is None:
            dt = op.__dict__["_out_dtype"] = np.dtype(op.outputs[0].dtype.as_numpy_dtype)
        out = xp.full(depth, off, dtype=dt)
        i = int(indices)
        if 0 <= i < depth:
            out[i] = on
        return out
    indices = xp.asarray(indices)
    # (an arange in the indices' dtype would wrap: uint8 index 5 == 261)
    hot = indices[..., None] == xp.arange(depth, dtype=np.int64)
    out = xp.where(hot, on, off).astype(op.outputs[0].dtype.as_numpy_dtype, copy=False)
    axis = op.attrs["axis"]
    if axis != -1 and axis != indices.ndim:
        out = xp.moveaxis(out, -1, axis)
    return out


registry.register("OneHot", shape=_one_hot_shape, kernel=_one_hot_kernel,
                  batch=batching.leading_axis(lambda op, b: batching.first_only(op, b)
                                              and op.attrs["axis"] == -1))
registry.NotDifferentiable("OneHot")
_array._fold_rule("OneHot")


def one_hot(indices, depth, on_value=None, off_value=None, axis=None, dtype=None, name=None):
    """A one-hot encoding of `indices`: `on_value` at each index along a new
    dimension of size `depth` at `axis` (default last), `off_value` elsewhere."""
    with name_scope(name, "one_hot", [indices, depth, on_value, off_value]) as scope:
        dtype = None if dtype is None else dtypes.as_dtype(dtype)
        on_exists, off_exists = on_value is not None, off_value is not None
        def convert(v):
            # as TF: a Python float never becomes an integer tensor by a dtype hint
            hint = None if dtype is not None and not dtype.is_floating and \
                isinstance(v, (float, np.floating)) else dtype
            return convert_to_tensor(v, preferred_dtype=hint)
        if on_exists:
            on_value = convert(on_value)
        if off_exists:
            off_value = convert(off_value)
        if on_exists or off_exists:
            if dtype is not None:
                for t, what in ((on_value, "on_value"), (off_value, "off_value")):
                    if t is not None and t.dtype is not dtype:
                        raise TypeError("dtype %s of %s does not match dtype parameter %s"
                                        % (t.dtype, what, dtype))
            else:
                dtype = on_value.dtype if on_exists else off_value.dtype
        elif dtype is None:
            dtype = dtypes.float32
        if not on_exists:
            on_value = convert_to_tensor(1, dtype, name="on_value")
        if not off_exists:
            off_value = convert_to_tensor(0, dtype, name="off_value")
        if on_value.dtype is not off_value.dtype:
            raise TypeError("dtype %s of on_value does not match dtype %s of off_value"
                            % (on_value.dtype, off_value.dtype))
        indices = _array._index_tensor(indices, "indices", "OneHot") \
            if not isinstance(indices, Tensor) else indices
        if indices.dtype not in (dtypes.int32, dtypes.int64, dtypes.uint8):
            raise TypeError("Value passed to parameter 'indices' has DataType %s not in list "
                            "of allowed values: uint8, int8, int32, int64" % indices.dtype.name)
        return _array._make_op1("OneHot", [(indices, "indices", None),
                                           (depth, "depth", dtypes.int32),
                                           (on_value, "on_value", None),
                                           (off_value, "off_value", None)],
                                {"axis": -1 if axis is None else int(axis), "T": dtype,
                                 "TI": indices.dtype}, scope)


# -- Where (indices of true elements) and boolean_mask ---------------------------------

def _where_shape(op):
    x = op.inputs[0]
    r = x.shape.ndims
    return [(dtypes.int64, TensorShape([None, r]))]


registry.register("Where", shape=_where_shape,
                  kernel=lambda ctx, op, x: op.xp.argwhere(x).astype(np.int64, copy=False))
registry.NotDifferentiable("Where")


def _where_indices(condition, name=None):
    condition = convert_to_tensor(condition, name="condition")
    return apply_op1("Where", [condition], {"T": condition.dtype}, name or "Where")


def boolean_mask(tensor, mask, name="boolean_mask", axis=None):
    """The elements (or slices) of `tensor` where `mask` (rank k, matching
    tensor's dimensions axis..axis+k-1) is true, flattened along those
    dimensions: Where + GatherV2, as TF builds it."""
    with name_scope(name, values=[tensor, mask]):
        tensor = convert_to_tensor(tensor, name="tensor")
        mask = convert_to_tensor(mask, name="mask")
        shape_mask = mask.shape
        ndims_mask = shape_mask.ndims
        shape_tensor = tensor.shape
        if ndims_mask == 0:
            raise ValueError("mask cannot be scalar.")
        if ndims_mask is None:
            raise ValueError("Number of mask dimensions must be specified, even if some "
                             "dimensions are None.  E.g. shape=[None] is ok, but shape=None "
                             "is not.")
        axis = 0 if axis is None else axis
        axis_value = core.constant_value(axis) if isinstance(axis, Tensor) else axis
        if axis_value is not None:
            axis = int(axis_value)
            shape_tensor[axis:axis + ndims_mask].assert_is_compatible_with(shape_mask)
        n = shape_mask.num_elements()
        leading = n if n is not None else _array.size(mask)
        ts = _array.shape(tensor)
        new_shape = _array.concat([ts[:axis], [leading], ts[axis + ndims_mask:]], 0)
        tensor = _array.reshape(tensor, new_shape)
        if axis_value is not None and shape_tensor.ndims is not None:
            first = shape_tensor[axis:axis + ndims_mask].num_elements()
            tensor.set_shape(shape_tensor[:axis].concatenate([first]).concatenate(
                shape_tensor[axis + ndims_mask:]))
        mask = _array.reshape(mask, [-1])
        indices = _array.squeeze(_where_indices(mask), axis=[1])
        return gather(tensor, indices, axis=axis)


# -- UnsortedSegmentSum -------------------------------------------------------------------

def _uss_shape(op):
    data, ids, num = op.inputs
    if num.shape.ndims not in (None, 0):
        raise ValueError("Shape must be rank 0 but is rank %d" % num.shape.ndims)
    ds, is_ = data.shape, ids.shape
    n = core.constant_value(num)
    if n is not None and int(n) < 0:
        raise ValueError("num_segments must be non-negative, got %d" % int(n))
    if ds.ndims is None or is_.ndims is None:
        return [(data.dtype, unknown_shape())]
    if is_.ndims > ds.ndims:
        raise ValueError("Shape must be at least rank %d but is rank %d"
                         % (is_.ndims, ds.ndims))
    for a, b in zip(ds, is_):
        if not a.is_compatible_with(b):
            raise ValueError("Dimensions must be equal, but are %s and %s" % (a, b))
    return [(data.dtype, TensorShape([None if n is None else int(n)]).concatenate(
        ds[is_.ndims:]))]


def _segment_sum(xp, rows, ids, num):
    """Sum the rows [n, w] into `num` segments by (non-negative) `ids`.

    Floats with few segments per row: one bincount over (id, column) pairs;
    otherwise (many segments, e.g. an embedding gradient, or integers): sort
    the ids and add runs with reduceat, touching only the n input rows."""
    n, w = rows.shape
    if n == 0 or w == 0:
        return xp.zeros((num, w), dtype=rows.dtype)
    if rows.dtype.kind == "f" and num <= 4 * n:
        ids = ids.astype(np.intp, copy=False)
        flat = ids if w == 1 else (ids[:, None] * w + np.arange(w)).reshape(-1)
        summed = np.bincount(flat, weights=rows.reshape(-1), minlength=num * w)
        return xp.asarray(summed.reshape(num, w), dtype=rows.dtype)
    out = xp.zeros((num, w), dtype=rows.dtype)
    order = np.argsort(ids, kind="stable")
    sids = ids[order]
    starts = np.flatnonzero(np.concatenate(([True], sids[1:] != sids[:-1])))
    if len(starts) == n:        # no repeated id: a plain scatter
        out[ids] = rows
    else:
        out[sids[starts]] = np.add.reduceat(rows[order], starts, axis=0)
    return out


def _uss_kernel(ctx, op, data, ids, num):
    data = op.xp.asarray(data)
    ids = np.asarray(ids)
    num = int(num)
    if data.shape[:ids.ndim] != ids.shape:
        raise errors.InvalidArgumentError(
            None, op, "data.shape = %s does not start with segment_ids.shape = %s"
            % (_array._dims_str(data.shape), _array._dims_str(ids.shape)))
    flat = ids.reshape(-1)
    if flat.size and flat.max() >= num:
        bad = int(np.flatnonzero(flat >= num)[0])
        raise errors.InvalidArgumentError(
            None, op, "segment_ids[%s] = %d is out of range [0, %d)"
            % (_pos(ids.shape, bad), flat[bad], num))
    inner = data.shape[ids.ndim:]
    rows = data.reshape((flat.shape[0], int(np.prod(inner, dtype=np.int64))))
    keep = flat >= 0
    if not keep.all():
        flat, rows = flat[keep], rows[keep]
    out = _segment_sum(op.xp, rows, flat, num)
    return out.reshape((num,) + inner)


def _gather_drop_negatives(params, ids):
    """gather(params, ids) with rows of negative ids set to zero (the
    gradient of UnsortedSegmentSum, which drops negative ids)."""
    from flowcore.ops import math
    zero = core.constant(0, dtype=ids.dtype)
    gathered = gather(params, math.maximum(ids, zero))
    is_pos = math.greater_equal(ids, zero)
    # broadcast the per-id condition over the trailing dims of params
    r = gathered.shape.ndims
    ir = ids.shape.ndims
    if r is not None and ir is not None:
        for _ in builtins.range(r - ir):
            is_pos = _array.expand_dims(is_pos, -1)
    else:
        extra = math.subtract(_array.rank(gathered), _array.rank(is_pos))
        is_pos = _array.reshape(is_pos, _array.concat(
            [_array.shape(is_pos), _array.ones(_array.expand_dims(extra, 0), dtypes.int32)], 0))
    is_pos = math.logical_and(is_pos, _array.ones_like(gathered, dtype=dtypes.bool))
    return math.where(is_pos, gathered, _array.zeros_like(gathered))


def _uss_grad(op, grad):
    return [_gather_drop_negatives(grad, op.inputs[1]), None, None]


registry.register("UnsortedSegmentSum", shape=_uss_shape, kernel=_uss_kernel, grad=_uss_grad)


def unsorted_segment_sum(data, segment_ids, num_segments, name=None):
    """out[i] = sum of data[j] over j with segment_ids[j] == i (ids may be in
    any order; negative ids are dropped)."""
    data = convert_to_tensor(data, name="data")
    return _array._make_op1("UnsortedSegmentSum",
                            [(data, "data", None), (segment_ids, "segment_ids", "index"),
                             (num_segments, "num_segments", "index")],
                            {"T": data.dtype}, name or "UnsortedSegmentSum")


# -- SparseToDense --------------------------------------------------------------------------

def _std_shape(op):
    idx, out_shape, values, default = op.inputs
    if idx.shape.ndims is not None and idx.shape.ndims > 2:
        raise ValueError("Shape must be at most rank 2 but is rank %d" % idx.shape.ndims)
    if default.shape.ndims not in (None, 0):
        raise ValueError("Shape must be rank 0 but is rank %d" % default.shape.ndims)
    if values.dtype is not default.dtype:
        raise TypeError("Input 'default_value' of 'SparseToDense' Op has type %s that does "
                        "not match type %s of argument 'sparse_values'."
                        % (default.dtype.name, values.dtype.name))
    return [(values.dtype, _array.constant_value_as_shape(out_shape))]


def _std_kernel(ctx, op, indices, out_shape, values, default):
    indices = np.asarray(indices)
    shape = tuple(int(d) for d in np.reshape(out_shape, -1))
    if indices.ndim == 0:
        indices = indices.reshape(1, 1)
    elif indices.ndim == 1:
        indices = indices.reshape(-1, 1)
    n, r = indices.shape
    values = np.asarray(values)
    if values.ndim != 0 and values.shape != (n,):
        raise errors.InvalidArgumentError(
            None, op, "sparse_values has incorrect shape %s, should be [] or [%d]"
            % (_array._dims_str(values.shape), n))
    if r != len(shape):
        raise errors.InvalidArgumentError(
            None, op, "sparse_indices should be a matrix with %d columns (the rank of "
            "output_shape) but has %d" % (len(shape), r))
    dims = np.asarray(shape, dtype=np.int64)
    out = op.xp.full(shape, default, dtype=op.outputs[0].dtype.as_numpy_dtype) \
        if op.outputs[0].dtype is not dtypes.string else np.full(shape, default, object)
    if n == 0:
        return out
    bad = ((indices < 0) | (indices >= dims)).any(axis=1)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise errors.InvalidArgumentError(
            None, op, "indices[%d] = [%s] is out of bounds: need 0 <= index < %s"
            % (i, ",".join(str(int(v)) for v in indices[i]), _array._dims_str(shape)))
    lin = np.ravel_multi_index(tuple(indices.T), shape) if r else np.zeros(n, np.int64)
    if op.attrs.get("validate_indices", True) and n > 1:
        d = np.diff(lin)
        if (d <= 0).any():
            i = int(np.flatnonzero(d <= 0)[0]) + 1
            where = "[%s]" % ",".join(str(int(v)) for v in indices[i])
            if d[i - 1] == 0:
                msg = "indices[%d] = %s is repeated" % (i, where)
            else:
                msg = ("indices[%d] = %s is out of order. Many sparse ops require sorted "
                       "indices.\n    Use `tf.sparse.reorder` to create a correctly ordered "
                       "copy.\n\n" % (i, where))
            raise errors.InvalidArgumentError(None, op, msg)
    out.reshape(-1)[lin] = values
    return out


def _std_grad(op, grad):
    from flowcore.ops import math
    indices, _, values, _ = op.inputs
    idx = indices
    if indices.shape.ndims == 1:
        idx = _array.expand_dims(indices, 1)
    elif indices.shape.ndims == 0:
        idx = _array.reshape(indices, [1, 1])
    values_grad = gather_nd(grad, idx)
    if values.shape.ndims == 0:
        values_grad = math.reduce_sum(values_grad)
    default_grad = math.subtract(math.reduce_sum(grad), math.reduce_sum(values_grad))
    return [None, None, values_grad, default_grad]


registry.register("SparseToDense", shape=_std_shape, kernel=_std_kernel, grad=_std_grad)


def sparse_to_dense(sparse_indices, output_shape, sparse_values, default_value=0,
                    validate_indices=True, name=None):
    """A dense tensor of `output_shape` holding `sparse_values` at
    `sparse_indices` (sorted, unique when validate_indices) and
    `default_value` elsewhere."""
    sparse_values = convert_to_tensor(sparse_values, name="sparse_values") \
        if not isinstance(sparse_values, Tensor) else sparse_values
    return _array._make_op1("SparseToDense",
                            [(sparse_indices, "sparse_indices", "index"),
                             (output_shape, "output_shape", "index"),
                             (sparse_values, "sparse_values", None),
                             (default_value, "default_value", sparse_values.dtype)],
                            {"validate_indices": bool(validate_indices),
                             "T": sparse_values.dtype}, name or "SparseToDense")


def sparse_tensor_to_dense(sp_input, default_value=None, validate_indices=True, name=None):
    """The dense tensor a SparseTensor describes (`default_value`, default
    zero, where it has no value)."""
    if default_value is None:
        default_value = _array.zeros([], dtype=sp_input.dtype) \
            if sp_input.dtype is not dtypes.string else b""
    return sparse_to_dense(sp_input.indices, sp_input.dense_shape, sp_input.values,
                           default_value=default_value, validate_indices=validate_indices,
                           name=name)


# -- DynamicPartition / DynamicStitch -----------------------------------------------------------

def _dp_shape(op):
    data, parts = op.inputs
    n = op.attrs["num_partitions"]
    ds, ps = data.shape, parts.shape
    if ds.ndims is None or ps.ndims is None:
        return [(data.dtype, unknown_shape())] * n
    for a, b in zip(ds, ps):
        if not a.is_compatible_with(b):
            raise ValueError("Dimensions must be equal, but are %s and %s" % (a, b))
    return [(data.dtype, TensorShape([None]).concatenate(ds[ps.ndims:]))] * n


def _dp_kernel(ctx, op, data, partitions):
    n = op.attrs["num_partitions"]
    data = op.xp.asarray(data)
    p = np.asarray(partitions)
    flat = p.reshape(-1)
    bad = _first_bad(flat, n)
    if bad is not None:
        raise errors.InvalidArgumentError(
            None, op, "partitions[%s] = %d is not in [0, %d)" % (_pos(p.shape, bad),
                                                               flat[bad], n))
    rows = data.reshape((flat.shape[0],) + data.shape[p.ndim:])
    order = np.argsort(flat, kind="stable")
    counts = np.bincount(flat, minlength=n)
    parts = op.xp.split(rows[order], np.cumsum(counts)[:-1], axis=0)
    return parts[0] if len(parts) == 1 else tuple(parts)


def _dp_grad(op, *grads):
    data, parts = op.inputs
    grads = [g if g is not None else _array.zeros_like(o) for g, o in zip(grads, op.outputs)]
    prefix = _array.shape(parts)
    original = _array.reshape(_array.range(_array.size(parts)), prefix)
    partitioned = dynamic_partition(original, parts, op.attrs["num_partitions"])
    stitched = dynamic_stitch(partitioned, grads)
    return [_array.reshape(stitched, _array.shape(data)), None]


registry.register("DynamicPartition", shape=_dp_shape, kernel=_dp_kernel, grad=_dp_grad)


def dynamic_partition(data, partitions, num_partitions, name=None):
    """`num_partitions` tensors: the slices of `data` whose partition is i."""
    data = convert_to_tensor(data, name="data")
    op = _array._make_op("DynamicPartition", [(data, "data", None),
                                              (partitions, "partitions", dtypes.int32)],
                         {"num_partitions": int(num_partitions), "T": data.dtype},
                         name or "DynamicPartition")
    return list(op._outputs)


def _ds_shape(op):
    n = op.attrs["N"]
    idx, data = op.inputs[:n], op.inputs[n:]
    dt = data[0].dtype
    inner = None
    for i, d in zip(idx, data):
        if d.dtype is not dt:
            raise TypeError("Input 'data' of 'DynamicStitch' Op has type %s that does not "
                            "match type %s" % (d.dtype.name, dt.name))
        if i.shape.ndims is None or d.shape.ndims is None:
            continue
        for a, b in zip(d.shape, i.shape):
            if not a.is_compatible_with(b):
                raise ValueError("Dimensions must be equal, but are %s and %s" % (a, b))
        rest = d.shape[i.shape.ndims:]
        inner = rest if inner is None else inner.merge_with(rest)
    vals = [core.constant_value(i) for i in idx]
    first = None
    if builtins.all(v is not None for v in vals):
        first = builtins.max([int(np.max(v)) for v in vals if np.size(v)] or [-1]) + 1
    if inner is None:
        return [(dt, unknown_shape())]
    return [(dt, TensorShape([first]).concatenate(inner))]


def _ds_kernel(ctx, op, *args):
    n = op.attrs["N"]
    idx, data = [np.asarray(i) for i in args[:n]], args[n:]
    first = builtins.max([int(i.max()) for i in idx if i.size] or [-1]) + 1
    inner = None
    for i, d in zip(idx, data):
        d = np.asarray(d)
        if d.shape[:i.ndim] != i.shape:
            raise errors.InvalidArgumentError(
                None, op, "data.shape = %s does not start with indices.shape = %s"
                % (_array._dims_str(d.shape), _array._dims_str(i.shape)))
        inner = d.shape[i.ndim:]
    out = op.xp.zeros((first,) + inner, dtype=np.asarray(data[0]).dtype)
    for i, d in zip(idx, data):
        if (i < 0).any():
            raise errors.InvalidArgumentError(None, op, "indices must be non-negative")
        out[i.reshape(-1)] = np.reshape(d, (-1,) + inner)
    return out


def _ds_grad(op, grad):
    n = op.attrs["N"]
    if isinstance(grad, IndexedSlices):
        grad = unsorted_segment_sum(grad.values, grad.indices, _array.shape(op.outputs[0])[0])
    return [None] * n + [gather(grad, i) for i in op.inputs[:n]]


registry.register("DynamicStitch", shape=_ds_shape, kernel=_ds_kernel, grad=_ds_grad)


def dynamic_stitch(indices, data, name=None):
    """merged[indices[m][i]] = data[m][i] (later entries win)."""
    if len(indices) != len(data):
        raise ValueError("List argument 'data' to 'DynamicStitch' Op with length %d must "
                         "match length %d of argument 'indices'." % (len(data), len(indices)))
    data = _array._convert_list(data, "data")
    args = [(i, "indices_%d" % k, dtypes.int32) for k, i in enumerate(indices)] + \
        [(d, "data", None) for d in data]
    return _array._make_op1("DynamicStitch", args, {"N": len(data), "T": data[0].dtype},
                            name or "DynamicStitch")
