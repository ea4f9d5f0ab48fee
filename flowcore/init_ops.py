"""TF1's initializers: objects called as `init(shape, dtype=None,
partition_info=None)` that build the ops computing a variable's first value.

`get_variable` calls them under the variable's `Initializer` name scope, so
`tf.get_variable("w", [2, 3])` gets `w/Initializer/random_uniform`.  The
random ones build `random_uniform` / `random_normal` / `truncated_normal`
ops (with the initializer's `seed`), so values are drawn anew each time the
initializer op runs, as in TF.

`__all__` holds the names TF1 exports at top level (`zeros_initializer`, ...).
The short names of `tf.initializers` (`zeros`, `constant`, `random_normal`,
...) would shadow `tf.zeros`, `tf.constant`, ... under `from init_ops import
*`, so they live in `INITIALIZERS` for the namespace builder instead.
"""
import inspect
import math

import numpy as np

from flowcore import dtypes, registry
from flowcore.graph import Tensor
from flowcore.shapes import TensorShape, as_shape

__all__ = ["zeros_initializer", "ones_initializer", "constant_initializer",
           "random_uniform_initializer", "random_normal_initializer",
           "truncated_normal_initializer", "uniform_unit_scaling_initializer",
           "variance_scaling_initializer", "glorot_uniform_initializer",
           "glorot_normal_initializer", "orthogonal_initializer"]


def _assert_float_dtype(dtype):
    dtype = dtypes.as_dtype(dtype)
    if not dtype.is_floating:
        raise ValueError("Expected floating point type, got %s." % dtype.name)
    return dtype


def _static_shape(shape, what):
    """`shape` as a list of ints (initializers that scale by fan need it)."""
    if isinstance(shape, Tensor):
        raise TypeError("%s needs a static shape (a list of ints), got the tensor %s"
                        % (what, shape.name))
    s = as_shape(shape)
    if not s.is_fully_defined():
        raise ValueError("%s needs a fully defined shape, got %s" % (what, s))
    return [int(d) for d in s.as_list()]


def _random():
    # Imported when first used: ops/random.py may load after this module.
    from flowcore.ops import random as random_ops
    return random_ops


class Initializer:
    """Base class: subclasses implement `__call__(shape, dtype, partition_info)`."""

    def __call__(self, shape, dtype=None, partition_info=None):
        raise NotImplementedError

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def _dtype(self, dtype):
        return self.dtype if dtype is None else dtypes.as_dtype(dtype)


class Zeros(Initializer):
    """All zeros (empty strings, False) of `dtype`."""

    def __init__(self, dtype=dtypes.float32):
        self.dtype = dtypes.as_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        from flowcore.ops import array
        return array.zeros(shape, self._dtype(dtype))

    def get_config(self):
        return {"dtype": self.dtype.name}


class Ones(Initializer):
    """All ones of `dtype`."""

    def __init__(self, dtype=dtypes.float32):
        self.dtype = dtypes.as_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        from flowcore.ops import array
        return array.ones(shape, self._dtype(dtype))

    def get_config(self):
        return {"dtype": self.dtype.name}


class Constant(Initializer):
    """`value` (a scalar, list or ndarray) as TF1's `tf.constant(value, shape=...)`
    gives it: a scalar fills the shape, a shorter list is padded with its last
    element, a longer one is a ValueError; with `verify_shape` the value's own
    shape must equal the requested one (TypeError)."""

    def __init__(self, value=0, dtype=dtypes.float32, verify_shape=False):
        if not (np.isscalar(value) or isinstance(value, (list, tuple, np.ndarray))):
            raise TypeError("Invalid type for initial value=%s of type: %s. Expected Python "
                            "scalar, list or tuple of values, or numpy.ndarray."
                            % (value, type(value).__name__))
        self.value = value
        self.dtype = dtypes.as_dtype(dtype)
        self._verify_shape = verify_shape

    def __call__(self, shape, dtype=None, partition_info=None, verify_shape=None):
        from flowcore.ops import core
        if verify_shape is None:
            verify_shape = self._verify_shape
        dtype = self._dtype(dtype)
        if not isinstance(shape, Tensor):
            want = as_shape(shape)
            if want.is_fully_defined():
                have = np.shape(self.value)
                if verify_shape and tuple(have) != tuple(want.as_list()):
                    raise TypeError("Expected Tensor's shape: %s, but got %s."
                                    % (tuple(want.as_list()), tuple(have)))
                n, size = want.num_elements(), int(np.prod(have, dtype=np.int64))
                if size > n:
                    raise ValueError("Too many elements provided. Takes at most %d, but got %d."
                                     % (n, size))
                shape = want.as_list()
        return core.constant(self.value, dtype=dtype, shape=shape)

    def get_config(self):
        return {"value": self.value, "dtype": self.dtype.name}


