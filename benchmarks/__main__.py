"""The benchmark harness: every row of issue 8's table, flowcore and optionally
TensorFlow side by side.

    python -m benchmarks [--compare] [--repeat N] [--scale S] [--only ROW ...]
                         [--python PATH] [--tf-python PATH] [--markdown]
                         [--json FILE] [--from-json FILE] [--memory-check] [--list]

Run it from the repository root.  Data is generated once (deterministically)
into `benchmarks/.data/`.  Each (framework, row) runs in its own process
(`python -m benchmarks.run_one`), so TensorFlow's threads never compete with
flowcore's and the peak RSS printed belongs to that row alone; a row reports
the median of `--repeat` runs.

TensorFlow is optional.  With `--compare`, rows also run under
`tensorflow.compat.v1`, in the interpreter given by `--tf-python`, else this
one when it can import tensorflow, else `$FLOWCORE_TF_PYTHON`; without any,
the table shows flowcore alone.  flowcore rows run in `--python` (default:
this interpreter) with the repository root on `sys.path`.

`--scale S` multiplies the records read (epochs over the same files) and the
steps run; `--memory-check` runs each flowcore row at S and 10*S and prints
the growth of peak RSS, which must stay within a few MiB for pipelines whose
memory is bounded by their queue capacities.

Rows that run flowcore's `processes=` (`Job.frameworks == ("flowcore",)`)
are skipped for TensorFlow, which has no such option: their TensorFlow
column repeats the figure TensorFlow got in the same run for the threaded
row they extend (`Job.reference`, run once for both when needed), marked
`*`, so their ratio reads "flowcore in processes / TensorFlow's threads".
"""
import argparse
import importlib.util
import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from benchmarks import data as bdata, jobs  # noqa: E402

MEMORY_SLACK_MIB = 5.0


def _env():
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([ROOT] + [p for p in [env.get("PYTHONPATH")] if p])
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    return env


def tensorflow_python(explicit):
    """The interpreter that runs TensorFlow rows, or None when there is none."""
    if explicit:
        return explicit
    if importlib.util.find_spec("tensorflow") is not None:
        return sys.executable
    return os.environ.get("FLOWCORE_TF_PYTHON") or None


def run_job(python, framework, job, args, scale, repeat, log_dir, data_scale=None,
            verify=True):
    """Run one (framework, job) in a subprocess: its JSON result, or a dict
    with an `error` (the last line of its stderr; the whole of it in a log)."""
    cmd = [python, "-m", "benchmarks.run_one", "--framework", framework, "--job", job.name,
           "--repeat", str(repeat), "--scale", repr(scale), "--data-dir", args.data_dir]
    if data_scale is not None:
        cmd += ["--data-scale", repr(data_scale)]
    if not verify:
        cmd += ["--no-verify"]
    t0 = time.perf_counter()
    try:
        p = subprocess.run(cmd, cwd=ROOT, env=_env(), capture_output=True, text=True,
                           timeout=args.timeout)
        out, err, rc = p.stdout, p.stderr, p.returncode
    except subprocess.TimeoutExpired as e:
        err = e.stderr or ""
        out, rc = "", "timeout"
        err = err.decode("utf-8", "replace") if isinstance(err, bytes) else err
    wall = time.perf_counter() - t0
    lines = [ln for ln in out.splitlines() if ln.startswith("{")]
    log = os.path.join(log_dir, "%s-%s.log" % (framework, job.name))
    if rc == 0 and lines:
        if os.path.exists(log):
            os.remove(log)          # an earlier failure's log would mislead
        res = json.loads(lines[-1])
        res["wall"] = wall
        return res
    os.makedirs(log_dir, exist_ok=True)
    with open(log, "w") as f:
        f.write("$ %s\n%s\n--- stdout ---\n%s" % (" ".join(cmd), err, out))
    last = [ln for ln in err.strip().splitlines() if ln.strip()]
    why = ("timeout after %ds" % args.timeout if rc == "timeout"
           else (last[-1].strip() if last else "exit status %s" % rc))
    return {"job": job.name, "framework": framework, "error": why, "log": log, "wall": wall}


def _num(v):
    if v is None:
        return "-"
    return "{:,.0f}".format(v) if v >= 100 else "%.1f" % v


def _mib(res):
    """Peak RSS in MiB; with worker processes, `self+Nxworker` (see run_one)."""
    if not res or "rss_peak_kib" not in res:
        return "-"
    if res.get("processes"):
        return "%.0f+%dx%.0f" % (res["rss_self_kib"] / 1024.0, res["processes"],
                                 res["rss_children_kib"] / 1024.0)
    return "%.0f" % (res["rss_peak_kib"] / 1024.0)


def _star(tf, text):
    """A TensorFlow cell of a flowcore-only row shows its reference row's figure."""
    return text + "*" if tf and tf.get("reference") and text != "-" else text


