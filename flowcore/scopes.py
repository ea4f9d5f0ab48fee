"""Variable scopes and `get_variable`: TF1's way of naming and sharing variables.

A `variable_scope` prefixes the names of variables made by `get_variable`
and carries defaults for them (initializer, regularizer, dtype, custom
getter, reuse).  Each graph keeps, in its collections as TF does:

- a `_VariableStore` (`("__variable_store",)`): full name -> Variable, shared
  by all threads, so `reuse=True` finds what another scope created;
- a `_VariableScopeStore` (`("__varscope",)`), one per thread: the current
  scope and how often each scope name was opened (for `default_name`
  uniquification: `dense`, `dense_1`, ...).

Each `variable_scope` also opens a name scope for the ops inside it, made
unique like any name scope: entering "foo" twice gives ops under `foo/` then
`foo_1/`, while the variables stay `foo/v`.  Variable names ignore the name
scope: `get_variable` builds its ops from the top level, under the variable's
full name.
"""
import enum
import inspect
import os
import threading
import traceback

from flowcore import dtypes
from flowcore.graph import (GraphKeys, _get_graph_from_inputs, get_default_graph,
                            name_scope as _name_scope)
from flowcore.init_ops import GlorotUniform, Zeros, _accepts_partition_info
from flowcore.shapes import as_shape

__all__ = ["variable_scope", "get_variable", "get_local_variable", "get_variable_scope",
           "VariableScope", "AUTO_REUSE", "no_regularizer", "variable_op_scope"]

_VARSTORE_KEY = ("__variable_store",)
_VARSCOPESTORE_KEY = ("__varscope",)
_FLOWCORE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


class _ReuseMode(enum.Enum):
    """`tf.AUTO_REUSE`: create the variable if it does not exist, else return it."""
    AUTO_REUSE = 1


AUTO_REUSE = _ReuseMode.AUTO_REUSE


def no_regularizer(_):
    """A regularizer that adds no loss (turns off a scope's regularizer)."""
    return None


# -- the stores ---------------------------------------------------------------------------

