"""Queues: names and static shapes as TF, values, blocking, close semantics,
timeouts, session close, shuffling, padding, names, sharing, from_list,
and the blocked-dequeue warning."""
import logging

import numpy as np
import pytest

import flowcore.compat.v1 as tf
from flowcore import dtypes, errors
from pipeline import queues as queues_mod
from _queue_helpers import bg, finish, queue_state, still_blocked, wait_for


def _run_error(sess, fetch, cls, **kw):
    with pytest.raises(cls) as e:
        sess.run(fetch, **kw)
    return str(e.value)


# -- graph construction ------------------------------------------------------------------

def test_op_names_types_and_static_shapes_as_tf():
    q = tf.FIFOQueue(3, [tf.float32, tf.int32], shapes=[[2], []])
    assert q.name == "fifo_queue" and q.queue_ref.name == "fifo_queue:0"
    assert q.queue_ref.op.type == "FIFOQueueV2" and q.queue_ref.dtype == dtypes.resource
    assert q.queue_ref.op.get_attr("capacity") == 3
    e = q.enqueue([[1., 2.], 3])
    assert (e.name, e.type) == ("fifo_queue_enqueue", "QueueEnqueueV2")
    assert q.enqueue_many([[[1., 2.]], [3]]).name == "fifo_queue_EnqueueMany"
    d = q.dequeue()
    assert [t.name for t in d] == ["fifo_queue_Dequeue:0", "fifo_queue_Dequeue:1"]
    assert [t.shape.as_list() for t in d] == [[2], []]
    dm = q.dequeue_many(4)
    assert dm[0].op.name == "fifo_queue_DequeueMany" and dm[0].op.type == "QueueDequeueManyV2"
    assert [t.shape.as_list() for t in dm] == [[4, 2], [4]]
    du = q.dequeue_up_to(4)
    assert du[0].op.name == "fifo_queue_DequeueUpTo"
    assert [t.shape.as_list() for t in du] == [[None, 2], [None]]
    n = tf.placeholder(tf.int32)
    assert q.dequeue_many(n)[0].shape.as_list() == [None, 2]
    assert q.size().name == "fifo_queue_Size:0" and q.size().dtype == tf.int32
    assert q.is_closed().name == "fifo_queue_Is_Closed:0" and q.is_closed().dtype == tf.bool
    c, cc = q.close(), q.close(cancel_pending_enqueues=True)
    assert (c.name, c.type) == ("fifo_queue_Close", "QueueCloseV2")
    assert c.get_attr("cancel_pending_enqueues") is False
    assert cc.get_attr("cancel_pending_enqueues") is True
    assert tf.FIFOQueue(3, tf.int32).name == "fifo_queue_1"
    r = tf.RandomShuffleQueue(10, 2, [tf.float32], shapes=[[]])
    assert (r.name, r.queue_ref.op.type) == ("random_shuffle_queue", "RandomShuffleQueueV2")
    assert r.dequeue_many(3).shape.as_list() == [3]
    p = tf.PaddingFIFOQueue(10, [tf.float32], shapes=[[None, 3]])
    assert (p.name, p.queue_ref.op.type) == ("padding_fifo_queue", "PaddingFIFOQueueV2")
    assert p.dequeue_many(3).shape.as_list() == [3, None, 3]
    assert p.dequeue_up_to(2).shape.as_list() == [None, None, 3]


def test_names_inside_a_name_scope():
    with tf.name_scope("input"):
        q = tf.FIFOQueue(3, tf.int32, shapes=[])
    assert q.name == "input/fifo_queue"
    assert q.dequeue().op.name == "fifo_queue_Dequeue"
    with tf.name_scope("s"):
        assert q.enqueue(1).name == "s/fifo_queue_enqueue"


def test_component_forms_and_unknown_shapes():
    u = tf.FIFOQueue(3, [tf.float32])
    assert u.shapes[0].ndims is None and u.names is None and u.dtypes == [tf.float32]
    d = u.dequeue()
    assert isinstance(d, tf.Tensor) and d.shape.ndims is None
    assert u.dequeue_many(3).shape.ndims is None
    assert tf.FIFOQueue(3, tf.float32, shapes=[2]).shapes[0].as_list() == [2]
    assert tf.FIFOQueue(3, tf.float32, shapes=[[2]]).dequeue().shape.as_list() == [2]
    assert tf.FIFOQueue(3, tf.float32, shapes=[]).dequeue().shape.as_list() == []
    assert tf.FIFOQueue(3, tf.float32, shapes=[2, 3]).shapes[0].as_list() == [2, 3]
    assert tf.FIFOQueue(3, tf.float32, shapes=tf.TensorShape([4])).shapes[0].as_list() == [4]
    n = tf.FIFOQueue(3, tf.int32, names="x", shapes=[])
    assert n.names == ["x"] and list(n.dequeue()) == ["x"]


