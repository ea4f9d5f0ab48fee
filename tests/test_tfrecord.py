"""TFRecord framing, compression, CRC checks and corruption handling."""
import gzip
import random
import struct
import zlib

import numpy as np
import pytest

import flowcore.compat.v1 as tf
from flowcore import errors
from flowcore import records
from pipeline import tfrecord as tfr

python_io = tf.python_io
RECORDS = [b"", b"a", b"hello world", bytes(range(256)) * 3, b"\x00" * 1000]


def _write(path, records, options=None):
    with python_io.TFRecordWriter(str(path), options) as w:
        for r in records:
            w.write(r)
    return path


def test_masked_crc_and_framing():
    import google_crc32c
    assert google_crc32c.implementation == "c"          # hardware CRC, not pure Python
    assert google_crc32c.value(b"123456789") == 0xE3069283   # the CRC-32C check value
    crc = 0xE3069283
    assert tfr.masked_crc32c(b"123456789") == \
        (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF
    rec = tfr.encode_record(b"abc")
    assert rec[:8] == struct.pack("<Q", 3)
    assert struct.unpack("<I", rec[8:12])[0] == tfr.masked_crc32c(rec[:8])
    assert rec[12:15] == b"abc"
    assert struct.unpack("<I", rec[15:])[0] == tfr.masked_crc32c(b"abc")
    # TF's bytes for a record b"abc" (written by TF 2.21)
    assert rec.hex() == "0300000000000000b099490e6162636e57f121"


@pytest.mark.parametrize("options", [None, "", "ZLIB", "GZIP",
                                     python_io.TFRecordCompressionType.NONE,
                                     python_io.TFRecordCompressionType.ZLIB,
                                     python_io.TFRecordCompressionType.GZIP,
                                     python_io.TFRecordOptions("GZIP"),
                                     python_io.TFRecordOptions(
                                         python_io.TFRecordCompressionType.ZLIB,
                                         compression_level=9)])
def test_round_trip_every_compression(tmp_path, options):
    p = _write(tmp_path / "r.tfrecord", RECORDS, options)
    assert list(python_io.tf_record_iterator(str(p), options)) == RECORDS
    raw = p.read_bytes()
    ctype = python_io.TFRecordOptions.get_compression_type_string(options)
    plain = b"".join(tfr.encode_record(r) for r in RECORDS)
    if ctype == "GZIP":
        assert raw[:2] == b"\x1f\x8b" and gzip.decompress(raw) == plain
    elif ctype == "ZLIB":
        assert zlib.decompress(raw) == plain
    else:
        assert raw == plain


def test_options_api():
    T = python_io.TFRecordCompressionType
    assert (T.NONE, T.ZLIB, T.GZIP) == (0, 1, 2)
    get = python_io.TFRecordOptions.get_compression_type_string
    assert get(None) == "" and get("GZIP") == "GZIP" and get(T.ZLIB) == "ZLIB"
    assert get(python_io.TFRecordOptions(T.GZIP)) == "GZIP"
    assert python_io.TFRecordOptions.compression_type_map == {0: "", 1: "ZLIB", 2: "GZIP"}
    with pytest.raises(ValueError, match="Not a valid compression_type"):
        python_io.TFRecordOptions("BZ2")
    assert tf.io.TFRecordWriter is python_io.TFRecordWriter
    assert tf.io.tf_record_iterator is python_io.tf_record_iterator


def test_writer_flush_close_and_errors(tmp_path):
    p = tmp_path / "f.tfrecord"
    w = python_io.TFRecordWriter(str(p))
    w.write(b"one")
    w.write("two")                        # str is UTF-8 encoded
    w.flush()
    assert list(python_io.tf_record_iterator(str(p))) == [b"one", b"two"]
    w.close()
    w.close()
    with pytest.raises(errors.FailedPreconditionError):
        w.write(b"x")
    with pytest.raises(errors.NotFoundError, match="no_such_dir"):
        python_io.TFRecordWriter(str(tmp_path / "no_such_dir" / "f"))
    gz = tmp_path / "f.gz"
    w = python_io.TFRecordWriter(str(gz), "GZIP")
    w.write(b"x" * 100)
    w.flush()                             # a sync point: readable before close
    assert gzip.GzipFile(str(gz)).read1(200)[12:112] == b"x" * 100
    w.close()
    assert list(python_io.tf_record_iterator(str(gz), "GZIP")) == [b"x" * 100]


def test_missing_and_empty_files(tmp_path):
    with pytest.raises(errors.NotFoundError, match="nope.tfrecord"):
        list(python_io.tf_record_iterator(str(tmp_path / "nope.tfrecord")))
    (tmp_path / "empty").write_bytes(b"")
    assert list(python_io.tf_record_iterator(str(tmp_path / "empty"))) == []


def _expect_loss(path, options=None, match=None):
    got = []
    with pytest.raises(errors.DataLossError, match=match) as e:
        for r in python_io.tf_record_iterator(str(path), options):
            got.append(r)
    assert str(path) in str(e.value)
    return got


def test_corruption_is_data_loss_with_file_and_offset(tmp_path):
    good = _write(tmp_path / "g", RECORDS).read_bytes()
    offsets = [0]
    for r in RECORDS:
        offsets.append(offsets[-1] + len(r) + 16)
    # a flipped payload byte in record 2
    bad = bytearray(good)
    bad[offsets[2] + 12 + 3] ^= 0x40
    (tmp_path / "data").write_bytes(bytes(bad))
    got = _expect_loss(tmp_path / "data", match="corrupted record at offset %d" % offsets[2])
    assert got == RECORDS[:2]
    # a flipped length byte in record 3: the length CRC catches it
    bad = bytearray(good)
    bad[offsets[3]] ^= 0x01
    (tmp_path / "len").write_bytes(bytes(bad))
    assert _expect_loss(tmp_path / "len", match="offset %d" % offsets[3]) == RECORDS[:3]
    # a flipped data CRC byte
    bad = bytearray(good)
    bad[offsets[1] - 1] ^= 0xFF
    (tmp_path / "crc").write_bytes(bytes(bad))
    assert _expect_loss(tmp_path / "crc", match="offset %d" % offsets[0]) == []


@pytest.mark.parametrize("cut", [1, 5, 11, 12, 13, 20])
def test_truncation_anywhere_is_data_loss(tmp_path, cut):
    good = _write(tmp_path / "g", RECORDS).read_bytes()
    last = len(good) - (len(RECORDS[-1]) + 16)
    (tmp_path / "t").write_bytes(good[:last + cut])
    got = _expect_loss(tmp_path / "t", match="truncated record at offset %d" % last)
    assert got == RECORDS[:-1]


def test_truncated_or_corrupt_compressed_stream(tmp_path):
    for ctype in ("GZIP", "ZLIB"):
        raw = _write(tmp_path / ctype, RECORDS, ctype).read_bytes()
        (tmp_path / "cut").write_bytes(raw[:len(raw) // 2])
        _expect_loss(tmp_path / "cut", ctype)
        bad = bytearray(raw)
        bad[len(raw) // 2] ^= 0xFF
        (tmp_path / "bad").write_bytes(bytes(bad))
        _expect_loss(tmp_path / "bad", ctype)
        # reading a compressed file as uncompressed is data loss, not garbage
        _expect_loss(tmp_path / ctype, None, match="length CRC")


def test_huge_length_with_valid_crc_does_not_allocate(tmp_path):
    header = struct.pack("<Q", 1 << 60)
    (tmp_path / "h").write_bytes(header + struct.pack("<I", tfr.masked_crc32c(header)) + b"x")
    _expect_loss(tmp_path / "h", match="truncated record at offset 0")


def test_records_larger_than_the_read_chunk(tmp_path):
    big = bytes(range(256)) * ((records._BIG_READ >> 8) + 1)
    for comp in ("", "GZIP"):
        p = _write(tmp_path / ("big" + comp), [b"a", big, b"b"], comp)
        assert list(python_io.tf_record_iterator(str(p), comp)) == [b"a", big, b"b"]


def test_scan_reports_each_bad_record(tmp_path):
    good = _write(tmp_path / "g", RECORDS).read_bytes()
    bad = bytearray(good)
    bad[12 + 16 + 0] ^= 1     # record 1's payload
    (tmp_path / "b").write_bytes(bytes(bad))
    res = list(tfr.scan(str(tmp_path / "b")))
    assert [r[2] for r in res] == [None, "data CRC mismatch", None, None, None]
    assert [r[0] for r in res] == [0, 16, 33, 60, 844]


@pytest.mark.timeout(60)
def test_fuzz_reader_only_raises_data_loss(tmp_path):
    rng = random.Random(1234)
    plain = _write(tmp_path / "p", [bytes([i]) * rng.randrange(0, 300) for i in range(20)])
    gz = _write(tmp_path / "z", [bytes([i]) * 50 for i in range(20)], "GZIP")
    cases = []
    for _ in range(150):
        cases.append((bytes(rng.randrange(256) for _ in range(rng.randrange(0, 64))), None))
    for src, ctype in ((plain, None), (gz, "GZIP")):
        data = src.read_bytes()
        for _ in range(150):
            b = bytearray(data)
            for _ in range(rng.randrange(1, 4)):
                op = rng.randrange(3)
                i = rng.randrange(len(b))
                if op == 0:
                    b[i] ^= 1 << rng.randrange(8)
                elif op == 1:
                    del b[i:i + rng.randrange(1, 20)]
                else:
                    b[i:i] = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 9)))
            cases.append((bytes(b), ctype))
    f = tmp_path / "fuzz"
    for data, ctype in cases:
        f.write_bytes(data)
        try:
            for _ in python_io.tf_record_iterator(str(f), ctype):
                pass
        except errors.DataLossError:
            pass


def test_read_many_frames_blocks_and_stops_before_bad_records(tmp_path):
    path = str(tmp_path / "many.tfrecord")
    recs = [bytes([i % 251]) * (i * 997 % 70000) for i in range(60)]   # spans many blocks
    with tfr.TFRecordWriter(path) as w:
        for r in recs:
            w.write(r)
    f = records.RecordFile(path)
    got, offsets = [], []
    while True:
        offs, rs = f.read_many(7)
        if not rs:
            break
        got += rs
        offsets += offs
    assert got == recs and f.read() is None
    assert offsets == [0] + list(np.cumsum([len(r) + 16 for r in recs])[:-1])
    # a corrupt 4th record: the first three come back, then read() names the offset
    data = bytearray(open(path, "rb").read())
    bad = offsets[3] + 12 + 1
    data[bad] ^= 0xFF
    open(path, "wb").write(bytes(data))
    f = records.RecordFile(path)
    offs, rs = f.read_many(10)
    assert rs == recs[:3] and f.offset == offsets[3]
    with pytest.raises(errors.DataLossError, match="offset %d" % offsets[3]):
        f.read()


def _equal_length_file(tmp_path, n=300, size=40):
    path = str(tmp_path / "equal.tfrecord")
    recs = [bytes([i % 256]) * size for i in range(n)]
    _write(path, recs)
    return path, recs, [i * (size + 16) for i in range(n)]


def _read_all_many(f, n):
    got, offsets = [], []
    while True:
        offs, rs = f.read_many(n)
        if not rs:
            return got, offsets
        got += rs
        offsets += offs


@pytest.mark.parametrize("n", [1, 2, 3, 128, 1000])
def test_read_many_frames_runs_of_equal_length_records(tmp_path, n):
    path, recs, offsets = _equal_length_file(tmp_path)
    f = records.RecordFile(path)
    got, offs = _read_all_many(f, n)
    assert got == recs and offs == offsets and f.read() is None


@pytest.mark.parametrize("where", ["data", "data_crc", "length_crc", "length"])
@pytest.mark.parametrize("k", [1, 2, 57, 299])
def test_read_many_stops_inside_a_run_at_the_bad_record(tmp_path, where, k):
    """A bad record amid equal-length ones: read_many returns the records
    before it, leaves the file at it, and read() reports it with its offset."""
    path, recs, offsets = _equal_length_file(tmp_path)
    data = bytearray(open(path, "rb").read())
    at = offsets[k] + {"data": 12 + 5, "data_crc": 12 + 40, "length_crc": 9, "length": 0}[where]
    data[at] ^= 0x01
    open(path, "wb").write(bytes(data))
    f = records.RecordFile(path)
    got, offs = _read_all_many(f, 128)
    assert got == recs[:k] and offs == offsets[:k] and f.offset == offsets[k]
    with pytest.raises(errors.DataLossError, match="offset %d" % offsets[k]):
        f.read()


def test_read_many_run_then_other_lengths_then_truncation(tmp_path):
    """Equal-length runs interleaved with other lengths, and a file cut
    inside its last record: every whole record comes back, in order."""
    recs = [b"x" * 30] * 50 + [b"yy"] + [b"z" * 30] * 20 + [b""] * 9 + [b"w" * 500] * 40
    path = str(tmp_path / "mixed.tfrecord")
    _write(path, recs)
    data = open(path, "rb").read()
    open(path, "wb").write(data[:-7])
    f = records.RecordFile(path)
    got, offs = _read_all_many(f, 64)
    assert got == recs[:-1]
    assert offs == [0] + list(np.cumsum([len(r) + 16 for r in recs])[:-2])
    with pytest.raises(errors.DataLossError, match="truncated record at offset %d" % f.offset):
        f.read()
