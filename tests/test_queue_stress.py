"""Stress: producer threads (enqueue, enqueue_many) and consumer threads
(dequeue, dequeue_many, dequeue_up_to) on one queue, closed in the middle.
Every element enqueued successfully is dequeued exactly once, none is
invented, and every thread ends.

Size: FLOWCORE_STRESS (default 1) scales the element count; CI runs this
file repeatedly with the default."""
import os
import threading

import numpy as np
import pytest

import flowcore.compat.v1 as tf
from flowcore import errors
from _queue_helpers import finish

SCALE = max(1, int(os.environ.get("FLOWCORE_STRESS", "1")))
PER_PRODUCER = 500 * SCALE          # ids each producer may try to enqueue
BATCH = 7


def _make_queue(kind):
    if kind == "fifo":
        return tf.FIFOQueue(16, [tf.int64, tf.string], shapes=[[], []])
    return tf.RandomShuffleQueue(16, 4, [tf.int64, tf.string], shapes=[[], []], seed=3)


def _run(kind, cancel):
    q = _make_queue(kind)
    one_id, one_str = tf.placeholder(tf.int64, []), tf.placeholder(tf.string, [])
    many_ids, many_strs = tf.placeholder(tf.int64, [None]), tf.placeholder(tf.string, [None])
    enq_one = q.enqueue([one_id, one_str])
    enq_many = q.enqueue_many([many_ids, many_strs])
    deq_one, deq_many, deq_up_to = q.dequeue(), q.dequeue_many(5), q.dequeue_up_to(9)
    close = q.close(cancel_pending_enqueues=cancel)

    succeeded, attempted, consumed = [], [], []
    lock = threading.Lock()
    half = threading.Event()
    target = 2 * PER_PRODUCER       # close after this many were consumed (of 4 producers)
    sess = tf.Session()
    coord = tf.train.Coordinator()

    def producer(pid, batched):
        base = pid * PER_PRODUCER
        i = 0
        while i < PER_PRODUCER:
            if batched:
                ids = np.arange(base + i, base + min(i + BATCH, PER_PRODUCER), dtype=np.int64)
                feed = {many_ids: ids, many_strs: [b"%d" % x for x in ids]}
                op = enq_many
            else:
                ids = [base + i]
                feed, op = {one_id: base + i, one_str: b"%d" % (base + i)}, enq_one
            with lock:
                attempted.extend(ids)
            try:
                sess.run(op, feed)
            except errors.CancelledError:
                return
            with lock:
                succeeded.extend(int(x) for x in ids)
            i += len(ids)

    def consumer(op):
        with coord.stop_on_exception():
            consume(op)

    def consume(op):
        while True:
            try:
                ids, strs = sess.run(op)
            except errors.OutOfRangeError:
                return
            ids, strs = np.atleast_1d(ids).tolist(), np.atleast_1d(strs).tolist()
            assert strs == [b"%d" % x for x in ids], "components were separated"
            with lock:
                consumed.extend(ids)
                if len(consumed) >= target:
                    half.set()

    producers = [threading.Thread(target=producer, args=(p, p % 2 == 1)) for p in range(4)]
    consumers = [threading.Thread(target=consumer, args=(op,))
                 for op in (deq_one, deq_many, deq_up_to, deq_one, deq_up_to)]
    for t in producers + consumers:
        t.daemon = True
        t.start()
    assert half.wait(30) or coord.should_stop(), "consumers did not make progress"
    sess.run(close)
    for t in producers + consumers:
        finish(t, 30)
    coord.raise_requested_exception()       # a consumer's failed check
    # dequeue_many consumers stop when fewer than 5 remain; take the rest
    while True:
        try:
            ids, strs = sess.run(deq_up_to)
        except errors.OutOfRangeError:
            break
        assert strs.tolist() == [b"%d" % x for x in ids]
        consumed.extend(ids.tolist())
    sess.close()

    assert len(consumed) == len(set(consumed)), "an element was dequeued twice"
    assert set(consumed) <= set(attempted), "an element was invented"
    assert set(succeeded) <= set(consumed), "an element was lost"
    if not cancel:
        # a plain close lets pending enqueues finish: each one fully succeeded or failed
        assert sorted(consumed) == sorted(succeeded)
    assert len(succeeded) >= target
    return consumed


@pytest.mark.parametrize("round", range(3))
@pytest.mark.parametrize("kind", ["fifo", "shuffle"])
@pytest.mark.parametrize("cancel", [False, True], ids=["close", "cancel"])
def test_producers_consumers_close_in_the_middle(kind, cancel, round):
    _run(kind, cancel)


def test_session_close_in_the_middle_ends_every_thread():
    q = tf.FIFOQueue(8, tf.int32, shapes=[])
    enq, deq = q.enqueue_many([np.arange(5, dtype=np.int32)]), q.dequeue_many(3)
    sess = tf.Session()
    started = threading.Barrier(7)
    ends = []

    def loop(op):
        started.wait()
        try:
            while True:
                sess.run(op)
        except (errors.CancelledError, RuntimeError) as e:
            ends.append(type(e))
    threads = [threading.Thread(target=loop, args=(op,), daemon=True)
               for op in [enq] * 3 + [deq] * 3]
    for t in threads:
        t.start()
    started.wait()
    sess.close()
    for t in threads:
        finish(t, 10)
    assert len(ends) == 6