class RandomUniform(Initializer):
    """Uniform in [minval, maxval); `maxval=None` means 1 for floats and is an
    error for integers."""

    def __init__(self, minval=0, maxval=None, seed=None, dtype=dtypes.float32):
        self.minval = minval
        self.maxval = maxval
        self.seed = seed
        self.dtype = dtypes.as_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        dtype = self._dtype(dtype)
        maxval = self.maxval
        if maxval is None:
            if dtype.is_integer:
                raise ValueError("Must specify maxval for integer dtype %r" % dtype)
            maxval = 1.0
        return _random().random_uniform(shape, minval=self.minval, maxval=maxval, dtype=dtype,
                                        seed=self.seed)

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed,
                "dtype": self.dtype.name}


class RandomNormal(Initializer):
    """Normal with `mean` and `stddev`."""

    def __init__(self, mean=0.0, stddev=1.0, seed=None, dtype=dtypes.float32):
        self.mean = mean
        self.stddev = stddev
        self.seed = seed
        self.dtype = _assert_float_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        return _random().random_normal(shape, mean=self.mean, stddev=self.stddev,
                                       dtype=self._dtype(dtype), seed=self.seed)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed,
                "dtype": self.dtype.name}


class TruncatedNormal(RandomNormal):
    """Normal with `mean` and `stddev`, redrawn beyond two standard deviations."""

    def __call__(self, shape, dtype=None, partition_info=None):
        return _random().truncated_normal(shape, mean=self.mean, stddev=self.stddev,
                                          dtype=self._dtype(dtype), seed=self.seed)


class UniformUnitScaling(Initializer):
    """Uniform in +-sqrt(3 / input_size) * factor, input_size the product of
    all but the last dimension (deprecated in TF, kept for old code)."""

    def __init__(self, factor=1.0, seed=None, dtype=dtypes.float32):
        self.factor = factor
        self.seed = seed
        self.dtype = _assert_float_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        full = partition_info.full_shape if partition_info is not None else shape
        full = _static_shape(full, "uniform_unit_scaling_initializer")
        input_size = max(float(np.prod(full[:-1])) if len(full) > 1 else 1.0, 1.0)
        limit = math.sqrt(3 / input_size) * self.factor
        return _random().random_uniform(shape, minval=-limit, maxval=limit,
                                        dtype=self._dtype(dtype), seed=self.seed)

    def get_config(self):
        return {"factor": self.factor, "seed": self.seed, "dtype": self.dtype.name}


def _compute_fans(shape):
    """(fan_in, fan_out) of a weight shape, as TF computes them (conv kernels
    multiply by the receptive field)."""
    if len(shape) < 1:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive = 1
    for d in shape[:-2]:
        receptive *= d
    return shape[-2] * receptive, shape[-1] * receptive


