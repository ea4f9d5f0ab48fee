"""Reductions (`reduce_sum` ... `reduce_logsumexp`, `count_nonzero`), `argmax`
/ `argmin` and cumulative sums and products: part of the math family, whose
names `flowcore.ops.math` re-exports.

Static shapes follow TF: constant axes give exact shapes (`keepdims` keeps
1s), axes known only at run time give unknown dimensions, and a reduction
over all axes is a scalar even for an unknown rank.  The axis input is
converted inside the op's own name scope ('Sum/reduction_indices').
Gradients broadcast the upstream gradient back over the reduced axes; Max/Min
share it equally between tied elements and Prod is zero-safe, as in TF.
"""
import builtins

import numpy as np

from flowcore import dtypes, errors, registry
from flowcore.graph import name_scope
from flowcore.ops import core
from flowcore.ops.core import apply_op1, constant, constant_value, convert_to_tensor, graph_for
from flowcore.ops.math import (_BOOL, _INDEX, _NO_GRAD, _REAL, _check_dtype, _deprecated_arg,
                               _quiet, _scoped_op, _shape_of, add, cast, equal, exp, floordiv,
                               is_finite, log, maximum, multiply, not_equal, realdiv, sqrt,
                               squared_difference, subtract, where_v2)
from flowcore.shapes import TensorShape, unknown_shape

__all__ = []


# -- reductions -------------------------------------------------------------------------

def _normalize_axes(value, rank):
    """The sorted distinct axes in `value` (ints, possibly negative) for a
    tensor of `rank`; ValueError (TF's message) for one out of range."""
    out = []
    for a in np.asarray(value).reshape(-1).tolist():
        if a < -rank or a >= rank:
            raise ValueError("Invalid reduction dimension %d for input with %d dimensions."
                             % (a, rank))
        a %= rank
        if a not in out:
            out.append(a)
    return sorted(out)


def _reduced_shape(shape, axes_value, keep):
    """TF's static shape of a reduction of `shape` over constant axes (or None)."""
    if axes_value is None:
        if keep and shape.ndims is not None:
            return unknown_shape(shape.ndims)
        return unknown_shape()
    if shape.ndims is None:
        return unknown_shape()
    axes = _normalize_axes(axes_value, shape.ndims)
    if keep:
        return TensorShape([1 if i in axes else d for i, d in enumerate(shape.dims)])
    return TensorShape([d for i, d in enumerate(shape.dims) if i not in axes])


def _register_reduction(op_type, kernel, grad, allowed, out_dtype=None):
    def shape(op):
        x, axis = op.inputs
        _check_dtype(op_type, x, allowed, "input")
        _check_dtype(op_type, axis, _INDEX, "reduction_indices")
        if axis.shape.ndims is not None and axis.shape.ndims > 1:
            raise ValueError("Shape must be at most rank 1 but is rank %d" % axis.shape.ndims)
        return [(out_dtype or x.dtype,
                 _reduced_shape(x.shape, constant_value(axis), op.attrs["keep_dims"]))]
    registry.register(op_type, shape=shape, kernel=kernel,
                      grad=None if grad is _NO_GRAD else grad)
    if grad is _NO_GRAD:
        registry.NotDifferentiable(op_type)


def _axes(axis):
    """A kernel's axis value as numpy wants it: an int or a tuple."""
    a = axis.tolist()
    return tuple(a) if type(a) is list else a


def _axes_of(op, axis):
    """`_axes(axis)`, kept while the same array (a constant's) comes again."""
    c = op.__dict__.get("_axes")
    if c is not None and c[0] is axis:
        return c[1]
    r = _axes(axis)
    op.__dict__["_axes"] = (axis, r)
    return r


# The array methods (`x.sum`) skip the Python dispatch layer of `xp.sum`:
# a microsecond per call, which is much of a small reduction's cost.

def _array(op, x):
    return x if hasattr(x, "sum") else op.xp.asarray(x)


def _sum_kernel(ctx, op, x, axis):
    x = _array(op, x)
    return x.sum(axis=_axes_of(op, axis), dtype=x.dtype, keepdims=op.attrs["keep_dims"])


def _prod_kernel(ctx, op, x, axis):
    x = _array(op, x)
    return x.prod(axis=_axes_of(op, axis), dtype=x.dtype, keepdims=op.attrs["keep_dims"])


