"""QueueRunner: threads per enqueue op, close by the last one out, errors to
the coordinator, cancel on stop, start_queue_runners, and the TF1 template."""
import logging
import threading

import numpy as np
import pytest

import flowcore.compat.v1 as tf
from flowcore import errors
from pipeline import queue_runner as qr_mod, queues as queues_mod
from _queue_helpers import bg, finish, queue_state, wait_for


def _source(values, name="source"):
    """A closed queue holding `values`: dequeuing it runs out (OutOfRangeError)."""
    src = tf.FIFOQueue(len(values) + 1, tf.int32, shapes=[], name=name)
    return src, [src.enqueue_many([np.asarray(values, np.int32)]), src.close()]


def _init(sess, ops):
    for op in ops:
        sess.run(op)


@pytest.fixture
def quiet_thread_errors(monkeypatch):
    """Threads that re-raise (no coordinator) would print tracebacks."""
    seen = []
    monkeypatch.setattr(threading, "excepthook", lambda args: seen.append(args.exc_value))
    return seen


def test_exports():
    assert tf.train.QueueRunner is qr_mod.QueueRunner
    assert tf.train.queue_runner.QueueRunner is qr_mod.QueueRunner
    assert tf.train.add_queue_runner is qr_mod.add_queue_runner
    assert tf.train.start_queue_runners is qr_mod.start_queue_runners


def test_properties_and_defaults():
    q = tf.FIFOQueue(10, tf.int32, shapes=[])
    enq = q.enqueue(1)
    qr = tf.train.QueueRunner(q, [enq])
    assert qr.name == "fifo_queue" and qr.queue is q and qr.enqueue_ops == [enq]
    assert qr.close_op.type == "QueueCloseV2" and not qr.close_op.get_attr(
        "cancel_pending_enqueues")
    assert qr.cancel_op.get_attr("cancel_pending_enqueues")
    assert qr.queue_closed_exception_types == (errors.OutOfRangeError,)
    assert qr.exceptions_raised == []
    with pytest.raises(ValueError, match="queue and enqueue_ops"):
        tf.train.QueueRunner(q, [])
    with pytest.raises(TypeError, match="queue_closed_exception_types"):
        tf.train.QueueRunner(q, [enq], queue_closed_exception_types=(ValueError,))
    with pytest.raises(TypeError, match="queue_closed_exception_types"):
        tf.train.QueueRunner(q, [enq], queue_closed_exception_types=[errors.OutOfRangeError])


def test_threads_fill_then_last_one_out_closes():
    src, init = _source(range(50))
    q = tf.FIFOQueue(5, tf.int32, shapes=[])
    enq = q.enqueue(src.dequeue() * 10)
    qr = tf.train.QueueRunner(q, [enq, enq, enq])
    with tf.Session() as sess:
        _init(sess, init)
        threads = qr.create_threads(sess, start=True)
        assert len(threads) == 3 and not any(t.daemon for t in threads)   # no coordinator
        got = []
        with pytest.raises(errors.OutOfRangeError):
            while True:
                got.append(int(sess.run(q.dequeue())))
        for t in threads:
            finish(t)
        assert sorted(got) == [10 * i for i in range(50)]
        assert sess.run(q.is_closed()) and qr.exceptions_raised == []


def test_queue_closes_only_when_every_thread_ran_out():
    a, init_a = _source([1, 2], name="a")
    b = tf.FIFOQueue(10, tf.int32, shapes=[], name="b")       # stays open for now
    q = tf.FIFOQueue(10, tf.int32, shapes=[])
    qr = tf.train.QueueRunner(q, [q.enqueue(a.dequeue()), q.enqueue(b.dequeue())])
    with tf.Session() as sess:
        _init(sess, init_a)
        ta, tb = qr.create_threads(sess, start=True)
        finish(ta)                                            # a ran out
        assert tb.is_alive() and not sess.run(q.is_closed())
        sess.run(b.enqueue_many([[3, 4]]))
        sess.run(b.close())
        finish(tb)
        assert sess.run(q.is_closed())
        assert sorted(sess.run(q.dequeue_up_to(10)).tolist()) == [1, 2, 3, 4]


