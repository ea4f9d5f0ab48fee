"""`IndexedSlices`: a sparse set of rows of a dense tensor, as TF represents
the gradient of `gather` / `embedding_lookup`.

`values[i]` is row `indices[i]` of a tensor of shape `dense_shape`; repeated
indices add up.  Any op that needs a plain Tensor gets one through the
registered tensor conversion, which densifies with `UnsortedSegmentSum`
(warning, as TF does, when the dense size is unknown or very large).
"""
import collections
import warnings

import numpy as np

from flowcore.ops import core

__all__ = ["IndexedSlices", "IndexedSlicesValue", "densify"]

IndexedSlicesValue = collections.namedtuple("IndexedSlicesValue",
                                            ["values", "indices", "dense_shape"])

_LARGE_SPARSE_NUM_ELEMENTS = 100000000


class IndexedSlices:
    """Rows `indices` of a dense tensor of shape `dense_shape`, holding `values`."""

    def __init__(self, values, indices, dense_shape=None):
        self._values = values
        self._indices = indices
        self._dense_shape = dense_shape

    values = property(lambda self: self._values)
    indices = property(lambda self: self._indices)
    dense_shape = property(lambda self: self._dense_shape)
    name = property(lambda self: self._values.name)
    device = property(lambda self: self._values.device)
    op = property(lambda self: self._values.op)
    dtype = property(lambda self: self._values.dtype)
    graph = property(lambda self: self._values.graph)

    @property
    def shape(self):
        """The static shape of the dense tensor (from `dense_shape` if known,
        else `values`' trailing dimensions)."""
        from flowcore.ops.array import constant_value_as_shape
        from flowcore.shapes import TensorShape
        if self._dense_shape is not None:
            s = constant_value_as_shape(self._dense_shape)
            if s.ndims is not None:
                return s
        v = self._values.shape
        return TensorShape(None) if v.ndims is None else TensorShape([None]).concatenate(v[1:])

    def get_shape(self):
        return self.shape

    def consumers(self):
        return self._values.consumers()

    def __neg__(self):
        from flowcore.ops.math import negative
        return IndexedSlices(negative(self._values), self._indices, self._dense_shape)

    def __str__(self):
        return "IndexedSlices(indices=%s, values=%s%s)" % (
            self._indices, self._values,
            (", dense_shape=%s" % self._dense_shape) if self._dense_shape is not None else "")

    __repr__ = __str__


def _to_tensor(value, dtype=None, name=None, as_ref=False):
    """Densify: unsorted_segment_sum(values, indices, dense_shape[0])."""
    if dtype is not None and dtype is not value.dtype:
        raise ValueError("Tensor conversion requested dtype %s for IndexedSlices with dtype %s"
                         % (dtype.name, value.dtype.name))
    if value.dense_shape is None:
        raise ValueError("Tensor conversion requested for IndexedSlices without dense_shape: %s"
                         % value)
    return densify(value, name=name, warn=True)


def densify(value, name=None, warn=False):
    """`value` (IndexedSlices or Tensor) as a dense Tensor.  With `warn`, as
    for implicit conversions, warn when the dense shape is unknown or large;
    gradients that must densify (Reshape's) call it without warning, as TF's do."""
    if not isinstance(value, IndexedSlices):
        return value
    from flowcore.ops.array_gather import unsorted_segment_sum
    shape_value = core.constant_value(value.dense_shape)
    if shape_value is not None:
        n = int(np.prod(shape_value, dtype=np.int64))
        if warn and n >= _LARGE_SPARSE_NUM_ELEMENTS:
            warnings.warn("Converting sparse IndexedSlices to a dense Tensor with %d elements. "
                          "This may consume a large amount of memory." % n, stacklevel=4)
        rows = int(np.reshape(shape_value, -1)[0])
    else:
        if warn:
            warnings.warn("Converting sparse IndexedSlices to a dense Tensor of unknown "
                          "shape. This may consume a large amount of memory.", stacklevel=4)
        rows = value.dense_shape[0]
    return unsorted_segment_sum(value.values, value.indices, rows, name=name)


core.register_tensor_conversion_function(IndexedSlices, _to_tensor)
