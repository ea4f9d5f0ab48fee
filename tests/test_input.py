"""Input producers and batching: epochs, shuffling, seeds, final batches,
padding, dicts, sparse tensors, joins, keep_input, runners and summaries."""
import os

import numpy as np
import pytest

import flowcore.compat.v1 as tf


def _run_pipeline(fetch, limit=10000, init_locals=True):
    """Start the queue runners, run `fetch` until OutOfRangeError, stop and
    join; return the list of fetched values."""
    out = []
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        if init_locals:
            sess.run(tf.local_variables_initializer())
        coord = tf.train.Coordinator()
        threads = tf.train.start_queue_runners(sess=sess, coord=coord)
        try:
            for _ in range(limit):
                out.append(sess.run(fetch))
            raise AssertionError("the pipeline did not end")
        except tf.errors.OutOfRangeError:
            pass
        finally:
            coord.request_stop()
        coord.join(threads)
    return out


def _flat(values):
    return [v for batch in values for v in np.asarray(batch).reshape(-1).tolist()]


# -- producers -------------------------------------------------------------------------

def test_string_input_producer_epochs_in_order():
    q = tf.train.string_input_producer(["a", "b", "c"], num_epochs=2, shuffle=False)
    assert q.dtypes == [tf.string]
    got = _run_pipeline(q.dequeue())
    assert got == [b"a", b"b", b"c", b"a", b"b", b"c"]


def test_string_input_producer_shuffles_each_epoch_reproducibly():
    names = ["f%02d" % i for i in range(20)]

    def orders():
        tf.reset_default_graph()
        q = tf.train.string_input_producer(names, num_epochs=3, shuffle=True, seed=7)
        got = [x.decode() for x in _run_pipeline(q.dequeue())]
        return [got[i:i + 20] for i in range(0, 60, 20)]

    first, second = orders(), orders()
    assert first == second                                  # seeded: same in a new graph
    for epoch in first:
        assert sorted(epoch) == names                        # each epoch a permutation
    assert first[0] != names and first[0] != first[1]       # and actually shuffled


def test_producer_without_local_variables_initializer_says_so():
    q = tf.train.string_input_producer(["a"], num_epochs=1)
    q.dequeue()
    with tf.Session() as sess:
        coord = tf.train.Coordinator()
        threads = tf.train.start_queue_runners(sess=sess, coord=coord)
        with pytest.raises(tf.errors.FailedPreconditionError) as e:
            coord.join(threads)
    assert "local_variables_initializer" in str(e.value)


def test_empty_filename_list_fails_at_graph_build_time():
    with pytest.raises(ValueError):
        tf.train.string_input_producer([])
    with pytest.raises(ValueError):
        tf.train.string_input_producer(tf.constant([], dtype=tf.string))


def test_producer_registers_runner_and_fullness_summary():
    tf.train.string_input_producer(["a", "b"], capacity=16)
    runners = tf.get_collection(tf.GraphKeys.QUEUE_RUNNERS)
    assert len(runners) == 1 and runners[0].queue.name == "input_producer"
    names = [s.op.name for s in tf.get_collection(tf.GraphKeys.SUMMARIES)]
    assert names == ["input_producer/fraction_of_16_full"]


def test_range_input_producer():
    q = tf.train.range_input_producer(5, num_epochs=2, shuffle=False)
    assert _run_pipeline(q.dequeue()) == [0, 1, 2, 3, 4] * 2


def test_slice_input_producer_keeps_rows_together():
    x = np.arange(10, dtype=np.float32) * 10
    y = np.arange(10, dtype=np.int32)
    xs, ys = tf.train.slice_input_producer([tf.constant(x), tf.constant(y)], num_epochs=2,
                                           shuffle=True, seed=3)
    assert xs.shape.as_list() == [] and ys.shape.as_list() == []
    got = _run_pipeline([xs, ys])
    assert all(a == 10 * b for a, b in got)
    labels = [int(b) for _, b in got]
    assert sorted(labels[:10]) == list(range(10)) and sorted(labels[10:]) == list(range(10))
    assert labels[:10] != list(range(10))


def test_slice_input_producer_unshuffled_order():
    xs, = tf.train.slice_input_producer([tf.constant([[1, 2], [3, 4], [5, 6]])],
                                        num_epochs=1, shuffle=False)
    assert xs.shape.as_list() == [2]
    assert [v.tolist() for v in _run_pipeline(xs)] == [[1, 2], [3, 4], [5, 6]]


