"""The `tfrecord` command-line tool, driven as a subprocess."""
import json
import os
import pathlib
import subprocess
import sys

import pytest

from pipeline import tfrecord as tfr
from pipeline.tools import tfrecord as cli
from pipeline.protos import Example

ROOT = pathlib.Path(__file__).resolve().parents[1]


def run(*args, stdin=None):
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, "-m", "pipeline.tools.tfrecord", *map(str, args)],
                          input=stdin, capture_output=True, text=True, env=env, cwd=str(ROOT),
                          timeout=60)


def _examples(path, rows, compression=""):
    with tfr.TFRecordWriter(str(path), compression) as w:
        for row in rows:
            ex = Example()
            for k, v in row.items():
                f = ex.features.feature[k]
                if isinstance(v[0], bytes):
                    f.bytes_list.value.extend(v)
                elif isinstance(v[0], float):
                    f.float_list.value.extend(v)
                else:
                    f.int64_list.value.extend(v)
            w.write(ex.SerializeToString())
    return path


ROWS = [{"id": [1], "name": [b"ann"], "score": [0.5], "raw": [b"\x00\xff"]},
        {"id": [2], "name": [b"bob, jr"], "score": [1.5], "raw": [b"ok"]},
        {"id": [3], "name": [b'say "hi"'], "score": [-2.0], "raw": [b""]}]


def test_help_everywhere(capsys):
    r = run("--help")
    assert r.returncode == 0 and "count" in r.stdout and "from-csv" in r.stdout
    for cmd in ("count", "head", "cat", "verify", "write", "from-csv", "to-csv", "convert"):
        with pytest.raises(SystemExit) as e:     # in-process: one interpreter start is enough
            cli.main([cmd, "--help"])
        assert e.value.code == 0
        assert capsys.readouterr().out.startswith("usage: tfrecord " + cmd), cmd


def test_count_cat_head_and_compression_detection(tmp_path):
    a = _examples(tmp_path / "a.tfrecord", ROWS)
    b = _examples(tmp_path / "b.bin", ROWS[:2], "GZIP")     # detected from its bytes
    c = _examples(tmp_path / "c.bin", ROWS[:1], "ZLIB")
    r = run("count", a, b, c)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == ["3\t%s" % a, "2\t%s" % b, "1\t%s" % c, "6\ttotal"]
    r = run("cat", a)
    lines = [json.loads(x) for x in r.stdout.splitlines()]
    assert lines[0] == {"id": {"int64": [1]}, "name": {"bytes": ["ann"]},
                        "raw": {"bytes": [{"hex": "00ff"}]}, "score": {"float": [0.5]}}
    assert lines[2]["name"] == {"bytes": ['say "hi"']}
    r = run("head", "-n", 1, b)
    assert [json.loads(x)["id"] for x in r.stdout.splitlines()] == [{"int64": [1]}]
    r = run("head", "--raw", "-n", 1, a)
    assert bytes.fromhex(json.loads(r.stdout)["hex"]) == \
        next(tfr.tf_record_iterator(str(a)))


def test_verify_reports_each_bad_record_and_exits_1(tmp_path):
    a = _examples(tmp_path / "a.tfrecord", ROWS)
    data = bytearray(a.read_bytes())
    first = next(tfr.scan(str(a)))
    bad_offset = first[1] + 16                 # record 1
    data[bad_offset + 14] ^= 0x10
    bad = tmp_path / "bad.tfrecord"
    bad.write_bytes(bytes(data))
    r = run("verify", a)
    assert r.returncode == 0 and "OK, 3 good records, 0 bad" in r.stdout
    r = run("verify", a, bad)
    assert r.returncode == 1
    assert "%s: bad record at offset %d: data CRC mismatch" % (bad, bad_offset) in r.stdout
    assert "%s: CORRUPT, 2 good records, 1 bad" % bad in r.stdout


