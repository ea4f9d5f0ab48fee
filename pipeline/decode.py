"""Decoders: CSV lines, raw bytes and number strings to typed tensors.

- `decode_csv` splits each record (RFC 4180 quoting: a field may be wrapped
  in double quotes, inside which the delimiter and newlines are literal and
  `""` is one quote), then converts whole columns at once with numpy.  Rules
  and errors are TF's: an empty (or `na_value`) field takes its column's
  default, a column with an empty default is required, and a wrong field
  count, a missing required field or a bad number is InvalidArgumentError
  naming the record index and field.
- `decode_raw` reinterprets equal-length byte strings as numbers (one
  `np.frombuffer` over the joined batch).
- `string_to_number` parses number strings like TF's StringToNumber.
"""
import re

import numpy as np

from flowcore import batching, dtypes, errors, registry
from flowcore.ops.core import apply_op, apply_op1, convert_to_tensor
from flowcore.shapes import TensorShape

__all__ = ["decode_csv", "decode_raw", "string_to_number"]

_CSV_TYPES = ("float32", "float64", "int32", "int64", "string")
_INT_RE = re.compile(rb"\s*[+-]?[0-9]+\s*\Z")
_HEX_FLOAT_RE = re.compile(rb"\s*[+-]?0[xX]([0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)"
                           rb"([pP][+-]?[0-9]+)?\s*\Z")


def _outputs(values):
    """A kernel's result: the value itself for a single-output op."""
    return values[0] if len(values) == 1 else tuple(values)


# -- number parsing shared by decode_csv and string_to_number ------------------------

def _parse_one(s, npdt):
    """One number string as TF parses it, or raise ValueError."""
    if npdt in (np.int32, np.int64):
        if not _INT_RE.match(s):
            raise ValueError(s)
        v = int(s)
        info = np.iinfo(npdt)
        if v < info.min or v > info.max:
            raise ValueError(s)
        return v
    if b"_" in s:
        raise ValueError(s)
    try:
        return float(s)
    except ValueError:
        if _HEX_FLOAT_RE.match(s):
            return float.fromhex(s.strip().decode("ascii"))
        raise


def parse_numbers(strs, npdt, on_error):
    """`strs` (a list of bytes) as an array of `npdt`, parsed like TF
    (surrounding spaces allowed; hex floats, inf and nan accepted; no
    underscores).  `on_error(i, s)` raises for the first bad item."""
    if not strs:
        return np.zeros(0, dtype=npdt)
    wide = np.int64 if npdt in (np.int32, np.int64) else np.float64
    try:
        out = np.fromiter(map(int if wide is np.int64 else float, strs), wide, len(strs))
        ok = b"_" not in b"".join(strs)
        if ok and npdt is np.int32:
            ok = bool(np.all((out >= -2**31) & (out < 2**31)))
        if ok:
            return out.astype(npdt)
    except (ValueError, OverflowError):
        pass
    vals = []
    for i, s in enumerate(strs):   # slow path: find the bad item (or a hex float)
        try:
            vals.append(_parse_one(s, npdt))
        except (ValueError, OverflowError):
            on_error(i, s)
            raise AssertionError("on_error must raise")
    return np.array(vals, dtype=npdt)


# -- decode_csv ------------------------------------------------------------------------

def _csv_split(rec, delim, quote, i):
    """Fields of one record; raises ValueError(message) on bad quoting."""
    n = len(rec)
    if n == 0:
        return []
    if not quote:
        return rec.split(delim)
    if b'"' not in rec and b"\n" not in rec and b"\r" not in rec:
        return rec.split(delim)
    fields = []
    pos = 0
    while True:
        if pos < n and rec[pos] == 34:   # '"'
            parts = []
            pos += 1
            while True:
                j = rec.find(b'"', pos)
                if j < 0:
                    raise ValueError("Quoted field has to end with quote followed by delim "
                                     "or end (record %d, field %d)" % (i, len(fields)))
                parts.append(rec[pos:j])
                if j + 1 < n and rec[j + 1] == 34:
                    parts.append(b'"')
                    pos = j + 2
                    continue
                pos = j + 1
                break
            fields.append(b"".join(parts))
            if pos == n:
                return fields
            if rec[pos:pos + 1] != delim:
                raise ValueError("Quote inside a string has to be escaped by another quote "
                                 "(record %d, field %d)" % (i, len(fields) - 1))
            pos += 1
        else:
            j = rec.find(delim, pos)
            end = n if j < 0 else j
            field = rec[pos:end]
            if b'"' in field or b"\n" in field or b"\r" in field:
                raise ValueError("Unquoted fields cannot have quotes/CRLFs inside "
                                 "(record %d, field %d)" % (i, len(fields)))
            fields.append(field)
            if j < 0:
                return fields
            pos = j + 1


