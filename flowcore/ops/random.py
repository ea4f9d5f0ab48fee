"""Seeded random ops (`tf.random_uniform`, `tf.random_normal`, ...) and the
candidate samplers `nce_loss` uses.

Every random op carries TF's `seed`/`seed2` attributes (see
`flowcore.random_seed.get_seed`).  Its generator lives in the session, as a
per-op `Resource` seeded from (seed, seed2): a new session replays the same
sequence, successive runs in one session draw fresh values, and (0, 0) means
fresh entropy in every session.  Values come from numpy's PCG64, so they are
not bit-identical to TensorFlow's Philox streams; the distributions are.
Random ops have no gradient.
"""
import collections

import numpy as np

from flowcore import dtypes, errors, registry
from flowcore.graph import name_scope
from flowcore.ops import core
from flowcore.ops.core import apply_op, apply_op1, convert_to_tensor
from flowcore.random_seed import get_seed, set_random_seed
from flowcore.session import Resource
from flowcore.shapes import TensorShape

__all__ = ["random_uniform", "random_normal", "truncated_normal", "random_shuffle",
           "multinomial", "get_seed", "set_random_seed"]

# what TF1's `tf.random` holds (only `__all__` lands at tf top level)
RANDOM_NAMESPACE = ["uniform", "normal", "truncated_normal", "shuffle", "categorical",
                    "multinomial", "get_seed", "set_random_seed",
                    "log_uniform_candidate_sampler", "uniform_candidate_sampler"]

_FLOATS = (dtypes.float16, dtypes.float32, dtypes.float64)
_INTS = (dtypes.int32, dtypes.int64)


# -- per-session generators -------------------------------------------------------

class RandomState(Resource):
    """One random op's generator in one session; draw under `lock`."""

    __slots__ = ("gen",)

    def __init__(self, seed, seed2):
        super().__init__()
        if seed == 0 and seed2 == 0:
            self.gen = np.random.Generator(np.random.PCG64())   # fresh entropy
        else:
            self.gen = np.random.Generator(np.random.PCG64(np.random.SeedSequence(
                [int(seed), int(seed2)])))


def generator_state(ctx, op):
    """The session's `RandomState` of `op` (created from its seed attrs)."""
    r = ctx.resources.get(op)
    if r is None:
        a = op.attrs
        r = ctx.resource(op, lambda: RandomState(a.get("seed", 0), a.get("seed2", 0)))
    return r


def _seed_attrs(seed):
    s1, s2 = get_seed(seed)
    return {"seed": s1 or 0, "seed2": s2 or 0}


# -- shape arguments --------------------------------------------------------------

def shape_tensor(shape, name="shape"):
    """A 1-D integer tensor for a shape given as a list, TensorShape or tensor."""
    if isinstance(shape, TensorShape):
        if not shape.is_fully_defined():
            raise ValueError("Cannot convert a partially known TensorShape %s to a Tensor."
                             % (shape.as_tuple() if shape.ndims is not None else shape,))
        shape = shape.as_list()
    if isinstance(shape, (list, tuple)) and any(core.is_tensor(d) for d in shape):
        from flowcore.ops import array
        return array.stack([convert_to_tensor(d, dtype=dtypes.int32) for d in shape], name=name)
    if core.is_tensor(shape):
        t = convert_to_tensor(shape)
        if t.dtype not in _INTS:
            raise TypeError("shape must be an int32 or int64 tensor, got %s" % t.dtype.name)
        return t
    arr = np.asarray(shape)
    if arr.size and arr.dtype.kind not in "iu":
        raise TypeError("shape must contain integers, got %r" % (shape,))
    dt = dtypes.int64 if arr.size and np.abs(arr).max() >= 2 ** 31 else dtypes.int32
    return core.constant(arr.astype(dt.as_numpy_dtype), dtype=dt, name=name)


def static_shape(t):
    """The static shape a 1-D shape tensor `t` describes (dims unknown where
    its value is not known at graph-build time)."""
    v = core.constant_value(t)
    if v is not None:
        if v.ndim != 1:
            raise ValueError("Shape must be rank 1 but is rank %d" % v.ndim)
        if (v < 0).any():
            raise ValueError("Dimension must be non-negative, got %s" % list(v))
        return TensorShape([int(d) for d in v])
    s = t.shape
    if s.ndims is not None and s.ndims != 1:
        raise ValueError("Shape must be rank 1 but is rank %d" % s.ndims)
    from flowcore.ops import array     # partial values: Shape, Pack, ConcatV2, ...
    return array.constant_value_as_shape(t)


