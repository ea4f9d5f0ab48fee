"""`processes=`: readers and decoders in worker processes behind the same
queue interfaces; every record once per epoch, clean shutdown."""
import multiprocessing

import numpy as np
import pytest

import flowcore.compat.v1 as tf

pytestmark = pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(),
                                reason="worker processes need fork (POSIX)")


def _write(tmp_path, files=4, per_file=50):
    paths = []
    for f in range(files):
        path = str(tmp_path / ("part-%d.tfrecord" % f))
        with tf.python_io.TFRecordWriter(path) as w:
            for i in range(per_file):
                k = f * per_file + i
                ex = tf.train.Example(features=tf.train.Features(feature={
                    "id": tf.train.Feature(int64_list=tf.train.Int64List(value=[k])),
                    "x": tf.train.Feature(float_list=tf.train.FloatList(value=[k, -k]))}))
                w.write(ex.SerializeToString())
        paths.append(path)
    return paths


def _pipeline(paths, processes, num_epochs=2, shuffle=False):
    fq = tf.train.string_input_producer(paths, num_epochs=num_epochs, shuffle=False)
    _, ser = tf.TFRecordReader().read(fq)
    f = tf.parse_single_example(ser, {"id": tf.FixedLenFeature([], tf.int64),
                                      "x": tf.FixedLenFeature([2], tf.float32)})
    if shuffle:
        return tf.train.shuffle_batch([f["id"], f["x"]], batch_size=16, capacity=200,
                                      min_after_dequeue=50, allow_smaller_final_batch=True,
                                      processes=processes)
    return tf.train.batch([f["id"], f["x"]], batch_size=16, allow_smaller_final_batch=True,
                          processes=processes)


def _drain(batch):
    ids, xs = [], []
    with tf.Session() as sess:
        sess.run(tf.local_variables_initializer())
        coord = tf.train.Coordinator()
        threads = tf.train.start_queue_runners(sess=sess, coord=coord)
        try:
            while True:
                i, x = sess.run(batch)
                ids.extend(i.tolist())
                xs.append(x)
        except tf.errors.OutOfRangeError:
            pass
        finally:
            coord.request_stop()
        coord.join(threads)
    return ids, np.concatenate(xs)


@pytest.mark.parametrize("processes", [1, 2])
def test_every_record_once_per_epoch_like_threads(tmp_path, processes):
    paths = _write(tmp_path)
    ids, xs = _drain(_pipeline(paths, processes))
    tf.reset_default_graph()
    thread_ids, _ = _drain(_pipeline(paths, None))
    assert sorted(ids) == sorted(thread_ids) == sorted(list(range(200)) * 2)
    order = np.argsort(ids, kind="stable")
    assert (xs[order][:, 0] == np.sort(ids)).all() and (xs[:, 1] == -xs[:, 0]).all()


def test_shuffle_batch_with_processes(tmp_path):
    ids, _ = _drain(_pipeline(_write(tmp_path), 2, num_epochs=1, shuffle=True))
    assert sorted(ids) == list(range(200)) and ids != list(range(200))


def test_stop_midway_shuts_workers_down(tmp_path):
    batch = _pipeline(_write(tmp_path), 2, num_epochs=None)
    with tf.Session() as sess:
        sess.run(tf.local_variables_initializer())
        coord = tf.train.Coordinator()
        threads = tf.train.start_queue_runners(sess=sess, coord=coord)
        for _ in range(5):
            sess.run(batch)
        coord.request_stop()
        coord.join(threads, stop_grace_period_secs=10)
    assert not multiprocessing.active_children()


def test_worker_errors_reach_the_coordinator(tmp_path):
    bad = str(tmp_path / "bad.tfrecord")
    with open(bad, "wb") as f:
        f.write(b"\x00" * 30)                      # not a TFRecord file
    batch = _pipeline([bad], 2, num_epochs=1)
    with tf.Session() as sess:
        sess.run(tf.local_variables_initializer())
        coord = tf.train.Coordinator()
        threads = tf.train.start_queue_runners(sess=sess, coord=coord)
        with pytest.raises(tf.errors.OpError) as e:
            try:
                while True:
                    sess.run(batch)
            except tf.errors.OutOfRangeError:
                pass
            coord.join(threads, stop_grace_period_secs=10)
    assert "bad.tfrecord" in str(e.value)


def test_processes_rejects_joins_and_sparse():
    with pytest.raises(ValueError):
        tf.train.batch([tf.constant(1)], batch_size=2, processes=2)   # no readers
