"""TFRecord files, byte for byte as TensorFlow writes them (`tf.python_io`, and
the framing of event files).

A file is a sequence of records, each framed as

    uint64 length (little-endian) | uint32 masked CRC-32C of those 8 bytes
    data (length bytes)           | uint32 masked CRC-32C of the data

where mask(crc) = ((crc >> 15) | (crc << 17)) + 0xa282ead8 (mod 2**32).  The
whole stream may be ZLIB- or GZIP-compressed.  Every CRC is checked on read; a
mismatch or a file that ends inside a record is a `DataLossError` naming the
file and the record's byte offset (in the uncompressed stream), never a
silent end of file.

CRC-32C comes from `google-crc32c` (Google's C library, SSE4.2/ARMv8 CRC
instructions): one C call per record, ~25 GB/s on long records here.
"""
import io
import os
import struct
import warnings
import zlib

import google_crc32c
import numpy as np

from flowcore import errors

__all__ = ["TFRecordWriter", "tf_record_iterator", "TFRecordOptions",
           "TFRecordCompressionType"]

if google_crc32c.implementation != "c":   # pragma: no cover - depends on the wheel
    warnings.warn("google-crc32c has no C extension on this platform; TFRecord CRCs "
                  "will be slow", RuntimeWarning)

_crc32c = google_crc32c.value
_U64 = struct.Struct("<Q")
_U32 = struct.Struct("<I")
_HEADER = struct.Struct("<QI")
_MASK_DELTA = 0xa282ead8
_BIG_READ = 1 << 24     # reads above this size go in chunks (no huge allocation on bad input)


def masked_crc32c(data):
    """The masked CRC-32C TFRecord stores for `data`."""
    crc = _crc32c(data)
    return (((crc >> 15) | (crc << 17)) + _MASK_DELTA) & 0xffffffff


def encode_record(data):
    """One framed record (length, length CRC, data, data CRC) as bytes."""
    header = _U64.pack(len(data))
    return b"".join((header, _U32.pack(masked_crc32c(header)), data,
                     _U32.pack(masked_crc32c(data))))


# -- compression options ---------------------------------------------------------------

class TFRecordCompressionType:
    """The compression of a TFRecord file."""
    NONE = 0
    ZLIB = 1
    GZIP = 2


class TFRecordOptions:
    """How a TFRecord file is compressed: `compression_type` is a
    `TFRecordCompressionType` value or one of the strings '', 'ZLIB', 'GZIP'.
    `compression_level` (0-9, default zlib's 6) and `window_bits` tune zlib;
    the buffer and flush options are accepted for compatibility."""

    compression_type_map = {TFRecordCompressionType.ZLIB: "ZLIB",
                            TFRecordCompressionType.GZIP: "GZIP",
                            TFRecordCompressionType.NONE: ""}

    def __init__(self, compression_type=None, flush_mode=None, input_buffer_size=None,
                 output_buffer_size=None, window_bits=None, compression_level=None,
                 compression_method=None, mem_level=None, compression_strategy=None):
        if compression_type is not None and not isinstance(compression_type, (str, int)) \
                or isinstance(compression_type, str) and \
                compression_type not in self.compression_type_map.values() or \
                isinstance(compression_type, int) and \
                compression_type not in self.compression_type_map:
            raise ValueError('Not a valid compression_type: "%s"' % (compression_type,))
        self.compression_type = compression_type
        self.flush_mode = flush_mode
        self.input_buffer_size = input_buffer_size
        self.output_buffer_size = output_buffer_size
        self.window_bits = window_bits
        self.compression_level = compression_level
        self.compression_method = compression_method
        self.mem_level = mem_level
        self.compression_strategy = compression_strategy

    @classmethod
    def get_compression_type_string(cls, options):
        """'', 'ZLIB' or 'GZIP' for `options` (TFRecordOptions, string, enum or None)."""
        if not options:
            return ""
        if isinstance(options, TFRecordOptions):
            return cls.get_compression_type_string(options.compression_type)
        if isinstance(options, int) and options in cls.compression_type_map:
            return cls.compression_type_map[options]
        if isinstance(options, str) and options in cls.compression_type_map.values():
            return options
        raise ValueError('Not a valid compression_type: "%s"' % (options,))

    def __repr__(self):
        return "TFRecordOptions(compression_type=%r)" % (self.compression_type,)


