"""QueueRunner: threads that keep a queue filled.

`create_threads(sess, coord)` starts one thread per enqueue op, each running
its op in a loop until the coordinator stops or the op raises one of
`queue_closed_exception_types` (OutOfRangeError: its input ran out).  The
last thread to run out closes the queue (pending enqueues complete), so
consumers drain it and then see OutOfRangeError.  Any other error is
reported to the coordinator (without one: logged, kept in
`exceptions_raised` and re-raised in the thread).  With a coordinator, one
more thread waits for the stop and runs `cancel_op` (close, cancelling
pending enqueues) so that nobody stays blocked on the queue.

Beyond TF1, the threads tell the queue's session state that they are alive
(the blocked-dequeue warning counts them) and which error, if any, ended
them (the queue's later OutOfRangeError carries it as `__cause__`).
"""
import logging
import threading
import weakref

from flowcore import batching, errors, meta_graph, turns
from flowcore.graph import GraphKeys, Operation, add_to_collection, get_default_graph
from flowcore.session import Session, get_default_session
from pipeline import queues as _queues

__all__ = ["QueueRunner", "add_queue_runner", "start_queue_runners"]

_log = logging.getLogger("flowcore.pipeline")


def _prefixed(name, scope):
    return "%s/%s" % (scope, name) if scope else name


def _unprefixed(name, scope):
    if scope and name.startswith(scope + "/"):
        return name[len(scope) + 1:]
    return name


class QueueRunner:
    """Holds a queue, the ops that fill it and the ops that close it, and
    starts the threads running them (see the module docstring)."""

    def __init__(self, queue=None, enqueue_ops=None, close_op=None, cancel_op=None,
                 queue_closed_exception_types=None, queue_runner_def=None, import_scope=None):
        if queue_runner_def is not None:
            if queue is not None or enqueue_ops:
                raise ValueError("queue_runner_def and queue are mutually exclusive.")
            self._init_from_proto(queue_runner_def, import_scope)
        else:
            self._init_from_args(queue, enqueue_ops, close_op, cancel_op,
                                 queue_closed_exception_types)
        self._lock = threading.Lock()
        self._runs_per_session = weakref.WeakKeyDictionary()
        self._exceptions_raised = []

    def _init_from_args(self, queue, enqueue_ops, close_op, cancel_op, closed_types):
        if not queue or not enqueue_ops:
            raise ValueError("Must provide queue and enqueue_ops.")
        self._queue = queue
        self._enqueue_ops = list(enqueue_ops)
        if closed_types is not None:
            if not isinstance(closed_types, tuple) or not closed_types or not all(
                    isinstance(t, type) and issubclass(t, errors.OpError) for t in closed_types):
                raise TypeError("queue_closed_exception_types, when provided, must be a tuple "
                                "of tf.error types, but saw: %s" % (closed_types,))
        self._queue_closed_exception_types = closed_types or (errors.OutOfRangeError,)
        # close when the inputs ran out: pending enqueues still complete
        self._close_op = close_op if close_op is not None else queue.close()
        # close on stop or error: unblock everyone
        self._cancel_op = cancel_op if cancel_op is not None else \
            queue.close(cancel_pending_enqueues=True)

    def _init_from_proto(self, qr_def, import_scope):
        g = get_default_graph()

        def op(name):
            return g.as_graph_element(_prefixed(name, import_scope))
        self._queue = op(qr_def.queue_name)
        self._enqueue_ops = [op(n) for n in qr_def.enqueue_op_name]
        self._close_op = op(qr_def.close_op_name)
        self._cancel_op = op(qr_def.cancel_op_name)
        codes = list(qr_def.queue_closed_exception_types)
        self._queue_closed_exception_types = tuple(
            errors.exception_type_from_error_code(c) for c in codes) or (errors.OutOfRangeError,)

    # -- properties ------------------------------------------------------------------
    @property
    def name(self):
        """The name of the queue."""
        return self._queue.name

    queue = property(lambda self: self._queue)
    enqueue_ops = property(lambda self: self._enqueue_ops)
    close_op = property(lambda self: self._close_op)
    cancel_op = property(lambda self: self._cancel_op)
    queue_closed_exception_types = property(lambda self: self._queue_closed_exception_types)

    @property
    def exceptions_raised(self):
        """Exceptions raised by the threads when there was no coordinator."""
        return self._exceptions_raised

    def _queue_key(self):
        q = self._queue
        ref = q.outputs[0] if isinstance(q, Operation) else getattr(q, "queue_ref", None)
        return _queues.handle_key(ref) if ref is not None else None

    # -- threads -----------------------------------------------------------------------
    def _run(self, sess, enqueue_op, coord, key):
        decremented = False
        _queues.runner_thread_started(sess, key)
        try:
            # k elements per run where the step allows (flowcore.batching), no
            # plan lookup per run, runner threads taking turns (flowcore.turns)
            enqueue = turns.take_turns(batching.batched_step(sess, enqueue_op) or
                                       sess.make_callable(enqueue_op))
            should_stop = coord.should_stop if coord is not None else bool
            while not should_stop():
                try:
                    enqueue()
                except self._queue_closed_exception_types:
                    with self._lock:
                        self._runs_per_session[sess] -= 1
                        decremented = True
                        last = self._runs_per_session[sess] == 0
                    if last:
                        try:
                            sess.run(self._close_op)
                        except Exception as e:
                            _log.debug("Ignored exception closing the queue: %s", e)
                    return
        except Exception as e:
            if coord is None or not coord.should_stop():
                # a failure of its own, not the consequence of a stop
                _queues.runner_failure(sess, key, e)
            if coord is not None:
                coord.request_stop(e)
            else:
                _log.error("Exception in QueueRunner: %s", e)
                with self._lock:
                    self._exceptions_raised.append(e)
                raise
        finally:
            turns.end_turns()
            if not decremented:
                with self._lock:
                    self._runs_per_session[sess] -= 1
            _queues.runner_thread_finished(sess, key)

    def _close_on_stop(self, sess, cancel_op, coord):
        coord.wait_for_stop()
        try:
            sess.run(cancel_op)
        except Exception as e:
            _log.debug("Ignored exception cancelling the queue: %s", e)

    def create_threads(self, sess, coord=None, daemon=False, start=False):
        """Threads running the enqueue ops in `sess` (plus, with `coord`, one
        that cancels the queue when it stops); [] if threads of this runner
        are still running in `sess`.  Threads are registered with `coord`."""
        with self._lock:
            if self._runs_per_session.get(sess, 0) > 0:
                return []
            self._runs_per_session[sess] = len(self._enqueue_ops)
            self._exceptions_raised = []
        key = self._queue_key()
        _queues.reset_runner_failure(sess, key)
        threads = [threading.Thread(target=self._run, args=(sess, op, coord, key),
                                    name="QueueRunnerThread-%s-%s" % (self.name, op.name))
                   for op in self._enqueue_ops]
        if coord is not None:
            threads.append(threading.Thread(
                target=self._close_on_stop, args=(sess, self._cancel_op, coord),
                name="QueueRunnerThread-%s-close_on_stop" % self.name))
        for t in threads:
            if coord is not None:
                coord.register_thread(t)
            if daemon:
                t.daemon = True
            if start:
                t.start()
        return threads

    # -- serialisation ---------------------------------------------------------------------
    def to_proto(self, export_scope=None):
        """A QueueRunnerDef proto naming this runner's ops (None if the queue
        is outside `export_scope`); MetaGraphDefs store the QUEUE_RUNNERS
        collection this way."""
        if export_scope is not None and not self._queue.name.startswith(export_scope + "/"):
            return None
        return meta_graph.QueueRunnerDef(
            queue_name=_unprefixed(self._queue.name, export_scope),
            enqueue_op_name=[_unprefixed(op.name, export_scope) for op in self._enqueue_ops],
            close_op_name=_unprefixed(self._close_op.name, export_scope),
            cancel_op_name=_unprefixed(self._cancel_op.name, export_scope),
            queue_closed_exception_types=[t.error_code
                                          for t in self._queue_closed_exception_types])

    @staticmethod
    def from_proto(queue_runner_def, import_scope=None):
        """A QueueRunner over the ops a QueueRunnerDef names, in the default graph."""
        return QueueRunner(queue_runner_def=queue_runner_def, import_scope=import_scope)


