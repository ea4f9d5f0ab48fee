"""Graphs of operations, the tensors that flow between them, and the scopes
(name, control dependency, device) that shape new operations.

A `Graph` only describes computation: values live in a `Session`.  Ops are
added through `Graph.create_op`, which looks the op type up in the registry
and runs its shape function, so every tensor has a dtype and a static shape as
soon as it exists.  Name, control-dependency and device scopes are
thread-local per graph, as in TF1; names and collections are shared.
"""
import contextlib
import re
import threading

from flowcore import backend, dtypes, registry
from flowcore.shapes import TensorShape, as_shape


class GraphKeys:
    """Standard collection names (TF's values)."""
    GLOBAL_VARIABLES = "variables"
    VARIABLES = GLOBAL_VARIABLES
    LOCAL_VARIABLES = "local_variables"
    METRIC_VARIABLES = "metric_variables"
    MODEL_VARIABLES = "model_variables"
    TRAINABLE_VARIABLES = "trainable_variables"
    SUMMARIES = "summaries"
    QUEUE_RUNNERS = "queue_runners"
    TABLE_INITIALIZERS = "table_initializer"
    ASSET_FILEPATHS = "asset_filepaths"
    MOVING_AVERAGE_VARIABLES = "moving_average_variables"
    REGULARIZATION_LOSSES = "regularization_losses"
    CONCATENATED_VARIABLES = "concatenated_variables"
    SAVERS = "savers"
    WEIGHTS = "weights"
    BIASES = "biases"
    ACTIVATIONS = "activations"
    UPDATE_OPS = "update_ops"
    LOSSES = "losses"
    SAVEABLE_OBJECTS = "saveable_objects"
    RESOURCES = "resources"
    LOCAL_RESOURCES = "local_resources"
    TRAINABLE_RESOURCE_VARIABLES = "trainable_resource_variables"
    INIT_OP = "init_op"
    LOCAL_INIT_OP = "local_init_op"
    READY_OP = "ready_op"
    READY_FOR_LOCAL_INIT_OP = "ready_for_local_init_op"
    SUMMARY_OP = "summary_op"
    GLOBAL_STEP = "global_step"
    EVAL_STEP = "eval_step"
    TRAIN_OP = "train_op"
    COND_CONTEXT = "cond_context"
    WHILE_CONTEXT = "while_context"


_VALID_OP_NAME = re.compile(r"^[A-Za-z0-9.][A-Za-z0-9_.\\/>-]*$")
_VALID_SCOPE_NAME = re.compile(r"^[A-Za-z0-9_.\\/>-]*$")


class Tensor:
    """One output of an `Operation`: a symbolic value named "op_name:index".

    Equality and hashing are by identity (TF1 graph mode), so tensors can be
    dict keys (feed_dict).  Arithmetic operators build ops in the graph.
    """

    __slots__ = ("_op", "_value_index", "_dtype", "_shape", "_is_ref", "_consumers",
                 "__weakref__")

    # Let numpy defer to our operators: np.float32(2) * t builds an op.
    __array_priority__ = 100

    def __init__(self, op, value_index, dtype, shape, is_ref=False):
        self._op = op
        self._value_index = value_index
        self._dtype = dtype
        self._shape = shape
        self._is_ref = is_ref
        self._consumers = []

    op = property(lambda self: self._op)
    value_index = property(lambda self: self._value_index)
    dtype = property(lambda self: self._dtype)
    graph = property(lambda self: self._op._graph)
    device = property(lambda self: self._op._device)

    @property
    def name(self):
        return "%s:%d" % (self._op._name, self._value_index)

    @property
    def shape(self):
        return self._shape

    def get_shape(self):
        return self._shape

    def set_shape(self, shape):
        """Refine the static shape; ValueError if incompatible with what is known."""
        shape = as_shape(shape)
        try:
            self._shape = self._shape.merge_with(shape)
        except ValueError:
            raise ValueError("Tensor %s: shape %s is not compatible with %s"
                             % (self.name, self._shape, shape)) from None

    def consumers(self):
        return list(self._consumers)

    def eval(self, feed_dict=None, session=None):
        """Run this tensor in `session` (default: the default session)."""
        from flowcore.session import _session_for
        return _session_for(session, self.graph).run(self, feed_dict)

    def _as_graph_element(self):
        return self

    def __repr__(self):
        return "<tf.Tensor '%s' shape=%s dtype=%s>" % (self.name, self._shape, self._dtype.name)

    def __str__(self):
        return 'Tensor("%s", shape=%s, dtype=%s)' % (self.name, self._shape, self._dtype.name)

    def __hash__(self):
        return id(self)

    def __eq__(self, other):
        return self is other

    def __ne__(self, other):
        return self is not other

    def __bool__(self):
        raise TypeError("Using a `tf.Tensor` as a Python `bool` is not allowed. "
                        "Use `if t is not None:` instead of `if t:` to test if a "
                        "tensor is defined, and use TensorFlow ops such as "
                        "tf.cond to execute subgraphs conditioned on the value of "
                        "a tensor.")

    def __iter__(self):
        raise TypeError("Tensor objects are only iterable when eager execution is "
                        "enabled. To iterate over this tensor use tf.unstack.")

    def __len__(self):
        raise TypeError("len is not well defined for symbolic Tensors. (%s) "
                        "Please call `x.shape` rather than `len(x)` for shape "
                        "information." % self.name)

    def __array__(self, dtype=None, copy=None):
        raise NotImplementedError(
            "Cannot convert a symbolic Tensor (%s) to a numpy array." % self.name)


