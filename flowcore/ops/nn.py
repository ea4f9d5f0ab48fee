"""`tf.nn`: activations, softmax, bias_add, the fused cross-entropy kernels,
dropout, top-k, embeddings and the NCE loss.

The ops registered here (Relu, Softmax, BiasAdd, SoftmaxCrossEntropyWithLogits,
TopKV2, ...) keep TF's names, attributes and static shapes, with numerically
stable numpy kernels.  Activation gradients use TF's fused `*Grad` ops, which
are registered here too, with their own (second-order) gradients.  The
composite functions (dropout, moments, nce_loss, ...) are built from the math,
array and random ops.
"""
import collections

import numpy as np

from flowcore import dtypes, errors, registry
from flowcore.graph import name_scope
from flowcore.ops import array as array_ops, core, math as math_ops
from flowcore.ops import random as _random
from flowcore.ops.core import apply_op, apply_op1, convert_to_tensor
from flowcore.shapes import TensorShape

__all__ = ["relu", "relu6", "elu", "selu", "leaky_relu", "softplus", "softmax",
           "log_softmax", "bias_add", "xw_plus_b", "l2_loss", "dropout",
           "softmax_cross_entropy_with_logits", "softmax_cross_entropy_with_logits_v2",
           "sparse_softmax_cross_entropy_with_logits", "sigmoid_cross_entropy_with_logits",
           "in_top_k", "top_k", "embedding_lookup", "nce_loss", "l2_normalize", "moments",
           "zero_fraction", "log_uniform_candidate_sampler", "uniform_candidate_sampler",
           "sigmoid", "tanh"]

log_uniform_candidate_sampler = _random.log_uniform_candidate_sampler
uniform_candidate_sampler = _random.uniform_candidate_sampler

sigmoid = math_ops.sigmoid      # tf.nn.sigmoid and tf.nn.tanh are the math ops
tanh = math_ops.tanh


_FLOAT_TYPES = (dtypes.float16, dtypes.float32, dtypes.float64)
_REAL_TYPES = _FLOAT_TYPES + (dtypes.int8, dtypes.int16, dtypes.int32, dtypes.int64,
                              dtypes.uint8, dtypes.uint16)


def _check_type(t, allowed, arg):
    if t.dtype not in allowed:
        raise TypeError("Value passed to parameter '%s' has DataType %s not in list of allowed "
                        "values: %s" % (arg, t.dtype.name, ", ".join(d.name for d in allowed)))


def _rank_at_least(t, n):
    r = t.shape.ndims
    if r is not None and r < n:
        raise ValueError("Shape must be at least rank %d but is rank %d" % (n, r))


def _rank_is(t, n, what=""):
    r = t.shape.ndims
    if r is not None and r != n:
        raise ValueError("Shape must be rank %d but is rank %d%s" % (n, r, what))


def _is_zero(t):
    """True for a gradient known to be all zeros (skipped like TF's IsZero)."""
    if t is None:
        return True
    if t.op.type in ("ZerosLike",):
        return True
    v = core.constant_value(t)
    return v is not None and not np.any(v)


# -- element-wise activations and their fused gradient ops ------------------------

def _unary(op_type, fn, allowed, arg="features", grad=None):
    """Register an element-wise op `fn(xp, x, attrs)`; return its builder."""
    def shape(op):
        _check_type(op.inputs[0], allowed, arg)
        return [(op.inputs[0].dtype, op.inputs[0].shape)]
    registry.register(op_type, shape=shape, grad=grad,
                      kernel=lambda ctx, op, x: fn(op.xp, x, op.attrs))

    def builder(features, name=None):
        x = convert_to_tensor(features, name=arg)
        return apply_op1(op_type, [x], {"T": x.dtype}, name or op_type)
    builder.__name__ = op_type.lower()
    return builder


def _grad_op(op_type, fn, allowed, grad=None, quiet=False):
    """Register a fused gradient op `fn(xp, gradients, x, attrs)` (both inputs
    of one shape and dtype); `quiet`: without numpy's floating-point warnings."""
    def shape(op):
        g, x = op.inputs
        _check_type(x, allowed, "features")
        if g.dtype is not x.dtype:
            raise TypeError("Input 'features' of '%s' Op has type %s that does not match type "
                            "%s of argument 'gradients'." % (op_type, x.dtype.name, g.dtype.name))
        return [(x.dtype, g.shape.merge_with(x.shape))]

    def kernel(ctx, op, g, x):
        return fn(op.xp, g, x, op.attrs)
    registry.register(op_type, shape=shape, grad=grad,
                      kernel=math_ops._quiet(kernel) if quiet else kernel)


def _grad_call(op_type, g, x, attrs=None):
    return apply_op1(op_type, [g, x], dict(attrs or {}, T=x.dtype), op_type)


def _zero_mask_grad(op_type):
    """Gradient of a `*Grad` op linear in its first input and piecewise
    constant in its second: (op(gg, x), None)."""
    def grad(op, gg):
        return [_grad_call(op_type, gg, op.inputs[1], {k: v for k, v in op.attrs.items()
                                                       if k != "T"}), None]
    return grad


# Relu
# g * (x > 0), as TF computes it (a NaN gradient stays NaN where x <= 0); a
# mask multiply costs half of `where`
_grad_op("ReluGrad", lambda xp, g, x, a: g * (x > 0), _REAL_TYPES,
         grad=_zero_mask_grad("ReluGrad"), quiet=True)
relu = _unary("Relu", lambda xp, x, a: xp.maximum(x, xp.zeros((), x.dtype)), _REAL_TYPES,
              grad=lambda op, g: [_grad_call("ReluGrad", g, op.outputs[0])])
relu.__doc__ = "max(features, 0)."

