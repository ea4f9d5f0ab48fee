"""Reverse-mode automatic differentiation over the graph (`tf.gradients`).

`gradients(ys, xs)` adds the ops computing d(sum ys)/d(xs) to the graph, under
the name scope `gradients/` (each op's backward ops under
`gradients/<op name>_grad/`), exactly as TF1 lays them out:

- only ops lying on a path from some x to some y are differentiated; paths
  through integer, bool or string tensors do not count;
- ops are visited in reverse topological order (an op once every consumer on
  a path has sent its gradient); the gradients arriving at one tensor over
  several paths are summed with `AddN` (`IndexedSlices` from `gather` are
  concatenated when all of them are sparse, densified otherwise);
- each op's gradient is its registered function (`registry.gradient_function`,
  or the one named by `Graph.gradient_override_map` when the op was built);
  `NotDifferentiable` ops and `stop_gradients` stop the flow; an op with no
  gradient on a path raises `LookupError` naming it and its type;
- an `x` that the ys do not depend on gets `None`.

The result is built from ordinary graph ops, so gradients of gradients work.
"""
import collections

from flowcore import dtypes, registry
from flowcore.graph import Tensor, _get_graph_from_inputs, name_scope
from flowcore.ops import core

__all__ = ["gradients", "hessians", "AggregationMethod", "UnconnectedGradients"]


class AggregationMethod:
    """How gradients reaching one tensor over several paths are summed.

    Every method gives the same values; `ADD_N` (the default) builds one `AddN`
    per tensor, the experimental ones a chain of pairwise sums."""
    ADD_N = 0
    DEFAULT = ADD_N
    EXPERIMENTAL_TREE = 1
    EXPERIMENTAL_ACCUMULATE_N = 2


class UnconnectedGradients:
    """What an `x` the ys do not depend on receives: None or zeros."""
    NONE = "none"
    ZERO = "zero"


_BACKPROP_DTYPES = frozenset([dtypes.float16, dtypes.float32, dtypes.float64])


def _is_backpropagatable(t):
    """Gradients flow only through floating-point tensors (and references to
    floating-point variables)."""
    return t._dtype in _BACKPROP_DTYPES or t._dtype.is_complex


def is_indexed_slices(x):
    return type(x).__name__ == "IndexedSlices" and hasattr(x, "indices")


def _as_list(x):
    if isinstance(x, (list, tuple)):
        return list(x)
    return [x]


# -- small builders, taken from the op families when they exist -------------------------

def _add_n(tensors, name=None):
    """`add_n` of the math family (an `AddN` op); a chain of `Add` until it lands."""
    from flowcore.ops import math
    fn = getattr(math, "add_n", None)
    if fn is not None:
        return fn(tensors, name=name) if name else fn(tensors)
    out = tensors[0]
    for t in tensors[1:]:
        out = math.add(out, t)
    return out


def _zeros_like(t):
    """A `ZerosLike` op (built, like TF's, even when the shape is known: it
    only runs if a gradient function actually uses it)."""
    from flowcore.ops import array
    fn = getattr(array, "zeros_like", None)
    if fn is not None:
        return fn(t, optimize=False)
    return array.fill(array.shape(t), core.constant(0, dtype=t.dtype), name="zeros_like")


def _ones_for(y, name):
    """The default `grad_ys` entry for `y`: ones of its shape (its static
    shape when fully known, as TF folds it, so the fill is a constant)."""
    from flowcore.ops import array
    shape = y.shape.as_list() if y.shape.is_fully_defined() else array.shape(y)
    return array.ones(shape, dtype=y.dtype, name=name)


def _dense(g):
    """`g` as a dense Tensor (IndexedSlices are scattered into zeros)."""
    if isinstance(g, Tensor):
        return g
    return core.convert_to_tensor(g)


