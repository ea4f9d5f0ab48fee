"""Optimizers: first steps against hand-computed (numpy) updates, slot names,
global step, errors, sparse updates, concurrency, convergence."""
import sys
import threading

import numpy as np
import pytest

import flowcore.compat.v1 as tf
from flowcore.indexed_slices import IndexedSlices

W0 = np.array([[1.0, -2.0], [0.5, 3.0]], dtype=np.float32)
X = np.array([[0.3, -1.2], [2.0, 0.7]], dtype=np.float32)


def _quadratic():
    """w and loss = sum(x * w * w): d loss / dw = 2 x w (w changes each step)."""
    w = tf.Variable(W0, name="w")
    loss = tf.constant(X) * w * w
    return w, loss


def _grad(w):
    return 2 * X * w


def _steps(opt, n=2, extra=None):
    w, loss = _quadratic()
    train = opt.minimize(loss)
    out = []
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for _ in range(n):
            sess.run(train)
            out.append(sess.run(w))
        slots = {name: sess.run(opt.get_slot(w, name)) for name in opt.get_slot_names()}
        others = sess.run(extra(opt)) if extra else None
    return out, slots, others


def _close(a, b):
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_gradient_descent_two_steps():
    out, slots, _ = _steps(tf.train.GradientDescentOptimizer(0.1))
    w = W0.copy()
    for got in out:
        w = w - 0.1 * _grad(w)
        _close(got, w)
    assert slots == {}


@pytest.mark.parametrize("nesterov", [False, True])
def test_momentum_two_steps(nesterov):
    opt = tf.train.MomentumOptimizer(0.1, 0.9, use_nesterov=nesterov)
    out, slots, _ = _steps(opt)
    w, acc = W0.copy(), np.zeros_like(W0)
    for got in out:
        g = _grad(w)
        acc = 0.9 * acc + g
        w = w - 0.1 * (g + 0.9 * acc) if nesterov else w - 0.1 * acc
        _close(got, w)
    _close(slots["momentum"], acc)


def test_adagrad_two_steps():
    out, slots, _ = _steps(tf.train.AdagradOptimizer(0.5, initial_accumulator_value=0.2))
    w, acc = W0.copy(), np.full_like(W0, 0.2)
    for got in out:
        g = _grad(w)
        acc = acc + g * g
        w = w - 0.5 * g / np.sqrt(acc)
        _close(got, w)
    _close(slots["accumulator"], acc)


@pytest.mark.parametrize("momentum,centered", [(0.0, False), (0.5, False), (0.5, True)])
def test_rmsprop_two_steps(momentum, centered):
    opt = tf.train.RMSPropOptimizer(0.01, decay=0.8, momentum=momentum, epsilon=1e-6,
                                    centered=centered)
    out, slots, _ = _steps(opt)
    w, ms, mom, mg = W0.copy(), np.ones_like(W0), np.zeros_like(W0), np.zeros_like(W0)
    for got in out:
        g = _grad(w)
        ms = 0.8 * ms + 0.2 * g * g
        mg = 0.8 * mg + 0.2 * g
        denom = ms - mg * mg + 1e-6 if centered else ms + 1e-6
        mom = momentum * mom + 0.01 * g / np.sqrt(denom)
        w = w - mom
        _close(got, w)
    _close(slots["rms"], ms)
    _close(slots["momentum"], mom)
    if centered:
        _close(slots["mg"], mg)
    assert sorted(slots) == (["mg", "momentum", "rms"] if centered else ["momentum", "rms"])


def test_adam_two_steps():
    opt = tf.train.AdamOptimizer(0.05)
    out, slots, powers = _steps(opt, extra=lambda o: list(o._get_beta_accumulators()))
    w, m, v = W0.copy(), np.zeros_like(W0), np.zeros_like(W0)
    for t, got in enumerate(out, start=1):
        g = _grad(w)
        lr_t = 0.05 * np.sqrt(1 - 0.999 ** t) / (1 - 0.9 ** t)
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        w = w - lr_t * m / (np.sqrt(v) + 1e-8)
        _close(got, w)
    _close(slots["m"], m)
    _close(slots["v"], v)
    _close(powers, [0.9 ** 3, 0.999 ** 3])


