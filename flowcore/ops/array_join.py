"""Array ops that join, split and rearrange: `ConcatV2`, `Pack`/`Unpack`,
`Split`/`SplitV`, `Tile`, `Pad`/`PadV2`/`MirrorPad` (+ `MirrorPadGrad`) and
`ReverseV2`.  Re-exported by `flowcore.ops.array`."""
import builtins

import numpy as np

from flowcore import dtypes, errors, registry
from flowcore.graph import Tensor, name_scope
from flowcore.ops import core
from flowcore.ops.array import (_as_tensor, _axis_value, _cached, _const, _contains_tensor, _convert_list,
                                _dims_str, _flatten, _fold_rule, _index_tensor, _int_tuple,
                                _is_tensorlike, _make_op1, _pack, _pyslice, _rank_of_vector,
                                _unknown_with_rank, constant_value_as_shape, rank, reshape,
                                shape, size, transpose)
from flowcore.ops.array_create import range, zeros_like
from flowcore.ops.core import apply_op1, convert_to_tensor
from flowcore.shapes import Dimension, TensorShape, unknown_shape

__all__ = ["concat", "stack", "unstack", "pack", "unpack", "split", "tile", "pad", "reverse",
           "reverse_v2"]


# -- concat ----------------------------------------------------------------------------

def _concat_shape(op):
    values, axis_t = op.inputs[:-1], op.inputs[-1]
    if axis_t.shape.ndims not in (None, 0):
        raise ValueError("Shape must be rank 0 but is rank %d" % axis_t.shape.ndims)
    dt = values[0].dtype
    for v in values[1:]:
        if v.dtype is not dt:
            raise TypeError("Input 'values' of 'ConcatV2' Op has type %s that does not "
                            "match type %s of argument 'values'." % (v.dtype.name, dt.name))
    r = None
    for v in values:
        vr = v.shape.ndims
        if vr is not None:
            if r is not None and vr != r:
                raise ValueError("Shape must be rank %d but is rank %d" % (r, vr))
            r = vr
    axis = _axis_value(axis_t)
    if r is None:
        return [(dt, unknown_shape())]
    if axis is None:
        return [(dt, _unknown_with_rank(r))]
    if not -r <= axis < r:
        raise ValueError("Shape must be at least rank %d but is rank %d"
                         % ((axis if axis >= 0 else -axis - 1) + 1, r))
    axis = axis + r if axis < 0 else axis
    out = None
    total = 0
    for v in values:
        s = v.shape if v.shape.ndims is not None else _unknown_with_rank(r)
        d = s[axis].value
        total = None if total is None or d is None else total + d
        rest = s[:axis].concatenate(s[axis + 1:])
        if out is None:
            out = rest
        else:
            for i, (a, b) in enumerate(zip(out, rest)):
                if not a.is_compatible_with(b):
                    raise ValueError("Dimension %d in both shapes must be equal, but are %s "
                                     "and %s. Shapes are %s and %s."
                                     % (i, a, b, _dims_str(out.as_list()),
                                        _dims_str(rest.as_list())))
            out = out.merge_with(rest)
    dims = out.as_list()
    dims.insert(axis, total)
    return [(dt, TensorShape(dims))]


def _concat_kernel(ctx, op, *args):
    values, axis = args[:-1], _cached(op, "_axis", args[-1], int)
    try:
        return op.xp.concatenate(values, axis=axis)
    except (ValueError, np.exceptions.AxisError):
        pass
    r = np.ndim(values[0])
    if not -r <= axis < r:
        raise errors.InvalidArgumentError(
            None, op, "ConcatOp : Expected concatenating dimensions in the range [%d, %d), "
            "but got %d" % (-r, r, axis))
    ax = axis % r
    for i, v in enumerate(values[1:], 1):
        s0, s = np.shape(values[0]), np.shape(v)
        if len(s) != r:
            raise errors.InvalidArgumentError(
                None, op, "ConcatOp : Ranks of all input tensors should match: shape[0] = "
                "%s vs. shape[%d] = %s" % (_dims_str(s0), i, _dims_str(s)))
        for d in builtins.range(r):
            if d != ax and s[d] != s0[d]:
                raise errors.InvalidArgumentError(
                    None, op, "ConcatOp : Dimension %d in both shapes must be equal: "
                    "shape[0] = %s vs. shape[%d] = %s" % (d, _dims_str(s0), i, _dims_str(s)))
    raise errors.InvalidArgumentError(None, op, "ConcatOp : invalid inputs")


