"""tf.nn: values against numpy formulas, TF's static shapes, names and errors."""
import numpy as np
import pytest

import flowcore.compat.v1 as tf

X = np.array([[1.0, -2.0, 3.0, 0.5], [0.25, 7.0, -0.1, -4.0]], np.float32)


def run(t, feed=None):
    with tf.Session() as sess:
        return sess.run(t, feed)


def np_softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def np_log_softmax(x, axis=-1):
    s = x - x.max(axis=axis, keepdims=True)
    return s - np.log(np.exp(s).sum(axis=axis, keepdims=True))


def np_sigmoid_xent(x, z):
    return np.maximum(x, 0) - x * z + np.log1p(np.exp(-np.abs(x)))


# -- activations --------------------------------------------------------------------------

@pytest.mark.parametrize("fn, ref, op_type", [
    (tf.nn.relu, lambda x: np.maximum(x, 0), "Relu"),
    (tf.nn.relu6, lambda x: np.clip(x, 0, 6), "Relu6"),
    (tf.nn.elu, lambda x: np.where(x > 0, x, np.expm1(x)), "Elu"),
    (tf.nn.selu, lambda x: 1.0507009873554805 * np.where(x > 0, x, 1.6732632423543772 *
                                                         np.expm1(x)), "Selu"),
    (tf.nn.leaky_relu, lambda x: np.where(x > 0, x, 0.2 * x), "LeakyRelu"),
    (tf.nn.softplus, lambda x: np.log1p(np.exp(x)), "Softplus"),
])
def test_activations(fn, ref, op_type):
    y = fn(X)
    assert y.op.type == op_type and y.name == op_type + ":0"
    assert y.shape.as_list() == [2, 4] and y.dtype == tf.float32
    v = run(y)
    assert v.dtype == np.float32
    np.testing.assert_allclose(v, ref(X.astype(np.float64)), rtol=1e-6, atol=1e-7)


def test_activation_dtypes_and_extremes():
    assert run(tf.nn.relu([1, -2, 3])).tolist() == [1, 0, 3]
    with pytest.raises(TypeError, match="DataType int32 not in list of allowed values"):
        tf.nn.softmax([1, 2])
    with pytest.raises(TypeError, match="not in list of allowed values"):
        tf.nn.elu([1, 2])
    big = np.array([-1000.0, 0.0, 1000.0], np.float64)
    np.testing.assert_allclose(run(tf.nn.softplus(big)), [0.0, np.log(2.0), 1000.0])
    assert run(tf.nn.leaky_relu(X, alpha=0.5))[0, 1] == -1.0
    assert tf.nn.sigmoid(X).op.type == "Sigmoid" and tf.nn.tanh(X).op.type == "Tanh"


def test_softmax_and_log_softmax():
    np.testing.assert_allclose(run(tf.nn.softmax(X)), np_softmax(X), rtol=1e-6)
    np.testing.assert_allclose(run(tf.nn.log_softmax(X)), np_log_softmax(X), rtol=1e-5)
    np.testing.assert_allclose(run(tf.nn.softmax(X, axis=0)), np_softmax(X, 0), rtol=1e-6)
    np.testing.assert_allclose(run(tf.nn.log_softmax(X, dim=0)), np_log_softmax(X, 0),
                               rtol=1e-5, atol=1e-6)
    x3 = np.arange(24, dtype=np.float64).reshape(2, 3, 4) / 5
    np.testing.assert_allclose(run(tf.nn.softmax(x3, axis=1)), np_softmax(x3, 1))
    huge = np.array([[1000.0, 0.0, -1000.0]])
    np.testing.assert_allclose(run(tf.nn.softmax(huge)), [[1, 0, 0]], atol=1e-12)
    with tf.Graph().as_default():
        assert tf.nn.softmax(X).name == "Softmax:0"
        assert tf.nn.log_softmax(X).name == "LogSoftmax:0"
    with pytest.raises(ValueError, match="at least rank 1"):
        tf.nn.softmax(tf.constant(1.0))


