"""Fused optimizer updates: `ApplyGradientDescent`, `ApplyMomentum`,
`ApplyAdagrad`, `ApplyRMSProp`, `ApplyCenteredRMSProp`, `ApplyAdam` and their
sparse forms (`SparseApply*`, for `IndexedSlices` gradients).

Each kernel does a whole read-modify-write of a variable and its slots under
their locks (taken in a fixed order), so concurrent training steps never
lose or tear an update: TF's `use_locking=True`, always.

Storage stays copy-on-write (see `ops/state.py`): a value a run has read, or
a user has fetched, never changes.  Writing in place would break that, since
runs read variables without a lock.  Instead each variable keeps a *spare*
buffer, the array it held before the last update; an update computes into
the spare when no run and no view still references it (its reference count
says so, checked under the lock, and nobody can obtain it afresh because it
is no longer published), else into a fresh array.  A dense update then
allocates nothing; a sparse update rewrites only the rows that changed since
the spare was current plus its own rows, instead of copying the whole
variable (what makes embedding training cheap).

Sparse kernels sum the gradients of duplicate indices first, which is what
TF's optimizers do before calling their sparse ops.  Formulas are TF1's.
"""
import sys

import numpy as np

from flowcore import errors, registry
from flowcore.ops.core import apply_op, convert_to_tensor
from flowcore.shapes import TensorShape

__all__ = []


# -- buffers -------------------------------------------------------------------------

def _refcount_of_unshared():
    """References to a spare held only by its VarState (dict entry, local, argument)."""
    class _S:
        pass
    s = _S()
    s.__dict__["_fc_spare"] = np.empty(1)
    spare = s.__dict__.get("_fc_spare")
    return sys.getrefcount(spare)


_UNSHARED = _refcount_of_unshared()


# Below this many elements a fresh array costs less than the bookkeeping.
_SMALL = 4096


def _buffer(state, cur, keep):
    """A writable array shaped like `cur` that nobody else can see.  With
    `keep`, its contents equal `cur` (a sparse update edits some rows)."""
    if cur.size <= _SMALL:
        return cur.copy() if keep else np.empty_like(cur)
    d = state.__dict__
    spare = d.get("_fc_spare")
    if spare is not None and sys.getrefcount(spare) <= _UNSHARED \
            and spare.shape == cur.shape and spare.dtype == cur.dtype:
        d["_fc_spare"] = None
        spare.flags.writeable = True
        if keep:
            rows = d.get("_fc_rows")
            if rows is not None and d.get("_fc_pub") is cur:
                if len(rows):
                    spare[rows] = cur[rows]
            else:
                np.copyto(spare, cur)
        return spare
    return cur.copy() if keep else np.empty_like(cur)


def _publish(state, new, cur, rows=None):
    """Store `new` (now read-only); keep `cur` as the spare.  `rows`: the only
    rows where `new` differs from `cur` (None: any)."""
    state.store(new)
    if new.size <= _SMALL:
        return
    d = state.__dict__
    d["_fc_spare"] = cur if type(cur) is np.ndarray and cur.flags.owndata else None
    d["_fc_pub"] = new
    d["_fc_rows"] = rows


class _Locked:
    """Hold the locks of several variables, in a fixed order (no deadlock)."""
    __slots__ = ("locks",)

    def __init__(self, states):
        seen = {}
        for s in states:
            seen[id(s)] = s.lock
        self.locks = [seen[k] for k in sorted(seen)]

    def __enter__(self):
        for lk in self.locks:
            lk.acquire()

    def __exit__(self, *exc):
        for lk in reversed(self.locks):
            lk.release()


def _read(op, i, state):
    """The value of ref input `i` (FailedPreconditionError when uninitialized)."""
    v = state.value
    return v if v is not None else state.read(op.inputs[i].op)


def _check_same(op, what, a, b):
    if a.shape != (b.shape if type(b) is np.ndarray else np.shape(b)):
        raise errors.InvalidArgumentError(
            None, op, "%s do not have the same shape%s %s (op %s)"
            % (what, list(a.shape), list(np.shape(b)), op.name))


