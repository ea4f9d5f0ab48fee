"""Input producers and batching (`tf.train.string_input_producer`, `batch`, ...).

A producer is a FIFOQueue of work items (filenames, indices, slices) kept
full by a QueueRunner; each epoch enqueues the whole list once, reshuffled
when `shuffle=True`.  `num_epochs` is counted by a local variable through
`limit_epochs`, whose CountUpTo raises OutOfRangeError after the last epoch;
the runner then closes the queue, so whatever reads it ends with
OutOfRangeError once it is drained.

Batching puts one example (or, with `enqueue_many`, a batch of examples) per
`sess.run` of an enqueue op into a FIFOQueue, PaddingFIFOQueue or
RandomShuffleQueue, and returns `dequeue_many(batch_size)` (or
`dequeue_up_to` when a smaller final batch is allowed).  SparseTensors travel
through the queue as one `variant` scalar per example and are re-assembled
into a batched SparseTensor after the dequeue.  `keep_input` (the `maybe_*`
forms) is a boolean mask applied before `enqueue_many`, so no conditional op
is needed.  Every queue gets a QueueRunner in QUEUE_RUNNERS and the fullness
summary TensorFlow adds.
"""
import numpy as np

from flowcore import dtypes, registry
from flowcore.graph import GraphKeys, Tensor, control_dependencies, name_scope
from flowcore.ops import array, core, math, random
from flowcore.ops.core import apply_op, apply_op1, convert_to_tensor
from flowcore.shapes import TensorShape, as_shape
from flowcore.sparse import SparseTensor
from flowcore.variables import Variable
from pipeline import io_ops, queue_runner
from pipeline.queues import FIFOQueue, PaddingFIFOQueue, RandomShuffleQueue

__all__ = ["limit_epochs", "input_producer", "string_input_producer", "range_input_producer",
           "slice_input_producer", "match_filenames_once", "batch", "batch_join",
           "shuffle_batch", "shuffle_batch_join", "maybe_batch", "maybe_batch_join",
           "maybe_shuffle_batch", "maybe_shuffle_batch_join"]


def _fullness_summary(tag, fraction):
    """The queue-fullness scalar summary TF adds (skipped if summaries are absent)."""
    try:
        from flowcore import summary
    except ImportError:     # pragma: no cover - summaries are part of flowcore
        return
    summary.scalar(tag, fraction)


def _fraction_full(queue, capacity):
    return math.multiply(math.cast(queue.size(), dtypes.float32), 1.0 / capacity)


# -- producers -------------------------------------------------------------------------

def limit_epochs(tensor, num_epochs=None, name=None):
    """`tensor`, but its evaluation raises OutOfRangeError after `num_epochs`
    runs.  The count is a local variable named `epochs`: run
    `local_variables_initializer()` first."""
    if num_epochs is None:
        return tensor
    if num_epochs <= 0:
        raise ValueError("num_epochs must be > 0 not %d." % num_epochs)
    with name_scope(name, "limit_epochs", [tensor]) as name:
        zero64 = core.constant(0, dtype=dtypes.int64)
        epochs = Variable(zero64, name="epochs", trainable=False,
                          collections=[GraphKeys.LOCAL_VARIABLES])
        counter = epochs.count_up_to(num_epochs)
        with control_dependencies([counter]):
            return core.identity(tensor, name=name)