def _cells(job, fc, tf):
    """One table row as strings."""
    ours = fc.get("median") if fc else None
    theirs = tf.get("median") if tf else None
    ratio = ours / theirs if ours and theirs else None
    met = "-" if ratio is None or job.target is None else ("yes" if ratio >= job.target
                                                          else "NO")
    return [job.title, job.unit,
            _num(ours) if fc and "error" not in fc else "ERROR",
            "-" if tf is None else _star(tf, _num(theirs) if "error" not in tf
                                         else "ERROR"),
            "-" if ratio is None else "%.2fx" % ratio,
            "-" if job.target is None else ">= %gx" % job.target, met,
            _num(job.issue_tf) + ("*" if job.reference and job.issue_tf else ""),
            _mib(fc), _star(tf, _mib(tf))]


HEADER = ["row", "unit", "flowcore", "TF (this run)", "ratio", "target", "met?",
          "TF (issue 8)", "RSS fc MiB", "RSS TF MiB"]


def print_table(rows, markdown, out=sys.stdout):
    if markdown:
        print("| " + " | ".join(HEADER) + " |", file=out)
        print("|" + "|".join("---" if i < 2 else "---:" for i in range(len(HEADER))) + "|",
              file=out)
        for r in rows:
            print("| " + " | ".join(r) + " |", file=out)
        return
    widths = [max(len(str(r[i])) for r in rows + [HEADER]) for i in range(len(HEADER))]
    fmt = "  ".join(("%-" if i < 2 else "%") + str(w) + "s" for i, w in enumerate(widths))
    print(fmt % tuple(HEADER), file=out)
    print("  ".join("-" * w for w in widths), file=out)
    for r in rows:
        print(fmt % tuple(r), file=out)


def _progress(msg):
    print(msg, file=sys.stderr, flush=True)


def _describe(res):
    if "error" in res:
        return "ERROR %s (log: %s)" % (res["error"], res["log"])
    extra = "; %.1f cores" % res["cores"] if "cores" in res else ""
    if res.get("verified"):
        extra += "; verified: " + res["verified"]
    return "%s %s (runs: %s; peak RSS %s MiB; %.1f s%s)" % (
        _num(res["median"]), res["unit"], ", ".join(_num(r) for r in res["rates"]),
        _mib(res), res["wall"], extra)


def _prepare(selected, scale, data_dir):
    t0 = time.perf_counter()
    for job in selected:
        job.plan(scale, data_dir, make=True)
    if time.perf_counter() - t0 > 1:
        _progress("data ready in %s (%.1f s)" % (data_dir, time.perf_counter() - t0))


def memory_check(selected, args):
    """Each flowcore row at --scale and 10x: peak RSS and its growth."""
    big = args.scale * 10
    _prepare(selected, args.scale, args.data_dir)
    header = ["row", "count x1", "RSS x1 MiB", "count x10", "RSS x10 MiB", "growth MiB",
              "ok?"]
    rows, log_dir = [], os.path.join(args.data_dir, "logs")
    for job in selected:
        small = run_job(args.python, "flowcore", job, args, args.scale, 1, log_dir,
                        verify=False)
        large = run_job(args.python, "flowcore", job, args, big, 1, log_dir,
                        data_scale=args.scale, verify=False)
        if "error" in small or "error" in large:
            bad = small if "error" in small else large
            _progress("%s: ERROR %s (log: %s)" % (job.name, bad["error"], bad["log"]))
            rows.append([job.title, "-", "-", "-", "-", "-", "ERROR"])
            continue
        grow = (large["rss_peak_kib"] - small["rss_peak_kib"]) / 1024.0
        rows.append([job.title, _num(small["counts"][0]), _mib(small),
                     _num(large["counts"][0]), _mib(large), "%+.1f" % grow,
                     "yes" if grow <= MEMORY_SLACK_MIB else "NO"])
        _progress("%s: %s" % (job.name, rows[-1][1:]))
    widths = [max(len(r[i]) for r in rows + [header]) for i in range(len(header))]
    fmt = "  ".join(("%-" if i == 0 else "%") + str(w) + "s" for i, w in enumerate(widths))
    print(fmt % tuple(header))
    for r in rows:
        print(fmt % tuple(r))
    print("(peak RSS growth allowed: %.0f MiB; x1 = --scale %g)" % (MEMORY_SLACK_MIB,
                                                                 args.scale))


