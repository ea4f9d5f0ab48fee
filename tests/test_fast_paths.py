"""The executor's and the queues' fast paths (issue 8): step closures by
arity, resource ops run once per plan and session, FIFO chunk storage,
pending enqueues completed by the dequeuing thread, and the per-element
kernels (one-row gather, scalar one_hot, ReluGrad, softmax cross-entropy)."""
import numpy as np
import pytest

import flowcore.compat.v1 as tf
from flowcore import errors
from flowcore.ops.core import apply_op1
from tests._queue_helpers import bg, finish, queue_state, wait_for


# -- executor -----------------------------------------------------------------------------

def test_steps_of_every_arity_and_several_outputs():
    xs = [tf.placeholder(tf.float32, [2], name="x%d" % i) for i in range(6)]
    sums = [tf.add_n(xs[:n]) for n in range(1, 7)]          # AddN with 1..6 inputs
    parts = tf.split(tf.stack(xs[:4]), 2)                   # two outputs
    rng = tf.range(3)                                       # three inputs
    empty = tf.no_op()                                      # no input, no output
    feed = {x: np.full(2, i + 1, np.float32) for i, x in enumerate(xs)}
    with tf.Session() as sess:
        out = sess.run([sums, parts, rng, empty], feed)
    assert [list(s) for s in out[0]] == [[t, t] for t in (1, 3, 6, 10, 15, 21)]
    assert out[1][0].tolist() == [[1, 1], [2, 2]] and out[1][1].tolist() == [[3, 3], [4, 4]]
    assert out[2].tolist() == [0, 1, 2] and out[3] is None


def test_kernel_errors_name_their_op_after_many_steps():
    x = tf.placeholder(tf.float32, [None])
    y = tf.reshape(tf.exp(x) + 1.0, [2, 2], name="bad_reshape")
    with tf.Session() as sess:
        assert sess.run(y, {x: [0, 0, 0, 0]}).tolist() == [[2, 2], [2, 2]]
        with pytest.raises(errors.InvalidArgumentError) as e:
            sess.run(y, {x: [0, 0, 0]})
    assert e.value.op is y.op


def test_resource_ops_run_once_per_plan_and_session():
    v = tf.Variable([1.0, 2.0], name="v")
    q = tf.FIFOQueue(10, tf.float32, shapes=[2], name="q")
    enq = q.enqueue(v * 2.0)
    deq = q.dequeue()
    with tf.Session() as s1, tf.Session() as s2:
        for s in (s1, s2):
            s.run(v.initializer)
        with pytest.raises(errors.FailedPreconditionError):
            tf.Session().run(v.read_value())
        s1.run(tf.assign(v, [5.0, 6.0]))
        plan = s1._plan(enq, None)
        kinds = lambda: [st[1].type for st in plan.steps if st[0].__name__ != "_read_ref"]
        assert "VariableV2" in kinds() and "FIFOQueueV2" in kinds()
        s1.run(enq)
        assert kinds() == ["Mul", "QueueEnqueueV2"] and not plan.hoist
        s1.run(enq)
        s2.run(enq)                        # the other session has its own resources
        assert s1.run(deq).tolist() == [10, 12] and s1.run(q.size()) == 1
        assert s2.run(deq).tolist() == [2, 4] and s2.run(q.size()) == 0
        s1.run(tf.assign(v, [0.5, 0.5]))
        s1.run(enq)                        # the hoisted variable is read afresh each run
        assert s1.run(deq).tolist() == [10, 12] and s1.run(deq).tolist() == [1, 1]


def test_uninitialized_variable_read_fails_and_plan_recovers():
    v = tf.Variable(3.0, name="late")
    y = v * 2.0
    with tf.Session() as sess:
        with pytest.raises(errors.FailedPreconditionError, match="late"):
            sess.run(y)
        sess.run(v.initializer)
        assert sess.run(y) == 6.0
        assert sess.run([y, v]) == [6.0, 3.0]


