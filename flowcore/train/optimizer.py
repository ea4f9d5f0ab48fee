"""`Optimizer`: TF1's base class for the training algorithms.

`minimize` = `compute_gradients` (`gradients` of the loss w.r.t. each
variable) + `apply_gradients` (one update op per variable with a gradient,
grouped into the train op, then `global_step += 1`).  Subclasses implement
TF's hooks: `_create_slots(var_list)` (per-variable state such as
`w/Momentum`), `_prepare()` (hyper-parameters as tensors), `_apply_dense(grad,
var)`, `_apply_sparse(grad, var)` for `IndexedSlices` gradients, and
`_finish(update_ops, name)`.

Slots are variables named `<var>/<optimizer name>` (`_1`, `_2`, ... for the
second and third slot) in GLOBAL_VARIABLES, not trainable, so a `Saver`
saves them.  Update ops are the fused kernels of `ops/training.py`, each
atomic per variable.

Gating: `GATE_OP` (the default) adds no ops here.  In TF it stops an op's
input gradients from being used before all of them exist, which matters to
TF's parallel executor reading variables by reference.  flowcore runs a
step's ops one at a time and reads a variable once, as an immutable
snapshot, so nothing can observe the difference; TF's `tuple` would also
force gradients nobody uses (d loss / d input of the first layer), a third
of an MLP step.  `GATE_GRAPH` builds its `tuple` as TF does.
"""
from flowcore import dtypes
from flowcore import gradients as gradients_lib
from flowcore.graph import GraphKeys, Tensor, get_default_graph, name_scope
from flowcore.ops import core
from flowcore.variables import Variable, trainable_variables

__all__ = ["Optimizer"]


def _is_indexed_slices(g):
    return gradients_lib.is_indexed_slices(g)


def _var_key(var):
    return (var.op.graph, var.op.name)


class _InitScope:
    """TF's `init_scope` in graph mode: no control dependencies (the current
    name scope is kept)."""

    def __init__(self, graph):
        self._cm = graph.control_dependencies(None)

    def __enter__(self):
        self._cm.__enter__()

    def __exit__(self, *exc):
        return self._cm.__exit__(*exc)


def _create_slot_var(primary, initializer, shape, dtype, op_name):
    """A zero/constant-initialised slot of `primary` named `<primary>/<op_name>`
    (made unique like TF's variable scopes: `w/Adam`, `w/Adam_1`)."""
    from flowcore import scopes
    with scopes.variable_scope(None, primary.op.name + "/" + op_name):
        scope = scopes.get_variable_scope()
        old_partitioner = scope.partitioner
        scope.set_partitioner(None)
        try:
            return scopes.get_variable(
                "", shape=shape, dtype=dtype, initializer=initializer, trainable=False,
                validate_shape=shape.is_fully_defined())
        finally:
            scope.set_partitioner(old_partitioner)


