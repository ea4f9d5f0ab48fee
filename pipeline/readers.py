"""Readers: stateful ops turning a queue of filenames into records.

A reader op (`TextLineReaderV2`, ...) outputs a handle to its per-session
state, a `ReaderState` resource.  `read(queue)` takes a filename from the
queue whenever the current file ("work unit") is exhausted and returns
`(key, value)`; keys are formed exactly as TF forms them:

    TFRecordReader            b"<file>:<byte offset of the record>"
    TextLineReader            b"<file>:<line number>" (from 1, header lines counted)
    FixedLengthRecordReader   b"<file>:<record index>" (from 0)
    WholeFileReader           b"<file>"          IdentityReader: the work string

`read_up_to` returns up to n records, all from one work unit.  Reads hold the
reader's lock (TF serialises them the same way), including while blocked on
an empty filename queue; a closed, empty queue raises OutOfRangeError.  Where
TF silently drops data this raises DataLossError instead: a TFRecord file cut
anywhere inside a record, a fixed-length file whose body is not a whole
number of records.  An error inside a file is sticky until `reset()`, so a
pipeline never skips past corrupt data.  Every reader supports
`serialize_state()`/`restore_state()`: the state is a `ReaderBaseState`
proto holding TF's counters plus the position inside the current file.
"""
import collections
import itertools
import os

import numpy as np
from google.protobuf.message import DecodeError

from flowcore import batching, dtypes, errors, registry
from flowcore.graph import Tensor
from flowcore.ops.core import apply_op, convert_to_tensor
from flowcore.session import Resource
from flowcore.shapes import TensorShape
from pipeline import tfrecord as tfr
from pipeline.protos import ReaderBaseState

__all__ = ["ReaderBase", "TextLineReader", "FixedLengthRecordReader", "TFRecordReader",
           "WholeFileReader", "IdentityReader"]


def _to_bytes(v):
    if isinstance(v, np.ndarray):
        v = v.item() if v.size == 1 else v.reshape(-1)[0]
    if isinstance(v, str):
        return v.encode("utf-8")
    return bytes(v)


def _fs_path(work):
    return os.fsdecode(work)


# -- per-format record sources -------------------------------------------------------------
# Each has start(work, index, offset), read() -> (key, value) or None at the end of
# the work unit, `index` / `offset` (its position, for serialize_state) and close().

class _Source:
    index = 0
    offset = 0
    one_record = False      # a work unit is exactly one record (finished with it, as TF)
    pending = None          # the error that ended the last read_many, raised next

    def __init__(self, attrs=None):
        self.f = None

    def read_many(self, n):
        """(keys, values) lists of up to n records, or None at the end.  A
        record read before an error is returned; the error comes next call
        (kept: a compressed stream, say, is at its end after the error)."""
        err = self.pending
        if err is not None:
            self.pending = None
            raise err
        keys, values = [], []
        read = self.read
        try:
            for _ in range(n):
                r = read()
                if r is None:
                    break
                keys.append(r[0])
                values.append(r[1])
        except errors.OpError as e:
            if not keys:
                raise
            self.pending = e
        return (keys, values) if keys else None

    def close(self):
        self.pending = None
        f = getattr(self, "f", None)
        if f is not None:
            f.close()
            self.f = None


class _TFRecordSource(_Source):
    def __init__(self, attrs):
        self.compression = attrs["compression_type"]
        self.f = None

    def start(self, work, index=0, offset=0):
        self.work = work
        self.f = tfr.RecordFile(_fs_path(work), self.compression, offset)
        self.prefix = work + b":"

    @property
    def offset(self):
        return self.f.offset if self.f is not None else 0

    def read(self):
        f = self.f
        off = f.offset
        rec = f.read()
        if rec is None:
            return None
        return self.prefix + str(off).encode(), rec

    def read_many(self, n):
        if self.f.compression:
            return super().read_many(n)
        offsets, records = self.f.read_many(n)
        if not records:     # the end, a bad record (read raises) or a huge one
            r = self.read()
            return None if r is None else ([r[0]], [r[1]])
        prefix = self.prefix
        return [prefix + b"%d" % o for o in offsets], records


