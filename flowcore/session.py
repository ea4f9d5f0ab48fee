"""Sessions: run parts of a graph, from many threads at once.

`Session.run` turns (fetches, feed keys) into a cached `_Plan` once: the ops
the fetches need (cut at fed tensors), in topological order, each input and
output given a slot in a flat value list.  Running a plan is a loop over
`(kernel, op, input slots, output slot)` steps with no session-wide lock, so
a run blocked in a queue blocks only its own thread.  Each step is compiled
to a small closure specialised by its number of inputs, and the steps of
resource ops (variable, queue and reader handles) run only until a run has
produced their session-lifetime value: a per-record run of an input
pipeline pays for its real kernels and little else.

State of stateful ops (variables, queues, readers, seeded random generators)
lives in the session's resource table, one `Resource` per op (or per
`shared_name`), each with its own lock.  `close()` marks the session closed and
wakes every resource's waiters, which then raise `CancelledError`.
"""
import collections
import threading
import time

import numpy as np

from flowcore import errors, turns
from flowcore.graph import Graph, Operation, Tensor, _DefaultStack, get_default_graph

__all__ = ["Session", "InteractiveSession", "get_default_session", "RunOptions",
           "RunMetadata", "ConfigProto", "GPUOptions", "GraphOptions", "OptimizerOptions",
           "Resource"]


# -- option bags (TF's protos, as plain objects) --------------------------------------

class _Options:
    _fields = {}

    def __init__(self, **kwargs):
        for k, v in self._fields.items():
            setattr(self, k, v() if callable(v) else v)
        for k, v in kwargs.items():
            if k not in self._fields:
                raise ValueError("Protocol message %s has no \"%s\" field."
                                 % (type(self).__name__, k))
            setattr(self, k, v)

    def __repr__(self):
        return "%s(%s)" % (type(self).__name__, ", ".join(
            "%s=%r" % (k, getattr(self, k)) for k in self._fields))


class GPUOptions(_Options):
    _fields = {"allow_growth": False, "per_process_gpu_memory_fraction": 0.0,
               "visible_device_list": ""}


class OptimizerOptions(_Options):
    L0, L1 = -1, 0
    _fields = {"opt_level": 0, "do_common_subexpression_elimination": False,
               "do_constant_folding": False}


class GraphOptions(_Options):
    _fields = {"optimizer_options": OptimizerOptions, "enable_bfloat16_sendrecv": False,
               "place_pruned_graph": False}


class ConfigProto(_Options):
    """Session configuration.  `operation_timeout_in_ms` is the default
    deadline of every blocking run; the others are accepted for compatibility."""
    _fields = {"device_count": dict, "intra_op_parallelism_threads": 0,
               "inter_op_parallelism_threads": 0, "use_per_session_threads": False,
               "allow_soft_placement": False, "log_device_placement": False,
               "gpu_options": GPUOptions, "graph_options": GraphOptions,
               "operation_timeout_in_ms": 0, "isolate_session_state": False}


class RunOptions(_Options):
    """Per-run options: `timeout_in_ms` bounds how long a blocked run waits."""
    NO_TRACE, SOFTWARE_TRACE, HARDWARE_TRACE, FULL_TRACE = 0, 1, 2, 3
    _fields = {"trace_level": 0, "timeout_in_ms": 0, "inter_op_thread_pool": 0,
               "output_partition_graphs": False,
               "report_tensor_allocations_upon_oom": False}


class RunMetadata(_Options):
    _fields = {"step_stats": dict, "partition_graphs": list, "cost_graph": dict}


# -- per-session state ---------------------------------------------------------------

class ResourceLock:
    """The mutex of a per-session resource, shaped for threads under the GIL.

    A contended `threading.Lock` is handed to the thread blocked on it, which
    then still has to wait for the GIL: the releasing thread soon needs the
    lock again, blocks, and two busy runner threads fall into a convoy that
    costs two thread switches per operation (a per-record pipeline with two
    reader threads ran at 40% of one thread's speed).  A contended `acquire`
    here first yields the GIL so the holder can finish its short critical
    section, and blocks only if that was not enough.  Works with
    `threading.Condition`."""

    __slots__ = ("_lock", "raw")

    def __init__(self):
        # `raw`: the underlying lock, for hot paths that take it with
        # `raw.acquire(False) or lock.acquire()` and release it directly
        self._lock = self.raw = threading.Lock()

    def acquire(self, blocking=True, timeout=-1):
        lock = self._lock
        if lock.acquire(False):
            return True
        if not blocking:
            return False
        for _ in range(3):
            time.sleep(0)
            if lock.acquire(False):
                return True
        return lock.acquire(True, timeout)

    def release(self):
        self._lock.release()

    def locked(self):
        return self._lock.locked()

    __enter__ = acquire

    def __exit__(self, *exc):
        self._lock.release()