class Operation:
    """A node of the graph: an op type applied to input tensors.

    `attrs` holds the op's attributes (TF's AttrValues as Python values);
    `xp` is the array module its kernel uses, chosen by its device.
    """

    def __init__(self, graph, op_type, name, inputs, attrs, control_inputs, device, opdef):
        self._graph = graph
        self._type = op_type
        self._name = name
        self._inputs = tuple(inputs)
        self._control_inputs = list(control_inputs)
        self._device = device
        self.attrs = attrs
        self.xp = backend.array_module(device)
        self._def = opdef
        self._outputs = []
        self._id = None
        self._control_outputs = []

    name = property(lambda self: self._name)
    type = property(lambda self: self._type)
    graph = property(lambda self: self._graph)
    inputs = property(lambda self: self._inputs)
    outputs = property(lambda self: list(self._outputs))
    control_inputs = property(lambda self: list(self._control_inputs))
    device = property(lambda self: self._device)
    op_def = property(lambda self: self._def)

    def values(self):
        return tuple(self._outputs)

    def get_attr(self, name):
        try:
            return self.attrs[name]
        except KeyError:
            raise ValueError("Operation '%s' has no attr named '%s'." % (self._name, name)) from None

    def _set_device(self, device):
        self._device = _canonical_device(device)
        self.xp = backend.array_module(self._device)

    def _add_control_input(self, op):
        if op._graph is not self._graph:
            raise ValueError("%s must be from the same graph as %s." % (op.name, self._name))
        if op not in self._control_inputs:
            self._control_inputs.append(op)
            op._control_outputs.append(self)
        self._graph._version += 1

    def _add_control_inputs(self, ops):
        for op in ops:
            self._add_control_input(op)

    def run(self, feed_dict=None, session=None):
        from flowcore.session import _session_for
        _session_for(session, self._graph).run(self, feed_dict)

    def colocation_groups(self):
        return [("loc:@" + self._name).encode()]

    def _as_graph_element(self):
        return self

    def __repr__(self):
        return "<tf.Operation '%s' type=%s>" % (self._name, self._type)

    def __str__(self):
        lines = ['name: "%s"' % self._name, 'op: "%s"' % self._type]
        lines += ['input: "%s"' % t.name for t in self._inputs]
        lines += ['input: "^%s"' % o.name for o in self._control_inputs]
        if self._device:
            lines.append('device: "%s"' % self._device)
        return "\n".join(lines)

    __hash__ = object.__hash__


def _canonical_device(spec):
    """'/gpu:1' -> '/device:GPU:1', keeping job/replica/task parts, like TF."""
    if not spec:
        return ""
    parts = []
    for part in spec.strip("/").split("/"):
        if not part:
            continue
        key, _, rest = part.partition(":")
        low = key.lower()
        if low in ("cpu", "gpu", "tpu"):
            parts.append("device:%s:%s" % (low.upper(), rest or "0"))
        elif low == "device":
            dtype, _, idx = rest.partition(":")
            parts.append("device:%s:%s" % (dtype.upper(), idx or "0") if idx != "*" else
                         "device:%s:*" % dtype.upper())
        elif low in ("job", "replica", "task"):
            parts.append("%s:%s" % (low, rest))
        else:
            raise ValueError("Unknown attribute: '%s' in '%s'" % (part, spec))
    return "/" + "/".join(parts)