def test_slot_names_and_collections():
    w = tf.Variable([1.0, 2.0], name="w")
    with tf.variable_scope("layer"):
        b = tf.Variable(0.5, name="b")
    loss = w * w * b
    opts = {"Adam": tf.train.AdamOptimizer(), "Momentum": tf.train.MomentumOptimizer(0.1, 0.9),
            "Adagrad": tf.train.AdagradOptimizer(0.1), "RMSProp": tf.train.RMSPropOptimizer(0.1)}
    for opt in opts.values():
        opt.minimize(loss)
    names = lambda opt: sorted(v.op.name for v in opt.variables())  # noqa: E731
    assert names(opts["Adam"]) == ["beta1_power", "beta2_power", "layer/b/Adam",
                                   "layer/b/Adam_1", "w/Adam", "w/Adam_1"]
    assert names(opts["Momentum"]) == ["layer/b/Momentum", "w/Momentum"]
    assert names(opts["Adagrad"]) == ["layer/b/Adagrad", "w/Adagrad"]
    assert names(opts["RMSProp"]) == ["layer/b/RMSProp", "layer/b/RMSProp_1",
                                      "w/RMSProp", "w/RMSProp_1"]
    assert opts["Adam"].get_slot(w, "m").name == "w/Adam:0"
    assert opts["Adam"].get_slot(w, "v").name == "w/Adam_1:0"
    assert opts["Adam"].get_slot(w, "nope") is None
    assert opts["Adam"].get_slot_names() == ["m", "v"]
    trainable = tf.trainable_variables()
    glob = tf.global_variables()
    for opt in opts.values():
        for v in opt.variables():
            assert v in glob and v not in trainable
    assert trainable == [w, b]


def test_update_op_names_and_train_op_collection():
    w = tf.Variable([1.0], name="w")
    train = tf.train.GradientDescentOptimizer(0.1).minimize(w * w)
    assert train.name == "GradientDescent" and train.type == "NoOp"
    ops = [op.name for op in tf.get_default_graph().get_operations()]
    assert "GradientDescent/update_w/ApplyGradientDescent" in ops
    assert "GradientDescent/learning_rate" in ops
    assert tf.get_collection(tf.GraphKeys.TRAIN_OP) == [train]
    train2 = tf.train.GradientDescentOptimizer(0.1).minimize(w * w, name="second")
    assert train2.name == "second"


def test_global_step_incremented_once_per_step():
    assert tf.train.get_global_step() is None
    gs = tf.train.get_or_create_global_step()
    assert gs.op.name == "global_step" and gs.dtype == tf.int64 and gs.shape.as_list() == []
    assert tf.train.get_or_create_global_step() is gs
    assert tf.train.get_global_step() is gs
    assert gs not in tf.trainable_variables()
    with pytest.raises(ValueError, match="already exists"):
        tf.train.create_global_step()
    w = tf.Variable([1.0, 2.0], name="w")
    train = tf.train.AdamOptimizer(0.1).minimize(w * w, global_step=gs)
    assert train.name == "Adam" and train.type == "AssignAdd"
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert tf.train.global_step(sess, gs) == 0
        for _ in range(3):
            sess.run(train)
        assert tf.train.global_step(sess, gs) == 3
        assert isinstance(tf.train.global_step(sess, gs), int)


def test_global_step_found_by_name():
    g = tf.Graph()
    with g.as_default():
        v = tf.Variable(0, name="global_step", trainable=False)
        step = tf.train.get_global_step()
        assert step is v._ref()
    with tf.Graph().as_default():
        tf.Variable(0.0, name="global_step")
        with pytest.raises(TypeError, match="integer"):
            tf.train.get_global_step()


def test_no_gradients_is_value_error():
    w = tf.Variable([1.0], name="w")
    other = tf.Variable([2.0], name="other")
    opt = tf.train.GradientDescentOptimizer(0.1)
    with pytest.raises(ValueError, match="No gradients provided for any variable"):
        opt.minimize(other * 2.0, var_list=[w])
    with pytest.raises(ValueError, match="No gradients provided for any variable"):
        opt.apply_gradients([(None, w), (None, other)])
    with pytest.raises(ValueError, match="No variables provided"):
        opt.apply_gradients([])
    with pytest.raises(ValueError, match="No variables to optimize"):
        opt.compute_gradients(tf.constant(1.0), var_list=[])
    with pytest.raises(ValueError, match="Invalid type"):
        opt.compute_gradients(tf.constant(1))