def test_bias_add():
    b = np.array([1.0, 2.0, 3.0, 4.0], np.float32)
    y = tf.nn.bias_add(X, b)
    assert y.name == "BiasAdd:0" and y.shape.as_list() == [2, 4]
    np.testing.assert_allclose(run(y), X + b)
    x = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    nchw = tf.nn.bias_add(x, [1.0, 2.0, 3.0], data_format="NCHW")
    np.testing.assert_allclose(run(nchw), x + np.array([1, 2, 3])[:, None])
    p = tf.placeholder(tf.float32, [None, None])
    assert tf.nn.bias_add(p, b).shape.as_list() == [None, 4]
    with pytest.raises(ValueError, match="Dimensions must be equal, but are 4 and 2"):
        tf.nn.bias_add(X, [1.0, 2.0])
    with pytest.raises(ValueError, match="must be rank 1 but is rank 2"):
        tf.nn.bias_add(X, [[1.0, 2.0, 3.0, 4.0]])
    with pytest.raises(ValueError, match="at least rank 2"):
        tf.nn.bias_add([1.0, 2.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="at least rank 3"):
        tf.nn.bias_add(X, b, data_format="NCHW")


def test_l2_loss_and_xw_plus_b():
    y = tf.nn.l2_loss(X)
    assert y.shape.as_list() == [] and y.name == "L2Loss:0"
    np.testing.assert_allclose(run(y), (X.astype(np.float64) ** 2).sum() / 2, rtol=1e-6)
    w = np.ones((4, 2), np.float32)
    np.testing.assert_allclose(run(tf.nn.xw_plus_b(X, w, [1.0, -1.0])),
                               X @ w + [1.0, -1.0], rtol=1e-6)


# -- cross-entropies ------------------------------------------------------------------------

LABELS = np.array([[0.0, 1.0, 0.0, 0.0], [0.2, 0.3, 0.5, 0.0]], np.float32)


def test_softmax_cross_entropy_values_and_shapes():
    v2 = tf.nn.softmax_cross_entropy_with_logits_v2(labels=LABELS, logits=X)
    v1 = tf.nn.softmax_cross_entropy_with_logits(labels=LABELS, logits=X)
    assert v2.shape.as_list() == [2] and v1.shape.as_list() == [2]
    assert v2.op.type == "SoftmaxCrossEntropyWithLogits"
    assert v2.name == "softmax_cross_entropy_with_logits:0"
    ref = -(LABELS * np_log_softmax(X.astype(np.float64))).sum(1)
    np.testing.assert_allclose(run(v2), ref, rtol=1e-6)
    np.testing.assert_allclose(run(v1), ref, rtol=1e-6)
    x3 = np.random.RandomState(0).randn(2, 3, 4)
    l3 = np_softmax(np.random.RandomState(1).randn(2, 3, 4))
    r3 = tf.nn.softmax_cross_entropy_with_logits_v2(labels=l3, logits=x3)
    assert r3.shape.as_list() == [2, 3]
    np.testing.assert_allclose(run(r3), -(l3 * np_log_softmax(x3)).sum(-1))
    r0 = tf.nn.softmax_cross_entropy_with_logits_v2(labels=l3, logits=x3, axis=0)
    assert r0.shape.as_list() == [3, 4]
    np.testing.assert_allclose(run(r0), -(l3 * np_log_softmax(x3, 0)).sum(0))
    # large logits stay finite
    big = tf.nn.softmax_cross_entropy_with_logits_v2(labels=[[0.0, 1.0]], logits=[[1e4, -1e4]])
    np.testing.assert_allclose(run(big), [2e4])
    with pytest.raises(ValueError):
        tf.nn.softmax_cross_entropy_with_logits_v2(labels=np.zeros((2, 3)), logits=X)


def test_softmax_cross_entropy_fused_outputs():
    from flowcore.ops.core import apply_op
    op = apply_op("SoftmaxCrossEntropyWithLogits", [tf.constant(X), tf.constant(LABELS)])
    assert [t.shape.as_list() for t in op.outputs] == [[2], [2, 4]]
    loss, back = run(op.outputs)
    np.testing.assert_allclose(back, np_softmax(X) - LABELS, rtol=1e-5, atol=1e-7)


def test_sparse_softmax_cross_entropy():
    y = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=[1, 2], logits=X)
    assert y.shape.as_list() == [2]
    assert y.name == "SparseSoftmaxCrossEntropyWithLogits/SparseSoftmaxCrossEntropyWithLogits:0"
    ref = -np_log_softmax(X.astype(np.float64))[[0, 1], [1, 2]]
    np.testing.assert_allclose(run(y), ref, rtol=1e-6)
    y64 = tf.nn.sparse_softmax_cross_entropy_with_logits(
        labels=tf.constant([1, 2], tf.int64), logits=X)
    np.testing.assert_allclose(run(y64), ref, rtol=1e-6)
    x3 = np.random.RandomState(0).randn(2, 3, 5)
    l3 = np.array([[0, 4, 2], [1, 1, 3]])
    r3 = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=l3, logits=x3)
    assert r3.shape.as_list() == [2, 3]
    ls = np_log_softmax(x3)
    np.testing.assert_allclose(run(r3), -np.take_along_axis(ls, l3[..., None], -1)[..., 0])