# Relu6
_grad_op("Relu6Grad", lambda xp, g, x, a: xp.where((x > 0) & (x < 6), g, xp.zeros((), g.dtype)),
         _REAL_TYPES, grad=_zero_mask_grad("Relu6Grad"))
relu6 = _unary("Relu6", lambda xp, x, a: xp.clip(x, 0, 6).astype(x.dtype, copy=False),
               _REAL_TYPES, grad=lambda op, g: [_grad_call("Relu6Grad", g, op.inputs[0])])
relu6.__doc__ = "min(max(features, 0), 6)."


def _negative_part_grad(op_type):
    """Gradient of EluGrad/SeluGrad(g, y) = g * f(y): linear in g, and
    d/dy = g for y < 0 (0 elsewhere), written as ReluGrad(gg * g, -y)."""
    def grad(op, gg):
        g, y = op.inputs
        return [_grad_call(op_type, gg, y), _grad_call("ReluGrad", gg * g, -y)]
    return grad


# Elu: gradient from the output y: 1 where y > 0, y + 1 elsewhere
_grad_op("EluGrad", lambda xp, g, y, a: xp.where(y > 0, g, g * (y + 1)), _FLOAT_TYPES,
         grad=_negative_part_grad("EluGrad"))
elu = _unary("Elu", lambda xp, x, a: xp.where(x > 0, x, xp.expm1(xp.minimum(x, 0))),
             _FLOAT_TYPES, grad=lambda op, g: [_grad_call("EluGrad", g, op.outputs[0])])
elu.__doc__ = "features if > 0, else exp(features) - 1."

# Selu
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946
_grad_op("SeluGrad", lambda xp, g, y, a: xp.where(y > 0, g * _SELU_SCALE,
                                                   g * (y + _SELU_SCALE * _SELU_ALPHA)),
         _FLOAT_TYPES, grad=_negative_part_grad("SeluGrad"))
selu = _unary("Selu", lambda xp, x, a: _SELU_SCALE * xp.where(
    x > 0, x, _SELU_ALPHA * xp.expm1(xp.minimum(x, 0))), _FLOAT_TYPES,
    grad=lambda op, g: [_grad_call("SeluGrad", g, op.outputs[0])])
selu.__doc__ = "scale * (features if > 0 else alpha * (exp(features) - 1))."

# LeakyRelu
_grad_op("LeakyReluGrad", lambda xp, g, x, a: xp.where(x > 0, g, g * a["alpha"]),
         _FLOAT_TYPES, grad=_zero_mask_grad("LeakyReluGrad"))
registry.register(
    "LeakyRelu", kernel=lambda ctx, op, x: op.xp.where(x > 0, x, x * op.attrs["alpha"]),
    shape=lambda op: (_check_type(op.inputs[0], _FLOAT_TYPES, "features"),
                      [(op.inputs[0].dtype, op.inputs[0].shape)])[1],
    grad=lambda op, g: [_grad_call("LeakyReluGrad", g, op.inputs[0],
                                   {"alpha": op.attrs["alpha"]})])


def leaky_relu(features, alpha=0.2, name=None):
    """features if > 0, else alpha * features."""
    x = convert_to_tensor(features, name="features")
    if x.dtype.is_integer:
        x = math_ops.cast(x, dtypes.float32)
    return apply_op1("LeakyRelu", [x], {"T": x.dtype, "alpha": float(alpha)},
                     name or "LeakyRelu")


# Softplus: log(1 + exp(x)); its gradient is sigmoid(x)
def _sigmoid_np(xp, x):
    return xp.exp(-xp.logaddexp(0, -x))


def _softplus_grad_grad(op, gg):
    g, x = op.inputs
    return [_grad_call("SoftplusGrad", gg, x), gg * g * math_ops.sigmoid(x) * math_ops.sigmoid(-x)]


_grad_op("SoftplusGrad", lambda xp, g, x, a: g * _sigmoid_np(xp, x), _FLOAT_TYPES,
         grad=_softplus_grad_grad)
softplus = _unary("Softplus", lambda xp, x, a: xp.logaddexp(0, x), _FLOAT_TYPES,
                  grad=lambda op, g: [_grad_call("SoftplusGrad", g, op.inputs[0])])
softplus.__doc__ = "log(exp(features) + 1), computed stably."


# -- Softmax and LogSoftmax (over the last dimension) -------------------------------

def _softmax_np(xp, x, a=None):
    if x.shape[-1] == 0:
        return x.copy()
    e = xp.exp(x - x.max(axis=-1, keepdims=True))
    e /= e.sum(axis=-1, keepdims=True)
    return e


def _log_softmax_np(xp, x, a=None):
    if x.shape[-1] == 0:
        return x.copy()
    s = x - x.max(axis=-1, keepdims=True)
    return s - xp.log(xp.exp(s).sum(axis=-1, keepdims=True))


def _sum_last(t):
    return math_ops.reduce_sum(t, axis=-1, keepdims=True)


def _softmax_grad(op, g):
    y = op.outputs[0]
    return [(g - _sum_last(g * y)) * y]


def _log_softmax_grad(op, g):
    y = op.outputs[0]
    return [g - _sum_last(g) * math_ops.exp(y)]


def _softmax_shape(op):
    x = op.inputs[0]
    _check_type(x, _FLOAT_TYPES, "logits")
    _rank_at_least(x, 1)
    return [(x.dtype, x.shape)]


registry.register("Softmax", shape=_softmax_shape, grad=_softmax_grad,
                  kernel=lambda ctx, op, x: _softmax_np(op.xp, x))
registry.register("LogSoftmax", shape=_softmax_shape, grad=_log_softmax_grad,
                  kernel=lambda ctx, op, x: _log_softmax_np(op.xp, x))


def _axis_arg(axis, dim, default=-1):
    if axis is not None and dim is not None:
        raise ValueError("Cannot specify both 'axis' and 'dim'")
    a = axis if axis is not None else dim
    return default if a is None else a