class VarianceScaling(Initializer):
    """Samples scaled to the weight's fan: variance `scale / n`, n = fan_in,
    fan_out or their mean by `mode`; `distribution` "truncated_normal" (also
    "normal"), "untruncated_normal" or "uniform" (limit sqrt(3 * scale / n))."""

    _MODES = ("fan_in", "fan_out", "fan_avg")
    _DISTRIBUTIONS = ("normal", "uniform", "truncated_normal", "untruncated_normal")

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None,
                 dtype=dtypes.float32):
        if scale <= 0.:
            raise ValueError("Argument `scale` must be a positive float. Received: %s" % scale)
        if mode not in self._MODES:
            raise ValueError("Argument `mode` should be one of ('fan_in', 'fan_out', "
                             "'fan_avg'). Received: %s" % mode)
        distribution = distribution.lower()
        if distribution not in self._DISTRIBUTIONS:
            raise ValueError("Argument `distribution` should be one of ('normal', uniform', "
                             "'truncated_normal', 'untruncated_normal'). Received: %s"
                             % distribution)
        self.scale = scale
        self.mode = mode
        self.distribution = distribution
        self.seed = seed
        self.dtype = _assert_float_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        dtype = self._dtype(dtype)
        full = partition_info.full_shape if partition_info is not None else shape
        fan_in, fan_out = _compute_fans(_static_shape(full, type(self).__name__))
        scale = self.scale
        if self.mode == "fan_in":
            scale /= max(1., fan_in)
        elif self.mode == "fan_out":
            scale /= max(1., fan_out)
        else:
            scale /= max(1., (fan_in + fan_out) / 2.)
        rnd = _random()
        if self.distribution in ("normal", "truncated_normal"):
            # stddev of a unit normal truncated at +-2 is 0.8796...; undo it
            stddev = math.sqrt(scale) / .87962566103423978
            return rnd.truncated_normal(shape, mean=0.0, stddev=stddev, dtype=dtype,
                                        seed=self.seed)
        if self.distribution == "untruncated_normal":
            return rnd.random_normal(shape, mean=0.0, stddev=math.sqrt(scale), dtype=dtype,
                                     seed=self.seed)
        limit = math.sqrt(3.0 * scale)
        return rnd.random_uniform(shape, minval=-limit, maxval=limit, dtype=dtype,
                                  seed=self.seed)

    def get_config(self):
        return {"scale": self.scale, "mode": self.mode, "distribution": self.distribution,
                "seed": self.seed, "dtype": self.dtype.name}


class GlorotUniform(VarianceScaling):
    """Uniform in +-sqrt(6 / (fan_in + fan_out)) (Xavier): get_variable's default
    for floating-point variables."""

    def __init__(self, seed=None, dtype=dtypes.float32):
        super().__init__(scale=1.0, mode="fan_avg", distribution="uniform", seed=seed,
                         dtype=dtype)

    def get_config(self):
        return {"seed": self.seed, "dtype": self.dtype.name}


class GlorotNormal(VarianceScaling):
    """Truncated normal with stddev sqrt(2 / (fan_in + fan_out)) (Xavier)."""

    def __init__(self, seed=None, dtype=dtypes.float32):
        super().__init__(scale=1.0, mode="fan_avg", distribution="truncated_normal", seed=seed,
                         dtype=dtype)

    def get_config(self):
        return {"seed": self.seed, "dtype": self.dtype.name}


# -- orthogonal: a QR of a normal sample -----------------------------------------------

def _orthogonalize_kernel(ctx, op, a):
    """Q of the reduced QR of `a`, made uniform over orthogonal matrices by the
    signs of diag(R), transposed back if `a` was, times `gain`, reshaped."""
    xp = op.xp
    q, r = xp.linalg.qr(a, mode="reduced")
    d = xp.sign(xp.diagonal(r))
    q = q * xp.where(d == 0, 1, d)
    if op.attrs["transpose"]:
        q = q.T
    return (op.attrs["gain"] * q).reshape(op.attrs["shape"]).astype(a.dtype, copy=False)


registry.register("_Orthogonalize", kernel=_orthogonalize_kernel,
                  shape=lambda op: [(op.inputs[0].dtype, TensorShape(op.attrs["shape"]))])
registry.NotDifferentiable("_Orthogonalize")


class Orthogonal(Initializer):
    """A (semi-)orthogonal matrix times `gain`: the QR of a normal sample of
    shape (prod(shape[:-1]), shape[-1]), reshaped to `shape`.  The QR step is
    one private op (`_Orthogonalize`), as the engine has no linear algebra ops."""

    def __init__(self, gain=1.0, seed=None, dtype=dtypes.float32):
        self.gain = gain
        self.seed = seed
        self.dtype = _assert_float_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        from flowcore.graph import name_scope
        from flowcore.ops import core
        dtype = self._dtype(dtype)
        full = _static_shape(shape, "orthogonal_initializer")
        if len(full) < 2:
            raise ValueError("The tensor to initialize must be at least two-dimensional")
        rows = int(np.prod(full[:-1]))
        cols = full[-1]
        flat = [cols, rows] if rows < cols else [rows, cols]
        with name_scope(None, "orthogonal", []) as scope:
            a = _random().random_normal(flat, dtype=dtype, seed=self.seed)
            return core.apply_op1("_Orthogonalize", [a],
                                  {"gain": float(self.gain), "transpose": rows < cols,
                                   "shape": full}, scope[:-1] + "/")

    def get_config(self):
        return {"gain": self.gain, "seed": self.seed, "dtype": self.dtype.name}