def _concat_grad(op, grad):
    values, axis = op.inputs[:-1], op.inputs[-1]
    sizes = []
    for v in values:
        sizes.append(_dim_size(v, axis))
    parts = split(grad, sizes, axis) if len(values) > 1 else [grad]
    return list(parts) + [None]


def _dim_size(x, axis_t):
    """x.shape[axis] as a scalar int tensor (a constant when static)."""
    a = _axis_value(axis_t)
    r = x.shape.ndims
    if a is not None and r is not None:
        d = x.shape[a].value
        if d is not None:
            return d
        return shape(x)[a]
    from flowcore.ops.array_gather import gather
    return gather(shape(x), _positive_axis(axis_t, x))


def _positive_axis(axis_t, x):
    from flowcore.ops import math
    return math.floormod(axis_t, rank(x))


registry.register("ConcatV2", shape=_concat_shape, kernel=_concat_kernel, grad=_concat_grad)
_fold_rule("ConcatV2")


def concat(values, axis, name="concat"):
    """`values` joined along `axis` (TF1 argument order: values first)."""
    if not isinstance(values, (list, tuple)):
        values = [values]
    if len(values) == 1:    # TF adds no ConcatV2 for one value: "<name>/<name>" Identity
        with name_scope(name):
            ax = _as_tensor(axis, name="concat_dim")
            if ax.shape.ndims not in (None, 0):
                raise ValueError("Shape %s must have rank 0" % ax.shape)
            return core.identity(values[0], name=name)
    tensors = _convert_list(values, "values")
    return _make_op1("ConcatV2", [(t, "values", None) for t in tensors] +
                     [(axis, "axis", "index")],
                     {"N": len(tensors), "T": tensors[0].dtype}, name)


# -- stack / unstack ----------------------------------------------------------------------

def _pack_shape(op):
    axis = op.attrs["axis"]
    values = op.inputs
    out = unknown_shape()
    for i, v in enumerate(values):
        if v.dtype is not values[0].dtype:
            raise TypeError("Input 'values' of 'Pack' Op has type %s that does not match type "
                            "%s of argument 'values'." % (v.dtype.name, values[0].dtype.name))
        s = v.shape
        if out.ndims is not None and s.ndims is not None and out.ndims != s.ndims:
            raise ValueError("Shapes must be equal rank, but are %d and %d" % (
                out.ndims, s.ndims))
        if out.ndims is not None and s.ndims is not None:
            for j, (a, b) in enumerate(zip(out, s)):
                if not a.is_compatible_with(b):
                    raise ValueError("Dimension %d in both shapes must be equal, but are %s "
                                     "and %s. Shapes are %s and %s."
                                     % (j, a, b, _dims_str(out.as_list()),
                                        _dims_str(s.as_list())))
        out = out.merge_with(s)
    if out.ndims is None:
        return [(values[0].dtype, unknown_shape())]
    r = out.ndims + 1
    if not -r <= axis < r:
        raise ValueError("Invalid axis: %d; must be in [%d,%d)" % (axis, -r, r))
    axis = axis + r if axis < 0 else axis
    dims = out.as_list()
    dims.insert(axis, len(values))
    return [(values[0].dtype, TensorShape(dims))]


def _pack_kernel(ctx, op, *values):
    try:
        return op.xp.stack(values, axis=op.attrs["axis"])
    except ValueError:
        shapes = [np.shape(v) for v in values]
        bad = [i for i, s in enumerate(shapes) if s != shapes[0]][0]
        raise errors.InvalidArgumentError(
            None, op, "Shapes of all inputs must match: values[0].shape = %s != values[%d]"
            ".shape = %s" % (_dims_str(shapes[0]), bad, _dims_str(shapes[bad]))) from None


def _pack_grad(op, grad):
    return unstack(grad, num=op.attrs["N"], axis=op.attrs["axis"])


registry.register("Pack", shape=_pack_shape, kernel=_pack_kernel, grad=_pack_grad)
_fold_rule("Pack")