class _TextLineSource(_Source):
    def __init__(self, attrs):
        self.skip = attrs["skip_header_lines"]
        self.f = None

    def start(self, work, index=0, offset=0):
        self.work = work
        self.prefix = work + b":"
        self.f = tfr.open_stream(_fs_path(work))
        self.index = 0
        self.offset = 0
        if index:
            self.f.seek(offset)
            self.index, self.offset = index, offset
        while self.index < self.skip:
            line = self.f.readline()
            if not line:
                break
            self.index += 1
            self.offset += len(line)

    def read(self):
        line = self.f.readline()
        if not line:
            return None
        self.index += 1
        self.offset += len(line)
        if line[-1:] == b"\n":
            line = line[:-1]
        if line[-1:] == b"\r":
            line = line[:-1]
        return self.prefix + str(self.index).encode(), line

    def read_many(self, n):
        lines = list(itertools.islice(iter(self.f.readline, b""), n))
        if not lines:
            return None
        start = self.index + 1
        self.index += len(lines)
        self.offset += sum(map(len, lines))
        values = [ln[:-1] if ln[-1:] == b"\n" else ln for ln in lines]
        values = [ln[:-1] if ln[-1:] == b"\r" else ln for ln in values]
        prefix = self.prefix
        return [prefix + b"%d" % i for i in range(start, self.index + 1)], values


