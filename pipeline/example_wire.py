"""A vectorised reader of serialized `tf.train.Example` batches.

`parse_batch` walks the protobuf wire format of a whole batch at once with
numpy: the records are joined into one byte array and each level of the
message (Example -> Features map entries -> key / Feature -> value list) is
read for every record in one step per field, so the cost is a few hundred
numpy calls per batch instead of several Python objects per record and
feature.  It reads the layout every serializer produces (each message
field once, map entries as key then value, packed numeric lists) and
returns None for anything else -- unknown fields, other orders, duplicate
keys, a value list of another type, malformed bytes -- so that the caller
falls back to the protobuf runtime, which applies every rule and raises
TF's errors.  As in TF's fast parser, features the caller did not ask for
are delimited but their values are not decoded.

Records of one writer often share their layout byte for byte apart from
the values (same features in the same order, fixed-size values): when all
records of a batch have the same length, the layout of the first one is
read in Python into a template -- the positions of every tag, length and
key byte, and of each wanted value -- which the whole batch is checked
against with one comparison; the values are then columns of the batch seen
as a [records, length] byte matrix.  The template is kept in the caller's
`cache` for the next batches.
"""
import numpy as np

_KIND_TAG = {"bytes_list": 0x0A, "float_list": 0x12, "int64_list": 0x1A}
_LEN1 = 0x0A              # field 1, length-delimited
_LEN2 = 0x12              # field 2, length-delimited
_PAD = bytes(16)          # varint reads run at most 10 bytes past a position
_AR10 = np.arange(10)
_SHIFTS = (7 * _AR10).astype(np.uint64)


class _Irregular(Exception):
    """The batch needs the protobuf runtime (see the module docstring)."""


def _varint(buf, pos):
    """(values, sizes) of the varints at positions `pos` (int64 arrays; the
    sizes may be the int 1 when all are one byte)."""
    b0 = buf[pos]
    hi = b0 >= 0x80
    if not hi.any():
        return b0.astype(np.int64), 1
    b1 = buf[pos + 1]
    if not np.count_nonzero(b1[hi] >= 0x80):              # at most two bytes
        return (b0 & 0x7F) + (b1.astype(np.int64) << 7) * hi, 1 + hi
    w = buf[pos[:, None] + _AR10]
    last = w < 0x80
    size = last.argmax(axis=1) + 1
    if not last.any(axis=1).all() or np.count_nonzero(w[size == 10, 9] > 1):
        raise _Irregular                        # too long for 64 bits
    bits = (w & 0x7F).astype(np.uint64) << _SHIFTS
    bits[_AR10 >= size[:, None]] = 0
    return bits.sum(axis=1, dtype=np.uint64).view(np.int64), size


def _field(buf, pos, end, tag):
    """Content bounds (start, stop) of the length-delimited fields with
    `tag` at `pos`, each of which must end by `end`."""
    n, size = _varint(buf, pos + 1)
    start = pos + 1 + size
    stop = start + n
    if np.count_nonzero((buf[pos] != tag) | (stop > end) | (n < 0)):
        raise _Irregular
    return start, stop


def _walk(buf, starts, ends, tag):
    """Split each region [starts, ends) into the consecutive fields `tag`
    that must fill it exactly.  Returns (owner region, start, stop) of every
    field, ordered by owner and then position."""
    act = np.flatnonzero(ends > starts)
    pos, end = starts[act], ends[act]
    owners, lo, hi = [], [], []
    while act.size:
        s, e = _field(buf, pos, end, tag)
        owners.append(act)
        lo.append(s)
        hi.append(e)
        more = e < end
        if not more.all():
            act, pos, end = act[more], e[more], end[more]
        else:
            pos = e
    if not owners:
        z = np.zeros(0, dtype=np.int64)
        return z, z, z
    if len(owners) == 1:
        return owners[0], lo[0], hi[0]
    owner = np.concatenate(owners)
    order = np.argsort(owner, kind="stable")
    return owner[order], np.concatenate(lo)[order], np.concatenate(hi)[order]


def _ragged_index(starts, lengths):
    """Byte positions of the regions [starts, starts + lengths), concatenated."""
    total = int(lengths.sum())
    if lengths.size and (lengths == lengths[0]).all():
        return (starts[:, None] + np.arange(lengths[0])).reshape(-1)
    offsets = np.cumsum(lengths) - lengths
    return np.repeat(starts - offsets, lengths) + np.arange(total)


def _packed(buf, start, stop):
    """(start, stop) of the packed payload of each non-empty list (field 1)."""
    return _field(buf, start, stop, _LEN1)