def add_queue_runner(qr, collection=GraphKeys.QUEUE_RUNNERS):
    """Add `qr` to a collection of the default graph (`start_queue_runners`
    starts them)."""
    add_to_collection(collection, qr)


def start_queue_runners(sess=None, coord=None, daemon=True, start=True,
                        collection=GraphKeys.QUEUE_RUNNERS):
    """Create (and start) the threads of every QueueRunner in `collection`
    of `sess`'s graph; return them."""
    if sess is None:
        sess = get_default_session()
        if sess is None:
            raise ValueError("Cannot start queue runners: No default session is registered. "
                             "Use `with sess.as_default()` or pass an explicit session to "
                             "tf.start_queue_runners(sess=sess)")
    if not isinstance(sess, Session):
        if type(sess).__name__ in ("MonitoredSession", "SingularMonitoredSession"):
            return []
        raise TypeError("sess must be a `tf.Session` object. Given class: %s" % type(sess))
    runners = sess.graph.get_collection(collection)
    if not runners:
        _log.warning("`tf.train.start_queue_runners()` was called when no queue runners were "
                     "defined. You can safely remove the call to this deprecated function.")
    threads = []
    with sess.graph.as_default():
        for qr in runners:
            threads.extend(qr.create_threads(sess, coord=coord, daemon=daemon, start=start))
    return threads


meta_graph.register_proto_function(GraphKeys.QUEUE_RUNNERS, meta_graph.QueueRunnerDef,
                                   to_proto=QueueRunner.to_proto,
                                   from_proto=QueueRunner.from_proto)