def test_none_gradients_skipped():
    w = tf.Variable([1.0], name="w")
    frozen = tf.Variable([5.0], name="frozen")
    opt = tf.train.GradientDescentOptimizer(0.5)
    gv = opt.compute_gradients(w * w * 3.0)
    assert [v for _, v in gv] == [w, frozen]
    assert gv[1][0] is None
    train = opt.apply_gradients(gv)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(train)
        _close(sess.run(w), [1.0 - 0.5 * 6.0])
        _close(sess.run(frozen), [5.0])


def test_learning_rate_tensor_callable_and_float64():
    lr = tf.placeholder(tf.float32, [], name="lr")
    w = tf.Variable([1.0], name="w")
    train = tf.train.GradientDescentOptimizer(lr).minimize(w * w)
    w64 = tf.Variable(np.array([2.0]), name="w64")
    train64 = tf.train.MomentumOptimizer(lambda: 0.25, 0.0).minimize(w64 * w64)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(train, {lr: 0.25})
        _close(sess.run(w), [0.5])
        sess.run(train, {lr: 0.5})
        _close(sess.run(w), [0.0])
        sess.run(train64)
        out = sess.run(w64)
        assert out.dtype == np.float64
        np.testing.assert_allclose(out, [1.0])


def test_grad_loss_and_explicit_var_list_order():
    a = tf.Variable(1.0, name="a")
    b = tf.Variable(2.0, name="b")
    opt = tf.train.GradientDescentOptimizer(1.0)
    gv = opt.compute_gradients(a * b, var_list=[b, a], grad_loss=tf.constant(10.0))
    assert [v for _, v in gv] == [b, a]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert sess.run([g for g, _ in gv]) == [pytest.approx(10.0), pytest.approx(20.0)]


def test_gate_graph_and_gate_none_same_result():
    for gate in (tf.train.Optimizer.GATE_NONE, tf.train.Optimizer.GATE_OP,
                 tf.train.Optimizer.GATE_GRAPH):
        with tf.Graph().as_default():
            w = tf.Variable([1.0, -1.0], name="w")
            train = tf.train.GradientDescentOptimizer(0.1).minimize(w * w * w,
                                                                     gate_gradients=gate)
            with tf.Session() as sess:
                sess.run(tf.global_variables_initializer())
                sess.run(train)
                _close(sess.run(w), [0.7, -1.3])
    with pytest.raises(ValueError, match="gate_gradients must be one of"):
        tf.train.GradientDescentOptimizer(0.1).compute_gradients(tf.constant(1.0),
                                                                 gate_gradients=7)


def test_uninitialized_slot_names_the_slot():
    w = tf.Variable([1.0], name="w")
    train = tf.train.MomentumOptimizer(0.1, 0.9).minimize(w * w)
    with tf.Session() as sess:
        sess.run(w.initializer)
        with pytest.raises(tf.errors.FailedPreconditionError, match="w/Momentum"):
            sess.run(train)


def test_fetched_values_never_change_under_the_user():
    w, loss = _quadratic()
    train = tf.train.MomentumOptimizer(0.1, 0.5).minimize(loss)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        held = [sess.run(w)]
        copies = [held[0].copy()]
        for _ in range(5):
            _, now = sess.run([train, w])
            held.append(now)
            copies.append(now.copy())
            held.append(sess.run(w))
            copies.append(held[-1].copy())
        for h, c in zip(held, copies):
            np.testing.assert_array_equal(h, c)
        assert not np.array_equal(held[0], held[-1])


