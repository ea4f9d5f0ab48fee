"""Ops on variable state: VariableV2 and the ops that read and update it.

A `VariableV2` op's output is a *reference*: its kernel returns the session's
`VarState` for the variable.  Ops that update a variable take that reference
(`ref_inputs`); every other consumer gets the value, read by a step the
session adds, which raises FailedPreconditionError for an uninitialized
variable.  Updates are copy-on-write under the variable's lock, so a value a
run has read is never changed under it, and each read-modify-write
(`assign_add`, optimizer updates) is atomic per variable.  Stored values are
read-only arrays; `Session.run` hands out copies.
"""
import numpy as np

from flowcore import dtypes, errors, registry
from flowcore.graph import Tensor
from flowcore.session import Resource
from flowcore.shapes import TensorShape, as_shape

__all__ = ["assign", "assign_add", "assign_sub", "is_variable_initialized",
           "count_up_to", "scatter_update", "scatter_add", "scatter_sub"]


class _All:
    def __contains__(self, i):
        return True


ALL_INPUTS = _All()


class VarState(Resource):
    """One variable's value in one session (None until initialized)."""

    __slots__ = ("value",)

    def __init__(self):
        super().__init__()
        self.value = None

    def read(self, op):
        v = self.value
        if v is None:
            raise errors.FailedPreconditionError(None, op, _uninitialized_message(op))
        return v

    def store(self, value):
        """Keep `value` as the new read-only value (caller holds `lock` or
        owns a fresh array)."""
        if type(value) is np.ndarray:
            value.flags.writeable = False
        self.value = value


def _uninitialized_message(op):
    """TF's message, plus which initializer was not run, in plain words."""
    from flowcore.graph import GraphKeys
    msg = "Attempting to use uninitialized value %s" % op.name
    local = [getattr(v, "op", None) for v in op.graph.get_collection(GraphKeys.LOCAL_VARIABLES)]
    if op in local:
        return msg + (" (a local variable: tf.local_variables_initializer() was not run; "
                      "run it, e.g. for num_epochs counters, before starting queue runners)")
    return msg + " (run tf.global_variables_initializer() or this variable's initializer first)"


def _var_key(op):
    shared = op.attrs.get("shared_name")
    return ("var", shared) if shared else op


def _variable_kernel(ctx, op):
    r = ctx.resources.get(op)
    if r is None:
        r = ctx.resource(_var_key(op), VarState)
    return r


registry.register("VariableV2", stateful=True, kernel=_variable_kernel,
                  shape=lambda op: [(op.attrs["dtype"], op.attrs["shape"])])
registry.NotDifferentiable("VariableV2")


def _ref_var_name(op):
    return op.inputs[0].op.name


def _check_ref(op):
    ref = op.inputs[0]
    if not ref._is_ref:
        raise TypeError("'%s' needs a variable reference as its first input, got %s"
                        % (op.type, ref.name))
    if ref.dtype is not op.inputs[1].dtype:
        raise TypeError("Input 'value' of '%s' Op has type %s that does not match type %s of "
                        "argument 'ref'." % (op.type, op.inputs[1].dtype.name, ref.dtype.name))


def _assign_shape(op):
    _check_ref(op)
    ref, value = op.inputs
    if op.attrs.get("validate_shape", True):
        if not ref.shape.is_compatible_with(value.shape):
            raise ValueError("Shapes %s and %s are incompatible" % (ref.shape, value.shape))
        return [(ref.dtype, ref.shape.merge_with(value.shape))]
    return [(ref.dtype, value.shape)]


def _assign_kernel(ctx, op, var, value):
    value = np.array(value, dtype=op.inputs[0].dtype.as_numpy_dtype, copy=True)
    if op.attrs.get("validate_shape", True):
        shape = op.inputs[0].shape
        if shape.ndims is not None and (value.ndim != shape.ndims or any(
                d is not None and d != s for d, s in zip(shape.as_tuple(), value.shape))):
            raise errors.InvalidArgumentError(
                None, op, "Assign requires shapes of both tensors to match. lhs shape= %s "
                "rhs shape= %s (variable %s)" % (list(shape.as_tuple()), list(value.shape),
                                                 _ref_var_name(op)))
        cur = var.value
        if cur is not None and cur.shape != value.shape:
            raise errors.InvalidArgumentError(
                None, op, "Assign requires shapes of both tensors to match. lhs shape= %s "
                "rhs shape= %s (variable %s)" % (list(cur.shape), list(value.shape),
                                                 _ref_var_name(op)))
    var.store(value)
    return value