def _aggregate_indexed_slices(grads):
    """Sum of gradients some of which are IndexedSlices: concatenated slices
    when all are sparse (as TF does), a dense AddN otherwise."""
    grads = [g for g in grads if g is not None]
    if len(grads) == 1:
        return grads[0]
    if any(isinstance(g, Tensor) for g in grads):
        return _add_n([_dense(g) for g in grads])
    from flowcore.ops import array, math
    from flowcore.indexed_slices import IndexedSlices
    idx_types = {g.indices.dtype for g in grads}
    if len(idx_types) > 1:
        grads = [IndexedSlices(g.values, math.cast(g.indices, dtypes.int64), g.dense_shape)
                 for g in grads]
    return IndexedSlices(array.concat([g.values for g in grads], 0),
                         array.concat([g.indices for g in grads], 0),
                         grads[0].dense_shape)


def _aggregate(out_grads, op, method):
    """Replace each output's list of received gradients by their sum (None
    when nothing arrived)."""
    for i, gs in enumerate(out_grads):
        if not gs:
            out_grads[i] = None
        elif len(gs) == 1:
            out_grads[i] = gs[0]
        elif all(isinstance(g, Tensor) for g in gs):
            if method in (AggregationMethod.EXPERIMENTAL_TREE,
                          AggregationMethod.EXPERIMENTAL_ACCUMULATE_N):
                with name_scope(op.name + "_gradient_sum"):
                    total = gs[0]
                    for g in gs[1:]:
                        total = _add_n([total, g])
                    out_grads[i] = total
            else:
                out_grads[i] = _add_n(gs)
        else:
            if not all(isinstance(g, Tensor) or is_indexed_slices(g) for g in gs):
                raise TypeError("gradients have to be either all Tensors or all "
                                "IndexedSlices")
            out_grads[i] = _aggregate_indexed_slices(gs)
    return out_grads


def _gate(in_grads):
    """`tuple` over the non-None gradients of one op (GATE_OP): none of them is
    available before all of them are computed."""
    flat = []
    for g in in_grads:
        if g is None:
            continue
        if is_indexed_slices(g):
            flat.extend([g.values, g.indices])
        else:
            flat.append(g)
    gated = iter(core.tuple(flat))
    out = []
    for g in in_grads:
        if g is None:
            out.append(None)
        elif is_indexed_slices(g):
            out.append(type(g)(next(gated), next(gated), g.dense_shape))
        else:
            out.append(next(gated))
    return out


# -- the traversal ---------------------------------------------------------------------

def _gradient_fn(op):
    """The gradient function of `op` (None when it is not differentiable).
    `Graph.gradient_override_map` records its choice on the op when built."""
    op_type = op.attrs.get("_gradient_op_type", op.type)
    try:
        return registry.gradient_function(op_type)
    except LookupError:
        raise LookupError("No gradient defined for operation '%s' (op type: %s)"
                          % (op.name, op.type)) from None


def _pending_counts(to_ops, from_ops):
    """The ops between `from_ops` and `to_ops` and, for each, how many of its
    outputs' consumers lie between too (what the reverse sweep waits for)."""
    reached = set()
    queue = collections.deque(from_ops)
    while queue:
        op = queue.popleft()
        if op in reached:
            continue
        reached.add(op)
        for t in op._outputs:
            if _is_backpropagatable(t):
                queue.extend(t._consumers)
    reachable_to_ops = {op for op in to_ops if op in reached}

    between, between_list = set(), []
    queue = collections.deque(to_ops)
    while queue:
        op = queue.popleft()
        if op in reached:
            between.add(op)
            between_list.append(op)
            reached.discard(op)
            queue.extend(t._op for t in op._inputs)
    pending = collections.defaultdict(int)
    for op in between_list:
        for t in op._inputs:
            if t._op in between:
                pending[t._op] += 1
    return reachable_to_ops, pending