@pytest.mark.parametrize("make, cls, text", [
    (lambda: tf.FIFOQueue(10, [tf.int32], shapes=[[], []]), ValueError, "same length"),
    (lambda: tf.FIFOQueue(10, [tf.int32], names=["a", "b"]), ValueError, "names"),
    (lambda: tf.FIFOQueue(10, tf.int32, shapes=[None]), ValueError, "fully defined"),
    (lambda: tf.FIFOQueue(10, tf.int32, shapes=[[None]]), ValueError, "fully defined"),
    (lambda: tf.RandomShuffleQueue(10, 1, tf.int32, shapes=[[None]]), ValueError,
     "fully defined"),
    (lambda: tf.PaddingFIFOQueue(10, [tf.float32], shapes=[None]), ValueError,
     "list of shapes"),
    (lambda: tf.PaddingFIFOQueue(10, [tf.float32], shapes=[2]), ValueError, "list of shapes"),
    (lambda: tf.FIFOQueue(10, tf.int32, shapes="x"), TypeError, "Shapes must be"),
])
def test_constructor_errors(make, cls, text):
    with pytest.raises(cls, match=text):
        make()


def test_build_time_checks():
    q = tf.FIFOQueue(10, [tf.float32, tf.int32], shapes=[[], []])
    with pytest.raises((TypeError, ValueError)):
        q.enqueue([1., 2.5])                      # 2.5 is not an int32
    with pytest.raises((TypeError, ValueError)):
        q.enqueue(["a", 1])
    with pytest.raises((TypeError, ValueError)):
        q.enqueue([tf.constant(1), 2])            # an int32 tensor for a float32 component
    with pytest.raises(ValueError, match="incompatible"):
        q.enqueue([[1.], 2])
    with pytest.raises(ValueError, match="2 components"):
        q.enqueue(1.)
    with pytest.raises(ValueError, match="rank at least 1"):
        q.enqueue_many([1., [2]])
    with pytest.raises(ValueError, match="not compatible"):
        q.enqueue_many([[1.], [1, 2]])
    with pytest.raises(ValueError, match="incompatible"):
        q.enqueue_many([[[1.]], [1]])
    with pytest.raises(ValueError, match="must have names"):
        q.enqueue({"a": 1})
    with pytest.raises(TypeError):
        q.dequeue_many(1.5)
    with pytest.raises(ValueError, match=">= 0"):
        q.dequeue_many(-1)
    named = tf.FIFOQueue(3, [tf.int32, tf.float32], names=["x", "y"], shapes=[[], []])
    with pytest.raises(ValueError, match="do not match names"):
        named.enqueue({"x": 1})
    with pytest.raises(ValueError, match="do not match names"):
        named.enqueue({"x": 1, "y": 2., "z": 3})
    with pytest.raises(ValueError, match="must enqueue a dictionary"):
        named.enqueue([1, 2.])
    # a tensor of unknown shape is accepted at build time (checked at run time)
    q.enqueue([tf.placeholder(tf.float32), 1])


# -- values -------------------------------------------------------------------------------

def test_fifo_order_across_single_and_batch_enqueues():
    q = tf.FIFOQueue(20, [tf.int32, tf.string], shapes=[[2], []])
    one = q.enqueue([[0, 0], "a"])
    many = q.enqueue_many([[[1, 1], [2, 2], [3, 3]], ["b", "c", "d"]])
    with tf.Session() as sess:
        sess.run(one)
        sess.run(many)
        sess.run(one)
        assert sess.run(q.size()) == 5
        v, s = sess.run(q.dequeue())
        assert v.tolist() == [0, 0] and s == b"a"
        v, s = sess.run(q.dequeue_many(3))       # spans the rest of the batch and a single
        assert v.tolist() == [[1, 1], [2, 2], [3, 3]] and s.tolist() == [b"b", b"c", b"d"]
        assert v.dtype == np.int32 and s.dtype == object
        v, s = sess.run(q.dequeue_many(1))
        assert v.tolist() == [[0, 0]] and s.tolist() == [b"a"]
        sess.run(many)
        sess.run(one)
        v, _ = sess.run(q.dequeue_many(4))
        assert v.tolist() == [[1, 1], [2, 2], [3, 3], [0, 0]]
        assert sess.run(q.size()) == 0


def test_single_component_values_and_dequeue_of_batch_elements():
    q = tf.FIFOQueue(10, tf.float32, shapes=[])
    with tf.Session() as sess:
        sess.run(q.enqueue_many([[1., 2., 3.]]))
        sess.run(q.enqueue(4.))
        out = [sess.run(q.dequeue()) for _ in range(4)]
        assert out == [1., 2., 3., 4.]
        assert isinstance(out[0], np.float32)


def test_enqueued_values_are_copies():
    x = tf.placeholder(tf.float32, [3])
    q = tf.FIFOQueue(10, tf.float32, shapes=[3])
    enq, enq_many = q.enqueue(x), q.enqueue_many(tf.reshape(x, [1, 3]))
    arr = np.array([1., 2., 3.], np.float32)
    with tf.Session() as sess:
        sess.run(enq, {x: arr})
        sess.run(enq_many, {x: arr})
        arr[:] = 9.
        assert sess.run(q.dequeue_many(2)).tolist() == [[1., 2., 3.]] * 2


