"""Element types of tensors, as TensorFlow names and numbers them.

`string` tensors hold numpy object arrays of `bytes`.  The enum values are
TF's `DataType` numbers so protos we write (summaries, graphs) match TF's.
"""
import builtins as _builtins

import numpy as np


class DType:
    """An element type: `name`, `as_numpy_dtype`, and TF's predicates."""

    __slots__ = ("_name", "_np", "_enum")

    def __init__(self, name, np_type, enum):
        self._name = name
        self._np = np_type
        self._enum = enum

    name = property(lambda self: self._name)
    as_numpy_dtype = property(lambda self: self._np)
    as_datatype_enum = property(lambda self: self._enum)
    base_dtype = property(lambda self: self)
    real_dtype = property(lambda self: self)

    @property
    def is_floating(self):
        return self._np in (np.float16, np.float32, np.float64)

    @property
    def is_integer(self):
        return self in _INTS

    @property
    def is_unsigned(self):
        return self in (uint8, uint16, uint32, uint64)

    @property
    def is_bool(self):
        return self is bool

    @property
    def is_complex(self):
        return False

    @property
    def is_numpy_compatible(self):
        return True

    @property
    def size(self):
        return 1 if self is string else np.dtype(self._np).itemsize

    @property
    def min(self):
        if self.is_floating:
            return float(np.finfo(self._np).min)
        if self.is_integer:
            return int(np.iinfo(self._np).min)
        raise TypeError("Cannot find minimum value of %s." % self)

    @property
    def max(self):
        if self.is_floating:
            return float(np.finfo(self._np).max)
        if self.is_integer:
            return int(np.iinfo(self._np).max)
        raise TypeError("Cannot find maximum value of %s." % self)

    def is_compatible_with(self, other):
        return self is as_dtype(other)

    def __repr__(self):
        return "tf.%s" % self._name

    def __str__(self):
        return "<dtype: %r>" % self._name

    def __eq__(self, other):
        if other is None:
            return False
        if isinstance(other, DType):
            return self is other
        try:
            return self is as_dtype(other)
        except TypeError:
            return False

    def __ne__(self, other):
        return not self.__eq__(other)

    def __hash__(self):
        return self._enum

    def __reduce__(self):
        return as_dtype, (self._name,)


float16 = DType("float16", np.float16, 19)
half = float16
float32 = DType("float32", np.float32, 1)
float64 = DType("float64", np.float64, 2)
double = float64
int8 = DType("int8", np.int8, 6)
int16 = DType("int16", np.int16, 5)
int32 = DType("int32", np.int32, 3)
int64 = DType("int64", np.int64, 9)
uint8 = DType("uint8", np.uint8, 4)
uint16 = DType("uint16", np.uint16, 17)
uint32 = DType("uint32", np.uint32, 22)
uint64 = DType("uint64", np.uint64, 23)
bool = DType("bool", np.bool_, 10)  # noqa: A001  (TF's name)
string = DType("string", np.object_, 7)
# handles to per-session state (queues, readers): values are Python objects
resource = DType("resource", np.object_, 20)
variant = DType("variant", np.object_, 21)

_ALL = (float16, float32, float64, int8, int16, int32, int64, uint8, uint16,
        uint32, uint64, bool, string, resource, variant)
_INTS = (int8, int16, int32, int64, uint8, uint16, uint32, uint64)
_BY_NAME = {d.name: d for d in _ALL}
_BY_NAME.update(half=float16, double=float64)
_BY_ENUM = {d.as_datatype_enum: d for d in _ALL}
_BY_NP = {np.dtype(d.as_numpy_dtype): d for d in _ALL if d.as_numpy_dtype is not np.object_}


def as_dtype(type_value):
    """Convert a DType, name, numpy dtype/type, enum or Python type to a DType."""
    if isinstance(type_value, DType):
        return type_value
    if isinstance(type_value, str):
        d = _BY_NAME.get(type_value)
        if d is not None:
            return d
    elif isinstance(type_value, int) and not isinstance(type_value, _builtins.bool):
        d = _BY_ENUM.get(type_value)
        if d is not None:
            return d
    elif type_value is _builtins.bool:
        return bool
    elif type_value is float:
        return float32
    elif type_value is int:
        return int32
    elif type_value is bytes or type_value is str:
        return string
    else:
        try:
            dt = np.dtype(type_value)
        except TypeError:
            dt = None
        if dt is not None:
            if dt.kind in "SUO":
                return string
            d = _BY_NP.get(dt)
            if d is not None:
                return d
    raise TypeError("Cannot convert value %r to a TensorFlow DType." % (type_value,))


QUANTIZED_DTYPES = frozenset()
