"""Run one benchmark job in this process and print its result as one JSON line.

    python -m benchmarks.run_one --framework flowcore --job csv_batch [--repeat 3]
        [--scale 1] [--data-dir benchmarks/.data]

The harness (`python -m benchmarks`) starts one such process per (framework,
job), so TensorFlow's thread pools and flowcore never share a process and the
peak RSS (`ru_maxrss`) belongs to one job.  The data files must already exist
(the harness makes them); this process never generates data.

Rows whose pipeline runs in worker processes (`Job.processes`, flowcore's
`processes=`) count the workers too: `rss_peak_kib` is this process's peak
(`RUSAGE_SELF`) plus `processes` times the largest peak of any worker reaped so
far (`RUSAGE_CHILDREN`'s `ru_maxrss`: Linux reports the largest child, not a
sum), an upper bound, since pages a forked worker still shares with this
process are counted again.  `cpu_s` per run is the CPU time (user + system)
of this process and its reaped workers during the job, so `cores` = cpu_s /
the job's wall time shows how many cores it kept busy.

Between runs, `gc.collect()` frees the last run's closed session (sessions,
queues and runner threads form reference cycles), so a run does not start
(or fork its workers) with the previous run's queues still in memory.

After the timed runs, a job's `verify` (if any) runs once, untimed; its
message goes in the result, and a failure fails the row (`--no-verify` skips
it, for `--memory-check`).
"""
import argparse
import gc
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


def children_rss_kib():
    """The largest peak RSS of any reaped child (KiB; 0 before the first)."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss


def cpu_seconds():
    """User + system CPU time of this process and its reaped children."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--framework", choices=["flowcore", "tensorflow"], default="flowcore")
    ap.add_argument("--job", required=True)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--data-scale", type=float, default=None,
                    help="size the dataset as for this scale (see Job.plan)")
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--no-verify", action="store_true", help="skip the job's untimed check")
    args = ap.parse_args(argv)

    from benchmarks import data as bdata, jobs
    job = jobs.BY_NAME[args.job]
    if args.framework not in job.frameworks:
        sys.exit("row %s runs under %s only" % (job.name, " and ".join(job.frameworks)))
    plan = job.plan(args.scale, args.data_dir or bdata.DEFAULT_DIR, make=False,
                    data_scale=args.data_scale)
    missing = [p for p in plan["files"] if not os.path.exists(p)]
    if missing:
        sys.exit("data files missing (run the harness, which makes them): %s" % missing)

    tf = namespace(args.framework)
    base = rss_kib()
    rates, counts, seconds, cpu, cores = [], [], [], [], []
    started = time.perf_counter()
    for _ in range(max(1, args.repeat)):
        c0, t0 = cpu_seconds(), time.perf_counter()
        n, s = job.fn(tf, plan)
        c, t = cpu_seconds() - c0, time.perf_counter() - t0
        counts.append(n)
        seconds.append(s)
        rates.append(n / s if s > 0 else float("inf"))
        cpu.append(c)
        cores.append(c / t if t > 0 else 0.0)
        gc.collect()    # free the closed session's queues (cycles) before the next run
    rss_self, rss_child = rss_kib(), children_rss_kib()
    result = {
        "job": job.name, "framework": args.framework, "unit": job.unit,
        "median": statistics.median(rates), "rates": rates, "counts": counts,
        "seconds": seconds, "cpu_s": cpu, "cores": statistics.median(cores),
        "records": plan["records"], "epochs": plan["epochs"], "steps": plan["steps"],
        "rss_base_kib": base, "rss_self_kib": rss_self, "processes": job.processes,
        "rss_children_kib": rss_child,
        "rss_peak_kib": rss_self + job.processes * rss_child,
        "wall": time.perf_counter() - started, "python": sys.executable}
    if job.verify is not None and not args.no_verify:
        result["verified"] = job.verify(tf, plan)
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
