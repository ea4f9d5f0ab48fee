"""Sparse tensors: (indices, values, dense_shape) triples of tensors."""
import collections

from flowcore import dtypes
from flowcore.graph import Tensor
from flowcore.ops import core
from flowcore.shapes import TensorShape

__all__ = ["SparseTensor", "SparseTensorValue", "sparse_placeholder"]

SparseTensorValue = collections.namedtuple("SparseTensorValue",
                                           ["indices", "values", "dense_shape"])


class SparseTensor:
    """A sparse tensor: int64 `indices` [N, rank], `values` [N] and int64
    `dense_shape` [rank].  Fetching one gives a `SparseTensorValue`."""

    def __init__(self, indices, values, dense_shape):
        g = core.graph_for([x for x in (indices, values, dense_shape) if isinstance(x, Tensor)])
        with g.as_default():
            self._indices = core.convert_to_tensor(indices, dtype=dtypes.int64, name="indices")
            self._values = core.convert_to_tensor(values, name="values")
            self._dense_shape = core.convert_to_tensor(dense_shape, dtype=dtypes.int64,
                                                       name="dense_shape")
        self._indices.shape.with_rank(2)
        self._values.shape.with_rank(1)
        self._dense_shape.shape.with_rank(1)

    @classmethod
    def from_value(cls, value):
        if isinstance(value, SparseTensor):
            return value
        return cls(value.indices, value.values, value.dense_shape)

    indices = property(lambda self: self._indices)
    values = property(lambda self: self._values)
    dense_shape = property(lambda self: self._dense_shape)
    dtype = property(lambda self: self._values.dtype)
    op = property(lambda self: self._values.op)
    graph = property(lambda self: self._values.graph)

    @property
    def shape(self):
        v = core.constant_value(self._dense_shape)
        if v is not None:
            return TensorShape([int(d) for d in v])
        n = self._dense_shape.shape
        return TensorShape(None) if n.ndims is None or n[0].value is None \
            else TensorShape([None] * n[0].value)

    def get_shape(self):
        return self.shape

    def eval(self, feed_dict=None, session=None):
        from flowcore.session import _session_for
        return _session_for(session, self.graph).run(self, feed_dict)

    def __repr__(self):
        return "SparseTensor(indices=%s, values=%s, dense_shape=%s)" % (
            self._indices, self._values, self._dense_shape)


def sparse_placeholder(dtype, shape=None, name=None):
    """A SparseTensor whose indices, values (and dense_shape, unless `shape`
    is fully known) must be fed, e.g. with a SparseTensorValue."""
    from flowcore.graph import name_scope
    from flowcore.shapes import as_shape
    with name_scope(name, "SparseTensor") as scope:
        scope = scope.rstrip("/")
        shape = None if shape is None else as_shape(shape)
        rank = None if shape is None else shape.ndims
        if shape is not None and shape.is_fully_defined():
            dense_shape = core.constant(shape.as_list(), dtype=dtypes.int64, name="shape")
        else:
            dense_shape = core.placeholder(dtypes.int64, [rank], name="shape")
        return SparseTensor(core.placeholder(dtypes.int64, [None, rank], name="indices"),
                            core.placeholder(dtype, [None], name="values"), dense_shape)
