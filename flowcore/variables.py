"""`Variable`: named state that persists across runs of a session.

A Variable is a few ops, named as TF names them: `w` (VariableV2, the
reference), `w/initial_value`, `w/Assign` (its initializer) and `w/read`
(the snapshot other ops read).  Its value lives in each session separately.
Collections: GLOBAL_VARIABLES (unless `collections` says otherwise) and, when
`trainable`, TRAINABLE_VARIABLES; `collections=[]` keeps it out of both (that
is how preloaded data stays out of savers and optimizers).
"""
from flowcore import dtypes
from flowcore.graph import GraphKeys, Tensor, get_default_graph, name_scope
from flowcore.ops import core, state
from flowcore.shapes import as_shape, unknown_shape

__all__ = ["Variable", "global_variables", "local_variables", "trainable_variables",
           "model_variables", "all_variables", "global_variables_initializer",
           "local_variables_initializer", "variables_initializer", "initialize_all_variables",
           "initialize_variables", "initialize_local_variables",
           "report_uninitialized_variables", "assert_variables_initialized",
           "moving_average_variables"]


class Variable:
    """TF1's reference variable (`tf.Variable`)."""

    def __init__(self, initial_value=None, trainable=True, collections=None,
                 validate_shape=True, caching_device=None, name=None, variable_def=None,
                 dtype=None, expected_shape=None, import_scope=None, constraint=None,
                 use_resource=None, synchronization=None, aggregation=None, shape=None):
        if variable_def is not None:
            self._init_from_def(variable_def, import_scope)
            return
        if initial_value is None:
            raise ValueError("initial_value must be specified.")
        if collections is None:
            collections = [GraphKeys.GLOBAL_VARIABLES]
        if not isinstance(collections, (list, tuple, set)):
            raise ValueError("collections argument to Variable constructor must be a list, "
                             "tuple, or set. Got %s of type %s" % (collections, type(collections)))
        collections = list(collections)
        if trainable and GraphKeys.TRAINABLE_VARIABLES not in collections:
            collections.append(GraphKeys.TRAINABLE_VARIABLES)
        self._trainable = trainable
        self._constraint = constraint
        init_from_fn = callable(initial_value)
        g = get_default_graph() if init_from_fn else core.graph_for(
            [initial_value] if isinstance(initial_value, Tensor) else [])
        # as TF's init_scope: the variable's ops take no control dependencies
        # from an enclosing `control_dependencies` block
        with g.as_default(), g.control_dependencies(None), \
                name_scope(name, "Variable", [] if init_from_fn else [initial_value]) as scope:
            if init_from_fn:
                with name_scope("Initializer"):
                    initial_value = initial_value()
            self._initial_value = core.convert_to_tensor(initial_value, name="initial_value",
                                                         dtype=dtype)
            if shape is not None:
                var_shape = as_shape(shape)
            elif validate_shape:
                var_shape = self._initial_value.shape
                if not var_shape.is_fully_defined():
                    raise ValueError("initial_value must have a shape specified: %s"
                                     % self._initial_value)
            else:
                var_shape = unknown_shape()
            self._variable = state.variable_op(var_shape, self._initial_value.dtype,
                                               name=scope)
            self._initializer_op = state.assign(self._variable, self._initial_value,
                                                validate_shape=validate_shape,
                                                name="Assign").op
            self._snapshot = core.identity(self._variable, name="read")
        g.add_to_collections(collections, self)
        self._save_slice_info = None
        self._caching_device = caching_device

    def _init_from_def(self, variable_def, import_scope):
        g = get_default_graph()
        prefix = (import_scope + "/") if import_scope else ""
        self._variable = g.as_graph_element(prefix + variable_def["variable_name"])
        self._initializer_op = g.as_graph_element(prefix + variable_def["initializer_name"])
        self._snapshot = g.as_graph_element(prefix + variable_def["snapshot_name"])
        iv = variable_def.get("initial_value_name")
        self._initial_value = g.as_graph_element(prefix + iv) if iv else None
        self._trainable = variable_def.get("trainable", True)
        self._constraint = None
        self._save_slice_info = None
        self._caching_device = None

    def to_proto(self, export_scope=None):
        def strip(n):
            if export_scope and n.startswith(export_scope + "/"):
                return n[len(export_scope) + 1:]
            return n
        return {"variable_name": strip(self._variable.name),
                "initial_value_name": strip(self._initial_value.name)
                if self._initial_value is not None else "",
                "initializer_name": strip(self._initializer_op.name),
                "snapshot_name": strip(self._snapshot.name),
                "trainable": self._trainable}

    @staticmethod
    def from_proto(variable_def, import_scope=None):
        """The Variable described by `to_proto()`'s output, in the default graph."""
        return Variable(variable_def=variable_def, import_scope=import_scope)

    # -- identity ------------------------------------------------------------------
    name = property(lambda self: self._variable.name)
    op = property(lambda self: self._variable.op)
    graph = property(lambda self: self._variable.graph)
    device = property(lambda self: self._variable.device)
    dtype = property(lambda self: self._variable.dtype)
    shape = property(lambda self: self._variable.shape)
    initializer = property(lambda self: self._initializer_op)
    initial_value = property(lambda self: self._initial_value)
    trainable = property(lambda self: self._trainable)
    constraint = property(lambda self: self._constraint)

    @property
    def _shared_name(self):
        return self._variable.op.name

    def get_shape(self):
        return self._variable.shape

    def set_shape(self, shape):
        self._variable.set_shape(shape)
        self._snapshot.set_shape(shape)

    def _ref(self):
        return self._variable

    def _as_graph_element(self):
        return self._variable

    def _identity_input(self):
        return self._snapshot

    def value(self):
        """The snapshot tensor (`w/read`) other ops read."""
        return self._snapshot

    def read_value(self):
        """A new op reading the variable's current value."""
        return core.identity(self._variable, name="read")

    def initialized_value(self):
        """The value if initialized, else the initial value (for initializing
        one variable from another)."""
        from flowcore.ops.core import apply_op1
        with name_scope(None):
            return apply_op1("VariableInitializedValue", [self._variable, self._initial_value],
                             None, self._variable.op.name + "/initialized_value")

    # -- updates -------------------------------------------------------------------
    # With `read_value=False` the update methods return the op instead of
    # the tensor of the new value, as TF's do.
    def assign(self, value, use_locking=False, name=None, read_value=True):
        t = state.assign(self._variable, value, use_locking=use_locking, name=name)
        return t if read_value else t.op

    def assign_add(self, delta, use_locking=False, name=None, read_value=True):
        t = state.assign_add(self._variable, delta, use_locking=use_locking, name=name)
        return t if read_value else t.op

    def assign_sub(self, delta, use_locking=False, name=None, read_value=True):
        t = state.assign_sub(self._variable, delta, use_locking=use_locking, name=name)
        return t if read_value else t.op

    def scatter_update(self, sparse_delta, use_locking=False, name=None):
        """Rows `sparse_delta.indices` (an IndexedSlices) become its values."""
        return state.scatter_update(self._variable, sparse_delta.indices, sparse_delta.values,
                                    name=name)

    def scatter_add(self, sparse_delta, use_locking=False, name=None):
        return state.scatter_add(self._variable, sparse_delta.indices, sparse_delta.values,
                                 name=name)

    def scatter_sub(self, sparse_delta, use_locking=False, name=None):
        return state.scatter_sub(self._variable, sparse_delta.indices, sparse_delta.values,
                                 name=name)

    def count_up_to(self, limit):
        return state.count_up_to(self._variable, limit)

    def eval(self, session=None):
        """The variable's value in `session` (default: the default session)."""
        return self._variable.eval(session=session)

    def load(self, value, session=None):
        """Store `value` in the variable in `session` without building new ops."""
        from flowcore.session import _session_for
        sess = _session_for(session, self.graph)
        sess.run(self._initializer_op, {self._initializer_op.inputs[1]: value})

    def is_initialized(self):
        return state.is_variable_initialized(self)

    def __repr__(self):
        return "<tf.Variable '%s' shape=%s dtype=%s_ref>" % (self.name, self.shape, self.dtype.name)

    def __hash__(self):
        return id(self)

    def __eq__(self, other):
        return self is other

    def __ne__(self, other):
        return self is not other

    def __iter__(self):
        raise TypeError("'Variable' object is not iterable.")

    def __bool__(self):
        raise TypeError("Using a `tf.Variable` as a Python `bool` is not allowed.")

    __array_priority__ = 100