def _over_axis(op_type, logits, axis, name):
    """Apply a last-axis op along `axis`, transposing it last and back."""
    x = convert_to_tensor(logits, name="logits")
    rank = x.shape.ndims
    if isinstance(axis, int) and (axis == -1 or rank is not None and axis == rank - 1):
        return apply_op1(op_type, [x], {"T": x.dtype}, name or op_type)
    if rank is None or not isinstance(axis, (int, np.integer)):
        raise ValueError("%s along axis %r needs a tensor of known rank" % (op_type, axis))
    axis = int(axis)
    if not -rank <= axis < rank:
        raise errors.InvalidArgumentError(
            None, None, "`axis` must be in the range [%d, %d) where %d is the number of "
            "dimensions in the input. Received: axis=%d" % (-rank, rank, rank, axis))
    axis %= rank
    perm = list(range(rank))
    perm[axis], perm[-1] = perm[-1], perm[axis]
    transpose = array_ops.transpose
    y = apply_op1(op_type, [transpose(x, perm)], {"T": x.dtype}, op_type)
    return transpose(y, perm, name=name)


def softmax(logits, axis=None, name=None, dim=None):
    """exp(logits) / sum(exp(logits), axis), computed stably (axis: last by default)."""
    return _over_axis("Softmax", logits, _axis_arg(axis, dim), name)


def log_softmax(logits, axis=None, name=None, dim=None):
    """logits - log(sum(exp(logits), axis)), computed stably."""
    return _over_axis("LogSoftmax", logits, _axis_arg(axis, dim), name)


# -- BiasAdd ------------------------------------------------------------------------

def _channel_axis(fmt, ndims):
    return 1 if fmt.startswith("NC") else ndims - 1


def _bias_add_shape(op):
    x, b = op.inputs
    fmt = op.attrs["data_format"]
    if x.dtype is not b.dtype:
        raise TypeError("Input 'bias' of 'BiasAdd' Op has type %s that does not match type %s "
                        "of argument 'value'." % (b.dtype.name, x.dtype.name))
    _rank_is(b, 1)
    _rank_at_least(x, 3 if fmt.startswith("NC") else 2)
    if x.shape.ndims is None:
        return [(x.dtype, x.shape)]
    dims = x.shape.dims
    c = _channel_axis(fmt, len(dims))
    bc = b.shape[0] if b.shape.ndims == 1 else None
    if bc is not None:
        if not dims[c].is_compatible_with(bc):
            raise ValueError("Dimensions must be equal, but are %s and %s" % (dims[c], bc))
        dims[c] = dims[c].merge_with(bc)
    return [(x.dtype, TensorShape(dims))]


def _bias_add_kernel(ctx, op, x, b):
    if op.attrs["data_format"].startswith("NC"):
        b = b.reshape((-1,) + (1,) * (x.ndim - 2))
    return op.xp.add(x, b)


def _bias_add_grad(op, g):
    fmt = op.attrs["data_format"]
    return [g, apply_op1("BiasAddGrad", [g], {"T": g.dtype, "data_format": fmt},
                         "BiasAddGrad")]


def _bias_add_grad_kernel(ctx, op, g):
    c = _channel_axis(op.attrs["data_format"], g.ndim)
    return op.xp.asarray(g.sum(axis=tuple(i for i in range(g.ndim) if i != c)), dtype=g.dtype)


def _bias_add_grad_shape(op):
    g = op.inputs[0]
    fmt = op.attrs["data_format"]
    _rank_at_least(g, 3 if fmt.startswith("NC") else 2)
    if g.shape.ndims is None:
        return [(g.dtype, TensorShape([None]))]
    return [(g.dtype, TensorShape([g.shape[_channel_axis(fmt, g.shape.ndims)]]))]


def _bias_add_grad_grad(op, gg):
    """BiasAddGrad sums over all but the channel axis: its gradient
    broadcasts `gg` back over those axes."""
    g = op.inputs[0]
    if op.attrs["data_format"].startswith("NC"):
        rank = g.shape.ndims
        gg = array_ops.reshape(gg, [-1] + [1] * (rank - 2))
    return [array_ops.broadcast_to(gg, array_ops.shape(g))]


registry.register("BiasAdd", shape=_bias_add_shape, kernel=_bias_add_kernel,
                  grad=_bias_add_grad)
registry.register("BiasAddGrad", shape=_bias_add_grad_shape, kernel=_bias_add_grad_kernel,
                  grad=_bias_add_grad_grad)


def bias_add(value, bias, data_format=None, name=None):
    """`value` + `bias`, with the rank-1 `bias` added along the channel
    dimension (last for NHWC, the default; second for NCHW)."""
    fmt = data_format or "NHWC"
    if fmt not in ("NHWC", "NCHW", "NC", "NWC", "NCW", "NDHWC", "NCDHW", "N...C", "NC..."):
        raise ValueError("data_format must be NHWC or NCHW, got %r" % (data_format,))
    fmt = "NC" if fmt.startswith("NC") else "NHWC"
    with name_scope(name, "BiasAdd", [value, bias]) as scope:
        value = convert_to_tensor(value, name="input")
        bias = convert_to_tensor(bias, dtype=value.dtype, name="bias") \
            if not core.is_tensor(bias) else convert_to_tensor(bias)
        return apply_op1("BiasAdd", [value, bias], {"T": value.dtype, "data_format":
                                                    "NCHW" if fmt == "NC" else "NHWC"}, scope)


def xw_plus_b(x, weights, biases, name=None):
    """matmul(x, weights) + biases."""
    with name_scope(name, "xw_plus_b", [x, weights, biases]) as scope:
        mm = math_ops.matmul(x, weights)
        return bias_add(mm, biases, name=scope)


# -- L2Loss ------------------------------------------------------------------------