def _merge_device(outer, inner):
    """Fields of `inner` override those of `outer` (TF's nested device merge)."""
    if not outer:
        return inner
    if not inner:
        return outer
    fields = {}
    for d in (outer, inner):
        for part in d.strip("/").split("/"):
            k = part.split(":", 1)[0]
            fields[k] = part
    order = ("job", "replica", "task", "device")
    return "/" + "/".join(fields[k] for k in order if k in fields)


class _ThreadState(threading.local):
    def __init__(self):
        self.name_stack = ""
        self.control_stack = []      # list of lists of Operations; None entries reset
        self.device_stack = []       # canonical strings or functions
        self.colocation_stack = []


class Graph:
    """A TensorFlow computation: Operations and the collections around them."""

    def __init__(self):
        self._lock = threading.RLock()
        self._ops = []
        self._nodes_by_name = {}
        self._names_in_use = {}
        self._collections = {}
        self._finalized = False
        self._version = 0
        self._last_id = 0
        self._seed = None
        self._thread = _ThreadState()
        self._unfeedable = set()
        self._unfetchable = set()
        self._gradient_override_map = {}
        self._attr_scope = {}
        self._building_function = False

    # -- defaults ------------------------------------------------------------
    def as_default(self):
        """Context manager making this the default graph of the current thread."""
        return _default_graph_stack.get_controller(self)

    @property
    def version(self):
        return self._last_id

    @property
    def finalized(self):
        return self._finalized

    def finalize(self):
        """Make the graph read-only: adding an op afterwards raises RuntimeError."""
        self._finalized = True

    def _unsafe_unfinalize(self):
        self._finalized = False

    @property
    def seed(self):
        return self._seed

    @seed.setter
    def seed(self, value):
        self._seed = value

    @property
    def building_function(self):
        return self._building_function

    # -- naming --------------------------------------------------------------
    def get_name_scope(self):
        return self._thread.name_stack

    def unique_name(self, name, mark_as_used=True):
        """`name` under the current name scope, with `_N` added to make it unique."""
        stack = self._thread.name_stack
        if stack:
            name = stack + "/" + name
        key = name.lower()
        with self._lock:
            i = self._names_in_use.get(key, 0)
            if mark_as_used:
                self._names_in_use[key] = i + 1
            if i > 0:
                base = key
                while key in self._names_in_use:
                    key = "%s_%d" % (base, i)
                    i += 1
                if mark_as_used:
                    self._names_in_use[key] = 1
                name = "%s_%d" % (name, i - 1)
        return name

    @contextlib.contextmanager
    def name_scope(self, name):
        """Push a name scope.  A name ending in '/' re-enters that exact scope;
        None or '' resets to the top level; otherwise the scope is made unique."""
        ts = self._thread
        if name:
            if isinstance(name, bytes):
                name = name.decode()
            regex = _VALID_SCOPE_NAME if ts.name_stack else _VALID_OP_NAME
            if not regex.match(name):
                raise ValueError("'%s' is not a valid scope name" % name)
        old = ts.name_stack
        if not name:
            new = ""
        elif name[-1] == "/":
            new = name[:-1]
        else:
            new = self.unique_name(name)
        ts.name_stack = new
        try:
            yield (new + "/") if new else ""
        finally:
            ts.name_stack = old

    # -- control dependencies --------------------------------------------------
    @contextlib.contextmanager
    def control_dependencies(self, control_inputs):
        """Ops created inside run only after `control_inputs`.  Nested contexts
        accumulate; `None` clears the dependencies of enclosing contexts."""
        ts = self._thread
        if control_inputs is None:
            old = ts.control_stack
            ts.control_stack = []
            try:
                yield
            finally:
                ts.control_stack = old
            return
        ops = []
        for c in control_inputs:
            if hasattr(c, "_as_graph_element") and not isinstance(c, (Tensor, Operation)):
                c = c._as_graph_element()
            if isinstance(c, Tensor):
                c = c.op
            if not isinstance(c, Operation):
                raise TypeError("Control input must be Operation or Tensor: %r" % (c,))
            if c._graph is not self:
                raise ValueError("Control input %s must be from the same graph." % c.name)
            ops.append(c)
        ts.control_stack.append(ops)
        try:
            yield
        finally:
            ts.control_stack.pop()

    def _current_control_inputs(self):
        out = []
        for ops in self._thread.control_stack:
            for op in ops:
                if op not in out:
                    out.append(op)
        return out

    # -- devices ---------------------------------------------------------------
    @contextlib.contextmanager
    def device(self, device_name_or_function):
        """Ops created inside are placed on the device ('/cpu:0', '/gpu:1', a
        function of the op, or None to clear)."""
        spec = device_name_or_function
        if spec is not None and not callable(spec):
            spec = _canonical_device(spec)
        self._thread.device_stack.append(spec)
        try:
            yield
        finally:
            self._thread.device_stack.pop()

    def _apply_device(self, op):
        dev = ""
        for spec in self._thread.device_stack:
            if spec is None:
                dev = ""
            elif callable(spec):
                dev = _merge_device(dev, _canonical_device(spec(op) or ""))
            else:
                dev = _merge_device(dev, spec)
        return dev

    @contextlib.contextmanager
    def colocate_with(self, op, ignore_existing=False):
        """Accepted for compatibility; placement is by device only."""
        yield

    @contextlib.contextmanager
    def gradient_override_map(self, op_type_map):
        """Use the gradient registered under another name for these op types."""
        old = dict(self._gradient_override_map)
        self._gradient_override_map.update(op_type_map)
        try:
            yield
        finally:
            self._gradient_override_map = old

    # -- building --------------------------------------------------------------
    def create_op(self, op_type, inputs, attrs=None, name=None, dtypes=None,
                  control_inputs=()):
        """Add an op of a registered type.  Runs its shape function, so
        mismatched inputs raise ValueError naming the op here, at build time."""
        if self._finalized:
            raise RuntimeError("Graph is finalized and cannot be modified.")
        opdef = registry.get(op_type)
        for t in inputs:
            if not isinstance(t, Tensor):
                raise TypeError("Input to op %s must be a Tensor, got %r" % (op_type, t))
            if t._op._graph is not self:
                raise ValueError("Tensor %s must be from the same graph as the op "
                                 "being created (%s)." % (t.name, name or op_type))
        attrs = dict(attrs) if attrs else {}
        mapped = self._gradient_override_map.get(op_type) if self._gradient_override_map \
            else None
        if mapped is not None:
            attrs["_gradient_op_type"] = mapped
        with self._lock:
            if name is None:
                name = op_type
            if name.endswith("/"):
                name = name[:-1]
                if name in self._nodes_by_name:
                    name = self.unique_name(name)  # TF would error; keep it unique
                else:
                    self._names_in_use.setdefault(name.lower(), 1)
            else:
                name = self.unique_name(name)
            ctrl = self._current_control_inputs()
            for c in control_inputs:
                c = c.op if isinstance(c, Tensor) else c
                if c not in ctrl:
                    ctrl.append(c)
            input_ops = {t._op for t in inputs}
            ctrl = [c for c in ctrl if c not in input_ops]
            op = Operation(self, op_type, name, inputs, attrs, ctrl, "", opdef)
            dev = self._apply_device(op)
            if dev:
                op._set_device(dev)
            try:
                specs = opdef.shape(op)
            except ValueError as e:
                msg = str(e)
                if op_type not in msg or name not in msg:
                    msg = "%s for '%s' (op: '%s') with input shapes: %s." % (
                        msg.rstrip("."), name, op_type,
                        ", ".join(str(t._shape) for t in inputs))
                raise ValueError(msg) from None
            ref_out = attrs.pop("_ref_output", False)
            op._outputs = [Tensor(op, i, dt, sh if isinstance(sh, TensorShape) else as_shape(sh),
                                  is_ref=ref_out)
                           for i, (dt, sh) in enumerate(specs)]
            self._last_id += 1
            op._id = self._last_id
            self._ops.append(op)
            self._nodes_by_name[name] = op
            self._version = self._last_id
            for t in inputs:
                t._consumers.append(op)
            for c in ctrl:
                c._control_outputs.append(op)
        return op

    # -- lookup ----------------------------------------------------------------
    def get_operations(self):
        with self._lock:
            return list(self._ops)

    def get_operation_by_name(self, name):
        if not isinstance(name, str):
            raise TypeError("Operation names are strings (or similar), not %s." % type(name).__name__)
        return self.as_graph_element(name, allow_tensor=False, allow_operation=True)

    def get_tensor_by_name(self, name):
        if not isinstance(name, str):
            raise TypeError("Tensor names are strings (or similar), not %s." % type(name).__name__)
        return self.as_graph_element(name, allow_tensor=True, allow_operation=False)

    def as_graph_element(self, obj, allow_tensor=True, allow_operation=True):
        """Resolve a Tensor, Operation, name string, or an object with
        `_as_graph_element()` (e.g. a Variable) to an element of this graph."""
        if allow_tensor and allow_operation:
            types_str = "Tensor or Operation"
        elif allow_tensor:
            types_str = "Tensor"
        else:
            types_str = "Operation"
        if not isinstance(obj, (Tensor, Operation, str)):
            conv = getattr(obj, "_as_graph_element", None)
            if conv is not None:
                obj = conv()
        if isinstance(obj, str):
            name = obj
            if ":" in name and allow_tensor:
                op_name, _, idx = name.partition(":")
                try:
                    out_n = int(idx)
                except ValueError:
                    raise ValueError("The name %r looks a like a Tensor name, but is not a "
                                     "valid one. Tensor names must be of the form "
                                     "\"<op_name>:<output_index>\"." % name) from None
                op = self._nodes_by_name.get(op_name)
                if op is None:
                    raise KeyError("The name %r refers to a Tensor which does not exist. "
                                   "The operation, %r, does not exist in the graph."
                                   % (name, op_name))
                if out_n >= len(op._outputs):
                    raise KeyError("The name %r refers to a Tensor which does not exist. "
                                   "The operation, %r, exists but only has %d outputs."
                                   % (name, op_name, len(op._outputs)))
                return op._outputs[out_n]
            if ":" in name and not allow_tensor:
                raise ValueError("Name %r appears to refer to a Tensor, not a %s."
                                 % (name, types_str))
            op = self._nodes_by_name.get(name)
            if op is None:
                raise KeyError("The name %r refers to an Operation not in the graph." % name)
            if not allow_operation:
                raise ValueError("The name %r refers to an Operation, not a %s. Tensor "
                                 "names must be of the form \"<op_name>:<output_index>\"."
                                 % (name, types_str))
            return op
        if isinstance(obj, Tensor) and allow_tensor:
            if obj.graph is not self:
                raise ValueError("Tensor %s is not an element of this graph." % obj)
            return obj
        if isinstance(obj, Operation) and allow_operation:
            if obj._graph is not self:
                raise ValueError("Operation %s is not an element of this graph." % obj)
            return obj
        raise TypeError("Can not convert a %s into a %s." % (type(obj).__name__, types_str))

    # -- collections -------------------------------------------------------------
    def add_to_collection(self, name, value):
        with self._lock:
            self._collections.setdefault(name, []).append(value)

    def add_to_collections(self, names, value):
        names = (names,) if isinstance(names, str) else set(names)
        for name in names:
            self.add_to_collection(name, value)

    def get_collection_ref(self, name):
        """The live list behind collection `name` (created empty if missing)."""
        with self._lock:
            return self._collections.setdefault(name, [])

    def get_collection(self, name, scope=None):
        """A copy of collection `name`; with `scope`, only items whose `.name`
        matches it as a regex prefix (items without a name are left out)."""
        with self._lock:
            coll = list(self._collections.get(name, ()))
        if scope is None:
            return coll
        regex = re.compile(scope)
        out = []
        for item in coll:
            try:
                if regex.match(item.name):
                    out.append(item)
            except AttributeError:
                pass
        return out

    def get_all_collection_keys(self):
        with self._lock:
            return [k for k in self._collections if isinstance(k, str)]

    def clear_collection(self, name):
        with self._lock:
            self._collections.pop(name, None)

    # -- feeding and fetching rules ----------------------------------------------
    def prevent_feeding(self, tensor):
        self._unfeedable.add(tensor)

    def is_feedable(self, tensor):
        return tensor not in self._unfeedable

    def prevent_fetching(self, op):
        self._unfetchable.add(op)

    def is_fetchable(self, tensor_or_op):
        op = tensor_or_op.op if isinstance(tensor_or_op, Tensor) else tensor_or_op
        return op not in self._unfetchable

    # -- serialization (flowcore/meta_graph.py) -------------------------------------
    def as_graph_def(self, from_version=None, add_shapes=False):
        """This graph as a TF-compatible `GraphDef` protocol buffer; with
        `from_version`, only the ops added since `version` had that value."""
        from flowcore import meta_graph
        return meta_graph.graph_to_graph_def(self, from_version=from_version,
                                             add_shapes=add_shapes)

    @property
    def graph_def_versions(self):
        """The `VersionDef` written into this graph's GraphDefs."""
        from flowcore import meta_graph
        return meta_graph.graph_def_versions()


