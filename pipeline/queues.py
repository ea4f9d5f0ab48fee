"""Queues: stateful graph ops whose state lives in the session.

A queue op (`FIFOQueueV2`, `RandomShuffleQueueV2`, `PaddingFIFOQueueV2`,
`PriorityQueueV2`) outputs a scalar `resource` handle; its value in a run is the session's
`_Queue` resource for that op (or for its `shared_name`).  The queue ops
(`QueueEnqueueV2`, `QueueDequeueManyV2`, ...) take the handle as input 0.

Semantics are TF1's, including the parts that are easy to miss:

- Blocked operations are served in arrival order.  Pending enqueues form one
  line and pending dequeues another; only the head of a line makes progress.
  The head of the enqueue line inserts as many elements as fit (so an
  `enqueue_many` larger than the capacity works, and no other batch is
  interleaved with it); the head of the dequeue line takes elements as they
  arrive into a private buffer (so `dequeue_many(n)` with n > capacity works,
  and is atomic: nobody sees its elements).
- A plain `close()` joins the enqueue line: it waits for the enqueues ahead of
  it, then closes; a second plain close raises CancelledError.
  `close(cancel_pending_enqueues=True)` closes at once and cancels the line.
- After close, dequeues drain what is left, then raise OutOfRangeError;
  `dequeue_many(n)` returns what it had taken to the queue before raising,
  `dequeue_up_to(n)` returns the remainder.  A run that times out or whose
  session closes also returns its partial elements, so nothing is lost.

Elements are stored as numpy arrays: a FIFO queue keeps a deque of blocks
(rows of an enqueued batch, or of a chunk that single elements of known
shapes are copied into), so `enqueue_many` and `dequeue_many` move whole
batches by slicing and concatenation.  A
`RandomShuffleQueue` with known shapes keeps one growable array per
component and removes random positions in one vectorised step.  (Elements
of varying shapes, and a PriorityQueue's heap, are kept one by one.)

A pending enqueue is moved into the queue by whichever thread makes room
(as TF runs pending attempts): its own thread is woken once, when it is
done.

Readers call `_Queue.dequeue(ctx, op)` directly to take a filename.

Beyond TF1, a dequeue blocked longer than `set_blocked_warning_seconds()`
(10 s by default, or the environment's FLOWCORE_QUEUE_WARNING_SECS; "off"
disables it) logs one warning describing the queue and the QueueRunner
threads feeding it in this session, and an OutOfRangeError raised after an
upstream QueueRunner failed has that failure as its `__cause__`.
"""
import collections
import hashlib
import heapq
import itertools
import logging
import os
import sys
import threading
import time
import weakref

import numpy as np

from flowcore import batching, dtypes as _dtypes, errors, random_seed, registry, turns
from flowcore.graph import name_scope as _name_scope
from flowcore.ops.core import apply_op, constant_value, convert_to_tensor
from flowcore.session import Resource
from flowcore.shapes import TensorShape, as_shape, unknown_shape

__all__ = ["QueueBase", "FIFOQueue", "RandomShuffleQueue", "PaddingFIFOQueue",
           "PriorityQueue"]

_log = logging.getLogger("flowcore.pipeline")

_UNBOUNDED = 1 << 62
_QUEUE_TYPES = {"FIFOQueueV2": "FIFOQueue", "RandomShuffleQueueV2": "RandomShuffleQueue",
                "PaddingFIFOQueueV2": "PaddingFIFOQueue", "PriorityQueueV2": "PriorityQueue"}

# -- the hang warning and what QueueRunners tell the queues ------------------------------

def _initial_warning_secs():
    """10 s, or FLOWCORE_QUEUE_WARNING_SECS ("off" or "none" disables the warning)."""
    v = os.environ.get("FLOWCORE_QUEUE_WARNING_SECS", "").strip().lower()
    if not v:
        return 10.0
    if v in ("off", "none"):
        return None
    try:
        return max(float(v), 0.0)
    except ValueError:
        return 10.0


_warning_secs = [_initial_warning_secs()]


def set_blocked_warning_seconds(seconds):
    """Log a warning when a dequeue has been blocked for `seconds` (None: never).
    Returns the previous value."""
    if seconds is not None and seconds < 0:
        raise ValueError("seconds must be >= 0 or None, got %r" % (seconds,))
    old = _warning_secs[0]
    _warning_secs[0] = None if seconds is None else float(seconds)
    return old


def get_blocked_warning_seconds():
    return _warning_secs[0]


class _RunnerInfo:
    """What the QueueRunners of one queue in one session report."""
    __slots__ = ("alive", "failure")

    def __init__(self):
        self.alive = 0
        self.failure = None


_runner_infos = weakref.WeakKeyDictionary()   # Session -> {queue key: _RunnerInfo}
_runner_lock = threading.Lock()


def _runner_info(session, key, create=True):
    with _runner_lock:
        d = _runner_infos.get(session)
        if d is None:
            if not create:
                return None
            d = _runner_infos[session] = {}
        info = d.get(key)
        if info is None and create:
            info = d[key] = _RunnerInfo()
        return info


def handle_key(queue_ref):
    """The resource key of the queue behind the handle tensor `queue_ref`
    (None when it is chosen at run time, as with `QueueBase.from_list`)."""
    op = queue_ref.op
    return _queue_key(op) if op.type in _QUEUE_TYPES else None


def runner_thread_started(session, key):
    """A QueueRunner thread feeding queue `key` started in `session`."""
    if key is not None:
        info = _runner_info(session, key)
        with _runner_lock:
            info.alive += 1


def runner_thread_finished(session, key):
    """A QueueRunner thread feeding queue `key` in `session` ended."""
    if key is not None:
        info = _runner_info(session, key)
        with _runner_lock:
            info.alive -= 1


def runner_failure(session, key, exc):
    """Record `exc` as the failure of an upstream runner of queue `key`."""
    if key is not None:
        info = _runner_info(session, key)
        with _runner_lock:
            if info.failure is None:
                info.failure = exc


def reset_runner_failure(session, key):
    if key is not None:
        info = _runner_info(session, key, create=False)
        if info is not None:
            info.failure = None


# -- shapes ---------------------------------------------------------------------------------

def _dims(shape):
    """A TensorShape as a tuple of ints/None, or None for an unknown rank."""
    if shape is None or shape.ndims is None:
        return None
    return tuple(d.value if hasattr(d, "value") else d for d in shape.dims)


def _fmt(dims):
    return "[%s]" % ",".join("?" if d is None else str(d) for d in dims)


def _common_shape(shapes):
    """The most specific shape compatible with all `shapes`."""
    first = shapes[0]
    if any(s.ndims is None or s.ndims != first.ndims for s in shapes):
        return unknown_shape()
    dims = []
    for i in range(first.ndims):
        vals = {_dims(s)[i] for s in shapes}
        dims.append(vals.pop() if len(vals) == 1 else None)
    return TensorShape(dims)


def _queue_signature(handle):
    """(component dtypes, shapes) the op producing `handle` declares; shapes
    is None when not given."""
    op = handle.op
    if op.type in _QUEUE_TYPES or op.type == "QueueRefSelect":
        return _op_components(op)
    return None, None


def _op_components(op):
    """(dtypes, shapes or None) of the elements of queue op `op`; a
    PriorityQueue's int64 priority is a first, scalar component its op's
    attributes leave out."""
    types = list(op.attrs.get("component_types") or [])
    shapes = op.attrs.get("shapes") or None
    if op.type == "PriorityQueueV2":
        types = [_dtypes.int64] + types
        shapes = [TensorShape([])] + list(shapes) if shapes is not None else None
    return types, shapes


# -- per-session state -------------------------------------------------------------------------

