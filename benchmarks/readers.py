"""Reader throughput (TFRecord, Example parsing, CSV, fixed-length), flowcore vs TensorFlow.

    python benchmarks/readers.py [--n 200000]

The data is the issue's: Examples with a 784-byte `image`, an int64 `label`
and 10 float `weights`.  Rows (records/s, higher is better):

- write:           TFRecordWriter.write of serialized Examples
- read:            tf_record_iterator over the file (CRCs checked)
- framing floor:   the same file read in a plain Python loop (struct + CRC),
                   the least any Python reader can do
- parse_example:   one sess.run(parse_example) per batch of 256 records
- reader pipeline: TFRecordReader.read_up_to(queue, 256) + parse_example +
                   decode_raw in one graph, as a TF1 user writes it
- per-record read: reader.read(queue) + parse_single_example, one run per
                   record (TF1's classic per-record input loop)
- CSV pipeline:    TextLineReader.read_up_to(queue, 1024) + decode_csv over
                   500,000 lines of 4 floats and a string
- fixed pipeline:  FixedLengthRecordReader(3073).read_up_to(queue, 256) +
                   decode_raw over CIFAR-10-layout records
"""
import argparse
import os
import shutil
import struct
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from benchmarks._common import report, tensorflow_v1  # noqa: E402

BATCH = 256


def make_examples(n):
    import numpy as np
    from pipeline.protos import Example
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, 784, dtype=np.uint8).tobytes()
    weights = rng.random(10).astype(np.float32).tolist()
    out = []
    for i in range(n):
        ex = Example()
        f = ex.features.feature
        f["image"].bytes_list.value.append(image)
        f["label"].int64_list.value.append(i % 10)
        f["weights"].float_list.value.extend(weights)
        out.append(ex.SerializeToString())
    return out


def timed(fn):
    t0 = time.perf_counter()
    n = fn()
    return n / (time.perf_counter() - t0)


def features(tf):
    return {"image": tf.FixedLenFeature([], tf.string),
            "label": tf.FixedLenFeature([], tf.int64),
            "weights": tf.FixedLenFeature([10], tf.float32)}


def bench_io(tf, records, path):
    def write():
        w = tf.python_io.TFRecordWriter(path)
        for r in records:
            w.write(r)
        w.close()
        return len(records)

    def read():
        return sum(1 for _ in tf.python_io.tf_record_iterator(path))
    return timed(write), timed(read)


def framing_floor(path):
    import google_crc32c
    crc = google_crc32c.value
    unpack = struct.Struct("<QI").unpack

    def loop():
        n = 0
        with open(path, "rb", buffering=1 << 18) as f:
            read = f.read
            while True:
                h = read(12)
                if not h:
                    return n
                length, _ = unpack(h)
                body = read(length + 4)
                crc(h[:8])
                crc(body[:length])
                n += 1
    return timed(loop)


def bench_parse(tf, records):
    g = tf.Graph()
    with g.as_default():
        ph = tf.placeholder(tf.string, [None])
        out = tf.parse_example(ph, features(tf))
        with tf.Session() as sess:
            batches = [records[i:i + BATCH] for i in range(0, min(len(records), 50000), BATCH)]

            def run():
                for b in batches:
                    sess.run(out, {ph: b})
                return sum(len(b) for b in batches)
            run()
            return timed(run)


def bench_pipeline(tf, path, n_records, per_record=False, limit=None):
    if not hasattr(tf, "FIFOQueue"):
        return None
    g = tf.Graph()
    with g.as_default():
        q = tf.FIFOQueue(4, tf.string)
        enq = q.enqueue([path])
        close = q.close()
        reader = tf.TFRecordReader()
        if per_record:
            _, v = reader.read(q)
            f = tf.parse_single_example(v, features(tf))
        else:
            _, v = reader.read_up_to(q, BATCH)
            f = tf.parse_example(v, features(tf))
        img = tf.decode_raw(f["image"], tf.uint8)
        fetch = [img, f["label"], f["weights"]]
        with tf.Session() as sess:
            sess.run(enq)
            sess.run(close)

            def run():
                n = 0
                try:
                    while limit is None or n < limit:
                        r = sess.run(fetch)
                        n += 1 if per_record else len(r[1])
                except tf.errors.OutOfRangeError:
                    pass
                return n
            return timed(run)