def test_run_time_shape_mismatch_names_queue_and_component():
    q = tf.FIFOQueue(10, [tf.float32, tf.int32], shapes=[[], [2]], name="myq")
    a, b = tf.placeholder(tf.float32), tf.placeholder(tf.int32)
    enq, enq_many = q.enqueue([a, b]), q.enqueue_many([a, b])
    with tf.Session() as sess:
        msg = _run_error(sess, enq, errors.InvalidArgumentError, feed_dict={a: 1., b: [1, 2, 3]})
        assert "myq" in msg and "component 1" in msg and "[2]" in msg and "[3]" in msg
        msg = _run_error(sess, enq_many, errors.InvalidArgumentError,
                         feed_dict={a: [1., 2.], b: [[1, 2]] * 3})
        assert "component 1" in msg and "[2,2]" in msg and "[3,2]" in msg
        _run_error(sess, enq_many, errors.InvalidArgumentError, feed_dict={a: 1., b: [[1, 2]]})
        assert sess.run(q.size()) == 0
        sess.run(enq_many, {a: [], b: np.zeros((0, 2))})   # an empty batch is fine
        assert sess.run(q.size()) == 0
    p = tf.PaddingFIFOQueue(10, [tf.float32], shapes=[[None, 2]])
    x = tf.placeholder(tf.float32)
    with tf.Session() as sess:
        sess.run(p.enqueue(x), {x: np.zeros((5, 2))})
        _run_error(sess, p.enqueue(x), errors.InvalidArgumentError, feed_dict={x: np.zeros((5, 3))})
        _run_error(sess, p.enqueue(x), errors.InvalidArgumentError, feed_dict={x: np.zeros(2)})


def test_unknown_shapes_allow_dequeue_but_not_dequeue_many():
    q = tf.FIFOQueue(10, tf.float32)
    with tf.Session() as sess:
        sess.run(q.enqueue_many([[1., 2., 3.]]))
        sess.run(q.enqueue([[7., 8.]]))
        assert sess.run(q.dequeue()) == 1.
        msg = _run_error(sess, q.dequeue_many(2), errors.InvalidArgumentError)
        assert "require the components to have specified shapes" in msg
        _run_error(sess, q.dequeue_up_to(2), errors.InvalidArgumentError)
        assert sess.run(q.dequeue()) == 2.
        assert sess.run(q.dequeue()) == 3.
        assert sess.run(q.dequeue()).tolist() == [7., 8.]


def test_unbounded_capacity():
    q = tf.FIFOQueue(-1, tf.int32, shapes=[])
    with tf.Session() as sess:
        sess.run(q.enqueue_many([np.arange(10000)]))
        assert sess.run(q.size()) == 10000
        assert sess.run(q.dequeue_many(10000)).tolist() == list(range(10000))


# -- close ----------------------------------------------------------------------------------

def test_close_semantics():
    q = tf.FIFOQueue(10, tf.float32, shapes=[], name="cq")
    with tf.Session() as sess:
        sess.run(q.enqueue_many([[1., 2., 3.]]))
        assert not sess.run(q.is_closed())
        sess.run(q.close())
        assert sess.run(q.is_closed())
        msg = _run_error(sess, q.enqueue(4.), errors.CancelledError)
        assert "FIFOQueue 'cq' is closed." == msg
        _run_error(sess, q.enqueue_many([[4.]]), errors.CancelledError)
        sess.run(q.enqueue_many([np.zeros(0, np.float32)]))   # an empty batch: as TF, no error
        msg = _run_error(sess, q.close(), errors.CancelledError)     # as TF: already closed
        assert "already closed" in msg
        sess.run(q.close(cancel_pending_enqueues=True))              # no error
        msg = _run_error(sess, q.dequeue_many(5), errors.OutOfRangeError)
        assert msg == ("FIFOQueue 'cq' is closed and has insufficient elements "
                       "(requested 5, current size 3)")
        assert sess.run(q.size()) == 3                  # nothing was taken
        assert sess.run(q.dequeue()) == 1.
        assert sess.run(q.dequeue_up_to(5)).tolist() == [2., 3.]
        _run_error(sess, q.dequeue(), errors.OutOfRangeError)
        _run_error(sess, q.dequeue_up_to(1), errors.OutOfRangeError)
        _run_error(sess, q.dequeue_many(1), errors.OutOfRangeError)
        for op in (q.dequeue_many(0), q.dequeue_up_to(0)):
            v = sess.run(op)
            assert v.shape == (0,) and v.dtype == np.float32


def test_dequeue_many_negative_and_zero():
    q = tf.FIFOQueue(10, tf.float32, shapes=[2])
    n = tf.placeholder(tf.int32)
    with tf.Session() as sess:
        assert sess.run(q.dequeue_many(n), {n: 0}).shape == (0, 2)
        msg = _run_error(sess, q.dequeue_many(n), errors.InvalidArgumentError, feed_dict={n: -1})
        assert "requested -1 < 0" in msg


def test_cancel_close_on_open_queue_then_plain_close_is_already_closed():
    q = tf.FIFOQueue(10, tf.float32, shapes=[])
    with tf.Session() as sess:
        sess.run(q.close(cancel_pending_enqueues=True))
        assert sess.run(q.is_closed())
        _run_error(sess, q.close(), errors.CancelledError)


# -- blocking ----------------------------------------------------------------------------------

