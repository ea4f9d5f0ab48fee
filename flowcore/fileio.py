"""Writing files so that a crash never leaves a half-written one in place."""
import os
import uuid


def atomic_write(path, write_fn):
    """Write through `write_fn(file)` into a temporary file next to `path`,
    fsync it and rename it to `path` (creating missing directories).  On any
    error, including KeyboardInterrupt, the temporary file is removed, the
    previous `path` is untouched, and the error propagates."""
    d = os.path.dirname(path)
    if d:
        os.makedirs(d, exist_ok=True)
    tmp = "%s.tmp-%s" % (path, uuid.uuid4().hex)
    try:
        with open(tmp, "wb") as f:
            write_fn(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.remove(tmp)
        except OSError:
            pass
        raise
