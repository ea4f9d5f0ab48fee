"""py_func: results, dtype checks, error mapping, threads and queue runners."""
import threading

import numpy as np
import pytest

import flowcore.compat.v1 as tf


def test_values_and_static_shapes():
    x = tf.constant([1.0, 2.0])
    y = tf.py_func(lambda a: a * 2, [x], tf.float32, name="double")
    assert y.name == "double:0" and y.op.type == "PyFunc"
    assert y.shape.ndims is None and y.dtype == tf.float32
    pair = tf.py_func(lambda a: (a.astype(np.int64), a.sum()), [x], [tf.int64, tf.float32])
    assert isinstance(pair, list) and [t.dtype for t in pair] == [tf.int64, tf.float32]
    one = tf.py_func(lambda: np.float32(3), [], [tf.float32])
    assert isinstance(one, list) and len(one) == 1
    none = tf.py_func(lambda: None, [], [])
    assert isinstance(none, tf.Operation)
    stateless = tf.py_func(lambda: np.int32(1), [], tf.int32, stateful=False)
    assert stateless.op.type == "PyFuncStateless"
    with tf.Session() as sess:
        np.testing.assert_array_equal(sess.run(y), [2.0, 4.0])
        a, s = sess.run(pair)
        assert a.dtype == np.int64 and s == 3.0
        assert sess.run(one) == [3.0]
        assert sess.run(none) is None
        assert sess.run(stateless) == 1


def test_inputs_are_numpy_and_writable():
    seen = []

    def f(s, i):
        seen.append((s, i))
        i += 1                       # inputs are the function's own arrays
        return i

    out = tf.py_func(f, [tf.constant([b"a", b"bc"]), tf.constant([1, 2])], tf.int32)
    with tf.Session() as sess:
        np.testing.assert_array_equal(sess.run(out), [2, 3])
        np.testing.assert_array_equal(sess.run(out), [2, 3])
    s, _ = seen[0]
    assert list(s) == [b"a", b"bc"]


def test_string_results_become_bytes():
    a = tf.py_func(lambda: "abc", [], tf.string)
    b = tf.py_func(lambda: np.array(["x", "yz"]), [], tf.string)
    with tf.Session() as sess:
        assert sess.run(a) == b"abc"
        vb = sess.run(b)
    assert vb.dtype == object and list(vb) == [b"x", b"yz"]


def test_python_numbers_convert_numpy_dtypes_must_match():
    ok = tf.py_func(lambda: 1.5, [], tf.float32)
    ok_int = tf.py_func(lambda: [[1, 2]], [], tf.int32)
    bad = tf.py_func(lambda: np.ones(2), [], tf.float32, name="bad")
    lossy = tf.py_func(lambda: 1.5, [], tf.int32)
    count = tf.py_func(lambda: (np.float32(1), np.float32(2)), [], [tf.float32])
    with tf.Session() as sess:
        v = sess.run(ok)
        assert v == 1.5 and v.dtype == np.float32
        assert sess.run(ok_int).dtype == np.int32
        with pytest.raises(tf.errors.InvalidArgumentError,
                           match="0-th value returned by pyfunc_[0-9]+ .* is double, but "
                                 "expects float") as e:
            sess.run(bad)
        assert e.value.op.name == "bad"
        with pytest.raises(tf.errors.InvalidArgumentError, match="expects int32"):
            sess.run(lossy)
        with pytest.raises(tf.errors.InvalidArgumentError,
                           match="returns 2 values, but expects to see 1 values"):
            sess.run(count)


@pytest.mark.parametrize("exc, cls", [
    (ZeroDivisionError("boom"), tf.errors.UnknownError),
    (RuntimeError("boom"), tf.errors.UnknownError),
    (ValueError("boom"), tf.errors.InvalidArgumentError),
    (TypeError("boom"), tf.errors.InvalidArgumentError),
    (StopIteration(), tf.errors.OutOfRangeError),
    (NotImplementedError("boom"), tf.errors.UnimplementedError),
    (tf.errors.OutOfRangeError(None, None, "done"), tf.errors.OutOfRangeError),
    (tf.errors.NotFoundError(None, None, "gone"), tf.errors.NotFoundError),
])
def test_exception_mapping(exc, cls):
    def f():
        raise exc
    t = tf.py_func(f, [], tf.float32, name="failing")
    with tf.Session() as sess:
        with pytest.raises(cls) as e:
            sess.run(t)
    assert type(e.value) is cls
    assert e.value.__cause__ is exc
    assert e.value.op is t.op
    assert "failing" in str(e.value) and type(exc).__name__ in str(e.value)


def test_runs_in_calling_thread_concurrently():
    names = []
    lock = threading.Lock()

    def f(x):
        with lock:
            names.append(threading.current_thread().name)
        return x + 1

    p = tf.placeholder(tf.int64, [])
    t = tf.py_func(f, [p], tf.int64)
    results = {}
    with tf.Session() as sess:
        def work(i):
            results[i] = [sess.run(t, {p: i * 100 + k}) for k in range(10)]
        threads = [threading.Thread(target=work, args=(i,), name="worker-%d" % i)
                   for i in range(4)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
    assert set(names) == {"worker-%d" % i for i in range(4)}
    for i in range(4):
        assert results[i] == [i * 100 + k + 1 for k in range(10)]


def test_generator_feeds_queue_until_out_of_range():
    batches = iter([np.array([i, i], np.int32) for i in range(5)])
    item = tf.py_func(lambda: next(batches), [], tf.int32)
    item.set_shape([2])
    q = tf.FIFOQueue(10, [tf.int32], shapes=[[2]])
    qr = tf.train.QueueRunner(q, [q.enqueue([item])])
    tf.train.add_queue_runner(qr)
    got = q.dequeue()
    out = []
    with tf.Session() as sess:
        coord = tf.train.Coordinator()
        threads = tf.train.start_queue_runners(sess, coord=coord)
        with pytest.raises(tf.errors.OutOfRangeError):
            while True:
                out.append(sess.run(got)[0])
        coord.request_stop()
        coord.join(threads)
    assert out == [0, 1, 2, 3, 4]


def test_numpy_function_alias():
    t = tf.numpy_function(lambda a: a[::-1].copy(), [tf.constant([1, 2, 3])], tf.int32)
    with tf.Session() as sess:
        np.testing.assert_array_equal(sess.run(t), [3, 2, 1])
    assert t.op.type == "PyFunc"


def test_not_differentiable():
    from flowcore import registry
    assert registry.gradient_function("PyFunc") is None