def test_sparse_softmax_cross_entropy_errors():
    with pytest.raises(ValueError, match=r"`labels.shape.rank` must equal "
                                         r"`logits.shape.rank - 1`"):
        tf.nn.sparse_softmax_cross_entropy_with_logits(labels=[[1]], logits=X[:1])
    with pytest.raises(TypeError, match="DataType float32 not in list of allowed values: "
                                        "int32, int64"):
        tf.nn.sparse_softmax_cross_entropy_with_logits(labels=[1.0, 2.0], logits=X)
    with pytest.raises(ValueError, match="except for the last dimension"):
        tf.nn.sparse_softmax_cross_entropy_with_logits(labels=[1, 2, 3], logits=X)
    logits = tf.zeros([2, 5])
    bad = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=[7, 1], logits=logits)
    neg = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=[-1, 1], logits=logits)
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError) as e:
            sess.run(bad)
        assert "Received a label value of 7 which is outside the valid range of [0, 5).  " \
               "Label values: 7 1" in str(e.value)
        assert e.value.op.type == "SparseSoftmaxCrossEntropyWithLogits"
        with pytest.raises(tf.errors.InvalidArgumentError, match="label value of -1"):
            sess.run(neg)


def test_sigmoid_cross_entropy():
    z = np.array([[1.0, 0.0, 0.5, 1.0], [0.0, 1.0, 0.0, 0.3]], np.float32)
    y = tf.nn.sigmoid_cross_entropy_with_logits(labels=z, logits=X)
    assert y.shape.as_list() == [2, 4] and y.name == "logistic_loss:0"
    np.testing.assert_allclose(run(y), np_sigmoid_xent(X.astype(np.float64), z), rtol=1e-6)
    big = tf.nn.sigmoid_cross_entropy_with_logits(labels=[1.0, 0.0], logits=[-200.0, 200.0])
    np.testing.assert_allclose(run(big), [200.0, 200.0])
    with pytest.raises(ValueError, match="must have the same shape"):
        tf.nn.sigmoid_cross_entropy_with_logits(labels=[1.0], logits=X)


# -- top-k --------------------------------------------------------------------------------

def test_in_top_k():
    pred = np.array([[1.0, 2.0, 2.0, np.nan], [1.0, 2.0, 2.0, 3.0], [1, 1, 1, 1],
                     [1, 2, 3, 4], [0.1, 0.9, 0.5, 0.2]], np.float32)
    r = tf.nn.in_top_k(pred, [1, 1, 0, 7, 2], 2)
    assert r.dtype == tf.bool and r.shape.as_list() == [5]
    assert r.name == "in_top_k/InTopKV2:0"
    assert run(r).tolist() == [False, True, True, False, True]
    assert run(tf.nn.in_top_k(pred[1:], tf.constant([2, 0, 0, 0], tf.int64), 1)).tolist() == \
        [False, True, False, False]
    with pytest.raises(TypeError, match="'targets' has DataType float32"):
        tf.nn.in_top_k(pred, [1.0] * 5, 1)