def input_producer(input_tensor, element_shape=None, num_epochs=None, shuffle=True, seed=None,
                   capacity=32, shared_name=None, summary_name=None, name=None,
                   cancel_op=None):
    """A queue holding the rows of `input_tensor`, once per epoch, shuffled
    per epoch when `shuffle`; its QueueRunner is added to QUEUE_RUNNERS."""
    with name_scope(name, "input_producer", [input_tensor]):
        input_tensor = convert_to_tensor(input_tensor, name="input_tensor")
        element_shape = input_tensor.shape[1:].merge_with(
            as_shape(element_shape) if element_shape is not None else TensorShape(None))
        if not element_shape.is_fully_defined():
            raise ValueError("Either `input_tensor` must have a fully defined shape "
                             "or `element_shape` must be specified")
        if shuffle:
            input_tensor = random.random_shuffle(input_tensor, seed=seed)
        input_tensor = limit_epochs(input_tensor, num_epochs)
        q = FIFOQueue(capacity=capacity, dtypes=[input_tensor.dtype.base_dtype],
                      shapes=[element_shape], shared_name=shared_name, name=name)
        enq = q.enqueue_many([input_tensor])
        queue_runner.add_queue_runner(queue_runner.QueueRunner(q, [enq], cancel_op=cancel_op))
        if summary_name is not None:
            _fullness_summary(summary_name, _fraction_full(q, capacity))
        return q


def _require_nonempty(values, what):
    """Graph-build-time check that a producer's list is not empty."""
    if not isinstance(values, Tensor):
        if hasattr(values, "__len__") and len(values) == 0:
            raise ValueError("%s requires a non-null input tensor" % what)
        values = convert_to_tensor(values, dtype=dtypes.string if what.startswith("string")
                                   else None)
    v = core.constant_value(values)
    if (v is not None and np.size(v) == 0) or \
            (values.shape.is_fully_defined() and values.shape.num_elements() == 0):
        raise ValueError("%s requires a non-null input tensor" % what)
    return values


def string_input_producer(string_tensor, num_epochs=None, shuffle=True, seed=None,
                          capacity=32, shared_name=None, name=None, cancel_op=None):
    """A queue of the strings (usually filenames) in `string_tensor`, each
    epoch in a new random order when `shuffle`."""
    string_tensor = _require_nonempty(string_tensor, "string_input_producer")
    with name_scope(name, "input_producer", [string_tensor]) as name:
        string_tensor = convert_to_tensor(string_tensor, dtype=dtypes.string)
        return input_producer(string_tensor, element_shape=[], num_epochs=num_epochs,
                              shuffle=shuffle, seed=seed, capacity=capacity,
                              shared_name=shared_name, name=name,
                              summary_name="fraction_of_%d_full" % capacity,
                              cancel_op=cancel_op)


def range_input_producer(limit, num_epochs=None, shuffle=True, seed=None, capacity=32,
                         shared_name=None, name=None):
    """A queue of the integers 0 .. limit-1, once per epoch."""
    with name_scope(name, "input_producer", [limit]) as name:
        range_tensor = array.range(limit)
        return input_producer(range_tensor, [], num_epochs, shuffle, seed, capacity,
                              shared_name, "fraction_of_%d_full" % capacity, name)


def slice_input_producer(tensor_list, num_epochs=None, shuffle=True, seed=None, capacity=32,
                         shared_name=None, name=None):
    """One row (slice along dimension 0) of every tensor in `tensor_list` per
    dequeue, the same row index for all of them."""
    with name_scope(name, "input_producer", list(tensor_list)):
        tensor_list = [convert_to_tensor(t) for t in tensor_list]
        if not tensor_list:
            raise ValueError("Expected at least one tensor in slice_input_producer().")
        range_size = array.shape(tensor_list[0])[0]
        queue = range_input_producer(range_size, num_epochs=num_epochs, shuffle=shuffle,
                                     seed=seed, capacity=capacity, shared_name=shared_name)
        index = queue.dequeue()
        return [array.gather(t, index) for t in tensor_list]


def match_filenames_once(pattern, name=None):
    """A local variable holding the files matching `pattern`, computed once
    when `local_variables_initializer()` runs."""
    with name_scope(name, "matching_filenames", [pattern]) as name:
        return Variable(io_ops.matching_files(pattern), name=name, trainable=False,
                        validate_shape=False, collections=[GraphKeys.LOCAL_VARIABLES])


# -- sparse tensors through queues -----------------------------------------------------

def _pack_sparse_shape(op):
    return [(dtypes.variant, TensorShape([None]) if op.attrs["many"] else TensorShape([]))]