def _l2_loss_kernel(ctx, op, x):
    return op.xp.asarray(op.xp.sum(x * x) / 2, dtype=x.dtype)


registry.register("L2Loss", kernel=_l2_loss_kernel, grad=lambda op, g: [op.inputs[0] * g],
                  shape=lambda op: (_check_type(op.inputs[0], _FLOAT_TYPES, "t"),
                                    [(op.inputs[0].dtype, TensorShape([]))])[1])


def l2_loss(t, name=None):
    """sum(t ** 2) / 2."""
    t = convert_to_tensor(t, name="t")
    return apply_op1("L2Loss", [t], {"T": t.dtype}, name or "L2Loss")


# -- fused softmax cross-entropy -----------------------------------------------------

def _xent_shape(op):
    logits, labels = op.inputs
    _check_type(logits, _FLOAT_TYPES, "features")
    if labels.dtype is not logits.dtype:
        raise TypeError("Input 'labels' of 'SoftmaxCrossEntropyWithLogits' Op has type %s that "
                        "does not match type %s of argument 'features'."
                        % (labels.dtype.name, logits.dtype.name))
    _rank_is(logits, 2)
    _rank_is(labels, 2)
    s = TensorShape([None, None])
    for t in (logits, labels):
        if t.shape.ndims is not None:
            a, b = s.dims, t.shape.dims
            for i in range(2):
                if not a[i].is_compatible_with(b[i]):
                    raise ValueError("Dimensions must be equal, but are %s and %s" % (b[i], a[i]))
            s = s.merge_with(t.shape)
    return [(logits.dtype, TensorShape([s[0]])), (logits.dtype, s)]


def _xent_kernel(ctx, op, logits, labels):
    """TF's formulation, one exp: with s = logits - max and e = exp(s),
    loss = sum(labels * (log(sum e) - s)), backprop = e / sum(e) - labels."""
    xp = op.xp
    if logits.shape[-1] == 0:
        log_p = _log_softmax_np(xp, logits)
        loss = -(labels * log_p).sum(axis=-1)
        return loss.astype(logits.dtype, copy=False), xp.exp(log_p) - labels
    n, c = logits.shape
    if c <= 64 and c <= n:
        # few classes: numpy reduces a short last axis row by row, slowly;
        # classes-first (a [c, n] copy) turns the row reductions into
        # elementwise operations across the batch
        lt = xp.ascontiguousarray(logits.T)
        s = lt - lt.max(axis=0)
        e = xp.exp(s)
        se = e.sum(axis=0)
        s -= xp.log(se)                  # log softmax
        s *= labels.T
        loss = -s.sum(axis=0)
        e /= se
        e -= labels.T
        return loss.astype(logits.dtype, copy=False), e.T
    s = logits - logits.max(axis=-1, keepdims=True)
    e = xp.exp(s)
    se = e.sum(axis=-1, keepdims=True)
    s -= xp.log(se)                      # log softmax
    loss = -(labels * s).sum(axis=-1)
    e /= se
    e -= labels
    return loss.astype(logits.dtype, copy=False), e


def _col(t):
    return array_ops.expand_dims(t, -1)


def _xent_grad(op, grad_loss, grad_grad):
    """d loss/d logits = backprop; d loss/d labels = -log_softmax(logits).
    The backprop output (softmax - labels) contributes when it is used."""
    logits = op.inputs[0]
    gl = _col(grad_loss) if grad_loss is not None else None
    d_logits = None if gl is None else gl * op.outputs[1]
    d_labels = None if gl is None else gl * -log_softmax(logits)
    if not _is_zero(grad_grad):
        p = softmax(logits)
        extra = (grad_grad - _sum_last(grad_grad * p)) * p
        d_logits = extra if d_logits is None else d_logits + extra
        d_labels = -grad_grad if d_labels is None else d_labels - grad_grad
    return [d_logits, d_labels]


registry.register("SoftmaxCrossEntropyWithLogits", shape=_xent_shape, kernel=_xent_kernel,
                  grad=_xent_grad)


def _sparse_xent_shape(op):
    logits, labels = op.inputs
    _check_type(logits, _FLOAT_TYPES, "features")
    _check_type(labels, (dtypes.int32, dtypes.int64), "labels")
    _rank_is(logits, 2)
    _rank_is(labels, 1)
    b = logits.shape[0] if logits.shape.ndims == 2 else None
    if labels.shape.ndims == 1:
        lb = labels.shape[0]
        if b is not None and not lb.is_compatible_with(b):
            raise ValueError("Dimensions must be equal, but are %s and %s" % (b, lb))
        b = lb if b is None or b.value is None else b
    c = logits.shape[1] if logits.shape.ndims == 2 else None
    return [(logits.dtype, TensorShape([b])), (logits.dtype, TensorShape([b, c]))]


def _sparse_xent_kernel(ctx, op, logits, labels):
    xp = op.xp
    n, c = logits.shape
    bad = (labels < 0) | (labels >= c)
    if bad.any():
        v = int(labels[np.argmax(bad)])
        raise errors.InvalidArgumentError(
            None, op, "Received a label value of %d which is outside the valid range of "
            "[0, %d).  Label values: %s" % (v, c, " ".join(str(int(x)) for x in labels)))
    log_p = _log_softmax_np(xp, logits)
    rows = xp.arange(n)
    loss = -log_p[rows, labels]
    back = xp.exp(log_p)
    back[rows, labels] -= 1
    return loss, back


def _sparse_xent_grad(op, grad_loss, grad_grad):
    logits = op.inputs[0]
    d = None if grad_loss is None else _col(grad_loss) * op.outputs[1]
    if not _is_zero(grad_grad):
        p = softmax(logits)
        extra = (grad_grad - _sum_last(grad_grad * p)) * p
        d = extra if d is None else d + extra
    return [d, None]


