"""Numerical gradient checking (TF's `tf.test.compute_gradient`).

`compute_gradient(x, x_shape, y, y_shape)` returns the Jacobian of `y` w.r.t.
`x` twice: *theoretical*, from the graph's `gradients` (one backward run per
element of y, with a one-hot `grad_ys`), and *numerical*, from central
differences (y(x + delta) - y(x - delta)) / (2 delta) per element of x.
Both are arrays of shape [x.size, y.size]: entry [i, j] is dy_j / dx_i.
`compute_gradient_error` is the largest absolute difference between them.

Runs in the default session, or in a temporary one on y's graph.
"""
import numpy as np

from flowcore import gradients as gradients_lib
from flowcore.graph import Tensor

__all__ = ["compute_gradient", "compute_gradient_error"]


def _session(graph):
    from flowcore.session import Session, get_default_session
    sess = get_default_session()
    if sess is not None and sess.graph is graph:
        return sess, False
    return Session(graph=graph), True


def _dense_value(v, shape):
    """A fetched gradient as a dense array ((values, indices) of IndexedSlices
    scattered into zeros)."""
    if isinstance(v, tuple):
        values, indices = (np.asarray(a) for a in v)
        out = np.zeros(shape, dtype=values.dtype)
        np.add.at(out, indices, values)
        return out
    return np.asarray(v)


def _fetchable(g):
    if g is None or isinstance(g, Tensor):
        return g
    return (g.values, g.indices)   # IndexedSlices


def _theoretical(sess, x, x_shape, x_data, y, y_shape, feed):
    from flowcore.ops import core
    x_size = int(np.prod(x_shape, dtype=np.int64))
    y_size = int(np.prod(y_shape, dtype=np.int64))
    dtype = np.asarray(x_data).dtype
    jac = np.zeros((x_size, y_size), dtype=dtype)
    with y.graph.as_default():
        dy = core.placeholder(y.dtype, y_shape, name="compute_gradient_dy")
        dx = gradients_lib.gradients(y, x, grad_ys=dy)[0]
    if dx is None:
        return jac
    fetch = _fetchable(dx)
    dy_data = np.zeros(y_shape, dtype=y.dtype.as_numpy_dtype)
    flat = dy_data.reshape(-1)
    for col in range(y_size):
        flat[col] = 1
        f = dict(feed)
        f[dy] = dy_data
        v = sess.run(fetch, f)
        jac[:, col] = _dense_value(v, x_shape).reshape(-1)
        flat[col] = 0
    return jac


def _numerical(sess, x, x_shape, x_data, y, y_shape, delta, feed):
    x_size = int(np.prod(x_shape, dtype=np.int64))
    y_size = int(np.prod(y_shape, dtype=np.int64))
    x_data = np.array(x_data, copy=True)
    jac = np.zeros((x_size, y_size), dtype=x_data.dtype)
    flat = x_data.reshape(-1)
    for row in range(x_size):
        orig = flat[row]
        f = dict(feed)
        flat[row] = orig + delta
        f[x] = x_data.copy()
        y_pos = np.asarray(sess.run(y, f), dtype=np.float64)
        flat[row] = orig - delta
        f[x] = x_data.copy()
        y_neg = np.asarray(sess.run(y, f), dtype=np.float64)
        flat[row] = orig
        jac[row, :] = ((y_pos - y_neg) / (2 * delta)).reshape(-1)
    return jac


def compute_gradient(x, x_shape, y, y_shape, x_init_value=None, delta=1e-3,
                     init_targets=None, extra_feed_dict=None):
    """(theoretical, numerical) Jacobians of `y` w.r.t. `x`; a list of such
    pairs when `x` is a list (then `x_shape` and `x_init_value` are lists)."""
    if isinstance(x, (list, tuple)):
        shapes = list(x_shape)
        inits = list(x_init_value) if x_init_value is not None else [None] * len(x)
        return _compute_many(list(x), shapes, y, y_shape, inits, delta, init_targets,
                             extra_feed_dict)
    return _compute_many([x], [x_shape], y, y_shape, [x_init_value], delta, init_targets,
                         extra_feed_dict)[0]


def _compute_many(xs, x_shapes, y, y_shape, inits, delta, init_targets, extra_feed_dict):
    sess, owned = _session(y.graph)
    try:
        if init_targets is not None:
            for t in init_targets:
                sess.run(t)
        rng = np.random.RandomState(0)
        data = []
        for x, shape, init in zip(xs, x_shapes, inits):
            npdt = x.dtype.as_numpy_dtype
            if init is None:
                init = rng.random_sample(shape).astype(npdt)
            else:
                init = np.asarray(init, dtype=npdt)
                if tuple(init.shape) != tuple(shape):
                    raise ValueError("x_init_value has shape %s, x_shape is %s"
                                     % (init.shape, tuple(shape)))
            data.append(init)
        feed = dict(extra_feed_dict or {})
        for x, d in zip(xs, data):
            feed[x] = d
        out = []
        for x, shape, d in zip(xs, x_shapes, data):
            out.append((_theoretical(sess, x, shape, d, y, y_shape, feed),
                        _numerical(sess, x, shape, d, y, y_shape, delta, feed)))
        return out
    finally:
        if owned:
            sess.close()


def compute_gradient_error(x, x_shape, y, y_shape, x_init_value=None, delta=1e-3,
                           init_targets=None, extra_feed_dict=None):
    """The largest |theoretical - numerical| over the Jacobian(s)."""
    res = compute_gradient(x, x_shape, y, y_shape, x_init_value, delta, init_targets,
                           extra_feed_dict)
    if isinstance(res, tuple):
        res = [res]
    err = 0.0
    for t, n in res:
        if t.size:
            err = max(err, float(np.max(np.fabs(t - n))))
    return err