class _VariableStore:
    """The variables `get_variable` made in one graph, by full name."""

    def __init__(self):
        self._vars = {}
        self._origins = {}     # name -> creation stack frames, for "Originally defined at"
        self._lock = threading.RLock()

    def get_variable(self, name, shape=None, dtype=dtypes.float32, initializer=None,
                     regularizer=None, reuse=None, trainable=None, collections=None,
                     caching_device=None, partitioner=None, validate_shape=True,
                     use_resource=None, custom_getter=None, constraint=None,
                     synchronization=None, aggregation=None):
        if custom_getter is not None and not callable(custom_getter):
            raise ValueError("Passed a custom_getter which is not callable: %s" % custom_getter)
        if trainable is None:
            trainable = True

        def true_getter(name, shape=None, dtype=dtypes.float32, initializer=None,
                        regularizer=None, reuse=None, trainable=None, collections=None,
                        caching_device=None, partitioner=None, validate_shape=True,
                        use_resource=None, constraint=None, synchronization=None,
                        aggregation=None):
            is_scalar = isinstance(shape, (list, tuple)) and not shape
            if partitioner is not None and not is_scalar:
                raise NotImplementedError(
                    "Partitioned variables are not supported (variable %s was given a "
                    "partitioner)." % name)
            return self._get_single_variable(
                name, shape=shape, dtype=dtype, initializer=initializer,
                regularizer=regularizer, reuse=reuse, trainable=trainable,
                collections=collections, caching_device=caching_device,
                validate_shape=validate_shape, constraint=constraint)

        if custom_getter is None:
            return true_getter(name, shape=shape, dtype=dtype, initializer=initializer,
                               regularizer=regularizer, reuse=reuse, trainable=trainable,
                               collections=collections, caching_device=caching_device,
                               partitioner=partitioner, validate_shape=validate_shape,
                               use_resource=use_resource, constraint=constraint)
        kwargs = {"getter": true_getter, "name": name, "shape": shape, "dtype": dtype,
                  "initializer": initializer, "regularizer": regularizer, "reuse": reuse,
                  "trainable": trainable, "collections": collections,
                  "caching_device": caching_device, "partitioner": partitioner,
                  "validate_shape": validate_shape, "use_resource": use_resource,
                  "synchronization": synchronization, "aggregation": aggregation}
        if _takes_arg(custom_getter, "constraint"):
            kwargs["constraint"] = constraint
        return custom_getter(**kwargs)

    def _get_single_variable(self, name, shape=None, dtype=dtypes.float32, initializer=None,
                             regularizer=None, reuse=None, trainable=True, collections=None,
                             caching_device=None, validate_shape=True, constraint=None):
        from flowcore.variables import Variable
        from_value = initializer is not None and not callable(initializer)
        if shape is not None and from_value:
            raise ValueError("If initializer is a constant, do not specify shape.")
        dtype = dtypes.as_dtype(dtype)
        if shape is not None:
            shape = as_shape(shape)
        with self._lock:
            found = self._vars.get(name)
            if found is not None:
                if reuse is False:
                    raise ValueError(
                        "Variable %s already exists, disallowed. Did you mean to set "
                        "reuse=True or reuse=tf.AUTO_REUSE in VarScope? Originally defined "
                        "at:\n\n%s" % (name, "".join(traceback.format_list(self._origins[name]))))
                if shape is not None and not shape.is_compatible_with(found.get_shape()):
                    raise ValueError("Trying to share variable %s, but specified shape %s and "
                                     "found shape %s." % (name, shape, found.get_shape()))
                if not dtype.is_compatible_with(found.dtype):
                    raise ValueError("Trying to share variable %s, but specified dtype %s and "
                                     "found dtype %s_ref." % (name, dtype.name, found.dtype.name))
                return found
            if reuse is True:
                raise ValueError("Variable %s does not exist, or was not created with "
                                 "tf.get_variable(). Did you mean to set "
                                 "reuse=tf.AUTO_REUSE in VarScope?" % name)
            if initializer is None:
                if shape is None:
                    raise ValueError("Variable %s did not get an initializer, so its `shape` "
                                     "argument must be specified." % name)
                initializer = _default_initializer(name, dtype)
            if from_value:
                init_val, var_dtype = initializer, None
            else:
                if isinstance(initializer, type):
                    initializer = initializer()
                if shape is not None and shape.is_fully_defined():
                    init_val = _bind_initializer(initializer, shape.as_list(), dtype)
                    var_dtype = dtype
                elif _needs_no_arguments(initializer):
                    init_val, var_dtype = initializer, None
                else:
                    raise ValueError("The initializer passed is not valid. It should be a "
                                     "callable with no arguments and the shape should not be "
                                     "provided or an instance of `tf.keras.initializers.*' "
                                     "and `shape` should be fully defined.")
            g = get_default_graph()
            # like TF's init_scope: no control dependencies on variable creation
            with g.control_dependencies(None):
                v = Variable(initial_value=init_val, name=name, trainable=trainable,
                             collections=collections, caching_device=caching_device,
                             dtype=var_dtype, validate_shape=validate_shape,
                             constraint=constraint,
                             shape=shape if validate_shape and not from_value else None)
            self._vars[name] = v
            self._origins[name] = _creation_frames()
        if regularizer:
            with _name_scope(name + "/Regularizer/"):
                loss = regularizer(v)
            if loss is not None:
                g.add_to_collection(GraphKeys.REGULARIZATION_LOSSES, loss)
        return v


def _default_initializer(name, dtype):
    """glorot_uniform for floats, zeros for integers, bools and strings."""
    if dtype.is_floating:
        return GlorotUniform()
    if dtype.is_integer or dtype.is_unsigned or dtype.is_bool or dtype is dtypes.string:
        return Zeros()
    raise ValueError("An initializer for variable %s of %s is required" % (name, dtype))


def _bind_initializer(initializer, shape, dtype):
    if _accepts_partition_info(initializer):
        return lambda: initializer(shape, dtype=dtype, partition_info=None)
    return lambda: initializer(shape, dtype=dtype)


def _needs_no_arguments(fn):
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return False
    return all(p.default is not p.empty or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
               for p in params)


def _takes_arg(fn, name):
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.name == name or p.kind is p.VAR_KEYWORD for p in params)