registry.register("SparseSoftmaxCrossEntropyWithLogits", shape=_sparse_xent_shape,
                  kernel=_sparse_xent_kernel, grad=_sparse_xent_grad)


def _flatten_last(x):
    """x reshaped to [-1, last dim]."""
    c = x.shape[-1].value if x.shape.ndims else None
    if c is None:
        c = array_ops.shape(x)[-1:]
        return array_ops.reshape(x, array_ops.concat([[-1], c], 0))
    return array_ops.reshape(x, [-1, c])


def softmax_cross_entropy_with_logits_v2(labels, logits, axis=None, name=None, dim=None):
    """Per-example -sum(labels * log_softmax(logits)) along `axis` (last by
    default), from the fused stable kernel.  Gradients flow into both logits
    and labels."""
    axis = _axis_arg(axis, dim)
    with name_scope(name, "softmax_cross_entropy_with_logits", [logits, labels]) as scope:
        logits = convert_to_tensor(logits, name="logits")
        labels = convert_to_tensor(labels, name="labels")
        if labels.dtype is not logits.dtype:
            labels = math_ops.cast(labels, logits.dtype)
        rank = logits.shape.ndims
        if rank is None:
            raise ValueError("softmax_cross_entropy_with_logits needs logits of known rank")
        if not logits.shape.is_compatible_with(labels.shape):
            raise ValueError("Dimensions must be equal: logits and labels must have the same "
                             "shape, received (%s vs %s)." % (logits.shape, labels.shape))
        if rank == 0:
            raise ValueError("Logits cannot be scalars - received shape %s." % logits.shape)
        axis = int(axis) % rank
        if axis != rank - 1:     # move the class axis last, keeping the others in order
            perm = [i for i in range(rank) if i != axis] + [axis]
            transpose = array_ops.transpose
            logits, labels = transpose(logits, perm), transpose(labels, perm)
        if rank == 2:
            return apply_op("SoftmaxCrossEntropyWithLogits", [logits, labels],
                            {"T": logits.dtype}, scope).outputs[0]
        out_shape = logits.shape[:-1] if logits.shape.ndims else TensorShape(None)
        loss = apply_op("SoftmaxCrossEntropyWithLogits",
                        [_flatten_last(logits), _flatten_last(labels)],
                        {"T": logits.dtype}, "SoftmaxCrossEntropyWithLogits").outputs[0]
        dyn = out_shape.as_list() if out_shape.is_fully_defined() else \
            array_ops.shape(logits)[:-1]
        result = array_ops.reshape(loss, dyn, name=scope)
        result.set_shape(out_shape)
        return result


def softmax_cross_entropy_with_logits(labels=None, logits=None, dim=-1, name=None, axis=None):
    """TF1's version: as the v2 one, but no gradient flows into `labels`."""
    axis = dim if axis is None else axis
    if labels is None or logits is None:
        raise ValueError("Both labels and logits must be provided.")
    with name_scope(name, "softmax_cross_entropy_with_logits_sg", [logits, labels]) as scope:
        labels = core.stop_gradient(labels, name="labels_stop_gradient")
    return softmax_cross_entropy_with_logits_v2(labels=labels, logits=logits, axis=axis,
                                                name=scope)


def sparse_softmax_cross_entropy_with_logits(labels=None, logits=None, name=None):
    """Per-example -log_softmax(logits)[label] for integer class `labels`
    (logits have one more dimension); a label outside [0, classes) is an
    InvalidArgumentError at run time."""
    if labels is None or logits is None:
        raise ValueError("Both labels and logits must be provided.")
    with name_scope(name, "SparseSoftmaxCrossEntropyWithLogits", [labels, logits]) as scope:
        labels = convert_to_tensor(labels, name="labels")
        logits = convert_to_tensor(logits, name="logits")
        _check_type(labels, (dtypes.int32, dtypes.int64), "labels")
        lr, gr = labels.shape.ndims, logits.shape.ndims
        if gr == 0:
            raise ValueError("Logits cannot be scalars - received shape %s." % logits.shape)
        if lr is not None and gr is not None:
            if lr != gr - 1:
                raise ValueError("`labels.shape.rank` must equal `logits.shape.rank - 1`. "
                                 "Received: labels.shape=%s of rank %d and logits.shape=%s of "
                                 "rank %d" % (labels.shape, lr, logits.shape, gr))
            if not labels.shape.is_compatible_with(logits.shape[:-1]):
                raise ValueError("`labels.shape` must equal `logits.shape` except for the last "
                                 "dimension. Received: labels.shape=%s and logits.shape=%s"
                                 % (labels.shape, logits.shape))
        if gr == 2:
            return apply_op("SparseSoftmaxCrossEntropyWithLogits", [logits, labels],
                            {"T": logits.dtype, "Tlabels": labels.dtype},
                            "SparseSoftmaxCrossEntropyWithLogits").outputs[0]
        loss = apply_op("SparseSoftmaxCrossEntropyWithLogits",
                        [_flatten_last(logits), array_ops.reshape(labels, [-1])],
                        {"T": logits.dtype, "Tlabels": labels.dtype},
                        "SparseSoftmaxCrossEntropyWithLogits").outputs[0]
        out_shape = labels.shape if lr is not None else logits.shape[:-1] \
            if gr is not None else TensorShape(None)
        dyn = out_shape.as_list() if out_shape.is_fully_defined() else array_ops.shape(labels)
        result = array_ops.reshape(loss, dyn, name=scope)
        result.set_shape(out_shape)
        return result