def test_dequeue_blocks_until_an_element_arrives():
    q = tf.FIFOQueue(10, tf.int32, shapes=[])
    deq = q.dequeue()
    enq = q.enqueue(7)
    with tf.Session() as sess:
        t = bg(lambda: sess.run(deq))
        assert still_blocked(t)
        sess.run(enq)
        assert finish(t).result == 7 and t.error is None


def test_enqueue_blocks_while_full():
    q = tf.FIFOQueue(2, tf.int32, shapes=[])
    x = tf.placeholder(tf.int32, [])
    enq, deq = q.enqueue(x), q.dequeue()
    with tf.Session() as sess:
        sess.run(enq, {x: 1})
        sess.run(enq, {x: 2})
        t = bg(lambda: sess.run(enq, {x: 3}))
        assert still_blocked(t)
        assert sess.run(q.size()) == 2
        assert sess.run(deq) == 1
        finish(t)
        assert t.error is None
        assert sess.run(q.dequeue_many(2)).tolist() == [2, 3]


def test_dequeue_many_waits_for_enough_and_is_atomic():
    q = tf.FIFOQueue(10, tf.int32, shapes=[])
    x = tf.placeholder(tf.int32, [None])
    enq = q.enqueue_many([x])
    with tf.Session() as sess:
        t = bg(lambda: sess.run(q.dequeue_many(4)))
        wait_for(lambda: q.queue_ref.op in sess._resources)
        state = queue_state(sess, q)
        wait_for(lambda: len(state.deq_line) == 1)
        sess.run(enq, {x: [1, 2]})
        assert still_blocked(t)
        sess.run(enq, {x: [3, 4, 5]})
        assert finish(t).result.tolist() == [1, 2, 3, 4]
        assert sess.run(q.dequeue()) == 5


def test_dequeue_up_to_waits_for_n_while_open():
    q = tf.FIFOQueue(10, tf.int32, shapes=[])
    with tf.Session() as sess:
        sess.run(q.enqueue_many([[1, 2]]))
        t = bg(lambda: sess.run(q.dequeue_up_to(3)))
        assert still_blocked(t)
        sess.run(q.enqueue(3))
        assert finish(t).result.tolist() == [1, 2, 3]


def test_blocked_dequeues_see_close():
    q = tf.FIFOQueue(10, tf.int32, shapes=[])
    with tf.Session() as sess:
        sess.run(q.enqueue_many([[1, 2]]))
        sess.run(q.size())
        state = queue_state(sess, q)
        up_to = bg(lambda: sess.run(q.dequeue_up_to(5)))
        wait_for(lambda: len(state.deq_line) == 1)
        one = bg(lambda: sess.run(q.dequeue()))
        wait_for(lambda: len(state.deq_line) == 2)
        assert sess.run(q.size()) == 0          # the head holds the two elements
        sess.run(q.close())
        assert finish(up_to).result.tolist() == [1, 2]     # the remainder
        assert isinstance(finish(one).error, errors.OutOfRangeError)


def test_blocked_dequeue_many_returns_its_elements_on_close():
    q = tf.FIFOQueue(10, tf.int32, shapes=[])
    with tf.Session() as sess:
        sess.run(q.enqueue_many([[1, 2, 3]]))
        state = queue_state(sess, q)
        t = bg(lambda: sess.run(q.dequeue_many(5)))
        wait_for(lambda: len(state.deq_line) == 1 and state.size == 0)
        sess.run(q.close())
        assert isinstance(finish(t).error, errors.OutOfRangeError)
        assert "requested 5, current size 3" in str(t.error)
        assert sess.run(q.dequeue_up_to(10)).tolist() == [1, 2, 3]


def test_plain_close_waits_for_pending_enqueues():
    q = tf.FIFOQueue(1, tf.int32, shapes=[])
    with tf.Session() as sess:
        sess.run(q.enqueue(1))
        state = queue_state(sess, q)
        enq = bg(lambda: sess.run(q.enqueue(2)))
        wait_for(lambda: len(state.enq_line) == 1)
        close = bg(lambda: sess.run(q.close()))
        wait_for(lambda: len(state.enq_line) == 2)
        assert still_blocked(close)
        assert not sess.run(q.is_closed())
        assert sess.run(q.dequeue()) == 1
        finish(enq)
        finish(close)
        assert enq.error is None and close.error is None
        assert sess.run(q.is_closed())
        assert sess.run(q.dequeue()) == 2
        _run_error(sess, q.dequeue(), errors.OutOfRangeError)


def test_cancel_pending_enqueues():
    q = tf.FIFOQueue(2, tf.int32, shapes=[])
    with tf.Session() as sess:
        sess.run(q.enqueue_many([[1, 2]]))
        state = queue_state(sess, q)
        one = bg(lambda: sess.run(q.enqueue(3)))
        many = bg(lambda: sess.run(q.enqueue_many([[4, 5]])))
        wait_for(lambda: len(state.enq_line) == 2)
        sess.run(q.close(cancel_pending_enqueues=True))
        assert isinstance(finish(one).error, errors.CancelledError)
        assert isinstance(finish(many).error, errors.CancelledError)
        assert sess.run(q.dequeue_up_to(10)).tolist() == [1, 2]
        _run_error(sess, q.dequeue(), errors.OutOfRangeError)