def stack(values, axis=0, name="stack"):
    """Tensors of one shape stacked along a new dimension `axis`."""
    if axis == 0 and not _contains_tensor(values):
        try:
            return convert_to_tensor(values, name=name)
        except (TypeError, ValueError, NotImplementedError):
            pass
    g = core.graph_for([v for v in _flatten(values) if isinstance(v, Tensor)])
    with g.as_default(), g.name_scope(name) as scope:
        tensors = _convert_list(values, "values")
        s = tensors[0].shape
        if s.ndims is not None:
            r = s.ndims + 1
            if not -r <= axis < r:
                raise ValueError("Argument `axis` = %d not in range [%d, %d)" % (axis, -r, r))
        return _pack(tensors, axis, scope)


def pack(values, axis=0, name="pack"):
    """TF 0.x name of `stack`."""
    return stack(values, axis=axis, name=name)


def _unpack_shape(op):
    x = op.inputs[0]
    num, axis = op.attrs["num"], op.attrs["axis"]
    s = x.shape
    if s.ndims is None:
        return [(x.dtype, unknown_shape())] * num
    r = s.ndims
    if not -r <= axis < r:
        raise ValueError("Invalid axis: %d; must be in [%d,%d)" % (axis, -r, r))
    axis = axis + r if axis < 0 else axis
    d = s[axis].value
    if d is not None and d != num:
        raise ValueError("Dimension must be %d but is %d" % (num, d))
    rest = s[:axis].concatenate(s[axis + 1:])
    return [(x.dtype, rest)] * num


def _unpack_kernel(ctx, op, x):
    axis, num = op.attrs["axis"], op.attrs["num"]
    if np.shape(x)[axis] != num:
        raise errors.InvalidArgumentError(
            None, op, "Input shape axis %d must equal %d, got shape %s"
            % (axis, num, _dims_str(np.shape(x))))
    if axis != 0 and axis != -np.ndim(x):
        x = op.xp.moveaxis(x, axis, 0)
    return x[0] if num == 1 else tuple(x)


def _unpack_grad(op, *grads):
    grads = [g if g is not None else zeros_like(o) for g, o in zip(grads, op.outputs)]
    return [stack(grads, axis=op.attrs["axis"])]


registry.register("Unpack", shape=_unpack_shape, kernel=_unpack_kernel, grad=_unpack_grad)
_fold_rule("Unpack")


def unstack(value, num=None, axis=0, name="unstack"):
    """The tensors obtained by slicing `value` along `axis`."""
    value = convert_to_tensor(value)
    s = value.shape
    if s.ndims is not None:
        r = s.ndims
        if not -r <= axis < r:
            raise ValueError("Argument `axis` = %d not in range [%d, %d)" % (axis, -r, r))
    if num is None:
        num = s[axis].value if s.ndims is not None else None
        if num is None:
            raise ValueError("Cannot infer argument `num` from shape %s" % s)
    op = core.apply_op("Unpack", [value], {"num": num, "T": value.dtype, "axis": axis}, name)
    return list(op._outputs)


def unpack(value, num=None, axis=0, name="unpack"):
    """TF 0.x name of `unstack`."""
    return unstack(value, num=num, axis=axis, name=name)


# -- split -----------------------------------------------------------------------------

def _split_shape(op):
    axis_t, x = op.inputs
    num = op.attrs["num_split"]
    s = x.shape
    axis = _axis_value(axis_t)
    if s.ndims is None:
        return [(x.dtype, unknown_shape())] * num
    if axis is None:
        return [(x.dtype, _unknown_with_rank(s.ndims))] * num
    r = s.ndims
    if not -r <= axis < r:
        raise ValueError("Shape must be at least rank %d but is rank %d"
                         % ((axis if axis >= 0 else -axis - 1) + 1, r))
    axis = axis % r
    d = s[axis].value
    if d is not None and d % num:
        raise ValueError("Dimension size must be evenly divisible by %d but is %d" % (num, d))
    dims = s.as_list()
    dims[axis] = None if d is None else d // num
    return [(x.dtype, TensorShape(dims))] * num


def _split_kernel(ctx, op, axis, x):
    num = op.attrs["num_split"]
    axis = _cached(op, "_axis", axis, int)
    r = np.ndim(x)
    if not -r <= axis < r:
        raise errors.InvalidArgumentError(
            None, op, "-input rank(-%d) <= split_dim < input rank (%d), but got %d"
            % (r, r, axis))
    d = np.shape(x)[axis]
    if d % num:
        raise errors.InvalidArgumentError(
            None, op, "Number of ways to split should evenly divide the split dimension, "
            "but got split_dim %d (size = %d) and num_split %d" % (axis, d, num))
    parts = op.xp.split(x, num, axis=axis)
    return parts[0] if num == 1 else tuple(parts)