def _mean_kernel(ctx, op, x, axis):
    """sum / count (cheaper than numpy's mean); integers divide truncating
    toward zero as in TF, an empty float input gives NaN (0 / 0)."""
    x = _array(op, x)
    s = x.sum(axis=_axes_of(op, axis), dtype=x.dtype, keepdims=op.attrs["keep_dims"])
    n = x.size // s.size if s.size else 1
    if x.dtype.kind == "f":
        return s / n
    return op.xp.trunc(s / builtins.max(n, 1)).astype(x.dtype)


def _extreme_kernel(fn_name, initial):
    def kernel(ctx, op, x, axis):
        fn = getattr(op.xp, fn_name)
        if x.size == 0:   # TF: the identity of the reduction, e.g. -inf for max
            return fn(x, axis=_axes(axis), keepdims=op.attrs["keep_dims"],
                      initial=initial(x.dtype))
        return fn(x, axis=_axes(axis), keepdims=op.attrs["keep_dims"])
    return kernel


def _lowest(dt):
    return -np.inf if dt.kind == "f" else np.iinfo(dt).min


def _highest(dt):
    return np.inf if dt.kind == "f" else np.iinfo(dt).max


def _kept_shape(op):
    """The shape of a reduction's result with the reduced axes kept as 1s: a
    constant when known, else computed (Shape/SelectV2, or the reduction's
    keep_dims twin when even the axes are unknown)."""
    x, axis = op.inputs
    av = constant_value(axis)
    r = x.shape.ndims
    if av is not None and r is not None:
        kept = _reduced_shape(x.shape, av, True)
        if kept.is_fully_defined():
            return constant(np.asarray(kept.as_list(), dtype=np.int32))
        axes = _normalize_axes(av, r)
        mask = constant(np.asarray([i in axes for i in builtins.range(r)]))
        return where_v2(mask, constant(1, dtype=dtypes.int32), _shape_of(x))
    from flowcore.ops import array
    twin = apply_op1(op.type, [x, axis], dict(op.attrs, keep_dims=True), op.type)
    return array.shape(twin)


def _to_kept(op, t):
    """`t` (shaped like the reduction's output) reshaped so the reduced axes
    are 1s and it broadcasts against the reduction's input."""
    if op.attrs["keep_dims"]:
        return t
    from flowcore.ops import array
    return array.reshape(t, _kept_shape(op))


def _broadcast_back(op, g_kept):
    from flowcore.ops import array
    return array.broadcast_to(g_kept, _shape_of(op.inputs[0]))


def _sum_grad(op, grad):
    return [_broadcast_back(op, _to_kept(op, grad)), None]


