"""Parsing serialized `tf.train.Example` / `SequenceExample` protos into tensors.

`parse_example` adds one `ParseExample` op for a whole batch.  Its kernel
reads a batch of `WIRE_MIN_BATCH` records or more straight from the wire
bytes into numpy arrays (`pipeline.example_wire`: a few numpy calls per
feature for the whole batch, no Python object per value but the strings);
smaller batches, and any batch that reader declines (an unusual encoding,
a missing or mistyped feature: the cases that raise), are parsed record by
record with the protobuf runtime's C parser (upb), every feature's values
gathered into one flat list, which applies every rule.  Feature specs
follow TF1: `FixedLenFeature` (dense, required unless it has a default),
`VarLenFeature` (a `SparseTensor`) and `FixedLenSequenceFeature` (dense,
padded along a new axis).  Dtypes are
float32, int64 and string, and errors match TF's: a missing required
feature, a dtype mismatch or a wrong value count is an InvalidArgumentError
naming the example (`Name:`), feature key and record index.
"""
import collections
import itertools
import operator

import numpy as np
from google.protobuf.message import DecodeError

from flowcore import batching, dtypes, errors, registry
from flowcore.graph import name_scope
from flowcore.ops.core import apply_op, convert_to_tensor
from flowcore.shapes import TensorShape, as_shape
from flowcore.sparse import SparseTensor
from pipeline import example_wire
from pipeline.protos import Example, Feature, SequenceExample

__all__ = ["FixedLenFeature", "VarLenFeature", "FixedLenSequenceFeature",
           "parse_example", "parse_single_example", "parse_single_sequence_example"]


class FixedLenFeature(collections.namedtuple("FixedLenFeature",
                                             ["shape", "dtype", "default_value"])):
    """A dense feature of fixed `shape`; required unless `default_value` is given."""

    def __new__(cls, shape, dtype, default_value=None):
        return super().__new__(cls, shape, dtype, default_value)


class VarLenFeature(collections.namedtuple("VarLenFeature", ["dtype"])):
    """A feature of any length, parsed into a SparseTensor."""


class FixedLenSequenceFeature(collections.namedtuple(
        "FixedLenSequenceFeature", ["shape", "dtype", "allow_missing", "default_value"])):
    """A list of items of `shape`, parsed to a dense [length, *shape] tensor
    (padded to the longest in a batch with `default_value`)."""

    def __new__(cls, shape, dtype, allow_missing=False, default_value=None):
        return super().__new__(cls, shape, dtype, allow_missing, default_value)


_KIND = {"float32": "float_list", "int64": "int64_list", "string": "bytes_list"}
_TYPE_NAME = {"float_list": "float", "int64_list": "int64", "bytes_list": "string"}
_KIND_BYTES_NAME = {"float_list": "float", "int64_list": "int64", "bytes_list": "bytes"}
_NP = {"float32": np.float32, "int64": np.int64, "string": object}
_ZERO = {"float32": 0.0, "int64": 0, "string": b""}

# A parsed spec: (key, dtype name, kind, mode, shape tuple, n elements per item)
# with mode "fixed", "var", "seq" (FixedLenSequenceFeature) or "seq_ok" (a
# SequenceExample feature list that may be missing).


def _check_dtype(dtype, key):
    dtype = dtypes.as_dtype(dtype)
    if dtype.name not in _KIND:
        raise TypeError("Value passed to parameter 'dense_defaults' has DataType %s not in "
                        "list of allowed values: float32, int64, string (feature %r)"
                        % (dtype.name, key))
    return dtype


def _fixed_shape(shape, key):
    s = as_shape(shape)
    if not s.is_fully_defined():
        raise ValueError("All dimensions of shape for feature %s need to be known but got %s."
                         % (key, s))
    return tuple(s.as_list())