def _split_batch(op, flat, delim, quote, ncols, select):
    """Columns (sequences of bytes) of a batch of records.  Batches without
    quotes or CR/LF split with `bytes.split` and transpose with `zip`."""
    need = select[-1] + 1 if select else ncols
    rows = None
    if flat.shape[0] and not (quote and any(c in b"".join(flat) for c in (b'"', b"\n", b"\r"))):
        rows = [r.split(delim) if r else [] for r in flat]
        lens = set(map(len, rows))
        if not (min(lens) >= need if select else lens == {ncols}):
            rows = None     # report the bad record below
    if rows is None:
        rows = []
        for i in range(flat.shape[0]):
            try:
                fields = _csv_split(flat[i], delim, quote, i)
            except ValueError as e:
                raise errors.InvalidArgumentError(None, op, str(e)) from None
            nf = len(fields)
            if nf < need or nf != ncols and not select:
                raise errors.InvalidArgumentError(
                    None, op, "Expect %d fields but have %d in record %d" % (ncols, nf, i))
            rows.append(fields)
    if not rows:
        return [()] * ncols
    cols = list(zip(*rows))     # select mode: rows may be longer than `need`
    return [cols[c] for c in select] if select else cols


_SCALAR_PARSERS = {np.float32: float, np.float64: float, np.int32: int, np.int64: int}


def _decode_one_csv(op, rec, defaults):
    """The per-record hot path: one unquoted record whose fields are all
    present and plain numbers or strings.  Returns None when anything needs
    the general path (quotes, empty fields, bad numbers: its checks and
    messages)."""
    a = op.attrs
    if a["select_cols"] or b'"' in rec or b"\n" in rec or b"\r" in rec or b"_" in rec:
        return None
    fields = rec.split(a["field_delim"])
    types = a["OUT_TYPE"]
    if len(fields) != len(types):
        return None
    na = a["na_value"]
    outs = []
    for f, dt in zip(fields, types):
        if not f or (na and f == na):
            return None
        npdt = dt.as_numpy_dtype
        if dt is dtypes.string:
            v = np.empty((), dtype=object)
            v[()] = f
        else:
            try:
                x = _SCALAR_PARSERS[npdt](f)
            except (ValueError, KeyError):
                return None
            if npdt is np.int32 and not -2**31 <= x < 2**31:
                return None
            v = np.array(x, dtype=npdt)
        outs.append(v)
    return _outputs(outs)


def _decode_csv_kernel(ctx, op, records, *defaults):
    if type(records) is bytes or getattr(records, "ndim", 1) == 0:
        fast = _decode_one_csv(op, records if type(records) is bytes else records.item(),
                               defaults)
        if fast is not None:
            return fast
    a = op.attrs
    na, select, types = a["na_value"], a["select_cols"], a["OUT_TYPE"]
    recs = np.asarray(records, dtype=object)
    flat = recs.reshape(-1)
    columns = _split_batch(op, flat, a["field_delim"], a["use_quote_delim"], len(types),
                           select)
    outs = []
    for c, (dt, default) in enumerate(zip(types, defaults)):
        col = columns[c]
        field = select[c] if select else c
        dflt = np.asarray(default).reshape(-1)
        obj = np.empty(len(col), dtype=object)
        obj[:] = col
        is_empty = obj == b""
        if na:
            is_empty |= obj == na
        empty = np.flatnonzero(is_empty)
        if empty.size and dflt.size == 0:
            raise errors.InvalidArgumentError(
                None, op, "Field %d is required but missing in record %d!"
                % (field, empty[0]))
        if dt is dtypes.string:
            out = obj
            if empty.size:
                out[empty] = dflt[0]
        else:
            npdt = dt.as_numpy_dtype
            idx = np.flatnonzero(~is_empty) if empty.size else None
            strs = list(col) if idx is None else list(obj[idx])

            def bad(k, s, field=field, idx=idx, dt=dt):
                rec = k if idx is None else int(idx[k])
                raise errors.InvalidArgumentError(
                    None, op, "Field %d in record %d is not a valid %s: %s"
                    % (field, rec, "float" if dt is dtypes.float32
                       else "double" if dt is dtypes.float64 else dt.name,
                       s.decode("utf-8", "replace")))
            vals = parse_numbers(strs, npdt, bad)
            if idx is None:
                out = vals
            else:
                out = np.full(len(col), dflt[0], dtype=npdt)
                out[idx] = vals
        outs.append(out.reshape(recs.shape))
    return _outputs(outs)