def _split_grad(op, *grads):
    grads = [g if g is not None else zeros_like(o) for g, o in zip(grads, op.outputs)]
    return [None, concat(grads, op.inputs[0])]


registry.register("Split", shape=_split_shape, kernel=_split_kernel, grad=_split_grad)
_fold_rule("Split")


def _resolve_splits(sizes, d, static=False):
    """Size splits with the one -1 resolved against dimension size `d`
    (None when `d` is unknown); ValueError on bad sizes (worded as TF's shape
    function when `static`, as its kernel otherwise)."""
    sizes = [int(v) for v in sizes]
    neg = [i for i, v in enumerate(sizes) if v == -1]
    if len(neg) > 1:
        raise ValueError("size_splits can only have one -1")
    for i, v in enumerate(sizes):
        if v < -1:
            raise ValueError("Split size at index %d must be >= 0. Got: %d" % (i, v))
    known = builtins.sum(v for v in sizes if v != -1)
    if d is None:
        return sizes
    if neg:
        if known > d and static:
            raise ValueError("Split size at index %d must be >= 0. Got: %d"
                             % (neg[0], d - known))
        if known > d:
            raise ValueError("Determined shape must either match input shape along "
                             "split_dim exactly if fully specified, or be less than the size "
                             "of the input along split_dim if not fully specified.  Got: %d"
                             % known)
        sizes[neg[0]] = d - known
    elif known != d:
        raise ValueError("can't split axis of size %d into pieces of size [%s]"
                         % (d, ",".join(str(v) for v in sizes)))
    return sizes


def _splitv_shape(op):
    x, sizes_t, axis_t = op.inputs
    num = op.attrs["num_split"]
    s = x.shape
    axis = _axis_value(axis_t)
    sizes = _const(sizes_t)
    if s.ndims is None:
        return [(x.dtype, unknown_shape())] * num
    r = s.ndims
    if axis is None:
        return [(x.dtype, _unknown_with_rank(r))] * num
    if not -r <= axis < r:
        raise ValueError("Shape must be at least rank %d but is rank %d"
                         % ((axis if axis >= 0 else -axis - 1) + 1, r))
    axis = axis % r
    if sizes is None:
        dims = s.as_list()
        dims[axis] = None
        return [(x.dtype, TensorShape(dims))] * num
    sizes = np.reshape(sizes, -1)
    if len(sizes) != num:
        raise ValueError("Length of size_splits should be equal to num_split: %d vs %d"
                         % (len(sizes), num))
    sizes = _resolve_splits(sizes, s[axis].value, static=True)
    out = []
    for v in sizes:
        dims = s.as_list()
        dims[axis] = None if v == -1 else v
        out.append((x.dtype, TensorShape(dims)))
    return out


def _splitv_kernel(ctx, op, x, sizes, axis):
    axis = int(axis)
    r = np.ndim(x)
    if not -r <= axis < r:
        raise errors.InvalidArgumentError(
            None, op, "-input rank(-%d) <= split_dim < input rank (%d), but got %d"
            % (r, r, axis))
    try:
        sizes = _resolve_splits(sizes, np.shape(x)[axis])
    except ValueError as e:
        raise errors.InvalidArgumentError(None, op, str(e)) from None
    parts = op.xp.split(x, np.cumsum(sizes[:-1]), axis=axis)
    return parts[0] if len(parts) == 1 else tuple(parts)


def _splitv_grad(op, *grads):
    grads = [g if g is not None else zeros_like(o) for g, o in zip(grads, op.outputs)]
    return [concat(grads, op.inputs[2]), None, None]


registry.register("SplitV", shape=_splitv_shape, kernel=_splitv_kernel, grad=_splitv_grad)
_fold_rule("SplitV")


