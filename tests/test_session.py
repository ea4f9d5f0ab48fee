"""Session.run: fetches, feeds, per-session state, errors, concurrency,
cancellation and deadlines."""
import collections
import threading
import time

import numpy as np
import pytest

import flowcore.compat.v1 as tf
from flowcore import registry
from flowcore.session import Resource
from flowcore.shapes import TensorShape


# -- a test-only blocking op: waits until a per-session gate is opened ----------------

class _Gate(Resource):
    def __init__(self):
        super().__init__()
        self.opened = False
        self.cond = threading.Condition(self.lock)
        self.conditions = (self.cond,)


def _wait_kernel(ctx, op):
    gate = ctx.resource(("gate", op.attrs["gate"]), _Gate)
    with gate.lock:
        ctx.wait(gate.cond, lambda: gate.opened, op, "the gate")
    return np.int32(1)


def _open_kernel(ctx, op):
    gate = ctx.resource(("gate", op.attrs["gate"]), _Gate)
    with gate.lock:
        gate.opened = True
        gate.cond.notify_all()
    return np.int32(0)


if "TestWaitGate" not in registry.registered_types():
    registry.register("TestWaitGate", kernel=_wait_kernel, stateful=True,
                      shape=lambda op: [(tf.int32, TensorShape([]))])
    registry.register("TestOpenGate", kernel=_open_kernel, stateful=True,
                      shape=lambda op: [(tf.int32, TensorShape([]))])
    registry.register("TestFail", stateful=True, shape=lambda op: [(tf.float32, TensorShape([]))],
                      kernel=lambda ctx, op: np.ones(2) @ np.ones(3))


def gate_ops(name="g"):
    g = tf.get_default_graph()
    wait = g.create_op("TestWaitGate", [], {"gate": name}, name="wait_" + name).outputs[0]
    opener = g.create_op("TestOpenGate", [], {"gate": name}, name="open_" + name).outputs[0]
    return wait, opener


# -- fetches ----------------------------------------------------------------------------

def test_fetch_structures():
    a = tf.constant(1.0, name="a")
    b = tf.constant([2, 3], name="b")
    P = collections.namedtuple("P", "x y")
    with tf.Session() as sess:
        assert sess.run(a) == 1.0
        assert isinstance(sess.run(a), np.float32)
        out = sess.run([a, (b, {"k": a}), P(a, [b])])
        assert out[0] == 1.0
        assert isinstance(out[1], tuple) and list(out[1][0]) == [2, 3] and out[1][1] == {"k": 1.0}
        assert isinstance(out[2], P) and out[2].x == 1.0 and list(out[2].y[0]) == [2, 3]
        assert sess.run("a:0") == 1.0
        assert sess.run(a.op) is None
        assert sess.run([a.op, "a"]) == [None, None]
        assert sess.run([]) == []
        od = sess.run(collections.OrderedDict([("z", a), ("y", b)]))
        assert isinstance(od, collections.OrderedDict) and list(od) == ["z", "y"]


def test_fetch_errors():
    a = tf.constant(1.0)
    other = tf.Graph()
    with other.as_default():
        c = tf.constant(2.0)
    with tf.Session() as sess:
        with pytest.raises(TypeError):
            sess.run(None)
        with pytest.raises(TypeError):
            sess.run(3)
        with pytest.raises(ValueError):
            sess.run(c)
        with pytest.raises(ValueError):
            sess.run("nope:0")


def test_sparse_fetch_and_feed():
    sp = tf.SparseTensor(indices=[[0, 0], [1, 2]], values=[1.0, 2.0], dense_shape=[3, 4])
    with tf.Session() as sess:
        v = sess.run(sp)
        assert isinstance(v, tf.SparseTensorValue)
        np.testing.assert_array_equal(v.indices, [[0, 0], [1, 2]])
        np.testing.assert_array_equal(v.values, [1.0, 2.0])
        np.testing.assert_array_equal(v.dense_shape, [3, 4])
    ph = tf.sparse_placeholder(tf.float32)
    with tf.Session() as sess:
        fed = sess.run(ph, {ph: tf.SparseTensorValue([[0, 1]], [9.0], [2, 2])})
        np.testing.assert_array_equal(fed.values, [9.0])
        np.testing.assert_array_equal(fed.indices, [[0, 1]])
        np.testing.assert_array_equal(fed.dense_shape, [2, 2])


