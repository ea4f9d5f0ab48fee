"""Coordinator: stop a team of threads together, and report the first error.

Contract (TF1's `tf.train.Coordinator`):

- `request_stop(ex=None)` sets the stop flag; the first exception passed (an
  exception instance, or an `exc_info` triple) is kept, unless it is one of
  `clean_stop_exception_types` (by default `OutOfRangeError`: inputs ran
  out, a normal end).  After `join`, `request_stop(ex)` re-raises `ex`
  instead, since nobody would report it.
- `join(threads)` waits for the threads (and those registered with
  `register_thread`) until they have all ended, or until a stop is requested
  and `stop_grace_period_secs` more have passed.  It then re-raises the kept
  exception with its traceback, or raises RuntimeError naming the threads
  still alive (unless `ignore_live_threads`).
- `clear_stop()` forgets the stop and the exception, so the coordinator can
  be used again.

`LooperThread` runs a function repeatedly (back to back, or every
`timer_interval_secs`) until the coordinator stops; an exception in it stops
the coordinator.
"""
import contextlib
import logging
import sys
import threading
import time

from flowcore import errors

__all__ = ["Coordinator", "LooperThread"]

_log = logging.getLogger("flowcore.pipeline")

# how often join() looks at the stop flag while it waits for a thread to end
_JOIN_SLICE = 0.05


class Coordinator:
    """A stop flag shared by threads, and the first exception that caused a stop."""

    def __init__(self, clean_stop_exception_types=None):
        if clean_stop_exception_types is None:
            clean_stop_exception_types = (errors.OutOfRangeError,)
        self._clean_stop_exception_types = tuple(clean_stop_exception_types)
        self._lock = threading.Lock()
        self._stop_event = threading.Event()
        self._exc_info_to_raise = None
        self._joined = False
        self._registered_threads = set()

    def _filter_exception(self, ex):
        value = ex[1] if isinstance(ex, tuple) else ex
        if isinstance(value, self._clean_stop_exception_types):
            return None
        return ex

    def request_stop(self, ex=None):
        """Ask every thread to stop.  `ex` (an exception or an exc_info
        triple) is kept if it is the first one and not a clean-stop type; call
        this from the `except` block that caught `ex`, so its traceback is kept."""
        with self._lock:
            ex = self._filter_exception(ex)
            if self._joined:
                # Nobody will join again: raise the error here instead of losing it.
                if isinstance(ex, tuple):
                    raise ex[1].with_traceback(ex[2])
                if ex is not None:
                    raise ex
            if self._stop_event.is_set():
                return
            if ex is not None and self._exc_info_to_raise is None:
                if isinstance(ex, tuple):
                    info = ex
                else:
                    info = sys.exc_info()
                    if info[1] is not ex:
                        info = (type(ex), ex, ex.__traceback__)
                if len(info) != 3 or not info[0] or not info[1]:
                    try:
                        raise ValueError("ex must be a tuple or sys.exc_info must return the "
                                         "current exception: %s" % (info,))
                    except ValueError:
                        info = sys.exc_info()
                _log.info("Error reported to Coordinator: %s", info[1])
                self._exc_info_to_raise = info
            self._stop_event.set()

    def clear_stop(self):
        """Forget the stop request and the kept exception."""
        with self._lock:
            self._joined = False
            self._exc_info_to_raise = None
            self._stop_event.clear()

    def should_stop(self):
        """True once a stop has been requested."""
        return self._stop_event.is_set()

    @contextlib.contextmanager
    def stop_on_exception(self):
        """Context manager: an exception inside requests a stop (with it)
        instead of propagating.  Clean-stop types stop without an error."""
        try:
            yield
        except BaseException:
            self.request_stop(ex=sys.exc_info())

    def wait_for_stop(self, timeout=None):
        """Block until a stop is requested (or `timeout` seconds pass);
        return whether it was requested."""
        return self._stop_event.wait(timeout)

    def register_thread(self, thread):
        """Have `join()` wait for `thread` too."""
        with self._lock:
            self._registered_threads.add(thread)

    def join(self, threads=None, stop_grace_period_secs=120, ignore_live_threads=False):
        """Wait for `threads` and the registered threads to end (see the
        module docstring); re-raise the kept exception, or RuntimeError
        naming threads still alive after the grace period."""
        with self._lock:
            if threads is None:
                threads = self._registered_threads
            else:
                threads = self._registered_threads.union(set(threads))
            threads = list(threads)

        # until every thread ended or a stop was requested
        for t in threads:
            while t.is_alive() and not self._stop_event.is_set():
                t.join(_JOIN_SLICE)
        # then at most the grace period more
        deadline = time.monotonic() + max(stop_grace_period_secs, 0)
        for t in threads:
            remaining = deadline - time.monotonic()
            if remaining > 0 and t.is_alive():
                t.join(remaining)
        stragglers = [t.name for t in threads if t.is_alive()]

        with self._lock:
            self._joined = True
            self._registered_threads = set()
            if self._exc_info_to_raise:
                _, value, tb = self._exc_info_to_raise
                raise value.with_traceback(tb)
            if stragglers:
                if ignore_live_threads:
                    _log.info("Coordinator stopped with threads still running: %s",
                              " ".join(stragglers))
                else:
                    raise RuntimeError("Coordinator stopped with threads still running: %s"
                                       % " ".join(stragglers))

    @property
    def joined(self):
        """True once `join()` has finished (until `clear_stop()`)."""
        return self._joined

    def raise_requested_exception(self):
        """Raise the kept exception, if any."""
        with self._lock:
            if self._exc_info_to_raise:
                _, value, tb = self._exc_info_to_raise
                raise value.with_traceback(tb)


class LooperThread(threading.Thread):
    """A daemon thread calling `run_loop()` (by default `target(*args,
    **kwargs)`) until the coordinator stops: back to back when
    `timer_interval_secs` is None, else every `timer_interval_secs` seconds
    (first call at once).  An exception stops the coordinator with it."""

    def __init__(self, coord, timer_interval_secs, target=None, args=None, kwargs=None):
        if not isinstance(coord, Coordinator):
            raise ValueError("'coord' argument must be a Coordinator: %s" % coord)
        super().__init__()
        self.daemon = True
        self._coord = coord
        self._timer_interval_secs = timer_interval_secs
        self._target = target
        if self._target:
            self._args = args or ()
            self._kwargs = kwargs or {}
        elif args or kwargs:
            raise ValueError("'args' and 'kwargs' argument require that you also pass "
                             "'target'")
        self._coord.register_thread(self)

    @staticmethod
    def loop(coord, timer_interval_secs, target, args=None, kwargs=None):
        """Start and return a LooperThread calling `target` in a loop."""
        looper = LooperThread(coord, timer_interval_secs, target=target, args=args,
                              kwargs=kwargs)
        looper.start()
        return looper

    def run(self):
        coord = self._coord
        with coord.stop_on_exception():
            self.start_loop()
            if self._timer_interval_secs is None:
                while not coord.should_stop():
                    self.run_loop()
            else:
                next_time = time.monotonic()
                while not coord.wait_for_stop(max(next_time - time.monotonic(), 0)):
                    next_time += self._timer_interval_secs
                    self.run_loop()
            self.stop_loop()

    def start_loop(self):
        """Called once in the thread before the loop."""

    def stop_loop(self):
        """Called once in the thread after the loop."""

    def run_loop(self):
        """Called at each iteration."""
        if self._target:
            self._target(*self._args, **self._kwargs)
