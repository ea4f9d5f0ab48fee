"""`py_func`: a Python function as a graph op.

The function runs in whichever thread runs the op (a queue runner's thread,
say), receives its inputs as numpy arrays and returns numpy-convertible
values.  As in TF the result is checked, not cast: a value whose dtype is not
the declared `Tout` is an InvalidArgumentError.  Plain Python numbers (which
carry no numpy dtype of their own) are converted when that loses nothing.

Exceptions map to TF's error classes (ValueError/TypeError ->
InvalidArgumentError, StopIteration -> OutOfRangeError, MemoryError ->
ResourceExhaustedError, NotImplementedError -> UnimplementedError, an
`OpError` -> the same class, anything else -> UnknownError), naming the op,
with the original exception as `__cause__`.  `OutOfRangeError` therefore
ends a QueueRunner fed by a Python generator.
"""
import itertools
import threading

import numpy as np

from flowcore import dtypes, errors, registry, turns
from flowcore.graph import get_default_graph
from flowcore.ops import core
from flowcore.ops.core import convert_to_tensor
from flowcore.shapes import unknown_shape

__all__ = ["py_func", "numpy_function"]

_FUNCS = {}                 # token -> Python function
_tokens = itertools.count()
_tokens_lock = threading.Lock()

_ERROR_CLASSES = ((StopIteration, errors.OutOfRangeError),
                  (ValueError, errors.InvalidArgumentError),
                  (TypeError, errors.InvalidArgumentError),
                  (MemoryError, errors.ResourceExhaustedError),
                  (NotImplementedError, errors.UnimplementedError))


def _error_class(exc):
    if isinstance(exc, errors.OpError):
        return type(exc)
    for base, cls in _ERROR_CLASSES:
        if isinstance(exc, base):
            return cls
    return errors.UnknownError


def _convert(op, i, value, dtype):
    """Result `i` as an array of `dtype`, or InvalidArgumentError like TF."""
    token = op.attrs["token"]
    if dtype is dtypes.string:
        try:
            return core._to_bytes_array(value)
        except TypeError:
            raise errors.InvalidArgumentError(
                None, op, "%d-th value returned by %s (op '%s') is %s, but expects string"
                % (i, token, op.name, type(value).__name__)) from None
    native = not isinstance(value, (np.ndarray, np.generic))
    try:
        arr = np.asarray(value)
    except Exception as e:
        raise errors.InvalidArgumentError(
            None, op, "%d-th value returned by %s (op '%s') cannot be converted to an array: %s"
            % (i, token, op.name, e)) from e
    want = np.dtype(dtype.as_numpy_dtype)
    if arr.dtype == want:
        return arr
    if native and arr.dtype.kind in "biuf":
        # Python numbers: convert when no value changes (1 -> int32, 1.5 -> float32)
        if (arr.dtype.kind == want.kind or arr.dtype.kind in "iu" and want.kind in "iuf") \
                and (want.kind != "b" or arr.dtype.kind == "b"):
            conv = arr.astype(want)
            if want.kind == "f" or np.array_equal(conv, arr):
                return conv
    try:
        got = dtypes.as_dtype(arr.dtype).name
    except TypeError:
        got = str(arr.dtype)
    raise errors.InvalidArgumentError(
        None, op, "%d-th value returned by %s (op '%s') is %s, but expects %s"
        % (i, token, op.name, _tf_name(got), _tf_name(dtype.name)))


def _tf_name(name):
    return {"float32": "float", "float64": "double", "float16": "half"}.get(name, name)


def _py_func_kernel(ctx, op, *inputs):
    func = _FUNCS[op.attrs["token"]]
    turns.give_up()                 # user code may block or run for long
    args = [x.copy() if isinstance(x, np.ndarray) and not x.flags.writeable else x
            for x in inputs]
    try:
        ret = func(*args)
    except Exception as e:
        cls = _error_class(e)
        err = cls(None, op, "%s: %s (raised by the function of py_func op '%s')"
                  % (type(e).__name__, e, op.name))
        raise err from e
    touts = op.attrs["Tout"]
    if ret is None:
        values = []
    elif isinstance(ret, (list, tuple)):
        values = list(ret)
    else:
        values = [ret]
    if len(values) != len(touts):
        raise errors.InvalidArgumentError(
            None, op, "%s (op '%s') returns %d values, but expects to see %d values."
            % (op.attrs["token"], op.name, len(values), len(touts)))
    out = tuple(_convert(op, i, v, dt) for i, (v, dt) in enumerate(zip(values, touts)))
    if len(out) == 1:
        return out[0]
    return out if out else None


def _py_func_shape(op):
    return [(dt, unknown_shape()) for dt in op.attrs["Tout"]]


registry.register("PyFunc", shape=_py_func_shape, kernel=_py_func_kernel, stateful=True)
registry.register("PyFuncStateless", shape=_py_func_shape, kernel=_py_func_kernel)
registry.NotDifferentiable("PyFunc")
registry.NotDifferentiable("PyFuncStateless")


def py_func(func, inp, Tout, stateful=True, name=None):
    """Wrap the Python function `func` as an op over the tensors `inp`.

    `Tout` is a dtype (the op returns one tensor) or a list of dtypes (it
    returns a list; an empty list returns the Operation).  Outputs have
    unknown static shapes; use `set_shape` when they are known.
    """
    if not callable(func):
        raise TypeError("Expected func to be callable, got func of type %s" % type(func))
    single = not isinstance(Tout, (list, tuple))
    touts = [dtypes.as_dtype(Tout)] if single else [dtypes.as_dtype(t) for t in Tout]
    if inp is None:
        inp = []
    elif not isinstance(inp, (list, tuple)):
        inp = [inp]
    inputs = [convert_to_tensor(x) for x in inp]
    with _tokens_lock:
        token = "pyfunc_%d" % next(_tokens)
    _FUNCS[token] = func
    g = core.graph_for(inputs) if inputs else get_default_graph()
    refs = getattr(g, "_py_funcs_used_in_graph", None)
    if refs is None:
        refs = g._py_funcs_used_in_graph = []
    refs.append(token)
    op = core.apply_op("PyFunc" if stateful else "PyFuncStateless", inputs,
                       {"token": token, "Tin": [t.dtype for t in inputs], "Tout": touts},
                       name or "PyFunc")
    if single:
        return op.outputs[0]
    if not touts:
        return op
    return op.outputs


def numpy_function(func, inp, Tout, stateful=True, name=None):
    """`py_func` under its TF 1.15+ name."""
    return py_func(func, inp, Tout, stateful=stateful, name=name)