# -- feeds ------------------------------------------------------------------------------

def test_feed_by_tensor_and_name_and_non_placeholder():
    x = tf.placeholder(tf.float32, [None, 2], name="x")
    c = tf.constant(5.0, name="c")
    y = x * c
    with tf.Session() as sess:
        np.testing.assert_allclose(sess.run(y, {x: [[1, 2]]}), [[5, 10]])
        np.testing.assert_allclose(sess.run(y, {"x:0": np.ones((3, 2))}), np.full((3, 2), 5.0))
        np.testing.assert_allclose(sess.run(y, {x: [[1, 1]], c: 2.0}), [[2, 2]])
        fed = np.array([[1, 2]], dtype=np.float64)
        out = sess.run(y, {x: fed})
        assert out.dtype == np.float32


def test_feed_shape_and_dtype_errors():
    x = tf.placeholder(tf.float32, [None, 2], name="x")
    y = x + 1.0
    with tf.Session() as sess:
        with pytest.raises(ValueError, match=r"Cannot feed value of shape \(3,\)"):
            sess.run(y, {x: [1, 2, 3]})
        with pytest.raises(tf.errors.InvalidArgumentError, match="must feed a value for placeholder tensor 'x'") as ei:
            sess.run(y)
        assert ei.value.op.name == "x"
        assert ei.value.error_code == tf.errors.INVALID_ARGUMENT
        with pytest.raises(TypeError):
            sess.run(y, {x: tf.constant([[1.0, 2.0]])})
        with pytest.raises(TypeError):
            sess.run(y, {x: [["a", "b"]]})


def test_string_feed():
    s = tf.placeholder(tf.string, [None])
    with tf.Session() as sess:
        out = sess.run(tf.identity(s), {s: ["ab", b"cd"]})
        assert list(out) == [b"ab", b"cd"]


def test_placeholder_with_default():
    d = tf.placeholder_with_default(tf.constant([1, 2]), shape=[None])
    assert d.shape.as_list() == [None]
    with tf.Session() as sess:
        assert list(sess.run(d)) == [1, 2]
        assert list(sess.run(d, {d: [7, 8, 9]})) == [7, 8, 9]


def test_feeding_a_tensor_cuts_its_ancestors():
    x = tf.placeholder(tf.float32, name="never_fed")
    y = x + 1.0
    z = y * 2.0
    with tf.Session() as sess:
        assert sess.run(z, {y: 4.0}) == 8.0


def test_eval_and_op_run_use_default_session():
    v = tf.Variable(3.0)
    a = v * 2.0
    with pytest.raises(ValueError, match="No default session"):
        a.eval()
    with tf.Session() as sess:
        v.initializer.run()
        assert a.eval() == 6.0
        assert tf.get_default_session() is sess
    sess2 = tf.Session()
    sess2.run(v.initializer)
    assert a.eval(session=sess2) == 6.0
    with sess2.as_default():
        assert v.eval() == 3.0
    sess2.close()


def test_interactive_session():
    a = tf.constant(4)
    sess = tf.InteractiveSession()
    try:
        assert a.eval() == 4
        assert tf.get_default_session() is sess
    finally:
        sess.close()
    assert tf.get_default_session() is None


def test_with_session_enters_its_graph():
    g = tf.Graph()
    with tf.Session(graph=g) as sess:
        assert tf.get_default_graph() is g
        c = tf.constant(1)
        assert sess.run(c) == 1
    assert tf.get_default_graph() is not g


def test_closed_session_rejects_runs():
    sess = tf.Session()
    sess.close()
    sess.close()  # idempotent
    with pytest.raises(RuntimeError, match="closed Session"):
        sess.run(tf.constant(1))


# -- state --------------------------------------------------------------------------------

