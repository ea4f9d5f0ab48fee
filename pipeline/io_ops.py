"""File ops: `read_file`, `write_file`, `matching_files`.

OS errors become TF's classes naming the file (NotFoundError for a missing
file, PermissionDeniedError, ...).  `write_file` creates missing parent
directories, as TF does.
"""
import glob
import os

import numpy as np

from flowcore import dtypes, registry
from flowcore.ops.core import apply_op, apply_op1, convert_to_tensor
from flowcore.shapes import TensorShape
from pipeline.tfrecord import os_error

__all__ = ["read_file", "write_file", "matching_files"]


def _path(v):
    v = v.item() if isinstance(v, np.ndarray) else v
    return v.decode("utf-8") if isinstance(v, bytes) else str(v)


def _read_file_kernel(ctx, op, filename):
    path = _path(filename)
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as e:
        raise os_error(e, path, "read") from None


def _scalar_string_shape(op):
    for t in op.inputs:
        if t.dtype is not dtypes.string:
            raise TypeError("%s expects string inputs, got %s" % (op.type, t.dtype.name))
        if t.shape.ndims not in (None, 0):
            raise ValueError("Shape must be rank 0 but is rank %d" % t.shape.ndims)
    return [(dtypes.string, TensorShape([]))] if op.type == "ReadFile" else []


registry.register("ReadFile", shape=_scalar_string_shape, kernel=_read_file_kernel,
                  stateful=True)
registry.NotDifferentiable("ReadFile")


def read_file(filename, name=None):
    """The contents of file `filename` as a scalar string."""
    t = convert_to_tensor(filename, dtype=dtypes.string, name="filename")
    return apply_op1("ReadFile", [t], None, name or "ReadFile")


def _write_file_kernel(ctx, op, filename, contents):
    path = _path(filename)
    data = contents.item() if isinstance(contents, np.ndarray) else contents
    try:
        parent = os.path.dirname(path)
        if parent:
            os.makedirs(parent, exist_ok=True)
        tmp = path + ".tmp%d" % os.getpid()
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except OSError as e:
        raise os_error(e, path, "write") from None


registry.register("WriteFile", shape=_scalar_string_shape, kernel=_write_file_kernel,
                  stateful=True)
registry.NotDifferentiable("WriteFile")


def write_file(filename, contents, name=None):
    """An op writing the scalar string `contents` to `filename` (replacing it)."""
    f = convert_to_tensor(filename, dtype=dtypes.string, name="filename")
    c = convert_to_tensor(contents, dtype=dtypes.string, name="contents")
    return apply_op("WriteFile", [f, c], None, name=name or "WriteFile")


def _matching_files_kernel(ctx, op, pattern):
    pats = np.asarray(pattern, dtype=object).reshape(-1)
    found = set()
    for p in pats:
        found.update(glob.glob(_path(p)))
    out = np.empty(len(found), dtype=object)
    out[:] = [f.encode("utf-8") for f in sorted(found)]
    return out


def _matching_files_shape(op):
    p = op.inputs[0]
    if p.dtype is not dtypes.string:
        raise TypeError("matching_files expects a string pattern, got %s" % p.dtype.name)
    if p.shape.ndims is not None and p.shape.ndims > 1:
        raise ValueError("Shape must be at most rank 1 but is rank %d" % p.shape.ndims)
    return [(dtypes.string, TensorShape([None]))]


registry.register("MatchingFiles", shape=_matching_files_shape,
                  kernel=_matching_files_kernel, stateful=True)
registry.NotDifferentiable("MatchingFiles")


def matching_files(pattern, name=None):
    """The sorted file names matching a glob `pattern` (or a vector of them);
    an empty vector when nothing matches."""
    t = convert_to_tensor(pattern, dtype=dtypes.string, name="pattern")
    return apply_op1("MatchingFiles", [t], None, name or "MatchingFiles")
