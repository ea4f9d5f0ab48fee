"""tf.losses (weights, reductions, collections) and tf.layers.dense."""
import numpy as np
import pytest

import flowcore.compat.v1 as tf

PRED = np.array([[1.0, 2.0], [3.0, 5.0], [0.5, -1.0]], np.float32)
LAB = np.array([[1.5, 2.0], [2.0, 3.0], [0.0, 0.0]], np.float32)
SQ = (PRED - LAB) ** 2


def run(t, feed=None):
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        return sess.run(t, feed)


def np_log_softmax(x):
    s = x - x.max(-1, keepdims=True)
    return s - np.log(np.exp(s).sum(-1, keepdims=True))


# -- reductions -----------------------------------------------------------------------------

def test_mean_squared_error_default_reduction_and_collection():
    loss = tf.losses.mean_squared_error(LAB, PRED)
    assert loss.shape.as_list() == [] and loss.dtype == tf.float32
    assert loss.name == "mean_squared_error/value:0"
    assert tf.get_collection(tf.GraphKeys.LOSSES) == [loss]
    assert tf.losses.get_losses() == [loss]
    np.testing.assert_allclose(run(loss), SQ.mean(), rtol=1e-6)


@pytest.mark.parametrize("weights, reduction, expected", [
    (2.0, tf.losses.Reduction.SUM, 2 * SQ.sum()),
    (2.0, tf.losses.Reduction.MEAN, SQ.mean()),
    (2.0, tf.losses.Reduction.SUM_OVER_BATCH_SIZE, 2 * SQ.sum() / 6),
    ([[1.0], [0.0], [2.0]], tf.losses.Reduction.SUM_BY_NONZERO_WEIGHTS,
     (SQ[0].sum() + 2 * SQ[2].sum()) / 4),
    ([[1.0], [0.0], [2.0]], tf.losses.Reduction.MEAN, (SQ[0].sum() + 2 * SQ[2].sum()) / 6),
    ([[1.0, 0.0]], tf.losses.Reduction.SUM_BY_NONZERO_WEIGHTS, SQ[:, 0].mean()),
    (0.0, tf.losses.Reduction.SUM_BY_NONZERO_WEIGHTS, 0.0),
    (np.zeros((3, 2)), tf.losses.Reduction.SUM_BY_NONZERO_WEIGHTS, 0.0),
])
def test_weights_and_reductions(weights, reduction, expected):
    loss = tf.losses.mean_squared_error(LAB, PRED, weights=weights, reduction=reduction)
    np.testing.assert_allclose(run(loss), expected, rtol=1e-6)


def test_reduction_none_dtype_and_collection_control():
    per = tf.losses.mean_squared_error(LAB, PRED, reduction=tf.losses.Reduction.NONE,
                                       loss_collection=None)
    assert per.shape.as_list() == [3, 2]
    assert tf.get_collection(tf.GraphKeys.LOSSES) == []
    np.testing.assert_allclose(run(per), SQ, rtol=1e-6)
    l32 = tf.losses.absolute_difference(LAB.astype(np.float64), PRED.astype(np.float64))
    assert l32.dtype == tf.float32          # TF1 computes these in float32
    np.testing.assert_allclose(run(l32), np.abs(PRED - LAB).mean(), rtol=1e-6)
    l64 = tf.losses.softmax_cross_entropy(np.eye(2), np.zeros((2, 2)))
    assert l64.dtype == tf.float64          # ... and casts back to the losses' dtype
    np.testing.assert_allclose(run(l64), np.log(2.0))
    w = tf.placeholder(tf.float32, [3, 1])
    fed = tf.losses.mean_squared_error(LAB, PRED, weights=w)
    np.testing.assert_allclose(run(fed, {w: [[0.0], [1.0], [0.0]]}), SQ[1].mean(), rtol=1e-6)
    assert tf.losses.Reduction.SUM_OVER_NONZERO_WEIGHTS == \
        tf.losses.Reduction.SUM_BY_NONZERO_WEIGHTS == "weighted_sum_by_nonzero_weights"


def test_argument_errors():
    with pytest.raises(ValueError, match="Invalid Reduction Key"):
        tf.losses.mean_squared_error(LAB, PRED, reduction="bogus")
    with pytest.raises(ValueError, match="weights can not be broadcast to values"):
        tf.losses.mean_squared_error(LAB, PRED, weights=[1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="must not be None"):
        tf.losses.mean_squared_error(None, PRED)
    with pytest.raises(ValueError):
        tf.losses.mean_squared_error(LAB, PRED[:2])


# -- cross-entropy losses --------------------------------------------------------------------

LOGITS = np.array([[2.0, 1.0, 0.1], [0.5, 2.5, -1.0]], np.float32)
ONEHOT = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]], np.float32)


def test_softmax_cross_entropy_with_smoothing():
    plain = tf.losses.softmax_cross_entropy(ONEHOT, LOGITS)
    smooth = tf.losses.softmax_cross_entropy(ONEHOT, LOGITS, label_smoothing=0.3,
                                             weights=[2.0, 1.0])
    ls = np_log_softmax(LOGITS.astype(np.float64))
    per = -(ONEHOT * ls).sum(1)
    sl = ONEHOT * 0.7 + 0.1
    per_s = -(sl * ls).sum(1)
    np.testing.assert_allclose(run(plain), per.mean(), rtol=1e-6)
    np.testing.assert_allclose(run(smooth), (2 * per_s[0] + per_s[1]) / 2, rtol=1e-6)
    assert len(tf.losses.get_losses()) == 2
    assert plain.name == "softmax_cross_entropy_loss/value:0"