def _floats(buf, start, stop):
    s, e = _packed(buf, start, stop)
    if (e != stop).any():
        raise _Irregular
    n = e - s
    if (n & 3).any():
        raise _Irregular
    raw = buf[_ragged_index(s, n)]
    return n >> 2, raw.view("<f4").astype(np.float32, copy=False)


def _int64s(buf, start, stop):
    s, e = _packed(buf, start, stop)
    if (e != stop).any():
        raise _Irregular
    n = e - s
    return _varints(buf[_ragged_index(s, n)], n)


def _varints(raw, n):
    """(count per list, values) of packed varint lists: `raw` is their
    payloads concatenated, `n` their byte lengths."""
    if not (raw & 0x80).any():                  # every value < 128: one byte each
        return n, raw.astype(np.int64)
    last = raw < 0x80                           # the last byte of each varint
    off = np.cumsum(n) - n
    if not last[(off + n - 1)[n > 0]].all():
        raise _Irregular                        # a varint runs past its list
    ends = np.flatnonzero(last)
    first = np.empty_like(ends)
    first[0] = 0
    first[1:] = ends[:-1] + 1
    size = ends - first + 1
    if (size > 10).any() or (raw[ends[size == 10]] > 1).any():
        raise _Irregular                        # too long for 64 bits
    shift = np.arange(raw.size) - np.repeat(first, size)
    bits = (raw & 0x7F).astype(np.uint64) << (7 * shift).astype(np.uint64)
    vals = np.add.reduceat(bits, first).view(np.int64)
    seen = np.concatenate(([0], np.cumsum(last)))
    return seen[off + n] - seen[off], vals


def _bytes(buf, data, start, stop):
    owner, s, e = _walk(buf, start, stop, _LEN1)
    counts = np.bincount(owner, minlength=start.size)
    vals = np.empty(s.size, dtype=object)
    vals[:] = [data[a:b] for a, b in zip(s.tolist(), e.tolist())]
    return counts, vals


def parse_batch(records, wanted, cache=None):
    """Parse the serialized Examples `records` (a list of bytes) for the
    features `wanted`, a list of (key bytes, kind) with kind "float_list",
    "int64_list" or "bytes_list"; `cache` (a dict kept by the caller for
    the same `wanted`) holds layout templates between batches.

    Returns one (present, counts, values) per wanted feature: which records
    have it set (a bool array, or None: all), how many values each has (an
    int64 array, 0 where absent, or an int: the count of every record) and
    all values in record order (float32, int64 or object), or None when the
    batch needs the protobuf runtime."""
    try:
        lens = np.fromiter(map(len, records), dtype=np.int64, count=len(records))
        if not lens.all():
            return None                          # an empty Example: no features
        if (lens == lens[0]).all():
            got = _parse_uniform(records, int(lens[0]), wanted,
                                 {} if cache is None else cache)
            if got is not None:
                return got
        return _parse(records, lens, wanted)
    except (_Irregular, TypeError, ValueError, IndexError, OverflowError):
        return None


# -- records of one layout ---------------------------------------------------------------

def _py_varint(r, p):
    v = shift = 0
    while True:
        c = r[p]
        v |= (c & 0x7F) << shift
        p += 1
        if c < 0x80:
            return v, p
        shift += 7
        if shift >= 70:
            raise _Irregular


class _Template:
    """The layout of one record: `check` (positions of the bytes that fix
    the layout) with their values `expect`, and per wanted feature None
    (absent) or (kind, value bounds): one (start, stop) per string of a
    bytes list, the payload's (start, stop) of a numeric list."""

    def __init__(self, r, wanted):
        self.r = r
        self.marks = []
        kinds = dict(wanted)
        found = {}
        fs, fe = self._field(0, len(r), _LEN1)
        if fe != len(r):
            raise _Irregular
        p = fs
        while p < fe:
            es, ee = self._field(p, fe, _LEN1)
            ks, ke = self._field(es, ee, _LEN1)
            self.marks.append((ks, ke))                 # the key
            vs, ve = self._field(ke, ee, _LEN2)
            if ve != ee:
                raise _Irregular
            key = r[ks:ke]
            kind = kinds.get(key)
            if kind is not None:
                if key in found:
                    raise _Irregular
                found[key] = None if vs == ve else (kind, self._values(kind, vs, ve))
            p = ee
        idx = np.concatenate([np.arange(a, b) for a, b in self.marks])
        self.check = idx
        self.expect = np.frombuffer(r, dtype=np.uint8)[idx]
        self.features = [found.get(key) for key, _ in wanted]
        self.wanted = wanted
        del self.r, self.marks

    def _field(self, p, end, tag):
        r = self.r
        if p >= end or r[p] != tag:
            raise _Irregular
        n, q = _py_varint(r, p + 1)
        if q + n > end:
            raise _Irregular
        self.marks.append((p, q))                       # tag and length
        return q, q + n

    def _values(self, kind, vs, ve):
        ls, le = self._field(vs, ve, _KIND_TAG[kind])
        if le != ve:
            raise _Irregular
        if kind == "bytes_list":
            out, q = [], ls
            while q < le:
                a, q = self._field(q, le, _LEN1)
                out.append((a, q))
            return out
        if ls == le:
            return (ls, ls)
        a, b = self._field(ls, le, _LEN1)
        if b != le or (kind == "float_list" and (b - a) % 4):
            raise _Irregular
        return (a, b)