# -- the default graph: a thread-local stack over one global graph -------------

class _DefaultStack(threading.local):
    def __init__(self):
        self.stack = []

    @contextlib.contextmanager
    def get_controller(self, default):
        self.stack.append(default)
        try:
            yield default
        finally:
            # remove this entry even if inner code popped out of order
            for i in range(len(self.stack) - 1, -1, -1):
                if self.stack[i] is default:
                    del self.stack[i]
                    break


class _DefaultGraphStack(_DefaultStack):
    pass


_default_graph_stack = _DefaultGraphStack()
_global_default_graph = None
_global_lock = threading.Lock()


def get_default_graph():
    """The innermost `Graph.as_default()` graph of this thread, else the global one."""
    stack = _default_graph_stack.stack
    if stack:
        return stack[-1]
    global _global_default_graph
    if _global_default_graph is None:
        with _global_lock:
            if _global_default_graph is None:
                _global_default_graph = Graph()
    return _global_default_graph


def reset_default_graph():
    """Replace the global default graph.  Inside a `with g.as_default():` block
    this raises AssertionError, as in TF."""
    if _default_graph_stack.stack:
        raise AssertionError("Do not use tf.reset_default_graph() to clear nested graphs. "
                             "If you need a cleared graph, exit the nesting and create a new graph.")
    global _global_default_graph
    with _global_lock:
        _global_default_graph = Graph()


