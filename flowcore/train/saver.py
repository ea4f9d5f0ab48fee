"""Checkpoints: `Saver` writes variable values to disk and restores them.

On-disk format (flowcore checkpoint v1), for a prefix such as `model-1000`:

- `model-1000.data-00000-of-00001`: the values, one after another, each as
  raw C-order bytes (string tensors: each element as a little-endian uint64
  length followed by its bytes);
- `model-1000.index`: JSON naming the data file and, per saved name, its
  dtype, shape, byte offset, byte length and CRC-32 of the bytes;
- `checkpoint` (the state file, in the directory): TF's text format, lines
  `model_checkpoint_path: "..."` and `all_model_checkpoint_paths: "..."`.

Every file is written under a temporary name, flushed to disk and renamed
into place (data first, then index, then state), so a crash or a full disk
in the middle of a save leaves the previous checkpoint and state file intact.
"""
import json
import os
import re
import time
import zlib

import numpy as np

from flowcore import dtypes, errors
from flowcore.fileio import atomic_write
from flowcore.graph import GraphKeys, Tensor, get_default_graph, name_scope
from flowcore.ops import core, state

__all__ = ["Saver", "latest_checkpoint", "get_checkpoint_state", "checkpoint_exists",
           "update_checkpoint_state", "list_variables", "load_variable", "CheckpointState",
           "generate_checkpoint_state_proto", "remove_checkpoint", "get_checkpoint_mtimes"]

FORMAT = "flowcore-checkpoint-1"
DATA_SUFFIX = ".data-00000-of-00001"
INDEX_SUFFIX = ".index"


# -- files ---------------------------------------------------------------------------------

def _encode(value):
    arr = np.asarray(value)
    if arr.dtype == object:
        parts = []
        for x in arr.reshape(-1):
            x = x if isinstance(x, bytes) else str(x).encode()
            parts.append(np.uint64(len(x)).tobytes())
            parts.append(x)
        return b"".join(parts), dtypes.string, arr.shape
    return arr.tobytes(order="C"), dtypes.as_dtype(arr.dtype), arr.shape


def _decode(raw, dtype, shape, name, path):
    if dtype is dtypes.string:
        n = int(np.prod(shape, dtype=np.int64))
        out = np.empty(n, dtype=object)
        pos = 0
        for i in range(n):
            if pos + 8 > len(raw):
                raise errors.DataLossError(None, None, "Checkpoint %s: string tensor %s is "
                                           "truncated" % (path, name))
            ln = int(np.frombuffer(raw, np.uint64, 1, pos)[0])
            out[i] = raw[pos + 8:pos + 8 + ln]
            pos += 8 + ln
        return out.reshape(shape)
    return np.frombuffer(raw, dtype=dtype.as_numpy_dtype).reshape(shape).copy()


def _write_checkpoint(prefix, values):
    """Write {name: array} as a checkpoint at `prefix` (data, then index)."""
    entries = {}
    data_path = prefix + DATA_SUFFIX

    def write_data(f):
        offset = 0
        for name, value in values.items():
            raw, dtype, shape = _encode(value)
            f.write(raw)
            entries[name] = {"dtype": dtype.name, "shape": list(shape), "offset": offset,
                             "length": len(raw), "crc32": zlib.crc32(raw)}
            offset += len(raw)
    atomic_write(data_path, write_data)
    index = {"format": FORMAT, "data_file": os.path.basename(data_path), "tensors": entries}
    atomic_write(prefix + INDEX_SUFFIX,
                  lambda f: f.write(json.dumps(index, indent=1, sort_keys=True).encode()))


