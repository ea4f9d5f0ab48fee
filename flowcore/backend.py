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
import threading

import numpy

_BY_DEVICE_TYPE = {"CPU": numpy}
_BLAS_SETTERS = ("openblas_set_num_threads", "openblas_set_num_threads64_",
                 "scipy_openblas_set_num_threads", "scipy_openblas_set_num_threads64_")


def _find_blas_setters():
    """The thread-count setters of the OpenBLAS libraries numpy loaded.

    `OPENBLAS_NUM_THREADS` only works before numpy is imported, so the
    loaded library is asked directly (Linux: found through /proc/self/maps)."""
    try:
        with open("/proc/self/maps") as f:
            paths = set(re.findall(r"(/\S*openblas\S*\.so\S*)", f.read()))
    except OSError:
        return []
    setters = []
    for path in paths:
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for name in _BLAS_SETTERS:
            fn = getattr(lib, name, None)
            if fn is not None:
                setters.append(fn)
                break
    return setters


_setters = _find_blas_setters()
_blas_now = None        # the thread count last set


def limit_blas_threads(n):
    """Set numpy's OpenBLAS to `n` threads; returns True if a BLAS was found."""
    global _blas_now
    _blas_now = n
    for fn in _setters:
        fn(ctypes.c_int(n))
    return bool(_setters)


def _cores():
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


# FLOWCORE_BLAS_THREADS: "auto" (default, see before_blas), N (a fixed cap), or
# 0 (leave numpy's BLAS alone).
_setting = os.environ.get("FLOWCORE_BLAS_THREADS", "auto").strip().lower() or "auto"
if _setting != "auto" and not _setting.isdigit():
    raise ValueError("FLOWCORE_BLAS_THREADS must be 'auto' or a number of threads "
                     "(0: leave numpy's BLAS alone), not %r" % _setting)
_auto = _setting == "auto" and bool(_setters)
_all_cores = _cores()
if _auto:
    limit_blas_threads(1)
elif _setting != "auto" and int(_setting) > 0:
    limit_blas_threads(int(_setting))


def before_blas():
    """Size OpenBLAS for a BLAS call the calling thread is about to make.

    A kernel run while the caller is the process's only Python thread (a
    training loop fed through feed_dict) may use every core: a 784x128
    MLP step runs 1.5x faster on two.  With other threads about (queue
    runners, trainers), BLAS gets one thread: its worker threads spin while
    they wait for work, and under busy session threads that oversubscribes
    the cores (a 128x128 matmul went from ~35 us to ~1 ms, an MLP from 980
    steps/s to 16).  A no-op unless FLOWCORE_BLAS_THREADS is "auto"."""
    if _auto:
        n = _all_cores if threading.active_count() == 1 else 1
        if n != _blas_now:
            limit_blas_threads(n)


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
