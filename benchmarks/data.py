"""Deterministic benchmark data, generated once into a cache directory.

Every file is a pure function of its name: the generator is seeded from the
name's parameters, so two machines (or two runs) make the same bytes, and a
file that already exists is reused.  Files are written under a temporary name
and renamed, so an interrupted run never leaves a half-written file behind.

- TFRecord: `tf.train.Example`s with a 784-byte `image` (random uint8), an
  int64 `label` in [0, 10) and 10 float `weights`, the readers benchmark's
  record (`benchmarks/readers.py`); also what the MLP-from-TFRecords job
  trains on (image / 255 as its 784 inputs).
- CSV: lines of four numbers and a string, `"i.5,(i%97).25,-(i%13),1e-3,name<i>"`.
- Fixed-length: CIFAR-10's layout, 3073-byte records of one label byte in
  [0, 10) and a depth-major 3x32x32 uint8 image.
- MLP arrays: float32 inputs in [0, 1) of shape [n, 784] and one-hot float32
  labels [n, 10], made in memory (cheap; nothing to cache).

Generation runs in the harness process, before any job starts, so timed jobs
never pay for it.  It needs only numpy and google-crc32c (flowcore's own
dependencies): Examples are encoded and framed by hand here, so a half-built
flowcore cannot stop the data from being made.
"""
import os
import struct

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_DIR = os.path.join(ROOT, "benchmarks", ".data")
FORMAT = 2          # bump when a generator changes, so stale caches are not reused
FILES = 2           # every dataset is split over two files (the filename queue holds 2)


def _path(data_dir, kind, n, index, ext):
    return os.path.join(data_dir, "%s-v%d-n%d-%d.%s" % (kind, FORMAT, n, index, ext))


def _write_atomic(path, chunks):
    tmp = "%s.tmp%d" % (path, os.getpid())
    with open(tmp, "wb") as f:
        for c in chunks:
            f.write(c)
    os.replace(tmp, path)


def _split(n):
    """Record counts of the FILES files holding `n` records."""
    base = n // FILES
    return [base + (1 if i < n % FILES else 0) for i in range(FILES)]


def _varint(v):
    out = bytearray()
    while v > 0x7f:
        out.append((v & 0x7f) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def _field(number, payload):
    """A length-delimited protobuf field (wire type 2)."""
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _example(image, label, weights):
    """A serialized tf.train.Example, encoded by hand (Example.features = 1,
    Features.feature = 1 (map entry: key = 1, value = 2), Feature.bytes_list = 1 /
    float_list = 2 / int64_list = 3, each list's packed `value` = 1), so making
    data needs neither flowcore nor TensorFlow."""
    feats = ((b"image", _field(1, _field(1, image))),
             (b"label", _field(3, _field(1, _varint(label)))),
             (b"weights", _field(2, _field(1, weights))))
    return _field(1, b"".join(_field(1, _field(1, k) + _field(2, v)) for k, v in feats))


def _masked_crc(data):
    import google_crc32c        # here, so job processes (TensorFlow's venv) need not have it
    crc = google_crc32c.value(data)
    return (((crc >> 15) | (crc << 17)) + 0xa282ead8) & 0xffffffff


def _frame(data):
    """One TFRecord: length, masked CRC-32C of the length, data, masked CRC of the data."""
    head = struct.pack("<Q", len(data))
    return b"".join((head, struct.pack("<I", _masked_crc(head)), data,
                     struct.pack("<I", _masked_crc(data))))


def _tfrecord_blocks(count, seed):
    """(images, labels, weights) of one TFRecord file, 1000 records at a time."""
    rng = np.random.default_rng(seed)
    block = 1000
    for start in range(0, count, block):
        m = min(block, count - start)
        images = rng.integers(0, 256, (m, 784), dtype=np.uint8)
        labels = rng.integers(0, 10, m)
        weights = rng.random((m, 10), dtype=np.float32).astype("<f4")
        yield images, labels, weights


def _tfrecord_chunks(count, first, seed):
    for images, labels, weights in _tfrecord_blocks(count, seed):
        yield b"".join(_frame(_example(images[i].tobytes(), int(labels[i]),
                                       weights[i].tobytes())) for i in range(len(labels)))


def _csv_chunks(count, first, seed):
    block = 10000
    for start in range(first, first + count, block):
        stop = min(start + block, first + count)
        yield "".join("%d.5,%d.25,-%d,1e-3,name%d\n" % (i, i % 97, i % 13, i)
                      for i in range(start, stop)).encode("ascii")


def _fixed_chunks(count, first, seed):
    rng = np.random.default_rng(seed)
    block = 1000
    for start in range(0, count, block):
        m = min(block, count - start)
        rec = rng.integers(0, 256, (m, 3073), dtype=np.uint8)
        rec[:, 0] = rng.integers(0, 10, m, dtype=np.uint8)
        yield rec.tobytes()


KINDS = {   # kind -> (file name stem, extension, chunks(count, first record index, seed))
    "tfrecord": ("examples", "tfrecord", _tfrecord_chunks),
    "csv": ("lines", "csv", _csv_chunks),
    "fixed": ("cifar", "bin", _fixed_chunks),
}


def paths(kind, n, data_dir=DEFAULT_DIR):
    """Paths of the FILES files of dataset `kind` ("tfrecord": Examples, "csv":
    lines, "fixed": 3073-byte records) holding `n` records in all."""
    stem, ext, _ = KINDS[kind]
    return [_path(data_dir, stem, n, i, ext) for i in range(FILES)]


def make(kind, n, data_dir=DEFAULT_DIR):
    """`paths(kind, n, data_dir)`, writing the files that do not exist yet."""
    os.makedirs(data_dir, exist_ok=True)
    chunks, first = KINDS[kind][2], 0
    out = paths(kind, n, data_dir)
    for i, (p, count) in enumerate(zip(out, _split(n))):
        if not os.path.exists(p):
            _write_atomic(p, chunks(count, first, 1000 * n + i))
        first += count
    return out


def tfrecord_contents(n):
    """What the TFRecord dataset of `n` records holds, in file order, without
    reading it (the generator's draws again): `(image8, labels, weights)`, the
    first 8 bytes of every image as uint8 [n, 8], the int64 labels [n] and the
    float32 weights [n, 10].  The jobs check the records a pipeline delivers
    against these."""
    image8, labels, weights = [], [], []
    for i, count in enumerate(_split(n)):
        for im, lab, w in _tfrecord_blocks(count, 1000 * n + i):
            image8.append(im[:, :8].copy())
            labels.append(lab)
            weights.append(w)
    return np.concatenate(image8), np.concatenate(labels), np.concatenate(weights)


def mlp_arrays(n, seed=0):
    """`(x, y)`: float32 inputs [n, 784] in [0, 1) and one-hot float32 labels [n, 10]."""
    rng = np.random.default_rng(seed)
    x = rng.random((n, 784), dtype=np.float32)
    y = np.zeros((n, 10), np.float32)
    y[np.arange(n), rng.integers(0, 10, n)] = 1.0
    return x, y
