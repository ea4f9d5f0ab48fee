"""GraphDef and MetaGraphDef: a flowcore graph as TensorFlow's protocol buffers,
and a flowcore graph rebuilt from them.

Export (`graph_to_graph_def`, `export_meta_graph`) writes one `NodeDef` per
operation: TF's op type names, inputs as TF spells them (`op` for output 0,
`op:1`, `^op` for a control input), the device, and the op's attributes
converted from Python values:

    DType -> type            TensorShape -> shape      bool -> b   int -> i
    float -> f (float32, as in TF)   str/bytes -> s    ndarray -> tensor
    homogeneous list/tuple of those -> list            dict -> func "flowcore.dict"
    other lists (nested, mixed, with None) -> func "flowcore.list"/"flowcore.tuple"
    None -> placeholder "flowcore:None"
    anything else (a Python function, an object) -> placeholder
        "flowcore:unrepresentable:<type>"; importing such an op gives it an
        `UnrepresentableAttr` that raises UnimplementedError when used.

Type attrs that TF's op definitions require but our builders leave out
(`T` of MatMul, `Tidx` of Sum, ...) are filled in from the input/output dtypes
for the common op types, so TensorFlow can import the simple graphs we write.
With `add_shapes=True` each node carries `_output_shapes`, which import uses
to restore shapes refined with `set_shape`.  A string attr comes back as
`str` when it is valid UTF-8, else as `bytes`.

Import (`import_graph_def`, `import_meta_graph`) rebuilds each node through
the op registry (so shape functions run again), in dependency order, and
restores the collections: node lists become ops/tensors, registered proto
collections (the variable collections: TF's `VariableDef`) are rebuilt by
their `from_proto`, byte/int/float lists become Python values.  An op type
that is not registered is a ValueError naming the node.
"""
import heapq
import logging
import os

import numpy as np
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory, text_format

from flowcore import dtypes, errors, registry
from flowcore.fileio import atomic_write
from flowcore.graph import GraphKeys, Operation, Tensor, get_default_graph
from flowcore.protos import (AttrValue, CollectionDef, GraphDef, MetaGraphDef, NodeDef, SaverDef,
                             TensorProto, TensorShapeProto, VersionDef)
from flowcore.shapes import TensorShape

__all__ = ["graph_to_graph_def", "import_graph_def", "export_meta_graph", "import_meta_graph",
           "create_meta_graph_def", "read_meta_graph_file", "write_graph",
           "make_tensor_proto", "make_ndarray", "register_proto_function",
           "VariableDef", "QueueRunnerDef", "UnrepresentableAttr"]

_log = logging.getLogger("flowcore.meta_graph")

# The GraphDef version we write: TensorFlow 1.15's, whose op semantics flowcore follows.
PRODUCER_VERSION = 134


def graph_def_versions():
    return VersionDef(producer=PRODUCER_VERSION)


# -- messages TF keeps in collections, defined in a private descriptor pool ------------------
# (wire-compatible with TF's VariableDef and QueueRunnerDef; a private pool cannot clash
# with a `flowcore.*` schema added to proto/ later, nor with TensorFlow's own.)

def _build_messages():
    T = descriptor_pb2.FieldDescriptorProto
    s, b, i32 = T.TYPE_STRING, T.TYPE_BOOL, T.TYPE_INT32
    f = descriptor_pb2.FileDescriptorProto(name="flowcore_meta_graph_private.proto",
                                           package="flowcore.meta_graph", syntax="proto3")
    specs = {
        # field 4 (save_slice_info_def, for partitioned variables) is not modelled
        "VariableDef": [(1, "variable_name", s, 0), (2, "initializer_name", s, 0),
                        (3, "snapshot_name", s, 0), (5, "is_resource", b, 0),
                        (6, "initial_value_name", s, 0), (7, "trainable", b, 0),
                        (8, "synchronization", i32, 0), (9, "aggregation", i32, 0)],
        "QueueRunnerDef": [(1, "queue_name", s, 0), (2, "enqueue_op_name", s, 1),
                           (3, "close_op_name", s, 0), (4, "cancel_op_name", s, 0),
                           (5, "queue_closed_exception_types", i32, 1)],
    }
    for name, fields in specs.items():
        m = f.message_type.add(name=name)
        for number, fname, ftype, repeated in fields:
            m.field.add(name=fname, number=number, type=ftype,
                        label=T.LABEL_REPEATED if repeated else T.LABEL_OPTIONAL)
    pool = descriptor_pool.DescriptorPool()
    pool.Add(f)
    return [message_factory.GetMessageClass(pool.FindMessageTypeByName("flowcore.meta_graph." + n))
            for n in specs]