class _Reader:
    """Reads a checkpoint's index and values, checking every byte it reads."""

    def __init__(self, prefix):
        self.prefix = prefix
        index_path = prefix + INDEX_SUFFIX
        if not os.path.exists(index_path):
            raise errors.NotFoundError(None, None, "Unsuccessful TensorSliceReader constructor: "
                                       "Failed to find any matching files for %s" % prefix)
        try:
            with open(index_path, "rb") as f:
                self.index = json.loads(f.read().decode())
            if self.index.get("format") != FORMAT:
                raise ValueError("unknown format %r" % self.index.get("format"))
            self.tensors = self.index["tensors"]
        except (ValueError, KeyError, UnicodeDecodeError) as e:
            raise errors.DataLossError(None, None, "Checkpoint index %s is corrupt: %s"
                                       % (index_path, e)) from None
        self.data_path = os.path.join(os.path.dirname(prefix), self.index["data_file"])

    def names(self):
        return sorted(self.tensors)

    def read(self, name):
        e = self.tensors.get(name)
        if e is None:
            raise errors.NotFoundError(None, None, "Key %s not found in checkpoint %s"
                                       % (name, self.prefix))
        try:
            with open(self.data_path, "rb") as f:
                f.seek(e["offset"])
                raw = f.read(e["length"])
        except FileNotFoundError:
            raise errors.DataLossError(None, None, "Checkpoint data file %s is missing"
                                       % self.data_path) from None
        if len(raw) != e["length"] or zlib.crc32(raw) != e["crc32"]:
            raise errors.DataLossError(None, None, "Checkpoint %s is corrupt: tensor %s at "
                                       "offset %d of %s fails its checksum"
                                       % (self.prefix, name, e["offset"], self.data_path))
        return _decode(raw, dtypes.as_dtype(e["dtype"]), tuple(e["shape"]), name, self.prefix)


# -- the state file ------------------------------------------------------------------------

class CheckpointState:
    """The contents of a `checkpoint` state file."""

    def __init__(self, model_checkpoint_path="", all_model_checkpoint_paths=(),
                 all_model_checkpoint_timestamps=(), last_preserved_timestamp=0.0):
        self.model_checkpoint_path = model_checkpoint_path
        self.all_model_checkpoint_paths = list(all_model_checkpoint_paths)
        self.all_model_checkpoint_timestamps = list(all_model_checkpoint_timestamps)
        self.last_preserved_timestamp = last_preserved_timestamp

    def __repr__(self):
        return "CheckpointState(%r, %r)" % (self.model_checkpoint_path,
                                            self.all_model_checkpoint_paths)


def generate_checkpoint_state_proto(save_dir, model_checkpoint_path,
                                    all_model_checkpoint_paths=None,
                                    all_model_checkpoint_timestamps=None,
                                    last_preserved_timestamp=None):
    paths = list(all_model_checkpoint_paths or [])
    if not paths or paths[-1] != model_checkpoint_path:
        paths.append(model_checkpoint_path)
    if not os.path.isabs(save_dir):
        # as TF: paths under a relative save_dir are stored relative to it,
        # so the state file stays valid from any working directory
        def rel(q):
            return q if os.path.isabs(q) else os.path.relpath(q, save_dir or ".")
        model_checkpoint_path = rel(model_checkpoint_path)
        paths = [rel(q) for q in paths]
    return CheckpointState(model_checkpoint_path, paths, all_model_checkpoint_timestamps or [],
                           last_preserved_timestamp or 0.0)


def _state_text(st):
    def q(s):
        return '"%s"' % s.replace("\\", "\\\\").replace('"', '\\"')
    lines = ["model_checkpoint_path: %s" % q(st.model_checkpoint_path)]
    lines += ["all_model_checkpoint_paths: %s" % q(p) for p in st.all_model_checkpoint_paths]
    lines += ["all_model_checkpoint_timestamps: %r" % t for t in st.all_model_checkpoint_timestamps]
    if st.last_preserved_timestamp:
        lines.append("last_preserved_timestamp: %r" % st.last_preserved_timestamp)
    return "\n".join(lines) + "\n"