@pytest.mark.parametrize("rows", [3, 3000], ids=["small", "large"])
def test_updates_interleaved_with_assign(rows):
    """Sparse, dense and assign updates in any order (large variables reuse
    their previous buffer and rewrite only rows that changed: this checks
    that bookkeeping)."""
    init = np.repeat(np.arange(1.0, rows + 1, dtype=np.float32)[:, None], 2, axis=1)
    w = tf.Variable(init, name="w")
    grad = IndexedSlices(tf.constant([[1.0, 1.0]]), tf.constant([1]), tf.constant([rows, 2]))
    opt = tf.train.GradientDescentOptimizer(1.0)
    sparse = opt.apply_gradients([(grad, w)])
    grad2 = IndexedSlices(tf.constant([[5.0, 5.0]]), tf.constant([2]), tf.constant([rows, 2]))
    sparse2 = opt.apply_gradients([(grad2, w)])
    dense = opt.apply_gradients([(tf.ones([rows, 2]), w)])
    reset = w.assign(tf.zeros([rows, 2]))
    want = init.copy()
    with tf.Session() as sess:
        sess.run(w.initializer)
        for _ in range(3):
            sess.run(sparse)
        want[1] -= 3
        _close(sess.run(w), want)
        sess.run(sparse2)
        sess.run(sparse)
        want[2] -= 5
        want[1] -= 1
        _close(sess.run(w), want)
        sess.run(dense)
        sess.run(sparse)
        want -= 1
        want[1] -= 1
        _close(sess.run(w), want)
        sess.run(reset)
        sess.run(sparse)
        want[:] = 0
        want[1] = -1
        _close(sess.run(w), want)
        for _ in range(3):
            sess.run(sparse2)
            sess.run(sparse)
        want[2] -= 15
        want[1] -= 3
        _close(sess.run(w), want)


# -- sparse gradients ---------------------------------------------------------------------

VOCAB = np.arange(12, dtype=np.float32).reshape(6, 2) / 10.0
IDX = np.array([4, 1, 4, 0])
G = np.array([[1.0, 2.0], [0.5, -1.0], [3.0, 1.0], [-2.0, 0.25]], dtype=np.float32)


def _sparse_steps(opt, n=2):
    emb = tf.Variable(VOCAB, name="emb")
    grad = IndexedSlices(tf.constant(G), tf.constant(IDX), tf.constant([6, 2]))
    train = opt.apply_gradients([(grad, emb)])
    out = []
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for _ in range(n):
            sess.run(train)
            out.append(sess.run(emb))
    return out


def _dense_grad():
    d = np.zeros_like(VOCAB)
    np.add.at(d, IDX, G)
    return d


ROWS = np.array([0, 1, 4])


def test_sparse_gradient_descent_with_duplicates():
    out = _sparse_steps(tf.train.GradientDescentOptimizer(0.5))
    for k, got in enumerate(out, start=1):
        _close(got, VOCAB - 0.5 * k * _dense_grad())


def test_sparse_momentum_and_adagrad_touch_only_their_rows():
    g = _dense_grad()
    out = _sparse_steps(tf.train.MomentumOptimizer(0.1, 0.9))
    w, acc = VOCAB.copy(), np.zeros_like(VOCAB)
    for got in out:
        acc[ROWS] = 0.9 * acc[ROWS] + g[ROWS]
        w[ROWS] -= 0.1 * acc[ROWS]
        _close(got, w)
    out = _sparse_steps(tf.train.AdagradOptimizer(0.1))
    w, acc = VOCAB.copy(), np.full_like(VOCAB, 0.1)
    for got in out:
        acc[ROWS] += g[ROWS] ** 2
        w[ROWS] -= 0.1 * g[ROWS] / np.sqrt(acc[ROWS])
        _close(got, w)
        _close(got[[2, 3, 5]], VOCAB[[2, 3, 5]])


@pytest.mark.parametrize("centered", [False, True])
def test_sparse_rmsprop(centered):
    g = _dense_grad()
    out = _sparse_steps(tf.train.RMSPropOptimizer(0.01, momentum=0.5, centered=centered))
    w, ms, mom, mg = VOCAB.copy(), np.ones_like(VOCAB), np.zeros_like(VOCAB), \
        np.zeros_like(VOCAB)
    r = ROWS
    for got in out:
        ms[r] = 0.9 * ms[r] + 0.1 * g[r] ** 2
        mg[r] = 0.9 * mg[r] + 0.1 * g[r]
        denom = ms[r] - mg[r] ** 2 + 1e-10 if centered else ms[r] + 1e-10
        mom[r] = 0.5 * mom[r] + 0.01 * g[r] / np.sqrt(denom)
        w[r] -= mom[r]
        _close(got, w)


