"""Gradient-check cases for the ops of flowcore/ops/nn.py.

CASES = [(case_id, [op types covered], builder, [float64 inputs])]: `builder`
builds the op(s) from float64 tensors.  Inputs stay away from kinks (relu at
0, relu6 at 0 and 6, top-k ties) so central differences are valid.  Outputs
whose sum has a zero gradient (softmax) are weighted by a fixed array.
"""
import numpy as np

import flowcore.compat.v1 as tf
from flowcore.ops.core import apply_op, apply_op1

_rng = np.random.RandomState(42)


def _x(*shape, scale=1.0):
    return _rng.uniform(-2, 2, size=shape) * scale


def _away_from(x, points, margin=0.1):
    """Push entries of `x` away from the given kink points."""
    x = x.copy()
    for p in points:
        close = np.abs(x - p) < margin
        x[close] = p + np.where(x[close] >= p, margin, -margin)
    return x


_W = np.array([[0.3, -1.2, 2.0, 0.7], [1.5, 0.2, -0.4, 1.1], [-0.9, 0.8, 0.1, 0.6]])
_RELU_X = _away_from(_x(3, 4), [0.0])
_RELU6_X = _away_from(_rng.uniform(-2, 8, size=(3, 4)), [0.0, 6.0])


def _distribution(*shape):
    """Rows summing to 1: the fused kernel's backprop (softmax - labels) is
    the gradient of the loss only for such labels, as in TF."""
    p = _rng.uniform(0.1, 1, size=shape)
    return p / p.sum(axis=-1, keepdims=True)


def _grad_op(op_type, **attrs):
    def build(g, x):
        return apply_op1(op_type, [g, x], dict(attrs, T=x.dtype), op_type)
    return build


def _xent_with_backprop(logits, labels):
    op = apply_op("SoftmaxCrossEntropyWithLogits", [logits, labels], {"T": logits.dtype})
    loss, backprop = op.outputs
    return loss * 2.0 + tf.reduce_sum(backprop * _W[:2, :3], axis=1)


def _sparse_xent(logits):
    return tf.nn.sparse_softmax_cross_entropy_with_logits(labels=[2, 0, 1], logits=logits)


def _sparse_xent_with_backprop(logits):
    op = apply_op("SparseSoftmaxCrossEntropyWithLogits",
                  [logits, tf.constant([2, 0, 1], dtype=tf.int64)],
                  {"T": logits.dtype, "Tlabels": tf.int64})
    loss, backprop = op.outputs
    return loss * 1.5 + tf.reduce_sum(backprop * _W, axis=1)


def _nce(weights, biases, inputs):
    sampled = (tf.constant([0, 3, 5], dtype=tf.int64),
               tf.constant([[0.4], [0.7]], dtype=tf.float32),
               tf.constant([0.9, 0.3, 0.2], dtype=tf.float32))
    return tf.nn.nce_loss(weights, biases, labels=[[1], [4]], inputs=inputs, num_sampled=3,
                          num_classes=6, sampled_values=sampled)


