"""Write tf.train.Example records with TFRecordWriter, plain and GZIP, then
read them back with TFRecordReader + parse_single_example + shuffle_batch_join
(one reader per file format) and check every record came back once.

Run: python samples/tfrecord_roundtrip.py
"""
import os
import tempfile

import numpy as np

import flowcore.compat.v1 as tf


def example(i):
    return tf.train.Example(features=tf.train.Features(feature={
        "id": tf.train.Feature(int64_list=tf.train.Int64List(value=[i])),
        "name": tf.train.Feature(bytes_list=tf.train.BytesList(value=[b"record-%d" % i])),
        "point": tf.train.Feature(float_list=tf.train.FloatList(value=[i, i / 2.0, -i]))}))


def write(directory, n):
    """Half of the ids 0..n-1 to a plain file, the other half GZIP-compressed."""
    plain = os.path.join(directory, "plain.tfrecord")
    gz = os.path.join(directory, "compressed.tfrecord.gz")
    gzip = tf.python_io.TFRecordOptions(tf.python_io.TFRecordCompressionType.GZIP)
    with tf.python_io.TFRecordWriter(plain) as w_plain, \
            tf.python_io.TFRecordWriter(gz, options=gzip) as w_gz:
        for i in range(n):
            (w_plain if i % 2 == 0 else w_gz).write(example(i).SerializeToString())
    return plain, gz


def parsed(path, options):
    queue = tf.train.string_input_producer([path], num_epochs=1)
    _, serialized = tf.TFRecordReader(options=options).read(queue)
    f = tf.parse_single_example(serialized, {
        "id": tf.FixedLenFeature([], tf.int64),
        "name": tf.FixedLenFeature([], tf.string),
        "point": tf.FixedLenFeature([3], tf.float32)})
    return [f["id"], f["name"], f["point"]]


def main(n=500, batch_size=32):
    with tempfile.TemporaryDirectory() as directory:
        plain, gz = write(directory, n)
        print("wrote %s (%d bytes) and %s (%d bytes)" % (
            os.path.basename(plain), os.path.getsize(plain),
            os.path.basename(gz), os.path.getsize(gz)))
        first = next(tf.python_io.tf_record_iterator(plain))
        print("first record: %s" % tf.train.Example.FromString(first)
              .features.feature["name"].bytes_list.value[0].decode())
        tf.reset_default_graph()
        gzip = tf.python_io.TFRecordOptions(tf.python_io.TFRecordCompressionType.GZIP)
        ids, names, points = tf.train.shuffle_batch_join(
            [parsed(plain, None), parsed(gz, gzip)], batch_size=batch_size, capacity=200,
            min_after_dequeue=50, seed=1, allow_smaller_final_batch=True)
        got = []
        with tf.Session() as sess:
            sess.run(tf.local_variables_initializer())
            coord = tf.train.Coordinator()
            threads = tf.train.start_queue_runners(sess=sess, coord=coord)
            try:
                while not coord.should_stop():
                    i, nm, p = sess.run([ids, names, points])
                    assert all(nm[k] == b"record-%d" % i[k] for k in range(len(i)))
                    assert np.allclose(p[:, 1], i / 2.0)
                    got.extend(i.tolist())
            except tf.errors.OutOfRangeError:
                pass
            finally:
                coord.request_stop()
            coord.join(threads)
    ok = sorted(got) == list(range(n))
    print("read back %d records from both files, each exactly once: %s" % (len(got), ok))
    print("first ids in shuffled order: %s" % got[:10])
    return got


if __name__ == "__main__":
    main()