def _split_features(features, sequence=False):
    """Validated specs and default-value tensors of a features dict."""
    if not features:
        return [], []
    specs, defaults = [], []
    for key in sorted(features):
        f = features[key]
        if isinstance(f, VarLenFeature):
            dt = _check_dtype(f.dtype, key)
            specs.append((key, dt.name, _KIND[dt.name], "var", (), 1))
            defaults.append(None)
        elif isinstance(f, FixedLenSequenceFeature):
            dt = _check_dtype(f.dtype, key)
            if not sequence and not f.allow_missing:
                raise ValueError("Unsupported: FixedLenSequenceFeature requires "
                                 "allow_missing to be True.")
            shape = _fixed_shape(f.shape, key)
            n = int(np.prod(shape, dtype=np.int64))
            mode = "seq_ok" if sequence and f.allow_missing else "seq"
            specs.append((key, dt.name, _KIND[dt.name], mode, shape, n))
            d = f.default_value
            defaults.append(None if d is None else
                            convert_to_tensor(d, dtype=dt, name="padding_" + _safe(key)))
        elif isinstance(f, FixedLenFeature):
            dt = _check_dtype(f.dtype, key)
            shape = _fixed_shape(f.shape, key)
            n = int(np.prod(shape, dtype=np.int64))
            specs.append((key, dt.name, _KIND[dt.name], "fixed", shape, n))
            d = f.default_value
            if d is None:
                defaults.append(None)
            else:
                t = convert_to_tensor(d, dtype=dt, name="key_" + _safe(key))
                k = t.shape.num_elements() if t.shape.is_fully_defined() else None
                if k is not None and k != n:
                    raise ValueError("Cannot reshape a tensor with %d elements to shape %s "
                                     "(%d elements) for the default value of feature %r"
                                     % (k, list(shape), n, key))
                defaults.append(t)
        else:
            raise ValueError("Unsupported feature spec %r for key '%s'" % (f, key))
    return specs, defaults


def _safe(key):
    return "".join(c if c.isalnum() or c in "_.-" else "_" for c in key) or "key"


def _output_specs(specs, batch):
    """(dtype, shape) of each output: all sparse triples first, then dense."""
    brank = batch.ndims
    sparse, dense = [], []
    for key, dt, kind, mode, shape, n in specs:
        dtype = dtypes.as_dtype(dt)
        if mode == "var":
            r = None if brank is None else brank + 1
            sparse += [(dtypes.int64, TensorShape([None, r])), (dtype, TensorShape([None])),
                       (dtypes.int64, TensorShape([r]))]
        elif brank is None:
            dense.append((dtype, TensorShape(None)))
        elif mode == "fixed":
            dense.append((dtype, batch.concatenate(shape)))
        else:
            dense.append((dtype, batch.concatenate([None]).concatenate(shape)))
    return sparse + dense


def _outputs(values):
    """A kernel's result: the value itself for a single-output op."""
    return values[0] if len(values) == 1 else tuple(values)


# -- the batch parser ----------------------------------------------------------------

def _name_of(names, i):
    if names is not None and i < len(names):
        n = names[i]
        return n.decode("utf-8", "replace") if isinstance(n, bytes) else str(n)
    return "<unknown>"


class _Column:
    """Values of one feature gathered over a batch."""
    __slots__ = ("spec", "flat", "counts", "default")

    def __init__(self, spec, default):
        self.spec = spec
        self.flat = []
        self.counts = []
        self.default = default