class Resource:
    """Per-session state of a stateful op, guarded by its own `lock`.

    Subclasses that block (queues) create Conditions on `self.lock` and list
    them in `self.conditions`; `wake_all()` notifies them when the session
    closes, and each waiter then sees the session closed (see `RunContext.wait`).
    """

    def __init__(self):
        self.lock = ResourceLock()
        self.conditions = ()

    def wake_all(self):
        if self.conditions:
            with self.lock:
                for c in self.conditions:
                    c.notify_all()


class RunContext:
    """What a kernel sees of the run calling it: the session's resources,
    its cancellation, and the run's deadline (a `time.monotonic()` or None)."""

    __slots__ = ("session", "resources", "deadline")

    def __init__(self, session, deadline):
        self.session = session
        self.resources = session._resources
        self.deadline = deadline

    def resource(self, key, factory):
        """The session's resource under `key`, made by `factory()` on first use."""
        r = self.resources.get(key)
        if r is None:
            sess = self.session
            with sess._resource_lock:
                r = self.resources.get(key)
                if r is None:
                    if sess._closed:
                        raise errors.CancelledError(None, None, "Session has been closed.")
                    r = factory()
                    self.resources[key] = r
        return r

    def wait(self, cond, ready, op, what="condition"):
        """Block on `cond` (its lock held) until `ready()` is true.

        Raises CancelledError when the session closes and DeadlineExceededError
        when the run's deadline passes; both name `op`."""
        sess = self.session
        deadline = self.deadline
        while not ready():
            turns.give_up()
            if sess._closed:
                raise errors.CancelledError(
                    None, op, "Session closed while op '%s' was waiting for %s"
                    % (op.name if op is not None else "?", what))
            if deadline is None:
                cond.wait()
            else:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise errors.DeadlineExceededError(
                        None, op, "Timed out while op '%s' was waiting for %s"
                        % (op.name if op is not None else "?", what))
                cond.wait(remaining)

    @property
    def closed(self):
        return self.session._closed


# -- fetch structures ----------------------------------------------------------------

def _fetch_key(f):
    t = type(f)
    if t is Tensor or t is Operation or t is str:
        return f
    if t is list or isinstance(f, tuple):
        return (t, tuple(_fetch_key(x) for x in f))
    if isinstance(f, dict):
        return (t, tuple((k, _fetch_key(v)) for k, v in f.items()))
    return f


def _flatten_fetches(fetch, graph, flat):
    """Append the graph elements of `fetch` to `flat`; return a function
    rebuilding the user's structure from the list of fetched values."""
    if fetch is None:
        raise TypeError("Fetch argument None has invalid type <class 'NoneType'>")
    if isinstance(fetch, (list, tuple)) and not _is_sparse(fetch):
        subs = [_flatten_fetches(f, graph, flat) for f in fetch]
        if isinstance(fetch, tuple) and hasattr(fetch, "_fields"):
            cls = type(fetch)
            return lambda vals: cls(*[s(vals) for s in subs])
        if isinstance(fetch, tuple):
            return lambda vals: tuple(s(vals) for s in subs)
        return lambda vals: [s(vals) for s in subs]
    if isinstance(fetch, dict):
        keys = list(fetch)
        subs = [_flatten_fetches(fetch[k], graph, flat) for k in keys]
        cls = type(fetch)

        def rebuild_dict(vals):
            d = cls() if cls is not collections.defaultdict else \
                collections.defaultdict(fetch.default_factory)
            for k, s in zip(keys, subs):
                d[k] = s(vals)
            return d
        return rebuild_dict
    if _is_sparse(fetch):
        from flowcore.sparse import SparseTensorValue
        i = len(flat)
        for t in (fetch.indices, fetch.values, fetch.dense_shape):
            flat.append(_as_element(t, graph))
        return lambda vals: SparseTensorValue(vals[i], vals[i + 1], vals[i + 2])
    if type(fetch).__name__ == "IndexedSlices" and hasattr(fetch, "indices"):
        from flowcore.indexed_slices import IndexedSlicesValue
        i = len(flat)
        parts = [fetch.values, fetch.indices]
        if fetch.dense_shape is not None:
            parts.append(fetch.dense_shape)
        flat.extend(_as_element(t, graph) for t in parts)
        return lambda vals: IndexedSlicesValue(vals[i], vals[i + 1],
                                               vals[i + 2] if len(parts) == 3 else None)
    i = len(flat)
    flat.append(_as_element(fetch, graph))
    return lambda vals: vals[i]