VariableDef, QueueRunnerDef = _build_messages()


# -- shapes and tensors -----------------------------------------

def shape_to_proto(shape):
    shape = shape if isinstance(shape, TensorShape) else TensorShape(shape)
    p = TensorShapeProto()
    if shape.ndims is None:
        p.unknown_rank = True
    else:
        for d in shape.as_list():
            p.dim.add(size=-1 if d is None else d)
    return p


def shape_from_proto(p):
    if p.unknown_rank:
        return TensorShape(None)
    return TensorShape([None if d.size < 0 else d.size for d in p.dim])


# dtype -> the typed repeated field TF uses for few-element tensors
_VAL_FIELD = {"float32": "float_val", "float64": "double_val", "int32": "int_val",
              "int16": "int_val", "int8": "int_val", "uint8": "int_val", "uint16": "int_val",
              "int64": "int64_val", "uint32": "uint32_val", "uint64": "uint64_val",
              "bool": "bool_val", "float16": "half_val"}


def make_tensor_proto(values, dtype=None, shape=None, verify_shape=False):
    """A TensorProto holding `values` (TF's `tf.make_tensor_proto`): numeric
    tensors of more than one element as `tensor_content`, others in the typed
    `*_val` field, strings in `string_val`."""
    if isinstance(values, TensorProto):
        return values
    from flowcore.ops.core import make_ndarray_value
    if isinstance(values, np.ndarray) and dtype is None and shape is None:
        dtype = dtypes.string if values.dtype.kind in "SUO" else dtypes.as_dtype(values.dtype)
        arr = values
        if dtype is dtypes.string:
            dtype, arr = make_ndarray_value(values, dtypes.string)
    else:
        dtype, arr = make_ndarray_value(values, dtype, shape, verify_shape)
    p = TensorProto(dtype=dtype.as_datatype_enum, tensor_shape=shape_to_proto(arr.shape))
    if dtype is dtypes.string:
        p.string_val.extend(x if isinstance(x, bytes) else str(x).encode()
                            for x in arr.reshape(-1))
    elif arr.size > 1:
        p.tensor_content = np.ascontiguousarray(arr, arr.dtype.newbyteorder("<")).tobytes()
    elif arr.size == 1:
        field = _VAL_FIELD.get(dtype.name)
        if field is None:
            raise TypeError("Cannot put a %s tensor in a TensorProto" % dtype.name)
        v = arr.reshape(-1)
        if dtype is dtypes.float16:
            v = v.view(np.uint16)
        getattr(p, field).extend(v.tolist())
    return p


def make_ndarray(proto):
    """The numpy value of a TensorProto (TF's `tf.make_ndarray`); string
    tensors are object arrays of bytes.  Fewer typed values than the shape
    holds are padded with the last one, as TF does."""
    dtype = dtypes.as_dtype(proto.dtype)
    shape = tuple(d.size for d in proto.tensor_shape.dim)
    n = int(np.prod(shape, dtype=np.int64))
    if dtype is dtypes.string:
        out = np.empty(n, dtype=object)
        vals = list(proto.string_val)
        if vals:
            out[:len(vals)] = vals[:n]
            out[len(vals):] = vals[-1]
        else:
            out[:] = b""
        return out.reshape(shape)
    npdt = np.dtype(dtype.as_numpy_dtype)
    if proto.tensor_content:
        return np.frombuffer(proto.tensor_content, npdt.newbyteorder("<")).astype(
            npdt).reshape(shape)
    field = _VAL_FIELD.get(dtype.name)
    if field is None:
        raise TypeError("Cannot read a %s TensorProto" % dtype.name)
    vals = list(getattr(proto, field))
    if dtype is dtypes.float16:
        vals = np.array(vals, np.uint16).view(np.float16)
    arr = np.array(vals, dtype=npdt)
    if arr.size == n:
        return arr.reshape(shape)
    if arr.size == 0:
        return np.zeros(shape, npdt)
    return np.concatenate([arr[:n], np.repeat(arr[-1:], max(0, n - arr.size))]).reshape(shape)


# -- attributes -----------------------------------------

_NONE = "flowcore:None"
_UNREPRESENTABLE = "flowcore:unrepresentable:"


