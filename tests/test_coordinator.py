"""Coordinator and LooperThread: TF1's contract (stop flag, first error
wins, clean-stop types, join with grace period, stragglers)."""
import sys
import threading
import time
import traceback

import pytest

import flowcore.compat.v1 as tf
from flowcore import errors
from _queue_helpers import finish, wait_for


def _stop_on_event(coord, ev):
    """A thread body: wait for `ev`, then request a stop."""
    ev.wait()
    coord.request_stop()


def _wait_for_stop(coord):
    coord.wait_for_stop()


def _raise_in_thread(coord, ev, ex):
    ev.wait()
    with coord.stop_on_exception():
        raise ex


def _ignore_stop(release):
    release.wait()


def test_exported_in_train():
    assert tf.train.Coordinator is not None and tf.train.LooperThread is not None


def test_stop_api():
    coord = tf.train.Coordinator()
    assert not coord.should_stop()
    assert not coord.wait_for_stop(0.01)
    coord.request_stop()
    assert coord.should_stop()
    assert coord.wait_for_stop(0.01)
    assert coord.wait_for_stop()


def test_stop_from_another_thread():
    coord = tf.train.Coordinator()
    ev = threading.Event()
    t = threading.Thread(target=_stop_on_event, args=(coord, ev))
    t.start()
    assert not coord.should_stop() and not coord.wait_for_stop(0.01)
    ev.set()
    assert coord.wait_for_stop(5)
    finish(t)


def test_join_waits_for_threads_after_stop():
    coord = tf.train.Coordinator()
    threads = [threading.Thread(target=_wait_for_stop, args=(coord,)) for _ in range(3)]
    for t in threads:
        t.start()
    coord.request_stop()
    coord.join(threads)
    assert not any(t.is_alive() for t in threads)
    assert coord.joined


def test_join_returns_when_all_threads_end_without_a_stop():
    coord = tf.train.Coordinator()
    threads = [threading.Thread(target=lambda: None) for _ in range(3)]
    for t in threads:
        t.start()
    t0 = time.monotonic()
    coord.join(threads)
    assert time.monotonic() - t0 < 1.0 and not coord.should_stop()


def test_join_registered_threads_and_union():
    coord = tf.train.Coordinator()
    registered = [threading.Thread(target=_wait_for_stop, args=(coord,)) for _ in range(2)]
    extra = threading.Thread(target=_wait_for_stop, args=(coord,))
    for t in registered:
        coord.register_thread(t)
        t.start()
    extra.start()
    coord.request_stop()
    coord.join([extra])
    assert not any(t.is_alive() for t in registered + [extra])
    coord.clear_stop()
    coord.join()                      # registrations were consumed by the first join


def test_join_does_not_wait_for_a_thread_never_started():
    coord = tf.train.Coordinator()
    coord.request_stop()
    coord.join([threading.Thread(target=lambda: None)])


def test_straggler_raises_runtime_error_naming_it():
    coord = tf.train.Coordinator()
    release = threading.Event()
    t = threading.Thread(target=_ignore_stop, args=(release,), name="stubborn")
    t.start()
    coord.request_stop()
    t0 = time.monotonic()
    with pytest.raises(RuntimeError, match="stubborn"):
        coord.join([t], stop_grace_period_secs=0.05)
    assert time.monotonic() - t0 < 2.0
    release.set()
    finish(t)


def test_straggler_ignored_when_asked():
    coord = tf.train.Coordinator()
    release = threading.Event()
    t = threading.Thread(target=_ignore_stop, args=(release,))
    t.start()
    coord.request_stop()
    coord.join([t], stop_grace_period_secs=0.02, ignore_live_threads=True)
    release.set()
    finish(t)


def test_grace_period_lets_slow_threads_finish():
    coord = tf.train.Coordinator()
    release = threading.Event()
    t = threading.Thread(target=_ignore_stop, args=(release,))
    t.start()
    coord.request_stop()
    threading.Timer(0.05, release.set).start()
    coord.join([t], stop_grace_period_secs=10)
    assert not t.is_alive()


def test_join_reraises_reported_exception_with_traceback():
    coord = tf.train.Coordinator()
    ev = threading.Event()
    t = threading.Thread(target=_raise_in_thread, args=(coord, ev, RuntimeError("First")))
    coord.register_thread(t)
    t.start()
    ev.set()
    with pytest.raises(RuntimeError, match="First") as e:
        coord.join()
    frames = [f.name for f in traceback.extract_tb(e.value.__traceback__)]
    assert "_raise_in_thread" in frames


def test_first_exception_wins():
    coord = tf.train.Coordinator()
    try:
        raise ValueError("first")
    except ValueError as e:
        coord.request_stop(e)
    try:
        raise KeyError("second")
    except KeyError as e:
        coord.request_stop(e)
    with pytest.raises(ValueError, match="first"):
        coord.join()