class _Waiter:
    """One blocked operation in a line (see the module docstring)."""
    __slots__ = ("cond", "kind", "vals", "n", "pos", "need", "got", "pieces", "small",
                 "result", "cancelled", "done")

    def __init__(self, lock, kind):
        self.cond = threading.Condition(lock)
        self.kind = kind
        self.cancelled = False
        self.done = False
        self.pieces = None
        self.got = 0


_ONE, _MANY, _CLOSE = 0, 1, 2


def _queue_key(op):
    shared = op.attrs.get("shared_name")
    return ("queue", shared) if shared else op


class _Queue(Resource):
    """A queue's state in one session: one lock, a line of pending enqueues
    and one of pending dequeues, each waiter with its own Condition."""

    kind = "FIFOQueue"
    min_after_dequeue = 0
    copy_on_put = False     # does _put1 copy an element's values (see check_one)?

    def __init__(self, op):
        super().__init__()
        a = op.attrs
        self.op_name = op.name
        self.name = a.get("shared_name") or op.name
        self.key = _queue_key(op)
        self.signature = _signature(op)
        cap = int(a["capacity"])
        self.capacity = cap if cap >= 0 else _UNBOUNDED
        types, shapes = _op_components(op)
        self.dtypes = [np.dtype(d.as_numpy_dtype) for d in types]
        self.ncomp = len(self.dtypes)
        self.shapes = None if shapes is None else [_dims(s) for s in shapes]
        self.fixed = self.shapes is not None and all(
            s is not None and None not in s for s in self.shapes)
        self.closed = False
        self.size = 0
        self.enq_line = collections.deque()
        self.deq_line = collections.deque()

    # -- Resource ------------------------------------------------------------------------
    def wake_all(self):
        with self.lock:
            for w in self.enq_line:
                w.cond.notify()
            for w in self.deq_line:
                w.cond.notify()

    # -- checking values (no lock) -------------------------------------------------------
    def _bad_shape(self, op, i, got, expected):
        return errors.InvalidArgumentError(
            None, op, "Shape mismatch in tuple component %d of %s '%s'. Expected %s, got %s"
            % (i, self.kind, self.name, _fmt(expected), _fmt(got)))

    def _check_count(self, op, vals):
        if len(vals) != self.ncomp:
            raise errors.InvalidArgumentError(
                None, op, "%s '%s' expects %d components, got %d"
                % (self.kind, self.name, self.ncomp, len(vals)))

    def check_one(self, op, vals):
        """One element's components as arrays of the queue's dtypes, shapes
        checked: private copies, unless the storage copies what it keeps
        (`copy_on_put`), when arrays of the right dtype and shape pass as
        they are."""
        if len(vals) != self.ncomp:
            self._check_count(op, vals)
        if self.copy_on_put:
            for v, dt, s in zip(vals, self.dtypes, self.shapes):
                if type(v) is not np.ndarray or v.dtype is not dt or v.shape != s:
                    break
            else:
                return vals
        out = []
        shapes = self.shapes
        copy = not self.copy_on_put
        for i, v in enumerate(vals):
            dt = self.dtypes[i]
            if copy:
                a = np.array(v, dtype=dt)
            elif type(v) is np.ndarray and v.dtype is dt:
                a = v
            else:
                a = np.asarray(v, dtype=dt)
            if shapes is not None:
                s = shapes[i]
                if s is not None and a.shape != s and not _matches(a.shape, s):
                    raise self._bad_shape(op, i, a.shape, s)
            out.append(a)
        return tuple(out)

    def check_many(self, op, vals):
        """(private copies of a batch's components, batch size)."""
        self._check_count(op, vals)
        out = []
        n = None
        shapes = self.shapes
        for i, v in enumerate(vals):
            a = np.array(v, dtype=self.dtypes[i])
            if a.ndim == 0:
                raise errors.InvalidArgumentError(
                    None, op, "EnqueueMany on %s '%s': component %d must have at least one "
                    "dimension (the batch), got a scalar" % (self.kind, self.name, i))
            if n is None:
                n = a.shape[0]
            s = shapes[i] if shapes is not None else None
            if a.shape[0] != n or s is not None and not _matches(a.shape[1:], s):
                raise self._bad_shape(op, i, a.shape,
                                      (n,) + (s if s is not None else a.shape[1:]))
            out.append(a)
        return tuple(out), n

    # -- storage (lock held; subclasses) ------------------------------------------------------
    # _put1(vals) adds one element; _put(vals, start, stop) elements [start, stop) of a
    # batch; _take1() -> tuple of arrays; _take(k) -> list of pieces (vals, n, single);
    # _put_back(pieces) returns taken pieces (in order) to the front; _assemble(pieces, k).

    # -- lines ------------------------------------------------------------------------
    def _leave(self, line, w):
        if line and line[0] is w:
            line.popleft()
            if line:
                line[0].cond.notify()
        else:
            try:
                line.remove(w)
            except ValueError:
                pass

    def _block(self, ctx, op, w, what, deadline, warn_at):
        """Wait once on w.cond; raise if the session closed or the deadline passed.
        Returns the updated warn_at (None once the warning was logged)."""
        sess = ctx.session
        turns.give_up()
        if sess._closed:
            raise self._session_closed(op, what)
        if w.cancelled:
            raise errors.CancelledError(None, op, "Enqueue operation was cancelled")
        if deadline is None and warn_at is None:
            w.cond.wait()
            if sess._closed and not w.done:
                raise self._session_closed(op, what)
            return None
        now = time.monotonic()
        if deadline is not None and now >= deadline:
            raise errors.DeadlineExceededError(
                None, op, "Timed out while op '%s' was waiting for %s of %s '%s' (size %d, "
                "capacity %s%s)" % (op.name, what, self.kind, self.name, self.size,
                                    self._cap_str(), ", closed" if self.closed else ""))
        if warn_at is not None and now >= warn_at:
            self._warn_blocked(ctx, op, what)
            warn_at = None
        ends = [t for t in (deadline, warn_at) if t is not None]
        if ends:
            w.cond.wait(min(ends) - now)
        else:
            w.cond.wait()
        if sess._closed and not w.done:
            raise self._session_closed(op, what)
        return warn_at

    def _session_closed(self, op, what):
        return errors.CancelledError(
            None, op, "Session closed while op '%s' was waiting for %s of %s '%s'"
            % (op.name, what, self.kind, self.name))

    def _cap_str(self):
        return "unbounded" if self.capacity == _UNBOUNDED else str(self.capacity)

    def _warn_blocked(self, ctx, op, what):
        info = _runner_info(ctx.session, self.key, create=False)
        alive = info.alive if info is not None else 0
        mad = " min_after_dequeue %d," % self.min_after_dequeue if self.min_after_dequeue else ""
        hint = ("" if alive else "; no QueueRunner thread feeds it in this session: "
                "did you call tf.train.start_queue_runners()?")
        _log.warning("Op '%s' has been blocked for %.0f s waiting for %s of %s '%s' "
                     "(size %d, capacity %s,%s %s, %d QueueRunner thread%s alive%s)",
                     op.name, _warning_secs[0] or 0, what, self.kind, self.name, self.size,
                     self._cap_str(), mad, "closed" if self.closed else "not closed",
                     alive, "" if alive == 1 else "s", hint)

    def _out_of_range(self, ctx, op, requested):
        e = errors.OutOfRangeError(
            None, op, "%s '%s' is closed and has insufficient elements (requested %d, "
            "current size %d)" % (self.kind, self.name, requested, self.size))
        info = _runner_info(ctx.session, self.key, create=False)
        if info is not None and info.failure is not None:
            e.__cause__ = info.failure
        return e

    # -- enqueue ----------------------------------------------------------------------------
    def enqueue(self, ctx, op, vals):
        """Add one element (checked by `check_one`); blocks while full."""
        raw = self.lock.raw
        raw.acquire(False) or self.lock.acquire()     # (the uncontended case inline)
        try:
            if not self.enq_line:
                if self.closed:
                    raise self._closed_error(op)
                if self.size < self.capacity:
                    self._put1(vals)
                    self.size += 1
                    if self.deq_line:
                        self._wake_dequeuer()
                    return
            w = _Waiter(self.lock, _ONE)
            w.vals = vals
            self._enqueue_wait(ctx, op, w)
        finally:
            raw.release()

    def enqueue_many(self, ctx, op, vals, n):
        """Add the n elements of a batch, as many at a time as fit, none of
        another enqueuer's in between."""
        if n == 0:
            return
        with self.lock:
            if not self.enq_line:
                if self.closed:
                    raise self._closed_error(op)
                if self.size + n <= self.capacity:
                    self._put(vals, 0, n)
                    self.size += n
                    if self.deq_line:
                        self._wake_dequeuer()
                    return
            w = _Waiter(self.lock, _MANY)
            w.vals, w.n, w.pos = vals, n, 0
            self._enqueue_wait(ctx, op, w)

    def close(self, ctx, op, cancel_pending_enqueues):
        with self.lock:
            if cancel_pending_enqueues:
                self.closed = True
                for w in self.enq_line:
                    w.cancelled = True
                    w.cond.notify()
                if self.deq_line:
                    self.deq_line[0].cond.notify()
                return
            if not self.enq_line:
                self._close_now(op)
                return
            self._enqueue_wait(ctx, op, _Waiter(self.lock, _CLOSE))

    def _wake_dequeuer(self):
        """Wake the head dequeuer (lock held) only once it can finish, or
        take as much as the queue can ever offer at once (a dequeue_many
        larger than the capacity): waking it for every element of a batch
        would cost two thread switches per element."""
        w = self.deq_line[0]
        most = self.capacity - self.min_after_dequeue
        if self._available() >= min(w.need, most if most > 0 else 1):
            w.cond.notify()

    def _closed_error(self, op):
        return errors.CancelledError(None, op, "%s '%s' is closed." % (self.kind, self.name))

    def _close_now(self, op):
        if self.closed:
            raise errors.CancelledError(None, op, "Queue '%s' is already closed." % self.name)
        self.closed = True
        if self.deq_line:
            self.deq_line[0].cond.notify()

    def _enqueue_step(self, op, w):
        """Progress of the head of the enqueue line; True when done."""
        if w.cancelled:
            raise errors.CancelledError(None, op, "Enqueue operation was cancelled")
        if w.kind == _CLOSE:
            self._close_now(op)
            return True
        if self.closed:
            raise self._closed_error(op)
        space = self.capacity - self.size
        if space <= 0:
            return False
        if w.kind == _ONE:
            self._put1(w.vals)
            self.size += 1
            done = True
        else:
            m = min(space, w.n - w.pos)
            self._put(w.vals, w.pos, w.pos + m)
            self.size += m
            w.pos += m
            done = w.pos == w.n
        if self.deq_line:
            self._wake_dequeuer()
        return done

    def _serve_enqueuers(self):
        """Room was made (lock held): move the elements of the pending
        enqueues into the queue here, in the dequeuing thread, as TF runs
        a queue's pending attempts in the thread that changed it.  A waiter
        is woken only once its enqueue is complete (`done`), or when it must
        act itself (closed, cancelled, a pending close): a producer blocked
        in a large `enqueue_many` on a small queue (an input producer's
        epoch) costs no thread switch per dequeued element."""
        line = self.enq_line
        while line:
            w = line[0]
            if w.kind == _CLOSE or w.cancelled or self.closed:
                w.cond.notify()
                return
            space = self.capacity - self.size
            if space <= 0:
                return
            if w.kind == _ONE:
                self._put1(w.vals)
                self.size += 1
            else:
                m = min(space, w.n - w.pos)
                self._put(w.vals, w.pos, w.pos + m)
                self.size += m
                w.pos += m
                if w.pos < w.n:
                    return
            w.done = True
            line.popleft()
            w.cond.notify()

    def _enqueue_wait(self, ctx, op, w):
        line = self.enq_line
        line.append(w)
        deadline = ctx.deadline
        try:
            while True:
                if w.done:
                    return
                if line[0] is w and self._enqueue_step(op, w):
                    return
                self._block(ctx, op, w, "room" if w.kind != _CLOSE else "pending enqueues",
                            deadline, None)
        finally:
            self._leave(line, w)

    # -- dequeue ----------------------------------------------------------------------------
    def _available(self):
        if self.closed:
            return self.size
        return self.size - self.min_after_dequeue

    def dequeue(self, ctx, op):
        """One element as a tuple of arrays; blocks until there is one.
        OutOfRangeError when the queue is closed and empty."""
        raw = self.lock.raw
        raw.acquire(False) or self.lock.acquire()
        try:
            if not self.deq_line:
                if (self.size if self.closed else self.size - self.min_after_dequeue) >= 1:
                    self.size -= 1
                    r = self._take1()
                    if self.enq_line:
                        self._serve_enqueuers()
                    return r
                if self.closed:
                    raise self._out_of_range(ctx, op, 1)
            w = _Waiter(self.lock, _ONE)
            w.need = 1
            w.small = False
            self._dequeue_wait(ctx, op, w)
            return w.result
        finally:
            raw.release()

    def dequeue_some(self, ctx, op, k):
        """(elements batched along a new first axis, m): waits like `dequeue`
        for one element, then takes up to `k` at once of those available
        without waiting (a batched runner step's source, flowcore.batching)."""
        if self.fixed:
            with self.lock:
                if not self.deq_line:
                    m = min(k, self._available())
                    if m >= 1:
                        self.size -= m
                        pieces = self._take_some(m)
                        if self.enq_line:
                            self._serve_enqueuers()
                        return self._assemble(pieces, m), m
        one = self.dequeue(ctx, op)
        return tuple(np.asarray(v, dtype=dt)[None] for v, dt in zip(one, self.dtypes)), 1

    def put_back_rows(self, rows):
        """Return rows that `dequeue_some` took (a batched step's elements
        after a failed one) to the front of the queue."""
        n = len(rows[0])
        with self.lock:
            self._put_back([(tuple(c[i, ...] for c in rows), 1, True) for i in range(n)])
            self.size += n
            if self.deq_line:
                self.deq_line[0].cond.notify()

    def dequeue_many(self, ctx, op, k, small):
        """k elements (fewer after close when `small`) batched along a new
        first axis; atomic."""
        if k < 0:
            raise errors.InvalidArgumentError(
                None, op, "%s requested %d < 0 elements" % (op.type[5:-2] + "Op", k))
        if not self.fixed and (self.shapes is None or self.kind != "PaddingFIFOQueue"):
            raise errors.InvalidArgumentError(
                None, op, "%s's DequeueMany and DequeueUpTo require the components to have "
                "specified shapes." % self.kind)
        if k == 0:
            return self._assemble([], 0)
        with self.lock:
            if not self.deq_line:
                avail = self._available()
                if avail >= k or (small and self.closed and avail > 0):
                    m = min(k, avail)
                    self.size -= m
                    pieces = self._take(m)
                    if self.enq_line:
                        self._serve_enqueuers()
                    return self._assemble(pieces, m)
                if self.closed:
                    raise self._out_of_range(ctx, op, k)
            w = _Waiter(self.lock, _MANY)
            w.need = k
            w.small = small
            w.pieces = []
            self._dequeue_wait(ctx, op, w)
            pieces, got = w.pieces, w.got
        return self._assemble(pieces, got)

    def _dequeue_step(self, ctx, op, w):
        """Progress of the head of the dequeue line; True when done."""
        avail = self._available()
        if w.kind == _ONE:
            if avail >= 1:
                self.size -= 1
                w.result = self._take1()
                if self.enq_line:
                    self._serve_enqueuers()
                return True
        else:
            m = min(w.need, avail)
            while m > 0:
                self.size -= m
                w.pieces.extend(self._take(m))
                w.got += m
                w.need -= m
                if not self.enq_line:
                    break
                self._serve_enqueuers()       # may have added elements: take them too
                m = min(w.need, self._available())
            if w.need == 0:
                return True
        if self.closed:
            if w.small and w.got:
                return True
            requested = w.need + w.got
            self._give_back(w)
            raise self._out_of_range(ctx, op, requested)
        return False

    def _give_back(self, w):
        if w.pieces:
            self._put_back(w.pieces)
            self.size += w.got
            w.pieces = []
            w.got = 0
            w.need = 0

    def _dequeue_wait(self, ctx, op, w):
        line = self.deq_line
        line.append(w)
        deadline = ctx.deadline
        warn_secs = _warning_secs[0]
        warn_at = None if warn_secs is None else time.monotonic() + warn_secs
        done = False
        try:
            while True:
                if line[0] is w and self._dequeue_step(ctx, op, w):
                    done = True
                    return
                warn_at = self._block(ctx, op, w, "elements", deadline, warn_at)
        finally:
            if not done:
                self._give_back(w)   # a timed-out or cancelled dequeue loses nothing
            self._leave(line, w)