def test_sparse_adam_decays_every_row():
    g = _dense_grad()
    out = _sparse_steps(tf.train.AdamOptimizer(0.1))
    w, m, v = VOCAB.copy(), np.zeros_like(VOCAB), np.zeros_like(VOCAB)
    for t, got in enumerate(out, start=1):
        lr = 0.1 * np.sqrt(1 - 0.999 ** t) / (1 - 0.9 ** t)
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        w = w - lr * m / (np.sqrt(v) + 1e-8)
        _close(got, w)


def test_bad_gradients_rejected():
    w = tf.Variable(VOCAB, name="emb")
    opt = tf.train.GradientDescentOptimizer(0.1)
    with pytest.raises(ValueError, match="incompatible"):
        opt.apply_gradients([(tf.ones([3, 2]), w)])
    bad_rows = IndexedSlices(tf.constant([[1.0, 1.0]]), tf.constant([7]), tf.constant([6, 2]))
    train = tf.train.AdagradOptimizer(0.1).apply_gradients([(bad_rows, w)])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        with pytest.raises(tf.errors.InvalidArgumentError,
                           match=r"indices\[0\] = 7 is not in \[0, 6\)"):
            sess.run(train)
        np.testing.assert_array_equal(sess.run(w), VOCAB)    # nothing half-applied
    with pytest.raises(TypeError, match="Gradient must be"):
        opt.apply_gradients([(object(), w)])


def test_embedding_training_through_gather():
    emb = tf.Variable(VOCAB, name="emb")
    ids = tf.placeholder(tf.int32, [None], name="ids")
    loss = tf.gather(emb, ids) * tf.constant([1.0, -1.0])
    train = tf.train.GradientDescentOptimizer(0.5).minimize(loss)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(train, {ids: [2, 2, 5]})
        want = VOCAB.copy()
        want[2] -= 0.5 * 2 * np.array([1.0, -1.0])
        want[5] -= 0.5 * np.array([1.0, -1.0])
        _close(sess.run(emb), want)


# -- concurrency ------------------------------------------------------------------------------

