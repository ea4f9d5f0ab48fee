"""Which array library runs an op's kernel.

Kernels get their array module from `op.xp`, chosen here from the op's
device, and never import numpy for tensor math themselves.  Today every
device maps to numpy; a CuPy module can later be returned for '/device:GPU:*'
without touching any op definition.  Host-side values (feeds, fetches,
strings, protobuf parsing) stay numpy.
"""
import ctypes
import os
import re

import numpy

_BY_DEVICE_TYPE = {"CPU": numpy}
_BLAS_SETTERS = ("openblas_set_num_threads", "openblas_set_num_threads64_",
                 "scipy_openblas_set_num_threads", "scipy_openblas_set_num_threads64_")


def limit_blas_threads(n):
    """Cap numpy's OpenBLAS at `n` threads; returns True if a BLAS was found.

    Session threads run many small matmuls at once, and a BLAS that starts
    its own thread team for each oversubscribes the cores (a 128x128 matmul
    went from ~35 us to ~1 ms under load here).  `OPENBLAS_NUM_THREADS` only
    works before numpy is imported, so the loaded library is asked directly
    (Linux: found through /proc/self/maps).
    """
    try:
        with open("/proc/self/maps") as f:
            paths = set(re.findall(r"(/\S*openblas\S*\.so\S*)", f.read()))
    except OSError:
        return False
    found = False
    for path in paths:
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for name in _BLAS_SETTERS:
            fn = getattr(lib, name, None)
            if fn is not None:
                fn(ctypes.c_int(n))
                found = True
                break
    return found


# FLOWCORE_BLAS_THREADS=N chooses another cap; 0 leaves numpy's BLAS alone.
_blas_threads = int(os.environ.get("FLOWCORE_BLAS_THREADS", "1") or 0)
if _blas_threads > 0:
    limit_blas_threads(_blas_threads)


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