def _is_sparse(x):
    return type(x).__name__ == "SparseTensor" and hasattr(x, "dense_shape")


def _as_element(fetch, graph):
    try:
        el = graph.as_graph_element(fetch, allow_tensor=True, allow_operation=True)
    except TypeError:
        raise TypeError("Fetch argument %r has invalid type %r, must be a string or Tensor. "
                        "(Can not convert a %s into a Tensor or Operation.)"
                        % (fetch, type(fetch), type(fetch).__name__)) from None
    except ValueError as e:
        raise ValueError("Fetch argument %r cannot be interpreted as a Tensor. (%s)"
                         % (fetch, e)) from None
    except KeyError as e:
        raise ValueError("Fetch argument %r cannot be interpreted as a Tensor. (%s)"
                         % (fetch, e.args[0])) from None
    return el


# -- plans ---------------------------------------------------------------------------

_DISCARD, _NONE = 0, 1   # slot 0 takes unwanted writes; slot 1 always holds None


def _read_ref(ctx, op, holder):
    return holder.read(op)


def _step_fn(kernel, op, ins, out, outs):
    """One plan step as a closure `step(vals, ctx)`, specialised by the number
    of inputs and outputs: the run loop then pays one call per step, with no
    tuple unpacking or argument list built per step.  `step.op` names the op
    for error messages."""
    n = len(ins)
    if kernel is _read_ref:
        h, = ins

        def step(vals, ctx):
            try:
                v = vals[h].value    # a variable's value (`read` raises when it is unset)
            except AttributeError:
                v = None
            vals[out] = v if v is not None else vals[h].read(op)
    elif outs:
        if n == 1:
            a, = ins

            def step(vals, ctx):
                for s, v in zip(outs, kernel(ctx, op, vals[a])):
                    vals[s] = v
        elif n == 2:
            a, b = ins

            def step(vals, ctx):
                for s, v in zip(outs, kernel(ctx, op, vals[a], vals[b])):
                    vals[s] = v
        else:
            def step(vals, ctx):
                for s, v in zip(outs, kernel(ctx, op, *[vals[i] for i in ins])):
                    vals[s] = v
    elif n == 0:
        def step(vals, ctx):
            vals[out] = kernel(ctx, op)
    elif n == 1:
        a, = ins

        def step(vals, ctx):
            vals[out] = kernel(ctx, op, vals[a])
    elif n == 2:
        a, b = ins

        def step(vals, ctx):
            vals[out] = kernel(ctx, op, vals[a], vals[b])
    elif n == 3:
        a, b, c = ins

        def step(vals, ctx):
            vals[out] = kernel(ctx, op, vals[a], vals[b], vals[c])
    elif n == 4:
        a, b, c, d = ins

        def step(vals, ctx):
            vals[out] = kernel(ctx, op, vals[a], vals[b], vals[c], vals[d])
    else:
        def step(vals, ctx):
            vals[out] = kernel(ctx, op, *[vals[i] for i in ins])
    step.op = op
    return step


def _session_constant(op, opdef):
    """Does `op` output its session's `Resource` (a variable, queue or reader
    handle)?  Such an output is the same object in every run of a session, so
    a plan runs the op once and then keeps the value (see `_Plan.settle`)."""
    return opdef.stateful and not op._inputs and not op._control_inputs and \
        len(op._outputs) == 1 and (op._outputs[0]._is_ref or
                                   op._outputs[0].dtype.name == "resource")