def _unique(op, var, grad, indices):
    """(rows, summed gradient rows): duplicate indices summed, bounds checked."""
    idx = np.asarray(indices).reshape(-1)
    grad = np.asarray(grad)
    if grad.shape[:1] != idx.shape or grad.shape[1:] != var.shape[1:]:
        raise errors.InvalidArgumentError(
            None, op, "grad must be the same shape as var in all but the first dimension "
            "and have as many rows as indices: var %s, grad %s, indices %s"
            % (list(var.shape), list(grad.shape), list(idx.shape)))
    n = var.shape[0]
    if idx.size:
        lo, hi = idx.min(), idx.max()
        if lo < 0 or hi >= n:
            k = int(np.flatnonzero((idx < 0) | (idx >= n))[0])
            raise errors.InvalidArgumentError(
                None, op, "indices[%d] = %d is not in [0, %d) (variable %s)"
                % (k, idx[k], n, op.inputs[0].op.name))
    return _sum_rows(idx, grad)


def _sum_rows(idx, rows):
    """(unique indices, rows summed per index); the inputs unchanged when
    the indices are already unique (sorted only when they were not)."""
    if idx.size <= 1:
        return idx, rows
    order = np.argsort(idx, kind="stable")
    s = idx[order]
    first = np.empty(s.size, dtype=bool)
    first[0] = True
    np.not_equal(s[1:], s[:-1], out=first[1:])
    if first.all():
        return idx, rows
    starts = np.flatnonzero(first)
    return s[starts], np.add.reduceat(rows[order], starts, axis=0)


# -- shape functions -----------------------------------------------------------------

def _make_shape(n_refs, scalars, grad_pos, indices_pos=None):
    """Shape rule: inputs [0, n_refs) are variable refs of one dtype and shape,
    `scalars` are scalar hyper-parameters, `grad_pos` the gradient."""
    def shape(op):
        ins = op.inputs
        var = ins[0]
        for i in range(n_refs):
            if not ins[i]._is_ref:
                raise TypeError("'%s' needs a variable reference as input %d, got %s"
                                % (op.type, i, ins[i].name))
        for i, t in enumerate(ins):
            if i != indices_pos and t.dtype is not var.dtype:
                raise TypeError("Input %d of '%s' Op has type %s that does not match type %s "
                                "of argument 'var'." % (i, op.type, t.dtype.name,
                                                        var.dtype.name))
        for i in range(1, n_refs):
            if not ins[i].shape.is_compatible_with(var.shape):
                raise ValueError("Shapes %s and %s are incompatible" % (var.shape, ins[i].shape))
        for i in scalars:
            if not ins[i].shape.is_compatible_with(TensorShape([])):
                raise ValueError("Shape must be rank 0 but is rank %s for input %d of '%s'"
                                 % (ins[i].shape.ndims, i, op.type))
        grad = ins[grad_pos].shape
        if indices_pos is None:
            if not grad.is_compatible_with(var.shape):
                raise ValueError("Shapes %s and %s are incompatible" % (var.shape, grad))
        else:
            ind = ins[indices_pos]
            if not ind.dtype.is_integer:
                raise TypeError("indices of '%s' must be int32 or int64, got %s"
                                % (op.type, ind.dtype.name))
            if not ind.shape.is_compatible_with(TensorShape([None])):
                raise ValueError("indices must be a vector, got shape %s" % ind.shape)
            if var.shape.ndims is not None and grad.ndims is not None and \
                    not grad[1:].is_compatible_with(var.shape[1:]):
                raise ValueError("Shapes %s and %s are incompatible in all but the first "
                                 "dimension" % (var.shape, grad))
        return [(var.dtype, var.shape)]
    return shape


def _register(op_type, kernel, n_refs, scalars, grad_pos, indices_pos=None):
    registry.register(op_type, kernel=kernel, stateful=True, ref_inputs=tuple(range(n_refs)),
                      shape=_make_shape(n_refs, scalars, grad_pos, indices_pos))
    registry.NotDifferentiable(op_type)


# -- dense kernels ---------------------------------------------------------------------

def _gd_kernel(ctx, op, var, alpha, delta):
    with var.lock:
        w = _read(op, 0, var)
        _check_same(op, "var and delta", w, delta)
        new = _buffer(var, w, False)
        np.multiply(delta, alpha, out=new)
        np.subtract(w, new, out=new)
        _publish(var, new, w)
    return new


def _momentum_kernel(ctx, op, var, accum, lr, grad, momentum):
    with _Locked((var, accum)):
        w, a = _read(op, 0, var), _read(op, 1, accum)
        _check_same(op, "var and accum", w, a)
        _check_same(op, "var and grad", w, grad)
        a2 = _buffer(accum, a, False)
        np.multiply(a, momentum, out=a2)
        a2 += grad
        new = _buffer(var, w, False)
        if op.attrs.get("use_nesterov"):
            np.multiply(a2, momentum, out=new)
            new += grad
            new *= lr
        else:
            np.multiply(a2, lr, out=new)
        np.subtract(w, new, out=new)
        _publish(accum, a2, a)
        _publish(var, new, w)
    return new