class UnrepresentableAttr:
    """Stands in, after import, for an attr whose Python value no GraphDef can
    carry (a function, an arbitrary object).  Using it raises UnimplementedError."""

    def __init__(self, type_name, op_name=None, attr_name=None):
        self.type_name = type_name
        self.op_name = op_name
        self.attr_name = attr_name

    def __call__(self, *args, **kwargs):
        raise errors.UnimplementedError(
            None, None, "Attr '%s' of op '%s' was a Python %s, which a GraphDef cannot carry; "
            "rebuild that op in this process instead of importing it"
            % (self.attr_name, self.op_name, self.type_name))

    def __repr__(self):
        return "<UnrepresentableAttr %s>" % self.type_name


def _kind(v):
    if isinstance(v, dtypes.DType):
        return "type"
    if isinstance(v, TensorShape):
        return "shape"
    if isinstance(v, (bool, np.bool_)):
        return "b"
    if isinstance(v, (int, np.integer)):
        return "i"
    if isinstance(v, (float, np.floating)):
        return "f"
    if isinstance(v, (str, bytes, np.bytes_)):
        return "s"
    if isinstance(v, np.ndarray):
        return "tensor"
    return None


def _scalar_attr(kind, v):
    if kind == "type":
        return v.as_datatype_enum
    if kind == "shape":
        return shape_to_proto(v)
    if kind == "b":
        return bool(v)
    if kind == "i":
        return int(v)
    if kind == "f":
        return float(v)
    if kind == "s":
        return v.encode("utf-8") if isinstance(v, str) else bytes(v)
    return make_tensor_proto(v)


def attr_to_proto(value):
    """The AttrValue for a Python attribute value (see the module docstring)."""
    av = AttrValue()
    kind = _kind(value)
    if kind in ("shape", "tensor"):
        getattr(av, kind).CopyFrom(_scalar_attr(kind, value))
    elif kind is not None:
        setattr(av, kind, _scalar_attr(kind, value))
    elif isinstance(value, (list, tuple)):
        kinds = {_kind(x) for x in value}
        if kinds == {"i", "f"}:
            kinds = {"f"}
        if not value:
            av.list.SetInParent()
        elif len(kinds) == 1 and None not in kinds:
            k = kinds.pop()
            items = [_scalar_attr(k, x) for x in value]
            getattr(av.list, k).extend(items)
        else:
            av.func.name = "flowcore.tuple" if isinstance(value, tuple) else "flowcore.list"
            for i, x in enumerate(value):
                av.func.attr[str(i)].CopyFrom(attr_to_proto(x))
    elif isinstance(value, dict) and all(isinstance(k, str) for k in value):
        av.func.name = "flowcore.dict"
        for k, x in value.items():
            av.func.attr[k].CopyFrom(attr_to_proto(x))
    elif value is None:
        av.placeholder = _NONE
    elif isinstance(value, UnrepresentableAttr):
        av.placeholder = _UNREPRESENTABLE + value.type_name
    else:
        av.placeholder = _UNREPRESENTABLE + "%s.%s" % (type(value).__module__,
                                                       type(value).__qualname__)
    return av


def _str(b):
    try:
        return b.decode("utf-8")
    except UnicodeDecodeError:
        return b


def _readonly(arr):
    if arr.dtype != object:
        arr.flags.writeable = False
    return arr


def attr_from_proto(av, op_name=None, attr_name=None):
    """The Python value of an AttrValue (inverse of `attr_to_proto`)."""
    which = av.WhichOneof("value")
    if which == "s":
        return _str(av.s)
    if which in ("i", "f", "b"):
        return getattr(av, which)
    if which == "type":
        return dtypes.as_dtype(av.type)
    if which == "shape":
        return shape_from_proto(av.shape)
    if which == "tensor":
        return _readonly(make_ndarray(av.tensor))
    if which == "list":
        lv = av.list
        for field, conv in (("s", _str), ("i", int), ("f", float), ("b", bool),
                            ("type", dtypes.as_dtype), ("shape", shape_from_proto),
                            ("tensor", lambda t: _readonly(make_ndarray(t)))):
            vals = getattr(lv, field)
            if len(vals):
                return [conv(x) for x in vals]
        return [] if not len(lv.func) else list(lv.func)
    if which == "func":
        f = av.func
        if f.name == "flowcore.dict":
            return {k: attr_from_proto(v, op_name, attr_name) for k, v in f.attr.items()}
        if f.name in ("flowcore.list", "flowcore.tuple"):
            items = [attr_from_proto(f.attr[str(i)], op_name, attr_name)
                     for i in range(len(f.attr))]
            return tuple(items) if f.name == "flowcore.tuple" else items
        return f
    if which == "placeholder":
        if av.placeholder == _NONE:
            return None
        if av.placeholder.startswith(_UNREPRESENTABLE):
            return UnrepresentableAttr(av.placeholder[len(_UNREPRESENTABLE):], op_name,
                                       attr_name)
        return av.placeholder
    return None