def _dims(op, value):
    dims = tuple(int(d) for d in np.asarray(value).reshape(-1))
    if any(d < 0 for d in dims):
        raise errors.InvalidArgumentError(None, op, "Op '%s': shape must be non-negative, got %s"
                                          % (op.name, list(dims)))
    return dims


def _check_rank(t, rank, what):
    if t.shape.ndims is not None and t.shape.ndims != rank:
        raise ValueError("Shape must be rank %d but is rank %d for %s"
                         % (rank, t.shape.ndims, what))


# -- RandomUniform, RandomStandardNormal, TruncatedNormal, RandomUniformInt ----------

def _float_shape(op):
    dt = op.attrs["dtype"]
    if dt not in _FLOATS:
        raise TypeError("Value passed to parameter 'dtype' has DataType %s not in list of "
                        "allowed values: half, float, double" % dt.name)
    return [(dt, static_shape(op.inputs[0]))]


def _draw_dtype(op):
    dt = op.attrs["dtype"]
    return np.float64 if dt is dtypes.float64 else np.float32


def _finish(op, x):
    dt = op.attrs["dtype"]
    if dt is dtypes.float16:
        x = x.astype(np.float16)
    return op.xp.asarray(x)


def _uniform_kernel(ctx, op, shape):
    dims = _dims(op, shape)
    r = generator_state(ctx, op)
    with r.lock:
        x = r.gen.random(dims, dtype=_draw_dtype(op))
    if op.attrs["dtype"] is dtypes.float16:   # rounding must not reach 1.0
        x = np.minimum(x.astype(np.float16), np.float16(1 - 2 ** -11))
    return _finish(op, x)


def _normal_kernel(ctx, op, shape):
    dims = _dims(op, shape)
    r = generator_state(ctx, op)
    with r.lock:
        x = r.gen.standard_normal(dims, dtype=_draw_dtype(op))
    return _finish(op, x)


def _truncated_kernel(ctx, op, shape):
    """Standard normal values, those beyond 2 standard deviations redrawn."""
    dims = _dims(op, shape)
    dt = _draw_dtype(op)
    r = generator_state(ctx, op)
    with r.lock:
        x = r.gen.standard_normal(dims, dtype=dt)
        flat = x.reshape(-1)
        bad = np.flatnonzero(np.abs(flat) > 2.0)
        while bad.size:
            flat[bad] = r.gen.standard_normal(bad.size, dtype=dt)
            bad = bad[np.abs(flat[bad]) > 2.0]
    return _finish(op, x)


def _uniform_int_shape(op):
    shape, lo, hi = op.inputs
    if lo.dtype is not hi.dtype or lo.dtype not in _INTS:
        raise TypeError("RandomUniformInt needs int32 or int64 minval and maxval of one "
                        "dtype, got %s and %s" % (lo.dtype.name, hi.dtype.name))
    _check_rank(lo, 0, "minval")
    _check_rank(hi, 0, "maxval")
    return [(lo.dtype, static_shape(shape))]


def _uniform_int_kernel(ctx, op, shape, lo, hi):
    dims = _dims(op, shape)
    lo, hi = int(lo), int(hi)
    if lo >= hi and int(np.prod(dims)) > 0:
        raise errors.InvalidArgumentError(None, op, "Need minval < maxval, got %d >= %d"
                                          % (lo, hi))
    r = generator_state(ctx, op)
    with r.lock:
        x = r.gen.integers(lo, hi, size=dims, dtype=op.outputs[0].dtype.as_numpy_dtype) \
            if lo < hi else np.zeros(dims, op.outputs[0].dtype.as_numpy_dtype)
    return op.xp.asarray(x)


for _t, _k in (("RandomUniform", _uniform_kernel), ("RandomStandardNormal", _normal_kernel),
               ("TruncatedNormal", _truncated_kernel)):
    registry.register(_t, shape=_float_shape, kernel=_k, stateful=True)
    registry.NotDifferentiable(_t)
registry.register("RandomUniformInt", shape=_uniform_int_shape, kernel=_uniform_int_kernel,
                  stateful=True)
registry.NotDifferentiable("RandomUniformInt")