def test_sessions_do_not_share_state():
    v = tf.Variable(1.0)
    inc = tf.assign_add(v, 1.0)
    s1, s2 = tf.Session(), tf.Session()
    s1.run(v.initializer)
    s2.run(v.initializer)
    s1.run(inc)
    s1.run(inc)
    assert s1.run(v) == 3.0 and s2.run(v) == 1.0
    s3 = tf.Session()
    with pytest.raises(tf.errors.FailedPreconditionError):
        s3.run(v)
    for s in (s1, s2, s3):
        s.close()


# -- errors --------------------------------------------------------------------------------

def test_kernel_error_becomes_op_error_naming_op():
    bad = tf.get_default_graph().create_op("TestFail", [], None, name="bad_op").outputs[0]
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError, match="bad_op") as ei:
            sess.run(bad)
    assert ei.value.op is bad.op
    assert isinstance(ei.value.__cause__, ValueError)


def test_error_hierarchy():
    names = ["CancelledError", "UnknownError", "InvalidArgumentError", "DeadlineExceededError",
             "NotFoundError", "AlreadyExistsError", "PermissionDeniedError",
             "ResourceExhaustedError", "FailedPreconditionError", "AbortedError",
             "OutOfRangeError", "UnimplementedError", "InternalError", "UnavailableError",
             "DataLossError"]
    for code, name in enumerate(names, start=1):
        cls = getattr(tf.errors, name)
        assert issubclass(cls, tf.errors.OpError)
        e = cls(None, None, "msg")
        assert e.message == "msg" and e.op is None and str(e) == "msg"
        if name != "UnknownError":
            assert e.error_code == getattr(tf.errors, {
                "CancelledError": "CANCELLED", "InvalidArgumentError": "INVALID_ARGUMENT",
                "DeadlineExceededError": "DEADLINE_EXCEEDED", "NotFoundError": "NOT_FOUND",
                "AlreadyExistsError": "ALREADY_EXISTS", "PermissionDeniedError": "PERMISSION_DENIED",
                "ResourceExhaustedError": "RESOURCE_EXHAUSTED",
                "FailedPreconditionError": "FAILED_PRECONDITION", "AbortedError": "ABORTED",
                "OutOfRangeError": "OUT_OF_RANGE", "UnimplementedError": "UNIMPLEMENTED",
                "InternalError": "INTERNAL", "UnavailableError": "UNAVAILABLE",
                "DataLossError": "DATA_LOSS"}[name])
    assert tf.errors.OutOfRangeError(None, None, "x").error_code == 11


# -- concurrency, cancellation, deadlines ---------------------------------------------------

@pytest.mark.timeout(20)
def test_blocked_run_blocks_only_its_thread_and_close_cancels_it():
    wait, _ = gate_ops()
    x = tf.placeholder(tf.float32, [])
    y = x * 2.0
    sess = tf.Session()
    errors_seen = []
    started = threading.Event()

    def blocked():
        started.set()
        try:
            sess.run(wait)
        except Exception as e:  # noqa: BLE001 - recorded for the assertion
            errors_seen.append(e)
    threads = [threading.Thread(target=blocked) for _ in range(3)]
    for t in threads:
        t.start()
    started.wait()
    time.sleep(0.05)
    # other threads keep running on the same session meanwhile
    for i in range(100):
        assert sess.run(y, {x: float(i)}) == 2.0 * i
    assert all(t.is_alive() for t in threads)
    sess.close()
    for t in threads:
        t.join(5)
    assert not any(t.is_alive() for t in threads)
    assert len(errors_seen) == 3
    assert all(isinstance(e, tf.errors.CancelledError) for e in errors_seen)
    assert all(e.op is wait.op for e in errors_seen)


@pytest.mark.timeout(20)
def test_blocked_run_released_by_another_run():
    wait, opener = gate_ops()
    with tf.Session() as sess:
        out = []
        t = threading.Thread(target=lambda: out.append(sess.run(wait)))
        t.start()
        time.sleep(0.05)
        assert t.is_alive()
        sess.run(opener)
        t.join(5)
        assert out == [1]