# TF's type attrs our builders do not keep, derived so TensorFlow can import
# our nodes: attr -> "i<k>" (dtype of input k), "o<k>" (output k), "n" (number
# of inputs), "n-1".  Only filled in when the op has no such attr already.
_T0 = (("T", "i0"),)
_TYPE_ATTRS = {t: _T0 for t in (
    "Identity StopGradient Add AddV2 Sub Mul RealDiv Div FloorDiv FloorMod Mod Pow "
    "Maximum Minimum Neg Abs Sign Square Sqrt Rsqrt Exp Log Log1p Sin Cos Tanh Sigmoid "
    "Reciprocal Relu Relu6 Elu Softplus Softsign Softmax LogSoftmax MatMul BatchMatMul "
    "BatchMatMulV2 Assign AssignAdd AssignSub Equal NotEqual Less LessEqual Greater "
    "GreaterEqual ZerosLike OnesLike BiasAdd L2Loss Unpack Squeeze SquaredDifference "
    "ApplyGradientDescent ApplyMomentum ApplyAdagrad ApplyRMSProp ApplyAdam "
    "ScalarSummary HistogramSummary ImageSummary TensorSummaryV2 "
    "ReluGrad SigmoidGrad TanhGrad BroadcastTo").split()}
_TYPE_ATTRS.update({
    "Sum": (("T", "i0"), ("Tidx", "i1")), "Mean": (("T", "i0"), ("Tidx", "i1")),
    "Max": (("T", "i0"), ("Tidx", "i1")), "Min": (("T", "i0"), ("Tidx", "i1")),
    "Prod": (("T", "i0"), ("Tidx", "i1")), "Any": (("Tidx", "i1"),), "All": (("Tidx", "i1"),),
    "ArgMax": (("T", "i0"), ("Tidx", "i1"), ("output_type", "o0")),
    "ArgMin": (("T", "i0"), ("Tidx", "i1"), ("output_type", "o0")),
    "Reshape": (("T", "i0"), ("Tshape", "i1")), "Transpose": (("T", "i0"), ("Tperm", "i1")),
    "ExpandDims": (("T", "i0"), ("Tdim", "i1")), "Tile": (("T", "i0"), ("Tmultiples", "i1")),
    "Pad": (("T", "i0"), ("Tpaddings", "i1")), "Fill": (("T", "i1"), ("index_type", "i0")),
    "Select": (("T", "i1"),), "SelectV2": (("T", "i1"),),
    "Cast": (("SrcT", "i0"), ("DstT", "o0")),
    "Shape": (("T", "i0"), ("out_type", "o0")), "Size": (("T", "i0"), ("out_type", "o0")),
    "Rank": (("T", "i0"),), "Pack": (("T", "i0"), ("N", "n")),
    "AddN": (("T", "i0"), ("N", "n")), "MergeSummary": (("N", "n"),),
    "ConcatV2": (("T", "i0"), ("N", "n-1"), ("Tidx", "i-1")),
    "GatherV2": (("Tparams", "i0"), ("Tindices", "i1"), ("Taxis", "i2")),
    "Gather": (("Tparams", "i0"), ("Tindices", "i1")),
})


def _derived_attrs(op):
    out = {}
    for name, src in _TYPE_ATTRS.get(op.type, ()):
        if name in op.attrs:
            continue
        try:
            if src == "n":
                out[name] = len(op.inputs)
            elif src == "n-1":
                out[name] = len(op.inputs) - 1
            elif src[0] == "i":
                out[name] = op.inputs[int(src[1:])].dtype
            else:
                out[name] = op.outputs[int(src[1:])].dtype
        except IndexError:
            pass
    return out


# -- GraphDef -----------------------------------------

def _strip(name, scope):
    if scope and name.startswith(scope + "/"):
        return name[len(scope) + 1:]
    return name


def _input_name(t, scope):
    n = _strip(t.op.name, scope)
    return n if t.value_index == 0 else "%s:%d" % (n, t.value_index)