def _stop_ops(from_ops, stop_gradient_ops, pending):
    """Ops the sweep does not differentiate through: the xs' ops that no
    other x reaches, and the ops of `stop_gradients`."""
    stop = set()
    for op in from_ops:
        if all(pending[t._op] <= 0 for t in op._inputs):
            stop.add(op)
    stop.update(stop_gradient_ops)
    return stop


def _default_grad_ys(grad_ys, ys):
    out = []
    for i, (y, gy) in enumerate(zip(ys, grad_ys)):
        if gy is None:
            if y.dtype.is_complex:
                raise TypeError("Gradients of complex tensors must set grad_ys (y.dtype = %s)"
                                % y.dtype.name)
            out.append(_ones_for(y, "grad_ys_%d" % i))
            continue
        if is_indexed_slices(gy):
            out.append(gy)
            continue
        gy = core.convert_to_tensor(gy, dtype=None if isinstance(gy, Tensor) else y.dtype,
                                    name="grad_ys_%d" % i)
        if y.dtype.is_floating and not gy.dtype.is_floating:
            raise TypeError("Gradient type %s generated for real-valued tensor %s with "
                            "type %s must be real" % (gy.dtype.name, y, y.dtype.name))
        if y.dtype.is_integer and not gy.dtype.is_integer:
            raise TypeError("Gradient type %s generated for integer-valued tensor %s with "
                            "type %s must be integer" % (gy.dtype.name, y, y.dtype.name))
        out.append(gy)
    return out


def gradients(ys, xs, grad_ys=None, name="gradients", colocate_gradients_with_ops=False,
              gate_gradients=False, aggregation_method=None, stop_gradients=None,
              unconnected_gradients=UnconnectedGradients.NONE):
    """The symbolic gradients of `sum(ys)` w.r.t. each of `xs` (one entry
    per x: a Tensor, an IndexedSlices, or None when unconnected).

    `grad_ys` weights each y (default: ones); `stop_gradients` are tensors
    treated as constants; `gate_gradients=True` groups each op's input
    gradients with `tuple`.  Variables in `xs` are differentiated through
    their `read` snapshot (and any other read of the variable)."""
    ys = [core.convert_to_tensor(y) if not isinstance(y, Tensor) else y for y in _as_list(ys)]
    xs = [x if isinstance(x, Tensor) else core.convert_to_tensor(x, as_ref=True)
          for x in _as_list(xs)]
    stop_gradients = [core.convert_to_tensor(t) for t in _as_list(stop_gradients)] \
        if stop_gradients is not None else []
    if grad_ys is None:
        grad_ys = [None] * len(ys)
    else:
        grad_ys = _as_list(grad_ys)
        if len(grad_ys) != len(ys):
            raise ValueError("Passed %d grad_ys for %d ys" % (len(grad_ys), len(ys)))
    if unconnected_gradients not in (UnconnectedGradients.NONE, UnconnectedGradients.ZERO):
        raise ValueError("Unknown value for unconnected_gradients: %r" % (unconnected_gradients,))

    g = _get_graph_from_inputs(ys + xs + stop_gradients
                               + [gy for gy in grad_ys if isinstance(gy, Tensor)])
    with g.as_default(), name_scope(name, "gradients", ys + xs):
        grad_ys = _default_grad_ys(grad_ys, ys)
        to_ops = [t._op for t in ys]
        from_ops = [t._op for t in xs]
        reachable_to_ops, pending = _pending_counts(to_ops, from_ops)
        grads = {}
        for y, gy in zip(ys, grad_ys):
            _set_grad(grads, y, gy)
        queue = collections.deque()
        queued = set()
        for op in to_ops:
            if pending[op] == 0 and op not in queued and op in reachable_to_ops:
                queued.add(op)
                queue.append(op)
        stop_ops = _stop_ops(from_ops, [t._op for t in stop_gradients], pending)
        while queue:
            op = queue.popleft()
            _backprop_op(op, grads, stop_ops, aggregation_method, gate_gradients)
            for t in op._inputs:
                pending[t._op] -= 1
                if pending[t._op] == 0:
                    queue.append(t._op)
        return [_result(grads, x, unconnected_gradients) for x in xs]