def parse_args(argv, default_rows, prog="python -m benchmarks"):
    ap = argparse.ArgumentParser(prog=prog,
                                 description=__doc__.split("\n")[0])
    ap.add_argument("--compare", action="store_true",
                    help="also run every row under tensorflow.compat.v1")
    ap.add_argument("--repeat", type=int, default=3, help="runs per row (median; default 3)")
    ap.add_argument("--scale", type=float, default=1.0,
                    help="multiply records/steps (default 1; < 1 for quick smoke runs)")
    ap.add_argument("--only", nargs="+", metavar="ROW", choices=sorted(jobs.BY_NAME),
                    help="run only these rows (see --list)")
    ap.add_argument("--python", default=sys.executable,
                    help="interpreter for flowcore rows (default: this one)")
    ap.add_argument("--tf-python", default=None,
                    help="interpreter for TensorFlow rows (default: this one if it imports "
                         "tensorflow, else $FLOWCORE_TF_PYTHON)")
    ap.add_argument("--data-dir", default=bdata.DEFAULT_DIR)
    ap.add_argument("--timeout", type=int, default=300, help="seconds per row and framework")
    ap.add_argument("--markdown", action="store_true", help="print the table as markdown")
    ap.add_argument("--json", metavar="FILE", help="also write every result to FILE")
    ap.add_argument("--from-json", metavar="FILE",
                    help="print the table of a run saved with --json, running nothing")
    ap.add_argument("--memory-check", action="store_true",
                    help="flowcore only: peak RSS at --scale and at 10x --scale")
    ap.add_argument("--list", action="store_true", help="list the rows and exit")
    args = ap.parse_args(argv)
    args.only = args.only or default_rows
    args.data_dir = os.path.abspath(args.data_dir)
    return args


def report(run, markdown):
    """Print the table of a finished (or saved, `--from-json`) run; 1 if any job failed."""
    rows = [_cells(jobs.BY_NAME[r["job"]], r["flowcore"], r["tensorflow"])
            for r in run["results"]]
    print()
    print_table(rows, markdown)
    print("\nmedian of %d runs per row; --scale %g; flowcore: %s; tensorflow: %s"
          % (run["repeat"], run["scale"], run["python"], run["tf_python"] or "not run"))
    refs = sorted({r["tensorflow"]["reference"] for r in run["results"]
                   if r["tensorflow"] and r["tensorflow"].get("reference")})
    if refs:
        print("* TensorFlow has no processes=: the figures of its threaded row (%s)"
              % ", ".join(refs))
    if any(r["flowcore"] and r["flowcore"].get("processes") for r in run["results"]):
        print("RSS a+NxB: this process's peak a plus N worker processes counted at the "
              "largest worker's peak B (an upper bound: pages shared with the parent "
              "count N+1 times)")
    errors = [r[f] for r in run["results"] for f in ("flowcore", "tensorflow")
              if r[f] and "error" in r[f]]
    for e in errors:
        print("%s %s: %s (log: %s)" % (e["framework"], e["job"], e["error"], e["log"]))
    return 1 if errors else 0


def main(argv=None, default_rows=None, compare=False, prog="python -m benchmarks"):
    """The harness; `end_to_end.py` calls it with its rows and compare=True."""
    args = parse_args(argv, default_rows or jobs.TABLE, prog)
    selected = [jobs.BY_NAME[n] for n in args.only]
    if args.list:
        for j in jobs.JOBS:
            print("%-20s %s%s%s" % (j.name, j.title,
                                    "" if j.table else "  (end_to_end only)",
                                    "" if "tensorflow" in j.frameworks
                                    else "  (flowcore only; TF: %s)" % j.reference))
        return 0
    if args.from_json:
        with open(args.from_json) as f:
            return report(json.load(f), args.markdown)
    if args.memory_check:
        memory_check(selected, args)
        return 0
    tf_python = None
    if args.compare or compare:
        tf_python = tensorflow_python(args.tf_python)
        if tf_python is None:
            _progress("tensorflow is not importable here and neither --tf-python nor "
                      "$FLOWCORE_TF_PYTHON is set: flowcore figures only")
    _prepare(selected, args.scale, args.data_dir)
    log_dir = os.path.join(args.data_dir, "logs")
    run = {"scale": args.scale, "repeat": args.repeat, "python": args.python,
           "tf_python": tf_python, "results": []}
    tf_runs = {}        # row name -> TensorFlow's result, shared with flowcore-only rows
    for i, job in enumerate(selected, 1):
        fc = run_job(args.python, "flowcore", job, args, args.scale, args.repeat, log_dir)
        _progress("[%d/%d] %-18s flowcore   %s" % (i, len(selected), job.name, _describe(fc)))
        tf = None
        tf_job = job if "tensorflow" in job.frameworks else jobs.BY_NAME.get(job.reference)
        if tf_python and tf_job is not None:
            fresh = tf_job.name not in tf_runs
            if fresh:
                tf_runs[tf_job.name] = run_job(tf_python, "tensorflow", tf_job, args,
                                               args.scale, args.repeat, log_dir)
            tf = tf_runs[tf_job.name]
            if tf_job is not job:
                tf = dict(tf, reference=tf_job.name)
            _progress("[%d/%d] %-18s tensorflow %s%s" % (
                i, len(selected), job.name,
                "" if tf_job is job else "(%s%s) " % (tf_job.name, "" if fresh else ", above"),
                _describe(tf)))
        run["results"].append({"job": job.name, "flowcore": fc, "tensorflow": tf})
    if args.json:
        with open(args.json, "w") as f:
            json.dump(run, f, indent=1)
    return report(run, args.markdown)


if __name__ == "__main__":
    sys.exit(main())