# Variables take every operator a Tensor has (arithmetic, comparison, indexing,
# matmul), applied to their snapshot; looked up at call time so operators an
# op family installs on Tensor later apply too.
_DELEGATED_OPERATORS = (
    "__add__ __radd__ __sub__ __rsub__ __mul__ __rmul__ __truediv__ __rtruediv__ "
    "__floordiv__ __rfloordiv__ __mod__ __rmod__ __pow__ __rpow__ __matmul__ __rmatmul__ "
    "__lt__ __le__ __gt__ __ge__ __and__ __rand__ __or__ __ror__ __xor__ __rxor__ "
    "__getitem__ __neg__ __abs__ __invert__").split()


def _delegate(name):
    def method(self, *args):
        return getattr(self._snapshot, name)(*args)
    method.__name__ = name
    return method


for _name in _DELEGATED_OPERATORS:
    setattr(Variable, _name, _delegate(_name))


def _to_tensor(v, dtype=None, name=None, as_ref=False):
    t = v._ref() if as_ref else v.value()
    if dtype is not None and dtype is not t.dtype:
        raise ValueError("Incompatible type conversion requested to type '%s' for variable "
                         "of type '%s'" % (dtype.name, t.dtype.name))
    return t


core.register_tensor_conversion_function(Variable, _to_tensor)
RefVariable = Variable
VariableV1 = Variable