def test_sparse_softmax_cross_entropy_squeezes_labels():
    ls = np_log_softmax(LOGITS.astype(np.float64))
    a = tf.losses.sparse_softmax_cross_entropy([0, 2], LOGITS)
    b = tf.losses.sparse_softmax_cross_entropy([[0], [2]], LOGITS, weights=[[3.0], [0.0]])
    np.testing.assert_allclose(run(a), -(ls[0, 0] + ls[1, 2]) / 2, rtol=1e-6)
    np.testing.assert_allclose(run(b), -3 * ls[0, 0], rtol=1e-6)


def test_sigmoid_cross_entropy_and_log_loss():
    z = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]], np.float32)
    x = LOGITS.astype(np.float64)
    ref = np.maximum(x, 0) - x * z + np.log1p(np.exp(-np.abs(x)))
    np.testing.assert_allclose(run(tf.losses.sigmoid_cross_entropy(z, LOGITS)), ref.mean(),
                               rtol=1e-6)
    p = np.array([0.9, 0.2, 0.6], np.float32)
    y = np.array([1.0, 0.0, 0.0], np.float32)
    ref = -(y * np.log(p + 1e-7) + (1 - y) * np.log(1 - p + 1e-7))
    np.testing.assert_allclose(run(tf.losses.log_loss(y, p)), ref.mean(), rtol=1e-5)


def test_softmax_cross_entropy_gradient_skips_labels():
    labels = tf.constant(ONEHOT)
    logits = tf.constant(LOGITS)
    loss = tf.losses.softmax_cross_entropy(labels, logits)
    gl, glab = tf.gradients(loss, [logits, labels])
    assert glab is None
    p = np.exp(np_log_softmax(LOGITS.astype(np.float64)))
    np.testing.assert_allclose(run(gl), (p - ONEHOT) / 2, rtol=1e-5, atol=1e-7)


def test_total_loss_includes_regularization():
    a = tf.losses.mean_squared_error(LAB, PRED)
    tf.add_to_collection(tf.GraphKeys.REGULARIZATION_LOSSES, tf.constant(0.5))
    total = tf.losses.get_total_loss()
    only = tf.losses.get_total_loss(add_regularization_losses=False)
    assert total.name == "total_loss:0"
    np.testing.assert_allclose(run([total, only]), [SQ.mean() + 0.5, SQ.mean()], rtol=1e-6)
    assert run(tf.losses.get_regularization_loss()) == 0.5
    assert tf.losses.get_losses() == [a]


# -- layers.dense -----------------------------------------------------------------------------

def test_dense_variables_names_and_values():
    x = tf.placeholder(tf.float32, [None, 3])
    y = tf.layers.dense(x, 4, activation=tf.nn.relu)
    z = tf.layers.dense(y, 2)
    names = [v.name for v in tf.global_variables()]
    assert names == ["dense/kernel:0", "dense/bias:0", "dense_1/kernel:0", "dense_1/bias:0"]
    assert [v.name for v in tf.trainable_variables()] == names
    assert y.shape.as_list() == [None, 4] and z.shape.as_list() == [None, 2]
    assert y.op.type == "Relu" and y.name.startswith("dense/")
    assert z.op.type == "BiasAdd" and z.name.startswith("dense_1/")
    k = tf.global_variables()[0]
    assert k.shape.as_list() == [3, 4]
    xv = np.random.RandomState(0).randn(5, 3).astype(np.float32)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        kv, bv, k2, b2, yv, zv = sess.run(tf.global_variables() + [y, z], {x: xv})
    limit = np.sqrt(6.0 / (3 + 4))
    assert np.abs(kv).max() <= limit and np.abs(kv).std() > 0
    np.testing.assert_array_equal(bv, np.zeros(4))
    np.testing.assert_allclose(yv, np.maximum(xv @ kv + bv, 0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(zv, yv @ k2 + b2, rtol=1e-5, atol=1e-6)


def test_dense_reuse_initializers_and_options():
    x = tf.constant(np.ones((2, 3), np.float32))
    a = tf.layers.dense(x, 2, name="fc", kernel_initializer=tf.constant_initializer(0.5),
                        bias_initializer=tf.constant_initializer(1.0),
                        kernel_regularizer=lambda w: tf.reduce_sum(w))
    b = tf.layers.dense(x * 2, 2, name="fc", reuse=True,
                        kernel_regularizer=lambda w: tf.reduce_sum(w))
    c = tf.layers.dense(x, 2, use_bias=False, trainable=False, name="frozen",
                        kernel_initializer=tf.ones_initializer())
    assert len(tf.global_variables()) == 3
    assert [v.name for v in tf.trainable_variables()] == ["fc/kernel:0", "fc/bias:0"]
    assert len(tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES)) == 1
    va, vb, vc, reg = run([a, b, c, tf.losses.get_regularization_loss()])
    np.testing.assert_allclose(va, np.full((2, 2), 2.5))
    np.testing.assert_allclose(vb, np.full((2, 2), 4.0))
    np.testing.assert_allclose(vc, np.full((2, 2), 3.0))
    assert reg == 3.0
    with pytest.raises(ValueError):
        tf.layers.dense(x, 2, name="fc")          # exists, not reusing


def test_dense_higher_rank_and_errors():
    x = tf.constant(np.arange(24, dtype=np.float32).reshape(2, 3, 4))
    y = tf.layers.dense(x, 5, kernel_initializer=tf.ones_initializer())
    assert y.shape.as_list() == [2, 3, 5]
    np.testing.assert_allclose(run(y), np.repeat(np.arange(24).reshape(2, 3, 4).sum(-1,
                                                 keepdims=True), 5, -1))
    with pytest.raises(ValueError, match="last dimension of the inputs to `Dense` should be "
                                         "defined"):
        tf.layers.dense(tf.placeholder(tf.float32, [None, None]), 3)