def _decode_csv_shape(op):
    rec = op.inputs[0]
    if rec.dtype is not dtypes.string:
        raise TypeError("decode_csv: records must be a string tensor, got %s" % rec.dtype.name)
    for i, d in enumerate(op.inputs[1:]):
        s = d.shape
        if s.ndims is not None and (s.ndims > 1 or s.ndims == 1 and s[0].value not in
                                    (None, 0, 1)):
            raise ValueError("Shape of a default must be a length-0 or length-1 vector, or a "
                             "scalar (record_defaults[%d] has shape %s)" % (i, s))
    return [(t, rec.shape) for t in op.attrs["OUT_TYPE"]]


registry.register("DecodeCSV", shape=_decode_csv_shape, kernel=_decode_csv_kernel,
                  batch=batching.leading_axis())
registry.NotDifferentiable("DecodeCSV")


def decode_csv(records, record_defaults, field_delim=",", use_quote_delim=True, name=None,
               na_value="", select_cols=None):
    """Convert CSV records (a string tensor of any shape) to one tensor per
    column, each shaped like `records`.

    `record_defaults` gives each column's dtype (float32, float64, int32,
    int64 or string) and the value of an empty field; an empty default makes
    the column required.  `select_cols` picks (increasing) column indices."""
    if isinstance(field_delim, bytes):
        field_delim = field_delim.decode("utf-8")
    if len(field_delim) != 1:
        raise ValueError("field_delim should be only 1 char, got %r" % (field_delim,))
    if isinstance(na_value, bytes):
        na_value = na_value.decode("utf-8")
    if select_cols is not None:
        select_cols = [int(c) for c in select_cols]
        if any(c < 0 for c in select_cols):
            raise ValueError("select_cols contains negative values.")
        if any(b <= a for a, b in zip(select_cols, select_cols[1:])):
            raise ValueError("select_cols is not strictly increasing.")
        if len(select_cols) != len(record_defaults):
            raise ValueError("Length of select_cols and record_defaults do not match.")
    from flowcore.graph import name_scope
    with name_scope(name, "DecodeCSV"):
        records = convert_to_tensor(records, dtype=dtypes.string, name="records")
        defaults = []
        for i, d in enumerate(record_defaults):
            t = convert_to_tensor(d, name="record_defaults_%d" % i)
            if t.dtype.name not in _CSV_TYPES:
                raise TypeError("Value passed to parameter 'record_defaults' has DataType %s "
                                "not in list of allowed values: float32, float64, int32, "
                                "int64, string" % t.dtype.name)
            defaults.append(t)
        op = apply_op("DecodeCSV", [records] + defaults,
                      {"OUT_TYPE": [d.dtype for d in defaults],
                       "field_delim": field_delim.encode("utf-8"),
                       "use_quote_delim": bool(use_quote_delim),
                       "na_value": na_value.encode("utf-8"),
                       "select_cols": select_cols or []}, name="DecodeCSV")
    return op.outputs


# -- decode_raw --------------------------------------------------------------------------

_RAW_TYPES = ("float16", "float32", "float64", "int32", "uint16", "uint8", "int16", "int8",
              "int64", "bool")


def _raw_types(op):
    """(output dtype, dtype of the bytes as stored, item size) of a DecodeRaw op."""
    c = op.__dict__.get("_raw_types")
    if c is None:
        dt = op.attrs["out_type"]
        npdt = np.dtype(dt.as_numpy_dtype)
        src = np.dtype(np.uint8) if dt is dtypes.bool else \
            npdt.newbyteorder("<" if op.attrs["little_endian"] else ">")
        c = op._raw_types = (npdt, src, npdt.itemsize)
    return c


