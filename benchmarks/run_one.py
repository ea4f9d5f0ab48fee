"""Run one benchmark job in this process and print its result as one JSON line.

    python -m benchmarks.run_one --framework flowcore --job csv_batch [--repeat 3]
        [--scale 1] [--data-dir benchmarks/.data]

The harness (`python -m benchmarks`) starts one such process per (framework,
job), so TensorFlow's thread pools and flowcore never share a process and the
peak RSS (`ru_maxrss`) belongs to one job.  The data files must already exist
(the harness makes them); this process never generates data.
"""
import argparse
import json
import os
import resource
import statistics
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)


def namespace(framework):
    """The `tf` namespace the jobs are written against."""
    if framework == "tensorflow":
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        import tensorflow.compat.v1 as tf
        tf.disable_eager_execution()
        tf.logging.set_verbosity(tf.logging.ERROR)
        return tf
    import flowcore.compat.v1 as tf
    return tf


def rss_kib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss     # KiB on Linux


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--framework", choices=["flowcore", "tensorflow"], default="flowcore")
    ap.add_argument("--job", required=True)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--data-scale", type=float, default=None,
                    help="size the dataset as for this scale (see Job.plan)")
    ap.add_argument("--data-dir", default=None)
    args = ap.parse_args(argv)

    from benchmarks import data as bdata, jobs
    job = jobs.BY_NAME[args.job]
    plan = job.plan(args.scale, args.data_dir or bdata.DEFAULT_DIR, make=False,
                    data_scale=args.data_scale)
    missing = [p for p in plan["files"] if not os.path.exists(p)]
    if missing:
        sys.exit("data files missing (run the harness, which makes them): %s" % missing)

    tf = namespace(args.framework)
    base = rss_kib()
    rates, counts, seconds = [], [], []
    started = time.perf_counter()
    for _ in range(max(1, args.repeat)):
        n, s = job.fn(tf, plan)
        counts.append(n)
        seconds.append(s)
        rates.append(n / s if s > 0 else float("inf"))
    print(json.dumps({
        "job": job.name, "framework": args.framework, "unit": job.unit,
        "median": statistics.median(rates), "rates": rates, "counts": counts,
        "seconds": seconds, "records": plan["records"], "epochs": plan["epochs"],
        "steps": plan["steps"], "rss_base_kib": base, "rss_peak_kib": rss_kib(),
        "wall": time.perf_counter() - started, "python": sys.executable}), flush=True)


if __name__ == "__main__":
    main()