def _set_grad(grads, t, grad):
    op_grads = grads.get(t._op)
    if op_grads is None:
        op_grads = grads[t._op] = [[] for _ in t._op._outputs]
    op_grads[t._value_index].append(grad)


def _backprop_op(op, grads, stop_ops, aggregation_method, gate_gradients):
    """Sum the gradients that reached `op`'s outputs and send its input
    gradients on to the tensors it consumed."""
    out_grads = grads.get(op)
    if out_grads is None:
        out_grads = grads[op] = [[] for _ in op._outputs]
    _aggregate(out_grads, op, aggregation_method)
    has_out_grads = any(gr is not None for gr in out_grads)
    grad_fn = _gradient_fn(op) if has_out_grads and op not in stop_ops else None
    if grad_fn is None:
        return
    for i, gr in enumerate(out_grads):
        if gr is None and _is_backpropagatable(op._outputs[i]):
            # the ys do not depend on this output: its gradient is zero
            out_grads[i] = _zeros_like(op._outputs[i])
    with name_scope(op.name + "_grad"):
        in_grads = grad_fn(op, *out_grads)
        in_grads = list(in_grads) if isinstance(in_grads, (list, tuple)) else [in_grads]
        if len(in_grads) != len(op._inputs):
            raise ValueError("Num gradients %d generated for op %s do not match num inputs %d"
                             % (len(in_grads), op.name, len(op._inputs)))
        if gate_gradients and sum(gr is not None for gr in in_grads) > 1:
            in_grads = _gate(in_grads)
    for i, (t_in, gr) in enumerate(zip(op._inputs, in_grads)):
        if gr is None:
            continue
        if isinstance(gr, Tensor):
            try:
                gr.set_shape(t_in.shape)
            except ValueError:
                raise ValueError(
                    "Incompatible shapes between op input and calculated input gradient.  "
                    "Forward operation: %s.  Input index: %d. Original input shape: %s.  "
                    "Calculated input gradient shape: %s" % (op.name, i, t_in.shape, gr.shape))
        _set_grad(grads, t_in, gr)


def _result(grads, x, unconnected_gradients):
    op_grads = grads.get(x._op)
    gr = op_grads[x._value_index] if op_grads else None
    if isinstance(gr, list):   # x's op was never swept: nothing reached it
        gr = None
    if gr is None and unconnected_gradients == UnconnectedGradients.ZERO:
        return _zeros_like(x)
    return gr


def hessians(ys, xs, name="hessians", colocate_gradients_with_ops=False, gate_gradients=False,
             aggregation_method=None):
    """For each x, the Hessian of `sum(ys)` w.r.t. x, shaped `x.shape + x.shape`
    (x needs a fully known static shape: one gradient per element of x)."""
    from flowcore.ops import array
    xs = _as_list(xs)
    kwargs = dict(colocate_gradients_with_ops=colocate_gradients_with_ops,
                  gate_gradients=gate_gradients, aggregation_method=aggregation_method)
    out = []
    with name_scope(name, "hessians", _as_list(ys) + xs):
        for gr, x in zip(gradients(ys, xs, **kwargs), xs):
            if gr is None:
                out.append(None)
                continue
            x_t = x if isinstance(x, Tensor) else core.convert_to_tensor(x)
            shape = x_t.shape
            if not shape.is_fully_defined():
                raise ValueError("hessians needs x with a fully defined shape, got %s" % shape)
            n = shape.num_elements()
            flat = array.reshape(_dense(gr), [n])
            rows = []
            for i in range(n):
                row = gradients(flat[i], x, **kwargs)[0]
                rows.append(array.zeros_like(x_t) if row is None else _dense(row))
            out.append(array.reshape(array.stack(rows), shape.as_list() + shape.as_list()))
    return out