CASES = [
    ("relu", ["Relu"], tf.nn.relu, [_RELU_X]),
    ("relu_grad", ["ReluGrad"], _grad_op("ReluGrad"), [_x(3, 4), _RELU_X]),
    ("relu6", ["Relu6"], tf.nn.relu6, [_RELU6_X]),
    ("relu6_grad", ["Relu6Grad"], _grad_op("Relu6Grad"), [_x(3, 4), _RELU6_X]),
    ("elu", ["Elu"], tf.nn.elu, [_away_from(_x(3, 4), [0.0])]),
    ("elu_grad", ["EluGrad"], _grad_op("EluGrad"),
     [_x(3, 4), _away_from(_rng.uniform(-0.9, 2, size=(3, 4)), [0.0])]),
    ("selu", ["Selu"], tf.nn.selu, [_away_from(_x(3, 4), [0.0])]),
    ("selu_grad", ["SeluGrad"], _grad_op("SeluGrad"),
     [_x(3, 4), _away_from(_rng.uniform(-1.5, 2, size=(3, 4)), [0.0])]),
    ("leaky_relu", ["LeakyRelu"], lambda x: tf.nn.leaky_relu(x, alpha=0.3),
     [_away_from(_x(3, 4), [0.0])]),
    ("leaky_relu_grad", ["LeakyReluGrad"], _grad_op("LeakyReluGrad", alpha=0.3),
     [_x(3, 4), _away_from(_x(3, 4), [0.0])]),
    ("softplus", ["Softplus"], tf.nn.softplus, [_x(3, 4, scale=3)]),
    ("softplus_grad", ["SoftplusGrad"], _grad_op("SoftplusGrad"), [_x(3, 4), _x(3, 4)]),
    ("softmax", ["Softmax"], lambda x: tf.nn.softmax(x) * _W, [_x(3, 4)]),
    ("softmax_axis0", ["Softmax"], lambda x: tf.nn.softmax(x, axis=0) * _W, [_x(3, 4)]),
    ("log_softmax", ["LogSoftmax"], lambda x: tf.nn.log_softmax(x) * _W, [_x(3, 4)]),
    ("bias_add", ["BiasAdd"], tf.nn.bias_add, [_x(2, 3, 4), _x(4)]),
    ("bias_add_nchw", ["BiasAdd"], lambda x, b: tf.nn.bias_add(x, b, data_format="NCHW"),
     [_x(2, 3, 4), _x(3)]),
    ("bias_add_grad", ["BiasAddGrad"],
     lambda g: apply_op1("BiasAddGrad", [g], {"T": g.dtype, "data_format": "NHWC"}),
     [_x(2, 3, 4)]),
    ("bias_add_grad_nchw", ["BiasAddGrad"],
     lambda g: apply_op1("BiasAddGrad", [g], {"T": g.dtype, "data_format": "NCHW"}),
     [_x(2, 3, 4)]),
    ("l2_loss", ["L2Loss"], tf.nn.l2_loss, [_x(3, 4)]),
    ("softmax_xent", ["SoftmaxCrossEntropyWithLogits"],
     lambda logits, labels: tf.nn.softmax_cross_entropy_with_logits_v2(labels=labels,
                                                                       logits=logits),
     [_x(2, 3), _distribution(2, 3)]),
    ("softmax_xent_backprop", ["SoftmaxCrossEntropyWithLogits"], _xent_with_backprop,
     [_x(2, 3), _distribution(2, 3)]),
    ("softmax_xent_rank3", ["SoftmaxCrossEntropyWithLogits"],
     lambda logits, labels: tf.nn.softmax_cross_entropy_with_logits_v2(labels=labels,
                                                                       logits=logits),
     [_x(2, 2, 3), _distribution(2, 2, 3)]),
    ("sparse_softmax_xent", ["SparseSoftmaxCrossEntropyWithLogits"], _sparse_xent,
     [_x(3, 4)]),
    ("sparse_softmax_xent_backprop", ["SparseSoftmaxCrossEntropyWithLogits"],
     _sparse_xent_with_backprop, [_x(3, 4)]),
    ("top_k", ["TopKV2"], lambda x: tf.nn.top_k(x, 2).values * _W[:2, :2],
     [np.array([[0.1, 1.5, -0.7, 0.9], [2.0, -1.0, 0.4, 1.2]])]),
    # composites built from other families' ops and the ones above
    ("sigmoid_xent", [], lambda logits, labels: tf.nn.sigmoid_cross_entropy_with_logits(
        labels=labels, logits=logits), [_x(3, 4, scale=3), _rng.uniform(0, 1, size=(3, 4))]),
    ("l2_normalize", [], lambda x: tf.nn.l2_normalize(x, axis=1) * _W, [_x(3, 4)]),
    ("moments", [], lambda x: sum(tf.nn.moments(x, axes=[0])) * _W[0], [_x(3, 4)]),
    ("xw_plus_b", [], tf.nn.xw_plus_b, [_x(2, 3), _x(3, 4), _x(4)]),
    ("embedding_lookup", [], lambda p: tf.nn.embedding_lookup(p, [[0, 2], [2, 1]]) * 1.5,
     [_x(3, 4)]),
    ("embedding_lookup_sharded", [],
     lambda p0, p1: tf.nn.embedding_lookup([p0, p1], [0, 3, 2]) * _W,
     [_x(2, 4), _x(2, 4)]),
    ("nce_loss", [], _nce, [_x(6, 3), _x(6), _x(2, 3)]),
]
