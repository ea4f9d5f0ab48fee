"""A vectorised reader of serialized `tf.train.Example` batches.

Records of one writer mostly share their layout byte for byte apart from
the values: the same features in the same order, values of fixed sizes.
`parse_batch` reads the layout of one record into a template in Python --
the positions of every tag, length and key byte, and the bounds of each
wanted value -- and checks a whole batch of records of that length against
it with one numpy comparison; the values are then columns of the batch
seen as a [records, length] byte matrix: one numpy call per feature (and
one slice per string), however many records.  A batch of a few lengths
(varint-coded labels of one or two bytes...) is read as that many groups;
templates are kept in the caller's `cache` for the next batches.

Only the layout every serializer produces is read (each message field
once, map entries as key then value, packed numeric lists); anything else
-- unknown fields, other orders, duplicate keys, a value list of another
type, malformed bytes, lengths that vary too much -- returns None, for the
caller to use the protobuf runtime, which applies every rule and raises
TF's errors.  As in TF's fast parser, the values of features the caller did
not ask for are delimited but not decoded.
"""
import numpy as np

_KIND_TAG = {"bytes_list": 0x0A, "float_list": 0x12, "int64_list": 0x1A}
_LEN1 = 0x0A              # field 1, length-delimited
_LEN2 = 0x12              # field 2, length-delimited
MAX_GROUPS = 8            # record lengths in one batch read as groups
MIN_GROUP = 16            # records per group, on average


class _Irregular(Exception):
    """The batch needs the protobuf runtime (see the module docstring)."""


def _ragged_index(starts, lengths):
    """Byte positions of the regions [starts, starts + lengths), concatenated."""
    total = int(lengths.sum())
    if lengths.size and (lengths == lengths[0]).all():
        return (starts[:, None] + np.arange(lengths[0])).reshape(-1)
    offsets = np.cumsum(lengths) - lengths
    return np.repeat(starts - offsets, lengths) + np.arange(total)


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
    cache = {} if cache is None else cache
    try:
        lens = list(map(len, records))
        sizes = set(lens)
        if 0 in sizes:
            return None                          # an empty Example: no features
        if len(sizes) == 1:
            return _parse_uniform(records, lens[0], wanted, cache)
        if len(sizes) > min(MAX_GROUPS, len(records) // MIN_GROUP):
            return None
        lens = np.array(lens)
        groups = []
        for size in sorted(sizes):
            idx = np.flatnonzero(lens == size)
            got = _parse_uniform([records[i] for i in idx.tolist()], size, wanted, cache)
            if got is None:
                return None
            groups.append((idx, got))
        return [_merge(len(records), [(idx, got[i]) for idx, got in groups])
                for i in range(len(wanted))]
    except (_Irregular, TypeError, ValueError, IndexError, OverflowError):
        return None


def _merge(b, parts):
    """One feature of a batch from its groups: (record indices, (present,
    counts, values)) each, records of a group in increasing order."""
    counts = [c for _, (_, c, _) in parts]
    if all(p is None for _, (p, _, _) in parts) and all(type(c) is int for c in counts) \
            and len(set(counts)) == 1:           # the same count everywhere: rows
        width = counts[0]
        vals = parts[0][1][2]
        rows = np.empty((b, width), dtype=vals.dtype)
        for idx, (_, _, v) in parts:
            rows[idx] = v.reshape(idx.size, width)
        return None, width, rows.reshape(-1)
    present = np.ones(b, dtype=bool)
    n = np.zeros(b, dtype=np.int64)
    for idx, (p, c, _) in parts:
        if p is not None:
            present[idx] = p
        n[idx] = c
    order = np.concatenate([idx for idx, _ in parts])      # records, as grouped
    vals = np.concatenate([v for _, (_, _, v) in parts])
    m = n[order]
    start = np.empty(b, dtype=np.int64)
    start[order] = np.cumsum(m) - m                        # each record's first value
    return present, n, vals[_ragged_index(start, n)]


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


def _empty(kind):
    return np.zeros(0, dtype={"float_list": np.float32, "int64_list": np.int64,
                              "bytes_list": object}[kind])