class Optimizer:
    """Base class of the optimizers (see the module docstring)."""

    GATE_NONE = 0
    GATE_OP = 1
    GATE_GRAPH = 2

    def __init__(self, use_locking, name):
        if not name:
            raise ValueError("Must specify the optimizer name")
        self._use_locking = use_locking
        self._name = name
        self._slots = {}            # slot name -> {var key: slot variable}
        self._non_slot_dict = {}    # (name, graph) -> variable

    def get_name(self):
        return self._name

    # -- the three steps -----------------------------------------------------------
    def minimize(self, loss, global_step=None, var_list=None, gate_gradients=GATE_OP,
                 aggregation_method=None, colocate_gradients_with_ops=False, name=None,
                 grad_loss=None):
        """The op that moves `var_list` (default: the trainable variables)
        down the gradient of `loss`, and increments `global_step` if given."""
        grads_and_vars = self.compute_gradients(
            loss, var_list=var_list, gate_gradients=gate_gradients,
            aggregation_method=aggregation_method,
            colocate_gradients_with_ops=colocate_gradients_with_ops, grad_loss=grad_loss)
        vars_with_grad = [v for g, v in grads_and_vars if g is not None]
        if not vars_with_grad:
            raise ValueError(
                "No gradients provided for any variable, check your graph for ops that do "
                "not support gradients, between variables %s and loss %s."
                % ([str(v) for _, v in grads_and_vars], loss))
        return self.apply_gradients(grads_and_vars, global_step=global_step, name=name)

    def compute_gradients(self, loss, var_list=None, gate_gradients=GATE_OP,
                          aggregation_method=None, colocate_gradients_with_ops=False,
                          grad_loss=None):
        """A list of (gradient or None, variable) for `var_list` (default:
        TRAINABLE_VARIABLES)."""
        if callable(loss):
            loss = loss()
        if gate_gradients not in (Optimizer.GATE_NONE, Optimizer.GATE_OP,
                                  Optimizer.GATE_GRAPH):
            raise ValueError("gate_gradients must be one of: Optimizer.GATE_NONE, "
                             "Optimizer.GATE_OP, Optimizer.GATE_GRAPH.  Not %s" % gate_gradients)
        loss = core.convert_to_tensor(loss)
        self._assert_valid_dtypes([loss])
        if grad_loss is not None:
            self._assert_valid_dtypes([core.convert_to_tensor(grad_loss)])
        if var_list is None:
            var_list = trainable_variables()
            var_list += [v for v in loss.graph.get_collection(
                GraphKeys.TRAINABLE_RESOURCE_VARIABLES) if v not in var_list]
        else:
            var_list = _flatten(var_list)
        for v in var_list:
            if not isinstance(v, Variable):
                raise NotImplementedError("Trying to optimize unsupported type ", v)
        if not var_list:
            raise ValueError("No variables to optimize.")
        grads = gradients_lib.gradients(
            loss, [v._ref() for v in var_list], grad_ys=grad_loss,
            aggregation_method=aggregation_method,
            colocate_gradients_with_ops=colocate_gradients_with_ops)
        if gate_gradients == Optimizer.GATE_GRAPH:
            grads = gradients_lib._gate(grads)
        grads_and_vars = list(zip(grads, var_list))
        self._assert_valid_dtypes([v for g, v in grads_and_vars if g is not None])
        return grads_and_vars

    def apply_gradients(self, grads_and_vars, global_step=None, name=None):
        """The op applying each (gradient, variable) pair (pairs with a None
        gradient are skipped), then incrementing `global_step` if given."""
        grads_and_vars = tuple(grads_and_vars)
        if not grads_and_vars:
            raise ValueError("No variables provided.")
        converted = []
        for g, v in grads_and_vars:
            if g is not None:
                if not _is_indexed_slices(g):
                    try:
                        g = core.convert_to_tensor(g)
                    except (TypeError, ValueError):
                        raise TypeError("Gradient must be convertible to a Tensor or "
                                        "IndexedSlices, or None: %s" % (g,)) from None
                if not isinstance(g, Tensor) and not _is_indexed_slices(g):
                    raise TypeError("Gradient must be a Tensor, IndexedSlices, or None: %s"
                                    % (g,))
            if not isinstance(v, Variable):
                raise NotImplementedError("Trying to update unsupported type ", v)
            converted.append((g, v))
        var_list = [v for g, v in converted if g is not None]
        if not var_list:
            raise ValueError("No gradients provided for any variable: %s."
                             % ([str(v) for _, v in converted],))
        graph = var_list[0].graph
        with graph.as_default():
            with _InitScope(graph):
                self._create_slots(var_list)
            update_ops = []
            with name_scope(name, self._name) as scope_name:
                self._prepare()
                for grad, var in converted:
                    if grad is None:
                        continue
                    with name_scope("update_" + var.op.name):
                        update_ops.append(self._update_op(grad, var))
                if global_step is None:
                    apply_updates = self._finish(update_ops, scope_name)
                else:
                    from flowcore.ops import state
                    with graph.control_dependencies([self._finish(update_ops, "update")]):
                        apply_updates = state.assign_add(global_step, 1, name=scope_name)
            if isinstance(apply_updates, Tensor):
                apply_updates = apply_updates.op
            train_ops = graph.get_collection_ref(GraphKeys.TRAIN_OP)
            if apply_updates not in train_ops:
                train_ops.append(apply_updates)
        return apply_updates

    def _update_op(self, grad, var):
        if isinstance(grad, Tensor):
            op = self._apply_dense(grad, var)
            if var.constraint is not None:
                with var.graph.control_dependencies([op]):
                    return var.assign(var.constraint(var))
            return op
        if var.constraint is not None:
            raise RuntimeError("Cannot use a constraint function on a sparse variable.")
        return self._apply_sparse_duplicate_indices(grad, var)

    # -- slots -------------------------------------------------------------------------
    def get_slot_names(self):
        """The sorted names of the slots this optimizer creates ('m', 'v', ...)."""
        return sorted(self._slots)

    def get_slot(self, var, name):
        """The slot variable `name` of `var`, or None."""
        named = self._slots.get(name)
        if not named:
            return None
        return named.get(_var_key(var))

    def variables(self):
        """The optimizer's variables in the current graph (slots and others such
        as Adam's beta powers), sorted by name."""
        g = get_default_graph()
        out = [v for v in self._non_slot_variables() if v.graph is g]
        for named in self._slots.values():
            out.extend(v for v in named.values() if v.graph is g)
        return sorted(out, key=lambda v: v.name)

    def _slot_dict(self, slot_name):
        named = self._slots.get(slot_name)
        if named is None:
            named = self._slots[slot_name] = {}
        return named

    def _get_or_make_slot_with_initializer(self, var, initializer, shape, dtype, slot_name,
                                           op_name):
        named = self._slot_dict(slot_name)
        key = _var_key(var)
        if key not in named:
            named[key] = _create_slot_var(var, initializer, shape, dtypes.as_dtype(dtype),
                                          op_name)
        return named[key]

    def _zeros_slot(self, var, slot_name, op_name):
        from flowcore.init_ops import zeros_initializer
        return self._get_or_make_slot_with_initializer(
            var, zeros_initializer(), var.get_shape(), var.dtype, slot_name, op_name)

    def _get_or_make_slot(self, var, val, slot_name, op_name):
        """A slot initialised from the tensor `val`."""
        named = self._slot_dict(slot_name)
        key = _var_key(var)
        if key not in named:
            val = core.convert_to_tensor(val)
            named[key] = _create_slot_var(var, lambda *a, **k: val, val.shape, val.dtype,
                                          op_name)
        return named[key]

    def _create_non_slot_variable(self, initial_value, name, colocate_with):
        graph = colocate_with.graph
        key = (name, graph)
        v = self._non_slot_dict.get(key)
        if v is None:
            with graph.as_default():
                v = Variable(initial_value, name=name, trainable=False)
            self._non_slot_dict[key] = v
        return v

    def _get_non_slot_variable(self, name, graph=None):
        return self._non_slot_dict.get((name, graph or get_default_graph()))

    def _non_slot_variables(self):
        return list(self._non_slot_dict.values())

    # -- hooks ---------------------------------------------------------------------
    def _create_slots(self, var_list):
        pass

    def _prepare(self):
        pass

    def _apply_dense(self, grad, var):
        raise NotImplementedError()

    def _apply_sparse_duplicate_indices(self, grad, var):
        """Sum the rows of duplicate indices, then `_apply_sparse` (which may
        assume unique indices)."""
        from flowcore.indexed_slices import IndexedSlices
        from flowcore.ops import training
        summed, unique_indices = training.sum_duplicate_indices(grad.values, grad.indices)
        return self._apply_sparse(IndexedSlices(summed, unique_indices, grad.dense_shape), var)

    def _apply_sparse(self, grad, var):
        raise NotImplementedError()

    def _finish(self, update_ops, name_scope):
        return core.group(*update_ops, name=name_scope)

    # -- helpers -------------------------------------------------------------------
    def _valid_dtypes(self):
        return {dtypes.float16, dtypes.float32, dtypes.float64}

    def _assert_valid_dtypes(self, tensors):
        valid = self._valid_dtypes()
        for t in tensors:
            if t.dtype not in valid:
                raise ValueError("Invalid type %r for %s, expected: %s."
                                 % (t.dtype, t.name, [v for v in sorted(valid, key=str)]))

    def _call_if_callable(self, param):
        return param() if callable(param) else param


def _flatten(x):
    out = []
    if isinstance(x, dict):
        x = list(x.values())
    for v in x if isinstance(x, (list, tuple, set)) else [x]:
        if isinstance(v, (list, tuple, dict, set)):
            out.extend(_flatten(v))
        else:
            out.append(v)
    return out


def cast_to(t, var):
    """`t` in `var`'s dtype (a Cast op only when they differ, as TF)."""
    from flowcore.ops import math
    return math.cast(t, var.dtype)