def sigmoid_cross_entropy_with_logits(labels=None, logits=None, name=None):
    """Element-wise logistic loss max(x, 0) - x * z + log(1 + exp(-|x|)),
    stable for large |x| and with the right gradient at x = 0."""
    if labels is None or logits is None:
        raise ValueError("Both labels and logits must be provided.")
    with name_scope(name, "logistic_loss", [logits, labels]) as scope:
        logits = convert_to_tensor(logits, name="logits")
        labels = convert_to_tensor(labels, dtype=logits.dtype, name="labels") \
            if not core.is_tensor(labels) else convert_to_tensor(labels)
        if not logits.shape.is_compatible_with(labels.shape):
            raise ValueError("`logits` and `labels` must have the same shape, received "
                             "(%s vs %s)." % (logits.shape, labels.shape))
        zeros = array_ops.zeros_like(logits)
        cond = math_ops.greater_equal(logits, zeros)
        relu_logits = math_ops.where(cond, logits, zeros)
        neg_abs_logits = math_ops.where(cond, -logits, logits)
        return math_ops.add(relu_logits - logits * labels,
                            math_ops.log1p(math_ops.exp(neg_abs_logits)), name=scope)


# -- InTopKV2 and TopKV2 ------------------------------------------------------------

def _in_top_k_shape(op):
    p, t, k = op.inputs
    _check_type(p, _FLOAT_TYPES, "predictions")
    _rank_is(p, 2, " for predictions")
    _rank_is(t, 1, " for targets")
    _rank_is(k, 0, " for k")
    b = p.shape[0] if p.shape.ndims == 2 else None
    if t.shape.ndims == 1:
        if b is not None and not b.is_compatible_with(t.shape[0]):
            raise ValueError("Dimensions must be equal, but are %s and %s" % (b, t.shape[0]))
        b = t.shape[0] if b is None or b.value is None else b
    return [(dtypes.bool, TensorShape([b]))]


def _in_top_k_kernel(ctx, op, pred, targets, k):
    """True where fewer than k classes score strictly higher than the target;
    False for an out-of-range target or a row with a non-finite score (TF)."""
    xp = op.xp
    n, c = pred.shape
    t = targets.astype(np.int64)
    valid = (t >= 0) & (t < c)
    tp = pred[xp.arange(n), xp.where(valid, t, 0)] if c else xp.zeros(n, pred.dtype)
    finite = xp.isfinite(pred).all(axis=1)
    higher = (pred > tp[:, None]).sum(axis=1)
    return valid & finite & (higher < int(k))


registry.register("InTopKV2", shape=_in_top_k_shape, kernel=_in_top_k_kernel)
registry.NotDifferentiable("InTopKV2")


def in_top_k(predictions, targets, k, name=None):
    """Whether each target class is among the top `k` predictions of its row
    (ties counted in the target's favour, as TF does)."""
    with name_scope(name, "in_top_k"):
        predictions = convert_to_tensor(predictions, name="predictions")
        with name_scope(None, "InTopKV2", []) as scope:
            targets = convert_to_tensor(targets, name="targets")
            _check_type(targets, (dtypes.int32, dtypes.int64), "targets")
            k = convert_to_tensor(k, dtype=targets.dtype, name="k") \
                if not core.is_tensor(k) else convert_to_tensor(k)
            return apply_op1("InTopKV2", [predictions, targets, k], {"T": targets.dtype}, scope)


def _top_k_shape(op):
    x, k = op.inputs
    _rank_at_least(x, 1)
    _rank_is(k, 0, " for k")
    kv = core.constant_value(k)
    kv = None if kv is None else int(kv)
    if kv is not None and kv < 0:
        raise ValueError("Dimension size, given by scalar input 1, must be non-negative but is "
                         "%d" % kv)
    if x.shape.ndims is None:
        return [(x.dtype, TensorShape(None)), (op.attrs["index_type"], TensorShape(None))]
    last = x.shape[-1].value
    if kv is not None and last is not None and last < kv:
        raise ValueError("input must have last dimension >= k = %d but is %d" % (kv, last))
    s = TensorShape(x.shape.dims[:-1] + [kv])
    return [(x.dtype, s), (op.attrs["index_type"], s)]


def _top_k_kernel(ctx, op, x, k):
    xp = op.xp
    k = int(k)
    if k < 0:
        raise errors.InvalidArgumentError(None, op, "Need k >= 0, got %d" % k)
    if x.shape[-1] < k:
        raise errors.InvalidArgumentError(
            None, op, "input must have at least k columns. Had %d, needed %d" % (x.shape[-1], k))
    key = -x if x.dtype.kind == "f" else ~x     # descending; ties keep lower index first
    idx = xp.argsort(key, axis=-1, kind="stable")[..., :k]
    return xp.take_along_axis(x, idx, axis=-1), idx.astype(op.attrs["index_type"].as_numpy_dtype)


def _top_k_grad(op, g_values, g_indices):
    """Scatter the values' gradient back to the positions they came from:
    sum over the k picks of one_hot(index, n) * grad."""
    if g_values is None:
        return [None, None]
    x = op.inputs[0]
    n = x.shape[-1].value
    if n is None:
        n = array_ops.shape(x)[-1]
    hot = array_ops.one_hot(op.outputs[1], n, dtype=g_values.dtype)      # [..., k, n]
    return [math_ops.reduce_sum(hot * array_ops.expand_dims(g_values, -1), axis=-2), None]


registry.register("TopKV2", shape=_top_k_shape, kernel=_top_k_kernel, grad=_top_k_grad)

TopKV2 = collections.namedtuple("TopKV2", ["values", "indices"])


def top_k(input, k=1, sorted=True, index_type=dtypes.int32, name=None):
    """The `k` largest entries of the last dimension and their indices,
    largest first; equal values keep their original order."""
    with name_scope(name, "TopKV2", [input]) as scope:
        x = convert_to_tensor(input, name="input")
        k = convert_to_tensor(k, dtype=dtypes.int32, name="k") if not core.is_tensor(k) \
            else convert_to_tensor(k)
        op = apply_op("TopKV2", [x, k], {"T": x.dtype, "sorted": bool(sorted),
                                         "index_type": dtypes.as_dtype(index_type)}, scope)
        return TopKV2(*op.outputs)


