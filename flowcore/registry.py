"""The op registry: each op type is defined once, in one place.

An `OpDef` joins everything the engine knows about an op type:

- `shape(op)`   -> list of `(DType, TensorShape)`, one per output, run when the
                   op is added to a graph (raise ValueError on bad inputs);
- `kernel(ctx, op, *inputs)` -> the output value (one output), a tuple of
                   values (several outputs) or None (no outputs), run by the
                   session.  `op.xp` is the array module of the op's device;
                   `ctx` gives access to per-session resources and blocking;
- `grad(op, *output_grads)` -> one gradient (or None) per input, built from
                   graph ops; set here or later with `RegisterGradient`;
- `stateful`:    the op has side effects or per-session state, so it is never
                   constant-folded or deduplicated;
- `ref_inputs`:  input positions that take a variable reference (the variable
                   itself, to update it) rather than its value;
- `batch`:       optional: how the op runs on a batch of elements at once, for
                   QueueRunner steps run k elements at a time (see
                   `flowcore/batching.py` for the three kinds of rule).

Family modules under `flowcore/ops/` call `register` next to the Python
builder, so an op's definition, shape rule, kernel and gradient sit together.
"""


class OpDef:
    __slots__ = ("type", "shape", "kernel", "grad", "stateful", "ref_inputs", "batch")

    def __init__(self, type, shape, kernel, grad, stateful, ref_inputs, batch=None):
        self.type = type
        self.shape = shape
        self.kernel = kernel
        self.grad = grad
        self.stateful = stateful
        self.ref_inputs = ref_inputs if hasattr(ref_inputs, "__contains__") and \
            not isinstance(ref_inputs, (list, tuple)) else frozenset(ref_inputs)
        self.batch = batch

    def __repr__(self):
        return "<OpDef %s>" % self.type


_REGISTRY = {}
_NOT_DIFFERENTIABLE = object()


def register(type, *, shape, kernel, grad=None, stateful=False, ref_inputs=(), batch=None):
    """Define op `type`.  Registering the same type twice is an error."""
    if type in _REGISTRY:
        raise KeyError("Op type %r is already registered" % type)
    d = OpDef(type, shape, kernel, grad, stateful, ref_inputs, batch)
    _REGISTRY[type] = d
    return d


def get(type):
    """The OpDef of `type`; KeyError when no such op type exists."""
    try:
        return _REGISTRY[type]
    except KeyError:
        raise KeyError("Op type not registered: %r" % type) from None


def registered_types():
    return sorted(_REGISTRY)


class RegisterGradient:
    """Decorator: `@RegisterGradient("MyOp")` sets the gradient of an op type.

    As in TF, the same decorator may register a gradient under a new name that
    `Graph.gradient_override_map` can point an op type at; an unknown name gets
    a registry entry holding only the gradient.
    """

    def __init__(self, op_type):
        if not isinstance(op_type, str):
            raise TypeError("op_type must be a string")
        self._op_type = op_type

    def __call__(self, fn):
        d = _REGISTRY.get(self._op_type)
        if d is None:
            _GRAD_ONLY[self._op_type] = fn
        else:
            if d.grad is not None and d.grad is not _NOT_DIFFERENTIABLE:
                raise KeyError("Registering two gradient with name %r!" % self._op_type)
            d.grad = fn
        return fn


_GRAD_ONLY = {}


def NotDifferentiable(op_type):
    """Declare that `op_type` has no gradient: gradients stop there (no error)."""
    get(op_type).grad = _NOT_DIFFERENTIABLE


NoGradient = NotDifferentiable


def gradient_function(op_type):
    """The gradient of `op_type`: a function, None (not differentiable), or
    raises LookupError naming the type when none is registered."""
    d = _REGISTRY.get(op_type)
    fn = d.grad if d is not None else _GRAD_ONLY.get(op_type)
    if fn is _NOT_DIFFERENTIABLE:
        return None
    if fn is None:
        raise LookupError("No gradient defined for operation of type '%s'" % op_type)
    return fn