def test_flat_and_nested_fetches_rebuild():
    a, b = tf.constant(1.0), tf.constant([2, 3])
    with tf.Session() as sess:
        flat = sess.run([a, b, a.op])
        assert isinstance(flat, list) and flat[0] == 1.0 and flat[1].tolist() == [2, 3]
        assert flat[2] is None
        assert sess.run([a, [b]])[1][0].tolist() == [2, 3]
        assert sess.run(("Const:0", b))[0] == 1.0


# -- FIFO storage ---------------------------------------------------------------------------

def _chunked_queue(capacity=100000):
    q = tf.FIFOQueue(capacity, [tf.int64, tf.float32], shapes=[[], [3]])
    i = tf.placeholder(tf.int64, [])
    f = tf.placeholder(tf.float32, [3])
    bi = tf.placeholder(tf.int64, [None])
    bf = tf.placeholder(tf.float32, [None, 3])
    return q, q.enqueue([i, f]), (i, f), q.enqueue_many([bi, bf]), (bi, bf)


def test_fifo_order_across_chunks_batches_and_partial_takes():
    q, enq, (i, f), enq_many, (bi, bf) = _chunked_queue()
    n = 0
    deq_many = q.dequeue_many(7)
    deq_one = q.dequeue()
    got = []
    with tf.Session() as sess:
        run_one = sess.make_callable(enq, [i, f])
        for rnd in range(3):
            for _ in range(600):           # more than a chunk: crosses chunk boundaries
                run_one(n, np.full(3, n, np.float32))
                n += 1
            ids = np.arange(n, n + 50)
            sess.run(enq_many, {bi: ids, bf: np.repeat(ids[:, None], 3, 1).astype(np.float32)})
            n += 50
            for _ in range(80):
                a, b = sess.run(deq_many)
                assert (b == a[:, None]).all()
                got.extend(a.tolist())
            a, b = sess.run(deq_one)
            assert b.tolist() == [a] * 3
            got.append(int(a))
        rest = n - len(got)
        a, b = sess.run(q.dequeue_many(rest))
        got.extend(a.tolist())
        assert (b == a[:, None]).all()
    assert got == list(range(n))


def test_fifo_values_are_private():
    q, enq, (i, f), _, _ = _chunked_queue()
    deq = q.dequeue()
    value = np.array([1, 2, 3], np.float32)
    with tf.Session() as sess:
        sess.run(enq, {i: 1, f: value})
        value[:] = 9                        # the queue copied the fed array
        first = sess.run(deq)
        sess.run(enq, {i: 2, f: [4, 5, 6]})
        assert first[1].tolist() == [1, 2, 3]
        first[1][:] = -1                    # nor does a fetched element alias the storage
        assert sess.run(deq)[1].tolist() == [4, 5, 6]


def test_fifo_strings_and_bad_shapes():
    q = tf.FIFOQueue(10, [tf.string, tf.int32], shapes=[[], [2]])
    s = tf.placeholder(tf.string, [])
    x = tf.placeholder(tf.int32, None)
    enq = q.enqueue([s, x])
    with tf.Session() as sess:
        sess.run(enq, {s: b"ab", x: [1, 2]})
        sess.run(enq, {s: "", x: np.array([3, 4], np.int32)})
        with pytest.raises(errors.InvalidArgumentError, match="Shape mismatch"):
            sess.run(enq, {s: b"c", x: [1, 2, 3]})
        strs, xs = sess.run(q.dequeue_many(2))
    assert strs.tolist() == [b"ab", b""] and xs.tolist() == [[1, 2], [3, 4]]


def test_timed_out_dequeue_many_gives_chunked_elements_back():
    q, enq, (i, f), _, _ = _chunked_queue()
    with tf.Session() as sess:
        for k in range(3):
            sess.run(enq, {i: k, f: [k, k, k]})
        with pytest.raises(errors.DeadlineExceededError):
            sess.run(q.dequeue_many(5), options=tf.RunOptions(timeout_in_ms=50))
        assert sess.run(q.size()) == 3
        sess.run(q.close())
        a, _ = sess.run(q.dequeue_up_to(5))
    assert a.tolist() == [0, 1, 2]


# -- pending enqueues completed by dequeuers ---------------------------------------------------