registry.register("Assign", shape=_assign_shape, kernel=_assign_kernel, stateful=True,
                  ref_inputs=(0,))


def _update_shape(op):
    _check_ref(op)
    ref, value = op.inputs
    if not ref.shape.is_compatible_with(value.shape):
        raise ValueError("Shapes %s and %s are incompatible" % (ref.shape, value.shape))
    return [(ref.dtype, ref.shape)]


def _make_update_kernel(fn):
    def kernel(ctx, op, var, value):
        with var.lock:
            old = var.read(op.inputs[0].op)
            if old.shape != np.shape(value):
                raise errors.InvalidArgumentError(
                    None, op, "%s requires shapes of both tensors to match. lhs shape= %s "
                    "rhs shape= %s (variable %s)" % (op.type, list(old.shape),
                                                     list(np.shape(value)), _ref_var_name(op)))
            new = np.asarray(fn(old, value), dtype=old.dtype)
            if new is old:
                new = new.copy()
            var.store(new)
        return new
    return kernel


registry.register("AssignAdd", shape=_update_shape, stateful=True, ref_inputs=(0,),
                  kernel=_make_update_kernel(lambda a, b: a + b))
registry.register("AssignSub", shape=_update_shape, stateful=True, ref_inputs=(0,),
                  kernel=_make_update_kernel(lambda a, b: a - b))
for _t in ("Assign", "AssignAdd", "AssignSub"):
    registry.NotDifferentiable(_t)


def _scatter_shape(op):
    ref, indices, updates = op.inputs
    if not indices.dtype.is_integer:
        raise TypeError("%s indices must be integers, got %s" % (op.type, indices.dtype.name))
    if ref.dtype is not updates.dtype:
        raise TypeError("%s: updates dtype %s does not match variable dtype %s"
                        % (op.type, updates.dtype.name, ref.dtype.name))
    expect = indices.shape.concatenate(ref.shape[1:])
    if not updates.shape.is_compatible_with(expect):
        raise ValueError("Shapes %s and %s are incompatible" % (updates.shape, expect))
    return [(ref.dtype, ref.shape)]


def _make_scatter_kernel(mode):
    def kernel(ctx, op, var, indices, updates):
        with var.lock:
            old = var.read(op.inputs[0].op)
            idx = np.asarray(indices)
            if idx.size and (idx.min() < 0 or idx.max() >= old.shape[0]):
                bad = idx[(idx < 0) | (idx >= old.shape[0])].reshape(-1)[0]
                raise errors.InvalidArgumentError(
                    None, op, "indices[%s] = %d is not in [0, %d) (variable %s)"
                    % ("...", bad, old.shape[0], _ref_var_name(op)))
            new = old.copy()
            if mode == "update":
                new[idx] = updates
            elif mode == "add":
                np.add.at(new, idx, updates)
            else:
                np.subtract.at(new, idx, updates)
            var.store(new)
        return new
    return kernel


for _t, _m in (("ScatterUpdate", "update"), ("ScatterAdd", "add"), ("ScatterSub", "sub")):
    registry.register(_t, shape=_scatter_shape, kernel=_make_scatter_kernel(_m),
                      stateful=True, ref_inputs=(0,))
    registry.NotDifferentiable(_t)


def _is_init_kernel(ctx, op, var):
    return np.bool_(var.value is not None)


registry.register("IsVariableInitialized", stateful=True, ref_inputs=(0,),
                  kernel=_is_init_kernel,
                  shape=lambda op: [(dtypes.bool, TensorShape([]))])
registry.NotDifferentiable("IsVariableInitialized")


def _count_up_to_kernel(ctx, op, var):
    with var.lock:
        old = var.read(op.inputs[0].op)
        limit = op.attrs["limit"]
        if old >= limit:
            raise errors.OutOfRangeError(None, op, "Reached limit of %d" % limit)
        var.store(np.asarray(old + 1, dtype=old.dtype))
    return old


def _count_up_to_shape(op):
    ref = op.inputs[0]
    if not ref.dtype.is_integer or ref.dtype.name not in ("int32", "int64"):
        raise TypeError("count_up_to needs an int32 or int64 variable, got %s" % ref.dtype.name)
    ref.shape.assert_is_compatible_with(TensorShape([]))
    return [(ref.dtype, TensorShape([]))]