def _graph_of(values):
    """The graph of the first graph element among `values`, else the default."""
    for v in values or ():
        g = getattr(v, "graph", None)
        if isinstance(g, Graph):
            return g
    return get_default_graph()


def _get_graph_from_inputs(values):
    """The one graph all graph elements in `values` belong to (ValueError if two)."""
    graph = None
    for v in values:
        if isinstance(v, (Tensor, Operation)):
            g = v.graph
        else:
            g = getattr(v, "graph", None)
            if not isinstance(g, Graph):
                continue
        if graph is None:
            graph = g
        elif g is not graph:
            raise ValueError("%s must be from the same graph as %s." % (v, values[0]))
    return graph or get_default_graph()


@contextlib.contextmanager
def name_scope(name, default_name=None, values=None):
    """TF1's `tf.name_scope(name, default_name=None, values=None)`: enter the
    graph of `values` and the scope `name` (or `default_name` made unique)."""
    n = name if name is not None else default_name
    g = _get_graph_from_inputs(values) if values else get_default_graph()
    with g.as_default(), g.name_scope(n) as scope:
        yield scope


def control_dependencies(control_inputs):
    return get_default_graph().control_dependencies(control_inputs)


def device(device_name_or_function):
    return get_default_graph().device(device_name_or_function)


def colocate_with(op, ignore_existing=False):
    return get_default_graph().colocate_with(op, ignore_existing)


def add_to_collection(name, value):
    get_default_graph().add_to_collection(name, value)


def add_to_collections(names, value):
    get_default_graph().add_to_collections(names, value)


def get_collection(key, scope=None):
    return get_default_graph().get_collection(key, scope)


def get_collection_ref(key):
    return get_default_graph().get_collection_ref(key)


def get_name_scope():
    return get_default_graph().get_name_scope()


def get_all_collection_keys():
    return get_default_graph().get_all_collection_keys()


def op_scope(values, name, default_name=None):
    return name_scope(name, default_name, values)