def test_enqueue_many_larger_than_capacity_and_not_interleaved():
    q = tf.FIFOQueue(2, tf.int32, shapes=[])
    x = tf.placeholder(tf.int32, [None])
    enq = q.enqueue_many([x])
    with tf.Session() as sess:
        sess.run(q.size())
        state = queue_state(sess, q)
        a = bg(lambda: sess.run(enq, {x: [10, 11, 12, 13, 14]}))
        wait_for(lambda: len(state.enq_line) == 1 and state.size == 2)
        b = bg(lambda: sess.run(enq, {x: [20, 21, 22]}))
        wait_for(lambda: len(state.enq_line) == 2)
        single = bg(lambda: sess.run(q.enqueue(30)))
        wait_for(lambda: len(state.enq_line) == 3)
        out = [sess.run(q.dequeue()) for _ in range(9)]
        assert out == [10, 11, 12, 13, 14, 20, 21, 22, 30]
        for t in (a, b, single):
            assert finish(t).error is None


def test_dequeue_many_larger_than_capacity():
    q = tf.FIFOQueue(2, tf.int32, shapes=[])
    x = tf.placeholder(tf.int32, [])
    enq = q.enqueue(x)
    with tf.Session() as sess:
        t = bg(lambda: sess.run(q.dequeue_many(5)))
        for i in range(5):
            sess.run(enq, {x: i})
        assert finish(t).result.tolist() == [0, 1, 2, 3, 4]


def test_dequeues_are_served_in_arrival_order():
    q = tf.FIFOQueue(10, tf.int32, shapes=[])
    with tf.Session() as sess:
        sess.run(q.size())
        state = queue_state(sess, q)
        first = bg(lambda: sess.run(q.dequeue_many(2)))
        wait_for(lambda: len(state.deq_line) == 1)
        second = bg(lambda: sess.run(q.dequeue()))
        wait_for(lambda: len(state.deq_line) == 2)
        sess.run(q.enqueue(1))
        assert still_blocked(second)          # the head waits for its second element
        sess.run(q.enqueue_many([[2, 3]]))
        assert finish(first).result.tolist() == [1, 2]
        assert finish(second).result == 3


# -- deadlines and session close -----------------------------------------------------------

def test_run_options_timeout():
    q = tf.FIFOQueue(1, tf.int32, shapes=[], name="tq")
    opts = tf.RunOptions(timeout_in_ms=50)
    with tf.Session() as sess:
        msg = _run_error(sess, q.dequeue(), errors.DeadlineExceededError, options=opts)
        assert "tq" in msg
        sess.run(q.enqueue(1))
        _run_error(sess, q.enqueue(2), errors.DeadlineExceededError, options=opts)
        _run_error(sess, q.dequeue_many(3), errors.DeadlineExceededError, options=opts)
        # the timed-out dequeue_many gave back the element it had taken
        assert sess.run(q.size()) == 1
        assert sess.run(q.dequeue()) == 1


def test_config_operation_timeout():
    q = tf.FIFOQueue(1, tf.int32, shapes=[])
    with tf.Session(config=tf.ConfigProto(operation_timeout_in_ms=50)) as sess:
        _run_error(sess, q.dequeue(), errors.DeadlineExceededError)


def test_session_close_unblocks_every_waiter():
    full = tf.FIFOQueue(1, tf.int32, shapes=[])
    empty = tf.FIFOQueue(1, tf.int32, shapes=[])
    sess = tf.Session()
    sess.run(full.enqueue(1))
    sess.run(empty.size())
    threads = [bg(lambda: sess.run(full.enqueue(2))), bg(lambda: sess.run(empty.dequeue())),
               bg(lambda: sess.run(empty.dequeue_many(3)))]
    s_full, s_empty = queue_state(sess, full), queue_state(sess, empty)
    wait_for(lambda: len(s_full.enq_line) == 1 and len(s_empty.deq_line) == 2)
    closer = bg(lambda: sess.run(full.close()))        # waits behind the pending enqueue
    wait_for(lambda: len(s_full.enq_line) == 2)
    sess.close()
    for t in threads + [closer]:
        assert isinstance(finish(t).error, errors.CancelledError), t.error
    with pytest.raises(RuntimeError):
        sess.run(full.size())


def test_state_is_per_session_and_shared_name_shares_within_one():
    a = tf.FIFOQueue(10, tf.int32, shapes=[], shared_name="shared")
    b = tf.FIFOQueue(10, tf.int32, shapes=[], shared_name="shared")
    c = tf.FIFOQueue(10, tf.int32, shapes=[])
    with tf.Session() as s1, tf.Session() as s2:
        s1.run(a.enqueue_many([[1, 2]]))
        s1.run(c.enqueue(5))
        assert s1.run(b.size()) == 2
        assert s1.run(b.dequeue()) == 1
        assert s2.run([a.size(), b.size(), c.size()]) == [0, 0, 0]
        s2.run(b.enqueue(9))
        assert s1.run(a.dequeue()) == 2 and s2.run(a.dequeue()) == 9
        assert s1.run(c.dequeue()) == 5