def test_limit_epochs():
    t = tf.train.limit_epochs(tf.constant(4), num_epochs=3)
    with tf.Session() as sess:
        sess.run(tf.local_variables_initializer())
        assert [sess.run(t) for _ in range(3)] == [4, 4, 4]
        with pytest.raises(tf.errors.OutOfRangeError):
            sess.run(t)
    assert tf.train.limit_epochs(t) is t


def test_match_filenames_once(tmp_path):
    for name in ["b.csv", "a.csv", "c.txt"]:
        (tmp_path / name).write_text("x\n")
    files = tf.train.match_filenames_once(str(tmp_path / "*.csv"))
    assert files in tf.local_variables() and files not in tf.global_variables()
    with tf.Session() as sess:
        sess.run(tf.local_variables_initializer())
        got = sorted(os.path.basename(f.decode()) for f in sess.run(files))
    assert got == ["a.csv", "b.csv"]


# -- batching --------------------------------------------------------------------------

def _counter(n):
    """A scalar int64 that yields 0, 1, ..., n-1 then raises OutOfRangeError."""
    q = tf.train.range_input_producer(n, num_epochs=1, shuffle=False)
    return q.dequeue()


def test_batch_static_shapes_and_order():
    x = _counter(10)
    b = tf.train.batch([x, tf.stack([x, 2 * x])], batch_size=3)
    assert b[0].shape.as_list() == [3] and b[1].shape.as_list() == [3, 2]
    got = _run_pipeline(b)
    assert [v[0].tolist() for v in got] == [[0, 1, 2], [3, 4, 5], [6, 7, 8]]   # 9 lost
    assert all((v[1][:, 1] == 2 * v[0]).all() for v in got)


def test_batch_allow_smaller_final_batch():
    b = tf.train.batch([_counter(10)], batch_size=4, allow_smaller_final_batch=True)
    assert b.shape.as_list() == [None]          # a single tensor comes back unwrapped
    got = _run_pipeline(b)
    assert [v.tolist() for v in got] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]


def test_batch_size_as_tensor():
    size = tf.placeholder_with_default(tf.constant(5), [])
    b = tf.train.batch([_counter(10)], batch_size=size)
    assert b.shape.as_list() == [None]
    assert [v.tolist() for v in _run_pipeline(b)] == [[0, 1, 2, 3, 4], [5, 6, 7, 8, 9]]


def test_batch_dict_in_dict_out():
    x = _counter(6)
    b = tf.train.batch({"x": x, "sq": x * x}, batch_size=3)
    assert sorted(b) == ["sq", "x"]
    got = _run_pipeline(b)
    assert [v["x"].tolist() for v in got] == [[0, 1, 2], [3, 4, 5]]
    assert [v["sq"].tolist() for v in got] == [[0, 1, 4], [9, 16, 25]]


def test_batch_enqueue_many():
    rows = tf.train.slice_input_producer([tf.constant(np.arange(12).reshape(6, 2))],
                                         num_epochs=1, shuffle=False)[0]
    pairs = tf.stack([rows, rows + 100])                     # [2, 2] per dequeue
    b = tf.train.batch([pairs], batch_size=4, enqueue_many=True)
    assert b.shape.as_list() == [4, 2]
    got = np.concatenate(_run_pipeline(b))
    assert got[:4].tolist() == [[0, 1], [100, 101], [2, 3], [102, 103]]
    assert len(got) == 12


def test_batch_dynamic_pad():
    n = _counter(5)
    v = tf.range(n)                                       # lengths 0..4
    b = tf.train.batch([v, n], batch_size=2, dynamic_pad=True,
                       allow_smaller_final_batch=True)
    assert b[0].shape.as_list() == [None, None]
    got = _run_pipeline(b)
    assert got[0][0].tolist() == [[0], [0]]
    assert got[1][0].tolist() == [[0, 1, 0], [0, 1, 2]]
    assert got[2][0].tolist() == [[0, 1, 2, 3]]


def test_batch_requires_known_shapes_without_dynamic_pad():
    v = tf.placeholder(tf.int32, [None])
    with pytest.raises(ValueError):
        tf.train.batch([v], batch_size=2)


def test_batch_registers_runner_per_queue_and_summary():
    tf.train.batch([tf.constant(1)], batch_size=2, num_threads=3, capacity=20)
    runners = tf.get_collection(tf.GraphKeys.QUEUE_RUNNERS)
    assert len(runners) == 1 and len(runners[0].enqueue_ops) == 3
    names = [s.op.name for s in tf.get_collection(tf.GraphKeys.SUMMARIES)]
    assert names == ["batch/fraction_of_20_full"]


