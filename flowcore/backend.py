"""Which array library runs an op's kernel.

Kernels get their array module from `op.xp`, chosen here from the op's
device, and never import numpy for tensor math themselves.  Today every
device maps to numpy; a CuPy module can later be returned for '/device:GPU:*'
without touching any op definition.  Host-side values (feeds, fetches,
strings, protobuf parsing) stay numpy.
"""
import numpy

_BY_DEVICE_TYPE = {"CPU": numpy}


def array_module(device):
    """The array module for a canonical device string ('' means the default)."""
    if device:
        i = device.rfind("/device:")
        if i >= 0:
            dev_type = device[i + 8:].split(":", 1)[0].upper()
            return _BY_DEVICE_TYPE.get(dev_type, numpy)
    return numpy


def register_array_module(device_type, module):
    """Route ops placed on `device_type` ('GPU') to `module` (e.g. cupy)."""
    _BY_DEVICE_TYPE[device_type.upper()] = module


def to_host(value):
    """A kernel output as a host numpy value (identity for numpy arrays)."""
    get = getattr(value, "get", None)
    if get is not None and not isinstance(value, numpy.ndarray) and hasattr(value, "__cuda_array_interface__"):
        return get()
    return value
