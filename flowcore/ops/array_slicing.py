"""Slicing: `Slice`, `StridedSlice` (+ its gradient op `StridedSliceGrad`)
and `Tensor.__getitem__`, with TF's static shapes and error messages.

A strided slice is described by TF's "sparse spec" (begin/end/strides plus
five bit masks).  The static shape follows TF's dense-spec expansion; the
kernel turns the same spec into a numpy basic index (ints, slices, Ellipsis,
None), which has exactly TF's clamping semantics, and caches it on the op
when begin/end/strides are constants.
"""
import builtins
import numbers

import numpy as np

from flowcore import batching, dtypes, errors, registry
from flowcore.graph import Tensor, name_scope
from flowcore.ops import array as _array
from flowcore.ops import core
from flowcore.ops.core import apply_op1, convert_to_tensor
from flowcore.shapes import Dimension, TensorShape, unknown_shape

__all__ = ["slice", "strided_slice"]

_pyslice = builtins.slice
_NEW_AXIS, _SHRINK = -1, -2


# -- the strided-slice spec ---------------------------------------------------------------

def _masks(op):
    a = op.attrs
    return (a["begin_mask"], a["end_mask"], a["ellipsis_mask"], a["new_axis_mask"],
            a["shrink_axis_mask"])


def _numpy_index(begin, end, strides, masks):
    """The numpy index equivalent to a strided-slice sparse spec."""
    bm, em, elm, nam, sam = masks
    idx = []
    seen_ellipsis = False
    for i in builtins.range(len(strides)):
        bit = 1 << i
        if elm & bit:
            if seen_ellipsis:
                raise ValueError("Multiple ellipses in slice spec not allowed")
            seen_ellipsis = True
            idx.append(Ellipsis)
        elif nam & bit:
            idx.append(None)
        elif sam & bit:
            idx.append(int(begin[i]))
        else:
            s = int(strides[i])
            if s == 0:
                raise ValueError("strides[%d] must be non-zero" % i)
            idx.append(_pyslice(None if bm & bit else int(begin[i]),
                                None if em & bit else int(end[i]), s))
    return tuple(idx)