def test_top_k():
    x = np.array([[3.0, 1.0, 3.0, 2.0], [0.0, 5.0, -1.0, 5.0]], np.float32)
    values, indices = tf.nn.top_k(x, 3)
    assert values.shape.as_list() == [2, 3] and indices.dtype == tf.int32
    assert values.name == "TopKV2:0" and indices.name == "TopKV2:1"
    v, i = run([values, indices])
    np.testing.assert_array_equal(v, [[3, 3, 2], [5, 5, 0]])
    np.testing.assert_array_equal(i, [[0, 2, 3], [1, 3, 0]])      # ties: lower index first
    assert run(tf.nn.top_k([4, 9, 1]).indices).tolist() == [1]
    k = tf.placeholder(tf.int32, [])
    dyn = tf.nn.top_k(x, k)
    assert dyn.values.shape.as_list() == [2, None]
    np.testing.assert_array_equal(run(dyn.values, {k: 1}), [[3], [5]])
    with pytest.raises(ValueError, match="input must have last dimension >= k = 5 but is 4"):
        tf.nn.top_k(x, 5)
    with pytest.raises(ValueError, match="at least rank 1"):
        tf.nn.top_k(tf.constant(1.0), 1)
    with pytest.raises(ValueError, match="must be non-negative"):
        tf.nn.top_k(x, -1)
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match="input must have at least k columns. Had 4, needed 6"):
        run(dyn, {k: 6})


# -- dropout, normalisation, moments ------------------------------------------------------

def test_dropout_scales_and_keeps_fraction():
    x = np.ones((200, 100), np.float32)
    d = tf.nn.dropout(x, keep_prob=0.25, seed=1)
    r = tf.nn.dropout(x, rate=0.6, seed=2)
    assert d.shape.as_list() == [200, 100]
    with tf.Session() as sess:
        a, b, c = sess.run(d), sess.run(d), sess.run(r)
    assert set(np.unique(a)) == {0.0, 4.0}
    assert abs((a > 0).mean() - 0.25) < 0.02
    assert not np.array_equal(a, b)
    assert set(np.unique(c)) == {0.0, np.float32(2.5)}
    assert abs((c > 0).mean() - 0.4) < 0.02


def test_dropout_noise_shape_tensor_rate_and_identity():
    x = np.ones((50, 6), np.float32)
    d = tf.nn.dropout(x, keep_prob=0.5, noise_shape=[50, 1], seed=3)
    v = run(d)
    assert ((v == 0).all(axis=1) | (v == 2).all(axis=1)).all()     # whole rows
    kp = tf.placeholder(tf.float32, [])
    t = tf.nn.dropout(x, keep_prob=kp)
    np.testing.assert_array_equal(run(t, {kp: 1.0}), x)
    assert set(np.unique(run(t, {kp: 0.5}))) <= {0.0, 2.0}
    c = tf.constant(x)
    assert tf.nn.dropout(c, keep_prob=1.0) is c
    assert tf.nn.dropout(c, rate=0.0) is c
    with pytest.raises(ValueError, match="Cannot specify both 'keep_prob' and 'rate'"):
        tf.nn.dropout(c, keep_prob=0.5, rate=0.5)
    with pytest.raises(ValueError, match="range"):
        tf.nn.dropout(c, rate=1.0)
    with pytest.raises(ValueError, match="range"):
        tf.nn.dropout(c, keep_prob=0.0)
    with pytest.raises(ValueError, match="floating point"):
        tf.nn.dropout([1, 2], keep_prob=0.5)