def test_shared_name_with_different_signature_is_an_error():
    a = tf.FIFOQueue(10, tf.int32, shapes=[], shared_name="s")
    b = tf.FIFOQueue(20, tf.int32, shapes=[], shared_name="s")
    with tf.Session() as sess:
        sess.run(a.size())
        _run_error(sess, b.size(), errors.InvalidArgumentError)


# -- RandomShuffleQueue ------------------------------------------------------------------------

def _drain_shuffle(seed, graph_seed=None, n=100, batch=None):
    g = tf.Graph()
    with g.as_default():
        if graph_seed is not None:
            tf.set_random_seed(graph_seed)
        q = tf.RandomShuffleQueue(n, 0, tf.int32, shapes=[], seed=seed)
        fill = q.enqueue_many([np.arange(n, dtype=np.int32)])
        deq = q.dequeue() if batch is None else q.dequeue_up_to(batch)
        close = q.close()
    out = []
    with tf.Session(graph=g) as sess:
        sess.run(fill)
        sess.run(close)
        while True:
            try:
                v = sess.run(deq)
            except errors.OutOfRangeError:
                return out
            out.extend(np.atleast_1d(v).tolist())


def test_shuffle_is_a_seeded_permutation():
    a = _drain_shuffle(seed=7)
    assert sorted(a) == list(range(100)) and a != list(range(100))
    assert _drain_shuffle(seed=7) == a                  # same seed, same order
    assert _drain_shuffle(seed=8) != a
    b = _drain_shuffle(seed=7, batch=16)
    assert sorted(b) == list(range(100)) and b != list(range(100))
    assert _drain_shuffle(seed=7, batch=16) == b
    c = _drain_shuffle(seed=None, graph_seed=11)        # graph-level seed only
    assert sorted(c) == list(range(100)) and _drain_shuffle(seed=None, graph_seed=11) == c
    assert _drain_shuffle(seed=None, graph_seed=12) != c


def test_shuffle_mixes_evenly():
    # where element 0 lands over many seeds: spread over all positions
    firsts = [_drain_shuffle(seed=s, n=10, batch=10)[0] for s in range(1, 201)]
    counts = np.bincount(firsts, minlength=10)
    assert counts.min() > 5 and counts.max() < 45


def test_shuffle_seed_attrs():
    q = tf.RandomShuffleQueue(10, 2, [tf.float32], seed=3)
    assert q.queue_ref.op.get_attr("seed2") == 3 and q.queue_ref.op.get_attr("seed") != 0
    q = tf.RandomShuffleQueue(10, 2, [tf.float32])
    assert q.queue_ref.op.get_attr("min_after_dequeue") == 2


def test_shuffle_keeps_min_after_dequeue_until_closed():
    q = tf.RandomShuffleQueue(10, 3, tf.int32, shapes=[], seed=1)
    opts = tf.RunOptions(timeout_in_ms=50)
    with tf.Session() as sess:
        sess.run(q.enqueue_many([[1, 2, 3, 4, 5]]))
        first = sess.run(q.dequeue_many(2))
        _run_error(sess, q.dequeue(), errors.DeadlineExceededError, options=opts)
        assert sess.run(q.size()) == 3
        t = bg(lambda: sess.run(q.dequeue()))
        assert still_blocked(t)
        sess.run(q.enqueue(6))
        got = [finish(t).result]
        sess.run(q.close())
        got += sess.run(q.dequeue_up_to(10)).tolist()
        assert sorted(first.tolist() + got) == [1, 2, 3, 4, 5, 6]
        _run_error(sess, q.dequeue(), errors.OutOfRangeError)


def test_shuffle_min_after_dequeue_must_be_below_capacity():
    q = tf.RandomShuffleQueue(10, 20, tf.float32)
    with tf.Session() as sess:
        msg = _run_error(sess, q.size(), errors.InvalidArgumentError)
        assert "min_after_dequeue 20 must be < capacity 10" in msg


def test_shuffle_components_stay_together_and_strings():
    q = tf.RandomShuffleQueue(50, 0, [tf.int32, tf.string, tf.float32],
                              shapes=[[], [], [2]], seed=5)
    n = 40
    ids = np.arange(n, dtype=np.int32)
    with tf.Session() as sess:
        sess.run(q.enqueue_many([ids, [b"s%d" % i for i in ids],
                                 np.stack([ids, -ids], 1).astype(np.float32)]))
        i, s, f = sess.run(q.dequeue_many(15))
        j, t, g = sess.run(q.dequeue())
        sess.run(q.close())
        k, u, h = sess.run(q.dequeue_up_to(100))
    all_i = i.tolist() + [int(j)] + k.tolist()
    assert sorted(all_i) == list(range(n))
    assert s.tolist() == [b"s%d" % x for x in i] and t == b"s%d" % j
    assert f.tolist() == [[x, -x] for x in i] and g.tolist() == [j, -j]
    assert u.tolist() == [b"s%d" % x for x in k]
    assert h.shape == (n - 16, 2)