def _mean_grad(op, grad):
    x, y = op.inputs[0], op.outputs[0]
    nx, ny = x.shape.num_elements(), y.shape.num_elements()
    if nx is not None and ny is not None:
        count = constant(np.asarray(nx // builtins.max(ny, 1), dtype=grad.dtype.as_numpy_dtype))
    else:
        sx = reduce_prod(_shape_of(x))
        sy = reduce_prod(_shape_of(y))
        count = cast(floordiv(sx, maximum(sy, 1)), grad.dtype)
    return [_broadcast_back(op, realdiv(_to_kept(op, grad), count)), None]


def _extreme_grad(op, grad):
    """Max/Min: the gradient is shared equally between tied extreme elements."""
    x, axis = op.inputs
    y = _to_kept(op, op.outputs[0])
    indicators = cast(equal(y, x), grad.dtype)
    num_selected = reduce_sum(indicators, axis, keepdims=True)
    return [multiply(realdiv(indicators, num_selected), _to_kept(op, grad)), None]


def _others_product(x, axes):
    """For each element, the product of the other elements of its reduction
    block over `axes` (zero-safe: exclusive cumulative products both ways)."""
    a = axes[-1]
    p = multiply(cumprod(x, a, exclusive=True), cumprod(x, a, exclusive=True, reverse=True))
    if len(axes) == 1:
        return p
    rest = _others_product(reduce_prod(x, a, keepdims=True), axes[:-1])
    return multiply(p, rest)


def _prod_grad(op, grad):
    x, axis = op.inputs
    g = _to_kept(op, grad)
    av = constant_value(axis)
    if av is not None and x.shape.ndims is not None:
        axes = _normalize_axes(av, x.shape.ndims)
        if not axes:
            return [grad, None]
        return [multiply(g, _others_product(x, axes)), None]
    # axes known only at run time: y / x (not defined where x is 0)
    return [multiply(g, realdiv(_to_kept(op, op.outputs[0]), x)), None]


_register_reduction("Sum", _sum_kernel, _sum_grad, _REAL)
_register_reduction("Mean", _quiet(_mean_kernel), _mean_grad, _REAL)
_register_reduction("Prod", _prod_kernel, _prod_grad, _REAL)
_register_reduction("Max", _extreme_kernel("max", _lowest), _extreme_grad, _REAL)
_register_reduction("Min", _extreme_kernel("min", _highest), _extreme_grad, _REAL)
_register_reduction("Any", lambda ctx, op, x, axis: op.xp.any(
    x, axis=_axes(axis), keepdims=op.attrs["keep_dims"]), _NO_GRAD, _BOOL, dtypes.bool)
_register_reduction("All", lambda ctx, op, x, axis: op.xp.all(
    x, axis=_axes(axis), keepdims=op.attrs["keep_dims"]), _NO_GRAD, _BOOL, dtypes.bool)


def _all_axes(x):
    """The reduction axes meaning "all": range(rank) as a constant, or, for an
    unknown rank, computed as an exclusive cumulative sum of ones."""
    r = x.shape.ndims
    if r is not None:
        return constant(np.arange(r, dtype=np.int32))
    from flowcore.ops import array
    ones = array.fill(array.shape(array.shape(x)), constant(1, dtype=dtypes.int32))
    return cumsum(ones, exclusive=True)


def _reduce(op_type, input_tensor, axis, keepdims, name, reduction_indices, keep_dims):
    axis = _deprecated_arg(axis, "axis", reduction_indices, "reduction_indices")
    keepdims = _deprecated_arg(keepdims, "keepdims", keep_dims, "keep_dims")
    keepdims = builtins.bool(keepdims) if keepdims is not None else False
    x = convert_to_tensor(input_tensor)
    typed = op_type not in ("Any", "All")

    def attrs(axis_t):
        a = {"keep_dims": keepdims, "Tidx": axis_t.dtype}
        if typed:
            a["T"] = x.dtype
        return a
    if axis is None:
        with graph_for([x]).as_default():
            axis_t = _all_axes(x)
        out = apply_op1(op_type, [x, axis_t], attrs(axis_t), name or op_type)
        if not keepdims:   # a scalar even when the rank is unknown (TF's rule)
            out.set_shape([])
        return out
    return _scoped_op(op_type, [x], [(axis, "reduction_indices")], attrs, name)


def reduce_sum(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None,
               keep_dims=None):
    """The sum over `axis` (all axes when None); `keepdims` keeps them as 1s."""
    return _reduce("Sum", input_tensor, axis, keepdims, name, reduction_indices, keep_dims)


def reduce_mean(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None,
                keep_dims=None):
    """The mean over `axis` (integer inputs: truncating integer division, as TF)."""
    return _reduce("Mean", input_tensor, axis, keepdims, name, reduction_indices, keep_dims)


def reduce_prod(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None,
                keep_dims=None):
    """The product over `axis`."""
    return _reduce("Prod", input_tensor, axis, keepdims, name, reduction_indices, keep_dims)


def reduce_max(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None,
               keep_dims=None):
    """The maximum over `axis` (-inf, or the dtype's lowest value, when empty)."""
    return _reduce("Max", input_tensor, axis, keepdims, name, reduction_indices, keep_dims)


def reduce_min(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None,
               keep_dims=None):
    """The minimum over `axis` (+inf, or the dtype's highest value, when empty)."""
    return _reduce("Min", input_tensor, axis, keepdims, name, reduction_indices, keep_dims)


def reduce_any(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None,
               keep_dims=None):
    """Logical OR of a bool tensor over `axis`."""
    return _reduce("Any", input_tensor, axis, keepdims, name, reduction_indices, keep_dims)


def reduce_all(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None,
               keep_dims=None):
    """Logical AND of a bool tensor over `axis`."""
    return _reduce("All", input_tensor, axis, keepdims, name, reduction_indices, keep_dims)


def reduce_logsumexp(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None,
                     keep_dims=None):
    """log(sum(exp(x))) over `axis`, computed stably by subtracting the
    (finite) maximum first, as TF does."""
    axis = _deprecated_arg(axis, "axis", reduction_indices, "reduction_indices")
    keepdims = _deprecated_arg(keepdims, "keepdims", keep_dims, "keep_dims")
    keepdims = builtins.bool(keepdims)
    x = convert_to_tensor(input_tensor)
    with graph_for([x]).as_default(), name_scope(name, "ReduceLogSumExp", [x]) as scope:
        raw_max = reduce_max(x, axis, keepdims=True)
        my_max = core.stop_gradient(where_v2(is_finite(raw_max), raw_max, 0))
        result = log(reduce_sum(exp(subtract(x, my_max)), axis, keepdims=keepdims))
        if not keepdims:   # drop the kept 1s: a sum over size-1 axes
            my_max = reduce_sum(my_max, axis)
        return add(result, my_max, name=scope)


def reduce_variance(input_tensor, axis=None, keepdims=False, name=None):
    """The variance over `axis`: mean of squared deviations from the mean."""
    x = convert_to_tensor(input_tensor)
    with graph_for([x]).as_default(), name_scope(name or "reduce_variance"):
        means = reduce_mean(x, axis, keepdims=True)
        return reduce_mean(squared_difference(x, means), axis, keepdims=keepdims)


def reduce_std(input_tensor, axis=None, keepdims=False, name=None):
    """The standard deviation over `axis`."""
    x = convert_to_tensor(input_tensor)
    with graph_for([x]).as_default(), name_scope(name or "reduce_std"):
        return sqrt(reduce_variance(x, axis, keepdims=keepdims))


def count_nonzero(input_tensor=None, axis=None, keepdims=None, dtype=dtypes.int64, name=None,
                  reduction_indices=None, keep_dims=None, input=None):
    """How many elements over `axis` are not zero (not empty, for strings)."""
    input_tensor = _deprecated_arg(input_tensor, "input_tensor", input, "input")
    x = convert_to_tensor(input_tensor)
    with graph_for([x]).as_default(), name_scope(name, "count_nonzero", [x]):
        zero = constant(b"" if x.dtype is dtypes.string else
                        np.zeros((), x.dtype.as_numpy_dtype), dtype=x.dtype)
        nonzero = cast(not_equal(x, zero), dtypes.int64)
        return cast(reduce_sum(nonzero, axis, keepdims, reduction_indices=reduction_indices,
                               keep_dims=keep_dims), dtype)


__all__ += ["reduce_sum", "reduce_mean", "reduce_prod", "reduce_max", "reduce_min",
            "reduce_any", "reduce_all", "reduce_logsumexp", "reduce_variance", "reduce_std",
            "count_nonzero"]


# -- argmax / argmin ------------------------------------------------------------------

def _register_arg(op_type, fn_name):
    def shape(op):
        x, axis = op.inputs
        _check_dtype(op_type, x, _REAL, "input")
        _check_dtype(op_type, axis, _INDEX, "dimension")
        out = op.attrs["output_type"]
        s = x.shape
        if s.ndims is None:
            return [(out, unknown_shape())]
        av = constant_value(axis)
        if av is None:
            return [(out, unknown_shape(builtins.max(s.ndims - 1, 0)))]
        if np.size(av) != 1:
            raise ValueError("The dimension of %s must be a scalar" % op_type)
        a = int(np.asarray(av).reshape(()))
        if a < -s.ndims or a >= s.ndims:
            raise ValueError("Dimension (%d) must be in the range [%d, %d), where %d is the "
                             "number of dimensions in the input." % (a, -s.ndims, s.ndims,
                                                                     s.ndims))
        a %= s.ndims
        return [(out, TensorShape(s.dims[:a] + s.dims[a + 1:]))]

    def kernel(ctx, op, x, axis):
        a = int(axis)
        if x.shape[a] == 0:
            raise errors.InvalidArgumentError(None, op, "Reduction axis %d is empty in shape %s"
                                              % (a, list(x.shape)))
        return getattr(op.xp, fn_name)(x, axis=a).astype(
            op.attrs["output_type"].as_numpy_dtype, copy=False)
    registry.register(op_type, shape=shape, kernel=kernel)
    registry.NotDifferentiable(op_type)

    def builder(input, axis=None, name=None, dimension=None, output_type=dtypes.int64):
        axis = _deprecated_arg(axis, "axis", dimension, "dimension")
        if axis is None:
            axis = 0
        output_type = dtypes.as_dtype(output_type)
        if output_type not in (dtypes.int16, dtypes.uint16, dtypes.int32, dtypes.int64):
            raise TypeError("Value passed to parameter 'output_type' has DataType %s not in "
                            "list of allowed values: int16, uint16, int32, int64"
                            % output_type.name)
        if isinstance(axis, (list, tuple, float)):
            raise TypeError("axis must be int or Tensor with integer datatype")
        x = convert_to_tensor(input)
        return _scoped_op(op_type, [x], [(axis, "dimension")],
                          lambda a: {"T": x.dtype, "output_type": output_type, "Tidx": a.dtype},
                          name)
    builder.__name__ = fn_name
    builder.__doc__ = "The index of the %s element along `axis` (first one on ties)." % (
        "largest" if fn_name == "argmax" else "smallest")
    return builder


argmax = _register_arg("ArgMax", "argmax")
argmin = _register_arg("ArgMin", "argmin")
__all__ += ["argmax", "argmin"]


# -- cumulative sums and products ------------------------------------------------------

def _register_cumulative(op_type, fn_name, identity, grad):
    """Register Cumsum/Cumprod: `fn_name` along a scalar axis input, with TF's
    `exclusive` (shifted by one, starting at `identity`) and `reverse` attrs."""
    def shape(op):
        x, axis = op.inputs
        _check_dtype(op_type, x, _REAL)
        _check_dtype(op_type, axis, _INDEX, "axis")
        if axis.shape.ndims not in (None, 0):
            raise ValueError("Shape must be rank 0 but is rank %d" % axis.shape.ndims)
        return [(x.dtype, x.shape)]

    def kernel(ctx, op, x, axis):
        xp, attrs = op.xp, op.attrs
        a = int(axis) % builtins.max(x.ndim, 1)
        reverse = attrs["reverse"]
        if reverse:
            x = xp.flip(x, a)
        out = getattr(xp, fn_name)(x, axis=a, dtype=x.dtype)
        if attrs["exclusive"]:
            head = (slice(None),) * a
            shifted = xp.empty_like(out)
            shifted[head + (slice(1, None),)] = out[head + (slice(0, -1),)]
            shifted[head + (slice(0, 1),)] = identity
            out = shifted
        return xp.flip(out, a) if reverse else out
    registry.register(op_type, shape=shape, kernel=kernel, grad=grad)


def _cumsum_grad(op, grad):
    return [cumsum(grad, op.inputs[1], exclusive=op.attrs["exclusive"],
                   reverse=not op.attrs["reverse"]), None]


def _cumprod_grad(op, grad):
    x, axis = op.inputs
    ex, rev = op.attrs["exclusive"], op.attrs["reverse"]
    prod = cumprod(x, axis, exclusive=ex, reverse=rev)
    out = cumsum(multiply(prod, grad), axis, exclusive=ex, reverse=not rev)
    return [realdiv(out, x), None]


_register_cumulative("Cumsum", "cumsum", 0, _cumsum_grad)
_register_cumulative("Cumprod", "cumprod", 1, _cumprod_grad)


def _cumulative_builder(op_type):
    def builder(x, axis=0, exclusive=False, reverse=False, name=None):
        x = convert_to_tensor(x)
        return _scoped_op(op_type, [x], [(axis, "axis")],
                          lambda a: {"T": x.dtype, "Tidx": a.dtype,
                                     "exclusive": builtins.bool(exclusive),
                                     "reverse": builtins.bool(reverse)}, name)
    return builder


cumsum = _cumulative_builder("Cumsum")
cumsum.__doc__ = ("Cumulative sum along `axis`; `exclusive` leaves each element out, "
                  "`reverse` sums from the end.")
cumprod = _cumulative_builder("Cumprod")
cumprod.__doc__ = "Cumulative product along `axis` (see `cumsum`)."
__all__ += ["cumsum", "cumprod"]