class Identity(Initializer):
    """`gain` times the identity matrix (2-D shapes only)."""

    def __init__(self, gain=1.0, dtype=dtypes.float32):
        self.gain = gain
        self.dtype = _assert_float_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        from flowcore.ops import core
        full = _static_shape(partition_info.full_shape if partition_info is not None else shape,
                             "identity_initializer")
        if len(full) != 2:
            raise ValueError("Identity matrix initializer can only be used for 2D matrices.")
        value = self.gain * np.eye(full[0], full[1])
        if partition_info is not None:
            off = partition_info.var_offset
            want = _static_shape(shape, "identity_initializer")
            value = value[off[0]:off[0] + want[0], off[1]:off[1] + want[1]]
        return core.constant(value, dtype=self._dtype(dtype), name="eye")

    def get_config(self):
        return {"gain": self.gain, "dtype": self.dtype.name}


# -- TF1's names ------------------------------------------------------------------------

zeros_initializer = Zeros
ones_initializer = Ones
constant_initializer = Constant
random_uniform_initializer = RandomUniform
random_normal_initializer = RandomNormal
truncated_normal_initializer = TruncatedNormal
uniform_unit_scaling_initializer = UniformUnitScaling
variance_scaling_initializer = VarianceScaling
glorot_uniform_initializer = GlorotUniform
glorot_normal_initializer = GlorotNormal
orthogonal_initializer = Orthogonal
identity_initializer = Identity


def lecun_normal(seed=None):
    """Truncated normal with stddev sqrt(1 / fan_in)."""
    return VarianceScaling(scale=1., mode="fan_in", distribution="truncated_normal", seed=seed)


def lecun_uniform(seed=None):
    """Uniform in +-sqrt(3 / fan_in)."""
    return VarianceScaling(scale=1., mode="fan_in", distribution="uniform", seed=seed)


def he_normal(seed=None):
    """Truncated normal with stddev sqrt(2 / fan_in)."""
    return VarianceScaling(scale=2., mode="fan_in", distribution="truncated_normal", seed=seed)


def he_uniform(seed=None):
    """Uniform in +-sqrt(6 / fan_in)."""
    return VarianceScaling(scale=2., mode="fan_in", distribution="uniform", seed=seed)


# What `tf.initializers` holds (besides `__all__`): TF1's short names and the
# class names.
INITIALIZERS = {
    "zeros": Zeros, "ones": Ones, "constant": Constant, "random_uniform": RandomUniform,
    "random_normal": RandomNormal, "truncated_normal": TruncatedNormal,
    "uniform_unit_scaling": UniformUnitScaling, "variance_scaling": VarianceScaling,
    "glorot_uniform": GlorotUniform, "glorot_normal": GlorotNormal,
    "orthogonal": Orthogonal, "identity": Identity, "lecun_normal": lecun_normal,
    "lecun_uniform": lecun_uniform, "he_normal": he_normal, "he_uniform": he_uniform,
    "Initializer": Initializer, "Zeros": Zeros, "Ones": Ones, "Constant": Constant,
    "RandomUniform": RandomUniform, "RandomNormal": RandomNormal,
    "TruncatedNormal": TruncatedNormal, "UniformUnitScaling": UniformUnitScaling,
    "VarianceScaling": VarianceScaling, "GlorotUniform": GlorotUniform,
    "GlorotNormal": GlorotNormal, "Orthogonal": Orthogonal, "Identity": Identity,
}


def _accepts_partition_info(fn):
    """Whether an initializer callable takes `partition_info` (TF passes it
    only to those that do)."""
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    return "partition_info" in params
