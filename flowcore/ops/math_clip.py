"""Clipping and norms (TF's clip_ops): `clip_by_value`, `clip_by_norm`,
`global_norm`, `clip_by_global_norm`; part of the math family, re-exported by
`flowcore.ops.math`.  Built from math ops as TF builds them, so their
gradients come from those ops.  None entries pass through the list functions
and IndexedSlices keep their indices (only their values are scaled).
"""
import collections.abc

import numpy as np

from flowcore.graph import name_scope
from flowcore.ops import core
from flowcore.ops.core import constant, convert_to_tensor
from flowcore.ops.math import (_is_indexed_slices, _rebuild_slices, add_n, greater, is_finite,
                               maximum, minimum, multiply, realdiv, sqrt, truediv,
                               where_v2)
from flowcore.ops.math_reduce import reduce_sum

__all__ = []


# -- clipping and norms ----------------------------------------------------------------

def clip_by_value(t, clip_value_min, clip_value_max, name=None):
    """`t` with values below `clip_value_min` / above `clip_value_max` replaced
    by them.  The bounds may broadcast, but not enlarge `t` (ValueError)."""
    values = t.values if _is_indexed_slices(t) else t
    with name_scope(name, "clip_by_value", [values, clip_value_min, clip_value_max]) as scope:
        values = convert_to_tensor(values, name="t")
        t_min = minimum(values, clip_value_max)
        values.shape.assert_is_compatible_with(t_min.shape)
        t_max = maximum(t_min, clip_value_min, name=scope)
        values.shape.assert_is_compatible_with(t_max.shape)
    return _rebuild_slices(t, t_max) if _is_indexed_slices(t) else t_max


def clip_by_norm(t, clip_norm, axes=None, name=None):
    """`t` scaled so its L2 norm over `axes` (all when None) is at most `clip_norm`."""
    values = t.values if _is_indexed_slices(t) else t
    with name_scope(name, "clip_by_norm", [values, clip_norm]) as scope:
        values = convert_to_tensor(values, name="t")
        l2sum = reduce_sum(multiply(values, values), axes, keepdims=True)
        pred = greater(l2sum, 0)
        l2norm = where_v2(pred, sqrt(where_v2(pred, l2sum, 1)), l2sum)
        intermediate = multiply(values, clip_norm)
        values.shape.assert_is_compatible_with(intermediate.shape)
        clipped = core.identity(realdiv(intermediate, maximum(l2norm, clip_norm)), name=scope)
    return _rebuild_slices(t, clipped) if _is_indexed_slices(t) else clipped


def _check_tensor_list(t_list):
    if not isinstance(t_list, collections.abc.Sequence) or isinstance(t_list, (str, bytes)):
        raise TypeError("`t_list` should be a sequence of tensors. Received %s." % type(t_list))
    return list(t_list)


def global_norm(t_list, name=None):
    """sqrt(sum of the squared L2 norms of the tensors in `t_list`), built as
    TF builds it from one `L2Loss` (sum(v ** 2) / 2) per tensor; None entries
    are ignored, IndexedSlices count their values."""
    from flowcore.ops import nn
    t_list = _check_tensor_list(t_list)
    vals = [t.values if _is_indexed_slices(t) else t for t in t_list]
    with name_scope(name, "global_norm", [v for v in vals if v is not None]):
        values = [convert_to_tensor(v, name="t_%d" % i) for i, v in enumerate(vals)
                  if v is not None]
        halves = [nn.l2_loss(v) for v in values]
        half_total = add_n(halves) if halves else constant(0.0)
        return sqrt(multiply(half_total, 2.0), name="global_norm")


def clip_by_global_norm(t_list, clip_norm, use_norm=None, name=None):
    """Scale every tensor of `t_list` by clip_norm / max(global_norm, clip_norm).
    Returns (clipped list, global norm); None entries stay None, IndexedSlices
    stay IndexedSlices.  An infinite norm makes every value NaN, as in TF."""
    t_list = _check_tensor_list(t_list)
    if use_norm is None:
        use_norm = global_norm(t_list, name)
    vals = [t.values if _is_indexed_slices(t) else t for t in t_list]
    with name_scope(name, "clip_by_global_norm",
                    [v for v in vals if v is not None] + [clip_norm]) as scope:
        use_norm = convert_to_tensor(use_norm)
        scale_for_finite = multiply(clip_norm, minimum(
            truediv(1.0, use_norm), truediv(constant(1.0, dtype=use_norm.dtype), clip_norm)))
        # NaN when the norm is inf or NaN (TF adds use_norm - use_norm; this says the
        # same without numpy's warning about inf - inf)
        scale = where_v2(is_finite(use_norm), scale_for_finite, np.nan)
        clipped = []
        for i, (t, v) in enumerate(zip(t_list, vals)):
            if v is None:
                clipped.append(None)
                continue
            v = convert_to_tensor(v, name="t_%d" % i)
            c = core.identity(multiply(v, scale), name="%s_%d" % (scope, i))
            clipped.append(_rebuild_slices(t, c) if _is_indexed_slices(t) else c)
    return clipped, use_norm


__all__ += ["clip_by_value", "clip_by_norm", "global_norm", "clip_by_global_norm"]