def _float_op(op_type, shape, dtype, seed):
    attrs = {"dtype": dtype, "T": shape.dtype}
    attrs.update(_seed_attrs(seed))
    return apply_op1(op_type, [shape], attrs, op_type)


def random_uniform(shape, minval=0, maxval=None, dtype=dtypes.float32, seed=None, name=None):
    """Values uniform in [minval, maxval) (maxval defaults to 1 for floats and
    is required for the integer dtypes int32/int64)."""
    dtype = dtypes.as_dtype(dtype)
    if dtype.is_integer and maxval is None:
        raise ValueError("Must specify maxval for integer dtype %r" % dtype)
    if dtype not in _FLOATS and dtype not in _INTS:
        raise ValueError("Argument `dtype` got invalid value %r. Accepted dtypes are "
                         "(tf.float16, tf.float32, tf.float64, tf.int32, tf.int64)." % dtype)
    unit = not dtype.is_integer and type(minval) is int and minval == 0 and \
        (maxval is None or type(maxval) is int and maxval == 1)
    if maxval is None:
        maxval = 1
    with name_scope(name, "random_uniform", [shape, minval, maxval]) as scope:
        shape = shape_tensor(shape)
        if unit:
            return _float_op("RandomUniform", shape, dtype, seed)
        minval = convert_to_tensor(minval, dtype=dtype, name="min")
        maxval = convert_to_tensor(maxval, dtype=dtype, name="max")
        if dtype.is_integer:
            attrs = {"Tout": dtype, "T": shape.dtype}
            attrs.update(_seed_attrs(seed))
            return apply_op1("RandomUniformInt", [shape, minval, maxval], attrs, scope)
        from flowcore.ops import math
        rnd = _float_op("RandomUniform", shape, dtype, seed)
        return math.add(rnd * (maxval - minval), minval, name=scope)


def _scaled(op_type, default, shape, mean, stddev, dtype, seed, name):
    dtype = dtypes.as_dtype(dtype)
    with name_scope(name, default, [shape, mean, stddev]) as scope:
        shape = shape_tensor(shape)
        mean = convert_to_tensor(mean, dtype=dtype, name="mean")
        stddev = convert_to_tensor(stddev, dtype=dtype, name="stddev")
        from flowcore.ops import math
        rnd = _float_op(op_type, shape, dtype, seed)
        return math.add(rnd * stddev, mean, name=scope)


def random_normal(shape, mean=0.0, stddev=1.0, dtype=dtypes.float32, seed=None, name=None):
    """Values from a normal distribution N(mean, stddev**2)."""
    return _scaled("RandomStandardNormal", "random_normal", shape, mean, stddev, dtype, seed,
                   name)


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=dtypes.float32, seed=None, name=None):
    """Normal values, redrawn when more than 2 standard deviations from the mean."""
    return _scaled("TruncatedNormal", "truncated_normal", shape, mean, stddev, dtype, seed, name)


# -- RandomShuffle --------------------------------------------------------------------

def _shuffle_kernel(ctx, op, x):
    if np.ndim(x) == 0 or len(x) <= 1:
        return x
    r = generator_state(ctx, op)
    with r.lock:
        perm = r.gen.permutation(len(x))
    return x[perm]


registry.register("RandomShuffle", kernel=_shuffle_kernel, stateful=True,
                  shape=lambda op: [(op.inputs[0].dtype, op.inputs[0].shape)])
registry.NotDifferentiable("RandomShuffle")


def random_shuffle(value, seed=None, name=None):
    """`value` with its first dimension randomly permuted."""
    value = convert_to_tensor(value, name="value") if not core.is_tensor(value) else \
        convert_to_tensor(value)
    attrs = {"T": value.dtype}
    attrs.update(_seed_attrs(seed))
    return apply_op1("RandomShuffle", [value], attrs, name or "RandomShuffle")


# -- Multinomial ------------------------------------------------------------------------

def _multinomial_shape(op):
    logits, n = op.inputs
    if not logits.dtype.is_floating:
        raise TypeError("logits must be floating point, got %s" % logits.dtype.name)
    _check_rank(logits, 2, "logits")
    _check_rank(n, 0, "num_samples")
    nv = core.constant_value(n)
    batch = logits.shape[0].value if logits.shape.ndims == 2 else None
    return [(op.attrs["output_dtype"], TensorShape([batch, None if nv is None else int(nv)]))]