def test_error_goes_to_coordinator_and_cancel_unblocks():
    gate = tf.FIFOQueue(10, tf.int32, name="gate")     # no shapes: may hold a vector
    q = tf.FIFOQueue(1, tf.int32, shapes=[], name="main")
    qr = tf.train.QueueRunner(q, [q.enqueue(gate.dequeue()), q.enqueue(7)])
    coord = tf.train.Coordinator()
    with tf.Session() as sess:
        threads = qr.create_threads(sess, coord=coord, start=True)
        assert len(threads) == 3 and threads[-1].name.endswith("close_on_stop")
        main = queue_state_when_ready(sess, q)
        wait_for(lambda: main.size == 1 and len(main.enq_line) == 1)   # 7s wait for room
        gate_state = queue_state_when_ready(sess, gate)
        wait_for(lambda: len(gate_state.deq_line) == 1)
        sess.run(gate.enqueue([[1, 2]]))            # a vector for a scalar queue: fails
        with pytest.raises(errors.InvalidArgumentError, match="main"):
            coord.join(threads, stop_grace_period_secs=5)
        assert coord.should_stop() and not any(t.is_alive() for t in threads)
        assert sess.run(q.is_closed())              # cancel_op ran: the blocked enqueue ended
        assert sess.run(q.dequeue_up_to(5)).tolist() == [7]


def test_error_without_coordinator_is_kept_and_raised(quiet_thread_errors):
    x = tf.placeholder(tf.int32, [])
    q = tf.FIFOQueue(10, tf.int32, shapes=[])
    qr = tf.train.QueueRunner(q, [q.enqueue(x)])
    with tf.Session() as sess:
        (t,) = qr.create_threads(sess, start=True)
        finish(t)
        assert len(qr.exceptions_raised) == 1
        assert isinstance(qr.exceptions_raised[0], errors.InvalidArgumentError)
        assert quiet_thread_errors == qr.exceptions_raised      # re-raised in the thread
        assert not sess.run(q.is_closed())                      # as TF: not closed


def test_stop_cancels_blocked_enqueues_and_join_is_clean():
    q = tf.FIFOQueue(2, tf.int32, shapes=[])
    qr = tf.train.QueueRunner(q, [q.enqueue(1), q.enqueue(2)])
    coord = tf.train.Coordinator()
    with tf.Session() as sess:
        threads = qr.create_threads(sess, coord=coord, daemon=True, start=True)
        assert all(t.daemon for t in threads)
        state = queue_state_when_ready(sess, q)
        wait_for(lambda: state.size == 2 and len(state.enq_line) == 2)
        coord.request_stop()
        coord.join(threads, stop_grace_period_secs=5)    # no error: the cancel is expected
        assert not any(t.is_alive() for t in threads)
        assert sess.run(q.is_closed()) and sess.run(q.size()) == 2


def queue_state_when_ready(sess, q):
    wait_for(lambda: q.queue_ref.op in sess._resources)
    return queue_state(sess, q)


def test_create_threads_twice_while_running_returns_nothing():
    src = tf.FIFOQueue(10, tf.int32, shapes=[])
    q = tf.FIFOQueue(10, tf.int32, shapes=[])
    qr = tf.train.QueueRunner(q, [q.enqueue(src.dequeue())])
    with tf.Session() as sess:
        threads = qr.create_threads(sess, start=True)
        assert qr.create_threads(sess) == []
        with tf.Session() as other:           # another session gets its own threads
            others = qr.create_threads(other, start=True)
            assert len(others) == 1
            other.run(src.close())
            finish(others[0])
        sess.run(src.close())
        finish(threads[0])
        again = qr.create_threads(sess)       # they ended: new threads are allowed
        assert len(again) == 1 and not again[0].is_alive()


