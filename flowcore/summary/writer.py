"""Event files: `FileWriter` appends `Event` protos for TensorBoard.

An event file is a TFRecord file named `events.out.tfevents.<seconds>.<host>`
(plus `filename_suffix`; `.<n>` before the suffix if that name is already
taken in the directory), whose first record is the event
`file_version: "brain.Event:2"`.  Events go through a bounded queue
(`max_queue`) to one background thread per writer, which serializes and
writes them and flushes the file at most `flush_secs` after writing an
event, on `flush()` and on `close()`, so `add_summary` never touches the disk
in the caller (it waits only when the queue is full).  An idle writer's
thread sleeps on the queue without waking up.

As in TF1, `add_*` on a closed writer does nothing (with a warning) until
`reopen()`, which starts a new file.  A write error in the background thread
is raised by the next `flush()` or `close()`.  A writer that is garbage
collected, or still open at interpreter exit, is flushed and its thread
stopped.
"""
import logging
import os
import queue
import socket
import threading
import time
import weakref

import numpy as np

from flowcore import records
from flowcore.protos import Event, GraphDef, MetaGraphDef, Summary, TaggedRunMetadata

__all__ = ["FileWriter", "FileWriterCache"]

_log = logging.getLogger("flowcore.summary")
FILE_VERSION = "brain.Event:2"
_STOP = object()


class _Flush:
    __slots__ = ("done",)

    def __init__(self):
        self.done = threading.Event()


def _event_file_path(logdir, suffix):
    base = "events.out.tfevents.%010d.%s" % (int(time.time()), socket.gethostname())
    path = os.path.join(logdir, base + suffix)
    n = 1
    while os.path.exists(path):
        path = os.path.join(logdir, "%s.%d%s" % (base, n, suffix))
        n += 1
    return path


class _Worker:
    """The background thread of one events file: owns the file and its queue."""

    def __init__(self, path, max_queue, flush_secs):
        self.path = path
        self.flush_secs = flush_secs
        self.queue = queue.Queue(max(1, int(max_queue)))
        self.error = None
        self.stop_requested = False
        self.writer = records.TFRecordWriter(path)
        first = Event(wall_time=time.time(), file_version=FILE_VERSION)
        self.writer.write(first.SerializeToString())
        self.writer.flush()
        self.thread = threading.Thread(target=self._run, daemon=True,
                                       name="EventFileWriter(%s)" % os.path.basename(path))
        self.thread.start()

    def _run(self):
        dirty = False             # events written but not yet flushed
        next_flush = 0.0          # when they must be flushed
        while True:
            timeout = max(0.0, next_flush - time.monotonic()) if dirty else None
            try:
                item = self.queue.get(timeout=timeout)
            except queue.Empty:
                item = None
            try:
                if isinstance(item, Event) and self.error is None:
                    self.writer.write(item.SerializeToString())
                    if not dirty:
                        dirty, next_flush = True, time.monotonic() + self.flush_secs
                if dirty and (item is _STOP or isinstance(item, _Flush) or
                              time.monotonic() >= next_flush):
                    dirty = False
                    self.writer.flush()
            except Exception as e:   # reported by the next flush() / close()
                self.error = e
            finally:
                if isinstance(item, _Flush):
                    item.done.set()
            if item is _STOP or (self.stop_requested and self.queue.empty()):
                break
        try:
            self.writer.close()
        except Exception as e:
            if self.error is None:
                self.error = e

    def put(self, item):
        self.queue.put(item)

    def flush(self):
        f = _Flush()
        self.queue.put(f)
        f.done.wait()

    def stop(self):
        """Flush, close the file and end the thread (idempotent)."""
        if not self.thread.is_alive():
            return
        if threading.current_thread() is self.thread:
            # garbage collection ran the finalizer inside the writer thread itself
            self.stop_requested = True
            return
        self.queue.put(_STOP)
        self.thread.join()


class EventFileWriter:
    """Writes Event protos to one events file at a time from a background thread."""

    def __init__(self, logdir, max_queue=10, flush_secs=120, filename_suffix=None):
        self._logdir = str(logdir)
        os.makedirs(self._logdir, exist_ok=True)
        self._max_queue = max_queue
        self._flush_secs = flush_secs
        self._suffix = filename_suffix or ""
        self._lock = threading.Lock()
        self._worker = None
        self._finalizer = None
        self._open()

    def _open(self):
        self._worker = _Worker(_event_file_path(self._logdir, self._suffix),
                               self._max_queue, self._flush_secs)
        # flushed and stopped when this writer is collected or at interpreter exit
        self._finalizer = weakref.finalize(self, self._worker.stop)

    def get_logdir(self):
        return self._logdir

    @property
    def path(self):
        """The events file being written (the last one, once closed)."""
        return self._worker.path

    @property
    def closed(self):
        return self._finalizer is None or not self._finalizer.alive

    def add_event(self, event):
        with self._lock:
            if not self.closed:
                self._worker.put(event)

    def flush(self):
        """Write every queued event and flush the file."""
        with self._lock:          # held so that close() cannot end the thread meanwhile
            if self.closed:
                return
            self._worker.flush()
            self._raise_error(self._worker)

    def close(self):
        """Flush and close the file; stop the thread.  Closing twice is harmless."""
        with self._lock:
            if self.closed:
                return
            worker = self._worker
            self._finalizer()
        self._raise_error(worker)

    def reopen(self):
        """After `close()`, start writing to a new events file."""
        with self._lock:
            if self.closed:
                self._open()

    @staticmethod
    def _raise_error(worker):
        err, worker.error = worker.error, None
        if err is not None:
            raise err