def test_shuffle_batch_is_a_permutation():
    # (the order depends on how enqueue and dequeue threads interleave, so a
    # seed fixes the queue's random choices, not the batches; TF is the same)
    b = tf.train.shuffle_batch([_counter(50)], batch_size=8, capacity=30,
                               min_after_dequeue=10, seed=11, allow_smaller_final_batch=True)
    assert b.shape.as_list() == [None]
    got = _flat(_run_pipeline(b))
    assert sorted(got) == list(range(50))
    assert got != list(range(50))


def test_shuffle_batch_arguments_and_summary():
    b = tf.train.shuffle_batch([tf.constant([1.0, 2.0])], batch_size=4, capacity=15,
                               min_after_dequeue=5)
    assert b.shape.as_list() == [4, 2]
    names = [s.op.name for s in tf.get_collection(tf.GraphKeys.SUMMARIES)]
    assert names == ["shuffle_batch/fraction_over_5_of_10_full"]
    with pytest.raises(ValueError):
        tf.train.shuffle_batch([tf.constant(1)], batch_size=2, capacity=10,
                               min_after_dequeue=10)


def test_batch_join_reads_every_list():
    a = _counter(6)
    b = _counter(4) + 100
    out = tf.train.batch_join([[a], [b]], batch_size=2, allow_smaller_final_batch=True)
    got = _flat(_run_pipeline(out))
    assert sorted(got) == [0, 1, 2, 3, 4, 5, 100, 101, 102, 103]
    assert len(tf.get_collection(tf.GraphKeys.QUEUE_RUNNERS)[-1].enqueue_ops) == 2


def test_shuffle_batch_join_mixes_sources():
    a = _counter(20)
    b = _counter(20) + 100
    out = tf.train.shuffle_batch_join([[a], [b]], batch_size=5, capacity=30,
                                      min_after_dequeue=10, seed=5,
                                      allow_smaller_final_batch=True)
    got = _flat(_run_pipeline(out))
    assert sorted(got) == list(range(20)) + list(range(100, 120))
    second = [i for i, v in enumerate(got) if v >= 100]
    assert second != list(range(second[0], second[0] + 20))   # the sources interleave


def test_maybe_batch_keeps_selected_examples():
    x = _counter(10)
    b = tf.train.maybe_batch([x], keep_input=tf.equal(x % 2, 0), batch_size=2,
                             allow_smaller_final_batch=True)
    assert _flat(_run_pipeline(b)) == [0, 2, 4, 6, 8]


def test_maybe_batch_vector_keep_input_with_enqueue_many():
    x = _counter(4)
    pair = tf.stack([x, x + 10])
    b = tf.train.maybe_batch([pair], keep_input=tf.constant([True, False]), batch_size=2,
                             enqueue_many=True, allow_smaller_final_batch=True)
    assert _flat(_run_pipeline(b)) == [0, 1, 2, 3]
    with pytest.raises(ValueError):
        tf.train.maybe_batch([x], keep_input=tf.constant([True]), batch_size=2)


def test_maybe_shuffle_batch():
    x = _counter(30)
    b = tf.train.maybe_shuffle_batch([x], batch_size=4, capacity=20, min_after_dequeue=5,
                                     keep_input=x < 12, seed=1,
                                     allow_smaller_final_batch=True)
    assert sorted(_flat(_run_pipeline(b))) == list(range(12))


def test_sparse_tensors_are_batched():
    n = _counter(4)
    # example i: a [3]-shaped sparse vector with value i at position i % 3
    sp = tf.SparseTensor(indices=tf.reshape(tf.cast(n % 3, tf.int64), [1, 1]),
                         values=tf.reshape(n, [1]), dense_shape=tf.constant([3], tf.int64))
    dense = tf.cast(n, tf.float32)
    b_sparse, b_dense = tf.train.batch([sp, dense], batch_size=2)
    assert isinstance(b_sparse, tf.SparseTensor)
    assert b_dense.shape.as_list() == [2]
    got = _run_pipeline([b_sparse, b_dense])
    first = got[0][0]
    assert first.indices.tolist() == [[0, 0], [1, 1]]
    assert first.values.tolist() == [0, 1]
    assert first.dense_shape.tolist() == [2, 3]
    assert got[1][0].indices.tolist() == [[0, 2], [1, 0]]
    assert got[1][0].values.tolist() == [2, 3]


def test_batch_rejects_mismatched_join_types():
    with pytest.raises(TypeError):
        tf.train.batch_join([[tf.constant(1)], [tf.constant(1.0)]], batch_size=2)
    with pytest.raises(ValueError):
        tf.train.batch([], batch_size=2)