def _adagrad_kernel(ctx, op, var, accum, lr, grad):
    with _Locked((var, accum)):
        w, a = _read(op, 0, var), _read(op, 1, accum)
        _check_same(op, "var and accum", w, a)
        _check_same(op, "var and grad", w, grad)
        if op.attrs.get("update_slots", True):
            a2 = _buffer(accum, a, False)
            np.multiply(grad, grad, out=a2)
            a2 += a
        else:
            a2 = a
        new = _buffer(var, w, False)
        np.sqrt(a2, out=new)
        np.divide(grad, new, out=new)
        new *= lr
        np.subtract(w, new, out=new)
        if a2 is not a:
            _publish(accum, a2, a)
        _publish(var, new, w)
    return new


def _rmsprop_update(op, w, ms, mom, mg, lr, rho, momentum, epsilon, grad, states):
    """New (var, ms, mom, mg) arrays for (centered when `mg` is given) RMSProp."""
    var_s, ms_s, mom_s, mg_s = states
    ms2 = _buffer(ms_s, ms, False)
    np.multiply(grad, grad, out=ms2)
    ms2 -= ms
    ms2 *= 1 - rho
    ms2 += ms
    new = _buffer(var_s, w, False)
    mg2 = None
    if mg is not None:
        mg2 = _buffer(mg_s, mg, False)
        np.subtract(grad, mg, out=mg2)
        mg2 *= 1 - rho
        mg2 += mg
        np.multiply(mg2, mg2, out=new)
        np.subtract(ms2, new, out=new)
        new += epsilon
    else:
        np.add(ms2, epsilon, out=new)
    np.sqrt(new, out=new)
    np.divide(grad, new, out=new)
    new *= lr
    mom2 = _buffer(mom_s, mom, False)
    np.multiply(mom, momentum, out=mom2)
    mom2 += new
    np.subtract(w, mom2, out=new)
    return new, ms2, mom2, mg2


def _rmsprop_kernel(ctx, op, var, ms, mom, lr, rho, momentum, epsilon, grad):
    with _Locked((var, ms, mom)):
        w, m_s, m_o = _read(op, 0, var), _read(op, 1, ms), _read(op, 2, mom)
        for name, a in (("ms", m_s), ("mom", m_o), ("grad", grad)):
            _check_same(op, "var and " + name, w, a)
        new, ms2, mom2, _ = _rmsprop_update(op, w, m_s, m_o, None, lr, rho, momentum,
                                            epsilon, grad, (var, ms, mom, None))
        _publish(ms, ms2, m_s)
        _publish(mom, mom2, m_o)
        _publish(var, new, w)
    return new


def _centered_rmsprop_kernel(ctx, op, var, mg, ms, mom, lr, rho, momentum, epsilon, grad):
    with _Locked((var, mg, ms, mom)):
        w, m_g = _read(op, 0, var), _read(op, 1, mg)
        m_s, m_o = _read(op, 2, ms), _read(op, 3, mom)
        for name, a in (("mg", m_g), ("ms", m_s), ("mom", m_o), ("grad", grad)):
            _check_same(op, "var and " + name, w, a)
        new, ms2, mom2, mg2 = _rmsprop_update(op, w, m_s, m_o, m_g, lr, rho, momentum,
                                              epsilon, grad, (var, ms, mom, mg))
        _publish(mg, mg2, m_g)
        _publish(ms, ms2, m_s)
        _publish(mom, mom2, m_o)
        _publish(var, new, w)
    return new


def _adam_lr(lr, beta1_power, beta2_power):
    return lr * np.sqrt(1 - beta2_power) / (1 - beta1_power)


