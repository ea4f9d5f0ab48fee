"""Gradient-check cases for the core ops and the gradient machinery itself
(see tests/test_gradients_ops.py for the format)."""
import numpy as np

import flowcore.compat.v1 as tf
from flowcore.ops import array, core, math

_rng = np.random.RandomState(3)


def _r(*shape):
    return _rng.uniform(0.5, 1.5, size=shape).astype(np.float64)


def _second_derivative(x):
    """d/dx of (d/dx sum(x^3 * 2)) built by gradients: a gradient graph is
    itself differentiable."""
    first = tf.gradients(x * x * x * 2.0, x)[0]
    return first * x


def _reduce_to_shape(g, x):
    """The op `unbroadcast` adds: sum a [2, 3, 4] gradient back to x's [3, 1]."""
    return math.unbroadcast(g, x) * 1.5


CASES = [
    ("identity", ["Identity"], lambda x: core.identity(x) * x, [_r(3, 2)]),
    ("identity_scalar", ["Identity"], lambda x: core.identity(core.identity(x)), [_r()]),
    ("placeholder_product_paths", [], lambda x, y: x * y + x * x - y, [_r(2, 3), _r(2, 3)]),
    ("broadcast_paths", [], lambda x, y: x * y - y, [_r(2, 3), _r(3)]),
    ("reduce_to_shape", ["ReduceToShape"], _reduce_to_shape, [_r(2, 3, 4), _r(3, 1)]),
    ("broadcast_to", ["BroadcastTo"], lambda x: array.broadcast_to(x, [2, 3, 4]) * 2.0,
     [_r(3, 1)]),
    ("gradient_of_gradient", [], _second_derivative, [_r(4)]),
]