def op_to_node_def(op, add_shapes=False, export_scope=None, clear_devices=False):
    """The NodeDef of one Operation."""
    node = NodeDef(name=_strip(op.name, export_scope), op=op.type)
    node.input.extend(_input_name(t, export_scope) for t in op.inputs)
    node.input.extend("^" + _strip(c.name, export_scope) for c in op.control_inputs)
    if op.device and not clear_devices:
        node.device = op.device
    attrs = dict(op.attrs)
    attrs.update(_derived_attrs(op))
    if any(t._is_ref for t in op.outputs) and op.type not in _REF_OUTPUT_TYPES:
        attrs["_ref_output"] = True
    for k, v in attrs.items():
        node.attr[k].CopyFrom(attr_to_proto(v))
    if add_shapes:
        node.attr["_output_shapes"].list.shape.extend(shape_to_proto(t.shape)
                                                      for t in op.outputs)
    return node


def graph_to_graph_def(graph=None, from_version=None, add_shapes=False, export_scope=None,
                       clear_devices=False):
    """`graph` (default: the default graph) as a GraphDef.  `from_version`
    keeps only ops added after `graph.version` had that value (TF1's rule);
    `export_scope` keeps only ops under that name scope, with it stripped."""
    graph = graph or get_default_graph()
    gd = GraphDef(versions=graph_def_versions())
    for op in graph.get_operations():
        if from_version is not None and op._id <= from_version:
            continue
        if export_scope and not op.name.startswith(export_scope + "/"):
            continue
        gd.node.append(op_to_node_def(op, add_shapes, export_scope, clear_devices))
    return gd


# op types whose outputs are variable references (TF's `*_ref` outputs)
_REF_OUTPUT_TYPES = {"VariableV2", "Variable", "TemporaryVariable"}


def _parse_input(s):
    """'^op' -> ('op', None); 'op:2' -> ('op', 2); 'op' -> ('op', 0)."""
    if s.startswith("^"):
        return s[1:], None
    name, sep, idx = s.rpartition(":")
    if sep and idx.isdigit():
        return name, int(idx)
    return s, 0


def _toposort(nodes, external):
    """Nodes ordered so each comes after its inputs, otherwise in file order;
    ValueError on a cycle or an input that is neither a node nor `external`."""
    by_name = {}
    for n in nodes:
        if n.name in by_name:
            raise ValueError("Duplicate node name in graph: '%s'" % n.name)
        by_name[n.name] = n
    count, users = {}, {}
    for n in nodes:
        deps = set()
        for s in n.input:
            src, idx = _parse_input(s)
            if idx is not None and "%s:%d" % (src, idx) in external:
                continue
            if src not in by_name:
                raise ValueError("Node '%s': input '%s' is not in the graph being imported"
                                 % (n.name, s))
            deps.add(src)
        count[n.name] = len(deps)
        for d in deps:
            users.setdefault(d, []).append(n.name)
    pos = {n.name: i for i, n in enumerate(nodes)}
    heap = [(pos[k], k) for k, v in count.items() if v == 0]
    heapq.heapify(heap)
    order = []
    while heap:
        _, name = heapq.heappop(heap)
        order.append(by_name[name])
        for u in users.get(name, ()):
            count[u] -= 1
            if count[u] == 0:
                heapq.heappush(heap, (pos[u], u))
    if len(order) != len(nodes):
        stuck = sorted(k for k, v in count.items() if v > 0)
        raise ValueError("The graph to import has a cycle through nodes %s" % stuck[:5])
    return order


def _mark_scopes_used(graph, name):
    """Mark every enclosing scope of an imported op's name as used, so a later
    `name_scope("save")` in this graph becomes "save_1" as in TensorFlow."""
    parts = name.split("/")
    with graph._lock:
        for i in range(1, len(parts)):
            graph._names_in_use.setdefault("/".join(parts[:i]).lower(), 1)