def _run_threads(n, fn):
    errors = []

    def body():
        try:
            fn()
        except Exception as e:     # pragma: no cover - reported below
            errors.append(e)
    threads = [threading.Thread(target=body) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors


@pytest.fixture
def fast_thread_switching():
    """Switch threads every 10 us so races show up within a short test (a
    non-atomic update kernel loses updates here; see the docstring below)."""
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    yield
    sys.setswitchinterval(old)


@pytest.mark.parametrize("sparse", [False, True])
def test_concurrent_training_threads_lose_no_update(sparse, fast_thread_switching):
    """lr = 1 and d loss/dw = -1: each step adds exactly 1 to w (to the rows
    a sparse step touches).  The variable is large enough that numpy releases
    the GIL inside the update: a kernel doing read / compute / store without
    the variable's lock loses a quarter of the updates here."""
    n_threads, steps = 4, 200
    shape = (400, 256)
    rows = np.arange(0, 400, 2)
    w = tf.Variable(np.zeros(shape, np.float32), name="w")
    if sparse:
        grad = IndexedSlices(tf.fill([len(rows), 256], -1.0), tf.constant(rows),
                             tf.constant(list(shape)))
        train = tf.train.GradientDescentOptimizer(1.0).apply_gradients([(grad, w)])
    else:
        train = tf.train.GradientDescentOptimizer(1.0).minimize(-w)
    reads = []
    with tf.Session() as sess:
        sess.run(w.initializer)

        def loop():
            for i in range(steps):
                sess.run(train)
                if i % 20 == 0:
                    v = sess.run(w)
                    reads.append((v, v.copy()))
        _run_threads(n_threads, loop)
        final = sess.run(w)
    total = n_threads * steps
    want = np.zeros(shape, np.float32)
    want[rows if sparse else slice(None)] = total
    np.testing.assert_array_equal(final, want)
    for v, c in reads:       # no value a thread held changed under it, and none is torn
        np.testing.assert_array_equal(v, c)
        touched = v[rows] if sparse else v
        assert np.all(touched == touched.flat[0])
        if sparse:
            assert not v[1::2].any()


def test_concurrent_momentum_consistent(fast_thread_switching):
    n_threads, steps = 4, 100
    w = tf.Variable(np.zeros((200, 256), np.float32), name="w")
    opt = tf.train.MomentumOptimizer(1.0, 0.0)
    train = opt.minimize(-w)          # momentum 0: accum = grad = -1, w += 1 per step
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        _run_threads(n_threads, lambda: [sess.run(train) for _ in range(steps)])
        np.testing.assert_array_equal(sess.run(w), np.full((200, 256), n_threads * steps))
        np.testing.assert_array_equal(sess.run(opt.get_slot(w, "momentum")),
                                      np.full((200, 256), -1))


# -- convergence -----------------------------------------------------------------------------

def test_linear_regression_converges():
    rng = np.random.RandomState(0)
    xs = rng.uniform(-1, 1, 100).astype(np.float32)
    ys = 3.0 * xs + 2.0 + rng.normal(0, 0.01, 100).astype(np.float32)
    x = tf.placeholder(tf.float32, [None])
    y = tf.placeholder(tf.float32, [None])
    w = tf.Variable(0.0, name="w")
    b = tf.Variable(0.0, name="b")
    loss = tf.reduce_mean(tf.square(w * x + b - y))
    train = tf.train.GradientDescentOptimizer(0.5).minimize(loss)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        first = sess.run(loss, {x: xs, y: ys})
        for _ in range(200):
            sess.run(train, {x: xs, y: ys})
        last, wv, bv = sess.run([loss, w, b], {x: xs, y: ys})
    assert last < 1e-3 < first
    assert wv == pytest.approx(3.0, abs=0.02) and bv == pytest.approx(2.0, abs=0.02)


@pytest.mark.parametrize("make_opt", [
    lambda: tf.train.GradientDescentOptimizer(0.5),
    lambda: tf.train.MomentumOptimizer(0.2, 0.9),
    lambda: tf.train.AdagradOptimizer(0.5),
    lambda: tf.train.RMSPropOptimizer(0.01),
    lambda: tf.train.AdamOptimizer(0.05),
], ids=["sgd", "momentum", "adagrad", "rmsprop", "adam"])
def test_softmax_classifier_converges(make_opt):
    rng = np.random.RandomState(1)
    centers = np.array([[2, 0], [-2, 0], [0, 2.5]], np.float32)
    labels = rng.randint(0, 3, 300)
    feats = centers[labels] + rng.normal(0, 0.5, (300, 2)).astype(np.float32)
    onehot = np.eye(3, dtype=np.float32)[labels]
    x = tf.placeholder(tf.float32, [None, 2])
    y = tf.placeholder(tf.float32, [None, 3])
    w = tf.Variable(tf.zeros([2, 3]), name="w")
    b = tf.Variable(tf.zeros([3]), name="b")
    logits = tf.matmul(x, w) + b
    loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits_v2(labels=y, logits=logits))
    acc = tf.reduce_mean(tf.cast(tf.equal(tf.argmax(logits, 1), tf.argmax(y, 1)), tf.float32))
    gs = tf.train.get_or_create_global_step()
    train = make_opt().minimize(loss, global_step=gs)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        first = sess.run(loss, {x: feats, y: onehot})
        for _ in range(150):
            sess.run(train, {x: feats, y: onehot})
        last, accuracy, step = sess.run([loss, acc, gs], {x: feats, y: onehot})
    assert last < 0.3 * first
    assert accuracy > 0.95
    assert step == 150


# -- schedules and clipping ------------------------------------------------------------------