_STATE_LINE = re.compile(r'^\s*(\w+)\s*:\s*(?:"((?:[^"\\]|\\.)*)"|([-+0-9.eE]+))\s*$')


def _parse_state(text):
    st = CheckpointState()
    for line in text.splitlines():
        if not line.strip():
            continue
        m = _STATE_LINE.match(line)
        if not m:
            raise ValueError("bad line %r" % line)
        key, s, num = m.groups()
        val = re.sub(r"\\(.)", r"\1", s) if s is not None else float(num)
        if key == "model_checkpoint_path":
            st.model_checkpoint_path = val
        elif key == "all_model_checkpoint_paths":
            st.all_model_checkpoint_paths.append(val)
        elif key == "all_model_checkpoint_timestamps":
            st.all_model_checkpoint_timestamps.append(val)
        elif key == "last_preserved_timestamp":
            st.last_preserved_timestamp = val
    return st


def update_checkpoint_state(save_dir, model_checkpoint_path, all_model_checkpoint_paths=None,
                            latest_filename=None, all_model_checkpoint_timestamps=None,
                            last_preserved_timestamp=None):
    """Atomically rewrite the state file in `save_dir`."""
    st = generate_checkpoint_state_proto(save_dir, model_checkpoint_path,
                                         all_model_checkpoint_paths,
                                         all_model_checkpoint_timestamps, last_preserved_timestamp)
    path = os.path.join(save_dir, latest_filename or "checkpoint")
    atomic_write(path, lambda f: f.write(_state_text(st).encode()))


def get_checkpoint_state(checkpoint_dir, latest_filename=None):
    """The CheckpointState of `checkpoint_dir`, or None when it has no state
    file.  Relative paths are made relative to the directory, like TF."""
    path = os.path.join(checkpoint_dir, latest_filename or "checkpoint")
    if not os.path.exists(path):
        return None
    with open(path, "r", encoding="utf-8") as f:
        text = f.read()
    try:
        st = _parse_state(text)
    except ValueError as e:
        raise errors.DataLossError(None, None, "Checkpoint state file %s is corrupt: %s"
                                   % (path, e)) from None
    if not st.model_checkpoint_path:
        raise ValueError("Invalid checkpoint state loaded from %s" % checkpoint_dir)

    def fix(p):
        return p if os.path.isabs(p) else os.path.join(checkpoint_dir, p)
    st.model_checkpoint_path = fix(st.model_checkpoint_path)
    st.all_model_checkpoint_paths = [fix(p) for p in st.all_model_checkpoint_paths]
    return st


def checkpoint_exists(checkpoint_prefix):
    return os.path.exists(checkpoint_prefix + INDEX_SUFFIX)


def latest_checkpoint(checkpoint_dir, latest_filename=None):
    """The prefix of the newest checkpoint recorded in `checkpoint_dir`, or None."""
    st = get_checkpoint_state(checkpoint_dir, latest_filename)
    if st and st.model_checkpoint_path and checkpoint_exists(st.model_checkpoint_path):
        return st.model_checkpoint_path
    return None


def get_checkpoint_mtimes(checkpoint_prefixes):
    return [os.path.getmtime(p + INDEX_SUFFIX) for p in checkpoint_prefixes
            if checkpoint_exists(p)]


def remove_checkpoint(checkpoint_prefix, checkpoint_format_version=None, meta_graph_suffix="meta"):
    for suffix in (INDEX_SUFFIX, DATA_SUFFIX, "." + meta_graph_suffix):
        try:
            os.remove(checkpoint_prefix + suffix)
        except OSError:
            pass


def list_variables(ckpt_dir_or_file):
    """[(name, shape)] of every tensor in a checkpoint (or a directory's latest)."""
    r = _Reader(_resolve(ckpt_dir_or_file))
    return [(n, list(r.tensors[n]["shape"])) for n in r.names()]