# -- collections and initializers ----------------------------------------------------

def global_variables(scope=None):
    return get_default_graph().get_collection(GraphKeys.GLOBAL_VARIABLES, scope)


all_variables = global_variables


def local_variables(scope=None):
    return get_default_graph().get_collection(GraphKeys.LOCAL_VARIABLES, scope)


def trainable_variables(scope=None):
    return get_default_graph().get_collection(GraphKeys.TRAINABLE_VARIABLES, scope)


def model_variables(scope=None):
    return get_default_graph().get_collection(GraphKeys.MODEL_VARIABLES, scope)


def moving_average_variables(scope=None):
    return get_default_graph().get_collection(GraphKeys.MOVING_AVERAGE_VARIABLES, scope)


def variables_initializer(var_list, name="init"):
    """An op running the initializers of `var_list` (a no-op when empty)."""
    var_list = list(var_list)
    if var_list:
        return core.group(*[v.initializer for v in var_list], name=name)
    return core.no_op(name=name)


initialize_variables = variables_initializer


def global_variables_initializer():
    return variables_initializer(global_variables())


initialize_all_variables = global_variables_initializer


def local_variables_initializer():
    return variables_initializer(local_variables(), name="init")


initialize_local_variables = local_variables_initializer


def report_uninitialized_variables(var_list=None, name="report_uninitialized_variables"):
    """A 1-D string tensor of the names of the variables not yet initialized."""
    if var_list is None:
        var_list = global_variables() + local_variables()
    var_list = list(var_list)
    refs = [v._ref() for v in var_list]
    names = [r.op.name for r in refs]
    with name_scope(name):
        if not refs:
            return core.constant([], dtype=dtypes.string)
        from flowcore.ops.core import apply_op1
        return apply_op1("ReportUninitializedVariables", refs, {"names": names}, "report")


def assert_variables_initialized(var_list=None):
    """An op that fails with FailedPreconditionError if any variable is not
    initialized (reads each one)."""
    if var_list is None:
        var_list = global_variables() + local_variables()
    var_list = list(var_list)
    if not var_list:
        return None
    return core.group(*[core.identity(v._ref()).op for v in var_list],
                      name="assert_variables_initialized")
