"""flowcore.turns: runner threads take turns, give them up where they wait,
and never deadlock on them; flowcore.backend sizes BLAS for its caller."""
import os
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

import flowcore.compat.v1 as tf
from flowcore import backend, turns

pytestmark = pytest.mark.timeout(60)


def _run_threads(fns):
    ts = [threading.Thread(target=f) for f in fns]
    for t in ts:
        t.start()
    for t in ts:
        t.join(30)
    assert not any(t.is_alive() for t in ts)


def test_steps_in_turns_do_not_overlap(monkeypatch):
    """While a thread runs steps in its turn, another thread's steps wait,
    even when the running step releases the GIL (time.sleep does)."""
    monkeypatch.setattr(turns, "PATIENCE", 10.0)
    inside, overlaps, done = [0], [0], []
    lock = threading.Lock()

    def step():
        with lock:
            inside[0] += 1
            if inside[0] > 1:
                overlaps[0] += 1
        time.sleep(0.001)
        with lock:
            inside[0] -= 1

    def worker():
        run = turns.take_turns(step)
        for _ in range(20):
            run()
        turns.end_turns()
        done.append(1)

    _run_threads([worker, worker])
    assert done == [1, 1]
    assert overlaps[0] == 0


def test_give_up_lets_the_other_thread_run(monkeypatch):
    """A step that gives its turn up and then waits for the other thread's
    step completes: the other thread gets the turn."""
    monkeypatch.setattr(turns, "PATIENCE", 10.0)
    second_ran = threading.Event()
    order = []

    def first_step():
        order.append("first")
        turns.give_up()
        assert second_ran.wait(5)

    def second_step():
        order.append("second")
        second_ran.set()

    first = turns.take_turns(first_step)
    second = turns.take_turns(second_step)
    t1 = threading.Thread(target=lambda: (first(), turns.end_turns()))
    t1.start()
    while not order:
        time.sleep(0.001)
    t0 = time.monotonic()
    t2 = threading.Thread(target=lambda: (second(), turns.end_turns()))
    t2.start()
    t1.join(10)
    t2.join(10)
    assert order == ["first", "second"]
    assert time.monotonic() - t0 < 5


def test_patience_prevents_deadlock():
    """A step that waits for another thread without giving its turn up only
    delays that thread by PATIENCE: the other runs without a turn."""
    released = threading.Event()

    def holder_step():
        assert released.wait(10)       # no give_up: a wait turns does not know

    def other_step():
        released.set()

    holder = turns.take_turns(holder_step)
    other = turns.take_turns(other_step)
    t1 = threading.Thread(target=lambda: (holder(), turns.end_turns()))
    t1.start()
    time.sleep(0.05)
    t0 = time.monotonic()
    other()
    turns.end_turns()
    t1.join(10)
    assert released.is_set() and not t1.is_alive()
    assert time.monotonic() - t0 < 1.0


def test_end_turns_releases_the_turn(monkeypatch):
    monkeypatch.setattr(turns, "PATIENCE", 10.0)
    run = turns.take_turns(lambda: None)
    t = threading.Thread(target=lambda: (run(), turns.end_turns()))
    t.start()
    t.join(10)
    assert turns._lock.acquire(False), "the finished thread kept the turn"
    turns._lock.release()


def test_runner_threads_meeting_in_py_func_do_not_deadlock():
    """Two QueueRunner threads whose py_func waits for the other thread's
    py_func (a barrier) both get through: py_func gives the turn up."""
    barrier = threading.Barrier(2, timeout=20)

    def meet(x):
        barrier.wait()
        return x

    g = tf.Graph()
    with g.as_default():
        q = tf.FIFOQueue(10, [tf.int64], shapes=[[]])
        v = tf.py_func(meet, [tf.constant(7, tf.int64)], tf.int64)
        v.set_shape([])
        enq = q.enqueue([v])
        qr = tf.train.QueueRunner(q, [enq, enq])
        tf.train.add_queue_runner(qr)
        got = q.dequeue_many(4)
        with tf.Session() as sess:
            coord = tf.train.Coordinator()
            threads = tf.train.start_queue_runners(sess, coord)
            assert sess.run(got).tolist() == [7, 7, 7, 7]
            coord.request_stop()
            sess.run(q.close(cancel_pending_enqueues=True))
            barrier.abort()
            coord.join(threads, stop_grace_period_secs=10)