def test_exponential_decay():
    step = tf.placeholder(tf.int64, [])
    smooth = tf.train.exponential_decay(0.1, step, 100, 0.5)
    stairs = tf.train.exponential_decay(0.1, step, 100, 0.5, staircase=True)
    assert smooth.op.name.startswith("ExponentialDecay")
    with tf.Session() as sess:
        for s in (0, 50, 100, 250):
            a, b = sess.run([smooth, stairs], {step: s})
            assert a == pytest.approx(0.1 * 0.5 ** (s / 100), rel=1e-6)
            assert b == pytest.approx(0.1 * 0.5 ** (s // 100), rel=1e-6)
    with pytest.raises(ValueError, match="global_step is required"):
        tf.train.exponential_decay(0.1, None, 100, 0.5)


def test_decayed_learning_rate_drives_training():
    gs = tf.train.get_or_create_global_step()
    lr = tf.train.exponential_decay(1.0, gs, 1, 0.5, staircase=True)
    w = tf.Variable(0.0, name="w")
    train = tf.train.GradientDescentOptimizer(lr).minimize(-w, global_step=gs)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for _ in range(4):
            sess.run(train)
        assert sess.run(w) == pytest.approx(1 + 0.5 + 0.25 + 0.125)


def test_inverse_time_and_piecewise_constant():
    step = tf.placeholder(tf.int64, [])
    inv = tf.train.inverse_time_decay(1.0, step, 10, 0.5)
    pw = tf.train.piecewise_constant(step, [10, 20], [1.0, 0.5, 0.1])
    with tf.Session() as sess:
        assert sess.run(inv, {step: 20}) == pytest.approx(0.5)
        assert [sess.run(pw, {step: s}) for s in (0, 10, 11, 20, 21)] == \
            [pytest.approx(v) for v in (1.0, 1.0, 0.5, 0.5, 0.1)]


def test_clip_by_global_norm_on_gradients():
    w = tf.Variable([3.0, 4.0], name="w")
    b = tf.Variable(0.0, name="b")
    opt = tf.train.GradientDescentOptimizer(1.0)
    gv = opt.compute_gradients(w * w + b * 0.0)        # grads: [6, 8], 0 -> norm 10
    grads, norm = tf.clip_by_global_norm([g for g, _ in gv], 5.0)
    train = opt.apply_gradients(zip(grads, [v for _, v in gv]))
    clipped = [tf.clip_by_value(g, -1.0, 1.0) for g, _ in gv]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert sess.run(norm) == pytest.approx(10.0)
        _close(sess.run(clipped[0]), [1.0, 1.0])
        sess.run(train)
        _close(sess.run(w), [0.0, 0.0])


# -- subclassing, checkpoints --------------------------------------------------------------

class _SignSGD(tf.train.Optimizer):
    """A user-written optimizer: var -= lr * grad, sparse rows via scatter_sub."""

    def __init__(self, lr):
        super().__init__(False, "SignSGD")
        self._lr = lr
        self.seen_indices = []

    def _apply_dense(self, grad, var):
        return tf.assign_sub(var, grad * self._lr).op

    def _apply_sparse(self, grad, var):
        self.seen_indices.append(grad.indices)
        return tf.scatter_sub(var, grad.indices, grad.values * self._lr).op


def test_custom_optimizer_gets_deduplicated_sparse_rows():
    emb = tf.Variable(VOCAB, name="emb")
    dense_w = tf.Variable([1.0, 2.0], name="dense_w")
    opt = _SignSGD(0.5)
    grad = IndexedSlices(tf.constant(G), tf.constant(IDX), tf.constant([6, 2]))
    train = opt.apply_gradients([(grad, emb), (tf.constant([1.0, 1.0]), dense_w)])
    assert train.name == "SignSGD"
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert sess.run(opt.seen_indices[0]).tolist() == [0, 1, 4]
        sess.run(train)
        _close(sess.run(emb), VOCAB - 0.5 * _dense_grad())
        _close(sess.run(dense_w), [0.5, 1.5])


def test_checkpoint_restores_slots_and_continues_identically(tmp_path):
    def model():
        w, loss = _quadratic()
        gs = tf.train.get_or_create_global_step()
        train = tf.train.AdamOptimizer(0.05).minimize(loss, global_step=gs)
        return w, gs, train
    with tf.Graph().as_default():
        w, gs, train = model()
        saver = tf.train.Saver()
        names = sorted(v.op.name for v in tf.global_variables())
        assert names == ["beta1_power", "beta2_power", "global_step", "w", "w/Adam", "w/Adam_1"]
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            for _ in range(3):
                sess.run(train)
            path = saver.save(sess, str(tmp_path / "ckpt"), global_step=gs)
            for _ in range(3):
                sess.run(train)
            straight = sess.run(w)
    with tf.Graph().as_default():
        w, gs, train = model()
        saver = tf.train.Saver()
        with tf.Session() as sess:
            saver.restore(sess, path)
            assert tf.train.global_step(sess, gs) == 3
            for _ in range(3):
                sess.run(train)
            np.testing.assert_array_equal(sess.run(w), straight)
