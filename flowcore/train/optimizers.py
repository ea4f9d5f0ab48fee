"""TF1's optimizers: GradientDescent, Momentum, Adagrad, RMSProp, Adam.

Same constructors, defaults, slot names and update formulas as TF1; each
update is one fused, per-variable atomic op of `ops/training.py`.  Their
sparse kernels sum duplicate indices themselves, so `IndexedSlices`
gradients (embedding lookups) go to them directly, without TF's
Unique/UnsortedSegmentSum pre-pass.
"""
from flowcore.graph import get_default_graph
from flowcore.ops import training
from flowcore.ops.core import convert_to_tensor
from flowcore.train.optimizer import Optimizer, cast_to

__all__ = ["GradientDescentOptimizer", "MomentumOptimizer", "AdagradOptimizer",
           "RMSPropOptimizer", "AdamOptimizer"]


class _FusedSparse:
    """The sparse kernels handle duplicate indices: no dedupe pass."""

    def _apply_sparse_duplicate_indices(self, grad, var):
        return self._apply_sparse(grad, var)


class GradientDescentOptimizer(_FusedSparse, Optimizer):
    """var -= learning_rate * grad."""

    def __init__(self, learning_rate, use_locking=False, name="GradientDescent"):
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate
        self._learning_rate_tensor = None

    def _prepare(self):
        lr = self._call_if_callable(self._learning_rate)
        self._learning_rate_tensor = convert_to_tensor(lr, name="learning_rate")

    def _apply_dense(self, grad, var):
        return training.apply_gradient_descent(
            var, cast_to(self._learning_rate_tensor, var), grad).op

    def _apply_sparse(self, grad, var):
        return training.sparse_apply_gradient_descent(
            var, cast_to(self._learning_rate_tensor, var), grad.values, grad.indices).op


class MomentumOptimizer(_FusedSparse, Optimizer):
    """accum = momentum * accum + grad; var -= learning_rate * accum
    (Nesterov: var -= learning_rate * (grad + momentum * accum)).  Slot
    `momentum` (`w/Momentum`)."""

    def __init__(self, learning_rate, momentum, use_locking=False, name="Momentum",
                 use_nesterov=False):
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate
        self._momentum = momentum
        self._use_nesterov = use_nesterov

    def _create_slots(self, var_list):
        for v in var_list:
            self._zeros_slot(v, "momentum", self._name)

    def _prepare(self):
        self._learning_rate_tensor = convert_to_tensor(
            self._call_if_callable(self._learning_rate), name="learning_rate")
        self._momentum_tensor = convert_to_tensor(self._call_if_callable(self._momentum),
                                                  name="momentum")

    def _apply_dense(self, grad, var):
        return training.apply_momentum(
            var, self.get_slot(var, "momentum"), cast_to(self._learning_rate_tensor, var), grad,
            cast_to(self._momentum_tensor, var), use_nesterov=self._use_nesterov).op

    def _apply_sparse(self, grad, var):
        return training.sparse_apply_momentum(
            var, self.get_slot(var, "momentum"), cast_to(self._learning_rate_tensor, var),
            grad.values, grad.indices, cast_to(self._momentum_tensor, var),
            use_nesterov=self._use_nesterov).op


class AdagradOptimizer(_FusedSparse, Optimizer):
    """accum += grad^2; var -= learning_rate * grad / sqrt(accum).  Slot
    `accumulator` (`w/Adagrad`) starts at `initial_accumulator_value`."""

    def __init__(self, learning_rate, initial_accumulator_value=0.1, use_locking=False,
                 name="Adagrad"):
        if initial_accumulator_value <= 0.0:
            raise ValueError("initial_accumulator_value must be positive: %s"
                             % initial_accumulator_value)
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate
        self._initial_accumulator_value = initial_accumulator_value

    def _create_slots(self, var_list):
        from flowcore.init_ops import constant_initializer
        for v in var_list:
            init = constant_initializer(self._initial_accumulator_value, dtype=v.dtype)
            self._get_or_make_slot_with_initializer(v, init, v.get_shape(), v.dtype,
                                                    "accumulator", self._name)

    def _prepare(self):
        self._learning_rate_tensor = convert_to_tensor(
            self._call_if_callable(self._learning_rate), name="learning_rate")

    def _apply_dense(self, grad, var):
        return training.apply_adagrad(var, self.get_slot(var, "accumulator"),
                                      cast_to(self._learning_rate_tensor, var), grad).op

    def _apply_sparse(self, grad, var):
        return training.sparse_apply_adagrad(var, self.get_slot(var, "accumulator"),
                                             cast_to(self._learning_rate_tensor, var),
                                             grad.values, grad.indices).op