def compression_string(options):
    """Normalise `options` to '', 'ZLIB' or 'GZIP' (also accepts 'NONE')."""
    if isinstance(options, str) and options.upper() in ("NONE", "ZLIB", "GZIP"):
        return "" if options.upper() == "NONE" else options.upper()
    return TFRecordOptions.get_compression_type_string(options)


def _zlib_wbits(ctype, window_bits=None):
    wbits = window_bits or zlib.MAX_WBITS
    return wbits + 16 if ctype == "GZIP" else wbits


def os_error(e, path, action="open"):
    """An OSError as TF's OpError class, naming `path`."""
    if isinstance(e, errors.OpError):
        return e
    if isinstance(e, FileNotFoundError):
        cls = errors.NotFoundError
    elif isinstance(e, PermissionError):
        cls = errors.PermissionDeniedError
    elif isinstance(e, (IsADirectoryError, NotADirectoryError)):
        cls = errors.FailedPreconditionError
    else:
        cls = errors.UnknownError
    err = cls(None, None, "%s; %s (could not %s)" % (path, e.strerror or e, action))
    err.__cause__ = e
    return err


# -- writing ---------------------------------------------------------------------------

class TFRecordWriter:
    """Writes records to a TFRecord file (uncompressed output is identical to
    TensorFlow's).  Use as a context manager, or call `close()`.  Framed
    records are gathered in memory and written ~1 MiB at a time (one write
    call per record costs more than framing it); `flush()` writes them out."""

    _CHUNK = 1 << 20

    def __init__(self, path, options=None):
        self._path = os.fspath(path)
        self._pending = []
        self._pending_size = 0
        ctype = compression_string(options)
        try:
            self._file = open(self._path, "wb")
        except OSError as e:
            raise os_error(e, self._path) from None
        self._compress = None
        if ctype:
            level = getattr(options, "compression_level", None)
            level = zlib.Z_DEFAULT_COMPRESSION if level is None or level < 0 else level
            mem = getattr(options, "mem_level", None) or 9
            wbits = _zlib_wbits(ctype, getattr(options, "window_bits", None))
            self._compress = zlib.compressobj(level, zlib.DEFLATED, wbits, mem)

    def write(self, record):
        """Append one record (bytes; a str is UTF-8 encoded)."""
        if self._file is None:
            raise errors.FailedPreconditionError(None, None, "TFRecordWriter for %s is closed"
                                                 % self._path)
        if isinstance(record, str):
            record = record.encode("utf-8")
        header = _U64.pack(len(record))
        c1 = _crc32c(header)
        c2 = _crc32c(record)
        pending = self._pending
        pending += (header, _U32.pack((((c1 >> 15) | (c1 << 17)) + _MASK_DELTA) & 0xffffffff),
                    record, _U32.pack((((c2 >> 15) | (c2 << 17)) + _MASK_DELTA) & 0xffffffff))
        self._pending_size += len(record) + 16
        if self._pending_size >= self._CHUNK:
            self._write_pending()

    def _write_pending(self):
        buf = b"".join(self._pending)
        self._pending.clear()
        self._pending_size = 0
        try:
            if self._compress is not None:
                buf = self._compress.compress(buf)
            self._file.write(buf)
        except OSError as e:
            raise os_error(e, self._path, "write") from None

    def flush(self):
        """Push written records to the file (a sync point for compressed files)."""
        if self._file is None:
            raise errors.FailedPreconditionError(None, None, "TFRecordWriter for %s is closed"
                                                 % self._path)
        self._write_pending()
        try:
            if self._compress is not None:
                self._file.write(self._compress.flush(zlib.Z_SYNC_FLUSH))
            self._file.flush()
        except OSError as e:
            raise os_error(e, self._path, "write") from None

    def close(self):
        """Finish the file; further writes raise.  Closing twice is harmless."""
        if self._file is None:
            return
        try:
            self._write_pending()
            if self._compress is not None:
                self._file.write(self._compress.flush(zlib.Z_FINISH))
        finally:
            f, self._file = self._file, None
            f.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass


# -- reading ---------------------------------------------------------------------------

class _Decompressed(io.RawIOBase):
    """A ZLIB/GZIP stream read through `zlib.decompressobj`; concatenated
    GZIP members are read in turn.  Corrupt or cut data is a DataLossError."""

    def __init__(self, raw, path, ctype, window_bits=None):
        self._raw = raw
        self._path = path
        self._wbits = _zlib_wbits(ctype, window_bits)
        self._d = zlib.decompressobj(self._wbits)
        self._pending = b""
        self._done = False
        self._ctype = ctype

    def readable(self):
        return True

    def readinto(self, b):
        n = len(b)
        while not self._pending and not self._done:
            if self._d.eof:
                rest = self._d.unused_data
                self._d = zlib.decompressobj(self._wbits)
                chunk = rest or self._raw.read(1 << 16)
                if not chunk:
                    self._done = True
                    break
            else:
                chunk = self._d.unconsumed_tail or self._raw.read(1 << 16)
                if not chunk:
                    self._done = True
                    if not self._d.eof:
                        raise errors.DataLossError(
                            None, None, "%s: %s stream is truncated (compressed data ends "
                            "before the end of the stream)" % (self._path, self._ctype))
                    break
            try:
                self._pending = self._d.decompress(chunk, 1 << 18)
            except zlib.error as e:
                raise errors.DataLossError(None, None, "%s: corrupted %s data (%s)"
                                           % (self._path, self._ctype, e)) from None
        out = self._pending[:n]
        self._pending = self._pending[n:]
        b[:len(out)] = out
        return len(out)

    def close(self):
        self._raw.close()
        super().close()


def open_stream(path, compression="", window_bits=None):
    """A buffered binary stream of `path`'s (decompressed) bytes; NotFoundError
    (etc.) naming it when it cannot be opened."""
    path = os.fspath(path)
    try:
        raw = open(path, "rb", buffering=0)
    except OSError as e:
        raise os_error(e, path) from None
    if os.path.isdir(path):
        raw.close()
        raise errors.FailedPreconditionError(None, None, "%s is a directory" % path)
    if compression:
        return io.BufferedReader(_Decompressed(raw, path, compression, window_bits), 1 << 18)
    return io.BufferedReader(raw, 1 << 18)