class _Plan:
    """A compiled (fetches, feeds) signature: what to write, run and return.

    `body` is `(template, step closures)`, swapped as one tuple so a run
    never pairs a template with the steps of another version; `template` and
    `steps` (the `(kernel, op, input slots, output slot, output slots)`
    tuples) describe the same version for tools and profilers.  `hoist`
    lists the steps of resource ops not yet run (see `_session_constant`):
    the first run that gets past them moves their values into the template."""
    __slots__ = ("template", "feeds", "steps", "body", "hoist", "fetch_slots", "rebuild",
                 "single", "flat")

    def settle(self, vals):
        """Move the values of the resource steps that `vals` (a finished
        run's) holds into the template, and drop those steps."""
        with _settle_lock:
            hoist = self.hoist
            if not hoist:
                return
            pending = {id(step) for step in hoist}
            template, steps, fns = self.template[:], [], []
            for step, fn in zip(self.steps, self.body[1]):
                if id(step) in pending and isinstance(vals[step[3]], Resource):
                    template[step[3]] = vals[step[3]]
                    continue
                steps.append(step)
                fns.append(fn)
            self.template, self.steps = template, steps
            self.body = (template, fns)
            self.hoist = None


_settle_lock = threading.Lock()


def _feed_writer(tensor, slot):
    """A function writing one fed value into its slot, checked like TF."""
    dtype = tensor.dtype
    npdt = np.dtype(dtype.as_numpy_dtype)
    shape = tensor.shape
    dims = None if shape.ndims is None else tuple(d.value for d in shape)
    rank = None if dims is None else len(dims)
    known = () if dims is None else tuple((i, d) for i, d in enumerate(dims) if d is not None)
    is_string = dtype.name == "string"
    name = tensor.name

    def write(vals, value):
        if type(value) is np.ndarray and value.dtype == npdt and not is_string:
            arr = value
        elif isinstance(value, Tensor):
            raise TypeError("The value of a feed cannot be a tf.Tensor object. Acceptable "
                            "feed values include Python scalars, strings, lists, numpy "
                            "ndarrays, or TensorHandles. For reference, the tensor object "
                            "was %s which was passed to the feed with key %s." % (value, tensor))
        elif is_string:
            from flowcore.ops.core import _to_bytes_array
            arr = _to_bytes_array(value)
        else:
            try:
                arr = np.asarray(value, dtype=npdt)
            except (TypeError, ValueError) as e:
                raise TypeError("Cannot feed value %r to tensor '%s' of dtype %s: %s"
                                % (value, name, dtype.name, e)) from None
        if rank is not None:
            s = arr.shape
            if len(s) != rank:
                raise _bad_feed_shape(s, name, shape)
            for i, d in known:
                if s[i] != d:
                    raise _bad_feed_shape(s, name, shape)
        vals[slot] = arr
    return write


def _bad_feed_shape(s, name, shape):
    return ValueError("Cannot feed value of shape %r for Tensor '%s', which has shape '%s'"
                      % (s, name, shape))


_NEVER_FOLD = frozenset(["PyFunc", "PyFuncStateless", "EagerPyFunc"])
_ALIASES = frozenset(["Identity", "StopGradient", "Snapshot", "PreventGradient"])


def _foldable(op, opdef, ins, outs, consts):
    """Constant folding at plan time: a stateless op whose inputs are all
    constants (and that waits for no control input) is run once, here, and
    its outputs join the plan's template, so no run pays for it again (shape
    arithmetic, `zeros` built with Fill, gradient bookkeeping).  Anything
    that fails is left to fail at run time, with the usual error."""
    if opdef.stateful or not ins or op._control_inputs or op._type in _NEVER_FOLD \
            or _DISCARD in outs or not all(i in consts for i in ins):
        return False
    try:
        value = opdef.kernel(None, op, *[consts[i] for i in ins])
    except Exception:
        return False
    values = (value,) if len(outs) == 1 else tuple(value)
    for slot, v in zip(outs, values):
        if type(v) is np.ndarray:
            v.flags.writeable = False
        consts[slot] = v
    return True