class _FixedLengthSource(_Source):
    """Records of `record_bytes` every `hop_bytes` between a header and a
    footer; a body that does not end exactly at a record's end is data loss."""

    def __init__(self, attrs):
        self.header = attrs["header_bytes"]
        self.record = attrs["record_bytes"]
        self.footer = attrs["footer_bytes"]
        self.hop = attrs["hop_bytes"] or self.record
        self.encoding = attrs["encoding"]
        self.f = None

    def _fill(self, n):
        """Make at least n unread bytes available, unless the file ends."""
        avail = len(self.buf) - self.p
        if avail >= n or self.eof:
            return
        parts = [self.buf[self.p:]]
        while avail < n:
            chunk = self.f.read(max(n - avail, 1 << 18))
            if not chunk:
                self.eof = True
                break
            parts.append(chunk)
            avail += len(chunk)
        self.buf = b"".join(parts)
        self.p = 0

    def start(self, work, index=0, offset=0):
        self.work = work
        self.path = _fs_path(work)
        self.prefix = work + b":"
        self.f = tfr.open_stream(self.path, self.encoding)
        self.buf, self.p, self.eof = b"", 0, False
        skip = self.header + index * self.hop
        self._fill(skip)
        if len(self.buf) < skip:
            raise errors.DataLossError(
                None, None, "%s is %d bytes long, shorter than its %d-byte header%s"
                % (self.path, len(self.buf), self.header,
                   "" if not index else " plus %d records" % index))
        self.p = skip
        self.index = index

    @property
    def offset(self):
        return self.header + self.index * self.hop

    def read_many(self, n):
        """Up to n records sliced from one block; the last records of the
        file (and its errors) come through `read`."""
        hop, rec = self.hop, self.record
        self._fill((n - 1) * hop + rec + self.footer)
        p = self.p
        room = len(self.buf) - p - rec - self.footer
        k = min(n, room // hop + 1) if room >= 0 else 0
        if k < 2:
            return super().read_many(n)
        buf, i = self.buf, self.index
        values = [buf[q:q + rec] for q in range(p, p + k * hop, hop)]
        prefix = self.prefix
        self.p = p + k * hop
        self.index = i + k
        return [prefix + b"%d" % j for j in range(i, i + k)], values

    def read(self):
        need = self.record + self.footer
        self._fill(need)
        p = self.p
        if len(self.buf) - p >= need:
            rec = self.buf[p:p + self.record]
            self.p = p + self.hop
            key = self.prefix + str(self.index).encode()
            self.index += 1
            return key, rec
        r = len(self.buf) - p                       # bytes from here to the end
        if not self.index:
            if r < self.footer:
                raise errors.DataLossError(
                    None, None, "%s is too short for its %d-byte header and %d-byte footer"
                    % (self.path, self.header, self.footer))
            rest = r - self.footer
        else:   # the last record covered record - hop of these bytes (hop <= record)
            rest = max(0, r - self.footer - max(0, self.record - self.hop))
        if rest > 0:
            raise errors.DataLossError(
                None, None, "%s: %d byte%s left over after %d record%s: the body is not a "
                "whole number of %d-byte records%s" % (
                    self.path, rest, "" if rest == 1 else "s", self.index,
                    "" if self.index == 1 else "s", self.record,
                    "" if self.hop == self.record else " every %d bytes" % self.hop))
        return None


class _OneRecordSource(_Source):
    """A work unit that is exactly one record: `_value(work)` gives it."""
    one_record = True

    def start(self, work, index=0, offset=0):
        self.work = work
        self.index = index

    def read(self):
        if self.index:
            return None
        value = self._value(self.work)
        self.index = 1
        return self.work, value


class _WholeFileSource(_OneRecordSource):
    def _value(self, work):
        path = _fs_path(work)
        try:
            with open(path, "rb") as f:
                return f.read()
        except OSError as e:
            raise tfr.os_error(e, path, "read") from None


class _IdentitySource(_OneRecordSource):
    def _value(self, work):
        return work


_SOURCES = {"TFRecordReaderV2": _TFRecordSource, "TextLineReaderV2": _TextLineSource,
            "FixedLengthRecordReaderV2": _FixedLengthSource,
            "WholeFileReaderV2": _WholeFileSource, "IdentityReaderV2": _IdentitySource}


# -- the per-session reader state ----------------------------------------------------------

class ReaderState(Resource):
    """One reader's progress in one session: the current work unit, TF's
    counters and the format-specific source reading it."""

    def __init__(self, op):
        super().__init__()
        self.name = op.name
        self.source = _SOURCES[op.type](op.attrs)
        self.work = None
        self.failed = None
        self.work_started = 0
        self.work_finished = 0
        self.produced = 0
        self.back = None        # (keys, values) read but given back (`unread`)

    def unread(self, keys, values):
        """Records just read, to be read again next (a batched step's rows
        after a failed element: per element, they were never read)."""
        with self.lock:
            if self.back is not None:
                keys, values = keys + self.back[0], values + self.back[1]
            self.back = (keys, values)
            self.produced -= len(keys)

    def _take_back(self, n):
        keys, values = self.back
        self.back = (keys[n:], values[n:]) if n < len(keys) else None
        self.produced += min(n, len(keys))
        return keys[:n], values[:n]

    # callers hold self.lock
    def _next_work(self, ctx, op, queue):
        comps = queue.dequeue(ctx, op)
        work = _to_bytes(comps[0] if isinstance(comps, (tuple, list)) else comps)
        self.work_started += 1
        try:
            self.source.start(work)
        except BaseException:
            self.source.close()
            raise
        self.work = work

    def _finish_work(self):
        self.source.close()
        self.work = None
        self.work_finished += 1

    def _read_one(self):
        if self.failed is not None:
            raise self.failed
        try:
            return self.source.read()
        except errors.OpError as e:
            self.failed = e
            raise

    def read(self, ctx, op, queue):
        with self.lock:
            if self.back is not None:
                keys, values = self._take_back(1)
                return keys[0], values[0]
            while True:
                if self.work is None:
                    self._next_work(ctx, op, queue)
                rec = self._read_one()
                if rec is not None:
                    self.produced += 1
                    if self.source.one_record:
                        self._finish_work()
                    return rec
                self._finish_work()

    def read_up_to(self, ctx, op, queue, n):
        keys, values = [], []
        with self.lock:
            if self.back is not None:
                keys, values = self._take_back(n)
                n = len(keys)           # (one work unit per read_up_to, as TF)
                self.produced -= n      # (counted again below)
            while len(keys) < n:
                if self.work is None:
                    if keys:
                        break
                    self._next_work(ctx, op, queue)
                if self.failed is not None:
                    raise self.failed
                try:
                    got = self.source.read_many(n - len(keys))
                except errors.OpError as e:
                    self.failed = e         # raised from now on; the records
                    if keys:                # before the bad one are not lost
                        break
                    raise
                if got is None:
                    self._finish_work()
                    continue
                keys += got[0]
                values += got[1]
                if self.source.one_record:
                    self._finish_work()
            self.produced += len(keys)
        k = np.empty(len(keys), dtype=object)
        v = np.empty(len(values), dtype=object)
        k[:] = keys
        v[:] = values
        return k, v

    def reset(self):
        with self.lock:
            self.source.close()
            self.back = None
            self.work = None
            self.failed = None
            self.work_started = self.work_finished = self.produced = 0

    def serialize(self):
        with self.lock:
            s = ReaderBaseState(work_started=self.work_started,
                                work_finished=self.work_finished,
                                num_records_produced=self.produced,
                                current_work=self.work or b"")
            if self.work is not None:
                s.offset = self.source.offset
                s.index = self.source.index
            return s.SerializeToString()

    def restore(self, op, data):
        data = _to_bytes(data)
        try:
            s = ReaderBaseState.FromString(data)
        except (DecodeError, TypeError, ValueError):
            raise errors.InvalidArgumentError(
                None, op, "Could not parse state for %s: %r" % (self.name, data[:64])) from None
        if s.work_started < s.work_finished or s.num_records_produced < 0:
            raise errors.InvalidArgumentError(
                None, op, "Invalid state for %s: work_started %d < work_finished %d"
                % (self.name, s.work_started, s.work_finished))
        with self.lock:
            self.source.close()
            self.back = None
            self.work = None
            self.failed = None
            if s.current_work:
                self.source.start(s.current_work, s.index, s.offset)
                self.work = s.current_work
            self.work_started = s.work_started
            self.work_finished = s.work_finished
            self.produced = s.num_records_produced

    def on_session_close(self):
        # Session.close() runs in another thread than the reads: never close
        # the file under a read in flight (it would fail with a stray
        # ValueError/AttributeError instead of completing or being cancelled)
        if self.lock.acquire(False):
            try:
                self.source.close()
                self.work = None    # a later read asks the (closed) queue: CancelledError
            finally:
                self.lock.release()


# -- ops ---------------------------------------------------------------------------------------

def _reader_key(op):
    shared = op.attrs.get("shared_name")
    return ("reader", shared) if shared else op


def _reader_kernel(ctx, op):
    r = ctx.resources.get(op)
    if r is None:
        r = ctx.resource(_reader_key(op), lambda: ReaderState(op))
    return r


_SCALAR = TensorShape([])
for _t in _SOURCES:
    registry.register(_t, stateful=True, kernel=_reader_kernel,
                      shape=lambda op: [(dtypes.resource, _SCALAR)])
    registry.NotDifferentiable(_t)


def _check_handles(op, n):
    for t in op.inputs[:n]:
        if t.dtype is not dtypes.resource:
            raise TypeError("%s expects resource handles, got %s (%s)"
                            % (op.type, t.dtype.name, t.name))


def _read_shape(op):
    _check_handles(op, 2)
    return [(dtypes.string, _SCALAR), (dtypes.string, _SCALAR)]


def _read_up_to_shape(op):
    _check_handles(op, 2)
    if not op.inputs[2].dtype.is_integer:
        raise TypeError("num_records must be an integer, got %s" % op.inputs[2].dtype.name)
    v = TensorShape([None])
    return [(dtypes.string, v), (dtypes.string, v)]


def _read_up_to_kernel(ctx, op, reader, queue, n):
    n = int(n)
    if n <= 0:
        raise errors.InvalidArgumentError(None, op, "num_records must be positive, got %d"
                                          % n)
    return reader.read_up_to(ctx, op, queue, n)


def _restore_kernel(ctx, op, reader, state):
    reader.restore(op, state)


def _int64_shape(op):
    _check_handles(op, 1)
    return [(dtypes.int64, _SCALAR)]


def _string_scalars(rec):
    """A record's (key, value) as 0-d object arrays: a Python bytes value
    would reach numpy functions that turn it into an S array (trailing NUL
    bytes lost) or index it as a byte string."""
    out = np.empty(2, dtype=object)
    out[:] = rec
    return out[0, ...], out[1, ...]


def _read_rows(ctx, op, k, reader, queue):
    """A batched step's read: up to k records of the current file at once."""
    keys, values = reader.read_up_to(ctx, op, queue, k)
    return [keys, values], len(keys)


def _unread_rows(ctx, op, outs, j, reader, queue):
    reader.unread(list(outs[0][j:]), list(outs[1][j:]))


registry.register("ReaderReadV2", stateful=True, shape=_read_shape,
                  kernel=lambda ctx, op, reader, queue:
                  _string_scalars(reader.read(ctx, op, queue)),
                  batch=batching.Source(_read_rows, _unread_rows))
registry.register("ReaderReadUpToV2", stateful=True, shape=_read_up_to_shape,
                  kernel=_read_up_to_kernel)
registry.register("ReaderNumRecordsProducedV2", stateful=True, shape=_int64_shape,
                  kernel=lambda ctx, op, r: np.int64(r.produced))
registry.register("ReaderNumWorkUnitsCompletedV2", stateful=True, shape=_int64_shape,
                  kernel=lambda ctx, op, r: np.int64(r.work_finished))
registry.register("ReaderSerializeStateV2", stateful=True,
                  shape=lambda op: _check_handles(op, 1) or [(dtypes.string, _SCALAR)],
                  kernel=lambda ctx, op, r: np.array(r.serialize(), dtype=object))
registry.register("ReaderRestoreStateV2", stateful=True,
                  shape=lambda op: _check_handles(op, 1) or [], kernel=_restore_kernel)
registry.register("ReaderResetV2", stateful=True, shape=lambda op: _check_handles(op, 1) or [],
                  kernel=lambda ctx, op, r: r.reset())
for _t in ("ReaderReadV2", "ReaderReadUpToV2", "ReaderNumRecordsProducedV2",
           "ReaderNumWorkUnitsCompletedV2", "ReaderSerializeStateV2", "ReaderRestoreStateV2",
           "ReaderResetV2"):
    registry.NotDifferentiable(_t)


# -- Python classes ------------------------------------------------------------------------------

def _queue_ref(queue):
    if isinstance(queue, Tensor):
        return queue
    ref = getattr(queue, "queue_ref", None)
    if ref is None:
        raise TypeError("Expected a queue (or its queue_ref), got %r" % (queue,))
    return ref


ReaderReadV2 = collections.namedtuple("ReaderReadV2", ["key", "value"])
ReaderReadUpToV2 = collections.namedtuple("ReaderReadUpToV2", ["keys", "values"])


class ReaderBase:
    """Base class of readers: wraps the reader op's handle and builds the ops
    that read from it.  Every reader here can serialize its state."""

    def __init__(self, reader_ref, supports_serialize=True):
        self._reader_ref = reader_ref
        self._supports_serialize = supports_serialize

    reader_ref = property(lambda self: self._reader_ref)
    supports_serialize = property(lambda self: self._supports_serialize)

    def read(self, queue, name=None):
        """(key, value) scalar strings of the next record, taking the next
        filename from `queue` when the current one is exhausted."""
        op = apply_op("ReaderReadV2", [self._reader_ref, _queue_ref(queue)], None,
                      name=name or "ReaderReadV2")
        return ReaderReadV2(op.outputs[0], op.outputs[1])

    def read_up_to(self, queue, num_records, name=None):
        """(keys, values) vectors of up to `num_records` records, all from the
        same file (fewer at its end)."""
        n = convert_to_tensor(num_records, dtype=dtypes.int64, name="num_records")
        op = apply_op("ReaderReadUpToV2", [self._reader_ref, _queue_ref(queue), n], None,
                      name=name or "ReaderReadUpToV2")
        return ReaderReadUpToV2(op.outputs[0], op.outputs[1])

    def num_records_produced(self, name=None):
        """Records this reader has returned (an int64 scalar)."""
        return apply_op("ReaderNumRecordsProducedV2", [self._reader_ref], None,
                        name=name or "ReaderNumRecordsProducedV2").outputs[0]

    def num_work_units_completed(self, name=None):
        """Files (work units) this reader has finished (an int64 scalar)."""
        return apply_op("ReaderNumWorkUnitsCompletedV2", [self._reader_ref], None,
                        name=name or "ReaderNumWorkUnitsCompletedV2").outputs[0]

    def serialize_state(self, name=None):
        """The reader's position as a scalar string (a ReaderBaseState proto)."""
        return apply_op("ReaderSerializeStateV2", [self._reader_ref], None,
                        name=name or "ReaderSerializeStateV2").outputs[0]

    def restore_state(self, state, name=None):
        """An op returning the reader to a position from `serialize_state`."""
        s = convert_to_tensor(state, dtype=dtypes.string, name="state")
        return apply_op("ReaderRestoreStateV2", [self._reader_ref, s], None,
                        name=name or "ReaderRestoreStateV2")

    def reset(self, name=None):
        """An op returning the reader to its initial state."""
        return apply_op("ReaderResetV2", [self._reader_ref], None,
                        name=name or "ReaderResetV2")


def _make_reader(op_type, attrs, name):
    attrs = dict(attrs)
    attrs.setdefault("container", "")
    attrs.setdefault("shared_name", "")
    return apply_op(op_type, [], attrs, name=name or op_type).outputs[0]


class TextLineReader(ReaderBase):
    """Reads a file line by line (trailing '\\n' and '\\r' removed), after
    skipping `skip_header_lines`; keys are b"<file>:<line number>"."""

    def __init__(self, skip_header_lines=None, name=None):
        skip = int(skip_header_lines or 0)
        if skip < 0:
            raise ValueError("skip_header_lines must be >= 0, got %d" % skip)
        super().__init__(_make_reader("TextLineReaderV2", {"skip_header_lines": skip}, name))


class FixedLengthRecordReader(ReaderBase):
    """Reads records of `record_bytes` bytes after a `header_bytes` header
    and before a `footer_bytes` footer, one every `hop_bytes` (default: back
    to back).  `encoding` 'ZLIB' or 'GZIP' reads compressed files.  A body
    that is not a whole number of records is a DataLossError."""

    def __init__(self, record_bytes, header_bytes=None, footer_bytes=None, hop_bytes=None,
                 name=None, encoding=None):
        record_bytes = int(record_bytes)
        if record_bytes <= 0:
            raise ValueError("record_bytes must be > 0, got %d" % record_bytes)
        vals = {"header_bytes": int(header_bytes or 0), "footer_bytes": int(footer_bytes or 0),
                "hop_bytes": int(hop_bytes or 0)}
        for k, v in vals.items():
            if v < 0:
                raise ValueError("%s must be >= 0, got %d" % (k, v))
        enc = tfr.compression_string(encoding or "")
        super().__init__(_make_reader("FixedLengthRecordReaderV2",
                                      dict(vals, record_bytes=record_bytes, encoding=enc),
                                      name))


class TFRecordReader(ReaderBase):
    """Reads the records of TFRecord files (CRCs checked); keys are
    b"<file>:<byte offset>".  `options`: TFRecordOptions or a compression string."""

    def __init__(self, name=None, options=None):
        comp = tfr.compression_string(options)
        super().__init__(_make_reader("TFRecordReaderV2", {"compression_type": comp}, name))


class WholeFileReader(ReaderBase):
    """Reads each file whole: key is the filename, value its contents."""

    def __init__(self, name=None):
        super().__init__(_make_reader("WholeFileReaderV2", {}, name))


class IdentityReader(ReaderBase):
    """Returns each work string from the queue as both key and value."""

    def __init__(self, name=None):
        super().__init__(_make_reader("IdentityReaderV2", {}, name))