def test_shuffle_without_shapes():
    q = tf.RandomShuffleQueue(10, 0, tf.int32, seed=2)
    with tf.Session() as sess:
        sess.run(q.enqueue_many([[1, 2, 3]]))
        sess.run(q.enqueue([[4, 5]]))
        _run_error(sess, q.dequeue_many(2), errors.InvalidArgumentError)
        sess.run(q.close())
        got = []
        while True:
            try:
                got.append(sess.run(q.dequeue()).tolist())
            except errors.OutOfRangeError:
                break
        assert sorted(got, key=str) == sorted([1, 2, 3, [4, 5]], key=str)


def test_shuffle_dequeue_many_larger_than_capacity():
    q = tf.RandomShuffleQueue(3, 1, tf.int32, shapes=[], seed=3)
    x = tf.placeholder(tf.int32, [])
    with tf.Session() as sess:
        t = bg(lambda: sess.run(q.dequeue_many(6)))
        for i in range(7):
            sess.run(q.enqueue(x), {x: i})
        got = finish(t).result.tolist()
        sess.run(q.close())
        assert sorted(got + [sess.run(q.dequeue())]) == list(range(7))


# -- PaddingFIFOQueue -------------------------------------------------------------------------

def test_padding_pads_each_batch():
    p = tf.PaddingFIFOQueue(10, [tf.int32, tf.string], shapes=[[None], [None]])
    a, b = tf.placeholder(tf.int32), tf.placeholder(tf.string)
    enq = p.enqueue([a, b])
    with tf.Session() as sess:
        sess.run(enq, {a: [1], b: ["a"]})
        sess.run(enq, {a: [1, 2, 3], b: ["a", "b"]})
        sess.run(enq, {a: np.zeros(0, np.int32), b: np.array([], object)})
        ints, strs = sess.run(p.dequeue_many(3))
        assert ints.tolist() == [[1, 0, 0], [1, 2, 3], [0, 0, 0]]
        assert strs.tolist() == [[b"a", b""], [b"a", b"b"], [b"", b""]]
        sess.run(p.enqueue_many([[[1, 2], [3, 4]], [["x"], ["y"]]]))
        sess.run(enq, {a: [5], b: ["z"]})
        v, s = sess.run(p.dequeue())                        # a single element: not padded
        assert v.tolist() == [1, 2] and s.tolist() == [b"x"]
        sess.run(p.close())
        v, s = sess.run(p.dequeue_up_to(5))                 # padded to this batch's maximum
        assert v.tolist() == [[3, 4], [5, 0]] and s.tolist() == [[b"y"], [b"z"]]
        v, s = sess.run(p.dequeue_many(0))
        assert v.shape == (0, 0) and s.shape == (0, 0)


def test_padding_two_unknown_dims():
    p = tf.PaddingFIFOQueue(10, [tf.float32], shapes=[[None, None]])
    with tf.Session() as sess:
        sess.run(p.enqueue([[[1., 2., 3.]]]))
        sess.run(p.enqueue([[[1.], [2.]]]))
        out = sess.run(p.dequeue_many(2))
    np.testing.assert_array_equal(out, [[[1, 2, 3], [0, 0, 0]], [[1, 0, 0], [2, 0, 0]]])


# -- names (dicts) ----------------------------------------------------------------------------

def test_dict_components():
    q = tf.FIFOQueue(10, [tf.int32, tf.float32], names=["x", "y"], shapes=[[], []])
    with tf.Session() as sess:
        sess.run(q.enqueue({"y": 1.5, "x": 1}))
        sess.run(q.enqueue_many({"x": [2, 3], "y": [2.5, 3.5]}))
        d = q.dequeue()
        assert set(d) == {"x", "y"}
        assert sess.run(d) == {"x": 1, "y": 1.5}
        got = sess.run(q.dequeue_many(2))
        assert got["x"].tolist() == [2, 3] and got["y"].tolist() == [2.5, 3.5]


# -- from_list ----------------------------------------------------------------------------------

def test_from_list_selects_at_run_time():
    q1 = tf.FIFOQueue(5, [tf.float32, tf.int32], shapes=[[2], [4]])
    q2 = tf.FIFOQueue(5, [tf.float32, tf.int32], shapes=[[3], [4]])
    sel = tf.placeholder(tf.int32, [])
    f = tf.QueueBase.from_list(sel, [q1, q2])
    assert [s.as_list() for s in f.shapes] == [[None], [4]]
    assert f.dtypes == [tf.float32, tf.int32] and f.names is None
    d = f.dequeue()
    assert d[0].shape.as_list() == [None] and d[1].shape.as_list() == [4]
    assert tf.QueueBase.from_list(0, [q1, tf.FIFOQueue(5, [tf.float32, tf.int32])]) \
        .shapes[0].ndims is None
    enq = f.enqueue([tf.placeholder_with_default([1., 2., 3.], [None]), [1, 2, 3, 4]])
    with tf.Session() as sess:
        sess.run(enq, {sel: 1})
        assert sess.run([q1.size(), q2.size()]) == [0, 1]
        _run_error(sess, enq, errors.InvalidArgumentError, feed_dict={sel: 0})  # wrong shape
        msg = _run_error(sess, enq, errors.InvalidArgumentError, feed_dict={sel: 2})
        assert "not in [0, 2)" in msg
        v = sess.run(d, {sel: 1})
        assert v[0].tolist() == [1., 2., 3.] and v[1].tolist() == [1, 2, 3, 4]