def split(value, num_or_size_splits, axis=0, num=None, name="split"):
    """Pieces of `value` along `axis`: `num_or_size_splits` equal pieces (an
    int: op `Split`) or pieces of the listed sizes (one may be -1: `SplitV`)."""
    value = convert_to_tensor(value)
    n = num_or_size_splits
    if isinstance(n, (int, np.integer)) and not isinstance(n, bool):
        g = value.graph
        with g.as_default(), g.name_scope(name) as scope:
            ax = _index_tensor(axis, "split_dim", "Split") if not isinstance(axis, Tensor) \
                else axis
            op = g.create_op("Split", [ax, value], {"num_split": int(n), "T": value.dtype},
                             name=scope)
        return list(op._outputs)
    sizes = _as_tensor(n, name=None) if isinstance(n, Tensor) or _contains_tensor(n) \
        else core.constant(np.asarray(n, dtype=np.int64 if np.asarray(n).dtype == np.int64
                                      else np.int32).reshape(-1))
    if num is None:
        num = _rank_of_vector(sizes) if sizes.shape.ndims == 1 else None
        if num is None:
            raise ValueError("Cannot infer argument `num` from shape %s" % sizes)
    g = value.graph
    with g.as_default(), g.name_scope(name) as scope:
        ax = _index_tensor(axis, "split_dim", "SplitV") if not isinstance(axis, Tensor) \
            else axis
        op = g.create_op("SplitV", [value, sizes, ax],
                         {"num_split": int(num), "T": value.dtype, "Tlen": sizes.dtype},
                         name=scope)
    return list(op._outputs)


# -- tile ------------------------------------------------------------------------------

def _tile_shape(op):
    x, m = op.inputs
    n = _rank_of_vector(m)
    s = x.shape
    if s.ndims is not None and n is not None and s.ndims != n:
        raise ValueError("Shape must be rank %d but is rank %d" % (s.ndims, n))
    r = s.ndims if s.ndims is not None else n
    if r is None:
        return [(x.dtype, unknown_shape())]
    mult = constant_value_as_shape(m) if m.shape.ndims == 1 else _unknown_with_rank(r)
    sd = s.dims if s.ndims is not None else [Dimension(None)] * r
    md = mult.dims if mult.ndims is not None else [Dimension(None)] * r
    return [(x.dtype, TensorShape([a * b for a, b in zip(sd, md)]))]


def _tile_kernel(ctx, op, x, m):
    m = _cached(op, "_mult", m, _int_tuple)
    if len(m) != np.ndim(x):
        raise errors.InvalidArgumentError(
            None, op, "Expected multiples argument to be a vector of length %d but got "
            "length %d" % (np.ndim(x), len(m)))
    if builtins.any(v < 0 for v in m):
        raise errors.InvalidArgumentError(None, op, "Expected multiples[%d] >= 0, but got %d"
                                          % ([v < 0 for v in m].index(True), min(m)))
    return op.xp.tile(x, m)


def _tile_grad(op, grad):
    from flowcore.ops import math
    x, m = op.inputs
    r = x.shape.ndims
    in_shape = shape(x, out_type=m.dtype)
    # grad reshaped to [m0, d0, m1, d1, ...] and summed over the multiples axes
    split_shape = reshape(transpose(stack([m, in_shape])), [-1])
    if r is not None:
        axes = list(builtins.range(0, 2 * r, 2))
    else:
        axes = range(0, size(split_shape), 2)
    g = math.reduce_sum(reshape(grad, split_shape), axes)
    g.set_shape(x.shape)
    return [g, None]


registry.register("Tile", shape=_tile_shape, kernel=_tile_kernel, grad=_tile_grad)
_fold_rule("Tile")


def tile(input, multiples, name=None):
    """`input` repeated `multiples[i]` times along each dimension i."""
    input = convert_to_tensor(input)
    return _make_op1("Tile", [(input, "input", None), (multiples, "multiples", "index")],
                     {"T": input.dtype}, name or "Tile")


# -- pad -------------------------------------------------------------------------------

def _pad_shape_common(op):
    x, p = op.inputs[0], op.inputs[1]
    ps = p.shape
    if ps.ndims is not None and ps.ndims != 2:
        raise ValueError("Shape must be rank 2 but is rank %d" % ps.ndims)
    if ps.ndims == 2 and ps[1].value is not None and ps[1].value != 2:
        raise ValueError("Dimension must be 2 but is %d" % ps[1].value)
    n = ps[0].value if ps.ndims == 2 else None
    s = x.shape
    if s.ndims is not None and n is not None and s.ndims != n:
        raise ValueError("Shape must be rank %d but is rank %d" % (n, s.ndims))
    r = s.ndims if s.ndims is not None else n
    if r is None:
        return [(x.dtype, unknown_shape())]
    pv = _const(p)
    if pv is None:
        return [(x.dtype, _unknown_with_rank(r))]
    pv = np.asarray(pv).reshape(r, 2)
    if (pv < 0).any():
        raise ValueError("Paddings must be non-negative")
    dims = []
    for i, d in enumerate(s.as_list() if s.ndims is not None else [None] * r):
        dims.append(None if d is None else d + int(pv[i].sum()))
    return [(x.dtype, TensorShape(dims))]