def test_from_csv_to_csv_write_and_convert(tmp_path):
    csv_in = tmp_path / "in.csv"
    csv_in.write_text('id,name,score\n1,"Smith, John",3.5\n2,,2\n3,"q""x",-1e3\n')
    out = tmp_path / "out.tfrecord"
    r = run("from-csv", csv_in, out, "--compression", "gzip", "--shards", 2)
    assert r.returncode == 0, r.stderr
    shards = [tmp_path / ("out.tfrecord-%05d-of-00002" % i) for i in range(2)]
    assert all(s.exists() for s in shards)
    r = run("to-csv", *shards)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == ["id,name,score", '1,"Smith, John",3.5', "2,,2.0",
                                     '3,"q""x",-1000.0']
    r = run("from-csv", csv_in, out, "--types", "score=bytes")
    assert json.loads(run("head", "-n", 1, out).stdout)["score"] == {"bytes": ["3.5"]}
    jsonl = run("cat", out).stdout
    again = tmp_path / "again.tfrecord"
    r = run("write", again, stdin=jsonl)
    assert r.returncode == 0, r.stderr
    assert run("cat", again).stdout == jsonl
    z = tmp_path / "z.tfrecord"
    assert run("convert", again, z, "--to", "zlib").returncode == 0
    back = tmp_path / "back.tfrecord"
    assert run("convert", z, back, "--to", "none").returncode == 0
    assert back.read_bytes() == again.read_bytes()


ERRORS = [
    (("count", "/no/such/file.tfrecord"), None, "/no/such/file.tfrecord"),
    (("cat", "{csv}"), None, "length CRC mismatch"),
    (("to-csv", "{multi}"), None, "to-csv needs flat Examples"),
    (("from-csv", "{bad_csv}", "{out}"), None, "2 fields, the header has 3"),
    (("from-csv", "{csv}", "{out}", "--types", "a=complex"), None, "--types wants"),
    (("write", "{out}"), "not json\n", "<stdin>:1: not JSON"),
    (("write", "{out}"), '{"k": {"int64": [1.5]}}\n', "bad int64 value"),
    (("head", "-n", "-1", "{csv}"), None, "-n must be >= 0"),
]


def _error_paths(tmp_path):
    paths = {"csv": tmp_path / "x.csv", "bad_csv": tmp_path / "bad.csv",
             "out": tmp_path / "o.tfrecord", "multi": tmp_path / "m.tfrecord"}
    paths["csv"].write_text("a,b,c\n1,2,3\n")
    paths["bad_csv"].write_text("a,b,c\n1,2\n")
    _examples(paths["multi"], [{"v": [1, 2]}])
    return paths


@pytest.mark.parametrize("args,stdin,message", ERRORS[:3])
def test_errors_are_one_line_and_exit_nonzero(tmp_path, args, stdin, message):
    paths = _error_paths(tmp_path)
    r = run(*[a.format(**paths) for a in args], stdin=stdin)
    assert r.returncode == 1
    assert r.stdout == "" or args[0] == "write"
    err = r.stderr.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("tfrecord: error: ") and message in err[0], \
        r.stderr
    assert "Traceback" not in r.stderr


@pytest.mark.parametrize("args,stdin,message", ERRORS[3:])
def test_more_errors_in_process(tmp_path, capsys, monkeypatch, args, stdin, message):
    import io
    paths = _error_paths(tmp_path)
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin or ""))
    assert cli.main([a.format(**paths) for a in args]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("tfrecord: error: ") and message in err[0]


def test_bad_usage_exits_2():
    r = run("frobnicate")
    assert r.returncode == 2 and "invalid choice" in r.stderr and "Traceback" not in r.stderr


def test_console_script_is_installed():
    exe = pathlib.Path(sys.executable).with_name("tfrecord")
    if not exe.exists():
        pytest.skip("the `tfrecord` console script is not installed in this environment")
    r = subprocess.run([str(exe), "--help"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "usage: tfrecord" in r.stdout