def _compile(graph, fetches, feed_keys):
    flat = []
    rebuild = _flatten_fetches(fetches, graph, flat)
    fed = {}          # Tensor -> slot
    feed_targets = []  # per feed key: list of tensors it writes
    next_slot = 2
    for key in feed_keys:
        if _is_sparse(key):
            ts = [key.indices, key.values, key.dense_shape]
        else:
            try:
                ts = [graph.as_graph_element(key, allow_tensor=True, allow_operation=False)]
            except Exception as e:
                raise TypeError("Cannot interpret feed_dict key as Tensor: %s" % e) from None
        for t in ts:
            if not graph.is_feedable(t):
                raise ValueError("Tensor %s may not be fed." % t)
            if t not in fed:
                fed[t] = next_slot
                next_slot += 1
        feed_targets.append(ts)

    for el in flat:
        if isinstance(el, Tensor) and not graph.is_fetchable(el.op) or \
                isinstance(el, Operation) and not graph.is_fetchable(el):
            raise ValueError("Operation %r has been marked as not fetchable." % el.name)

    # the ops the fetches need, cut at fed tensors, in topological order (DFS)
    roots = []
    for el in flat:
        if isinstance(el, Operation):
            roots.append(el)
        elif el not in fed:
            roots.append(el.op)
    order, state = [], {}
    for root in roots:
        if root in state:
            continue
        stack = [(root, False)]
        while stack:
            op, done = stack.pop()
            if done:
                state[op] = 2
                order.append(op)
                continue
            if op in state:
                continue
            state[op] = 1
            stack.append((op, True))
            # Control inputs are visited first, so they run before the op's
            # data inputs are computed: a variable read inside
            # `control_dependencies([update])` sees the update, as in TF.
            for t in reversed(op._inputs):
                if t not in fed and t._op not in state:
                    stack.append((t._op, False))
            for c in reversed(op._control_inputs):
                if c not in state:
                    stack.append((c, False))

    slots = dict(fed)
    template_consts = {}
    steps = []
    derefs = {}

    def value_slot(t):
        """The slot holding t's value (a read step is added for variable refs)."""
        nonlocal next_slot
        # an identity of a variable (its `v/read` snapshot, tf.identity(v)) is
        # read where it is consumed, as TF1's ref forwarding does
        while t not in fed and t._op._type in _ALIASES and t._op._inputs and \
                t._op._inputs[0]._is_ref:
            t = t._op._inputs[0]
        s = slots[t]
        if t._is_ref and t not in fed:
            d = derefs.get(t)
            if d is None:
                d = derefs[t] = next_slot
                next_slot += 1
                steps.append((_read_ref, t._op, (s,), d, ()))
            return d
        return s

    for op in order:
        opdef = op._def
        ins = []
        for i, t in enumerate(op._inputs):
            ins.append(slots[t] if i in opdef.ref_inputs else value_slot(t))
        outs = []
        for t in op._outputs:
            if t in fed:
                outs.append(_DISCARD)
            else:
                slots[t] = next_slot
                outs.append(next_slot)
                next_slot += 1
        if op._type == "Const" and outs[0] != _DISCARD:
            template_consts[outs[0]] = op.attrs["value"]
            continue
        if op._type in _ALIASES and outs[0] != _DISCARD:
            # an identity is its input's slot (its control inputs are
            # already ordered before this point): no step at run time
            slots[op._outputs[0]] = ins[0]
            continue
        if _foldable(op, opdef, ins, outs, template_consts):
            continue
        if len(outs) == 1:
            steps.append((opdef.kernel, op, tuple(ins), outs[0], ()))
        elif not outs:
            steps.append((opdef.kernel, op, tuple(ins), _DISCARD, ()))
        else:
            steps.append((opdef.kernel, op, tuple(ins), -1, tuple(outs)))
        if opdef.stateful and opdef.ref_inputs:
            # it may have written a variable: later reads (e.g. under
            # control_dependencies([this op])) must read it again
            derefs.clear()

    fetch_slots = []
    for el in flat:
        if isinstance(el, Operation):
            fetch_slots.append(_NONE)
        else:
            fetch_slots.append(value_slot(el))

    plan = _Plan()
    template = [None] * next_slot
    for s, v in template_consts.items():
        template[s] = v
    plan.template = template
    plan.feeds = [[_feed_writer(t, fed[t]) for t in ts] for ts in feed_targets]
    plan.steps = steps
    plan.body = (template, [_step_fn(*step) for step in steps])
    plan.hoist = [step for step in steps
                  if step[0] is not _read_ref and _session_constant(step[1], step[1]._def)]
    plan.fetch_slots = fetch_slots
    plan.rebuild = rebuild
    plan.single = None if isinstance(fetches, (list, tuple, dict)) or _is_sparse(fetches) \
        or type(fetches).__name__ == "IndexedSlices" else fetch_slots[0]
    # a plain list of graph elements (sess.run([train_op, loss])): rebuilt
    # without the generic structure walk
    plan.flat = type(fetches) is list and len(fetch_slots) == len(fetches) and all(
        type(f) in (Tensor, Operation, str) for f in fetches)
    return plan