class RMSPropOptimizer(_FusedSparse, Optimizer):
    """ms = decay*ms + (1-decay)*grad^2; mom = momentum*mom + lr*grad/sqrt(ms + eps);
    var -= mom.  Centered: ms - mg^2 replaces ms, mg the mean gradient.
    Slots `rms` (`w/RMSProp`, starts at 1), `mg` if centered, `momentum`."""

    def __init__(self, learning_rate, decay=0.9, momentum=0.0, epsilon=1e-10,
                 use_locking=False, centered=False, name="RMSProp"):
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate
        self._decay = decay
        self._momentum = momentum
        self._epsilon = epsilon
        self._centered = centered

    def _create_slots(self, var_list):
        from flowcore.init_ops import ones_initializer, zeros_initializer
        for v in var_list:
            self._get_or_make_slot_with_initializer(
                v, ones_initializer(dtype=v.dtype), v.get_shape(), v.dtype, "rms", self._name)
            if self._centered:
                self._get_or_make_slot_with_initializer(
                    v, zeros_initializer(dtype=v.dtype), v.get_shape(), v.dtype, "mg",
                    self._name)
            self._zeros_slot(v, "momentum", self._name)

    def _prepare(self):
        c = self._call_if_callable
        self._learning_rate_tensor = convert_to_tensor(c(self._learning_rate),
                                                       name="learning_rate")
        self._decay_tensor = convert_to_tensor(c(self._decay), name="decay")
        self._momentum_tensor = convert_to_tensor(c(self._momentum), name="momentum")
        self._epsilon_tensor = convert_to_tensor(c(self._epsilon), name="epsilon")

    def _hyper(self, var):
        return [cast_to(t, var) for t in (self._learning_rate_tensor, self._decay_tensor,
                                          self._momentum_tensor, self._epsilon_tensor)]

    def _apply_dense(self, grad, var):
        rms, mom = self.get_slot(var, "rms"), self.get_slot(var, "momentum")
        if self._centered:
            return training.apply_centered_rms_prop(
                var, self.get_slot(var, "mg"), rms, mom, *self._hyper(var), grad).op
        return training.apply_rms_prop(var, rms, mom, *self._hyper(var), grad).op

    def _apply_sparse(self, grad, var):
        rms, mom = self.get_slot(var, "rms"), self.get_slot(var, "momentum")
        if self._centered:
            return training.sparse_apply_centered_rms_prop(
                var, self.get_slot(var, "mg"), rms, mom, *self._hyper(var), grad.values,
                grad.indices).op
        return training.sparse_apply_rms_prop(var, rms, mom, *self._hyper(var), grad.values,
                                              grad.indices).op


class AdamOptimizer(_FusedSparse, Optimizer):
    """Adam (Kingma & Ba), TF1's form: lr_t = lr*sqrt(1-beta2^t)/(1-beta1^t);
    m = beta1*m + (1-beta1)*g; v = beta2*v + (1-beta2)*g^2;
    var -= lr_t*m/(sqrt(v) + epsilon).  Slots `m` (`w/Adam`), `v` (`w/Adam_1`);
    `beta1_power`, `beta2_power` are variables updated after each step."""

    def __init__(self, learning_rate=0.001, beta1=0.9, beta2=0.999, epsilon=1e-8,
                 use_locking=False, name="Adam"):
        super().__init__(use_locking, name)
        self._lr = learning_rate
        self._beta1 = beta1
        self._beta2 = beta2
        self._epsilon = epsilon

    def _get_beta_accumulators(self):
        g = get_default_graph()
        return (self._get_non_slot_variable("beta1_power", graph=g),
                self._get_non_slot_variable("beta2_power", graph=g))

    def _create_slots(self, var_list):
        first_var = min(var_list, key=lambda x: x.name)
        self._create_non_slot_variable(initial_value=self._beta1, name="beta1_power",
                                       colocate_with=first_var)
        self._create_non_slot_variable(initial_value=self._beta2, name="beta2_power",
                                       colocate_with=first_var)
        for v in var_list:
            self._zeros_slot(v, "m", self._name)
            self._zeros_slot(v, "v", self._name)

    def _prepare(self):
        c = self._call_if_callable
        self._lr_t = convert_to_tensor(c(self._lr), name="learning_rate")
        self._beta1_t = convert_to_tensor(c(self._beta1), name="beta1")
        self._beta2_t = convert_to_tensor(c(self._beta2), name="beta2")
        self._epsilon_t = convert_to_tensor(c(self._epsilon), name="epsilon")

    def _args(self, var):
        b1p, b2p = self._get_beta_accumulators()
        return [self.get_slot(var, "m"), self.get_slot(var, "v")] + [
            cast_to(t, var) for t in (b1p, b2p, self._lr_t, self._beta1_t, self._beta2_t,
                                      self._epsilon_t)]

    def _apply_dense(self, grad, var):
        return training.apply_adam(var, *self._args(var), grad).op

    def _apply_sparse(self, grad, var):
        return training.sparse_apply_adam(var, *self._args(var), grad.values,
                                          grad.indices).op

    def _finish(self, update_ops, name_scope):
        from flowcore.ops import core
        b1p, b2p = self._get_beta_accumulators()
        with b1p.graph.control_dependencies(update_ops):
            update_beta1 = b1p.assign(b1p * self._beta1_t)
            update_beta2 = b2p.assign(b2p * self._beta2_t)
        return core.group(*(list(update_ops) + [update_beta1, update_beta2]), name=name_scope)
