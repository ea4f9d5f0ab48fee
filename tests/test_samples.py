"""Every sample runs as a subprocess, with no arguments, and prints what it
promises (the README's main command is `samples/train_three_ways.py`)."""
import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_sample(name, *args, cwd=None, timeout=100):
    r = subprocess.run([sys.executable, os.path.join(ROOT, "samples", name)] + list(args),
                       capture_output=True, text=True, timeout=timeout, cwd=cwd or ROOT)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "\r" not in r.stdout          # no progress line when not on a terminal
    return r.stdout


def test_linear_placeholders():
    out = run_sample("linear_placeholders.py")
    losses = [float(x) for x in re.findall(r"loss ([0-9.e+-]+)", out)]
    assert len(losses) >= 3 and losses[-1] < losses[0] / 10


def test_train_three_ways_reaches_stated_accuracy():
    out = run_sample("train_three_ways.py")
    rows = re.findall(r"^(\w+)\s+accuracy ([0-9.]+) after (\d+) steps \(([0-9]+) steps/s\)",
                      out, re.M)
    assert [r[0] for r in rows] == ["placeholders", "preloaded", "queues"], out
    for label, acc, steps, rate in rows:
        assert float(acc) >= 0.88, (label, acc)          # chance is 0.25
        assert int(steps) == 200 and int(rate) > 0       # 5 epochs of 4000 / 100


def test_csv_pipeline_reads_all_of_iris():
    out = run_sample("csv_pipeline.py")
    assert "batch 0: features (10, 4), first row [5.1, 3.5, 1.4, 0.2]" in out
    assert "read 150 rows in 15 batches: setosa 50, versicolor 50, virginica 50" in out


def test_binary_records():
    out = run_sample("binary_records.py")
    assert "images (64, 32, 32, 3) float32" in out
    assert "read 2000 records (2 epochs of 1000), images match labels: True" in out


def test_tfrecord_roundtrip():
    out = run_sample("tfrecord_roundtrip.py")
    assert "first record: record-0" in out
    assert "read back 500 records from both files, each exactly once: True" in out


def test_multithreaded_training():
    out = run_sample("multithreaded_training.py")
    m = re.search(r"(\d+) threads ran (\d+) steps .* steps per thread: \[([0-9, ]+)\]", out)
    assert m, out
    per_thread = [int(x) for x in m.group(3).split(",")]
    assert int(m.group(1)) == 4 and len(per_thread) == 4
    assert int(m.group(2)) == sum(per_thread) >= 2000    # no lost global_step increments
    b = float(re.search(r"b (-?[0-9.]+) \(true 0.5\)", out).group(1))
    assert abs(b - 0.5) < 0.01
    assert re.search(r"loss 0\.000\d\d", out)


def test_word2vec_trains_checkpoints_and_resumes(tmp_path):
    logdir = str(tmp_path / "w2v")
    out = run_sample("word2vec.py", "--steps", "500", "--logdir", logdir)
    first = float(re.search(r"average loss at step   500: +([0-9.]+)", out).group(1))
    assert "nearest to god:" in out
    out = run_sample("word2vec.py", "--steps", "1000", "--logdir", logdir)
    assert "resumed from skip-gram-500" in out
    second = float(re.search(r"average loss at step  1000: +([0-9.]+)", out).group(1))
    assert second < first / 2                               # the loss keeps falling
    assert sorted(os.listdir(os.path.join(logdir, "checkpoints")))[0] == "checkpoint"
    events = os.listdir(os.path.join(logdir, "lr0.5"))
    assert len(events) == 2 and all(e.startswith("events.out.tfevents.") for e in events)