def _creation_frames():
    """The innermost few user frames of the current stack, innermost first."""
    frames = [f for f in reversed(traceback.extract_stack()[:-1])
              if not os.path.abspath(f.filename).startswith(_FLOWCORE_DIR)]
    return traceback.StackSummary.from_list(frames[:5])


class _VariableScopeStore(threading.local):
    """One thread's current variable scope and counts of opened scope names."""

    def __init__(self):
        self.current_scope = VariableScope(False)
        self.variable_scopes_count = {}

    def open_variable_scope(self, scope_name):
        self.variable_scopes_count[scope_name] = self.variable_scopes_count.get(scope_name, 0) + 1

    def close_variable_subscopes(self, scope_name):
        for k in self.variable_scopes_count:
            if scope_name is None or k.startswith(scope_name + "/"):
                self.variable_scopes_count[k] = 0

    def variable_scope_count(self, scope_name):
        return self.variable_scopes_count.get(scope_name, 0)


_STORE_LOCK = threading.Lock()


def _graph_singleton(key, factory, graph=None):
    g = graph or get_default_graph()
    coll = g.get_collection_ref(key)
    if not coll:
        with _STORE_LOCK:
            if not coll:
                coll.append(factory())
    return coll[0]


def _get_default_variable_store():
    return _graph_singleton(_VARSTORE_KEY, _VariableStore)


def get_variable_scope_store():
    return _graph_singleton(_VARSCOPESTORE_KEY, _VariableScopeStore)


def get_variable_scope():
    """The current `VariableScope` (of this thread, in the default graph)."""
    return get_variable_scope_store().current_scope


# -- VariableScope ------------------------------------------------------------------------

class VariableScope:
    """A variable scope's name and the defaults it gives `get_variable`.

    Returned by `with variable_scope(...) as scope`; passing it back to
    `variable_scope` re-enters the same variable names (its ops get a fresh
    name scope).
    """

    def __init__(self, reuse, name="", initializer=None, regularizer=None,
                 caching_device=None, partitioner=None, custom_getter=None, name_scope="",
                 dtype=dtypes.float32, use_resource=None, constraint=None):
        self._name = name
        self._initializer = initializer
        self._regularizer = regularizer
        self._reuse = reuse
        self._caching_device = caching_device
        self._partitioner = partitioner
        self._custom_getter = custom_getter
        self._name_scope = name_scope
        self._dtype = dtypes.as_dtype(dtype)
        self._use_resource = use_resource
        self._constraint = constraint

    name = property(lambda self: self._name)
    original_name_scope = property(lambda self: self._name_scope)
    reuse = property(lambda self: self._reuse)
    initializer = property(lambda self: self._initializer)
    dtype = property(lambda self: self._dtype)
    use_resource = property(lambda self: self._use_resource)
    regularizer = property(lambda self: self._regularizer)
    caching_device = property(lambda self: self._caching_device)
    partitioner = property(lambda self: self._partitioner)
    custom_getter = property(lambda self: self._custom_getter)
    constraint = property(lambda self: self._constraint)

    def reuse_variables(self):
        """From now on `get_variable` in this scope returns existing variables."""
        self._reuse = True

    def set_initializer(self, initializer):
        self._initializer = initializer

    def set_dtype(self, dtype):
        self._dtype = dtypes.as_dtype(dtype)

    def set_use_resource(self, use_resource):
        self._use_resource = use_resource

    def set_regularizer(self, regularizer):
        self._regularizer = regularizer

    def set_caching_device(self, caching_device):
        self._caching_device = caching_device

    def set_partitioner(self, partitioner):
        self._partitioner = partitioner

    def set_custom_getter(self, custom_getter):
        self._custom_getter = custom_getter

    def get_collection(self, name):
        """Items of collection `name` whose names start with this scope's."""
        return get_default_graph().get_collection(name, self._name + "/" if self._name else "")

    def trainable_variables(self):
        return self.get_collection(GraphKeys.TRAINABLE_VARIABLES)

    def global_variables(self):
        return self.get_collection(GraphKeys.GLOBAL_VARIABLES)

    def local_variables(self):
        return self.get_collection(GraphKeys.LOCAL_VARIABLES)

    def get_variable(self, var_store, name, shape=None, dtype=None, initializer=None,
                     regularizer=None, reuse=None, trainable=None, collections=None,
                     caching_device=None, partitioner=None, validate_shape=True,
                     use_resource=None, custom_getter=None, constraint=None,
                     synchronization=None, aggregation=None):
        """`var_store.get_variable` with this scope's name prefix and defaults."""
        if regularizer is None:
            regularizer = self._regularizer
        if caching_device is None:
            caching_device = self._caching_device
        if partitioner is None:
            partitioner = self._partitioner
        if custom_getter is None:
            custom_getter = self._custom_getter
        if reuse is None:
            reuse = self._reuse
        if use_resource is None:
            use_resource = self._use_resource
        full_name = self._name + "/" + name if self._name else name
        # the variable's name comes from the variable scope only
        with _name_scope(None):
            if dtype is not None and initializer is not None and not callable(initializer):
                from flowcore.ops.core import convert_to_tensor
                init_dtype = convert_to_tensor(initializer).dtype
                if init_dtype is not dtypes.as_dtype(dtype):
                    raise ValueError("Initializer type '%s' and explicit dtype '%s' don't "
                                     "match." % (init_dtype, dtypes.as_dtype(dtype)))
            if initializer is None:
                initializer = self._initializer
            if constraint is None:
                constraint = self._constraint
            if dtype is None:
                dtype = self._dtype
            return var_store.get_variable(
                full_name, shape=shape, dtype=dtype, initializer=initializer,
                regularizer=regularizer, reuse=reuse, trainable=trainable,
                collections=collections, caching_device=caching_device,
                partitioner=partitioner, validate_shape=validate_shape,
                use_resource=use_resource, custom_getter=custom_getter,
                constraint=constraint, synchronization=synchronization,
                aggregation=aggregation)