def _equal_run(buf, pos, length, limit, start, offsets, records):
    """Frame up to `limit` records of `length` bytes from `buf[pos:]` with
    array operations, appending them to `offsets`/`records`; returns how
    many.  A record is taken while its 12-byte header equals the header at
    `pos` (so its length CRC is the one checked there; it is checked here
    once) and its data CRC matches; the first record that does not stays
    for the per-record path, which frames or rejects it."""
    step = length + 16
    m = min(limit, (len(buf) - pos) // step)
    if m < 2:
        return 0
    c = _crc32c(buf[pos:pos + 8])
    if (((c >> 15) | (c << 17)) + _MASK_DELTA) & 0xffffffff != _U32.unpack_from(buf, pos + 8)[0] \
            or length >= _BIG_READ:
        return 0
    heads = np.ndarray((m, 12), np.uint8, buf, pos, (step, 1))
    same = (heads == heads[0]).all(axis=1)
    m = int(same.argmin()) if not same.all() else m
    if m < 2:
        return 0
    first = pos + 12
    data = [buf[p:p + length] for p in range(first, first + m * step, step)]
    c = np.fromiter(map(_crc32c, data), np.uint64, m)
    masked = (((c >> 15) | (c << 17)) + _MASK_DELTA) & 0xffffffff
    ok = masked == np.ndarray((m,), "<u4", buf, first + length, (step,))
    if not ok.all():
        m = int(ok.argmin())
        del data[m:]
    offsets.extend(range(start + pos, start + pos + m * step, step))
    records.extend(data)
    return m


class RecordFile:
    """Sequential reader of one TFRecord file, tracking the byte offset of
    the next record (in the uncompressed stream) so a reader can report keys
    and save or restore its position."""

    def __init__(self, path, compression="", offset=0):
        self.path = os.fspath(path)
        self.compression = compression_string(compression)
        self._f = open_stream(self.path, self.compression)
        self.offset = 0
        if offset:
            self.skip_to(offset)

    def skip_to(self, offset):
        """Move to the record starting at byte `offset` (from a saved state)."""
        if self.compression:
            while self.offset < offset:
                n = len(self._f.read(min(offset - self.offset, 1 << 20)))
                if n == 0:
                    break
                self.offset += n
        else:
            size = os.fstat(self._f.fileno()).st_size
            self._f.seek(min(offset, size))
            self.offset = min(offset, size)
        if self.offset != offset:
            raise errors.DataLossError(None, None, "%s: cannot resume at offset %d, the "
                                       "file has only %d bytes" % (self.path, offset,
                                                                   self.offset))

    def _read(self, n):
        if n <= _BIG_READ:
            return self._f.read(n)
        parts, got = [], 0
        while got < n:
            p = self._f.read(min(n - got, _BIG_READ))
            if not p:
                break
            parts.append(p)
            got += len(p)
        return b"".join(parts)

    def read(self):
        """The next record's bytes, or None at a clean end of file."""
        header = self._f.read(12)
        offset = self.offset
        if len(header) < 12:
            if not header:
                return None
            raise errors.DataLossError(
                None, None, "truncated record at offset %d in %s: the file ends inside "
                "the record header (%d of 12 bytes)" % (offset, self.path, len(header)))
        length, length_crc = _HEADER.unpack(header)
        if masked_crc32c(header[:8]) != length_crc:
            raise errors.DataLossError(
                None, None, "corrupted record at offset %d in %s: length CRC mismatch "
                "(is this a TFRecord file%s?)" % (offset, self.path,
                                                   "" if self.compression else
                                                   ", or a compressed one"))
        body = self._read(length + 4)
        if len(body) < length + 4:
            raise errors.DataLossError(
                None, None, "truncated record at offset %d in %s: the file ends inside the "
                "record (%d of %d data+CRC bytes present)" % (offset, self.path, len(body),
                                                              length + 4))
        data = body[:length]
        if masked_crc32c(data) != _U32.unpack_from(body, length)[0]:
            raise errors.DataLossError(
                None, None, "corrupted record at offset %d in %s: data CRC mismatch"
                % (offset, self.path))
        self.offset = offset + length + 16
        return data

    def read_many(self, n):
        """(offsets, records) of up to `n` next records of an uncompressed
        file, framed from blocks read ahead instead of two reads per record.
        Stops before anything `read` would reject (the caller's next `read`
        reports it precisely) and leaves the file at the next record."""
        if self.compression:
            raise ValueError("read_many needs an uncompressed file")
        f = self._f
        start = self.offset
        block = max(1 << 16, n * (self._mean_size + 16))
        buf, pos = f.read(block), 0
        unpack, unpack_crc, crc = _HEADER.unpack_from, _U32.unpack_from, _crc32c
        delta, big = _MASK_DELTA, _BIG_READ
        offsets, records = [], []
        last, runs = -1, True
        while len(records) < n:
            if len(buf) - pos < 12:
                more = f.read(block)
                if not more:
                    break
                buf, start, pos = buf[pos:] + more, start + pos, 0
                continue
            length, length_crc = unpack(buf, pos)
            if length == last and runs:
                # a second record of the same length: frame the rest of the
                # block at once as long as the headers repeat
                got = _equal_run(buf, pos, length, n - len(records), start, offsets, records)
                if got:
                    pos += got * (length + 16)
                    continue
                runs = False        # lengths vary here: no more tries this call
            c = crc(buf[pos:pos + 8])
            if (((c >> 15) | (c << 17)) + delta) & 0xffffffff != length_crc or length >= big:
                break
            end = pos + length + 16
            if end > len(buf):
                more = f.read(max(end - len(buf), block))
                if len(buf) - pos + len(more) < length + 16:
                    break
                buf, start, pos = buf[pos:] + more, start + pos, 0
                continue
            data = buf[pos + 12:end - 4]
            c = crc(data)
            if (((c >> 15) | (c << 17)) + delta) & 0xffffffff != unpack_crc(buf, end - 4)[0]:
                break
            offsets.append(start + pos)
            records.append(data)
            pos = end
            last = length
        self.offset = start + pos
        f.seek(self.offset)
        if records:
            self._mean_size = (self.offset - offsets[0]) // len(records)
        return offsets, records

    _mean_size = 1024

    def __iter__(self):
        """Yield the remaining records: `read` with its checks inlined (the hot
        loop of tf_record_iterator); any problem is left to `read` to report."""
        f = self._f
        fread, unpack, unpack_crc, crc = f.read, _HEADER.unpack, _U32.unpack_from, _crc32c
        delta, big = _MASK_DELTA, _BIG_READ
        offset = self.offset
        while True:
            header = fread(12)
            if len(header) == 12:
                length, length_crc = unpack(header)
                c = crc(header[:8])
                if (((c >> 15) | (c << 17)) + delta) & 0xffffffff == length_crc and \
                        length < big:
                    body = fread(length + 4)
                    if len(body) == length + 4:
                        data = body[:length]
                        c = crc(data)
                        if (((c >> 15) | (c << 17)) + delta) & 0xffffffff == \
                                unpack_crc(body, length)[0]:
                            offset += length + 16
                            self.offset = offset
                            yield data
                            continue
            elif not header:
                return
            if self.compression:   # cannot rewind a stream: re-read to report precisely
                self._f.close()
                self._f = open_stream(self.path, self.compression)
                self.offset = 0
                self.skip_to(offset)
            else:
                f.seek(offset)
            r = self.read()      # raises the precise error (or reads a huge record)
            if r is None:
                return
            offset = self.offset
            f = self._f
            fread = f.read
            yield r

    def close(self):
        f, self._f = self._f, None
        if f is not None:
            f.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def tf_record_iterator(path, options=None):
    """Yield the records of the TFRecord file `path` in order.  Raises
    NotFoundError for a missing file and DataLossError for a corrupt or
    truncated one (after yielding every good record before it)."""
    compression = compression_string(options)
    with RecordFile(path, compression) as f:
        yield from f


def scan(path, options=None):
    """Check every record of `path` without stopping at the first bad one.

    Yields `(offset, length, problem)` per record, `problem` None when both
    CRCs match.  After a bad length CRC or a truncation the framing is lost, so
    that is the last item."""
    compression = compression_string(options)
    f = open_stream(path, compression)
    offset = 0
    try:
        while True:
            try:
                header = f.read(12)
            except errors.DataLossError as e:
                yield offset, None, str(e)
                return
            if not header:
                return
            if len(header) < 12:
                yield offset, None, "truncated record header (%d of 12 bytes)" % len(header)
                return
            length, length_crc = _HEADER.unpack(header)
            if masked_crc32c(header[:8]) != length_crc:
                yield offset, None, "length CRC mismatch"
                return
            crc = 0
            got = 0
            try:
                while got < length:
                    chunk = f.read(min(length - got, _BIG_READ))
                    if not chunk:
                        break
                    crc = google_crc32c.extend(crc, chunk)
                    got += len(chunk)
                tail = f.read(4)
            except errors.DataLossError as e:
                yield offset, length, str(e)
                return
            if got < length or len(tail) < 4:
                yield offset, length, "truncated record (%d of %d data+CRC bytes)" % (
                    got + len(tail), length + 4)
                return
            masked = (((crc >> 15) | (crc << 17)) + _MASK_DELTA) & 0xffffffff
            yield offset, length, None if masked == _U32.unpack(tail)[0] \
                else "data CRC mismatch"
            offset += length + 16
    finally:
        f.close()