def _multinomial_kernel(ctx, op, logits, num_samples):
    """Inverse-CDF sampling, all rows at once: each row's CDF is shifted by its
    row index so one `searchsorted` over the flattened CDFs serves every row."""
    n = int(num_samples)
    if n < 0:
        raise errors.InvalidArgumentError(None, op, "num_samples should be nonnegative, got %d"
                                          % n)
    batch, classes = logits.shape
    out_dt = op.attrs["output_dtype"].as_numpy_dtype
    if classes == 0 and n > 0 and batch > 0:
        raise errors.InvalidArgumentError(None, op, "num_classes should be positive, got 0")
    r = generator_state(ctx, op)
    with r.lock:
        u = r.gen.random((batch, n))
    if batch == 0 or n == 0:
        return op.xp.zeros((batch, n), dtype=out_dt)
    lg = np.asarray(logits, dtype=np.float64)
    lg = lg - np.max(np.where(np.isfinite(lg), lg, -np.inf), axis=1, keepdims=True)
    cdf = np.cumsum(np.exp(lg), axis=1)
    cdf /= cdf[:, -1:]
    rows = np.arange(batch, dtype=np.float64)[:, None]
    idx = np.searchsorted((cdf + rows).reshape(-1), (u + rows).reshape(-1), side="right")
    idx = idx.reshape(batch, n) - np.arange(batch)[:, None] * classes
    return op.xp.asarray(np.clip(idx, 0, classes - 1).astype(out_dt))


registry.register("Multinomial", shape=_multinomial_shape, kernel=_multinomial_kernel,
                  stateful=True)
registry.NotDifferentiable("Multinomial")


def _multinomial(logits, num_samples, seed, name, output_dtype, default):
    with name_scope(name, default, [logits]):
        logits = convert_to_tensor(logits, name="logits")
        output_dtype = dtypes.as_dtype(output_dtype or dtypes.int64)
        if output_dtype not in _INTS:
            raise TypeError("output_dtype must be int32 or int64, got %s" % output_dtype.name)
        with name_scope(None, "Multinomial", []) as scope:
            n = convert_to_tensor(num_samples, dtype=dtypes.int32, name="num_samples") \
                if not core.is_tensor(num_samples) else convert_to_tensor(num_samples)
            attrs = {"T": logits.dtype, "output_dtype": output_dtype}
            attrs.update(_seed_attrs(seed))
            return apply_op1("Multinomial", [logits, n], attrs, scope)


def multinomial(logits, num_samples, seed=None, name=None, output_dtype=None):
    """`num_samples` class indices per row of `logits` [batch, classes],
    drawn from softmax(logits): an int64 (or `output_dtype`) [batch, num_samples]."""
    return _multinomial(logits, num_samples, seed, name, output_dtype, "multinomial")


def categorical(logits, num_samples, dtype=None, seed=None, name=None):
    """`tf.random.categorical`: `multinomial` with a `dtype` argument."""
    return _multinomial(logits, num_samples, seed, name, dtype, "categorical")


uniform = random_uniform
normal = random_normal
shuffle = random_shuffle


# -- candidate samplers (for nce_loss / sampled softmax) --------------------------------

class _LogUniform:
    """P(k) = log((k + 2) / (k + 1)) / log(range_max + 1), k in [0, range_max)."""

    @staticmethod
    def sample(gen, range_max, n):
        v = np.exp(gen.random(n) * np.log(range_max + 1.0)).astype(np.int64) - 1
        return v % range_max

    @staticmethod
    def probability(values, range_max):
        v = values.astype(np.float64)
        return np.log((v + 2.0) / (v + 1.0)) / np.log(range_max + 1.0)


class _Uniform:
    """P(k) = 1 / range_max."""

    @staticmethod
    def sample(gen, range_max, n):
        return gen.integers(0, range_max, size=n, dtype=np.int64)

    @staticmethod
    def probability(values, range_max):
        return np.full(values.shape, 1.0 / range_max)