def test_start_queue_runners():
    src, init = _source(range(10))
    q = tf.FIFOQueue(20, tf.int32, shapes=[])
    tf.train.add_queue_runner(tf.train.QueueRunner(q, [q.enqueue(src.dequeue())]))
    other = tf.FIFOQueue(2, tf.int32, shapes=[])
    tf.train.add_queue_runner(tf.train.QueueRunner(other, [other.enqueue(1)]), collection="mine")
    assert len(tf.get_collection(tf.GraphKeys.QUEUE_RUNNERS)) == 1
    with pytest.raises(ValueError, match="No default session"):
        tf.train.start_queue_runners()
    with pytest.raises(TypeError, match="tf.Session"):
        tf.train.start_queue_runners(sess=object())
    with tf.Session() as sess:
        _init(sess, init)
        coord = tf.train.Coordinator()
        threads = tf.train.start_queue_runners(coord=coord)     # the default session
        assert len(threads) == 2 and all(t.daemon for t in threads)
        assert sorted(sess.run(q.dequeue_many(10)).tolist()) == list(range(10))
        mine = tf.train.start_queue_runners(sess, coord=coord, collection="mine", start=False)
        assert len(mine) == 2 and not any(t.is_alive() for t in mine)
        coord.request_stop()
        coord.join(threads)


def test_out_of_range_carries_upstream_failure_as_cause():
    x = tf.placeholder(tf.int32, [])
    q = tf.FIFOQueue(10, tf.int32, shapes=[], name="fed")
    qr = tf.train.QueueRunner(q, [q.enqueue(x)])
    coord = tf.train.Coordinator()
    with tf.Session() as sess:
        threads = qr.create_threads(sess, coord=coord, start=True)
        with pytest.raises(errors.OutOfRangeError) as e:
            sess.run(q.dequeue())          # unblocked by the cancel after the failure
        assert "fed" in str(e.value) and "requested 1, current size 0" in str(e.value)
        assert isinstance(e.value.__cause__, errors.InvalidArgumentError)
        with pytest.raises(errors.InvalidArgumentError):
            coord.join(threads)


def test_blocked_warning_counts_live_runner_threads(caplog):
    src = tf.FIFOQueue(10, tf.int32, shapes=[], name="upstream")   # empty: runners block
    q = tf.FIFOQueue(10, tf.int32, shapes=[], name="downstream")
    qr = tf.train.QueueRunner(q, [q.enqueue(src.dequeue())] * 2)
    old = queues_mod.set_blocked_warning_seconds(0.02)
    try:
        with tf.Session() as sess, caplog.at_level(logging.WARNING, logger="flowcore.pipeline"):
            threads = qr.create_threads(sess, start=True)
            with pytest.raises(errors.DeadlineExceededError):
                sess.run(q.dequeue(), options=tf.RunOptions(timeout_in_ms=150))
            sess.run(src.close())
            for t in threads:
                finish(t)
    finally:
        queues_mod.set_blocked_warning_seconds(old)
    down = [r.getMessage() for r in caplog.records if "'downstream'" in r.getMessage()]
    assert len(down) == 1 and "2 QueueRunner threads alive" in down[0]
    assert "start_queue_runners" not in down[0]


def test_session_close_ends_runner_threads():
    q = tf.FIFOQueue(1, tf.int32, shapes=[])
    qr = tf.train.QueueRunner(q, [q.enqueue(1)] * 3)
    coord = tf.train.Coordinator()
    sess = tf.Session()
    threads = qr.create_threads(sess, coord=coord, daemon=True, start=True)
    state = queue_state_when_ready(sess, q)
    wait_for(lambda: len(state.enq_line) >= 1)
    sess.close()
    with pytest.raises((errors.CancelledError, RuntimeError)):
        coord.join(threads, stop_grace_period_secs=5)
    assert not any(t.is_alive() for t in threads)


