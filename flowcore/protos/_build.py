"""Regenerate the committed `*_pb2.py` modules from `proto/*.proto`.

    python -m flowcore.protos._build          # rewrite flowcore/protos/*_pb2.py
    python -m flowcore.protos._build --check  # exit 1 if they differ from proto/

The schemas import each other as "flowcore/protos/<name>.proto" and protoc
maps that virtual directory onto `proto/`, so generated code imports
`flowcore.protos.<name>_pb2` (the top-level name `proto` belongs to the
proto-plus package and must not become importable).  The generator is the
protoc bundled in `grpcio-tools`, pinned in the `test` extra, because
generated code differs between protoc versions.
"""
import pathlib
import subprocess
import sys
import tempfile

PROTOC_PACKAGE = "grpcio-tools"
PROTOC_VERSION = "1.85.1"       # keep in step with pyproject's test extra

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent.parent
PROTO_DIR = ROOT / "proto"


def protoc_version():
    """The installed grpcio-tools version, or None."""
    try:
        from importlib.metadata import version
        return version(PROTOC_PACKAGE)
    except Exception:
        return None


def generate(out_dir, proto_dir=PROTO_DIR):
    """Run protoc over proto/*.proto; return {module file name: source text}."""
    out_dir = pathlib.Path(out_dir)
    protos = sorted(pathlib.Path(proto_dir).glob("*.proto"))
    cmd = [sys.executable, "-m", "grpc_tools.protoc",
           "--proto_path=flowcore/protos=%s" % proto_dir,
           "--python_out=%s" % out_dir] + [str(p) for p in protos]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError("protoc failed: %s" % (r.stderr or r.stdout).strip())
    gen = out_dir / "flowcore" / "protos"
    return {p.name: p.read_text() for p in sorted(gen.glob("*_pb2.py"))}


def differences(root=ROOT):
    """Names of generated modules under `root` that are missing, stale or extra."""
    root = pathlib.Path(root)
    with tempfile.TemporaryDirectory() as tmp:
        fresh = generate(tmp, root / "proto")
    committed = {p.name: p.read_text()
                 for p in (root / "flowcore" / "protos").glob("*_pb2.py")}
    return sorted(n for n in set(fresh) | set(committed) if fresh.get(n) != committed.get(n))


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if protoc_version() != PROTOC_VERSION:
        print("need %s==%s (found %s)" % (PROTOC_PACKAGE, PROTOC_VERSION, protoc_version()),
              file=sys.stderr)
        return 2
    if "--check" in argv:
        diff = differences()
        for n in diff:
            print("stale: flowcore/protos/%s" % n)
        return 1 if diff else 0
    with tempfile.TemporaryDirectory() as tmp:
        fresh = generate(tmp)
    for old in HERE.glob("*_pb2.py"):
        if old.name not in fresh:
            old.unlink()
    for name, text in fresh.items():
        (HERE / name).write_text(text)
    print("wrote %d modules to %s" % (len(fresh), HERE))
    return 0


if __name__ == "__main__":
    sys.exit(main())