def _pack_sparse_kernel(ctx, op, indices, values, dense_shape):
    """One variant element (indices, values, shape) per example; with
    `many`, the rows of a batched SparseTensor become separate examples."""
    indices = np.asarray(indices, dtype=np.int64).reshape(-1, len(dense_shape))
    dense_shape = np.asarray(dense_shape, dtype=np.int64)
    if not op.attrs["many"]:
        out = np.empty((), dtype=object)
        out[()] = (indices, values, dense_shape)
        return out
    n = int(dense_shape[0]) if len(dense_shape) else 0
    rows = indices[:, 0]
    order = np.argsort(rows, kind="stable")
    bounds = np.searchsorted(rows[order], np.arange(n + 1))
    out = np.empty(n, dtype=object)
    inner = dense_shape[1:]
    for i in range(n):              # one Python object per example is the element itself
        sel = order[bounds[i]:bounds[i + 1]]
        out[i] = (indices[sel, 1:], values[sel], inner)
    return out


registry.register("PackSparseForQueue", shape=_pack_sparse_shape, kernel=_pack_sparse_kernel)
registry.NotDifferentiable("PackSparseForQueue")


def _unpack_sparse_shape(op):
    rank = op.attrs["rank"]
    return [(dtypes.int64, TensorShape([None, rank])),
            (op.attrs["dtype"], TensorShape([None])),
            (dtypes.int64, TensorShape([rank]))]


def _unpack_sparse_kernel(ctx, op, packed):
    """A batched SparseTensor from a vector of packed examples: indices get
    the example's position prepended; the dense shape is the largest."""
    rank = op.attrs["rank"]
    items = list(np.asarray(packed, dtype=object).reshape(-1))
    np_dtype = op.attrs["dtype"].as_numpy_dtype
    if not items:
        return (np.zeros((0, rank), np.int64), np.zeros((0,), np_dtype),
                np.zeros((rank,), np.int64))
    counts = [len(it[1]) for it in items]
    inner = np.concatenate([it[0] for it in items]).reshape(-1, rank - 1)
    batch_ix = np.repeat(np.arange(len(items), dtype=np.int64), counts)
    indices = np.concatenate([batch_ix[:, None], inner], axis=1)
    values = np.concatenate([np.asarray(it[1], dtype=np_dtype) for it in items])
    shape = np.max(np.stack([it[2] for it in items]), axis=0) if rank > 1 else np.zeros(0)
    dense_shape = np.concatenate([[len(items)], shape]).astype(np.int64)
    return indices, values, dense_shape


registry.register("UnpackSparseFromQueue", shape=_unpack_sparse_shape,
                  kernel=_unpack_sparse_kernel)
registry.NotDifferentiable("UnpackSparseFromQueue")


class _SparseInfo:
    """Where a SparseTensor was in the tensor list, with its dtype and rank."""

    def __init__(self, dtype, rank):
        self.dtype, self.rank = dtype, rank


def _store_sparse(tensor_list, enqueue_many):
    """Replace each SparseTensor by a variant tensor; return the new list
    and, per position, a _SparseInfo or None."""
    out, info = [], []
    for t in tensor_list:
        if isinstance(t, SparseTensor):
            rank = t.dense_shape.shape[0].value
            if rank is None:
                raise ValueError("The rank of SparseTensor %s must be known to batch it" % t)
            if enqueue_many and rank < 2:
                raise ValueError("SparseTensor %s must have rank >= 2 with enqueue_many=True"
                                 % t)
            packed = apply_op1("PackSparseForQueue", [t.indices, t.values, t.dense_shape],
                               {"many": bool(enqueue_many)}, "PackSparseForQueue")
            out.append(packed)
            info.append(_SparseInfo(t.dtype, rank - 1 if enqueue_many else rank))
        else:
            out.append(t)
            info.append(None)
    return out, info


