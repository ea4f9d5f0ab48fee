"""Fixed-length binary records in CIFAR-10's layout: each record is one label
byte followed by a 32x32x3 image stored channel-major (3072 bytes).  The
sample writes such a file, then reads it with FixedLengthRecordReader +
decode_raw, slices out label and image, converts the image to [32, 32, 3]
float32 and feeds shuffle_batch.

Run: python samples/binary_records.py
"""
import os
import tempfile

import numpy as np

import flowcore.compat.v1 as tf

LABEL_BYTES, HEIGHT, WIDTH, DEPTH = 1, 32, 32, 3
IMAGE_BYTES = HEIGHT * WIDTH * DEPTH
RECORD_BYTES = LABEL_BYTES + IMAGE_BYTES


def write_records(path, n, seed=0):
    """`n` records whose image pixels all equal 10 * label + channel, so a
    decoded image can be checked against its label."""
    rng = np.random.RandomState(seed)
    labels = rng.randint(0, 10, size=n).astype(np.uint8)
    images = (10 * labels[:, None, None] + np.arange(DEPTH, dtype=np.uint8)[None, :, None])
    images = np.broadcast_to(images, (n, DEPTH, HEIGHT * WIDTH)).astype(np.uint8)
    records = np.concatenate([labels[:, None], images.reshape(n, IMAGE_BYTES)], axis=1)
    records.tofile(path)
    return labels


def main(n=1000, batch_size=64, num_epochs=2):
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "data_batch_1.bin")
        labels = write_records(path, n)
        tf.reset_default_graph()
        filename_queue = tf.train.string_input_producer([path], num_epochs=num_epochs)
        reader = tf.FixedLengthRecordReader(record_bytes=RECORD_BYTES)
        _, value = reader.read(filename_queue)
        record = tf.decode_raw(value, tf.uint8)
        label = tf.cast(tf.strided_slice(record, [0], [LABEL_BYTES]), tf.int32)
        depth_major = tf.reshape(tf.strided_slice(record, [LABEL_BYTES], [RECORD_BYTES]),
                                 [DEPTH, HEIGHT, WIDTH])
        image = tf.cast(tf.transpose(depth_major, [1, 2, 0]), tf.float32)
        label.set_shape([1])
        images, label_batch = tf.train.shuffle_batch(
            [image, tf.reshape(label, [])], batch_size=batch_size, capacity=500,
            min_after_dequeue=200, num_threads=2, seed=1, allow_smaller_final_batch=True)

        seen, consistent = 0, True
        with tf.Session() as sess:
            sess.run(tf.local_variables_initializer())
            coord = tf.train.Coordinator()
            threads = tf.train.start_queue_runners(sess=sess, coord=coord)
            try:
                while not coord.should_stop():
                    im, lb = sess.run([images, label_batch])
                    if seen == 0:
                        print("images %s %s, labels %s" % (im.shape, im.dtype, lb[:8].tolist()))
                    # every pixel of channel c is 10 * label + c
                    expect = 10.0 * lb[:, None, None, None] + np.arange(DEPTH)
                    consistent &= bool(np.all(im == expect))
                    seen += len(lb)
            except tf.errors.OutOfRangeError:
                pass
            finally:
                coord.request_stop()
            coord.join(threads)
    print("read %d records (%d epochs of %d), images match labels: %s"
          % (seen, num_epochs, n, consistent))
    return seen, consistent, labels


if __name__ == "__main__":
    main()