def _adam_kernel(ctx, op, var, m, v, beta1_power, beta2_power, lr, beta1, beta2, epsilon,
                 grad):
    with _Locked((var, m, v)):
        w, m0, v0 = _read(op, 0, var), _read(op, 1, m), _read(op, 2, v)
        for name, a in (("m", m0), ("v", v0), ("grad", grad)):
            _check_same(op, "var and " + name, w, a)
        lr_t = _adam_lr(lr, beta1_power, beta2_power)
        m2 = _buffer(m, m0, False)
        np.subtract(grad, m0, out=m2)
        m2 *= 1 - beta1
        m2 += m0
        v2 = _buffer(v, v0, False)
        np.multiply(grad, grad, out=v2)
        v2 -= v0
        v2 *= 1 - beta2
        v2 += v0
        new = _buffer(var, w, False)
        if op.attrs.get("use_nesterov"):
            np.multiply(m2, beta1, out=new)
            new += (1 - beta1) * grad
        else:
            np.copyto(new, m2)
        den = np.sqrt(v2)
        den += epsilon
        new /= den
        new *= lr_t
        np.subtract(w, new, out=new)
        _publish(m, m2, m0)
        _publish(v, v2, v0)
        _publish(var, new, w)
    return new


_register("ApplyGradientDescent", _gd_kernel, 1, (1,), 2)
_register("ApplyMomentum", _momentum_kernel, 2, (2, 4), 3)
_register("ApplyAdagrad", _adagrad_kernel, 2, (2,), 3)
_register("ApplyRMSProp", _rmsprop_kernel, 3, (3, 4, 5, 6), 7)
_register("ApplyCenteredRMSProp", _centered_rmsprop_kernel, 4, (4, 5, 6, 7), 8)
_register("ApplyAdam", _adam_kernel, 3, (3, 4, 5, 6, 7, 8), 9)


# -- sparse kernels: only the rows of `indices` change ------------------------------------

def _sparse_gd_kernel(ctx, op, var, alpha, grad, indices):
    with var.lock:
        w = _read(op, 0, var)
        rows, g = _unique(op, w, grad, indices)
        new = _buffer(var, w, True)
        new[rows] = w[rows] - g * alpha
        _publish(var, new, w, rows)
    return new


def _sparse_momentum_kernel(ctx, op, var, accum, lr, grad, indices, momentum):
    with _Locked((var, accum)):
        w, a = _read(op, 0, var), _read(op, 1, accum)
        _check_same(op, "var and accum", w, a)
        rows, g = _unique(op, w, grad, indices)
        a_rows = a[rows] * momentum + g
        if op.attrs.get("use_nesterov"):
            step = (g + a_rows * momentum) * lr
        else:
            step = a_rows * lr
        a2, new = _buffer(accum, a, True), _buffer(var, w, True)
        a2[rows] = a_rows
        new[rows] = w[rows] - step
        _publish(accum, a2, a, rows)
        _publish(var, new, w, rows)
    return new


def _sparse_adagrad_kernel(ctx, op, var, accum, lr, grad, indices):
    with _Locked((var, accum)):
        w, a = _read(op, 0, var), _read(op, 1, accum)
        _check_same(op, "var and accum", w, a)
        rows, g = _unique(op, w, grad, indices)
        a_rows = a[rows]
        if op.attrs.get("update_slots", True):
            a_rows = a_rows + g * g
        new = _buffer(var, w, True)
        new[rows] = w[rows] - lr * g / np.sqrt(a_rows)
        if op.attrs.get("update_slots", True):
            a2 = _buffer(accum, a, True)
            a2[rows] = a_rows
            _publish(accum, a2, a, rows)
        _publish(var, new, w, rows)
    return new


def _sparse_rmsprop(op, states, lr, rho, momentum, epsilon, grad, indices, centered):
    """Shared body of SparseApplyRMSProp and SparseApplyCenteredRMSProp."""
    n = len(states)
    with _Locked(states):
        olds = [_read(op, i, s) for i, s in enumerate(states)]
        w = olds[0]
        for a in olds[1:]:
            _check_same(op, "var and accumulators", w, a)
        rows, g = _unique(op, w, grad, indices)
        if centered:
            mg, ms, mom = olds[1], olds[2], olds[3]
        else:
            mg, ms, mom = None, olds[1], olds[2]
        ms_r = ms[rows] * rho + g * g * (1 - rho)
        if centered:
            mg_r = mg[rows] * rho + g * (1 - rho)
            denom = ms_r - mg_r * mg_r + epsilon
        else:
            denom = ms_r + epsilon
        mom_r = mom[rows] * momentum + lr * g / np.sqrt(denom)
        new_rows = {0: w[rows] - mom_r, n - 2: ms_r, n - 1: mom_r}
        if centered:
            new_rows[1] = mg_r
        for i in range(n - 1, -1, -1):
            buf = _buffer(states[i], olds[i], True)
            buf[rows] = new_rows[i]
            _publish(states[i], buf, olds[i], rows)
            if i == 0:
                return buf