def _import_nodes(graph, graph_def, prefix, input_map=None, clear_devices=False):
    """Create the ops of `graph_def` in `graph`, names prefixed with `prefix`
    ('' or 'scope/'); return {node name in graph_def: Operation}."""
    input_map = {(k if ":" in k else k + ":0"): v for k, v in (input_map or {}).items()}
    for k, v in input_map.items():
        if not isinstance(v, Tensor):
            raise TypeError("input_map values must be Tensors; %r maps to %r" % (k, v))
        if v.graph is not graph:
            raise ValueError("input_map value %s must be in the graph being imported into"
                             % v.name)
    import flowcore.ops  # noqa: F401  (register every op type)
    import flowcore.summary  # noqa: F401  (summary ops)
    import flowcore.train  # noqa: F401  (optimizer ops)
    created = {}
    with graph.as_default(), graph.name_scope(None), graph.control_dependencies(None), \
            graph.device(None):
        for node in _toposort(list(graph_def.node), input_map):
            try:
                registry.get(node.op)
            except KeyError:
                raise ValueError("Cannot import node '%s': op type '%s' is not registered in "
                                 "flowcore (import the module that defines it first)"
                                 % (node.name, node.op)) from None
            inputs, controls = [], []
            for s in node.input:
                src, idx = _parse_input(s)
                if idx is None:
                    controls.append(created[src])
                elif "%s:%d" % (src, idx) in input_map:
                    inputs.append(input_map["%s:%d" % (src, idx)])
                else:
                    op = created[src]
                    if idx >= len(op.outputs):
                        raise ValueError("Node '%s': input '%s' names output %d of an op with "
                                         "%d outputs" % (node.name, s, idx, len(op.outputs)))
                    inputs.append(op.outputs[idx])
            attrs = {k: attr_from_proto(v, node.name, k) for k, v in node.attr.items()
                     if k != "_output_shapes"}
            if node.op in _REF_OUTPUT_TYPES:
                attrs["_ref_output"] = True
            name = prefix + node.name
            op = graph.create_op(node.op, inputs, attrs, name=name + "/",
                                 control_inputs=controls)
            _mark_scopes_used(graph, op.name)
            if node.device and not clear_devices:
                op._set_device(node.device)
            shapes = node.attr.get("_output_shapes")
            if shapes is not None:
                for t, sp in zip(op.outputs, shapes.list.shape):
                    try:
                        t.set_shape(shape_from_proto(sp))
                    except ValueError:
                        pass
            created[node.name] = op
    return created


def _graph_element(graph, created, name, prefix):
    """A node-list entry ('op' or 'op:1') of the imported graph_def, as the
    op or tensor it became."""
    src, idx = _parse_input(name)
    op = created.get(src)
    if op is None:
        return graph.as_graph_element(prefix + name)
    return op if ":" not in name else op.outputs[idx]


def import_graph_def(graph_def, input_map=None, return_elements=None, name=None,
                     op_dict=None, producer_op_list=None):
    """Import `graph_def` into the default graph (TF's `tf.import_graph_def`).
    Names get the prefix `name` (default "import", made unique; '' for none);
    `input_map` {tensor name in graph_def: Tensor} replaces inputs;
    `return_elements` names the ops/tensors to return."""
    if isinstance(graph_def, (bytes, bytearray)):
        graph_def = GraphDef.FromString(bytes(graph_def))
    if not isinstance(graph_def, GraphDef):
        raise TypeError("graph_def must be a GraphDef proto.")
    graph = get_default_graph()
    if name == "":
        prefix = ""
    else:
        with graph.name_scope(name or "import") as scope:
            prefix = scope
    created = _import_nodes(graph, graph_def, prefix, input_map)
    if return_elements is None:
        return None
    out = []
    for r in return_elements:
        src, idx = _parse_input(r)
        if src not in created:
            raise ValueError("Requested return_element %r not found in graph_def." % r)
        out.append(created[src] if ":" not in r else created[src].outputs[idx])
    return out


# -- collections -----------------------------------------

_PROTO_FUNCTIONS = {}   # collection key -> (proto_type, to_proto, from_proto)


def register_proto_function(collection_name, proto_type=None, to_proto=None, from_proto=None):
    """Say how the items of a collection are stored in a MetaGraphDef:
    `to_proto(item, export_scope)` -> message (or None to skip the item),
    `from_proto(message, import_scope)` -> item."""
    _PROTO_FUNCTIONS[collection_name] = (proto_type, to_proto, from_proto)


def _variable_to_proto(var, export_scope=None):
    if export_scope and not var.name.startswith(export_scope + "/"):
        return None
    d = var.to_proto(export_scope=export_scope)
    if not isinstance(d, dict):
        return d
    return VariableDef(variable_name=d["variable_name"], initializer_name=d["initializer_name"],
                       snapshot_name=d["snapshot_name"],
                       initial_value_name=d.get("initial_value_name") or "",
                       trainable=bool(d.get("trainable", True)))


def _variable_from_proto(vdef, import_scope=None):
    from flowcore.variables import Variable
    d = {"variable_name": vdef.variable_name, "initializer_name": vdef.initializer_name,
         "snapshot_name": vdef.snapshot_name, "initial_value_name": vdef.initial_value_name,
         "trainable": vdef.trainable}
    return Variable(variable_def=d, import_scope=import_scope)