# -- dropout, l2_normalize, moments, zero_fraction --------------------------------------

def dropout(x, keep_prob=None, noise_shape=None, seed=None, name=None, rate=None):
    """Zero each element with probability `rate` (= 1 - keep_prob) and scale
    the kept ones by 1 / (1 - rate), so the expected sum is unchanged.
    `noise_shape` broadcasts one keep/drop decision over some dimensions."""
    if keep_prob is not None and rate is not None:
        raise ValueError("Cannot specify both 'keep_prob' and 'rate'.")
    if keep_prob is None and rate is None:
        raise ValueError("Either 'keep_prob' or 'rate' must be given to dropout.")
    if keep_prob is not None:
        if isinstance(keep_prob, (int, float, np.number)):
            if not 0 < keep_prob <= 1:
                raise ValueError("keep_prob must be a scalar tensor or a float in the range "
                                 "(0, 1], got %g" % keep_prob)
            rate = 1 - keep_prob
        else:
            rate = None
    with name_scope(name, "dropout", [x]) as scope:
        x = convert_to_tensor(x, name="x")
        if not x.dtype.is_floating:
            raise ValueError("x has to be a floating point tensor since it's going to be "
                             "scaled. Got a %s tensor instead." % x.dtype.name)
        if rate is None:   # keep_prob is a tensor
            kp = convert_to_tensor(keep_prob, dtype=x.dtype, name="keep_prob")
            rate = math_ops.subtract(core.constant(1, dtype=x.dtype), kp)
        if isinstance(rate, (int, float, np.number)):
            if not 0 <= rate < 1:
                raise ValueError("`rate` must be a scalar tensor or a float in the range "
                                 "[0, 1). Received: rate=%r" % rate)
            if rate == 0:
                return x
            scale = core.constant(1.0 / (1.0 - rate), dtype=x.dtype)
            rate = core.constant(rate, dtype=x.dtype)
        else:
            rate = convert_to_tensor(rate, dtype=x.dtype, name="rate")
            one = core.constant(1, dtype=x.dtype)
            scale = math_ops.truediv(one, math_ops.subtract(one, rate))
        shape = array_ops.shape(x) if noise_shape is None else _random.shape_tensor(noise_shape)
        noise = _random.random_uniform(shape, seed=seed, dtype=x.dtype)
        keep = math_ops.cast(math_ops.greater_equal(noise, rate), x.dtype)
        out = math_ops.multiply(x * scale, keep, name=scope)
        if noise_shape is None:
            out.set_shape(x.shape)
        return out


def l2_normalize(x, axis=None, epsilon=1e-12, name=None, dim=None):
    """x / sqrt(max(sum(x ** 2, axis), epsilon))."""
    axis = _axis_arg(axis, dim, default=None)
    with name_scope(name, "l2_normalize", [x]) as scope:
        x = convert_to_tensor(x, name="x")
        square_sum = math_ops.reduce_sum(math_ops.square(x), axis, keepdims=True)
        eps = core.constant(epsilon, dtype=x.dtype)
        inv_norm = math_ops.rsqrt(math_ops.maximum(square_sum, eps))
        return math_ops.multiply(x, inv_norm, name=scope)


def moments(x, axes, shift=None, name=None, keep_dims=None, keepdims=None):
    """(mean, variance) of `x` over `axes` (float16 computed in float32)."""
    keep = bool(keepdims if keepdims is not None else keep_dims)
    with name_scope(name, "moments", [x, axes]):
        x = convert_to_tensor(x, name="x")
        y = math_ops.cast(x, dtypes.float32) if x.dtype is dtypes.float16 else x
        axes = list(axes) if isinstance(axes, (list, tuple)) else axes
        mean = math_ops.reduce_mean(y, axes, keepdims=True, name="mean")
        centred = core.stop_gradient(mean)
        variance = math_ops.reduce_mean(math_ops.squared_difference(y, centred), axes,
                                        keepdims=True, name="variance")
        if not keep:
            mean = array_ops.squeeze(mean, axes)
            variance = array_ops.squeeze(variance, axes)
        if x.dtype is dtypes.float16:
            return math_ops.cast(mean, dtypes.float16), math_ops.cast(variance, dtypes.float16)
        return mean, variance


def zero_fraction(value, name=None):
    """The fraction of zeros in `value`, as a float32 scalar."""
    with name_scope(name, "zero_fraction", [value]):
        value = convert_to_tensor(value, name="value")
        zero = core.constant(0, dtype=value.dtype)
        is_zero = math_ops.cast(math_ops.equal(value, zero), dtypes.float32)
        return math_ops.reduce_mean(is_zero, name="fraction")


# -- embeddings and NCE ---------------------------------------------------------------

def _clip_by_max_norm(x, ids, max_norm):
    if max_norm is None:
        return x
    ir, xr = ids.shape.ndims, x.shape.ndims
    if ir is None or xr is None:
        raise ValueError("embedding_lookup with max_norm needs ids and params of known rank")
    axes = list(range(ir, xr))
    norm = math_ops.sqrt(math_ops.reduce_sum(math_ops.square(x), axes, keepdims=True))
    mx = core.constant(max_norm, dtype=x.dtype)
    return x * mx / math_ops.maximum(norm, mx)