def test_to_proto_from_proto_round_trip():
    q = tf.FIFOQueue(10, tf.int32, shapes=[])
    enq = q.enqueue(1)
    qr = tf.train.QueueRunner(q, [enq, enq],
                              queue_closed_exception_types=(errors.OutOfRangeError,
                                                            errors.CancelledError))
    d = qr.to_proto()
    assert d.queue_name == "fifo_queue" and list(d.enqueue_op_name) == [enq.name, enq.name]
    assert d.close_op_name == qr.close_op.name and d.cancel_op_name == qr.cancel_op.name
    assert list(d.queue_closed_exception_types) == [errors.OUT_OF_RANGE, errors.CANCELLED]
    d = type(d).FromString(d.SerializeToString())
    back = tf.train.QueueRunner.from_proto(d)
    assert back.name == "fifo_queue" and back.enqueue_ops == [enq, enq]
    assert back.close_op is qr.close_op and back.cancel_op is qr.cancel_op
    assert back.queue_closed_exception_types == qr.queue_closed_exception_types
    assert qr.to_proto(export_scope="elsewhere") is None
    with pytest.raises(ValueError, match="mutually exclusive"):
        tf.train.QueueRunner(q, [enq], queue_runner_def=d)


def test_queue_runners_survive_a_meta_graph_round_trip():
    src, init = _source(range(6), name="src")
    q = tf.FIFOQueue(10, tf.int32, shapes=[], name="q")
    tf.train.add_queue_runner(tf.train.QueueRunner(q, [q.enqueue(src.dequeue())]))
    q.dequeue_up_to(10, name="take")
    for op in init:
        tf.add_to_collection("init", op)
    meta = tf.train.export_meta_graph()
    with tf.Graph().as_default() as g:
        tf.train.import_meta_graph(meta)
        (qr,) = tf.get_collection(tf.GraphKeys.QUEUE_RUNNERS)
        assert isinstance(qr, tf.train.QueueRunner) and qr.name == "q"
        with tf.Session(graph=g) as sess:
            _init(sess, tf.get_collection("init"))
            threads = tf.train.start_queue_runners(sess)
            for t in threads:
                finish(t)
            assert sess.run("take:0").tolist() == list(range(6))


def test_canonical_tf1_template():
    """A QueueRunner with 4 enqueue threads feeding a RandomShuffleQueue, a
    loop on coord.should_stop(), request_stop on error, coord.join."""
    n = 400
    src, init = _source(range(n))
    value = src.dequeue()
    example = tf.cast(value, tf.float32) * 2.0 if hasattr(tf, "cast") else value
    q = tf.RandomShuffleQueue(capacity=64, min_after_dequeue=16,
                              dtypes=[tf.int32, example.dtype], shapes=[[], []], seed=42)
    enqueue_op = q.enqueue([value, example])
    qr = tf.train.QueueRunner(q, [enqueue_op] * 4)
    tf.train.add_queue_runner(qr)
    ids, vals = q.dequeue_up_to(32)
    seen = []
    with tf.Session() as sess:
        _init(sess, init)
        coord = tf.train.Coordinator()
        threads = tf.train.start_queue_runners(sess=sess, coord=coord)
        try:
            while not coord.should_stop():
                i, v = sess.run([ids, vals])
                assert np.all(np.asarray(v) == np.asarray(i) * (2 if v.dtype != i.dtype else 1))
                seen.extend(i.tolist())
        except errors.OutOfRangeError:
            pass
        except Exception as e:
            coord.request_stop(e)
        finally:
            coord.request_stop()
        coord.join(threads)
    assert sorted(seen) == list(range(n))
    assert seen != list(range(n))


def test_threads_of_two_runners_on_one_queue_in_a_py_thread():
    """Consumers in threads: everything arrives once, the threads stop."""
    src, init = _source(range(200))
    q = tf.FIFOQueue(8, tf.int32, shapes=[])
    qr = tf.train.QueueRunner(q, [q.enqueue(src.dequeue())] * 2)
    batch = q.dequeue_up_to(7)
    coord = tf.train.Coordinator()
    got, lock = [], threading.Lock()

    def consume():
        while not coord.should_stop():
            try:
                v = sess.run(batch)
            except errors.OutOfRangeError:
                coord.request_stop()
                return
            with lock:
                got.extend(v.tolist())
    with tf.Session() as sess:
        _init(sess, init)
        threads = qr.create_threads(sess, coord=coord, start=True)
        consumers = [bg(consume) for _ in range(3)]
        for c in consumers:
            finish(c)
        coord.join(threads + consumers)
    assert sorted(got) == list(range(200))