def _restore_sparse(dequeued, info):
    received_sequence = isinstance(dequeued, (list, tuple))
    items = list(dequeued) if received_sequence else [dequeued]
    for i, si in enumerate(info):
        if si is not None:
            op = apply_op("UnpackSparseFromQueue", [items[i]],
                          {"rank": si.rank + 1, "dtype": si.dtype}, "UnpackSparseFromQueue")
            items[i] = SparseTensor(*op.outputs)
    return items if received_sequence else items[0]


# -- batching --------------------------------------------------------------------------

def _as_tensor_list(tensors):
    if isinstance(tensors, dict):
        return [tensors[k] for k in sorted(tensors)]
    if isinstance(tensors, (Tensor, SparseTensor)):
        raise TypeError("batch functions take a list or dict of tensors, got the single "
                        "tensor %s: wrap it in a list" % (tensors,))
    return list(tensors)


def _as_original_type(original, dequeued):
    if isinstance(original, dict):
        if len(original) == 1:
            dequeued = [dequeued]
        return {k: dequeued[i] for i, k in enumerate(sorted(original))}
    return dequeued


def _validate(tensor_list, what):
    if not tensor_list:
        raise ValueError("Expected at least one tensor in %s()." % what)
    return [t if isinstance(t, SparseTensor) else convert_to_tensor(t) for t in tensor_list]


def _validate_join(tensor_list_list, what):
    tensor_list_list = [_validate(tl, what) for tl in tensor_list_list]
    if not tensor_list_list:
        raise ValueError("Expected at least one input in %s()." % what)
    return tensor_list_list


def _validate_keep_input(keep_input, enqueue_many):
    keep_input = convert_to_tensor(keep_input, dtype=dtypes.bool)
    if keep_input.shape.ndims is None:
        raise ValueError("`keep_input` dimensions must be known at graph construction.")
    if not enqueue_many and keep_input.shape.ndims == 1:
        raise ValueError("`keep_input` cannot be a vector when `enqueue_many=False`.")
    if keep_input.shape.ndims > 1:
        raise ValueError("`keep_input` must be 0 or 1 dimensions.")
    return keep_input


def _dtypes(tensor_list_list):
    types = [t.dtype for t in tensor_list_list[0]]
    for other in tensor_list_list[1:]:
        if [t.dtype for t in other] != types:
            raise TypeError("Expected types to be consistent: %s vs. %s."
                            % (", ".join(t.name for t in types),
                               ", ".join(t.dtype.name for t in other)))
    return types


def _shapes(tensor_list_list, shapes, enqueue_many):
    if shapes is not None:
        return [as_shape(s) for s in shapes]
    out = []
    for i in range(len(tensor_list_list[0])):
        merged = None
        for tl in tensor_list_list:
            s = tl[i].shape
            if s.ndims is None:
                raise ValueError("Cannot infer Tensor's rank: %s" % tl[i])
            if enqueue_many:
                s = s.with_rank_at_least(1)[1:]
            merged = s if merged is None else merged.merge_with(s)
        out.append(merged)
    return out


def _keep_mask(tensor_list, keep_input, enqueue_many):
    """The tensors to enqueue_many after dropping the examples `keep_input`
    rejects (a single example becomes a batch of one)."""
    if not enqueue_many:
        tensor_list = [array.expand_dims(t, 0) for t in tensor_list]
        keep_input = array.expand_dims(keep_input, 0)
    elif keep_input.shape.ndims == 0:
        keep_input = array.fill(array.shape(tensor_list[0])[:1], keep_input)
    return [array.boolean_mask(t, keep_input) for t in tensor_list]


def _enqueue_ops(queue, tensor_list_list, enqueue_many, keep_input):
    """One enqueue op per tensor list; `keep_input` other than a constant
    True filters examples with a mask first."""
    always = core.constant_value(keep_input)
    ops = []
    for tl in tensor_list_list:
        if always is not None and np.all(always):
            ops.append(queue.enqueue_many(tl) if enqueue_many else queue.enqueue(tl))
        else:
            ops.append(queue.enqueue_many(_keep_mask(tl, keep_input, enqueue_many)))
    return ops


