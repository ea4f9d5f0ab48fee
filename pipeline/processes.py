"""Input pipelines beyond one core: readers and decoders in worker processes.

The GIL lets a threaded pipeline decode on one core at a time.  A
`ProcessQueueRunner` keeps the graph and the queue interfaces unchanged but
runs the per-example part of a pipeline (reader -> decoder -> the tensors
given to `batch`) in `processes` forked worker processes:

    parent                                   worker k (own Session, same graph)
    ------                                   ----------------------------------
    filename producer (QueueRunner)
    dispatcher thread: dequeue a filename -> pipe -> feeder thread: enqueue it
                                                     into the worker's own
                                                     filename queue
                                             main thread: run the tensors,
    receiver thread k: enqueue_many <- pipe <-   stack `chunk` examples
      into the batch queue (blocks when full,
      which blocks the worker: bounded memory)

Each filename goes to exactly one worker (round robin), so every record is
read once per epoch; epochs, shuffling of filenames and the end of input
(OutOfRangeError, then the batch queue closes after the last worker) behave
as in the threaded pipeline.  Chunks travel as raw array bytes through pipes
(no pickling of numeric data; string components are pickled).

Workers are forked (POSIX only) when the runner's threads start, so the graph
they run is the one built so far.  Their sessions hold no variables: the tensors a
worker runs must not read variables (readers and decoders do not).
"""
import multiprocessing
import pickle
import threading
import time

import numpy as np

from flowcore import batching, dtypes, errors
from flowcore.ops.core import placeholder

_END = b"end"
_FAIL = b"fail"
_READ_OPS = ("ReaderReadV2", "ReaderReadUpToV2")


def _filename_queue(tensors):
    """The queue op that the readers under `tensors` take filenames from."""
    seen, stack, queues = set(), [t.op for t in tensors], set()
    while stack:
        op = stack.pop()
        if op in seen:
            continue
        seen.add(op)
        if op.type in _READ_OPS:
            queues.add(op.inputs[1].op)
        stack.extend(t.op for t in op.inputs)
        stack.extend(op.control_inputs)
    if len(queues) != 1:
        raise ValueError("processes= needs the tensors to come from readers of exactly one "
                         "filename queue; found %d" % len(queues))
    return queues.pop()


def _send_arrays(conn, arrays):
    """Header (dtypes, shapes, which are pickled), then each array's bytes."""
    header = [(a.dtype.str if a.dtype != object else None, a.shape) for a in arrays]
    conn.send_bytes(pickle.dumps(header))
    for a in arrays:
        conn.send_bytes(pickle.dumps(a) if a.dtype == object
                        else np.ascontiguousarray(a).data)


def _recv_arrays(conn, first):
    out = []
    for dtype, shape in pickle.loads(first):
        raw = conn.recv_bytes()
        out.append(pickle.loads(raw) if dtype is None
                   else np.frombuffer(raw, dtype=np.dtype(dtype)).reshape(shape))
    return out


def _worker_main(session_factory, runner, filenames, results):
    """Body of worker process: feed our own filename queue from the parent's
    dispatch, run the tensors, send chunks; then an end (or failure) marker."""
    try:
        sess = session_factory(graph=runner._graph)

        def feed():
            try:
                while True:
                    name = filenames.recv()
                    if name is None:
                        break
                    sess.run(runner._worker_enqueue, {runner._worker_name: name})
                sess.run(runner._worker_close)
            except errors.OpError:
                pass                        # the session is closing
        feeder = threading.Thread(target=feed, daemon=True)
        feeder.start()
        # rows of up to `chunk` examples at a time where the step allows
        # (flowcore.batching), else one example per run
        rows = None if runner._enqueue_many else batching.batched_fetch(
            sess, runner._tensors, runner._chunk)
        join = runner._join if rows is None else (lambda bs: [np.concatenate(b) for b in bs])
        buffers = [[] for _ in runner._tensors]
        count = 0
        while True:
            try:
                if rows is None:
                    values, m = sess.run(runner._tensors), 1
                else:
                    values, m = rows()
            except errors.OutOfRangeError:
                break
            for b, v in zip(buffers, values):
                b.append(np.asarray(v))
            count += m
            if count >= runner._chunk:
                _send_arrays(results, join(buffers))
                buffers, count = [[] for _ in runner._tensors], 0
        if count:
            _send_arrays(results, join(buffers))
        results.send_bytes(_END)
    except BaseException as e:              # report, then let the process end
        try:
            results.send_bytes(_FAIL)
            results.send_bytes(pickle.dumps("%s: %s" % (type(e).__name__, e)))
        except Exception:
            pass


class _Worker:
    """One worker process, the parent's end of its filename pipe, and the
    child's pipe ends, which the parent closes once the child has them (so
    the receiver sees EOF if the worker dies)."""

    def __init__(self, process, filenames, child_ends):
        self.process, self.filenames, self._child_ends = process, filenames, child_ends

    def start(self):
        self.process.start()
        for c in self._child_ends:
            c.close()

    def stop(self, timeout):
        p = self.process
        if p.pid is None:
            return
        p.join(timeout)
        if p.is_alive():
            p.terminate()
            p.join()