def _refcounts(spares, k):
    """CPython reference counts of the chunk `spares[k]` and (the largest) of
    its arrays, as seen from here; `_UNSHARED` when nothing else refers to
    them."""
    vals = spares[k]
    return sys.getrefcount(vals), max(sys.getrefcount(c) for c in vals)


_CAN_COUNT_REFS = hasattr(sys, "getrefcount")
_UNSHARED = _refcounts([(np.empty(1),)], 0) if _CAN_COUNT_REFS else None


def _matches(shape, dims):
    """Does concrete `shape` fit `dims` (ints or None)?"""
    if len(shape) != len(dims):
        return False
    for x, d in zip(shape, dims):
        if d is not None and d != x:
            return False
    return True


def _signature(op):
    a = op.attrs
    return (op.type, tuple(d.name for d in a["component_types"]),
            tuple(str(s) for s in (a.get("shapes") or ())), int(a["capacity"]),
            int(a.get("min_after_dequeue", 0)))


class _FIFOQueue(_Queue):
    """FIFO storage: a deque of blocks, each a single element (a tuple of
    arrays) or a list [component arrays, next index, end] over rows of an
    enqueued batch or of a chunk.

    With fully defined shapes, single elements are copied into chunks: one
    preallocated array per component, filled row by row while it is the
    last block (`open`).  An enqueue is then one row assignment per
    component (which is also the copy the queue must keep), and
    `dequeue_many` slices rows instead of stacking one array per element.
    A chunk holds up to `chunk_rows` elements (about 1 MiB, at most the
    capacity).  Once its rows are dequeued it becomes a spare, reused when
    no dequeued value refers to it any more (a view of its rows holds it):
    a long run cycles through the same few chunks instead of asking the
    allocator for a megabyte every few hundred elements.  (Chunks of
    strings are not reused: they would keep dequeued strings alive.)"""

    _CHUNK_BYTES = 1 << 20
    _SPARES = 2

    def __init__(self, op):
        super().__init__(op)
        self.blocks = collections.deque()
        self.empty_dims = [tuple(0 if d is None else d for d in s) if s is not None else None
                           for s in (self.shapes or [None] * self.ncomp)]
        self.open = None
        self.chunk_rows = 0
        if self.fixed and self.kind in ("FIFOQueue", "PaddingFIFOQueue"):
            row = sum(max(int(np.prod(s)), 1) * dt.itemsize
                      for s, dt in zip(self.shapes, self.dtypes))
            self.chunk_rows = int(max(1, min(self.capacity, 4096,
                                             max(16, self._CHUNK_BYTES // max(row, 1)))))
            self.copy_on_put = True
        self.spares = [] if self.chunk_rows and _CAN_COUNT_REFS and \
            not any(dt == object for dt in self.dtypes) else None

    def _new_chunk(self):
        spares = self.spares
        if spares:
            for k in range(len(spares)):
                if _refcounts(spares, k) == _UNSHARED:
                    return spares.pop(k)
        return tuple(np.empty((self.chunk_rows,) + s, dtype=dt)
                     for s, dt in zip(self.shapes, self.dtypes))

    def _popped(self, b):
        """List block `b` left the queue (lock held)."""
        if b is self.open:
            self.open = None
        if len(b) == 4 and self.spares is not None:     # a chunk
            self.spares.append(b[0])
            if len(self.spares) > self._SPARES:
                del self.spares[0]

    def _put1(self, vals):
        b = self.open
        if b is None:
            if not self.chunk_rows:
                self.blocks.append(vals)
                return
            b = [self._new_chunk(), 0, 0, True]
            self.blocks.append(b)
            self.open = b
        end = b[2]
        for c, v in zip(b[0], vals):
            c[end, ...] = v         # (not c[end] = v: an object array would keep v itself)
        end += 1
        b[2] = end
        if end == self.chunk_rows:
            self.open = None

    def _put(self, vals, start, stop):
        """Rows [start, stop) of a batch: a block over the batch itself (the
        next rows of a batch whose previous rows are the last block extend
        that block: a large `enqueue_many` fed in as room is made)."""
        self.open = None
        blocks = self.blocks
        if blocks:
            last = blocks[-1]
            if type(last) is list and last[0] is vals and last[2] == start:
                last[2] = stop
                return
        blocks.append([vals, start, stop])

    def _take1(self):
        blocks = self.blocks
        b = blocks[0]
        if type(b) is tuple:
            blocks.popleft()
            return b
        vals, pos, end = b[0], b[1], b[2]
        if pos + 1 == end:
            blocks.popleft()
            self._popped(b)
        else:
            b[1] = pos + 1
        if len(vals) == 1:
            return (vals[0][pos, ...],)
        return tuple(c[pos, ...] for c in vals)

    def _take_some(self, k):
        """The next k elements, as k dequeues would take them (dequeue_some)."""
        return self._take(k)

    def _take(self, k):
        pieces = []
        blocks = self.blocks
        while k:
            b = blocks[0]
            if type(b) is tuple:
                blocks.popleft()
                pieces.append((b, 1, True))
                k -= 1
                continue
            vals, pos, end = b[0], b[1], b[2]
            m = min(k, end - pos)
            if pos == 0 and m == len(vals[0]):
                pieces.append((vals, m, False))
            else:
                pieces.append((tuple(c[pos:pos + m] for c in vals), m, False))
            if pos + m == end:
                blocks.popleft()
                self._popped(b)
            else:
                b[1] = pos + m
            k -= m
        return pieces

    def _put_back(self, pieces):
        for vals, m, single in reversed(pieces):
            self.blocks.appendleft(vals if single else [vals, 0, m])

    def _assemble(self, pieces, k):
        if not pieces:
            return tuple(np.empty((0,) + self.empty_dims[i], dtype=self.dtypes[i])
                         for i in range(self.ncomp))
        if len(pieces) == 1 and not pieces[0][2]:
            return pieces[0][0]
        if all(p[2] for p in pieces):
            return tuple(np.stack([p[0][i] for p in pieces]) for i in range(self.ncomp))
        return tuple(np.concatenate([p[0][i][None] if p[2] else p[0][i] for p in pieces])
                     for i in range(self.ncomp))


class _PaddingFIFOQueue(_FIFOQueue):
    """A FIFO queue whose dequeue_many pads each component's unknown
    dimensions to the largest in the batch (zeros, or b"" for strings)."""

    kind = "PaddingFIFOQueue"

    def _assemble(self, pieces, k):
        if not pieces:
            return super()._assemble(pieces, k)
        out = []
        for i in range(self.ncomp):
            parts = [p[0][i][None] if p[2] else p[0][i] for p in pieces]
            first = parts[0].shape[1:]
            if all(p.shape[1:] == first for p in parts):
                out.append(parts[0] if len(parts) == 1 else np.concatenate(parts))
                continue
            dims = np.max([p.shape[1:] for p in parts], axis=0)
            shape = (k,) + tuple(int(d) for d in dims)
            dt = self.dtypes[i]
            if dt == object:
                a = np.empty(shape, dtype=object)
                a.fill(b"")
            else:
                a = np.zeros(shape, dtype=dt)
            off = 0
            for p in parts:
                a[(slice(off, off + p.shape[0]),) + tuple(slice(0, d) for d in p.shape[1:])] = p
                off += p.shape[0]
            out.append(a)
        return tuple(out)


class _RandomShuffleQueue(_Queue):
    """Random order: each dequeued element is drawn uniformly from those
    present, by a per-session generator seeded from the op's seeds; keeps
    `min_after_dequeue` elements until closed.

    With fully defined shapes the elements live in slots of one array per
    component, allocated once for the whole capacity when that is at most
    `_PREALLOC_BYTES` (the OS maps pages only once they are written, so
    memory follows the largest size reached) and grown by doubling
    otherwise.  `live[:size]` holds the slots of the elements present, in
    the order the draws index; `free[:nfree]` the slots to reuse.  An
    `enqueue_many` writes its rows into slots with one assignment per
    component and `dequeue_many` gathers its draws with one take per
    component; filling the holes a draw leaves moves slot numbers, never
    elements.  (Elements of other shapes are kept in a list.)"""

    kind = "RandomShuffleQueue"
    _PREALLOC_BYTES = 1 << 29      # the largest first allocation (pages mapped lazily),
    _PREALLOC_OBJECTS = 1 << 22    # in slots if a component is object (filled with None)

    def __init__(self, op):
        super().__init__(op)
        a = op.attrs
        self.min_after_dequeue = int(a.get("min_after_dequeue", 0))
        if self.capacity != _UNBOUNDED and self.min_after_dequeue >= self.capacity:
            raise errors.InvalidArgumentError(
                None, op, "min_after_dequeue %d must be < capacity %d"
                % (self.min_after_dequeue, self.capacity))
        s1, s2 = int(a.get("seed", 0)), int(a.get("seed2", 0))
        self.rng = np.random.default_rng([s1, s2] if s1 or s2 else None)
        self.items = []   # elements, when shapes are not fully defined
        self.copy_on_put = self.fixed      # _put1 copies into the slot arrays
        self.bufs = None
        self.nslots = 0   # slots allocated
        self.used = 0     # slots [used, nslots) were never written
        self.live = np.empty(0, dtype=np.int64)
        self.free = np.empty(0, dtype=np.int64)
        self.nfree = 0
        self.objects = [i for i, dt in enumerate(self.dtypes) if dt == object]

    # -- slots (lock held) ----------------------------------------------------------------
    def _first_slots(self, need):
        """How many slots to allocate at first: the capacity if it is small
        enough, else what is needed (then doubled as the queue grows)."""
        if self.capacity == _UNBOUNDED:
            return max(need, 16)
        row = sum(max(int(np.prod(s, dtype=np.int64)), 1) * dt.itemsize
                  for s, dt in zip(self.shapes, self.dtypes))
        if self.capacity * max(row, 1) <= self._PREALLOC_BYTES and (
                not self.objects or self.capacity <= self._PREALLOC_OBJECTS):
            return max(need, self.capacity)
        return max(need, 16)

    def _grow(self, need):
        """At least `need` slots (`_give_back` may briefly exceed the capacity)."""
        if self.bufs is None:
            cap = self._first_slots(need)
        else:
            cap = max(need, 2 * self.nslots)
            if self.capacity != _UNBOUNDED:
                cap = max(need, min(cap, self.capacity))
        new = [np.empty((cap,) + s, dtype=dt) for s, dt in zip(self.shapes, self.dtypes)]
        if self.bufs is not None:
            u = self.used
            for nb, ob in zip(new, self.bufs):
                nb[:u] = ob[:u]
        self.bufs = new
        self.nslots = cap

    def _live_room(self, m):
        need = self.size + m
        if len(self.live) < need:
            live = np.empty(max(need, 2 * len(self.live), 16), dtype=np.int64)
            live[:self.size] = self.live[:self.size]
            self.live = live

    def _free_slots(self, slots):
        """Make `slots` (an int array of taken elements) reusable."""
        k = len(slots)
        nf = self.nfree
        if len(self.free) < nf + k:
            free = np.empty(max(nf + k, 2 * len(self.free), 16), dtype=np.int64)
            free[:nf] = self.free[:nf]
            self.free = free
        self.free[nf:nf + k] = slots
        self.nfree = nf + k
        for i in self.objects:
            self.bufs[i][slots] = None      # release the taken objects

    def _put1(self, vals):
        if not self.fixed:
            self.items.append(vals)
            return
        if self.nfree:
            self.nfree -= 1
            slot = int(self.free[self.nfree])
        else:
            slot = self.used
            if slot >= self.nslots:
                self._grow(slot + 1)
            self.used = slot + 1
        for b, v in zip(self.bufs, vals):
            b[slot, ...] = v
        self._live_room(1)
        self.live[self.size] = slot

    def _put(self, vals, start, stop):
        if not self.fixed:
            self.items.extend(tuple(c[j, ...] for c in vals) for j in range(start, stop))
            return
        m = stop - start
        self._live_room(m)
        n = self.size
        r = min(m, self.nfree)
        if r:                                   # reuse freed slots first
            self.nfree -= r
            slots = self.free[self.nfree:self.nfree + r].copy()
            for b, v in zip(self.bufs, vals):
                b[slots] = v[start:start + r]
            self.live[n:n + r] = slots
        if r < m:                               # then slots never written, in order
            u = self.used
            end = u + m - r
            if end > self.nslots:
                self._grow(end)
            for b, v in zip(self.bufs, vals):
                b[u:end] = v[start + r:stop]
            self.live[n + r:n + m] = np.arange(u, end)
            self.used = end

    def _take1(self):
        # callers decremented self.size already: the last element is at self.size
        last = self.size
        i = int(self.rng.integers(last + 1))
        if not self.fixed:
            items = self.items
            items[i], items[last] = items[last], items[i]
            return items.pop()
        live = self.live
        slot = live[i]
        out = tuple(b[[slot]].reshape(b.shape[1:]) for b in self.bufs)
        live[i] = live[last]
        self._free_slots(np.array([slot], dtype=np.int64))
        return out

    def _take_some(self, k):
        """k elements drawn one at a time as k dequeues draw them (`_take`
        draws another sample from the same seed): a batched step's source
        keeps the per-element order."""
        size = self.size
        rows = []
        for j in range(k - 1, -1, -1):
            self.size = size + j   # _take1: the last element is at self.size
            rows.append(self._take1())
        self.size = size
        return [(tuple(np.stack(c) for c in zip(*rows)), k, False)]

    def _take(self, k):
        n = self.size + k          # size before the take (callers decremented it)
        idx = self.rng.choice(n, k, replace=False) if k < n else self.rng.permutation(n)
        live = self.live
        slots = live[idx]
        vals = tuple(b[slots] for b in self.bufs)
        keep = n - k
        holes = idx[idx < keep]
        if holes.size:             # the elements after `keep` not taken fill the holes
            taken = np.zeros(k, dtype=bool)
            taken[idx[idx >= keep] - keep] = True
            live[holes] = live[keep:n][~taken]
        self._free_slots(slots)
        return [(vals, k, False)]

    def check_many(self, op, vals):
        """Like `_Queue.check_many`, without its private copies: `_put`
        copies the rows into the slot arrays."""
        if not self.fixed or len(vals) != self.ncomp:
            return _Queue.check_many(self, op, vals)
        out = []
        n = None
        for v, dt, s in zip(vals, self.dtypes, self.shapes):
            a = v if type(v) is np.ndarray and v.dtype == dt else np.asarray(v, dtype=dt)
            if a.ndim == 0 or a.shape[1:] != s or (n is not None and a.shape[0] != n):
                return _Queue.check_many(self, op, vals)     # raises TF's error
            n = a.shape[0]
            out.append(a)
        return tuple(out), n

    def _put_back(self, pieces):
        n0 = self.size          # _put* insert at self.size; _give_back then counts them
        for vals, m, single in pieces:
            if single:
                self._put1(vals)
            else:
                self._put(vals, 0, m)
            self.size += m
        self.size = n0

    def _assemble(self, pieces, k):
        if not pieces:
            return tuple(np.empty((0,) + s, dtype=dt) for s, dt in zip(self.shapes, self.dtypes))
        if len(pieces) == 1:
            return pieces[0][0]
        return tuple(np.concatenate([p[0][i] for p in pieces]) for i in range(self.ncomp))


class _PriorityQueue(_FIFOQueue):
    """Elements ordered by their first component, an int64 priority, lowest
    first: a heap of (priority, arrival number, element)."""

    kind = "PriorityQueue"

    def __init__(self, op):
        super().__init__(op)
        self.heap = []
        self.count = itertools.count()

    def _put1(self, vals):
        heapq.heappush(self.heap, (int(vals[0]), next(self.count), vals))

    def _put(self, vals, start, stop):
        heap, count = self.heap, self.count
        for j, p in zip(range(start, stop), vals[0][start:stop].tolist()):
            heapq.heappush(heap, (p, next(count), tuple(c[j, ...] for c in vals)))

    def _take1(self):
        return heapq.heappop(self.heap)[2]

    def _take(self, k):
        heap = self.heap
        return [(heapq.heappop(heap)[2], 1, True) for _ in range(k)]

    def _put_back(self, pieces):
        for vals, m, single in pieces:
            self._put1(vals)


_RESOURCE_CLASSES = {"FIFOQueueV2": _FIFOQueue, "PaddingFIFOQueueV2": _PaddingFIFOQueue,
                     "RandomShuffleQueueV2": _RandomShuffleQueue,
                     "PriorityQueueV2": _PriorityQueue}


# -- ops ------------------------------------------------------------------------------------

_SCALAR = TensorShape([])


def _queue_kernel(ctx, op):
    r = ctx.resources.get(op)
    if r is None:
        key = _queue_key(op)
        r = ctx.resource(key, lambda: _RESOURCE_CLASSES[op.type](op))
        if key is not op and r.signature != _signature(op):
            raise errors.InvalidArgumentError(
                None, op, "Shared queue '%s' has signature %s but op '%s' requests %s"
                % (r.name, r.signature, op.name, _signature(op)))
    return r


def _queue_shape(op):
    return [(_dtypes.resource, _SCALAR)]


for _t in _QUEUE_TYPES:
    registry.register(_t, shape=_queue_shape, kernel=_queue_kernel, stateful=True)


def _check_handle(op):
    h = op.inputs[0]
    if h.dtype is not _dtypes.resource:
        raise TypeError("%s expects a queue handle (resource) as input 0, got %s (%s)"
                        % (op.type, h.dtype.name, h.name))


def _component_shapes(op):
    _check_handle(op)
    types = op.attrs["component_types"]
    _, shapes = _queue_signature(op.inputs[0])
    if shapes is None or len(shapes) != len(types):
        shapes = [unknown_shape()] * len(types)
    return types, shapes


def _dequeue_shape(op):
    types, shapes = _component_shapes(op)
    return list(zip(types, shapes))


def _dequeue_many_shape(op):
    types, shapes = _component_shapes(op)
    n = op.inputs[1]
    if not n.dtype.is_integer:
        raise TypeError("%s: n must be an integer, got %s" % (op.type, n.dtype.name))
    batch = None
    if op.type == "QueueDequeueManyV2":
        v = constant_value(n)
        if v is not None:
            batch = int(v)
            if batch < 0:
                raise ValueError("Input 'n' must be >= 0, but is %d" % batch)
    return [(t, TensorShape([batch]).concatenate(s) if s.ndims is not None else s)
            for t, s in zip(types, shapes)]


def _enqueue_shape(op):
    _check_handle(op)
    return []


def _dequeue_kernel(ctx, op, q):
    r = q.dequeue(ctx, op)
    return r[0] if len(r) == 1 else r


def _dequeue_many_kernel(ctx, op, q, n):
    r = q.dequeue_many(ctx, op, int(n), op.type == "QueueDequeueUpToV2")
    return r[0] if len(r) == 1 else r


def _enqueue_kernel(ctx, op, q, *vals):
    q.enqueue(ctx, op, q.check_one(op, vals))


def _enqueue_many_kernel(ctx, op, q, *vals):
    batch, n = q.check_many(op, vals)
    q.enqueue_many(ctx, op, batch, n)


def _select_kernel(ctx, op, index, *handles):
    i = int(index)
    if not 0 <= i < len(handles):
        raise errors.InvalidArgumentError(None, op, "indices = %d is not in [0, %d)"
                                          % (i, len(handles)))
    return handles[i]


def _select_shape(op):
    if not op.inputs[0].dtype.is_integer:
        raise TypeError("QueueRefSelect: index must be an integer, got %s"
                        % op.inputs[0].dtype.name)
    return [(_dtypes.resource, _SCALAR)]


def _enqueue_rows(ctx, op, batched, m, q, *vals):
    """A batched step's enqueue: m rows checked as one enqueue_many, a
    component given once (not per row) repeated; returns the commit."""
    vals = [v if b else np.broadcast_to(batching._array(v), (m,) + np.shape(v))
            for v, b in zip(vals, batched[1:])]     # (bytes kept whole: not an S array)
    rows, n = q.check_many(op, vals)
    return lambda: q.enqueue_many(ctx, op, rows, n)


def _dequeue_rows(ctx, op, k, q):
    rows, m = q.dequeue_some(ctx, op, k)
    return list(rows), m


def _undequeue_rows(ctx, op, rows, j, q):
    q.put_back_rows(tuple(r[j:] for r in rows))


registry.register("QueueEnqueueV2", shape=_enqueue_shape, kernel=_enqueue_kernel, stateful=True,
                  batch=batching.Sink(_enqueue_rows))
registry.register("QueueEnqueueManyV2", shape=_enqueue_shape, kernel=_enqueue_many_kernel,
                  stateful=True)
registry.register("QueueDequeueV2", shape=_dequeue_shape, kernel=_dequeue_kernel, stateful=True,
                  batch=batching.Source(_dequeue_rows, _undequeue_rows))
registry.register("QueueDequeueManyV2", shape=_dequeue_many_shape, kernel=_dequeue_many_kernel,
                  stateful=True)
registry.register("QueueDequeueUpToV2", shape=_dequeue_many_shape, kernel=_dequeue_many_kernel,
                  stateful=True)
registry.register("QueueCloseV2", shape=_enqueue_shape, stateful=True,
                  kernel=lambda ctx, op, q: q.close(ctx, op, op.attrs["cancel_pending_enqueues"]))
registry.register("QueueSizeV2", shape=lambda op: _check_handle(op) or [(_dtypes.int32, _SCALAR)],
                  kernel=lambda ctx, op, q: np.int32(q.size), stateful=True)
registry.register("QueueIsClosedV2",
                  shape=lambda op: _check_handle(op) or [(_dtypes.bool, _SCALAR)],
                  kernel=lambda ctx, op, q: np.bool_(q.closed), stateful=True)
registry.register("QueueRefSelect", shape=_select_shape, kernel=_select_kernel, stateful=True)
for _t in list(_QUEUE_TYPES) + ["QueueEnqueueV2", "QueueEnqueueManyV2", "QueueDequeueV2",
                                "QueueDequeueManyV2", "QueueDequeueUpToV2", "QueueCloseV2",
                                "QueueSizeV2", "QueueIsClosedV2", "QueueRefSelect"]:
    registry.NotDifferentiable(_t)


# -- Python classes -------------------------------------------------------------------------

def _as_type_list(dtypes):
    if not isinstance(dtypes, (list, tuple)):
        dtypes = [dtypes]
    return [_dtypes.as_dtype(d) for d in dtypes]


def _as_shape_list(shapes, unknown_dim_allowed=False):
    """TF's reading of `shapes`: None, one shape (a list of ints/None), or a
    list of shapes; all fully defined unless `unknown_dim_allowed`."""
    if unknown_dim_allowed:
        if not isinstance(shapes, (list, tuple)) or not shapes or any(
                s is None or isinstance(s, int) for s in shapes):
            raise ValueError("When providing partial shapes, a list of shapes must be "
                             "provided.")
    if shapes is None:
        return None
    if isinstance(shapes, TensorShape):
        shapes = [shapes]
    if not isinstance(shapes, (list, tuple)):
        raise TypeError("Shapes must be a TensorShape or a list or tuple of TensorShapes, "
                        "got %s instead." % type(shapes))
    if all(s is None or isinstance(s, int) for s in shapes):
        shapes = [shapes]
    shapes = [as_shape(s) for s in shapes]
    if not unknown_dim_allowed and any(not s.is_fully_defined() for s in shapes):
        raise ValueError("All shapes must be fully defined: %s" % shapes)
    if any(s.ndims is None for s in shapes):
        raise ValueError("All shapes must have a defined rank: %s" % shapes)
    return shapes


def _as_name_list(names, dtypes):
    if names is None:
        return None
    if not isinstance(names, (list, tuple)):
        names = [names]
    if len(names) != len(dtypes):
        raise ValueError("List of names must have the same length as the list of dtypes, "
                         "received len(names)=%d,len(dtypes)=%d" % (len(names), len(dtypes)))
    return list(names)


def _shape_attr(shapes):
    return list(shapes) if shapes is not None else []


class QueueBase:
    """A queue: the handle tensor `queue_ref` plus the dtypes, shapes and
    names of its components, and the ops that use it.

    Components are given as a list/tuple, a single tensor (one component),
    or a dict keyed by `names`; dequeues return the same form."""

    def __init__(self, dtypes, shapes, names, queue_ref):
        self._dtypes = _as_type_list(dtypes)
        if shapes is not None:
            if len(shapes) != len(self._dtypes):
                raise ValueError("Queue shapes must have the same length as dtypes, "
                                 "received len(shapes)=%d, len(dtypes)=%d"
                                 % (len(shapes), len(self._dtypes)))
            self._shapes = [as_shape(s) for s in shapes]
        else:
            self._shapes = [unknown_shape() for _ in self._dtypes]
        if names is not None:
            if len(names) != len(self._dtypes):
                raise ValueError("Queue names must have the same length as dtypes, "
                                 "received len(names)=%d, len(dtypes)=%d"
                                 % (len(names), len(self._dtypes)))
            self._names = list(names)
        else:
            self._names = None
        self._queue_ref = queue_ref
        self._name = queue_ref.op.name.split("/")[-1]

    @staticmethod
    def from_list(index, queues):
        """A queue that is `queues[index]`, `index` chosen at run time.  All
        queues must have the same dtypes and names; shapes are their most
        specific common shapes."""
        if not queues or not isinstance(queues, (list, tuple)) or not all(
                isinstance(q, QueueBase) for q in queues):
            raise TypeError("A list of queues expected")
        dtypes = queues[0].dtypes
        if not all(q.dtypes == dtypes for q in queues[1:]):
            raise TypeError("Queues do not have matching component dtypes.")
        names = queues[0].names
        if not all(q.names == names for q in queues[1:]):
            raise TypeError("Queues do not have matching component names.")
        shapes = [_common_shape([q.shapes[i] for q in queues]) for i in range(len(dtypes))]
        refs = [q.queue_ref for q in queues]
        idx = convert_to_tensor(index, dtype=_dtypes.int32, name="index")
        sel = apply_op("QueueRefSelect", [idx] + refs,
                       {"component_types": list(dtypes), "shapes": shapes, "N": len(refs)},
                       name="QueueRefSelect")
        return QueueBase(dtypes=dtypes, shapes=shapes, names=names, queue_ref=sel.outputs[0])

    @staticmethod
    def from_op(queue_op, names=None):
        """A QueueBase over an existing queue op (a FIFOQueueV2, ... Operation or
        its handle), with the dtypes and shapes its attributes declare."""
        ref = queue_op if hasattr(queue_op, "op") else queue_op.outputs[0]
        dtypes, shapes = _queue_signature(ref)
        if dtypes is None:
            raise TypeError("Expected a queue op, got %r" % (ref.op,))
        return QueueBase(dtypes=dtypes, shapes=shapes, names=names, queue_ref=ref)

    queue_ref = property(lambda self: self._queue_ref)
    dtypes = property(lambda self: self._dtypes)
    shapes = property(lambda self: self._shapes)
    names = property(lambda self: self._names)

    @property
    def name(self):
        """The name of the queue op."""
        return self._queue_ref.op.name

    # -- building ops -------------------------------------------------------------------
    def _check_enqueue_dtypes(self, vals):
        if isinstance(vals, dict):
            if not self._names:
                raise ValueError("Queue must have names to enqueue a dictionary")
            if sorted(self._names, key=str) != sorted(vals.keys(), key=str):
                raise ValueError("Keys in dictionary to enqueue do not match names of Queue.  "
                                 "Dictionary: %s,Queue: %s"
                                 % (sorted(vals.keys(), key=str), sorted(self._names, key=str)))
            vals = [vals[k] for k in self._names]
        else:
            if self._names:
                raise ValueError("You must enqueue a dictionary in a Queue with names")
            if not isinstance(vals, (list, tuple)):
                vals = [vals]
        if len(vals) != len(self._dtypes):
            raise ValueError("Queue '%s' has %d components, but %d values were given"
                             % (self.name, len(self._dtypes), len(vals)))
        return [convert_to_tensor(v, dtype=dt, name="component_%d" % i)
                for i, (v, dt) in enumerate(zip(vals, self._dtypes))]

    def _scope(self, name, default):
        return _name_scope(name, "%s_%s" % (self._name, default), [self._queue_ref])

    def enqueue(self, vals, name=None):
        """An op adding one element (blocks while the queue is full;
        CancelledError once it is closed)."""
        with self._scope(name, "enqueue") as scope:
            vals = self._check_enqueue_dtypes(vals)
            for v, shape in zip(vals, self._shapes):
                if not v.shape.is_compatible_with(shape):
                    raise ValueError("Shapes %s and %s are incompatible" % (v.shape, shape))
            return apply_op("QueueEnqueueV2", [self._queue_ref] + vals,
                            {"Tcomponents": [v.dtype for v in vals], "timeout_ms": -1},
                            name=scope)

    def enqueue_many(self, vals, name=None):
        """An op adding the elements of a batch: each component is sliced
        along its first dimension, which must be the same for all."""
        with self._scope(name, "EnqueueMany") as scope:
            vals = self._check_enqueue_dtypes(vals)
            batch = None
            for v, shape in zip(vals, self._shapes):
                if v.shape.ndims is not None and v.shape.ndims < 1:
                    raise ValueError("Shape %s must have rank at least 1" % v.shape)
                if v.shape.ndims is None:
                    continue
                d = _dims(v.shape)[0]
                if d is not None:
                    if batch is not None and batch != d:
                        raise ValueError("Dimensions %d and %d are not compatible" % (batch, d))
                    batch = d
                rest = TensorShape(list(_dims(v.shape)[1:]))
                if not rest.is_compatible_with(shape):
                    raise ValueError("Shapes %s and %s are incompatible" % (rest, shape))
            return apply_op("QueueEnqueueManyV2", [self._queue_ref] + vals,
                            {"Tcomponents": [v.dtype for v in vals], "timeout_ms": -1},
                            name=scope)

    def _dequeue_return_value(self, tensors):
        if self._names:
            return dict(zip(self._names, tensors))
        if len(tensors) == 1:
            return tensors[0]
        return tensors

    def _dequeue_op(self, op_type, name, default, n=None):
        if name is None:
            name = "%s_%s" % (self._name, default)
        attrs = {"component_types": list(self._dtypes), "timeout_ms": -1}
        if n is None:
            op = apply_op(op_type, [self._queue_ref], attrs, name=name)
        else:
            g = self._queue_ref.graph
            with g.as_default(), g.name_scope(name) as scope:
                n = convert_to_tensor(n, dtype=_dtypes.int32, name="n")
                op = apply_op(op_type, [self._queue_ref, n], attrs, name=scope)
        for t, s in zip(op.outputs, self._shapes):   # the Python shapes may be more specific
            if n is None:
                t.set_shape(s)
            elif s.ndims is not None:
                t.set_shape(TensorShape([None]).concatenate(s))
        return self._dequeue_return_value(list(op.outputs))

    def dequeue(self, name=None):
        """Tensors of one element; the run blocks until there is one, and
        raises OutOfRangeError once the queue is closed and empty."""
        return self._dequeue_op("QueueDequeueV2", name, "Dequeue")

    def dequeue_many(self, n, name=None):
        """Tensors of n elements stacked on a new first dimension; raises
        OutOfRangeError when the queue is closed with fewer than n left."""
        return self._dequeue_op("QueueDequeueManyV2", name, "DequeueMany", n)

    def dequeue_up_to(self, n, name=None):
        """Like `dequeue_many`, but once the queue is closed returns what is
        left (at least one element) instead of raising."""
        return self._dequeue_op("QueueDequeueUpToV2", name, "DequeueUpTo", n)

    def close(self, cancel_pending_enqueues=False, name=None):
        """An op closing the queue: later enqueues fail; pending ones complete
        unless `cancel_pending_enqueues`; dequeues drain what is left."""
        if name is None:
            name = "%s_Close" % self._name
        return apply_op("QueueCloseV2", [self._queue_ref],
                        {"cancel_pending_enqueues": bool(cancel_pending_enqueues)}, name=name)

    def is_closed(self, name=None):
        """A bool scalar: has the queue been closed?"""
        if name is None:
            name = "%s_Is_Closed" % self._name
        return apply_op("QueueIsClosedV2", [self._queue_ref], None, name=name).outputs[0]

    def size(self, name=None):
        """An int32 scalar: the number of elements in the queue."""
        if name is None:
            name = "%s_Size" % self._name
        return apply_op("QueueSizeV2", [self._queue_ref], None, name=name).outputs[0]


def _make_queue(op_type, attrs, shared_name, name):
    attrs = dict(attrs)
    attrs["shared_name"] = shared_name or ""
    attrs["container"] = ""
    return apply_op(op_type, [], attrs, name=name).outputs[0]


class FIFOQueue(QueueBase):
    """A queue returning elements first-in first-out."""

    def __init__(self, capacity, dtypes, shapes=None, names=None, shared_name=None,
                 name="fifo_queue"):
        dtypes = _as_type_list(dtypes)
        shapes = _as_shape_list(shapes)
        names = _as_name_list(names, dtypes)
        ref = _make_queue("FIFOQueueV2", {"component_types": dtypes,
                                          "shapes": _shape_attr(shapes),
                                          "capacity": int(capacity)}, shared_name, name)
        super().__init__(dtypes, shapes, names, ref)


class PaddingFIFOQueue(QueueBase):
    """A FIFO queue whose `shapes` may have None dimensions; `dequeue_many`
    and `dequeue_up_to` pad them to the largest in the batch (with zeros,
    or empty strings)."""

    def __init__(self, capacity, dtypes, shapes, names=None, shared_name=None,
                 name="padding_fifo_queue"):
        dtypes = _as_type_list(dtypes)
        shapes = _as_shape_list(shapes, unknown_dim_allowed=True)
        names = _as_name_list(names, dtypes)
        if len(dtypes) != len(shapes):
            raise ValueError("Shapes must be provided for all components, but received "
                             "%d dtypes and %d shapes." % (len(dtypes), len(shapes)))
        ref = _make_queue("PaddingFIFOQueueV2", {"component_types": dtypes,
                                                 "shapes": _shape_attr(shapes),
                                                 "capacity": int(capacity)}, shared_name, name)
        super().__init__(dtypes, shapes, names, ref)


class RandomShuffleQueue(QueueBase):
    """A queue returning elements in random order, holding back
    `min_after_dequeue` elements until it is closed so that the order mixes.
    The order is a function of the seeds (graph and op level) and of the
    sequence of operations in the session."""

    def __init__(self, capacity, min_after_dequeue, dtypes, shapes=None, names=None,
                 seed=None, shared_name=None, name="random_shuffle_queue"):
        dtypes = _as_type_list(dtypes)
        shapes = _as_shape_list(shapes)
        names = _as_name_list(names, dtypes)
        seed1, seed2 = random_seed.get_seed(seed)
        if seed1 is None and seed2 is None:
            seed1, seed2 = 0, 0
        elif seed is None and shared_name is not None:
            # graph seed only: make seed2 depend on the graph seed and shared_name
            digest = hashlib.md5((str(seed1) + shared_name).encode("utf-8")).hexdigest()
            seed2 = int(digest[:8], 16) & 0x7FFFFFFF
        ref = _make_queue("RandomShuffleQueueV2", {
            "component_types": dtypes, "shapes": _shape_attr(shapes),
            "capacity": int(capacity), "min_after_dequeue": int(min_after_dequeue),
            "seed": int(seed1), "seed2": int(seed2)}, shared_name, name)
        super().__init__(dtypes, shapes, names, ref)


class PriorityQueue(QueueBase):
    """A queue returning elements lowest priority first.  Each element's
    first component is its int64 scalar priority, in front of `types`;
    `shapes` (of `types`) must be given."""

    def __init__(self, capacity, types, shapes=None, names=None, shared_name=None,
                 name="priority_queue"):
        types = _as_type_list(types)
        shapes = _as_shape_list(shapes)
        if shapes is None:
            raise TypeError("Expected list for 'shapes' argument to 'PriorityQueueV2' Op, "
                            "not None.")
        ref = _make_queue("PriorityQueueV2", {"component_types": types,
                                              "shapes": _shape_attr(shapes),
                                              "capacity": int(capacity)}, shared_name, name)
        types = [_dtypes.int64] + types
        super().__init__(types, [TensorShape([])] + shapes, _as_name_list(names, types), ref)