def test_dequeuer_completes_a_large_enqueue_many_without_waking_it_per_element():
    q = tf.FIFOQueue(3, tf.int32, shapes=[])
    deq = q.dequeue()
    with tf.Session() as sess:
        sess.run(q.size())
        state = queue_state(sess, q)
        t = bg(lambda: sess.run(q.enqueue_many([tf.range(10)])))
        wait_for(lambda: len(state.enq_line) == 1)
        w = state.enq_line[0]
        wakes = []
        notify = w.cond.notify
        w.cond.notify = lambda n=1: (wakes.append(n), notify(n))
        got = []
        for k in range(6):
            got.append(int(sess.run(deq)))
            assert state.size == 3 and state.enq_line[0] is w and t.is_alive()
        assert wakes == []
        got.append(int(sess.run(deq)))       # the last element goes in: woken once
        finish(t)
        assert wakes == [1] and t.error is None and w.done
        got.extend(int(sess.run(deq)) for _ in range(3))
        assert not state.enq_line and state.size == 0
    assert got == list(range(10))


def test_blocked_single_enqueues_are_completed_in_order():
    q = tf.FIFOQueue(1, tf.int32, shapes=[])
    x = tf.placeholder(tf.int32, [])
    enq, deq = q.enqueue(x), q.dequeue()
    with tf.Session() as sess:
        sess.run(enq, {x: 0})
        state = queue_state(sess, q)
        ts = []
        for k in (1, 2, 3):
            ts.append(bg(lambda k=k: sess.run(enq, {x: k})))
            wait_for(lambda k=k: len(state.enq_line) == k)
        got = [int(sess.run(deq)) for _ in range(4)]
        for t in ts:
            assert finish(t).error is None
    assert got == [0, 1, 2, 3]


def test_cancel_stops_a_partly_served_enqueue_many():
    q = tf.FIFOQueue(2, tf.int32, shapes=[])
    deq = q.dequeue()
    with tf.Session() as sess:
        sess.run(q.size())
        state = queue_state(sess, q)
        t = bg(lambda: sess.run(q.enqueue_many([tf.range(6)])))
        wait_for(lambda: len(state.enq_line) == 1)
        assert [int(sess.run(deq)) for _ in range(2)] == [0, 1]
        sess.run(q.close(cancel_pending_enqueues=True))
        assert isinstance(finish(t).error, errors.CancelledError)
        assert [int(sess.run(deq)) for _ in range(2)] == [2, 3]
        with pytest.raises(errors.OutOfRangeError):
            sess.run(deq)


def test_dequeue_many_takes_what_a_served_enqueue_added():
    q = tf.FIFOQueue(2, tf.int32, shapes=[])
    with tf.Session() as sess:
        sess.run(q.size())
        state = queue_state(sess, q)
        t = bg(lambda: sess.run(q.enqueue_many([tf.range(5)])))
        wait_for(lambda: len(state.enq_line) == 1)
        assert sess.run(q.dequeue_many(5)).tolist() == [0, 1, 2, 3, 4]
        finish(t)


# -- per-element kernels ---------------------------------------------------------------------

def test_one_row_gather_and_its_errors():
    params = tf.Variable(np.arange(12, dtype=np.float32).reshape(4, 3))
    i = tf.placeholder(tf.int32, [])
    ax = tf.placeholder(tf.int32, [])
    row = tf.gather(params, i)
    col = tf.gather(params, i, axis=ax)
    with tf.Session() as sess:
        sess.run(params.initializer)
        assert sess.run(row, {i: 2}).tolist() == [6, 7, 8]
        r = sess.run(row, {i: 0})
        r[:] = -1                           # a private copy of the variable's row
        assert sess.run(row, {i: 0}).tolist() == [0, 1, 2]
        assert sess.run(col, {i: 1, ax: 1}).tolist() == [1, 4, 7, 10]
        assert sess.run(col, {i: 3, ax: 0}).tolist() == [9, 10, 11]
        for bad in (4, -1):
            with pytest.raises(errors.InvalidArgumentError, match="not in"):
                sess.run(row, {i: bad})


@pytest.mark.parametrize("index,want", [(3, [-1, -1, -1, 2, -1]), (-1, [-1] * 5),
                                        (5, [-1] * 5), (0, [2, -1, -1, -1, -1])])
