"""Shared helpers for benchmarks: import flowcore from this checkout, time a
loop, import TensorFlow's compat.v1 when it is installed, print a table."""
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)


def rate(fn, min_time=1.0, batch=1):
    """Calls (or items, with `batch`) per second of `fn()`, timed over at
    least `min_time` seconds after a warm-up call."""
    fn()
    n, elapsed = 0, 0.0
    reps = 1
    while elapsed < min_time:
        t0 = time.perf_counter()
        for _ in range(reps):
            fn()
        elapsed += time.perf_counter() - t0
        n += reps
        reps = min(reps * 2, 100000)
    return n * batch / elapsed


def tensorflow_v1():
    """`tensorflow.compat.v1` in graph mode, or None when not installed."""
    if os.environ.get("FLOWCORE_BENCH_NO_TF"):
        return None
    try:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        import tensorflow.compat.v1 as tftf
    except ImportError:
        return None
    tftf.disable_eager_execution()
    return tftf


def report(title, unit, ours, theirs):
    """Print one benchmark row: flowcore, TensorFlow (if measured) and ratio."""
    if theirs is None:
        print("%-34s flowcore %12.0f %s   (tensorflow not importable)" % (title, ours, unit))
    else:
        print("%-34s flowcore %12.0f %s   tensorflow %12.0f %s   ratio %.2fx"
              % (title, ours, unit, theirs, unit, ours / theirs))