class ProcessQueueRunner:
    """A QueueRunner whose enqueuing work runs in `processes` worker processes.

    `tensors` are per-example tensors computed from readers of one filename
    queue (or batches of examples with `enqueue_many`); they are enqueued
    into `queue` with `enqueue_many` in chunks of `chunk` runs.  Registered
    in QUEUE_RUNNERS by the batching functions' `processes=` option, and
    started by `start_queue_runners` like any runner.
    """

    def __init__(self, queue, tensors, processes, enqueue_many=False, chunk=64):
        if processes < 1:
            raise ValueError("processes must be >= 1, got %d" % processes)
        if not hasattr(multiprocessing, "get_context") or \
                "fork" not in multiprocessing.get_all_start_methods():
            raise NotImplementedError("processes= needs the 'fork' start method (POSIX)")
        self._queue = queue
        self._tensors = list(tensors)
        self._graph = self._tensors[0].graph
        self._processes = processes
        self._chunk = chunk
        self._enqueue_many = enqueue_many
        fq_op = _filename_queue(self._tensors)
        fq = _wrap_queue(fq_op)
        self._filename_dequeue = fq.dequeue()
        self._worker_name = placeholder(dtypes.string, [], name="worker_filename")
        self._worker_enqueue = fq.enqueue([self._worker_name])
        self._worker_close = fq.close()
        self._feeds = [placeholder(t.dtype, [None] + (t.shape[1:] if enqueue_many else t.shape)
                                   .as_list() if t.shape.ndims is not None else None)
                       for t in self._tensors]
        self.enqueue_ops = [queue.enqueue_many(self._feeds)]
        self.close_op = queue.close()
        self.cancel_op = queue.close(cancel_pending_enqueues=True)
        self.queue_closed_exception_types = (errors.OutOfRangeError,)
        self._exceptions = []
        self._lock = threading.Lock()

    name = property(lambda self: self._queue.name)
    queue = property(lambda self: self._queue)
    exceptions_raised = property(lambda self: list(self._exceptions))

    def _join(self, buffers):
        if self._enqueue_many:
            return [np.concatenate(b) for b in buffers]
        return [np.stack(b) for b in buffers]

    def create_threads(self, sess, coord=None, daemon=False, start=False):
        """The parent's threads: a dispatcher (which forks the workers when it
        starts, so nothing is forked for threads never started), one
        receiver per worker, and a stopper waiting on `coord`."""
        ctx = multiprocessing.get_context("fork")
        workers, receivers = [], []
        factory = type(sess)
        for _ in range(self._processes):
            name_recv, name_send = ctx.Pipe(duplex=False)
            res_recv, res_send = ctx.Pipe(duplex=False)
            p = ctx.Process(target=_worker_main, args=(factory, self, name_recv, res_send),
                            daemon=True)
            workers.append(_Worker(p, name_send, (name_recv, res_send)))
            receivers.append(res_recv)
        state = {"live": self._processes, "started": threading.Event()}
        threads = [threading.Thread(target=self._dispatch, args=(sess, coord, workers, state),
                                    daemon=daemon, name="%s-dispatch" % self.name)]
        for k, conn in enumerate(receivers):
            threads.append(threading.Thread(target=self._receive,
                                            args=(sess, coord, conn, state),
                                            daemon=daemon, name="%s-recv-%d" % (self.name, k)))
        threads.append(threading.Thread(target=self._stop_on_request,
                                        args=(sess, coord, workers, state), daemon=True,
                                        name="%s-stopper" % self.name))
        if coord is not None:
            for t in threads:
                coord.register_thread(t)
        if start:
            for t in threads:
                t.start()
        return threads

    def _report(self, coord, e):
        with self._lock:
            self._exceptions.append(e)
        if coord is not None:
            coord.request_stop(e)

    def _dispatch(self, sess, coord, workers, state):
        k = 0
        try:
            for w in workers:
                w.start()
        finally:
            state["started"].set()
        try:
            while coord is None or not coord.should_stop():
                name = sess.run(self._filename_dequeue)
                workers[k % len(workers)].filenames.send(name)
                k += 1
        except errors.OutOfRangeError:
            pass
        except errors.CancelledError:
            pass
        except Exception as e:
            self._report(coord, e)
        finally:
            for w in workers:
                try:
                    w.filenames.send(None)
                except OSError:
                    pass

    def _receive(self, sess, coord, conn, state):
        try:
            while coord is None or not coord.should_stop():
                try:
                    first = conn.recv_bytes()
                except EOFError:
                    raise errors.AbortedError(None, None, "an input worker process died")
                if first == _END:
                    break
                if first == _FAIL:
                    raise errors.UnknownError(None, None, "input worker failed: %s"
                                              % pickle.loads(conn.recv_bytes()))
                arrays = _recv_arrays(conn, first)
                sess.run(self.enqueue_ops[0], dict(zip(self._feeds, arrays)))
        except errors.CancelledError:
            return
        except Exception as e:
            self._report(coord, e)
            return
        with self._lock:
            state["live"] -= 1
            last = state["live"] == 0
        if last:
            try:
                sess.run(self.close_op)
            except errors.OpError:
                pass

    def _stop_on_request(self, sess, coord, workers, state):
        if coord is not None:
            coord.wait_for_stop()
            try:
                sess.run(self.cancel_op)
            except Exception:
                pass
        state["started"].wait(5.0)
        # after a stop, what the workers still produce is not wanted: give
        # them a moment to finish, then end them
        deadline = None if coord is None else time.monotonic() + 1.0
        for w in workers:
            w.stop(None if deadline is None else max(0.0, deadline - time.monotonic()))


def _wrap_queue(queue_op):
    """A QueueBase over an existing queue op (its dtypes and shapes)."""
    from pipeline.queues import QueueBase
    return QueueBase.from_op(queue_op)