@pytest.mark.timeout(20)
def test_run_options_timeout_raises_deadline_exceeded():
    wait, _ = gate_ops()
    with tf.Session() as sess:
        t0 = time.monotonic()
        with pytest.raises(tf.errors.DeadlineExceededError):
            sess.run(wait, options=tf.RunOptions(timeout_in_ms=100))
        assert 0.09 <= time.monotonic() - t0 < 5
        # the session is still usable afterwards
        assert sess.run(tf.constant(3)) == 3


@pytest.mark.timeout(20)
def test_config_operation_timeout():
    wait, _ = gate_ops()
    with tf.Session(config=tf.ConfigProto(operation_timeout_in_ms=50)) as sess:
        with pytest.raises(tf.errors.DeadlineExceededError):
            sess.run(wait)


@pytest.mark.timeout(60)
def test_many_threads_running_concurrently_get_their_own_results():
    x = tf.placeholder(tf.float32, [None])
    y = tf.add(x * 3.0, 1.0)
    results = {}
    with tf.Session() as sess:
        def worker(k):
            vals = []
            for i in range(200):
                vals.append(float(sess.run(y, {x: [k, i]})[1]) == 3.0 * i + 1.0)
            results[k] = all(vals)
        threads = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert results == {k: True for k in range(8)}


def test_plan_cache_reused_and_make_callable():
    x = tf.placeholder(tf.float32, [])
    y = x + 1.0
    with tf.Session() as sess:
        sess.run(y, {x: 1.0})
        n = len(sess._plans)
        for i in range(5):
            assert sess.run(y, {x: float(i)}) == i + 1.0
        assert len(sess._plans) == n
        f = sess.make_callable(y, [x])
        assert f(2.0) == 3.0
        g = sess.make_callable([y, y.op])
        with pytest.raises(tf.errors.InvalidArgumentError):
            g()


def test_fetched_values_are_private_copies():
    c = tf.constant([1.0, 2.0])
    v = tf.Variable([1.0, 2.0])
    with tf.Session() as sess:
        sess.run(v.initializer)
        a = sess.run(c)
        a[0] = 100.0
        b = sess.run(v)
        b[0] = 100.0
        assert list(sess.run(c)) == [1.0, 2.0]
        assert list(sess.run(v)) == [1.0, 2.0]


def test_constant_subgraphs_are_folded_once_per_plan():
    from flowcore import registry
    from flowcore.ops.core import apply_op1
    from flowcore.shapes import TensorShape
    calls = []

    def kernel(ctx, op, x):
        calls.append(op.name)
        return x + 1

    if "TestCountingIncrement" not in registry.registered_types():
        registry.register("TestCountingIncrement", kernel=kernel,
                          shape=lambda op: [(op.inputs[0].dtype, TensorShape([]))])
    c = tf.constant(1)
    folded = apply_op1("TestCountingIncrement", [c], None, "folded")
    p = tf.placeholder(tf.int32, [])
    fed = apply_op1("TestCountingIncrement", [p], None, "fed")
    v = tf.Variable(0)
    with tf.control_dependencies([v.initializer]):
        ordered = apply_op1("TestCountingIncrement", [c], None, "ordered")
    with tf.Session() as sess:
        assert [sess.run(folded) for _ in range(3)] == [2, 2, 2]
        assert calls == ["folded"]                       # computed once, at plan time
        assert [sess.run(fed, {p: i}) for i in range(3)] == [1, 2, 3]
        assert sess.run(ordered) == 2 and sess.run(ordered) == 2
        assert calls.count("ordered") == 2               # a control input: runs every time
        assert sess.run(v) == 0


def test_reads_after_an_update_under_control_dependencies():
    c = tf.Variable(0)
    inc = tf.assign_add(c, 1)
    with tf.control_dependencies([inc]):
        after = tf.identity(c)
    before = c + 0
    with tf.Session() as sess:
        sess.run(c.initializer)
        assert sess.run([before, after]) == [0, 1]      # as TF
        assert sess.run(c) == 1