def _host_value(v):
    """A fetched value as TF returns it: numpy scalars for 0-d results, and a
    private copy of anything read-only (constants, variable storage)."""
    if type(v) is np.ndarray:
        if v.ndim == 0:
            return v[()]
        if not v.flags.writeable:
            return v.copy()
    return v


def _results(plan, vals):
    """The fetched values of a finished run, in the caller's structure."""
    single = plan.single
    if single is not None:
        return _host_value(vals[single])
    if plan.flat:
        return [_host_value(vals[s]) for s in plan.fetch_slots]
    return plan.rebuild([_host_value(vals[s]) for s in plan.fetch_slots])


# -- the default session -------------------------------------------------------------

_default_session_stack = _DefaultStack()


def get_default_session():
    """The innermost session made default in this thread, or None."""
    stack = _default_session_stack.stack
    return stack[-1] if stack else None


def _session_for(session, graph):
    if session is None:
        session = get_default_session()
        if session is None:
            raise ValueError("Cannot evaluate tensor using `eval()`: No default session is "
                             "registered. Use `with sess.as_default()` or pass an explicit "
                             "session to `eval(session=sess)`")
    if session.graph is not graph:
        raise ValueError("Cannot use the given session to evaluate tensor: the tensor's "
                         "graph is different from the session's graph.")
    return session