for _key in (GraphKeys.GLOBAL_VARIABLES, GraphKeys.TRAINABLE_VARIABLES,
             GraphKeys.LOCAL_VARIABLES, GraphKeys.MODEL_VARIABLES,
             GraphKeys.MOVING_AVERAGE_VARIABLES, GraphKeys.METRIC_VARIABLES):
    register_proto_function(_key, VariableDef, _variable_to_proto, _variable_from_proto)


def _is_graph_item(x):
    return isinstance(x, (Tensor, Operation)) or (
        hasattr(x, "_as_graph_element") and hasattr(x, "name"))


def _collection_def(graph, key, export_scope):
    """The CollectionDef of collection `key`, or None (empty or unsupported)."""
    items = graph.get_collection(key)
    if not items:
        return None
    cd = CollectionDef()
    proto_fns = _PROTO_FUNCTIONS.get(key)
    if proto_fns is not None and proto_fns[1] is not None:
        protos = [proto_fns[1](x, export_scope) for x in items]
        cd.bytes_list.value.extend(p.SerializeToString() for p in protos if p is not None)
        return cd
    if all(_is_graph_item(x) for x in items):
        names = [x.name for x in items]
        if export_scope:
            names = [_strip(n, export_scope) for n in names
                     if n.startswith(export_scope + "/")]
        cd.node_list.value.extend(names)
    elif all(isinstance(x, (str, bytes)) for x in items):
        cd.bytes_list.value.extend(x.encode() if isinstance(x, str) else x for x in items)
    elif all(isinstance(x, (bool, int, np.integer)) for x in items):
        cd.int64_list.value.extend(int(x) for x in items)
    elif all(isinstance(x, (int, float, np.integer, np.floating)) for x in items):
        cd.float_list.value.extend(float(x) for x in items)
    else:
        _log.warning("Collection '%s' is not exported to the MetaGraphDef: its items (%s) "
                     "have no protobuf form.", key, type(items[0]).__name__)
        return None
    return cd


# -- MetaGraphDef -----------------------------------------

def _saver_def_proto(saver_def):
    if saver_def is None or isinstance(saver_def, SaverDef):
        return saver_def
    if isinstance(saver_def, dict):
        return SaverDef(**{k: v for k, v in saver_def.items()
                           if k in SaverDef.DESCRIPTOR.fields_by_name})
    return SaverDef.FromString(saver_def.SerializeToString())


def create_meta_graph_def(meta_info_def=None, graph_def=None, saver_def=None,
                          collection_list=None, graph=None, export_scope=None,
                          clear_devices=False, strip_default_attrs=False):
    """A MetaGraphDef of `graph`: its GraphDef (with `_output_shapes`), the
    saver, and the collections named in `collection_list` (default: all)."""
    from flowcore import __version__
    graph = graph or get_default_graph()
    meta = MetaGraphDef()
    if meta_info_def is not None:
        meta.meta_info_def.CopyFrom(meta_info_def)
    meta.meta_info_def.tensorflow_git_version = "flowcore-" + __version__
    if graph_def is None:
        graph_def = graph_to_graph_def(graph, add_shapes=True, export_scope=export_scope,
                                       clear_devices=clear_devices)
    elif clear_devices:
        graph_def = GraphDef.FromString(graph_def.SerializeToString())
        for n in graph_def.node:
            n.device = ""
    meta.graph_def.CopyFrom(graph_def)
    sd = _saver_def_proto(saver_def)
    if sd is not None:
        meta.saver_def.CopyFrom(sd)
    keys = graph.get_all_collection_keys() if collection_list is None else collection_list
    for key in keys:
        if not isinstance(key, str):
            continue
        cd = _collection_def(graph, key, export_scope)
        if cd is not None:
            meta.collection_def[key].CopyFrom(cd)
    return meta


def write_graph(graph_or_graph_def, logdir, name, as_text=True):
    """Write a graph's GraphDef (or any message) to `logdir/name`; return the path."""
    from flowcore.graph import Graph
    msg = graph_or_graph_def
    if isinstance(msg, Graph):
        msg = graph_to_graph_def(msg)
    path = os.path.join(logdir, name)
    data = text_format.MessageToString(msg).encode() if as_text else msg.SerializeToString()
    atomic_write(path, lambda f: f.write(data))
    return path


