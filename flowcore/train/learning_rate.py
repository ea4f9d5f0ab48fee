"""Learning-rate schedules of TF1 (`tf.train.exponential_decay`, ...): graph
ops computing the rate from the global step, so it changes as training runs."""
from flowcore.graph import name_scope
from flowcore.ops.core import convert_to_tensor

__all__ = ["exponential_decay", "inverse_time_decay", "natural_exp_decay",
           "piecewise_constant"]


def _math():
    from flowcore.ops import math
    return math


def _progress(learning_rate, global_step, decay_steps, staircase):
    """(rate tensor, global_step / decay_steps in the rate's dtype, floored
    when `staircase`)."""
    math = _math()
    learning_rate = convert_to_tensor(learning_rate, name="learning_rate")
    dtype = learning_rate.dtype
    step = math.cast(global_step, dtype)
    decay_steps = math.cast(decay_steps, dtype)
    p = math.floordiv(step, decay_steps) if staircase else math.truediv(step, decay_steps)
    return learning_rate, p


def _decay(what, default_name, learning_rate, global_step, decay_steps, decay_rate,
           staircase, name, rule):
    """The common frame of the decay schedules: checks, name scope, the rate
    and the progress `p`; `rule(math, lr, decay_rate, p, scope)` builds the rest."""
    if global_step is None:
        raise ValueError("global_step is required for %s." % what)
    with name_scope(name, default_name,
                    [learning_rate, global_step, decay_steps, decay_rate]) as scope:
        math = _math()
        lr, p = _progress(learning_rate, global_step, decay_steps, staircase)
        return rule(math, lr, math.cast(decay_rate, lr.dtype), p, scope)


def exponential_decay(learning_rate, global_step, decay_steps, decay_rate, staircase=False,
                      name=None):
    """learning_rate * decay_rate ^ (global_step / decay_steps) (the exponent
    floored with `staircase`)."""
    return _decay("exponential_decay", "ExponentialDecay", learning_rate, global_step,
                  decay_steps, decay_rate, staircase, name,
                  lambda math, lr, rate, p, scope: math.multiply(lr, math.pow(rate, p),
                                                                 name=scope))


def inverse_time_decay(learning_rate, global_step, decay_steps, decay_rate, staircase=False,
                       name=None):
    """learning_rate / (1 + decay_rate * global_step / decay_steps)."""
    def rule(math, lr, rate, p, scope):
        denom = math.add(convert_to_tensor(1, dtype=lr.dtype), math.multiply(rate, p))
        return math.truediv(lr, denom, name=scope)
    return _decay("inverse_time_decay", "InverseTimeDecay", learning_rate, global_step,
                  decay_steps, decay_rate, staircase, name, rule)


def natural_exp_decay(learning_rate, global_step, decay_steps, decay_rate, staircase=False,
                      name=None):
    """learning_rate * exp(-decay_rate * global_step / decay_steps)."""
    def rule(math, lr, rate, p, scope):
        return math.multiply(lr, math.exp(math.negative(math.multiply(rate, p))), name=scope)
    return _decay("natural_exp_decay", "NaturalExpDecay", learning_rate, global_step,
                  decay_steps, decay_rate, staircase, name, rule)


def piecewise_constant(x, boundaries, values, name=None):
    """values[0] while x <= boundaries[0], values[i] while boundaries[i-1] < x
    <= boundaries[i], values[-1] after the last boundary."""
    if len(values) != len(boundaries) + 1:
        raise ValueError("The length of boundaries should be 1 less than the length of "
                         "values")
    with name_scope(name, "PiecewiseConstant", [x] + list(boundaries) + list(values)) as scope:
        math = _math()
        from flowcore.ops import array
        where = getattr(math, "where", None) or getattr(array, "where")
        x = convert_to_tensor(x)
        vals = [convert_to_tensor(v) for v in values]
        for v in vals[1:]:
            if v.dtype is not vals[0].dtype:
                raise ValueError("Values must have elements all with the same dtype (%s vs %s)."
                                 % (vals[0].dtype.name, v.dtype.name))
        out = vals[0]
        for b, v in zip(boundaries, vals[1:]):
            b = convert_to_tensor(b, dtype=x.dtype) if not hasattr(b, "dtype") else \
                math.cast(b, x.dtype)
            out = where(math.greater(x, b), v, out)
        from flowcore.ops import core
        return core.identity(out, name=scope)