def test_from_list_checks():
    a = tf.FIFOQueue(5, [tf.float32, tf.int32])
    with pytest.raises(TypeError, match="dtypes"):
        tf.QueueBase.from_list(0, [a, tf.FIFOQueue(5, [tf.float32])])
    n1 = tf.FIFOQueue(5, [tf.int32], names=["x"])
    with pytest.raises(TypeError, match="names"):
        tf.QueueBase.from_list(0, [n1, tf.FIFOQueue(5, [tf.int32], names=["z"])])
    with pytest.raises(TypeError, match="list of queues"):
        tf.QueueBase.from_list(0, [])
    with pytest.raises(TypeError, match="list of queues"):
        tf.QueueBase.from_list(0, [1])


# -- the blocked-dequeue warning -----------------------------------------------------------------

@pytest.fixture
def warn_after_20ms():
    old = queues_mod.set_blocked_warning_seconds(0.02)
    yield
    queues_mod.set_blocked_warning_seconds(old)


def test_blocked_dequeue_warns_once_with_the_queue_state(caplog, warn_after_20ms):
    q = tf.RandomShuffleQueue(8, 3, tf.int32, shapes=[], name="stuck")
    with tf.Session() as sess, caplog.at_level(logging.WARNING, logger="flowcore.pipeline"):
        sess.run(q.enqueue_many([[1, 2]]))
        _run_error(sess, q.dequeue(), errors.DeadlineExceededError,
                   options=tf.RunOptions(timeout_in_ms=200))
    msgs = [r.getMessage() for r in caplog.records if "stuck" in r.getMessage()]
    assert len(msgs) == 1
    m = msgs[0]
    for part in ("RandomShuffleQueue 'stuck'", "size 2", "capacity 8", "min_after_dequeue 3",
                 "not closed", "0 QueueRunner threads alive", "start_queue_runners"):
        assert part in m, (part, m)


def test_blocked_warning_can_be_turned_off(caplog):
    old = queues_mod.set_blocked_warning_seconds(None)
    try:
        q = tf.FIFOQueue(8, tf.int32, shapes=[], name="quiet")
        with tf.Session() as sess, caplog.at_level(logging.WARNING, logger="flowcore.pipeline"):
            _run_error(sess, q.dequeue(), errors.DeadlineExceededError,
                       options=tf.RunOptions(timeout_in_ms=60))
        assert not [r for r in caplog.records if "quiet" in r.getMessage()]
    finally:
        queues_mod.set_blocked_warning_seconds(old)
    with pytest.raises(ValueError):
        queues_mod.set_blocked_warning_seconds(-1)


# -- PriorityQueue ------------------------------------------------------------------------------

def test_priority_queue_lowest_first():
    q = tf.PriorityQueue(10, [tf.string], shapes=[[]])
    assert q.name == "priority_queue" and q.queue_ref.op.type == "PriorityQueueV2"
    assert q.dtypes == [tf.int64, tf.string]
    assert q.queue_ref.op.get_attr("component_types") == [tf.string]
    d = q.dequeue_many(3)
    assert [t.shape.as_list() for t in d] == [[3], [3]]
    with pytest.raises(TypeError):
        tf.PriorityQueue(10, [tf.string])
    with tf.Session() as sess:
        sess.run(q.enqueue_many([[5, 1, 3, 1], ["a", "b", "c", "d"]]))
        sess.run(q.enqueue([2, "e"]))
        p, s = sess.run(q.dequeue_many(5))
        assert p.tolist() == [1, 1, 2, 3, 5] and p.dtype == np.int64
        assert s.tolist()[2:] == [b"e", b"c", b"a"] and sorted(s.tolist()[:2]) == [b"b", b"d"]
        sess.run(q.enqueue_many([[9, 4], ["x", "y"]]))
        assert sess.run(q.dequeue()) == [4, b"y"]
        sess.run(q.close())
        p, s = sess.run(q.dequeue_up_to(5))
        assert p.tolist() == [9] and s.tolist() == [b"x"]
        _run_error(sess, q.dequeue(), errors.OutOfRangeError)


def test_priority_queue_blocks_and_gives_back_on_timeout():
    q = tf.PriorityQueue(2, [tf.int32], shapes=[[]])
    with tf.Session() as sess:
        sess.run(q.enqueue_many([[3, 1], [30, 10]]))
        _run_error(sess, q.enqueue([0, 0]), errors.DeadlineExceededError,
                   options=tf.RunOptions(timeout_in_ms=30))
        _run_error(sess, q.dequeue_many(3), errors.DeadlineExceededError,
                   options=tf.RunOptions(timeout_in_ms=30))
        p, v = sess.run(q.dequeue_many(2))
        assert p.tolist() == [1, 3] and v.tolist() == [10, 30]


def test_warning_threshold_from_environment(monkeypatch):
    for value, expected in (("", 10.0), ("off", None), ("None", None), ("2.5", 2.5)):
        monkeypatch.setenv("FLOWCORE_QUEUE_WARNING_SECS", value)
        assert queues_mod._initial_warning_secs() == expected