def test_l2_normalize_moments_zero_fraction():
    y = tf.nn.l2_normalize(X, axis=1)
    assert y.name == "l2_normalize:0" and y.shape.as_list() == [2, 4]
    np.testing.assert_allclose(run(y), X / np.linalg.norm(X, axis=1, keepdims=True), rtol=1e-6)
    np.testing.assert_allclose(run(tf.nn.l2_normalize(X, dim=0)),
                               X / np.linalg.norm(X, axis=0, keepdims=True), rtol=1e-6)
    np.testing.assert_array_equal(run(tf.nn.l2_normalize([0.0, 0.0], 0)), [0.0, 0.0])
    mean, var = tf.nn.moments(X, axes=[1])
    assert mean.shape.as_list() == [2] and var.shape.as_list() == [2]
    np.testing.assert_allclose(run([mean, var]), [X.mean(1), X.var(1)], rtol=1e-5)
    mk, vk = tf.nn.moments(X, axes=[0, 1], keep_dims=True)
    assert mk.shape.as_list() == [1, 1]
    np.testing.assert_allclose(run(vk), [[X.var()]], rtol=1e-5)
    zf = tf.nn.zero_fraction([[0, 1], [0, 0]])
    assert zf.dtype == tf.float32 and run(zf) == 0.75


# -- embeddings and NCE ---------------------------------------------------------------------

def test_embedding_lookup_single_and_sharded():
    params = np.arange(20, dtype=np.float32).reshape(5, 4)
    e = tf.nn.embedding_lookup(params, [[4, 0], [2, 2]])
    assert e.shape.as_list() == [2, 2, 4]
    assert e.name == "embedding_lookup/Identity:0"
    np.testing.assert_array_equal(run(e), params[[[4, 0], [2, 2]]])
    ids = [0, 1, 2, 3, 4]
    # mod: id i in shard i % 2 at row i // 2 ; div: contiguous ranges (3 + 2 rows)
    mod = tf.nn.embedding_lookup([params[[0, 2, 4]], params[[1, 3]]], ids)
    div = tf.nn.embedding_lookup([params[:3], params[3:]], ids, partition_strategy="div")
    np.testing.assert_array_equal(run(mod), params)
    np.testing.assert_array_equal(run(div), params)
    v = tf.Variable(params)
    ev = tf.nn.embedding_lookup(v, [3])
    clipped = tf.nn.embedding_lookup(params, [1], max_norm=1.0)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        np.testing.assert_array_equal(sess.run(ev), params[[3]])
        np.testing.assert_allclose(sess.run(clipped), params[[1]] /
                                   np.linalg.norm(params[1]), rtol=1e-6)
    with pytest.raises(ValueError, match="partition strategy"):
        tf.nn.embedding_lookup(params, [1], partition_strategy="bogus")


def np_nce(weights, biases, labels, inputs, sampled, true_ec, samp_ec, remove_hits=False):
    num_true = labels.shape[1]
    tl = np.einsum("bd,btd->bt", inputs, weights[labels]) + biases[labels] - np.log(true_ec)
    sl = inputs @ weights[sampled].T + biases[sampled] - np.log(samp_ec)
    if remove_hits:
        hits = (labels[:, :, None] == sampled[None, None, :]).any(1)
        sl = sl + hits * np.finfo(np.float32).min
    logits = np.concatenate([tl, sl], 1)
    targets = np.concatenate([np.full(tl.shape, 1.0 / num_true), np.zeros(sl.shape)], 1)
    return np_sigmoid_xent(logits, targets).sum(1)


@pytest.mark.parametrize("remove_hits", [False, True])
def test_nce_loss_matches_numpy_with_fixed_samples(remove_hits):
    rng = np.random.RandomState(0)
    weights, biases = rng.randn(10, 3), rng.randn(10)
    inputs = rng.randn(4, 3)
    labels = np.array([[1, 2], [3, 7], [0, 1], [9, 3]])
    sampled = np.array([3, 5, 1], np.int64)
    true_ec = rng.uniform(0.1, 1, size=(4, 2)).astype(np.float32)
    samp_ec = rng.uniform(0.1, 1, size=3).astype(np.float32)
    loss = tf.nn.nce_loss(weights, biases, labels, inputs, num_sampled=3, num_classes=10,
                          num_true=2, sampled_values=(sampled, true_ec, samp_ec),
                          remove_accidental_hits=remove_hits)
    assert loss.shape.as_list() == [4] and loss.dtype == tf.float64
    ref = np_nce(weights, biases, labels, inputs, sampled, true_ec.astype(np.float64),
                 samp_ec.astype(np.float64), remove_hits)
    np.testing.assert_allclose(run(loss), ref, rtol=1e-5)