def _check_paddings(op, x, p):
    p = np.asarray(p).reshape(-1, 2) if np.size(p) else np.zeros((np.ndim(x), 2), np.int64)
    if p.shape[0] != np.ndim(x):
        raise errors.InvalidArgumentError(
            None, op, "The first dimension of paddings must be the rank of inputs[%d,2] %s"
            % (p.shape[0], _dims_str(np.shape(x))))
    if (p < 0).any():
        raise errors.InvalidArgumentError(None, op, "Paddings must be non-negative: %d %d"
                                          % tuple(p[np.nonzero((p < 0).any(1))[0][0]]))
    return p


def _pad_kernel(ctx, op, x, p, c=None):
    p = _check_paddings(op, x, p)
    xp = op.xp
    out_shape = tuple(int(d + a + b) for d, (a, b) in zip(np.shape(x), p))
    out = xp.full(out_shape, 0 if c is None else c, dtype=np.asarray(x).dtype) \
        if op.inputs[0].dtype is not dtypes.string else \
        np.full(out_shape, b"" if c is None else c, dtype=object)
    out[tuple(_pyslice(int(a), int(a) + d) for d, (a, b) in zip(np.shape(x), p))] = x
    return out


def _pad_grad(op, grad):
    x, p = op.inputs[0], op.inputs[1]
    from flowcore.ops.array_slicing import slice as _slice
    r = x.shape.ndims
    if r is not None:
        begin = reshape(_slice(p, [0, 0], [r, 1]), [-1])
    else:
        begin = reshape(_slice(p, [0, 0], stack([rank(x), 1])), [-1])
    g = _slice(grad, begin, shape(x))
    return [g, None] + ([None] if len(op.inputs) == 3 else [])


registry.register("Pad", shape=_pad_shape_common, kernel=_pad_kernel, grad=_pad_grad)
registry.register("PadV2", shape=_pad_shape_common, kernel=_pad_kernel, grad=_pad_grad)
_fold_rule("Pad", "PadV2")


def _mirror_mode(op):
    m = op.attrs["mode"]
    return m.decode() if isinstance(m, bytes) else m


def _mirror_pad_kernel(ctx, op, x, p):
    p = _check_paddings(op, x, p)
    mode = _mirror_mode(op)
    off = 1 if mode == "REFLECT" else 0
    for i, (d, (a, b)) in enumerate(zip(np.shape(x), p)):
        if max(a, b) > d - off:
            raise errors.InvalidArgumentError(
                None, op, "paddings must be less than the dimension size: %d, %d not less "
                "than %d" % (a, b, d) if off else "paddings must be no greater than the "
                "dimension size: %d, %d greater than %d" % (a, b, d))
    return op.xp.pad(x, [(int(a), int(b)) for a, b in p],
                     mode="reflect" if off else "symmetric")


def _mirror_pad_grad_kernel(ctx, op, g, p):
    """Fold the padded borders of `g` back onto the positions they mirror."""
    p = np.asarray(p).reshape(-1, 2)
    off = 1 if _mirror_mode(op) == "REFLECT" else 0
    xp = op.xp
    out = xp.asarray(g)
    for axis, (a, b) in enumerate(p):
        a, b = int(a), int(b)
        n = out.shape[axis] - a - b
        idx = [_pyslice(None)] * out.ndim

        def part(lo, hi, step=1):
            idx[axis] = _pyslice(lo, hi, step)
            return tuple(idx)
        core_ = out[part(a, a + n)].copy()
        if a:
            left = out[part(0, a)][part(None, None, -1)]
            core_[part(off, off + a)] += left
        if b:
            right = out[part(a + n, a + n + b)][part(None, None, -1)]
            core_[part(n - off - b, n - off)] += right
        out = core_
    return out


def _mirror_pad_grad(op, grad):
    return [apply_op1("MirrorPadGrad", [grad, op.inputs[1]],
                      {"mode": op.attrs["mode"], "T": grad.dtype,
                       "Tpaddings": op.inputs[1].dtype}, "MirrorPadGrad"), None]