def _check_one(op, col, f, i, names):
    """Append one record's values of `col` (f: its Feature or None), with
    every check and TF's messages.  The slow path of `_gather`."""
    key, dt, kind, mode, shape, n = col.spec
    which = f.WhichOneof("kind") if f is not None else None
    if which is None:
        if mode == "fixed":
            if col.default is None:
                raise errors.InvalidArgumentError(
                    None, op, "Name: %s, Feature: %s (data type: %s) is required but could "
                    "not be found." % (_name_of(names, i), key, dt))
            col.flat.extend(col.default)
        else:
            col.counts.append(0)
        return
    if which != kind:
        if mode == "var":
            msg = "Data types don't match. Expected type: %s, Actual type: %s" % (
                _TYPE_NAME[kind], _TYPE_NAME[which])
        else:
            msg = "Data types don't match. Data type: %s but expected type: %s" % (
                _TYPE_NAME[which], _TYPE_NAME[kind])
        raise errors.InvalidArgumentError(None, op, "Name: %s, Key: %s, Index: %d.  %s"
                                          % (_name_of(names, i), key, i, msg))
    vals = getattr(f, kind).value
    k = len(vals)
    if mode == "fixed":
        if k != n:
            raise errors.InvalidArgumentError(
                None, op, "Name: %s, Key: %s, Index: %d.  Number of %s values != "
                "expected.  Values size: %d but output shape: %s"
                % (_name_of(names, i), key, i, _TYPE_NAME[kind], k, list(shape)))
    elif mode == "seq":
        if n == 0 or k % n:
            raise errors.InvalidArgumentError(
                None, op, "Name: %s, Key: %s, Index: %d.  Number of %s values is not a "
                "multiple of stride length. Saw %d values but output shape is: %s"
                % (_name_of(names, i), key, i, _KIND_BYTES_NAME[kind], k,
                   "[?,%s]" % ",".join(str(d) for d in shape)))
        col.counts.append(k // n)
    else:
        col.counts.append(k)
    col.flat.extend(vals)


def _gather(op, fmaps, col, names):
    """Gather column `col` over the parsed feature maps of a batch.

    The fast path reads every record's value list in one comprehension
    (`fm[key]` may insert an empty Feature into a missing key: harmless on
    these throwaway messages, and an empty Feature counts as missing); a
    record whose count is not the expected one sends the whole column to
    `_check_one`, which applies every rule and raises TF's errors."""
    key, dt, kind, mode, shape, n = col.spec
    getv = _GETTERS[kind]
    conts = [getv(fm[key]) for fm in fmaps]
    lens = list(map(len, conts))
    if mode == "fixed":
        fast = n > 0 and lens.count(n) == len(lens)
    elif mode == "seq":
        fast = n > 0 and not any(k % n for k in lens)
    else:
        fast = True
    if fast and mode != "fixed" and 0 in lens:
        # an empty list may be an unset or wrongly typed Feature: check those
        fast = all(fmaps[i][key].WhichOneof("kind") in (None, kind)
                   for i, k in enumerate(lens) if k == 0)
    if not fast:
        for i, fm in enumerate(fmaps):
            _check_one(op, col, fm.get(key), i, names)
        return
    if mode == "var":
        col.counts = lens
    elif mode == "seq":
        col.counts = [k // n for k in lens]
    if n == 1 and mode == "fixed":
        col.flat = [c[0] for c in conts]
    else:
        col.flat = list(itertools.chain.from_iterable(conts))


_GETTERS = {k: operator.attrgetter(k + ".value") for k in ("float_list", "int64_list",
                                                           "bytes_list")}


def _dense_fixed(col, batch_shape):
    key, dt, kind, mode, shape, n = col.spec
    return np.asarray(col.flat, dtype=_NP[dt]).reshape(tuple(batch_shape) + shape)


def _dense_seq(col, batch_shape, pad):
    """[*batch, max_rows, *shape] with rows padded by `pad`."""
    key, dt, kind, mode, shape, n = col.spec
    counts = np.asarray(col.counts, dtype=np.int64)
    flat = np.asarray(col.flat, dtype=_NP[dt])
    rows = int(counts.max()) if counts.size else 0
    b = len(counts)
    if b and np.all(counts == rows):
        return flat.reshape(tuple(batch_shape) + (rows,) + shape)
    out = np.full((b, rows, n), pad, dtype=_NP[dt])
    if flat.size:
        mask = np.arange(rows)[None, :] < counts[:, None]
        out[mask] = flat.reshape(-1, n)
    return out.reshape(tuple(batch_shape) + (rows,) + shape)


def _sparse(col, batch_rank):
    """(indices, values, dense_shape) of a VarLen column."""
    key, dt, kind, mode, shape, n = col.spec
    counts = np.asarray(col.counts, dtype=np.int64)
    values = np.asarray(col.flat, dtype=_NP[dt])
    total = values.shape[0]
    width = int(counts.max()) if counts.size else 0
    if batch_rank == 0:
        idx = np.arange(total, dtype=np.int64).reshape(total, 1)
        return idx, values, np.array([width], dtype=np.int64)
    rows = np.repeat(np.arange(len(counts), dtype=np.int64), counts)
    starts = np.cumsum(counts) - counts
    cols = np.arange(total, dtype=np.int64) - np.repeat(starts, counts)
    return (np.stack([rows, cols], axis=1) if total else np.zeros((0, 2), np.int64), values,
            np.array([len(counts), width], dtype=np.int64))


def _default_list(spec, value):
    if value is None:
        return None
    key, dt, kind, mode, shape, n = spec
    arr = np.asarray(value, dtype=_NP[dt]).reshape(-1)
    if mode == "fixed" and arr.size != n:
        raise errors.InvalidArgumentError(
            None, None, "Default value of feature %s has %d elements but its shape %s needs %d"
            % (key, arr.size, list(shape), n))
    return arr.tolist()


def _pad_value(spec, value):
    key, dt, kind, mode, shape, n = spec
    if value is None or np.size(value) == 0:
        return _ZERO[dt]
    return np.asarray(value, dtype=_NP[dt]).reshape(-1)[0]


def _parse_one_fixed(op, serialized):
    """The per-record hot path (`parse_single_example` with only fixed-length
    features, all present and well formed): one parse, one array per
    feature.  Returns None when anything needs the general path's checks."""
    try:
        fm = Example.FromString(serialized).features.feature
    except Exception:
        return None
    out = []
    for key, dt, kind, mode, shape, n in op.attrs["specs"]:
        f = fm.get(key)
        if f is None or f.WhichOneof("kind") != kind:
            return None
        vals = getattr(f, kind).value
        if len(vals) != n:
            return None
        out.append(np.array(vals, dtype=_NP[dt]).reshape(shape) if shape
                   else np.array(vals[0], dtype=_NP[dt]))
    return _outputs(out)


def _parse_example_kernel(ctx, op, serialized, names, *defaults):
    specs = op.attrs["specs"]
    if op.attrs.get("all_fixed") and (type(serialized) is bytes or
                                      getattr(serialized, "ndim", 1) == 0):
        fast = _parse_one_fixed(op, serialized if type(serialized) is bytes
                                else serialized.item())
        if fast is not None:
            return fast
    has_default = op.attrs["has_default"]
    it = iter(defaults)
    dvals = [next(it) if h else None for h in has_default]
    ser = np.asarray(serialized, dtype=object)
    batch_rank = ser.ndim
    if batch_rank > 1:
        raise errors.InvalidArgumentError(None, op, "Expected serialized to be a scalar or "
                                          "vector, got shape %s" % (ser.shape,))
    flat_ser = ser.reshape(-1)
    names = np.asarray(names, dtype=object).reshape(-1) if names is not None and \
        np.size(names) else None
    columns = [_Column(s, _default_list(s, d) if s[3] == "fixed" else None)
               for s, d in zip(specs, dvals)]
    if flat_ser.shape[0] < WIRE_MIN_BATCH or not _wire_columns(op, flat_ser, columns):
        _upb_columns(op, flat_ser, columns, names)
    batch_shape = ser.shape
    sparse, dense = [], []
    for col, d in zip(columns, dvals):
        mode = col.spec[3]
        if mode == "var":
            sparse.extend(_sparse(col, batch_rank))
        elif mode == "fixed":
            dense.append(_dense_fixed(col, batch_shape))
        else:
            v = _dense_seq(col, (flat_ser.shape[0],), _pad_value(col.spec, d))
            dense.append(v.reshape(batch_shape + v.shape[1:]))
    return _outputs(sparse + dense)


# Batches of at least this many records are first read by `example_wire`
# (whose cost is mostly per batch); smaller ones, and any batch it declines,
# by the protobuf runtime.
WIRE_MIN_BATCH = 8


def _wire_columns(op, flat_ser, columns):
    """Fill `columns` from `example_wire.parse_batch`; False (columns
    untouched) when the batch or a value needs the general path (which
    raises TF's error for it)."""
    wanted = op.__dict__.get("_wire_wanted")
    if wanted is None:
        op._wire_cache = {}         # layout templates (see example_wire)
        wanted = op._wire_wanted = [(c.spec[0].encode("utf-8"), c.spec[2]) for c in columns]
    got = example_wire.parse_batch(flat_ser.tolist(), wanted, op._wire_cache)
    if got is None:
        return False
    b = flat_ser.shape[0]
    filled = []
    for col, (present, counts, values) in zip(columns, got):
        key, dt, kind, mode, shape, n = col.spec
        if type(counts) is int:                 # every record present, this count
            counts = np.full(b, counts, dtype=np.int64) if mode != "fixed" else counts
        if mode == "fixed":
            if type(counts) is int:
                if counts != n:
                    return False
            elif ((counts if present is None else counts[present]) != n).any():
                return False
            if present is not None and not present.all():
                if col.default is None:
                    return False
                rows = np.empty((b, n), dtype=_NP[dt])
                rows[present] = values.reshape(-1, n)
                rows[~present] = np.asarray(col.default, dtype=_NP[dt])
                values = rows.reshape(-1)
            filled.append((values, None))
        elif mode == "seq":
            if n == 0 or (counts % n).any():
                return False
            filled.append((values, counts // n))
        else:
            filled.append((values, counts))
    for col, (values, counts) in zip(columns, filled):
        col.flat = values
        if counts is not None:
            col.counts = counts
    return True


class _FeatureMap(dict):
    """A record's features as `_lenient_features` reads them; a missing key
    reads as an empty Feature, as in a protobuf map."""
    def __missing__(self, key):
        return Feature()


def _skip(r, p, wire):
    """The position after a field of wire type `wire` starting at `p`."""
    if wire == 0:
        return example_wire._py_varint(r, p)[1]
    if wire == 1:
        return p + 8
    if wire == 5:
        return p + 4
    if wire == 2:
        n, p = example_wire._py_varint(r, p)
        return p + n
    raise ValueError("wire type %d" % wire)


def _fields(r, start, end):
    """(field number, wire type, payload start, payload end) of a message."""
    p = start
    while p < end:
        tag, p = example_wire._py_varint(r, p)
        q = _skip(r, p, tag & 7)
        if q > end:
            raise ValueError("truncated")
        if tag & 7 == 2:
            p = example_wire._py_varint(r, p)[1]
        yield tag >> 3, tag & 7, p, q
        p = q


def _lenient_features(r, keys):
    """The features of serialized Example `r` that the protobuf runtime
    rejects, read as TF's parser reads them: map entries are delimited, and
    only the Feature values of `keys` (the wanted features) are parsed.
    None if that fails too."""
    try:
        return _lenient_map(bytes(r), keys)
    except Exception:       # malformed bytes (IndexError, DecodeError, ...)
        return None


def _lenient_map(r, keys):
    found = _FeatureMap()
    for num, wire, fs, fe in _fields(r, 0, len(r)):
        if num != 1 or wire != 2:
            continue
        for num2, wire2, es, ee in _fields(r, fs, fe):
            if num2 != 1 or wire2 != 2:
                continue
            key, value = b"", b""
            for num3, wire3, s, e in _fields(r, es, ee):
                if wire3 == 2 and num3 == 1:
                    key = r[s:e]
                elif wire3 == 2 and num3 == 2:
                    value = r[s:e]
            key = key.decode("utf-8")
            if key in keys:
                found[key] = Feature.FromString(value)
    return found


def _upb_columns(op, flat_ser, columns, names):
    """Fill `columns` parsing each record with the protobuf runtime."""
    parse = Example.FromString
    try:
        fmaps = [parse(s).features.feature for s in flat_ser]
    except Exception:
        fmaps = []
        keys = {c.spec[0] for c in columns}
        for i, s in enumerate(flat_ser):
            try:
                fm = parse(s).features.feature
            except (DecodeError, TypeError, ValueError, RuntimeError):
                fm = _lenient_features(s, keys)     # TF parses only the wanted values
            if fm is not None:
                fmaps.append(fm)
            else:
                raise errors.InvalidArgumentError(
                    None, op, "Name: %s, Index: %d.  Could not parse example input, value: %r"
                    % (_name_of(names, i), i, bytes(s)[:64] if isinstance(s, (bytes, str))
                       else s)) from None
    for col in columns:
        _gather(op, fmaps, col, names)


def _parse_example_shape(op):
    ser = op.inputs[0]
    if ser.dtype is not dtypes.string:
        raise TypeError("parse_example: serialized must be a string tensor, got %s"
                        % ser.dtype.name)
    batch = ser.shape
    if batch.ndims is not None and batch.ndims > 1:
        raise ValueError("Shape must be at most rank 1 but is rank %d" % batch.ndims)
    return _output_specs(op.attrs["specs"], batch)


# parse_single_example's op on rows of records: parse_example on the vector.
# Only for fixed-length features (a sparse or padded feature's value depends on
# its batch) and a record's name not given per record.
registry.register("ParseExample", shape=_parse_example_shape, kernel=_parse_example_kernel,
                  batch=batching.leading_axis(
                      lambda op, b: batching.first_only(op, b) and op.attrs.get("all_fixed")
                      and op.inputs[0].shape.ndims == 0))
registry.NotDifferentiable("ParseExample")


def _build_outputs(specs, outs):
    """The features dict from an op's outputs (sparse triples first)."""
    result = {}
    k = 0
    for key, dt, kind, mode, shape, n in specs:
        if mode == "var":
            result[key] = SparseTensor(outs[k], outs[k + 1], outs[k + 2])
            k += 3
    for key, dt, kind, mode, shape, n in specs:
        if mode != "var":
            result[key] = outs[k]
            k += 1
    return result


def _parse(serialized, features, names, name, default_name):
    if not features:
        raise ValueError("Missing: features was %s." % (features,))
    with name_scope(name, default_name):
        serialized = convert_to_tensor(serialized, dtype=dtypes.string, name="serialized")
        specs, defaults = _split_features(features)
        names_t = convert_to_tensor([] if names is None else names, dtype=dtypes.string,
                                    name="names")
        op = apply_op("ParseExample", [serialized, names_t] + [d for d in defaults
                                                               if d is not None],
                      {"specs": specs, "has_default": [d is not None for d in defaults],
                       "all_fixed": all(s[3] == "fixed" for s in specs),
                       "sparse_keys": [s[0] for s in specs if s[3] == "var"],
                       "dense_keys": [s[0] for s in specs if s[3] != "var"]},
                      name="ParseExample")
    return _build_outputs(specs, op.outputs)


def parse_example(serialized, features, name=None, example_names=None):
    """Parse a vector of serialized Examples into a dict of tensors.

    `features` maps keys to FixedLenFeature (a [batch, *shape] tensor),
    VarLenFeature (a SparseTensor with indices [N, 2] and dense_shape
    [batch, max count]) or FixedLenSequenceFeature(allow_missing=True)
    ([batch, max length, *shape], padded)."""
    return _parse(serialized, features, example_names, name, "ParseExample")


def parse_single_example(serialized, features, name=None, example_names=None):
    """Parse one serialized Example (a scalar string): like `parse_example`
    without the batch dimension (VarLen indices are [N, 1])."""
    serialized = convert_to_tensor(serialized, dtype=dtypes.string, name="serialized") \
        if not isinstance(serialized, (bytes, str)) else serialized
    if hasattr(serialized, "shape") and serialized.shape.ndims not in (None, 0):
        raise ValueError("Input serialized must be a scalar, got shape %s" % serialized.shape)
    names = None if example_names is None else [example_names] \
        if isinstance(example_names, (bytes, str)) else example_names
    return _parse(serialized, features, names, name, "ParseSingleExample")


# -- SequenceExample ---------------------------------------------------------------------

def _parse_seq_kernel(ctx, op, serialized, debug_name, *defaults):
    ctx_specs, seq_specs = op.attrs["context_specs"], op.attrs["sequence_specs"]
    it = iter(defaults)
    dvals = [next(it) if h else None for h in op.attrs["has_default"]]
    name = debug_name.item() if isinstance(debug_name, np.ndarray) else debug_name
    names = [name] if name else None
    s = serialized.item() if isinstance(serialized, np.ndarray) else serialized
    try:
        se = SequenceExample.FromString(s)
    except (DecodeError, TypeError, ValueError, RuntimeError):
        raise errors.InvalidArgumentError(
            None, op, "Name: %s, Could not parse sequence example input, value: %r"
            % (_name_of(names, 0), bytes(s)[:64] if isinstance(s, bytes) else s)) from None
    columns = [_Column(sp, _default_list(sp, d)) for sp, d in zip(ctx_specs, dvals)]
    for col in columns:
        _check_one(op, col, se.context.feature.get(col.spec[0]), 0, names)
    sparse, dense = [], []
    for col in columns:
        if col.spec[3] == "var":
            sparse.extend(_sparse(col, 0))
        else:
            dense.append(_dense_fixed(col, ()))
    lists = se.feature_lists.feature_list
    fsparse, fdense = [], []
    for spec in seq_specs:
        key, dt, kind, mode, shape, n = spec
        fl = lists.get(key)
        col = _Column(spec, None)
        if fl is None:
            if mode == "seq":
                raise errors.InvalidArgumentError(
                    None, op, "Name: %s, Feature list '%s' is required but could not be "
                    "found (use FixedLenSequenceFeature(..., allow_missing=True) to allow an "
                    "empty sequence)" % (_name_of(names, 0), key))
            items = ()
        else:
            items = fl.feature
        for t, f in enumerate(items):
            which = f.WhichOneof("kind")
            if which is not None and which != kind:
                raise errors.InvalidArgumentError(
                    None, op, "Name: %s, Feature list: %s, Index: %d.  Data types don't "
                    "match. Expected type: %s, Actual type: %s"
                    % (_name_of(names, 0), key, t, _TYPE_NAME[kind], _TYPE_NAME[which]))
            vals = getattr(f, kind).value if which is not None else ()
            if mode == "var":
                col.counts.append(len(vals))
            elif len(vals) != n:
                raise errors.InvalidArgumentError(
                    None, op, "Name: %s, Key: %s, Index: %d.  Number of values != expected.  "
                    "values size: %d but output shape: %s"
                    % (_name_of(names, 0), key, t, len(vals), list(shape)))
            col.flat.extend(vals)
        if mode == "var":
            idx, vals, dshape = _sparse(col, 1)
            fsparse.extend((idx, vals, dshape))
        else:
            fdense.append(np.array(col.flat, dtype=_NP[dt]).reshape((len(items),) + shape))
    return _outputs(sparse + dense + fsparse + fdense)


def _parse_seq_shape(op):
    ser = op.inputs[0]
    if ser.shape.ndims not in (None, 0):
        raise ValueError("Shape must be rank 0 but is rank %d" % ser.shape.ndims)
    out = _output_specs(op.attrs["context_specs"], TensorShape([]))
    # sequence features: VarLen -> rank-2 sparse, dense -> [None, *shape]
    sparse, dense = [], []
    for key, dt, kind, mode, shape, n in op.attrs["sequence_specs"]:
        dtype = dtypes.as_dtype(dt)
        if mode == "var":
            sparse += [(dtypes.int64, TensorShape([None, 2])), (dtype, TensorShape([None])),
                       (dtypes.int64, TensorShape([2]))]
        else:
            dense.append((dtype, TensorShape([None]).concatenate(shape)))
    return out + sparse + dense


registry.register("ParseSingleSequenceExample", shape=_parse_seq_shape,
                  kernel=_parse_seq_kernel)
registry.NotDifferentiable("ParseSingleSequenceExample")


def parse_single_sequence_example(serialized, context_features=None, sequence_features=None,
                                  example_name=None, name=None):
    """Parse one serialized SequenceExample into (context dict, sequence dict).

    Context features are parsed like `parse_single_example`; sequence
    features are FixedLenSequenceFeature ([length, *shape]; a missing list is
    an error unless allow_missing) or VarLenFeature (a SparseTensor with
    dense_shape [length, longest item])."""
    if not (context_features or sequence_features):
        raise ValueError("Missing features.")
    for key, f in (sequence_features or {}).items():
        if not isinstance(f, (VarLenFeature, FixedLenSequenceFeature)):
            raise ValueError("Unsupported %s %s for key '%s'" % (type(f).__name__, f, key))
    with name_scope(name, "ParseSingleSequenceExample"):
        serialized = convert_to_tensor(serialized, dtype=dtypes.string, name="serialized")
        cspecs, cdefaults = _split_features(context_features or {})
        for key, f in (context_features or {}).items():
            if isinstance(f, FixedLenSequenceFeature):
                raise ValueError("Unsupported FixedLenSequenceFeature %s for context key '%s'"
                                 % (f, key))
        sspecs, _ = _split_features(sequence_features or {}, sequence=True)
        debug = convert_to_tensor(example_name or "", dtype=dtypes.string, name="debug_name")
        op = apply_op("ParseSingleSequenceExample",
                      [serialized, debug] + [d for d in cdefaults if d is not None],
                      {"context_specs": cspecs, "sequence_specs": sspecs,
                       "has_default": [d is not None for d in cdefaults]},
                      name="ParseSingleSequenceExample")
    outs = op.outputs
    n_ctx = sum(3 if s[3] == "var" else 1 for s in cspecs)
    return _build_outputs(cspecs, outs[:n_ctx]), _build_outputs(sspecs, outs[n_ctx:])