def test_nce_loss_default_sampler_runs_and_is_seeded():
    tf.set_random_seed(7)
    rng = np.random.RandomState(1)
    loss = tf.nn.nce_loss(rng.randn(50, 4).astype(np.float32), np.zeros(50, np.float32),
                          [[1], [2], [3]], rng.randn(3, 4).astype(np.float32),
                          num_sampled=5, num_classes=50, remove_accidental_hits=True)
    with tf.Session() as sess:
        a = sess.run(loss)
    with tf.Session() as sess:
        b = sess.run(loss)
    assert a.shape == (3,) and np.isfinite(a).all() and (a > 0).all()
    np.testing.assert_array_equal(a, b)


# -- gradients ------------------------------------------------------------------------------

def test_gradients_of_fused_cross_entropies():
    logits = tf.constant(X.astype(np.float64))
    labels = tf.constant(LABELS.astype(np.float64))
    v2 = tf.nn.softmax_cross_entropy_with_logits_v2(labels=labels, logits=logits)
    v1 = tf.nn.softmax_cross_entropy_with_logits(labels=labels, logits=logits)
    sp = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=[1, 2], logits=logits)
    g2 = tf.gradients(v2, [logits, labels])
    g1 = tf.gradients(v1, [logits, labels])
    gs = tf.gradients(sp, [logits])
    assert g1[1] is None                                       # v1 stops label gradients
    p = np_softmax(X.astype(np.float64))
    with tf.Session() as sess:
        (dl2, dz2), dl1, dls = sess.run([g2, g1[0], gs[0]])
    np.testing.assert_allclose(dl2, p - LABELS, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(dz2, -np_log_softmax(X.astype(np.float64)), rtol=1e-6)
    np.testing.assert_allclose(dl1, p - LABELS, rtol=1e-6, atol=1e-7)
    onehot = np.eye(4)[[1, 2]]
    np.testing.assert_allclose(dls, p - onehot, rtol=1e-6, atol=1e-7)


def test_relu_gradient_and_gradient_op_names():
    x = tf.constant([-1.0, 2.0, 0.5])
    g = tf.gradients(tf.nn.relu(x), x)[0]
    assert g.op.type == "ReluGrad"
    np.testing.assert_array_equal(run(g), [0.0, 1.0, 1.0])


def test_nce_loss_decreases_when_trained():
    tf.set_random_seed(3)
    vocab, dim, batch = 40, 8, 32
    rng = np.random.RandomState(0)
    centers = rng.randint(0, vocab, size=256)
    targets = (centers * 7 + 3) % vocab              # a deterministic "context" word
    c = tf.placeholder(tf.int32, [batch])
    t = tf.placeholder(tf.int32, [batch, 1])
    emb = tf.Variable(tf.random_uniform([vocab, dim], -1.0, 1.0, seed=1))
    w = tf.Variable(tf.truncated_normal([vocab, dim], stddev=0.3, seed=2))
    b = tf.Variable(tf.zeros([vocab]))
    loss = tf.reduce_mean(tf.nn.nce_loss(w, b, t, tf.nn.embedding_lookup(emb, c),
                                         num_sampled=8, num_classes=vocab,
                                         remove_accidental_hits=True))
    step = tf.train.GradientDescentOptimizer(0.5).minimize(loss)
    losses = []
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for i in range(150):
            k = (i * batch) % 256
            feed = {c: centers[k:k + batch], t: targets[k:k + batch, None]}
            losses.append(sess.run([loss, step], feed)[0])
    assert np.mean(losses[-10:]) < 0.5 * np.mean(losses[:10])