def _sample_unique(gen, dist, range_max, n):
    """The first `n` distinct values of a stream of samples, and how many
    samples that took (drawn in growing vectorised chunks)."""
    picked = np.empty(0, np.int64)
    tries = 0
    chunk = max(2 * n, 16)
    while True:
        c = dist.sample(gen, range_max, chunk)
        vals, first = np.unique(c, return_index=True)
        first = np.sort(first[~np.isin(vals, picked)])
        need = n - picked.size
        if first.size >= need:
            take = first[:need]
            tries += int(take[-1]) + 1 if need else 0
            return np.concatenate([picked, c[take]]), tries
        tries += chunk
        picked = np.concatenate([picked, c[first]])
        chunk *= 2


def _expected_count(p, num_sampled, tries):
    if tries == num_sampled:
        return p * num_sampled
    return -np.expm1(tries * np.log1p(-p))   # 1 - (1 - p) ** tries, stably


def _sampler(dist):
    def kernel(ctx, op, true_classes):
        a = op.attrs
        n, range_max, unique = a["num_sampled"], a["range_max"], a["unique"]
        if unique and n > range_max:
            raise errors.InvalidArgumentError(None, op, "Sampler's range is too small.")
        r = generator_state(ctx, op)
        with r.lock:
            if unique:
                sampled, tries = _sample_unique(r.gen, dist, range_max, n)
            else:
                sampled, tries = dist.sample(r.gen, range_max, n), n
        true_ec = _expected_count(dist.probability(np.asarray(true_classes), range_max), n, tries)
        samp_ec = _expected_count(dist.probability(sampled, range_max), n, tries)
        xp = op.xp
        return (xp.asarray(sampled), xp.asarray(true_ec.astype(np.float32)),
                xp.asarray(samp_ec.astype(np.float32)))
    return kernel


def _sampler_shape(op):
    t = op.inputs[0]
    if t.dtype is not dtypes.int64:
        raise TypeError("Value passed to parameter 'true_classes' has DataType %s not in list "
                        "of allowed values: int64" % t.dtype.name)
    a = op.attrs
    s = t.shape
    if s.ndims is not None and s.ndims != 2:
        raise ValueError("Shape must be rank 2 but is rank %d for true_classes" % s.ndims)
    batch = s[0].value if s.ndims == 2 else None
    n = a["num_sampled"]
    return [(dtypes.int64, TensorShape([n])),
            (dtypes.float32, TensorShape([batch, a["num_true"]])),
            (dtypes.float32, TensorShape([n]))]


for _t, _d in (("LogUniformCandidateSampler", _LogUniform),
               ("UniformCandidateSampler", _Uniform)):
    registry.register(_t, shape=_sampler_shape, kernel=_sampler(_d), stateful=True)
    registry.NotDifferentiable(_t)

CandidateSamplerOutput = collections.namedtuple(
    "CandidateSamplerOutput", ["sampled_candidates", "true_expected_count",
                               "sampled_expected_count"])


def _candidate_sampler(op_type, true_classes, num_true, num_sampled, unique, range_max,
                       seed, name):
    if num_sampled < 0 or range_max < 1 or num_true < 1:
        raise ValueError("%s needs num_sampled >= 0, range_max >= 1 and num_true >= 1, got "
                         "%d, %d, %d" % (op_type, num_sampled, range_max, num_true))
    t = convert_to_tensor(true_classes, dtype=dtypes.int64) if not core.is_tensor(true_classes) \
        else convert_to_tensor(true_classes)
    attrs = {"num_true": int(num_true), "num_sampled": int(num_sampled),
             "unique": bool(unique), "range_max": int(range_max)}
    attrs.update(_seed_attrs(seed))
    op = apply_op(op_type, [t], attrs, name or op_type)
    return CandidateSamplerOutput(*op.outputs)


def log_uniform_candidate_sampler(true_classes, num_true, num_sampled, unique, range_max,
                                  seed=None, name=None):
    """Sample `num_sampled` classes from the log-uniform (Zipfian) distribution
    over [0, range_max); with `unique`, without replacement.  Returns
    (sampled_candidates, true_expected_count, sampled_expected_count), the
    expected counts computed as TF does (1 - (1 - p)**num_tries when unique)."""
    return _candidate_sampler("LogUniformCandidateSampler", true_classes, num_true, num_sampled,
                              unique, range_max, seed, name)


def uniform_candidate_sampler(true_classes, num_true, num_sampled, unique, range_max,
                              seed=None, name=None):
    """As `log_uniform_candidate_sampler`, with every class equally likely."""
    return _candidate_sampler("UniformCandidateSampler", true_classes, num_true, num_sampled,
                              unique, range_max, seed, name)