def _reader_rate(tf, reader_fn, path, batch, decode):
    if not hasattr(tf, "FIFOQueue"):
        return None
    g = tf.Graph()
    with g.as_default():
        q = tf.FIFOQueue(4, tf.string)
        enq, close = q.enqueue([path]), q.close()
        _, v = reader_fn(tf).read_up_to(q, batch)
        out = decode(tf, v)
        with tf.Session() as sess:
            sess.run(enq)
            sess.run(close)

            def run():
                n = 0
                try:
                    while True:
                        n += len(sess.run(out)[0])
                except tf.errors.OutOfRangeError:
                    return n
            return timed(run)


def bench_csv(ours, tf, tmp, lines=500000):
    path = os.path.join(tmp, "data.csv")
    with open(path, "w") as f:
        for i in range(lines):
            f.write("%d.5,%d.25,-%d,1e-3,name%d\n" % (i, i % 97, i % 13, i))

    def decode(t, v):
        return t.decode_csv(v, [[0.0], [0.0], [0.0], [0.0], [""]])
    reader = (lambda t: t.TextLineReader())
    return (_reader_rate(ours, reader, path, 1024, decode),
            _reader_rate(tf, reader, path, 1024, decode) if tf else None)


def bench_fixed(ours, tf, tmp, records=50000):
    import numpy as np
    path = os.path.join(tmp, "cifar.bin")
    rng = np.random.default_rng(1)
    with open(path, "wb") as f:
        for _ in range(records // 1000):
            f.write(rng.integers(0, 256, 3073 * 1000, dtype=np.uint8).tobytes())

    def decode(t, v):
        return [t.decode_raw(v, t.uint8)]
    reader = (lambda t: t.FixedLengthRecordReader(3073))
    return (_reader_rate(ours, reader, path, 256, decode),
            _reader_rate(tf, reader, path, 256, decode) if tf else None)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=200000, help="records (default 200000)")
    ap.add_argument("--per-record", type=int, default=20000,
                    help="records for the one-run-per-record row (default 20000)")
    args = ap.parse_args()
    import flowcore.compat.v1 as ours
    tf = tensorflow_v1()
    print("building %d Examples (784-byte image, int64 label, 10 float weights)..." % args.n)
    records = make_examples(args.n)
    tmp = tempfile.mkdtemp()
    try:
        ours_path, tf_path = os.path.join(tmp, "ours.tfrecord"), os.path.join(tmp, "tf.tfrecord")
        w_ours, r_ours = bench_io(ours, records, ours_path)
        w_tf, r_tf = bench_io(tf, records, tf_path) if tf else (None, None)
        if tf:
            assert open(ours_path, "rb").read() == open(tf_path, "rb").read(), "bytes differ"
        unit = "rec/s"
        report("TFRecord write", unit, w_ours, w_tf)
        report("TFRecord read (tf_record_iterator)", unit, r_ours, r_tf)
        print("%-34s python    %12.0f %s" % ("framing floor (plain loop)", framing_floor(
            ours_path), unit))
        report("parse_example, batch %d" % BATCH, unit, bench_parse(ours, records),
               bench_parse(tf, records) if tf else None)
        p_ours = bench_pipeline(ours, ours_path, args.n)
        p_tf = bench_pipeline(tf, ours_path, args.n) if tf else None
        if p_ours is None:
            print("reader pipeline: tf.FIFOQueue not available in flowcore yet")
        else:
            report("reader+parse_example, read_up_to %d" % BATCH, unit, p_ours, p_tf)
            report("reader+parse_single, 1 run/record", unit,
                   bench_pipeline(ours, ours_path, args.n, True, args.per_record),
                   bench_pipeline(tf, ours_path, args.n, True, args.per_record) if tf
                   else None)
            report("TextLineReader+decode_csv, 1024", "lines/s", *bench_csv(ours, tf, tmp))
            report("FixedLength+decode_raw (CIFAR), 256", unit, *bench_fixed(ours, tf, tmp))
    finally:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