class FileWriter:
    """TF1's `tf.summary.FileWriter`: summaries, graphs and session logs to an
    events file in `logdir` for TensorBoard.  `graph` (or `graph_def`) is
    written at once, as a GraphDef and as a MetaGraphDef.  `session` is
    accepted for compatibility; events are always written in-process."""

    def __init__(self, logdir, graph=None, max_queue=10, flush_secs=120, graph_def=None,
                 filename_suffix=None, session=None):
        self.event_writer = EventFileWriter(logdir, max_queue, flush_secs, filename_suffix)
        self._closed = False
        self._session_run_tags = set()
        self._seen_summary_tags = set()
        if graph is not None or graph_def is not None:
            self.add_graph(graph=graph, graph_def=graph_def)
            from flowcore.graph import Graph
            if isinstance(graph, Graph):
                from flowcore import meta_graph
                self.add_meta_graph(meta_graph.create_meta_graph_def(graph=graph))
            else:
                gd = graph_def if graph_def is not None else graph
                self.add_meta_graph(MetaGraphDef(graph_def=_as_graph_def(gd)))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def get_logdir(self):
        return self.event_writer.get_logdir()

    def _usable(self):
        if self._closed:
            _log.warning("Attempting to use a closed FileWriter. The operation will be a "
                         "noop unless the FileWriter is explicitly reopened.")
            return False
        return True

    def _add_event(self, event, step):
        event.wall_time = time.time()
        if step is not None:
            event.step = int(step)
        self.event_writer.add_event(event)

    def add_event(self, event):
        """Write `event` (an Event proto) as it is."""
        if self._usable():
            self.event_writer.add_event(event)

    def add_summary(self, summary, global_step=None):
        """Write a Summary (a proto, or the bytes a summary op returns) at
        `global_step`.  Plugin metadata is kept only on a tag's first value."""
        if not self._usable():
            return
        s = Summary()
        if isinstance(summary, np.ndarray) and summary.size == 1:
            summary = summary.reshape(-1)[0]
        if isinstance(summary, (bytes, bytearray, np.bytes_)):
            s.ParseFromString(bytes(summary))
        elif hasattr(summary, "SerializeToString"):
            s.ParseFromString(summary.SerializeToString())
        else:
            raise TypeError("add_summary expects a Summary proto or its serialized bytes, "
                            "got %s" % type(summary).__name__)
        for v in s.value:
            if not v.HasField("metadata"):
                continue
            if v.tag in self._seen_summary_tags:
                v.ClearField("metadata")
            else:
                self._seen_summary_tags.add(v.tag)
        self._add_event(Event(summary=s), global_step)

    def add_session_log(self, session_log, global_step=None):
        """Write a SessionLog (START, STOP, CHECKPOINT) event."""
        if self._usable():
            self._add_event(Event(session_log=session_log), global_step)

    def add_graph(self, graph, global_step=None, graph_def=None):
        """Write `graph` (a Graph, or a GraphDef) for TensorBoard's graph tab."""
        if not self._usable():
            return
        if graph is not None and graph_def is not None:
            raise ValueError("Please pass only graph, or graph_def (deprecated), but not both.")
        from flowcore.graph import Graph
        if isinstance(graph, Graph):
            gd = graph.as_graph_def(add_shapes=True)
        else:
            gd = _as_graph_def(graph if graph is not None else graph_def)
        self._add_event(Event(graph_def=gd.SerializeToString()), global_step)

    def add_meta_graph(self, meta_graph_def, global_step=None):
        """Write a MetaGraphDef."""
        if not isinstance(meta_graph_def, MetaGraphDef):
            raise TypeError("meta_graph_def must be type MetaGraphDef, saw type: %s"
                            % type(meta_graph_def))
        if self._usable():
            self._add_event(Event(meta_graph_def=meta_graph_def.SerializeToString()),
                            global_step)

    def add_run_metadata(self, run_metadata, tag, global_step=None):
        """Write a run's metadata under `tag` (each tag once)."""
        if not self._usable():
            return
        if tag in self._session_run_tags:
            raise ValueError("The provided tag was already used for this event type")
        self._session_run_tags.add(tag)
        raw = run_metadata.SerializeToString() if hasattr(run_metadata, "SerializeToString") \
            else b""
        self._add_event(Event(tagged_run_metadata=TaggedRunMetadata(tag=tag, run_metadata=raw)),
                        global_step)

    def flush(self):
        """Write everything added so far to disk."""
        if self._usable():
            self.event_writer.flush()

    def close(self):
        """Flush and close the events file; later `add_*` calls are ignored."""
        self.event_writer.close()
        self._closed = True

    def reopen(self):
        """Reopen a closed writer: events go to a new file in the same logdir."""
        self.event_writer.reopen()
        self._closed = False


def _as_graph_def(g):
    if isinstance(g, GraphDef):
        return g
    if isinstance(g, (bytes, bytearray)):
        return GraphDef.FromString(bytes(g))
    if hasattr(g, "SerializeToString"):
        return GraphDef.FromString(g.SerializeToString())
    raise TypeError("The passed graph must be an instance of `Graph` or the deprecated "
                    "`GraphDef`")


class FileWriterCache:
    """One shared FileWriter per log directory."""

    _cache = {}
    _lock = threading.Lock()

    @staticmethod
    def get(logdir):
        """The FileWriter for `logdir`, created (with the default graph) on first use."""
        with FileWriterCache._lock:
            w = FileWriterCache._cache.get(logdir)
            if w is None:
                from flowcore.graph import get_default_graph
                w = FileWriterCache._cache[logdir] = FileWriter(logdir,
                                                                graph=get_default_graph())
            return w

    @staticmethod
    def clear():
        """Close and forget every cached writer."""
        with FileWriterCache._lock:
            writers = list(FileWriterCache._cache.values())
            FileWriterCache._cache = {}
        for w in writers:
            w.close()