def _build(kind, tensors_list, batch_size, capacity, enqueue_many, shapes, keep_input,
           allow_smaller_final_batch, shared_name, name, threads=None, dynamic_pad=False,
           min_after_dequeue=None, seed=None, processes=None):
    """The common body of every batching function: one queue, its enqueue
    ops (`threads` copies of one list, or one per list for the joins), its
    QueueRunner and fullness summary, and the dequeue."""
    join = threads is None
    original = tensors_list[0]
    tensor_list_list = [_as_tensor_list(t) for t in tensors_list]
    flat = [t for tl in tensor_list_list for t in tl]
    with name_scope(name, kind, flat + [keep_input]) as scope:
        tensor_list_list = _validate_join(tensor_list_list, kind)
        keep_input = _validate_keep_input(keep_input, enqueue_many)
        stored = [_store_sparse(tl, enqueue_many) for tl in tensor_list_list]
        tensor_list_list = [s[0] for s in stored]
        sparse_info = stored[0][1]
        types = _dtypes(tensor_list_list)
        shapes = _shapes(tensor_list_list, shapes, enqueue_many)
        if min_after_dequeue is not None:
            if capacity <= min_after_dequeue:
                raise ValueError("capacity %d must be bigger than min_after_dequeue %d."
                                 % (capacity, min_after_dequeue))
            queue = RandomShuffleQueue(capacity=capacity, min_after_dequeue=min_after_dequeue,
                                       seed=seed, dtypes=types, shapes=shapes,
                                       shared_name=shared_name)
        else:
            queue_class = PaddingFIFOQueue if dynamic_pad else FIFOQueue
            queue = queue_class(capacity=capacity, dtypes=types, shapes=shapes,
                                shared_name=shared_name)
        if processes:
            queue_runner.add_queue_runner(_process_runner(
                queue, tensor_list_list, sparse_info, keep_input, enqueue_many, processes))
        else:
            if not join:
                tensor_list_list = tensor_list_list * threads
            enqueue_ops = _enqueue_ops(queue, tensor_list_list, enqueue_many, keep_input)
            queue_runner.add_queue_runner(queue_runner.QueueRunner(queue, enqueue_ops))
        if min_after_dequeue is not None:
            over = math.maximum(0, math.subtract(queue.size(), min_after_dequeue))
            full = math.multiply(math.cast(over, dtypes.float32),
                                 1.0 / (capacity - min_after_dequeue))
            _fullness_summary("fraction_over_%d_of_%d_full"
                              % (min_after_dequeue, capacity - min_after_dequeue), full)
        else:
            _fullness_summary("fraction_of_%d_full" % capacity, _fraction_full(queue, capacity))
        if allow_smaller_final_batch:
            dequeued = queue.dequeue_up_to(batch_size, name=scope)
        else:
            dequeued = queue.dequeue_many(batch_size, name=scope)
        dequeued = _restore_sparse(dequeued, sparse_info)
        return _as_original_type(original, dequeued)


def _process_runner(queue, tensor_list_list, sparse_info, keep_input, enqueue_many,
                    processes):
    """The `processes=` option: a ProcessQueueRunner in place of threads."""
    from pipeline.processes import ProcessQueueRunner
    always = core.constant_value(keep_input)
    if len(tensor_list_list) != 1 or any(sparse_info) or always is None or \
            not np.all(always):
        raise ValueError("processes= supports one list of dense tensors without keep_input")
    return ProcessQueueRunner(queue, tensor_list_list[0], processes, enqueue_many)


def batch(tensors, batch_size, num_threads=1, capacity=32, enqueue_many=False, shapes=None,
          dynamic_pad=False, allow_smaller_final_batch=False, shared_name=None, name=None,
          processes=None):
    """Batches of `batch_size` examples of `tensors` (a list or dict), filled
    by `num_threads` threads through a FIFOQueue (a PaddingFIFOQueue with
    `dynamic_pad`).  With `allow_smaller_final_batch` the last batch may be
    short and the batch dimension is statically unknown.

    flowcore's extension: `processes=N` computes `tensors` (readers and
    decoders of one filename queue) in N worker processes instead of
    `num_threads` threads; see `pipeline.processes`."""
    return maybe_batch(tensors, True, batch_size, num_threads, capacity, enqueue_many, shapes,
                       dynamic_pad, allow_smaller_final_batch, shared_name, name, processes)


