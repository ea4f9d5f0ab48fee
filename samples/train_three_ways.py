"""One softmax classifier trained three ways: placeholders with feed_dict,
preloaded variables sliced into batches, and a queue pipeline reading
TFRecord files.  Prints, for each, the test accuracy reached and steps/s.

Run: python samples/train_three_ways.py

The data is synthetic and learnable (four Gaussian clusters in 16
dimensions), made with a fixed seed; the TFRecord files of the third way are
written to a temporary directory and removed afterwards.
"""
import os
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import flowcore.compat.v1 as tf  # noqa: E402
from _progress import Progress  # noqa: E402

FEATURES, CLASSES = 16, 4
TRAIN, TEST = 4000, 1000
BATCH, EPOCHS, LEARNING_RATE = 100, 5, 0.5


def make_data(seed=0):
    """Four well-separated clusters; returns (train_x, train_y, test_x, test_y)."""
    rng = np.random.RandomState(seed)
    centers = rng.normal(0.0, 0.6, size=(CLASSES, FEATURES))
    y = rng.randint(0, CLASSES, size=TRAIN + TEST)
    x = (centers[y] + rng.normal(0.0, 1.0, size=(TRAIN + TEST, FEATURES))).astype(np.float32)
    y = y.astype(np.int32)
    return x[:TRAIN], y[:TRAIN], x[TRAIN:], y[TRAIN:]


def model(x):
    """Logits of a softmax regression; the variables live in scope `softmax`."""
    with tf.variable_scope("softmax", reuse=tf.AUTO_REUSE):
        w = tf.get_variable("weights", [FEATURES, CLASSES], initializer=tf.zeros_initializer())
        b = tf.get_variable("biases", [CLASSES], initializer=tf.zeros_initializer())
    return tf.matmul(x, w) + b


def training(x, y):
    """The loss and the train op for a batch of features `x` and labels `y`."""
    loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
        labels=y, logits=model(x)))
    step = tf.train.GradientDescentOptimizer(LEARNING_RATE).minimize(loss)
    return loss, step


def accuracy(test_x, test_y):
    """The fraction of the held-out set the current model classifies right."""
    predicted = tf.argmax(model(tf.constant(test_x)), axis=1, output_type=tf.int32)
    return tf.reduce_mean(tf.cast(tf.equal(predicted, test_y), tf.float32))


def run_until_done(sess, train_op, loss, progress, label):
    """Run `train_op` until the input pipeline's epochs run out; return steps."""
    coord = tf.train.Coordinator()
    threads = tf.train.start_queue_runners(sess=sess, coord=coord)
    steps = 0
    try:
        while not coord.should_stop():
            _, value = sess.run([train_op, loss])
            steps += 1
            progress.update("%s: step %d, loss %.3f" % (label, steps, value))
    except tf.errors.OutOfRangeError:
        pass                        # num_epochs reached: the normal end
    finally:
        coord.request_stop()
    coord.join(threads)
    return steps


def with_placeholders(data, progress):
    train_x, train_y, test_x, test_y = data
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, FEATURES], name="x")
        y = tf.placeholder(tf.int32, [None], name="y")
        loss, train_op = training(x, y)
        acc = accuracy(test_x, test_y)
        rng = np.random.RandomState(1)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            start, steps = time.perf_counter(), 0
            for _ in range(EPOCHS):
                order = rng.permutation(TRAIN)
                for i in range(0, TRAIN - BATCH + 1, BATCH):
                    idx = order[i:i + BATCH]
                    _, value = sess.run([train_op, loss], {x: train_x[idx], y: train_y[idx]})
                    steps += 1
                    progress.update("placeholders: step %d, loss %.3f" % (steps, value))
            elapsed = time.perf_counter() - start
            return sess.run(acc), steps, steps / elapsed


def with_preloaded_variables(data, progress):
    train_x, train_y, test_x, test_y = data
    with tf.Graph().as_default():
        x_init = tf.placeholder(tf.float32, train_x.shape)
        y_init = tf.placeholder(tf.int32, train_y.shape)
        # collections=[]: the dataset stays out of savers and trainable variables
        x_all = tf.Variable(x_init, trainable=False, collections=[], name="x_all")
        y_all = tf.Variable(y_init, trainable=False, collections=[], name="y_all")
        x1, y1 = tf.train.slice_input_producer([x_all, y_all], num_epochs=EPOCHS, seed=2)
        x, y = tf.train.batch([x1, y1], batch_size=BATCH)
        loss, train_op = training(x, y)
        acc = accuracy(test_x, test_y)
        with tf.Session() as sess:
            sess.run([tf.global_variables_initializer(), tf.local_variables_initializer()])
            sess.run([x_all.initializer, y_all.initializer], {x_init: train_x, y_init: train_y})
            start = time.perf_counter()
            steps = run_until_done(sess, train_op, loss, progress, "preloaded")
            elapsed = time.perf_counter() - start
            return sess.run(acc), steps, steps / elapsed


def write_tfrecords(directory, x, y, shards=4):
    """`shards` TFRecord files of Examples with features `x` (floats) and `y`."""
    paths = []
    for s in range(shards):
        path = os.path.join(directory, "train-%d-of-%d.tfrecord" % (s, shards))
        with tf.python_io.TFRecordWriter(path) as writer:
            for i in range(s, len(x), shards):
                example = tf.train.Example(features=tf.train.Features(feature={
                    "x": tf.train.Feature(float_list=tf.train.FloatList(value=x[i])),
                    "y": tf.train.Feature(int64_list=tf.train.Int64List(value=[y[i]]))}))
                writer.write(example.SerializeToString())
        paths.append(path)
    return paths


def with_queues(data, progress, directory):
    train_x, train_y, test_x, test_y = data
    files = write_tfrecords(directory, train_x, train_y)
    with tf.Graph().as_default():
        filename_queue = tf.train.string_input_producer(files, num_epochs=EPOCHS, seed=3)
        _, serialized = tf.TFRecordReader().read(filename_queue)
        example = tf.parse_single_example(serialized, {
            "x": tf.FixedLenFeature([FEATURES], tf.float32),
            "y": tf.FixedLenFeature([], tf.int64)})
        x, y = tf.train.shuffle_batch([example["x"], tf.cast(example["y"], tf.int32)],
                                      batch_size=BATCH, capacity=2000, min_after_dequeue=1000,
                                      num_threads=2, seed=4)
        loss, train_op = training(x, y)
        acc = accuracy(test_x, test_y)
        with tf.Session() as sess:
            sess.run([tf.global_variables_initializer(), tf.local_variables_initializer()])
            start = time.perf_counter()
            steps = run_until_done(sess, train_op, loss, progress, "queues")
            elapsed = time.perf_counter() - start
            return sess.run(acc), steps, steps / elapsed


def main():
    data = make_data()
    progress = Progress()
    results = []
    with tempfile.TemporaryDirectory() as directory:
        for label, fn in [("placeholders", with_placeholders),
                          ("preloaded", with_preloaded_variables),
                          ("queues", with_queues)]:
            args = (data, progress, directory) if fn is with_queues else (data, progress)
            acc, steps, rate = fn(*args)
            progress.done()
            print("%-12s accuracy %.3f after %d steps (%.0f steps/s)" % (label, acc, steps, rate))
            results.append((label, float(acc), steps, rate))
    return results


if __name__ == "__main__":
    main()