def _sparse_rmsprop_kernel(ctx, op, var, ms, mom, lr, rho, momentum, epsilon, grad, indices):
    return _sparse_rmsprop(op, (var, ms, mom), lr, rho, momentum, epsilon, grad, indices, False)


def _sparse_centered_rmsprop_kernel(ctx, op, var, mg, ms, mom, lr, rho, momentum, epsilon,
                                    grad, indices):
    return _sparse_rmsprop(op, (var, mg, ms, mom), lr, rho, momentum, epsilon, grad, indices,
                           True)


def _sparse_adam_kernel(ctx, op, var, m, v, beta1_power, beta2_power, lr, beta1, beta2,
                        epsilon, grad, indices):
    """TF1's sparse Adam: every row of m and v decays, the rows of `indices`
    take the gradient, and every row of var moves (not a lazy update)."""
    with _Locked((var, m, v)):
        w, m0, v0 = _read(op, 0, var), _read(op, 1, m), _read(op, 2, v)
        _check_same(op, "var and m", w, m0)
        _check_same(op, "var and v", w, v0)
        rows, g = _unique(op, w, grad, indices)
        lr_t = _adam_lr(lr, beta1_power, beta2_power)
        m2 = _buffer(m, m0, False)
        np.multiply(m0, beta1, out=m2)
        m2[rows] += g * (1 - beta1)
        v2 = _buffer(v, v0, False)
        np.multiply(v0, beta2, out=v2)
        v2[rows] += g * g * (1 - beta2)
        new = _buffer(var, w, False)
        np.sqrt(v2, out=new)
        new += epsilon
        np.divide(m2, new, out=new)
        new *= lr_t
        np.subtract(w, new, out=new)
        _publish(m, m2, m0)
        _publish(v, v2, v0)
        _publish(var, new, w)
    return new


_register("SparseApplyGradientDescent", _sparse_gd_kernel, 1, (1,), 2, 3)
_register("SparseApplyMomentum", _sparse_momentum_kernel, 2, (2, 5), 3, 4)
_register("SparseApplyAdagrad", _sparse_adagrad_kernel, 2, (2,), 3, 4)
_register("SparseApplyRMSProp", _sparse_rmsprop_kernel, 3, (3, 4, 5, 6), 7, 8)
_register("SparseApplyCenteredRMSProp", _sparse_centered_rmsprop_kernel, 4, (4, 5, 6, 7), 8, 9)
_register("SparseApplyAdam", _sparse_adam_kernel, 3, (3, 4, 5, 6, 7, 8), 9, 10)


# -- duplicate indices ----------------------------------------------------------------------

def _sum_duplicates_kernel(ctx, op, values, indices):
    idx = np.asarray(indices).reshape(-1)
    values = np.asarray(values)
    if values.shape[:1] != idx.shape:
        raise errors.InvalidArgumentError(
            None, op, "values has %d rows but there are %d indices"
            % (values.shape[0] if values.ndim else 0, idx.size))
    unique, summed = _sum_rows(idx, values)
    return summed, unique


def _sum_duplicates_shape(op):
    values, indices = op.inputs
    if not indices.dtype.is_integer:
        raise TypeError("indices must be int32 or int64, got %s" % indices.dtype.name)
    rows = TensorShape([None])
    vals = rows if values.shape.ndims is None else rows.concatenate(values.shape[1:])
    return [(values.dtype, vals if values.shape.ndims is not None else TensorShape(None)),
            (indices.dtype, rows)]


registry.register("SumDuplicateIndices", shape=_sum_duplicates_shape,
                  kernel=_sum_duplicates_kernel)
registry.NotDifferentiable("SumDuplicateIndices")


def sum_duplicate_indices(values, indices, name=None):
    """(summed values, unique indices): rows of `values` with equal indices
    added up, indices ascending.  What `Optimizer._apply_sparse` expects (TF
    builds it from Unique and UnsortedSegmentSum)."""
    op = apply_op("SumDuplicateIndices", [convert_to_tensor(values), convert_to_tensor(indices)],
                  None, name=name or "SumDuplicateIndices")
    return op._outputs[0], op._outputs[1]


# -- builders (TF's training_ops) ----------------------------------------------------------

def _ref(v):
    from flowcore.ops.state import _ref as state_ref
    return state_ref(v)