def maybe_batch(tensors, keep_input, batch_size, num_threads=1, capacity=32,
                enqueue_many=False, shapes=None, dynamic_pad=False,
                allow_smaller_final_batch=False, shared_name=None, name=None, processes=None):
    """`batch`, enqueuing only the examples for which `keep_input` is true."""
    return _build("batch", [tensors], batch_size, capacity, enqueue_many, shapes, keep_input,
                  allow_smaller_final_batch, shared_name, name, threads=num_threads,
                  dynamic_pad=dynamic_pad, processes=processes)


def batch_join(tensors_list, batch_size, capacity=32, enqueue_many=False, shapes=None,
               dynamic_pad=False, allow_smaller_final_batch=False, shared_name=None,
               name=None):
    """`batch` over several lists of tensors (one per reader), each enqueued
    by its own thread into one queue."""
    return maybe_batch_join(tensors_list, True, batch_size, capacity, enqueue_many, shapes,
                            dynamic_pad, allow_smaller_final_batch, shared_name, name)


def maybe_batch_join(tensors_list, keep_input, batch_size, capacity=32, enqueue_many=False,
                     shapes=None, dynamic_pad=False, allow_smaller_final_batch=False,
                     shared_name=None, name=None):
    return _build("batch_join", list(tensors_list), batch_size, capacity, enqueue_many, shapes,
                  keep_input, allow_smaller_final_batch, shared_name, name,
                  dynamic_pad=dynamic_pad)


def shuffle_batch(tensors, batch_size, capacity, min_after_dequeue, num_threads=1, seed=None,
                  enqueue_many=False, shapes=None, allow_smaller_final_batch=False,
                  shared_name=None, name=None, processes=None):
    """Batches drawn at random from a RandomShuffleQueue that holds at least
    `min_after_dequeue` examples until its input ends.  `processes=N`: as in
    `batch`."""
    return maybe_shuffle_batch(tensors, batch_size, capacity, min_after_dequeue, True,
                               num_threads, seed, enqueue_many, shapes,
                               allow_smaller_final_batch, shared_name, name, processes)


def maybe_shuffle_batch(tensors, batch_size, capacity, min_after_dequeue, keep_input,
                        num_threads=1, seed=None, enqueue_many=False, shapes=None,
                        allow_smaller_final_batch=False, shared_name=None, name=None,
                        processes=None):
    return _build("shuffle_batch", [tensors], batch_size, capacity, enqueue_many, shapes,
                  keep_input, allow_smaller_final_batch, shared_name, name,
                  threads=num_threads, min_after_dequeue=min_after_dequeue, seed=seed,
                  processes=processes)


def shuffle_batch_join(tensors_list, batch_size, capacity, min_after_dequeue, seed=None,
                       enqueue_many=False, shapes=None, allow_smaller_final_batch=False,
                       shared_name=None, name=None):
    """`shuffle_batch` over one tensor list per reader thread, mixing
    examples across files."""
    return maybe_shuffle_batch_join(tensors_list, batch_size, capacity, min_after_dequeue,
                                    True, seed, enqueue_many, shapes,
                                    allow_smaller_final_batch, shared_name, name)


def maybe_shuffle_batch_join(tensors_list, batch_size, capacity, min_after_dequeue,
                             keep_input, seed=None, enqueue_many=False, shapes=None,
                             allow_smaller_final_batch=False, shared_name=None, name=None):
    return _build("shuffle_batch_join", list(tensors_list), batch_size, capacity,
                  enqueue_many, shapes, keep_input, allow_smaller_final_batch, shared_name,
                  name, min_after_dequeue=min_after_dequeue, seed=seed)