def _parse_uniform(records, length, wanted, cache):
    """The batch's features when every record has the layout of a template
    (the cached one for this length, else the first record's), else None."""
    data = b"".join(records)
    m = np.frombuffer(data, dtype=np.uint8).reshape(len(records), length)
    t = cache.get(length)
    if t is None or t.wanted is not wanted or not (m[:, t.check] == t.expect).all():
        if len(cache) > 16:
            cache.clear()
        t = cache[length] = _Template(records[0], wanted)
        if not (m[:, t.check] == t.expect).all():
            return None
    b = len(records)
    out = []
    for (key, kind), f in zip(wanted, t.features):
        if f is None:
            out.append((np.zeros(b, dtype=bool), np.zeros(b, dtype=np.int64), _empty(kind)))
            continue
        kind, bounds = f
        if kind == "bytes_list":
            vals = np.empty((b, len(bounds)), dtype=object)
            for j, (lo, hi) in enumerate(bounds):
                vals[:, j] = [r[lo:hi] for r in records]
            counts, vals = len(bounds), vals.reshape(-1)
        else:
            lo, hi = bounds
            raw = m[:, lo:hi]
            if kind == "float_list":
                counts = (hi - lo) >> 2
                vals = np.ascontiguousarray(raw).view("<f4").astype(np.float32, copy=False)
                vals = vals.reshape(-1)
            else:
                n, vals = _varints(raw.reshape(-1), np.full(b, hi - lo, dtype=np.int64))
                counts = n
        out.append((None, counts, vals))
    return out


# -- records of any layout ---------------------------------------------------------------

def _parse(records, lens, wanted):
    b = len(records)
    data = b"".join(records + [_PAD])
    buf = np.frombuffer(data, dtype=np.uint8)
    ends = np.cumsum(lens)
    starts = ends - lens
    # Example: field 1 (Features), once, filling the record
    fs, fe = _field(buf, starts, ends, _LEN1)
    if (fe != ends).any():
        raise _Irregular
    # Features: map entries (field 1), each key (1) then value (2)
    owner, es, ee = _walk(buf, fs, fe, _LEN1)
    ks, ke = _field(buf, es, ee, _LEN1)
    vs, ve = _field(buf, ke, ee, _LEN2)
    if (ve != ee).any():
        raise _Irregular
    klen = ke - ks
    out = []
    for key, kind in wanted:
        idx = np.flatnonzero(klen == len(key))
        if idx.size and len(key):
            kb = np.frombuffer(key, dtype=np.uint8)
            idx = idx[(buf[ks[idx, None] + np.arange(len(key))] == kb).all(axis=1)]
        rec = owner[idx]
        if rec.size > 1 and (rec[1:] == rec[:-1]).any():
            raise _Irregular                     # a key twice in one record
        # Feature: empty (no list set: absent) or one list of this kind
        s, e = vs[idx], ve[idx]
        if not (e > s).all():
            keep = e > s
            rec, s, e = rec[keep], s[keep], e[keep]
        present = np.zeros(b, dtype=bool)
        present[rec] = True
        counts = np.zeros(b, dtype=np.int64)
        if rec.size:
            ls, le = _field(buf, s, e, _KIND_TAG[kind])
            if (le != e).any():
                raise _Irregular
            full = le > ls
            n = np.zeros(rec.size, dtype=np.int64)
            if kind == "bytes_list":
                n, vals = _bytes(buf, data, ls, le)
            elif full.any():
                sub = np.flatnonzero(full)
                got, vals = (_floats if kind == "float_list" else _int64s)(
                    buf, ls[sub], le[sub])
                n[sub] = got
            else:
                vals = _empty(kind)
            counts[rec] = n
        else:
            vals = _empty(kind)
        out.append((present, counts, vals))
    return out


def _empty(kind):
    return np.zeros(0, dtype={"float_list": np.float32, "int64_list": np.int64,
                              "bytes_list": object}[kind])
