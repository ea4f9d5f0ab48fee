"""Helpers for threaded tests: run a function in a thread and look at how it ended."""
import threading
import time


class Background(threading.Thread):
    """Runs `fn()` once; `.result` or `.error` afterwards."""

    def __init__(self, fn, name=None):
        super().__init__(daemon=True, name=name)
        self.fn = fn
        self.result = None
        self.error = None

    def run(self):
        try:
            self.result = self.fn()
        except BaseException as e:   # noqa: B902 - reported to the test
            self.error = e


def bg(fn, name=None):
    t = Background(fn, name)
    t.start()
    return t


def finish(t, timeout=5.0):
    """Join `t`; fail if it is still running after `timeout` seconds."""
    t.join(timeout)
    assert not t.is_alive(), "thread %s did not finish" % t.name
    return t


def still_blocked(t, timeout=0.05):
    """True if `t` is still running after `timeout` seconds."""
    t.join(timeout)
    return t.is_alive()


def wait_for(predicate, timeout=5.0):
    """Wait until `predicate()` is true (a state another thread reaches)."""
    end = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > end:
            raise AssertionError("condition not reached in %.1f s" % timeout)
        time.sleep(0.001)


def queue_state(sess, queue):
    """The session's state of `queue` (after it has been used in `sess`)."""
    op = queue.queue_ref.op
    shared = op.attrs.get("shared_name")
    return sess._resources[("queue", shared) if shared else op]