def _apply(op_type, refs, values, attrs=None, name=None, indices_pos=None):
    """Add `op_type` over variable refs and values (cast to the variable's
    dtype, except the integer indices at `indices_pos` of `values`)."""
    refs = [_ref(r) for r in refs]
    dtype = refs[0].dtype
    ins = refs + [convert_to_tensor(x) if i == indices_pos else convert_to_tensor(x, dtype=dtype)
                  for i, x in enumerate(values)]
    return apply_op(op_type, ins, dict(attrs or {}, use_locking=True),
                    name=name or op_type)._outputs[0]


def apply_gradient_descent(var, alpha, delta, use_locking=False, name=None):
    """var -= alpha * delta."""
    return _apply("ApplyGradientDescent", [var], [alpha, delta], name=name)


def apply_momentum(var, accum, lr, grad, momentum, use_locking=False, name=None,
                   use_nesterov=False):
    """accum = accum * momentum + grad; var -= lr * accum (Nesterov:
    var -= lr * (grad + momentum * accum))."""
    return _apply("ApplyMomentum", [var, accum], [lr, grad, momentum],
                  attrs={"use_nesterov": bool(use_nesterov)}, name=name)


def apply_adagrad(var, accum, lr, grad, use_locking=False, update_slots=True, name=None):
    """accum += grad^2; var -= lr * grad / sqrt(accum)."""
    return _apply("ApplyAdagrad", [var, accum], [lr, grad],
                  attrs={"update_slots": bool(update_slots)}, name=name)


def apply_rms_prop(var, ms, mom, lr, rho, momentum, epsilon, grad, use_locking=False,
                   name=None):
    """ms += (grad^2 - ms)(1 - rho); mom = mom*momentum + lr*grad/sqrt(ms + eps); var -= mom."""
    return _apply("ApplyRMSProp", [var, ms, mom], [lr, rho, momentum, epsilon, grad], name=name)


def apply_centered_rms_prop(var, mg, ms, mom, lr, rho, momentum, epsilon, grad,
                            use_locking=False, name=None):
    """RMSProp normalised by the centered second moment ms - mg^2."""
    return _apply("ApplyCenteredRMSProp", [var, mg, ms, mom],
                  [lr, rho, momentum, epsilon, grad], name=name)


def apply_adam(var, m, v, beta1_power, beta2_power, lr, beta1, beta2, epsilon, grad,
               use_locking=False, use_nesterov=False, name=None):
    """Adam: m, v moving moments; var -= lr*sqrt(1-b2^t)/(1-b1^t) * m/(sqrt(v)+eps)."""
    return _apply("ApplyAdam", [var, m, v],
                  [beta1_power, beta2_power, lr, beta1, beta2, epsilon, grad],
                  attrs={"use_nesterov": bool(use_nesterov)}, name=name)


def sparse_apply_gradient_descent(var, alpha, grad, indices, use_locking=False, name=None):
    return _apply("SparseApplyGradientDescent", [var], [alpha, grad, indices], name=name,
                  indices_pos=2)


def sparse_apply_momentum(var, accum, lr, grad, indices, momentum, use_locking=False, name=None,
                          use_nesterov=False):
    return _apply("SparseApplyMomentum", [var, accum], [lr, grad, indices, momentum],
                  attrs={"use_nesterov": bool(use_nesterov)}, name=name, indices_pos=2)


def sparse_apply_adagrad(var, accum, lr, grad, indices, use_locking=False, update_slots=True,
                         name=None):
    return _apply("SparseApplyAdagrad", [var, accum], [lr, grad, indices],
                  attrs={"update_slots": bool(update_slots)}, name=name, indices_pos=2)


def sparse_apply_rms_prop(var, ms, mom, lr, rho, momentum, epsilon, grad, indices,
                          use_locking=False, name=None):
    return _apply("SparseApplyRMSProp", [var, ms, mom],
                  [lr, rho, momentum, epsilon, grad, indices], name=name, indices_pos=5)


def sparse_apply_centered_rms_prop(var, mg, ms, mom, lr, rho, momentum, epsilon, grad, indices,
                                   use_locking=False, name=None):
    return _apply("SparseApplyCenteredRMSProp", [var, mg, ms, mom],
                  [lr, rho, momentum, epsilon, grad, indices], name=name, indices_pos=5)


def sparse_apply_adam(var, m, v, beta1_power, beta2_power, lr, beta1, beta2, epsilon, grad,
                      indices, use_locking=False, name=None):
    return _apply("SparseApplyAdam", [var, m, v],
                  [beta1_power, beta2_power, lr, beta1, beta2, epsilon, grad, indices],
                  name=name, indices_pos=7)