def _dense_shape(in_shape, begin, end, strides, masks):
    """TF's static output shape of a strided slice of a tensor with (known
    rank) `in_shape`; `begin`/`end` may be None (unknown values)."""
    bm, em, elm, nam, sam = masks
    n = len(strides)
    rank = in_shape.ndims
    if not elm & ((1 << n) - 1):
        elm |= 1 << n      # an implicit ellipsis at the end
        n += 1
    ell = [i for i in builtins.range(n) if elm & (1 << i)]
    if len(ell) > 1:
        raise ValueError("Multiple ellipses in slice spec not allowed")
    after = builtins.sum(1 for i in builtins.range(ell[0] + 1, n) if nam & (1 << i))
    dense = []    # (begin, end, stride, begin_masked, end_masked, shrink)
    gather = []   # per output dim: dense index, _NEW_AXIS or _SHRINK
    full = 0
    for i in builtins.range(n):
        bit = 1 << i
        if elm & bit:
            nxt = min(rank - (n - i) + 1 + after, rank)
            for _ in builtins.range(full, nxt):
                dense.append((0, 0, 1, True, True, False))
                gather.append(full)
                full += 1
        elif nam & bit:
            gather.append(_NEW_AXIS)
        else:
            if full >= rank:
                raise ValueError("Index out of range using input dim %d; input has only %d "
                                 "dims" % (full, rank))
            shrink = bool(sam & bit)
            dense.append((None if begin is None else int(begin[i]),
                          None if end is None else int(end[i]), int(strides[i]),
                          bool(bm & bit), bool(em & bit), shrink))
            gather.append(_SHRINK if shrink else full)
            full += 1
    sizes = []
    for i, (b, e, s, bmask, emask, shrink) in enumerate(dense):
        dim = in_shape[i].value
        if s == 0:
            raise ValueError("strides[%d] must be non-zero" % i)
        if shrink and s <= 0:
            raise ValueError("only stride 1 allowed on non-range indexing.")
        if dim is None:
            sizes.append(1 if shrink else None)
            continue
        if b is not None and e is not None:
            if shrink:
                fwd = b + dim if b < 0 else b
                if fwd < 0 or fwd >= dim:
                    raise ValueError("slice index %d of dimension %d out of bounds."
                                     % (fwd, i))
                sizes.append(1)
                continue
            lo, hi = (0, dim) if s > 0 else (-1, dim - 1)

            def canonical(x, masked, c):
                if masked:
                    return (lo, hi)[c] if s > 0 else (lo, hi)[1 - c]
                fwd = x + dim if x < 0 else x
                return lo if fwd < lo else hi if fwd > hi else fwd
            length = canonical(e, emask, 1) - canonical(b, bmask, 0)
        elif shrink:
            sizes.append(1)
            continue
        elif bmask and emask:
            length = dim if s > 0 else -dim
        else:
            sizes.append(None)
            continue
        if length == 0 or (length < 0) != (s < 0):
            sizes.append(0)
        else:
            sizes.append(length // s + (1 if length % s else 0))
    out = []
    for g in gather:
        if g == _NEW_AXIS:
            out.append(1)
        elif g != _SHRINK:
            out.append(sizes[g])
    return TensorShape(out)


def _strided_slice_shape(op):
    x, b, e, s = op.inputs[:4]
    return [(x.dtype, _slice_shape(x.shape, b, e, s, _masks(op)))]


def _slice_shape(in_shape, b, e, s, masks):
    for t, what in ((b, "begin"), (e, "end"), (s, "strides")):
        if t.shape.ndims not in (None, 1):
            raise ValueError("Shape must be rank 1 but is rank %d for %s" % (t.shape.ndims, what))
    n = None
    for t in (b, e, s):
        if t.shape.ndims == 1 and t.shape[0].value is not None:
            if n is not None and n != t.shape[0].value:
                raise ValueError("Dimensions must be equal, but are %d and %d"
                                 % (n, t.shape[0].value))
            n = t.shape[0].value
    sv = core.constant_value(s)
    if in_shape.ndims is None or n is None or sv is None:
        return unknown_shape()
    bv, ev = core.constant_value(b), core.constant_value(e)
    return _dense_shape(in_shape, bv, ev, np.reshape(sv, -1), masks)


def _index_for(op, begin, end, strides):
    """The numpy index of this op's spec, reused while begin/end/strides are
    the same arrays (constant inputs: computed once per op)."""
    c = op.__dict__.get("_np_index")
    if c is not None and c[0] is begin and c[1] is end and c[2] is strides:
        return c[3]
    idx = _numpy_index(begin, end, strides, _masks(op))
    op._np_index = (begin, end, strides, idx)
    return idx


def _bounds_error(op, shape, begin, end, strides):
    """The InvalidArgumentError TF raises for a spec invalid for `shape`."""
    try:
        _dense_shape(TensorShape(shape), begin, end, strides, _masks(op))
    except ValueError as e:
        return errors.InvalidArgumentError(None, op, str(e))
    return None


def _strided_slice_kernel(ctx, op, x, begin, end, strides):
    try:
        idx = _index_for(op, begin, end, strides)
        if type(x) is bytes:        # a string scalar: numpy indexing, not bytes slicing
            x = np.asarray(x, dtype=object)
        r = x[idx]
        return r if type(r) is not bytes else x[idx + (Ellipsis,) if type(idx) is tuple
                                                else (idx, Ellipsis)]
    except (IndexError, ValueError) as e:
        err = _bounds_error(op, np.shape(x), begin, end, strides)
        raise (err or errors.InvalidArgumentError(None, op, str(e))) from None


def _strided_slice_grad(op, grad):
    x, b, e, s = op.inputs
    x_shape = _array.shape(x, out_type=b.dtype)
    return [_strided_slice_grad_op(x_shape, b, e, s, grad, op.attrs), None, None, None]


def _strided_slice_grad_op(shape, b, e, s, dy, attrs):
    attrs = {k: attrs[k] for k in ("begin_mask", "end_mask", "ellipsis_mask",
                                   "new_axis_mask", "shrink_axis_mask")}
    attrs.update(T=dy.dtype, Index=b.dtype)
    return apply_op1("StridedSliceGrad", [shape, b, e, s, dy], attrs, "StridedSliceGrad")


def _strided_slice_batch(ctx, op, batched, m, x, begin, end, strides):
    """Each row sliced as the kernel slices one element: the same index
    behind a full slice of the row axis (a bad index fails, and the rows
    are then sliced one by one with the kernel's error)."""
    idx = _index_for(op, begin, end, strides)
    return x[(builtins.slice(None),) + (idx if type(idx) is tuple else (idx,))]


registry.register("StridedSlice", shape=_strided_slice_shape, kernel=_strided_slice_kernel,
                  grad=_strided_slice_grad,
                  batch=batching.Rule(_strided_slice_batch, batching.first_only))


def _strided_slice_const(op, i):
    """Constant inputs fold through the kernel; a slice of a partially known
    shape tensor (`shape(x)[1]` with x of shape [?, 6]) folds when the
    entries it selects are known, as TF's shape inference does."""
    v = _array._fold(op, i)
    if v is not None or op.inputs[0].shape.ndims != 1:
        return v
    spec = [core.constant_value(t) for t in op.inputs[1:4]]
    if builtins.any(x is None for x in spec):
        return None
    prev = _array.constant_value_as_shape(op.inputs[0])
    if prev.ndims is None:
        return None
    dims = np.empty(prev.ndims, dtype=object)
    dims[:] = prev.as_list()
    try:
        picked = dims[_numpy_index(*(np.reshape(x, -1) for x in spec), _masks(op))]
    except (IndexError, ValueError):
        return None
    if builtins.any(d is None for d in np.reshape(picked, -1)):
        return None
    out = np.asarray(picked.tolist() if isinstance(picked, np.ndarray) else picked,
                     dtype=op.outputs[0].dtype.as_numpy_dtype)
    out.flags.writeable = False
    return out


core.CONSTANT_VALUE_RULES["StridedSlice"] = _strided_slice_const


def _ssg_shape(op):
    return [(op.inputs[4].dtype, _array.constant_value_as_shape(op.inputs[0]))]


def _ssg_kernel(ctx, op, shape, begin, end, strides, dy):
    out = op.xp.zeros(tuple(int(d) for d in shape), dtype=np.asarray(dy).dtype)
    try:
        out[_index_for(op, begin, end, strides)] = dy
    except (IndexError, ValueError) as e:
        err = _bounds_error(op, out.shape, begin, end, strides)
        raise (err or errors.InvalidArgumentError(None, op, str(e))) from None
    return out


def _ssg_grad(op, grad):
    _, b, e, s, _ = op.inputs
    return [None, None, None, None, strided_slice(grad, b, e, s, **{
        k: op.attrs[k] for k in ("begin_mask", "end_mask", "ellipsis_mask",
                                 "new_axis_mask", "shrink_axis_mask")})]


registry.register("StridedSliceGrad", shape=_ssg_shape, kernel=_ssg_kernel, grad=_ssg_grad)


def strided_slice(input_, begin, end, strides=None, begin_mask=0, end_mask=0,
                  ellipsis_mask=0, new_axis_mask=0, shrink_axis_mask=0, var=None,
                  name=None):
    """The strided slice of `input_` described by begin/end/strides and TF's
    masks (what `input_[...]` builds)."""
    input_ = convert_to_tensor(input_)
    g = core.graph_for([v for v in (input_, begin, end, strides) if isinstance(v, Tensor)])
    with g.as_default(), name_scope(name or "StridedSlice") as scope:
        begin = _array._index_tensor(begin, "begin", "StridedSlice")
        end = _array._index_tensor(end, "end", "StridedSlice")
        if strides is None:
            strides = _array.ones_like(begin)
        strides = _array._index_tensor(strides, "strides", "StridedSlice")
        return g.create_op("StridedSlice", [input_, begin, end, strides],
                           {"T": input_.dtype, "Index": begin.dtype, "begin_mask": begin_mask,
                            "end_mask": end_mask, "ellipsis_mask": ellipsis_mask,
                            "new_axis_mask": new_axis_mask,
                            "shrink_axis_mask": shrink_axis_mask},
                           name=scope)._outputs[0]


# -- Slice --------------------------------------------------------------------------------

def _slice_shape_fn(op):
    x, b, sz = op.inputs
    for t in (b, sz):
        if t.shape.ndims not in (None, 1):
            raise ValueError("Shape must be rank 1 but is rank %d" % t.shape.ndims)
    n = None
    for t in (b, sz):
        if t.shape.ndims == 1 and t.shape[0].value is not None:
            if n is not None and n != t.shape[0].value:
                raise ValueError("Dimensions must be equal, but are %d and %d"
                                 % (n, t.shape[0].value))
            n = t.shape[0].value
    s = x.shape
    if n is not None:
        s = s.with_rank(n) if s.ndims is None or s.ndims == n else None
        if s is None:
            raise ValueError("Shape must be rank %d but is rank %d" % (n, x.shape.ndims))
    begin = _array.constant_value_as_shape(b) if b.shape.ndims == 1 else unknown_shape()
    sizes = core.constant_value(sz)
    if sizes is not None:
        dims = []
        for i, v in enumerate(np.reshape(sizes, -1)):
            v = int(v)
            if v == -1:
                d = s[i] - begin[i] if s.ndims is not None else Dimension(None)
                if d.value is not None and d.value < 0:
                    raise ValueError("Negative dimension size caused by subtracting %d from %d"
                                     % (begin[i].value, s[i].value))
                dims.append(d)
            else:
                dims.append(v)
        return [(x.dtype, TensorShape(dims))]
    sizes_shape = _array.constant_value_as_shape(sz) if sz.shape.ndims == 1 else unknown_shape()
    if sizes_shape.ndims is not None:
        return [(x.dtype, sizes_shape)]
    return [(x.dtype, unknown_shape() if s.ndims is None else TensorShape([None] * s.ndims))]


def _slice_kernel(ctx, op, x, begin, size):
    shape = np.shape(x)
    begin = [int(v) for v in begin]
    size = [int(v) for v in size]
    if len(begin) != len(shape) or len(size) != len(shape):
        raise errors.InvalidArgumentError(
            None, op, "Expected begin and size arguments to be 1-D tensors of size %d, but got "
            "shapes [%d] and [%d] instead." % (len(shape), len(begin), len(size)))
    idx = []
    for i, (d, b, n) in enumerate(zip(shape, begin, size)):
        if n == -1:
            n = d - b
        if not 0 <= b <= d:
            raise errors.InvalidArgumentError(
                None, op, "Expected begin[%d] in [0, %d], but got %d" % (i, d, b))
        if not 0 <= n <= d - b:
            raise errors.InvalidArgumentError(
                None, op, "Expected size[%d] in [0, %d], but got %d" % (i, d - b, n))
        idx.append(_pyslice(b, b + n))
    return x[tuple(idx)]


def _slice_grad(op, grad):
    from flowcore.ops import math
    x, begin = op.inputs[0], op.inputs[1]
    r = x.shape.ndims
    rk = r if r is not None else _array.rank(x)
    pshape = _array.stack([rk, 1]) if r is None else [r, 1]
    before = _array.reshape(begin, pshape)
    out_shape = _array.shape(op.outputs[0], out_type=begin.dtype)
    after = _array.reshape(math.subtract(math.subtract(
        _array.shape(x, out_type=begin.dtype), out_shape), begin), pshape)
    paddings = _array.concat([before, after], 1)
    return [_array.pad(grad, paddings), None, None]


registry.register("Slice", shape=_slice_shape_fn, kernel=_slice_kernel, grad=_slice_grad)
_array._fold_rule("Slice")


def slice(input_, begin, size, name=None):  # noqa: A001 (TF's name)
    """The part of `input_` starting at `begin` with extent `size` (-1: to the end)."""
    input_ = convert_to_tensor(input_)
    op = _array._make_op("Slice", [(input_, "input", None), (begin, "begin", "index"),
                                   (size, "size", "index")], {"T": input_.dtype},
                         name or "Slice")
    op.attrs["Index"] = op.inputs[1].dtype
    return op._outputs[0]


# -- Tensor.__getitem__ ---------------------------------------------------------------------

_SLICE_TYPE_ERROR = ("Only integers, slices (`:`), ellipsis (`...`), tf.newaxis (`None`) and "
                     "scalar tf.int32/tf.int64 tensors are valid indices")


def _check_index(idx):
    if isinstance(idx, (numbers.Integral, Dimension)):
        return
    dtype = getattr(idx, "dtype", None)
    if dtype is None or dtypes.as_dtype(dtype) not in (dtypes.int32, dtypes.int64) or \
            (isinstance(getattr(idx, "shape", None), TensorShape) and idx.shape.ndims == 1) or \
            (isinstance(idx, np.ndarray) and idx.ndim == 1):
        raise TypeError(_SLICE_TYPE_ERROR + ", got %r" % (idx,))


def _is_undefined(x):
    return isinstance(x, Dimension) and x.value is None


def _dim_value(x):
    return x.value if isinstance(x, Dimension) else x


def _slice_helper(tensor, slice_spec, var=None):
    """`tensor[slice_spec]` as TF builds it: a StridedSlice named
    "strided_slice" whose begin/end/strides are packed from the spec; a
    boolean tensor index is `boolean_mask`."""
    if isinstance(slice_spec, bool) or \
            (isinstance(slice_spec, Tensor) and slice_spec.dtype is dtypes.bool) or \
            (isinstance(slice_spec, np.ndarray) and slice_spec.dtype == bool):
        from flowcore.ops.array_gather import boolean_mask
        return boolean_mask(tensor, slice_spec)
    if not isinstance(slice_spec, (list, tuple)):
        slice_spec = [slice_spec]
    begin, end, strides = [], [], []
    bm = em = elm = nam = sam = 0
    for index, s in enumerate(slice_spec):
        bit = 1 << index
        if isinstance(s, _pyslice):
            if s.start is not None and not _is_undefined(s.start):
                _check_index(s.start)
                begin.append(_dim_value(s.start))
            else:
                begin.append(0)
                bm |= bit
            if s.stop is not None and not _is_undefined(s.stop):
                _check_index(s.stop)
                end.append(_dim_value(s.stop))
            else:
                end.append(0)
                em |= bit
            if s.step is not None:
                _check_index(s.step)
                strides.append(_dim_value(s.step))
            else:
                strides.append(1)
        elif s is Ellipsis:
            begin.append(0)
            end.append(0)
            strides.append(1)
            elm |= bit
        elif s is None:
            begin.append(0)
            end.append(0)
            strides.append(1)
            nam |= bit
        else:
            _check_index(s)
            s = _dim_value(s)
            begin.append(s)
            end.append(s + 1)
            strides.append(1)
            sam |= bit
    vals = [tensor] + [v for v in begin + end + strides if isinstance(v, Tensor)]
    with name_scope(None, "strided_slice", vals) as scope:
        if begin:
            wide = builtins.any(isinstance(v, Tensor) and v.dtype is dtypes.int64
                                for v in begin + end + strides)
            b, e, st = (_pack_spec(x, wide) for x in (begin, end, strides))
        else:
            b = e = st = core.constant([], dtype=dtypes.int32)
        return strided_slice(tensor, b, e, st, begin_mask=bm, end_mask=em,
                             ellipsis_mask=elm, new_axis_mask=nam, shrink_axis_mask=sam,
                             var=var, name=scope)


def _pack_spec(values, wide):
    """One of begin/end/strides as a 1-D tensor ("stack"): a constant when
    all entries are Python ints; int64 throughout when any index is int64."""
    dt = dtypes.int64 if wide else dtypes.int32
    if not builtins.any(isinstance(v, Tensor) for v in values):
        return core.constant(np.asarray(values, dtype=dt.as_numpy_dtype), dtype=dt,
                             name="stack")
    if wide:
        from flowcore.ops import math
        values = [math.cast(v, dt) if isinstance(v, Tensor) and v.dtype is not dt else v
                  for v in values]
    return _array.stack(values)


Tensor.__getitem__ = _slice_helper