class Session:
    """Runs operations of one graph.  Thread-safe: any number of threads may
    call `run` at once; each blocked run blocks only its own thread."""

    def __init__(self, target="", graph=None, config=None):
        if graph is None:
            graph = get_default_graph()
        if not isinstance(graph, Graph):
            raise TypeError("graph must be a tf.Graph, but got %s" % type(graph))
        self._graph = graph
        self._target = target
        self._config = config
        self._closed = False
        self._plans = {}
        self._plan_lock = threading.Lock()
        self._resources = {}
        self._resource_lock = threading.Lock()
        self._ctx = RunContext(self, None)
        timeout = getattr(config, "operation_timeout_in_ms", 0) if config is not None else 0
        self._default_timeout_ms = timeout if timeout and timeout > 0 else 0
        self._context_managers = []

    graph = property(lambda self: self._graph)
    sess_str = property(lambda self: self._target)

    @property
    def graph_def(self):
        return self._graph.as_graph_def()

    def list_devices(self):
        from collections import namedtuple
        Dev = namedtuple("_DeviceAttributes", "name device_type memory_limit_bytes incarnation")
        return [Dev("/job:localhost/replica:0/task:0/device:CPU:0", "CPU", 268435456, 0)]

    # -- running -----------------------------------------------------------------
    def _plan(self, fetches, feed_dict):
        feed_keys = tuple(feed_dict) if feed_dict else ()
        try:
            key = (_fetch_key(fetches), feed_keys)
            plan = self._plans.get(key)
        except TypeError:   # an unhashable fetch (a set, say): compile, don't cache
            return _compile(self._graph, fetches, feed_keys)
        if plan is None:
            with self._plan_lock:
                plan = self._plans.get(key)
                if plan is None:
                    plan = _compile(self._graph, fetches, feed_keys)
                    self._plans[key] = plan
        return plan

    def run(self, fetches, feed_dict=None, options=None, run_metadata=None):
        """Run the ops `fetches` needs and return their values in the same
        structure (lists, tuples, namedtuples, dicts; ops give None).

        `feed_dict` maps tensors (or their names) to values, checked against
        the tensor's dtype and static shape (ValueError).  Raises the
        `OpError` of a failing kernel, `CancelledError` if the session closes
        while the run is blocked, `DeadlineExceededError` after
        `options.timeout_in_ms`, RuntimeError if the session is closed."""
        if self._closed:
            raise RuntimeError("Attempted to use a closed Session.")
        plan = self._plan(fetches, feed_dict)
        if options is not None and options.timeout_in_ms > 0:
            timeout = options.timeout_in_ms
        else:
            timeout = self._default_timeout_ms
        ctx = self._ctx if not timeout else RunContext(self, time.monotonic() + timeout / 1000.0)
        vals = self._execute(plan, ctx, feed_dict.values() if feed_dict else None)
        return _results(plan, vals)

    def _execute(self, plan, ctx, feed_values):
        template, steps = plan.body
        vals = template[:]
        if feed_values:
            for writers, value in zip(plan.feeds, feed_values):
                if len(writers) == 1:
                    writers[0](vals, value)
                else:   # a SparseTensor key: (indices, values, dense_shape)
                    for w, v in zip(writers, _sparse_parts(value)):
                        w(vals, v)
        step = None
        try:
            for step in steps:
                step(vals, ctx)
        except errors.OpError as e:
            if e._op is None and step is not None:
                e._op = step.op
            raise
        except Exception as e:
            if step is None:
                raise
            raise errors.wrap_kernel_error(e, step.op) from e
        if plan.hoist:
            plan.settle(vals)
        return vals

    def make_callable(self, fetches, feed_list=None, accept_options=False):
        """A function running `fetches` with positional values for `feed_list`;
        it skips the per-call plan lookup of `run`."""
        feed_list = list(feed_list or [])
        nfeeds = len(feed_list)
        plan = self._plan(fetches, dict.fromkeys(feed_list))
        execute = self._execute

        def call(*args, **kwargs):
            if self._closed:
                raise RuntimeError("Attempted to use a closed Session.")
            if len(args) != nfeeds:
                raise TypeError("Expected %d feed values, got %d" % (nfeeds, len(args)))
            options = kwargs.get("options") if kwargs else None
            if options is not None and options.timeout_in_ms > 0:
                timeout = options.timeout_in_ms
            else:
                timeout = self._default_timeout_ms
            ctx = self._ctx if not timeout else RunContext(self, time.monotonic() + timeout / 1e3)
            return _results(plan, execute(plan, ctx, args))
        return call

    # -- lifetime ----------------------------------------------------------------
    def close(self):
        """Close the session: every run blocked in it raises CancelledError,
        later runs raise RuntimeError, and its resources are released."""
        if self._closed:
            return
        self._closed = True
        with self._resource_lock:
            resources = list(self._resources.values())
        for r in resources:
            wake = getattr(r, "wake_all", None)
            if wake is not None:
                wake()
            on_close = getattr(r, "on_session_close", None)
            if on_close is not None:
                on_close()

    def as_default(self):
        """Context manager making this the default session of this thread."""
        return _default_session_stack.get_controller(self)

    def __enter__(self):
        g = self._graph.as_default()
        s = self.as_default()
        g.__enter__()
        s.__enter__()
        self._context_managers.append((g, s))
        return self

    def __exit__(self, exc_type, exc, tb):
        g, s = self._context_managers.pop()
        s.__exit__(exc_type, exc, tb)
        g.__exit__(exc_type, exc, tb)
        self.close()
        return False

    def reset(self, *a, **k):
        pass


def _sparse_parts(value):
    if hasattr(value, "indices") and hasattr(value, "dense_shape"):
        return value.indices, value.values, value.dense_shape
    if isinstance(value, (tuple, list)) and len(value) == 3:
        return value
    raise TypeError("A SparseTensor feed must be a SparseTensorValue or a 3-tuple, got %r"
                    % (value,))


class InteractiveSession(Session):
    """A session that makes itself the default on creation (for shells)."""

    def __init__(self, target="", graph=None, config=None):
        super().__init__(target, graph, config)
        _default_session_stack.stack.append(self)
        self._graph_cm = self._graph.as_default()
        self._graph_cm.__enter__()

    def close(self):
        was_open = not self._closed
        super().close()
        if was_open:
            stack = _default_session_stack.stack
            if self in stack:
                stack.remove(self)
            try:
                self._graph_cm.__exit__(None, None, None)
            except Exception:
                pass