def _maybe_wrap_custom_getter(custom_getter, old_getter):
    """Nested custom getters: the inner one's `getter` calls the outer one."""
    if old_getter is None:
        return custom_getter

    def wrapped_custom_getter(getter, *args, **kwargs):
        return custom_getter(lambda *a, **k: old_getter(getter, *a, **k), *args, **kwargs)
    return wrapped_custom_getter


# -- get_variable ---------------------------------------------------------------------------

def get_variable(name, shape=None, dtype=None, initializer=None, regularizer=None,
                 trainable=None, collections=None, caching_device=None, partitioner=None,
                 validate_shape=True, use_resource=None, custom_getter=None, constraint=None,
                 synchronization=None, aggregation=None):
    """The variable `<scope>/name`: created (with `initializer`, the scope's,
    or glorot_uniform / zeros by dtype) or, in a reusing scope, the existing
    one.  ValueError, with TF's messages, for a variable that already exists
    when not reusing, one that does not exist when `reuse=True`, or a shape
    or dtype that differs from the existing variable's."""
    return get_variable_scope().get_variable(
        _get_default_variable_store(), name, shape=shape, dtype=dtype,
        initializer=initializer, regularizer=regularizer, trainable=trainable,
        collections=collections, caching_device=caching_device, partitioner=partitioner,
        validate_shape=validate_shape, use_resource=use_resource, custom_getter=custom_getter,
        constraint=constraint, synchronization=synchronization, aggregation=aggregation)


def get_local_variable(name, shape=None, dtype=None, initializer=None, regularizer=None,
                       trainable=False, collections=None, caching_device=None,
                       partitioner=None, validate_shape=True, use_resource=None,
                       custom_getter=None, constraint=None, synchronization=None,
                       aggregation=None):
    """`get_variable` for a non-trainable variable in LOCAL_VARIABLES."""
    collections = [GraphKeys.LOCAL_VARIABLES] + list(collections or [])
    return get_variable(name, shape=shape, dtype=dtype, initializer=initializer,
                        regularizer=regularizer, trainable=False, collections=collections,
                        caching_device=caching_device, partitioner=partitioner,
                        validate_shape=validate_shape, use_resource=use_resource,
                        custom_getter=custom_getter, constraint=constraint)


# -- variable_scope -------------------------------------------------------------------------