def load_variable(ckpt_dir_or_file, name):
    """The value saved under `name` in a checkpoint (or a directory's latest)."""
    if name.endswith(":0"):
        name = name[:-2]
    return _Reader(_resolve(ckpt_dir_or_file)).read(name)


def _resolve(path):
    if os.path.isdir(path):
        latest = latest_checkpoint(path)
        if latest is None:
            raise ValueError("Couldn't find 'checkpoint' file or checkpoints in given "
                             "directory %s" % path)
        return latest
    return path


# -- Saver -----------------------------------------------------------------------------------

def _saveable_name(v):
    op = getattr(v, "op", None)
    if op is None:
        raise TypeError("Saver can only save Variables and Tensors, got %r" % (v,))
    return op.name


class Saver:
    """Saves and restores variables.

    `var_list`: None (all global variables and SAVEABLE_OBJECTS; variables
    made with `collections=[]` are not among them), a list of variables, or a
    dict {checkpoint name: variable}.  `save` returns the checkpoint prefix;
    `restore` needs no initialization first and raises NotFoundError for a
    name missing from the checkpoint, InvalidArgumentError for a dtype or
    shape mismatch, DataLossError for corrupt files.
    """

    def __init__(self, var_list=None, reshape=False, sharded=False, max_to_keep=5,
                 keep_checkpoint_every_n_hours=10000.0, name=None, restore_sequentially=False,
                 saver_def=None, builder=None, defer_build=False, allow_empty=False,
                 write_version=2, pad_step_number=False, save_relative_paths=False,
                 filename=None):
        if saver_def is not None:
            self._init_from_saver_def(saver_def, pad_step_number, save_relative_paths, filename)
            return
        if var_list is None:
            g = get_default_graph()
            var_list = g.get_collection(GraphKeys.GLOBAL_VARIABLES) + \
                g.get_collection(GraphKeys.SAVEABLE_OBJECTS)
        self._vars = self._name_vars(var_list)
        if not self._vars and not allow_empty:
            raise ValueError("No variables to save")
        self._max_to_keep = max_to_keep
        self._keep_every_secs = keep_checkpoint_every_n_hours * 3600.0
        self._next_keep_time = time.time() + self._keep_every_secs
        self._pad_step_number = pad_step_number
        self._save_relative_paths = save_relative_paths
        self._filename = filename
        self._last_checkpoints = []   # [(prefix, time)]
        self._build(name)

    def _init_from_saver_def(self, saver_def, pad_step_number, save_relative_paths, filename):
        """Reuse the restore ops of an imported meta graph (TF's `Saver(saver_def=...)`,
        as `import_meta_graph` returns): `restore_op_name` is the `restore_all` op,
        whose control inputs are the Assigns of (variable, placeholder) pairs and
        whose scope holds the `tensor_names` constant with their checkpoint names."""
        if isinstance(saver_def, dict):
            from flowcore.protos import SaverDef
            saver_def = SaverDef(**{k: v for k, v in saver_def.items()
                                    if k in SaverDef.DESCRIPTOR.fields_by_name})
        g = get_default_graph()
        restore_op = g.get_operation_by_name(saver_def.restore_op_name)
        assigns = restore_op.control_inputs
        scope = restore_op.name.rpartition("/")[0]
        try:
            names_op = g.get_operation_by_name((scope + "/" if scope else "") + "tensor_names")
            names = [n.decode() if isinstance(n, bytes) else n
                     for n in names_op.get_attr("value").reshape(-1)]
        except KeyError:
            names = [a.inputs[0].op.name for a in assigns]
        if len(names) != len(assigns):
            raise ValueError("SaverDef restore op %s has %d assigns for %d checkpoint names"
                             % (restore_op.name, len(assigns), len(names)))
        self._vars = {}
        self._refs = {}
        self._restore_feeds = {}
        for cname, assign in zip(names, assigns):
            self._refs[cname] = assign.inputs[0]
            self._restore_feeds[cname] = assign.inputs[1]
        self._restore_op = restore_op
        self._max_to_keep = saver_def.max_to_keep
        hours = saver_def.keep_checkpoint_every_n_hours or 10000.0
        self._keep_every_secs = hours * 3600.0
        self._next_keep_time = time.time() + self._keep_every_secs
        self._pad_step_number = pad_step_number
        self._save_relative_paths = save_relative_paths
        self._filename = filename
        self._last_checkpoints = []

    @staticmethod
    def _name_vars(var_list):
        if isinstance(var_list, dict):
            items = list(var_list.items())
        else:
            items = []
            for v in var_list:
                if isinstance(v, (list, tuple)):
                    raise TypeError("Saver var_list entries must be variables, got %r" % (v,))
                items.append((_saveable_name(v), v))
        out = {}
        for name, v in items:
            if name in out:
                raise ValueError("At least two variables have the same name: %s" % name)
            out[name] = v
        return out

    def _build(self, name):
        self._restore_feeds = {}
        self._refs = {}
        if not self._vars:
            self._restore_op = None
            return
        g = next(iter(self._vars.values())).graph
        with g.as_default(), name_scope(name, "save"):
            assigns = []
            for cname, v in self._vars.items():
                ref = v._ref() if hasattr(v, "_ref") else v
                self._refs[cname] = ref
                if isinstance(ref, Tensor) and ref._is_ref:
                    ph = core.placeholder(ref.dtype, ref.shape, name="restore_value")
                    assigns.append(state.assign(ref, ph, validate_shape=False))
                    self._restore_feeds[cname] = ph
            # the checkpoint names of the restore ops, in order, so that a Saver
            # rebuilt from an imported meta graph knows them (_init_from_saver_def)
            core.constant(list(self._restore_feeds), dtype=dtypes.string, name="tensor_names")
            self._restore_op = core.group(*assigns, name="restore_all")

    # -- bookkeeping of recent checkpoints -------------------------------------------------
    @property
    def last_checkpoints(self):
        return [p for p, _ in self._last_checkpoints]

    def set_last_checkpoints(self, last_checkpoints):
        self._last_checkpoints = [(p, None) for p in last_checkpoints]

    def set_last_checkpoints_with_time(self, last_checkpoints_with_time):
        self._last_checkpoints = list(last_checkpoints_with_time)

    def recover_last_checkpoints(self, checkpoint_paths):
        """Adopt the existing checkpoints among `checkpoint_paths` (e.g. from a
        state file) so that `max_to_keep` keeps counting across restarts."""
        mtimes = {p: os.path.getmtime(p + INDEX_SUFFIX) for p in checkpoint_paths
                  if checkpoint_exists(p)}
        self._last_checkpoints = [(p, mtimes[p]) for p in checkpoint_paths if p in mtimes]

    def _record(self, prefix, meta_graph_suffix):
        now = time.time()
        self._last_checkpoints = [(p, t) for p, t in self._last_checkpoints if p != prefix]
        self._last_checkpoints.append((prefix, now))
        if self._max_to_keep is None or self._max_to_keep <= 0:
            return
        while len(self._last_checkpoints) > self._max_to_keep:
            p, t = self._last_checkpoints.pop(0)
            if t is not None and t > self._next_keep_time:
                self._next_keep_time += self._keep_every_secs   # kept for good
                continue
            remove_checkpoint(p, meta_graph_suffix=meta_graph_suffix)

    # -- save / restore ------------------------------------------------------------------------
    def save(self, sess, save_path, global_step=None, latest_filename=None,
             meta_graph_suffix="meta", write_meta_graph=True, write_state=True,
             strip_default_attrs=False, save_debug_info=False):
        """Write the variables' values in `sess` to `save_path` (plus
        `-<global_step>`); update the state file; return the prefix."""
        if global_step is not None:
            if not isinstance(global_step, (int, np.integer)):
                global_step = int(sess.run(global_step))
            fmt = "%s-%08d" if self._pad_step_number else "%s-%d"
            prefix = fmt % (save_path, global_step)
        else:
            prefix = save_path
        save_dir = os.path.dirname(prefix)
        if save_dir and not os.path.isdir(save_dir):
            raise ValueError("Parent directory of %s doesn't exist, can't save." % save_path)
        names = list(self._refs)
        values = sess.run([self._refs[n] for n in names]) if names else []
        _write_checkpoint(prefix, dict(zip(names, values)))
        self._record(prefix, meta_graph_suffix)
        if write_state:
            paths = self.last_checkpoints
            if self._save_relative_paths:
                paths = [os.path.relpath(p, save_dir or ".") for p in paths]
            update_checkpoint_state(save_dir or ".", paths[-1], paths, latest_filename)
        if write_meta_graph:
            self.export_meta_graph(prefix + "." + meta_graph_suffix, graph=sess.graph,
                                   strip_default_attrs=strip_default_attrs)
        return prefix

    def restore(self, sess, save_path):
        """Load every variable of this Saver from checkpoint `save_path`."""
        if save_path is None:
            raise ValueError("Can't load save_path when it is None.")
        reader = _Reader(save_path)
        feeds = {}
        for cname, ph in self._restore_feeds.items():
            if cname not in reader.tensors:
                raise errors.NotFoundError(
                    None, None, "Key %s not found in checkpoint %s (restoring variable %s)"
                    % (cname, save_path, self._refs[cname].op.name))
            e = reader.tensors[cname]
            ref = self._refs[cname]
            if dtypes.as_dtype(e["dtype"]) is not ref.dtype:
                raise errors.InvalidArgumentError(
                    None, None, "tensor_name = %s; expected dtype %s does not equal original "
                    "dtype %s (checkpoint %s)" % (cname, ref.dtype.name, e["dtype"], save_path))
            if not ref.shape.is_compatible_with(e["shape"]):
                raise errors.InvalidArgumentError(
                    None, None, "Assign requires shapes of both tensors to match. Variable %s "
                    "has shape %s but checkpoint %s holds shape %s for %s"
                    % (ref.op.name, ref.shape.as_list() if ref.shape.ndims is not None else None,
                       save_path, e["shape"], cname))
            feeds[ph] = reader.read(cname)
        if self._restore_op is not None:
            sess.run(self._restore_op, feeds)

    def as_saver_def(self):
        """A `SaverDef` naming this Saver's restore op (no filename or save
        tensors: saving runs in Python, not through graph ops)."""
        from flowcore.protos import SaverDef
        return SaverDef(restore_op_name=self._restore_op.name if self._restore_op else "",
                        max_to_keep=self._max_to_keep or 0,
                        keep_checkpoint_every_n_hours=self._keep_every_secs / 3600.0,
                        version=SaverDef.V2)

    saver_def = property(as_saver_def)

    def to_proto(self, export_scope=None):
        sd = self.as_saver_def()
        if export_scope and sd.restore_op_name.startswith(export_scope + "/"):
            sd.restore_op_name = sd.restore_op_name[len(export_scope) + 1:]
        return sd

    def export_meta_graph(self, filename=None, collection_list=None, as_text=False,
                          export_scope=None, clear_devices=False,
                          clear_extraneous_savers=False, strip_default_attrs=False,
                          save_debug_info=False, graph=None):
        """The MetaGraphDef of the graph with this Saver's SaverDef, written to
        `filename` when given (see `flowcore.meta_graph.export_meta_graph`)."""
        from flowcore import meta_graph
        if graph is None and self._restore_op is not None:
            graph = self._restore_op.graph
        return meta_graph.export_meta_graph(
            filename=filename, saver_def=self.as_saver_def(), collection_list=collection_list,
            as_text=as_text, graph=graph, export_scope=export_scope,
            clear_devices=clear_devices, strip_default_attrs=strip_default_attrs)

    def build(self):
        pass