def test_exc_info_tuple_and_exception_outside_handler():
    coord = tf.train.Coordinator()
    try:
        raise IndexError("from exc_info")
    except IndexError:
        coord.request_stop(sys.exc_info())
    with pytest.raises(IndexError, match="from exc_info"):
        coord.join()
    coord = tf.train.Coordinator()
    coord.request_stop(TypeError("not raised"))
    with pytest.raises(TypeError, match="not raised"):
        coord.join()


def test_out_of_range_is_a_clean_stop():
    coord = tf.train.Coordinator()
    ev = threading.Event()
    t = threading.Thread(target=_raise_in_thread,
                         args=(coord, ev, errors.OutOfRangeError(None, None, "done")))
    coord.register_thread(t)
    t.start()
    ev.set()
    coord.join()                      # no exception
    assert coord.should_stop()


def test_custom_clean_stop_exception_types():
    coord = tf.train.Coordinator(clean_stop_exception_types=(ValueError,))
    with coord.stop_on_exception():
        raise ValueError("fine")
    coord.join()
    coord = tf.train.Coordinator(clean_stop_exception_types=())
    with coord.stop_on_exception():
        raise errors.OutOfRangeError(None, None, "now an error")
    with pytest.raises(errors.OutOfRangeError):
        coord.join()


def test_stop_on_exception_without_exception_does_not_stop():
    coord = tf.train.Coordinator()
    with coord.stop_on_exception():
        pass
    assert not coord.should_stop()


def test_request_stop_after_join_raises():
    coord = tf.train.Coordinator()
    coord.request_stop()
    coord.join()
    coord.request_stop()              # no exception: fine
    with pytest.raises(ValueError, match="late"):
        try:
            raise ValueError("late")
        except ValueError as e:
            coord.request_stop(e)
    with pytest.raises(KeyError):
        try:
            raise KeyError("late tuple")
        except KeyError:
            coord.request_stop(sys.exc_info())
    coord.request_stop(errors.OutOfRangeError(None, None, "clean"))   # still clean


def test_clear_stop_forgets_stop_and_exception():
    coord = tf.train.Coordinator()
    coord.request_stop(ValueError("x"))
    coord.clear_stop()
    assert not coord.should_stop() and not coord.joined
    coord.raise_requested_exception()     # nothing kept
    coord.request_stop()
    coord.join()
    assert coord.joined
    coord.clear_stop()
    assert not coord.joined


def test_raise_requested_exception():
    coord = tf.train.Coordinator()
    coord.raise_requested_exception()
    try:
        raise ValueError("kept")
    except ValueError as e:
        coord.request_stop(e)
    with pytest.raises(ValueError, match="kept"):
        coord.raise_requested_exception()
    with pytest.raises(ValueError, match="kept"):
        coord.join()


def test_stop_after_join_started_bounds_the_wait():
    coord = tf.train.Coordinator()
    release = threading.Event()
    t = threading.Thread(target=_ignore_stop, args=(release,), name="slow")
    t.start()
    threading.Timer(0.05, coord.request_stop).start()
    with pytest.raises(RuntimeError, match="slow"):
        coord.join([t], stop_grace_period_secs=0.05)
    release.set()
    finish(t)


# -- LooperThread ---------------------------------------------------------------------------

def test_looper_back_to_back_until_stop():
    coord = tf.train.Coordinator()
    calls = []

    def target(x):
        calls.append(x)
        if len(calls) == 5:
            coord.request_stop()
    t = tf.train.LooperThread.loop(coord, None, target, args=(7,))
    assert t.daemon
    coord.join()
    assert calls == [7] * 5


def test_looper_timer_interval():
    coord = tf.train.Coordinator()
    times = []

    def target():
        times.append(time.monotonic())
        if len(times) == 3:
            coord.request_stop()
    tf.train.LooperThread.loop(coord, 0.02, target)
    coord.join()
    assert len(times) == 3
    assert times[2] - times[0] >= 0.035            # first call at once, then every 0.02 s


def test_looper_exception_stops_coordinator():
    coord = tf.train.Coordinator()

    def target():
        raise ValueError("looper failed")
    tf.train.LooperThread.loop(coord, None, target)
    with pytest.raises(ValueError, match="looper failed"):
        coord.join()


def test_looper_subclass_hooks():
    coord = tf.train.Coordinator()
    events = []

    class Looper(tf.train.LooperThread):
        def start_loop(self):
            events.append("start")

        def run_loop(self):
            events.append("loop")
            coord.request_stop()

        def stop_loop(self):
            events.append("stop")
    Looper(coord, None).start()
    coord.join()
    assert events == ["start", "loop", "stop"]


def test_looper_argument_checks():
    with pytest.raises(ValueError, match="Coordinator"):
        tf.train.LooperThread(object(), None)
    with pytest.raises(ValueError, match="target"):
        tf.train.LooperThread(tf.train.Coordinator(), None, args=(1,))


def test_looper_is_registered():
    coord = tf.train.Coordinator()
    t = tf.train.LooperThread.loop(coord, 0.01, lambda: None)
    wait_for(t.is_alive)
    coord.request_stop()
    coord.join()                      # joins the registered looper
    assert not t.is_alive()