class _pure_variable_scope:
    """Sets the current VariableScope (no name scope)."""

    def __init__(self, name_or_scope, reuse=None, initializer=None, regularizer=None,
                 caching_device=None, partitioner=None, custom_getter=None,
                 old_name_scope=None, dtype=dtypes.float32, use_resource=None,
                 constraint=None):
        self._name_or_scope = name_or_scope
        self._reuse = reuse
        self._initializer = initializer
        self._regularizer = regularizer
        self._caching_device = caching_device
        self._partitioner = partitioner
        self._custom_getter = custom_getter
        self._old_name_scope = old_name_scope
        self._dtype = dtype
        self._use_resource = use_resource
        self._constraint = constraint
        self._store = get_variable_scope_store()
        self._last = None

    def _apply_overrides(self, scope, old_getter):
        if self._initializer is not None:
            scope.set_initializer(self._initializer)
        if self._regularizer is not None:
            scope.set_regularizer(self._regularizer)
        if self._caching_device is not None:
            scope.set_caching_device(self._caching_device)
        if self._partitioner is not None:
            scope.set_partitioner(self._partitioner)
        if self._custom_getter is not None:
            scope.set_custom_getter(_maybe_wrap_custom_getter(self._custom_getter, old_getter))
        if self._dtype is not None:
            scope.set_dtype(self._dtype)
        if self._use_resource is not None:
            scope.set_use_resource(self._use_resource)

    def __enter__(self):
        store = self._store
        self._old = store.current_scope
        src = self._name_or_scope
        if isinstance(src, VariableScope):
            # a captured scope: its own reuse (not the enclosing one's) unless
            # reuse is given here
            self._new_name = src.name
            scope = VariableScope(
                self._reuse if self._reuse else src.reuse, name=src.name,
                initializer=src.initializer, regularizer=src.regularizer,
                caching_device=src.caching_device, partitioner=src.partitioner,
                dtype=src.dtype, custom_getter=src.custom_getter,
                name_scope=src.original_name_scope, use_resource=src.use_resource,
                constraint=self._constraint)
            self._apply_overrides(scope, src.custom_getter)
            store.open_variable_scope(self._new_name)
            self._old_subscopes = dict(store.variable_scopes_count)
        else:
            old = self._old
            self._new_name = old.name + "/" + src if old.name else src
            reuse = self._reuse or old.reuse       # reuse is inherited by sub-scopes
            scope = VariableScope(
                reuse, name=self._new_name, initializer=old.initializer,
                regularizer=old.regularizer, caching_device=old.caching_device,
                partitioner=old.partitioner, dtype=old.dtype, use_resource=old.use_resource,
                custom_getter=old.custom_getter,
                name_scope=src if self._old_name_scope is None else self._old_name_scope,
                constraint=self._constraint)
            self._apply_overrides(scope, old.custom_getter)
            store.open_variable_scope(self._new_name)
        store.current_scope = scope
        self._last = scope
        return scope

    def __exit__(self, *exc):
        store = self._store
        if store.current_scope is not self._last:
            raise RuntimeError("Improper nesting of variable_scope.")
        if isinstance(self._name_or_scope, VariableScope):
            store.variable_scopes_count = self._old_subscopes
        else:
            store.close_variable_subscopes(self._new_name)
        store.current_scope = self._old


def _get_unique_variable_scope(prefix):
    """`prefix`, or `prefix_N` with the first N not opened in the current scope."""
    store = get_variable_scope_store()
    current = store.current_scope
    name = current.name + "/" + prefix if current.name else prefix
    if store.variable_scope_count(name) == 0:
        return prefix
    idx = 1
    while store.variable_scope_count("%s_%d" % (name, idx)) > 0:
        idx += 1
    return "%s_%d" % (prefix, idx)