def test_two_runner_threads_deliver_every_record():
    """A per-record pipeline with two runner threads (taking turns) delivers
    each element exactly once."""
    g = tf.Graph()
    with g.as_default():
        x = tf.train.range_input_producer(500, num_epochs=1, shuffle=False).dequeue()
        row = tf.cast(tf.fill([600], x), tf.float32) * 2.0     # > 500 elements: numpy drops the GIL
        b, i = tf.train.batch([row, x], 50, num_threads=2, capacity=200,
                              allow_smaller_final_batch=True)
        with tf.Session() as sess:
            sess.run(tf.local_variables_initializer())
            coord = tf.train.Coordinator()
            threads = tf.train.start_queue_runners(sess, coord)
            seen = []
            try:
                while True:
                    bv, iv = sess.run([b, i])
                    np.testing.assert_array_equal(bv, 2.0 * iv[:, None].astype(np.float32)
                                                  * np.ones((1, 600), np.float32))
                    seen.extend(iv.tolist())
            except tf.errors.OutOfRangeError:
                pass
            coord.request_stop()
            coord.join(threads)
    assert sorted(seen) == list(range(500))


@pytest.mark.skipif(not backend._setters, reason="numpy without OpenBLAS: nothing to size")
def test_blas_uses_every_core_only_for_a_lone_thread(monkeypatch):
    monkeypatch.setattr(backend, "_auto", True)
    g = tf.Graph()
    with g.as_default():
        p = tf.placeholder(tf.float32, [64, 64])
        m = tf.matmul(p, tf.ones([64, 64]))
        x = np.ones((64, 64), np.float32)
        with tf.Session() as sess:
            np.testing.assert_allclose(sess.run(m, {p: x}), 64.0)
            alone = backend._blas_now
            stop = threading.Event()
            t = threading.Thread(target=stop.wait)
            t.start()
            try:
                sess.run(m, {p: x})
                assert backend._blas_now == 1
            finally:
                stop.set()
                t.join()
            sess.run(m, {p: x})
            assert backend._blas_now == alone == backend._all_cores


def test_blas_threads_setting_is_checked():
    env = dict(os.environ, FLOWCORE_BLAS_THREADS="many")
    r = subprocess.run([sys.executable, "-c", "import flowcore"], env=env,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode != 0
    assert "FLOWCORE_BLAS_THREADS must be 'auto' or a number" in r.stderr


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_does_not_inherit_a_held_turn(monkeypatch):
    """Fork while another thread holds the turn: the child (where that
    thread does not exist) takes turns at once instead of waiting out its
    patience at every step."""
    monkeypatch.setattr(turns, "PATIENCE", 5.0)
    holding, release = threading.Event(), threading.Event()

    def holder():
        turns.take_turns(holding.set)()
        release.wait(30)
        turns.end_turns()

    t = threading.Thread(target=holder)
    t.start()
    assert holding.wait(10)
    pid = os.fork()
    if pid == 0:            # the child: 3 steps must not wait 5 s each
        code = 1
        try:
            t0 = time.monotonic()
            run = turns.take_turns(lambda: None)
            for _ in range(3):
                run()
            turns.end_turns()
            code = 0 if time.monotonic() - t0 < 2.0 else 2
        finally:
            os._exit(code)
    release.set()
    t.join(10)
    _, status = os.waitpid(pid, 0)
    assert os.WEXITSTATUS(status) == 0