def _decode_raw_kernel(ctx, op, data):
    npdt, src, item = _raw_types(op)
    if type(data) is bytes:                     # one record (a reader's `read`)
        shape, size, buf = (), len(data), data
        if size % item:
            raise _raw_size_error(op, size, item)
    else:
        arr = np.asarray(data, dtype=object)
        shape, flat = arr.shape, arr.reshape(-1)
        if flat.size == 0:
            return np.zeros(shape + (0,), dtype=npdt)
        parts = flat.tolist()
        size = len(parts[0])
        if len(parts) > 1:
            lens = np.fromiter(map(len, parts), dtype=np.int64, count=len(parts))
            bad = np.flatnonzero(lens != size)
            if bad.size:
                i = int(bad[0])
                raise errors.InvalidArgumentError(
                    None, op, "DecodeRaw requires input strings to all be the same size, "
                    "but element %d has size %d != %d" % (i, lens[i], size))
        if size % item:
            raise _raw_size_error(op, size, item)
        # one copy, into a buffer numpy may write to (a bytes object is read-only)
        buf = bytearray().join(parts) if len(parts) > 1 else parts[0]
    if type(buf) is not bytearray:
        buf = bytearray(buf)
    out = np.frombuffer(buf, dtype=src)
    if npdt.kind == "b":
        out = out != 0
    elif src != npdt:
        out = out.astype(npdt)
    return out.reshape(shape + (size // item,))


def _raw_size_error(op, size, item):
    return errors.InvalidArgumentError(
        None, op, "Input to DecodeRaw has length %d that is not a multiple of %d, the "
        "size of %s" % (size, item, op.attrs["out_type"].name))


def _decode_raw_shape(op):
    s = op.inputs[0].shape
    if op.inputs[0].dtype is not dtypes.string:
        raise TypeError("decode_raw: input must be a string tensor, got %s"
                        % op.inputs[0].dtype.name)
    return [(op.attrs["out_type"], TensorShape(None) if s.ndims is None
             else s.concatenate([None]))]


registry.register("DecodeRaw", shape=_decode_raw_shape, kernel=_decode_raw_kernel,
                  batch=batching.leading_axis())
registry.NotDifferentiable("DecodeRaw")


def decode_raw(input_bytes=None, out_type=None, little_endian=True, name=None, bytes=None):
    """Reinterpret each string of `input_bytes` as a vector of `out_type`
    (all strings must have the same length): shape `input.shape + [n]`."""
    if input_bytes is None:
        input_bytes = bytes
    if input_bytes is None or out_type is None:
        raise TypeError("decode_raw needs input_bytes and out_type")
    dt = dtypes.as_dtype(out_type)
    if dt.name not in _RAW_TYPES:
        raise TypeError("Value passed to parameter 'out_type' has DataType %s not in list of "
                        "allowed values: %s" % (dt.name, ", ".join(_RAW_TYPES)))
    t = convert_to_tensor(input_bytes, dtype=dtypes.string, name="input_bytes")
    return apply_op1("DecodeRaw", [t], {"out_type": dt, "little_endian": bool(little_endian)},
                     name or "DecodeRaw")


# -- string_to_number ----------------------------------------------------------------------

def _string_to_number_kernel(ctx, op, strings):
    dt = op.attrs["out_type"]
    arr = np.asarray(strings, dtype=object)

    def bad(i, s):
        raise errors.InvalidArgumentError(
            None, op, "StringToNumberOp could not correctly convert string: %s"
            % s.decode("utf-8", "replace"))
    return parse_numbers(list(arr.reshape(-1)), dt.as_numpy_dtype, bad).reshape(arr.shape)


registry.register("StringToNumber", kernel=_string_to_number_kernel,
                  shape=lambda op: [(op.attrs["out_type"], op.inputs[0].shape)],
                  batch=batching.leading_axis())
registry.NotDifferentiable("StringToNumber")


def string_to_number(string_tensor, out_type=dtypes.float32, name=None):
    """Parse each string as a number of `out_type` (float32, float64, int32,
    int64); InvalidArgumentError names the first string that is not one."""
    dt = dtypes.as_dtype(out_type)
    if dt.name not in ("float32", "float64", "int32", "int64"):
        raise TypeError("Value passed to parameter 'out_type' has DataType %s not in list of "
                        "allowed values: float32, float64, int32, int64" % dt.name)
    t = convert_to_tensor(string_tensor, dtype=dtypes.string, name="string_tensor")
    return apply_op1("StringToNumber", [t], {"out_type": dt}, name or "StringToNumber")