def test_scalar_one_hot(index, want):
    i = tf.placeholder(tf.int64, [])
    with tf.Session() as sess:
        out = sess.run(tf.one_hot(i, 5, 2.0, -1.0), {i: index})
        assert out.dtype == np.float32 and out.tolist() == want
        out = sess.run(tf.one_hot(i, 5, dtype=tf.int32), {i: index})
        assert out.dtype == np.int32 and out.tolist() == [int(w == 2) for w in want]


def test_relu_grad_multiplies_like_tf():
    g = tf.constant([np.nan, np.nan, 1.0, np.inf, 2.0], tf.float32)
    x = tf.constant([-1.0, 2.0, 0.0, -3.0, 0.5])
    r = apply_op1("ReluGrad", [g, x], {"T": tf.float32}, "ReluGrad")
    with tf.Session() as sess:
        out = sess.run(r)
    # TF 2.21: [nan, nan, 0, nan, 2] (gradients * (features > 0))
    assert np.isnan(out[[0, 1, 3]]).all() and out[2] == 0 and out[4] == 2


def test_softmax_cross_entropy_values():
    logits = np.array([[1.0, 2.0, 3.0], [1000.0, -1000.0, 0.0]], np.float32)
    labels = np.array([[0.0, 1.0, 0.0], [0.5, 0.5, 0.0]], np.float32)
    loss = tf.nn.softmax_cross_entropy_with_logits_v2(labels=labels, logits=logits)
    with tf.Session() as sess:
        l, bp = sess.run([loss, loss.op.outputs[1]])
    # TF 2.21: loss [1.4076059, 1000], backprop [[0.0900306, -0.7552716, 0.6652409],
    # [0.5, -0.5, 0]]
    np.testing.assert_allclose(l, [1.4076059, 1000.0], rtol=1e-6)
    np.testing.assert_allclose(bp, [[0.09003057, -0.75527155, 0.66524094], [0.5, -0.5, 0]],
                               rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("n,c", [(50, 10), (3, 7), (40, 200)])
def test_softmax_cross_entropy_matches_numpy(n, c):
    rng = np.random.default_rng(n * c)
    logits = rng.normal(0, 3, (n, c))
    labels = rng.dirichlet(np.ones(c), n)
    loss = tf.nn.softmax_cross_entropy_with_logits_v2(labels=labels, logits=logits)
    with tf.Session() as sess:
        l, bp = sess.run([loss, loss.op.outputs[1]])
    s = logits - logits.max(axis=1, keepdims=True)
    log_p = s - np.log(np.exp(s).sum(axis=1, keepdims=True))
    np.testing.assert_allclose(l, -(labels * log_p).sum(axis=1), rtol=1e-12)
    np.testing.assert_allclose(bp, np.exp(log_p) - labels, rtol=1e-10, atol=1e-15)


def test_chunks_are_reused_only_when_nothing_refers_to_them():
    q = tf.FIFOQueue(64, tf.float32, shapes=[3])
    x = tf.placeholder(tf.float32, [3])
    enq = q.enqueue(x)
    deq, deq_many = q.dequeue(), q.dequeue_many(64)
    with tf.Session() as sess:
        run = sess.make_callable(enq, [x])
        kept = []
        for rnd in range(12):
            for k in range(64):
                run(np.full(3, rnd * 100 + k, np.float32))
            if rnd % 3 == 0:
                kept.append((rnd, sess.run(deq)))       # a view of one row
                kept.append((rnd, sess.run(q.dequeue_many(63))))
            else:
                batch = sess.run(deq_many)              # dropped: its chunk can be reused
                assert batch[:, 0].tolist() == [rnd * 100 + k for k in range(64)]
        state = queue_state(sess, q)
        assert state.chunk_rows == 64 and len(state.spares) <= 2
        for rnd, v in kept:                             # untouched by later enqueues
            if v.ndim == 1:
                assert v.tolist() == [rnd * 100] * 3
            else:
                assert v[:, 0].tolist() == [rnd * 100 + k for k in range(1, 64)]