def embedding_lookup(params, ids, partition_strategy="mod", name=None, validate_indices=True,
                     max_norm=None):
    """Rows `ids` of `params` (a tensor/variable, or a list of shards).

    With shards, id i lives in shard i % n at row i // n ('mod', the default)
    or in contiguous ranges ('div').  The shards are concatenated in id order
    and gathered once, so the gradient reaching each shard is the gather's
    sparse IndexedSlices gradient passed through the concat.
    """
    if partition_strategy not in ("mod", "div"):
        raise ValueError("Unrecognized partition strategy: " + str(partition_strategy))
    if isinstance(params, (list, tuple)):
        params = list(params)
    elif hasattr(params, "_get_variable_list"):
        params = list(params._get_variable_list())
    else:
        params = [params]
    if not params:
        raise ValueError("Need at least one param")
    with name_scope(name, "embedding_lookup", params + [ids]) as scope:
        ids = convert_to_tensor(ids, name="ids")
        n = len(params)
        if n == 1:
            result = array_ops.gather(params[0], ids, name=scope)
            return core.identity(_clip_by_max_norm(result, ids, max_norm))
        shards = [convert_to_tensor(p) for p in params]
        table = array_ops.concat(shards, 0)
        if partition_strategy == "div":
            index = ids
        else:
            sizes = [s.shape[0].value if s.shape.ndims else None for s in shards]
            if any(v is None for v in sizes):
                raise ValueError("embedding_lookup with the 'mod' strategy needs shards with "
                                 "known first dimensions")
            offsets = core.constant(np.concatenate([[0], np.cumsum(sizes[:-1])]).astype(
                ids.dtype.as_numpy_dtype), dtype=ids.dtype)
            index = array_ops.gather(offsets, ids % n) + ids // n
        result = array_ops.gather(table, index)
        return core.identity(_clip_by_max_norm(result, ids, max_norm), name="Identity")


def _sampled_logits(weights, biases, labels, inputs, num_sampled, num_classes, num_true,
                    sampled_values, remove_accidental_hits, partition_strategy, name):
    """Logits and targets of the true and sampled classes ([batch, num_true +
    num_sampled] each), corrected by log Q(class) as NCE requires."""
    if not isinstance(weights, (list, tuple)):
        weights = [weights]
    with name_scope(name, "compute_sampled_logits", list(weights) + [biases, inputs, labels]):
        labels = convert_to_tensor(labels, name="labels")
        if labels.dtype is not dtypes.int64:
            labels = math_ops.cast(labels, dtypes.int64)
        inputs = convert_to_tensor(inputs, name="inputs")
        labels_flat = array_ops.reshape(labels, [-1])
        if sampled_values is None:
            sampled_values = log_uniform_candidate_sampler(
                true_classes=labels, num_true=num_true, num_sampled=num_sampled, unique=True,
                range_max=num_classes)
        sampled, true_expected, sampled_expected = (core.stop_gradient(s)
                                                    for s in sampled_values)
        sampled = math_ops.cast(sampled, dtypes.int64)
        dim = inputs.shape[-1].value if inputs.shape.ndims else None

        true_w = embedding_lookup(weights, labels_flat, partition_strategy=partition_strategy)
        sampled_w = embedding_lookup(weights, sampled, partition_strategy=partition_strategy)
        true_b = embedding_lookup(biases, labels_flat, partition_strategy=partition_strategy)
        sampled_b = embedding_lookup(biases, sampled, partition_strategy=partition_strategy)
        if true_w.dtype is not inputs.dtype:
            true_w = math_ops.cast(true_w, inputs.dtype)
            sampled_w = math_ops.cast(sampled_w, inputs.dtype)
        if true_b.dtype is not inputs.dtype:
            true_b = math_ops.cast(true_b, inputs.dtype)
            sampled_b = math_ops.cast(sampled_b, inputs.dtype)

        # true logits: row-wise dot of each example with its num_true label rows
        tw = array_ops.reshape(true_w, [-1, num_true, dim if dim is not None else -1])
        true_logits = math_ops.reduce_sum(array_ops.expand_dims(inputs, 1) * tw, axis=-1)
        true_logits += array_ops.reshape(true_b, [-1, num_true])
        sampled_logits = math_ops.matmul(inputs, sampled_w, transpose_b=True) + sampled_b

        if remove_accidental_hits:
            # a sampled class equal to one of the row's true classes is masked out
            same = math_ops.equal(array_ops.expand_dims(labels, 2),
                                  array_ops.reshape(sampled, [1, 1, -1]))
            hits = math_ops.reduce_any(same, axis=1)
            sampled_logits += math_ops.cast(hits, sampled_logits.dtype) * core.constant(
                np.finfo(np.float32).min, dtype=sampled_logits.dtype)

        true_logits -= math_ops.log(math_ops.cast(true_expected, true_logits.dtype))
        sampled_logits -= math_ops.log(math_ops.cast(sampled_expected, sampled_logits.dtype))
        out_logits = array_ops.concat([true_logits, sampled_logits], 1)
        out_labels = array_ops.concat([array_ops.ones_like(true_logits) / num_true,
                                       array_ops.zeros_like(sampled_logits)], 1)
        return out_logits, out_labels


def nce_loss(weights, biases, labels, inputs, num_sampled, num_classes, num_true=1,
             sampled_values=None, remove_accidental_hits=False, partition_strategy="mod",
             name="nce_loss"):
    """Noise-contrastive estimation loss per example ([batch]).

    `weights` [num_classes, dim] (or shards), `biases` [num_classes], `labels`
    [batch, num_true] class ids, `inputs` [batch, dim].  Negative classes come
    from `sampled_values` or, by default, `log_uniform_candidate_sampler`
    (unique, over range(num_classes)); each logit is corrected by the log of
    its expected count and scored with the logistic loss."""
    logits, targets = _sampled_logits(
        weights, biases, labels, inputs, num_sampled, num_classes, num_true, sampled_values,
        remove_accidental_hits, partition_strategy, name)
    losses = sigmoid_cross_entropy_with_logits(labels=targets, logits=logits,
                                               name="sampled_losses")
    return math_ops.reduce_sum(losses, axis=1)