registry.register("CountUpTo", shape=_count_up_to_shape, kernel=_count_up_to_kernel,
                  stateful=True, ref_inputs=(0,))
registry.NotDifferentiable("CountUpTo")


def _var_initialized_value_kernel(ctx, op, var, initial):
    v = var.value
    return initial if v is None else v


registry.register("VariableInitializedValue", stateful=True, ref_inputs=(0,),
                  kernel=_var_initialized_value_kernel,
                  shape=lambda op: [(op.inputs[0].dtype, op.inputs[0].shape)])


def _report_uninit_kernel(ctx, op, *vars):
    names = [n for n, v in zip(op.attrs["names"], vars) if v.value is None]
    return np.array([n.encode() for n in names], dtype=object).reshape(len(names))


def _report_uninit_shape(op):
    return [(dtypes.string, TensorShape([None]))]


registry.register("ReportUninitializedVariables", stateful=True, ref_inputs=ALL_INPUTS,
                  kernel=_report_uninit_kernel, shape=_report_uninit_shape)
registry.NotDifferentiable("ReportUninitializedVariables")


# -- builders ------------------------------------------------------------------------

def _ref(x):
    r = getattr(x, "_ref", None)
    if r is not None and not isinstance(x, Tensor):
        return r()
    if isinstance(x, Tensor) and x._is_ref:
        return x
    raise TypeError("Expected a Variable (or a variable reference), got %r" % (x,))


def _value_for(ref, value):
    from flowcore.ops.core import convert_to_tensor
    return convert_to_tensor(value, dtype=ref.dtype)


def _apply(op_type, ref, inputs, attrs, name):
    from flowcore.ops.core import apply_op
    return apply_op(op_type, [ref] + inputs, attrs, name=name or op_type)._outputs[0]


def assign(ref, value, validate_shape=None, use_locking=None, name=None):
    """Store `value` in variable `ref`; the op's output is the new value."""
    ref = _ref(ref)
    return _apply("Assign", ref, [_value_for(ref, value)],
                  {"validate_shape": True if validate_shape is None else bool(validate_shape),
                   "use_locking": True}, name)


def assign_add(ref, value, use_locking=None, name=None):
    """Atomically add `value` to variable `ref`; returns the new value."""
    ref = _ref(ref)
    return _apply("AssignAdd", ref, [_value_for(ref, value)], {"use_locking": True}, name)


def assign_sub(ref, value, use_locking=None, name=None):
    """Atomically subtract `value` from variable `ref`; returns the new value."""
    ref = _ref(ref)
    return _apply("AssignSub", ref, [_value_for(ref, value)], {"use_locking": True}, name)


def _scatter(op_type, ref, indices, updates, name):
    from flowcore.ops.core import convert_to_tensor
    ref = _ref(ref)
    indices = convert_to_tensor(indices)
    return _apply(op_type, ref, [indices, _value_for(ref, updates)], {"use_locking": True}, name)


def scatter_update(ref, indices, updates, use_locking=True, name=None):
    return _scatter("ScatterUpdate", ref, indices, updates, name)


def scatter_add(ref, indices, updates, use_locking=False, name=None):
    return _scatter("ScatterAdd", ref, indices, updates, name)


def scatter_sub(ref, indices, updates, use_locking=False, name=None):
    return _scatter("ScatterSub", ref, indices, updates, name)


def is_variable_initialized(variable):
    """A bool tensor: has `variable` been initialized in the running session?"""
    return _apply("IsVariableInitialized", _ref(variable), [], None, "IsVariableInitialized")


def count_up_to(ref, limit, name=None):
    """Increment an integer variable, returning its old value; OutOfRangeError
    once it has reached `limit`."""
    return _apply("CountUpTo", _ref(ref), [], {"limit": int(limit)}, name)


def variable_op(shape, dtype, name="Variable", shared_name=None, container=""):
    """The raw VariableV2 op's reference output."""
    from flowcore.graph import get_default_graph
    return get_default_graph().create_op(
        "VariableV2", [], {"shape": as_shape(shape), "dtype": dtype,
                           "shared_name": shared_name or "", "container": container,
                           "_ref_output": True}, name=name)._outputs[0]