class variable_scope:
    """TF1's `tf.variable_scope`: a context manager opening a variable scope
    (and a name scope for the ops inside).

    `name_or_scope` is a string or a captured `VariableScope`; with None,
    `default_name` is made unique (`dense`, `dense_1`, ...).  `reuse=True`
    or `AUTO_REUSE` is inherited by nested scopes; `reuse=False` (or None)
    inherits the enclosing scope's.  Scope defaults (`initializer`,
    `regularizer`, `dtype`, `custom_getter`, ...) apply to `get_variable`
    calls inside, nested scopes included.
    """

    def __init__(self, name_or_scope, default_name=None, values=None, initializer=None,
                 regularizer=None, caching_device=None, partitioner=None, custom_getter=None,
                 reuse=None, dtype=None, use_resource=None, constraint=None,
                 auxiliary_name_scope=True):
        self._name_or_scope = name_or_scope
        self._default_name = default_name
        self._values = list(values) if values is not None else []
        self._initializer = initializer
        self._regularizer = regularizer
        self._caching_device = caching_device
        self._partitioner = partitioner
        self._custom_getter = custom_getter
        self._reuse = reuse
        self._dtype = dtype
        self._use_resource = use_resource
        self._constraint = constraint
        if self._default_name is None and self._name_or_scope is None:
            raise TypeError("If default_name is None then name_or_scope is required")
        if self._reuse is False:
            self._reuse = None      # False means "inherit", like None
        if not (self._reuse is True or self._reuse is None or self._reuse is AUTO_REUSE):
            raise ValueError("The reuse parameter must be True or False or None.")
        if not isinstance(auxiliary_name_scope, bool):
            raise TypeError("The auxiliary_name_scope must be `True` or `False`, while get %s"
                            % auxiliary_name_scope)
        self._auxiliary_name_scope = auxiliary_name_scope
        self._graph = _get_graph_from_inputs(self._values) if self._values else None
        self._exits = []

    def __enter__(self):
        graph = self._graph or get_default_graph()
        exits = []
        try:
            exits.append(_enter(graph.as_default()))
            scope = self._enter_scopes(graph, exits)
        except BaseException:
            for cm in reversed(exits):
                cm.__exit__(None, None, None)
            raise
        self._exits.append(exits)
        return scope

    def _enter_scopes(self, graph, exits):
        if self._auxiliary_name_scope:
            current_ns = None
        else:
            # stay in the current name scope
            ns = graph.get_name_scope()
            current_ns = graph.name_scope(ns + "/" if ns else "")
        kwargs = dict(initializer=self._initializer, regularizer=self._regularizer,
                      caching_device=self._caching_device, partitioner=self._partitioner,
                      custom_getter=self._custom_getter, dtype=self._dtype,
                      use_resource=self._use_resource, constraint=self._constraint)
        src = self._name_or_scope
        if src is not None:
            if not isinstance(src, (VariableScope, str)):
                raise TypeError("VariableScope: name_or_scope must be a string or "
                                "VariableScope.")
            ns_name = src if isinstance(src, str) else src.name.split("/")[-1]
            if ns_name or current_ns is not None:
                cm = current_ns if current_ns is not None else graph.name_scope(ns_name)
                entered = cm.__enter__()
                exits.append(cm)
                old_ns = entered if isinstance(src, str) else src.original_name_scope
                pure = _pure_variable_scope(src, reuse=self._reuse, old_name_scope=old_ns,
                                            **kwargs)
            else:
                # entering the root variable scope
                pure = _pure_variable_scope(src, reuse=self._reuse, **kwargs)
            scope = pure.__enter__()
            exits.append(pure)
            return scope
        if self._reuse:
            raise ValueError("reuse=True cannot be used without a name_or_scope")
        cm = current_ns if current_ns is not None else graph.name_scope(self._default_name)
        entered = cm.__enter__()
        exits.append(cm)
        unique = _get_unique_variable_scope(self._default_name)
        pure = _pure_variable_scope(unique, old_name_scope=entered, **kwargs)
        scope = pure.__enter__()
        exits.append(pure)
        return scope

    def __exit__(self, exc_type, exc, tb):
        exits = self._exits.pop()
        for cm in reversed(exits):
            cm.__exit__(None, None, None)
        return False


def _enter(cm):
    cm.__enter__()
    return cm


def variable_op_scope(values, name_or_scope, default_name=None, initializer=None,
                      regularizer=None, caching_device=None, partitioner=None,
                      custom_getter=None, reuse=None, dtype=None, use_resource=None,
                      constraint=None):
    """Deprecated TF1 spelling of `variable_scope(name_or_scope, default_name,
    values=values, ...)`."""
    return variable_scope(name_or_scope, default_name=default_name, values=values,
                          initializer=initializer, regularizer=regularizer,
                          caching_device=caching_device, partitioner=partitioner,
                          custom_getter=custom_getter, reuse=reuse, dtype=dtype,
                          use_resource=use_resource, constraint=constraint)