def export_meta_graph(filename=None, meta_info_def=None, graph_def=None, saver_def=None,
                      collection_list=None, as_text=False, graph=None, export_scope=None,
                      clear_devices=False, clear_extraneous_savers=False,
                      strip_default_attrs=False, save_debug_info=False, saver=None, **kwargs):
    """Build the MetaGraphDef of `graph` (default graph) and, with `filename`,
    write it there (binary, or text with `as_text`; atomically).  Returns it.
    `saver` (a Saver) may stand in for `saver_def`.  `strip_default_attrs`,
    `clear_extraneous_savers` and `save_debug_info` are accepted and ignored
    (flowcore records no op defaults and keeps no debug info)."""
    if saver_def is None and saver is not None:
        saver_def = saver.as_saver_def()
    meta = create_meta_graph_def(meta_info_def, graph_def, saver_def, collection_list, graph,
                                 export_scope, clear_devices, strip_default_attrs)
    if filename:
        data = text_format.MessageToString(meta).encode() if as_text \
            else meta.SerializeToString()
        atomic_write(filename, lambda f: f.write(data))
    return meta


def read_meta_graph_file(filename):
    """The MetaGraphDef in `filename` (binary or text format)."""
    if not os.path.exists(filename):
        raise IOError("File %s does not exist." % filename)
    with open(filename, "rb") as f:
        data = f.read()
    meta = MetaGraphDef()
    try:
        meta.ParseFromString(data)
        return meta
    except Exception:
        pass
    try:
        text_format.Merge(data.decode("utf-8"), meta)
    except Exception as e:
        raise IOError("Cannot parse file %s: %s." % (filename, e)) from None
    return meta


def _restore_collections(graph, meta, created, prefix, import_scope, predicate):
    variables = {}
    for key in sorted(meta.collection_def):
        if predicate is not None and not predicate(key):
            continue
        cd = meta.collection_def[key]
        kind = cd.WhichOneof("kind")
        if kind is None:
            continue
        values = getattr(cd, kind).value
        proto_fns = _PROTO_FUNCTIONS.get(key)
        if kind == "bytes_list" and proto_fns is not None and proto_fns[2] is not None:
            proto_type, _, from_proto = proto_fns
            for raw in values:
                if proto_type is VariableDef:
                    item = variables.get(raw)
                    if item is None:
                        item = variables[raw] = from_proto(proto_type.FromString(raw),
                                                           import_scope)
                else:
                    item = from_proto(proto_type.FromString(raw), import_scope)
                graph.add_to_collection(key, item)
        elif kind == "node_list":
            for name in values:
                graph.add_to_collection(key, _graph_element(graph, created, name, prefix))
        elif kind == "bytes_list":
            for raw in values:
                graph.add_to_collection(key, raw)
        elif kind in ("int64_list", "float_list"):
            for v in values:
                graph.add_to_collection(key, v)
        else:
            _log.warning("Collection '%s' of kind %s is not restored.", key, kind)


def import_meta_graph(meta_graph_or_file, clear_devices=False, import_scope=None,
                      input_map=None, restore_collections_predicate=None, **kwargs):
    """Rebuild the graph and collections of a MetaGraphDef (or `.meta` file)
    in the default graph; return a Saver restoring its variables (from its
    SaverDef; a new Saver if it has none but has variables; else None)."""
    meta = meta_graph_or_file
    if not isinstance(meta, MetaGraphDef):
        meta = read_meta_graph_file(meta_graph_or_file)
    graph = get_default_graph()
    prefix = ""
    if import_scope:
        with graph.name_scope(import_scope) as scope:
            prefix = scope
    created = _import_nodes(graph, meta.graph_def, prefix, input_map, clear_devices)
    scope = prefix[:-1] if prefix else None
    _restore_collections(graph, meta, created, prefix, scope, restore_collections_predicate)
    from flowcore.train.saver import Saver
    sd = meta.saver_def if meta.HasField("saver_def") else None
    if sd is not None and sd.restore_op_name:
        sd = SaverDef.FromString(sd.SerializeToString())
        src, _ = _parse_input(sd.restore_op_name)
        sd.restore_op_name = created[src].name if src in created else prefix + src
        return Saver(saver_def=sd)
    if graph.get_collection(GraphKeys.GLOBAL_VARIABLES) or \
            graph.get_collection(GraphKeys.SAVEABLE_OBJECTS):
        return Saver()
    _log.info("Saver not created because there are no variables in the graph to restore")
    return None