def _mirror_pad_grad_shape(op):
    g, p = op.inputs
    s = g.shape
    pv = _const(p)
    if s.ndims is None:
        return [(g.dtype, unknown_shape())]
    if pv is None:
        return [(g.dtype, _unknown_with_rank(s.ndims))]
    pv = np.asarray(pv).reshape(-1, 2)
    return [(g.dtype, TensorShape([None if d is None else d - int(pv[i].sum())
                                   for i, d in enumerate(s.as_list())]))]


def _mirror_pad_grad_grad(op, grad):
    return [apply_op1("MirrorPad", [grad, op.inputs[1]],
                      {"mode": op.attrs["mode"], "T": grad.dtype,
                       "Tpaddings": op.inputs[1].dtype}, "MirrorPad"), None]


registry.register("MirrorPad", shape=_pad_shape_common, kernel=_mirror_pad_kernel,
                  grad=_mirror_pad_grad)
registry.register("MirrorPadGrad", shape=_mirror_pad_grad_shape,
                  kernel=_mirror_pad_grad_kernel, grad=_mirror_pad_grad_grad)
_fold_rule("MirrorPad")


def pad(tensor, paddings, mode="CONSTANT", name=None, constant_values=0):
    """`tensor` padded by `paddings` ([rank, 2]: before/after per dimension)
    with `constant_values` (mode CONSTANT: ops `Pad`/`PadV2`) or mirrored
    (REFLECT / SYMMETRIC: `MirrorPad`)."""
    m = mode.upper() if isinstance(mode, str) else mode
    tensor = convert_to_tensor(tensor)
    if m == "CONSTANT":
        if not _is_tensorlike(constant_values) and np.ndim(constant_values) == 0 and \
                not isinstance(constant_values, (str, bytes)) and constant_values == 0:
            return _make_op1("Pad", [(tensor, "input", None), (paddings, "paddings", "index")],
                             {"T": tensor.dtype}, name or "Pad")
        return _make_op1("PadV2", [(tensor, "input", None), (paddings, "paddings", "index"),
                                   (constant_values, "constant_values", tensor.dtype)],
                         {"T": tensor.dtype}, name or "PadV2")
    if m in ("REFLECT", "SYMMETRIC"):
        return _make_op1("MirrorPad", [(tensor, "input", None),
                                       (paddings, "paddings", "index")],
                         {"T": tensor.dtype, "mode": m}, name or "MirrorPad")
    raise ValueError('Value of argument `mode` expected to be one of "CONSTANT", "REFLECT", '
                     'or "SYMMETRIC". Received `mode` = %s' % (mode,))


# -- reverse ------------------------------------------------------------------------------

def _reverse_axes(axes, r):
    out = []
    for i, a in enumerate(axes):
        a = int(a)
        if not -r <= a < r:
            raise ValueError("'axis'[%d] = %d is out of valid range [0, %d" % (i, a, r - 1))
        a = a + r if a < 0 else a
        if a in out:
            raise ValueError("axis %d specified more than once." % a)
        out.append(a)
    return out


def _reverse_shape(op):
    x, axis = op.inputs
    if axis.shape.ndims not in (None, 1):
        raise ValueError("Shape must be rank 1 but is rank %d" % axis.shape.ndims)
    v = _const(axis)
    if v is not None and x.shape.ndims is not None:
        _reverse_axes(np.reshape(v, -1), x.shape.ndims)
    return [(x.dtype, x.shape)]


def _reverse_kernel(ctx, op, x, axis):
    try:
        axes = _reverse_axes(np.reshape(axis, -1), np.ndim(x))
    except ValueError as e:
        raise errors.InvalidArgumentError(None, op, str(e)) from None
    return op.xp.flip(x, axis=tuple(axes)) if axes else x


def _reverse_grad(op, grad):
    return [reverse(grad, op.inputs[1]), None]


registry.register("ReverseV2", shape=_reverse_shape, kernel=_reverse_kernel,
                  grad=_reverse_grad)
_fold_rule("ReverseV2")


def reverse(tensor, axis, name=None):
    """`tensor` with the dimensions listed in `axis` reversed (TF1's
    `tf.reverse`, which is `reverse_v2`)."""
    tensor = convert_to_tensor(tensor)
    if isinstance(axis, (int, np.integer)):
        axis = [axis]
    return _make_op1("ReverseV2", [(tensor, "tensor", None), (axis, "axis", "index")],
                     {"T": tensor.dtype}, name or "ReverseV2")


reverse_v2 = reverse
