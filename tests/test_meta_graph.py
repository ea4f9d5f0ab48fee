"""GraphDef export (Graph.as_graph_def), attr/tensor conversion, import_graph_def,
and MetaGraphDef export/import, including the TF docs' "train, save, import
the meta graph in a fresh process, restore, keep training" example."""
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import flowcore.compat.v1 as tf
from flowcore import meta_graph as mg
from flowcore.protos import TensorProto

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TF_PYTHON = "/work/tfvenv/bin/python"

# TF's serialized VariableDef for a variable `w` (checked with TensorFlow 2.21)
TF_VARIABLE_DEF = b"\n\003w:0\022\010w/Assign\032\010w/read:02\021w/initial_value:08\001"


def _nodes(gd):
    return {n.name: n for n in gd.node}


# -- GraphDef -----------------------------------------

def test_graph_def_nodes_inputs_and_attrs():
    x = tf.placeholder(tf.float32, [None, 2], name="x")
    w = tf.Variable([[1.0], [2.0]], name="w")
    s = tf.constant(["a", "bc"], name="s")
    parts = tf.unstack(tf.constant([1.0, 2.0]), name="parts")
    one = tf.constant(1.0, name="one")
    with tf.control_dependencies([x, w.initializer]):
        tf.add(parts[1], one, name="y")
    gd = tf.get_default_graph().as_graph_def()
    n = _nodes(gd)
    assert gd.versions.producer == tf.get_default_graph().graph_def_versions.producer > 0
    assert n["x"].op == "Placeholder"
    assert n["x"].attr["dtype"].type == tf.float32.as_datatype_enum
    assert [d.size for d in n["x"].attr["shape"].shape.dim] == [-1, 2]
    assert n["w"].op == "VariableV2" and list(n["w"].input) == []
    assert [d.size for d in n["w"].attr["shape"].shape.dim] == [2, 1]
    assert n["w"].attr["dtype"].type == tf.float32.as_datatype_enum
    assert list(n["w/Assign"].input) == ["w", "w/initial_value"]
    assert n["w/Assign"].attr["T"].type == tf.float32.as_datatype_enum
    assert list(n["w/read"].input) == ["w"] and n["w/read"].op == "Identity"
    init = n["w/initial_value"].attr["value"].tensor
    assert np.frombuffer(init.tensor_content, "<f4").tolist() == [1.0, 2.0]
    assert [d.size for d in init.tensor_shape.dim] == [2, 1]
    assert list(n["s"].attr["value"].tensor.string_val) == [b"a", b"bc"]
    assert n["parts"].op == "Unpack" and n["parts"].attr["num"].i == 2
    assert list(n["y"].input) == ["parts:1", "one", "^x", "^w/Assign"]
    assert list(n["one"].attr["value"].tensor.float_val) == [1.0]
    assert "_output_shapes" not in n["x"].attr
    assert not any(k.startswith("_ref") for k in n["w"].attr)


def test_graph_def_matmul():
    a = tf.placeholder(tf.float32, [3, 2], name="a")
    b = tf.placeholder(tf.float32, [2, 4], name="b")
    tf.matmul(a, b, transpose_a=False, name="mm")
    n = _nodes(tf.get_default_graph().as_graph_def())["mm"]
    assert n.op == "MatMul" and list(n.input) == ["a", "b"]
    assert n.attr["T"].type == tf.float32.as_datatype_enum
    assert n.attr["transpose_a"].b is False


def test_graph_def_shapes_versions_and_devices():
    g = tf.get_default_graph()
    with tf.device("/cpu:0"):
        x = tf.placeholder(tf.float32, None, name="x")
    x.set_shape([5])
    v0 = g.version
    tf.identity(x, name="later")
    gd = g.as_graph_def(add_shapes=True)
    n = _nodes(gd)
    assert n["x"].device == "/device:CPU:0"
    assert n["x"].attr["shape"].shape.unknown_rank
    assert [d.size for d in n["x"].attr["_output_shapes"].list.shape[0].dim] == [5]
    assert [m.name for m in g.as_graph_def(from_version=v0).node] == ["later"]


def test_attr_conversion_roundtrip():
    def roundtrip(v):
        return mg.attr_from_proto(mg.AttrValue.FromString(
            mg.attr_to_proto(v).SerializeToString()))
    assert roundtrip(tf.int64) is tf.int64
    assert roundtrip(tf.TensorShape(None)).ndims is None
    assert roundtrip(tf.TensorShape([None, 3])).as_list() == [None, 3]
    for v in (True, False, 7, -2**40, 0.5, "text", [1, 2, 3], [0.5, 1], ["a", "b"],
              [True, False], [], {"k": [1, "x"], "n": None}, [[1, 2], [3]], (1, "a"), None):
        assert roundtrip(v) == v
    assert roundtrip(b"\xff\x00") == b"\xff\x00"          # not UTF-8: stays bytes
    assert roundtrip(0.1) == pytest.approx(0.1, rel=1e-7)  # float attrs are float32, as in TF
    assert roundtrip([tf.int32, tf.string]) == [tf.int32, tf.string]
    shapes = roundtrip([tf.TensorShape([1]), tf.TensorShape([])])
    assert [s.as_list() for s in shapes] == [[1], []]
    arr = roundtrip(np.arange(6, dtype=np.int16).reshape(2, 3))
    assert arr.dtype == np.int16 and arr.tolist() == [[0, 1, 2], [3, 4, 5]]
    fn = roundtrip(lambda: 1)
    assert isinstance(fn, mg.UnrepresentableAttr) and "function" in fn.type_name
    with pytest.raises(tf.errors.UnimplementedError, match="cannot carry"):
        fn()


@pytest.mark.parametrize("value", [
    np.float32(3.5), np.arange(6, dtype=np.float64).reshape(2, 3), np.array([1, -2], np.int64),
    np.array([True, False, True]), np.array(True), np.float16([1.5, -2]),
    np.array([7], np.uint8), np.array([[b"a", b""], [b"xyz", b"\x00"]], dtype=object),
    np.zeros((0, 3), np.float32), np.array(2**40, np.uint64)])
def test_tensor_proto_roundtrip(value):
    p = tf.make_tensor_proto(value)
    back = tf.make_ndarray(TensorProto.FromString(p.SerializeToString()))
    assert back.dtype == np.asarray(value).dtype and back.shape == np.shape(value)
    np.testing.assert_array_equal(back, value)


def test_tensor_proto_fields_and_padding():
    p = tf.make_tensor_proto(3)
    assert (p.dtype, list(p.int_val), p.tensor_content) == (tf.int32.as_datatype_enum, [3], b"")
    p = tf.make_tensor_proto([1.0, 2.0])
    assert p.tensor_content == np.array([1, 2], "<f4").tobytes() and not p.float_val
    p = TensorProto(dtype=tf.float32.as_datatype_enum, float_val=[1, 2])
    p.tensor_shape.dim.add(size=4)
    assert tf.make_ndarray(p).tolist() == [1, 2, 2, 2]   # the last value repeats, as in TF


# -- import_graph_def -----------------------------------------

def _small_graph():
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [2], name="x")
        c = tf.constant([10.0, 20.0], name="c")
        tf.multiply(tf.add(x, c, name="sum"), 2.0, name="out")
    return g.as_graph_def(add_shapes=True)


def test_import_graph_def_prefix_input_map_and_return_elements():
    gd = _small_graph()
    z = tf.constant([1.0, 2.0], name="z")
    out, op = tf.import_graph_def(gd, input_map={"x:0": z}, return_elements=["out:0", "sum"])
    assert out.name == "import/out:0" and op.name == "import/sum" and op.type == "Add"
    assert out.shape.as_list() == [2]
    assert op.inputs[0] is z
    out2, = tf.import_graph_def(gd, return_elements=["out:0"])
    assert out2.name == "import_1/out:0"
    with tf.Session() as sess:
        assert sess.run(out).tolist() == [22.0, 44.0]
        assert sess.run(out2, {"import_1/x:0": [0.0, 1.0]}).tolist() == [20.0, 42.0]
    (plain,) = tf.import_graph_def(gd, name="", return_elements=["out"])
    assert plain.name == "out"
    with pytest.raises(ValueError, match="not found in graph_def"):
        tf.import_graph_def(gd, return_elements=["nope:0"])


def test_import_graph_def_errors():
    gd = _small_graph()
    bad = tf.GraphDef()
    bad.CopyFrom(gd)
    bad.node[-1].op = "NoSuchOp"
    with pytest.raises(ValueError, match="node '.*out'.*'NoSuchOp' is not registered"):
        tf.import_graph_def(bad)
    cyc = tf.GraphDef()
    cyc.node.add(name="a", op="Identity", input=["b"])
    cyc.node.add(name="b", op="Identity", input=["a"])
    with pytest.raises(ValueError, match="cycle"):
        tf.import_graph_def(cyc)
    missing = tf.GraphDef()
    missing.node.add(name="a", op="Identity", input=["ghost:0"])
    with pytest.raises(ValueError, match="input 'ghost:0' is not in the graph"):
        tf.import_graph_def(missing)


def test_import_orders_nodes_by_dependency():
    gd = _small_graph()
    rev = tf.GraphDef()
    rev.node.extend(reversed(gd.node))
    (out,) = tf.import_graph_def(rev, name="r", return_elements=["out:0"])
    with tf.Session() as sess:
        assert sess.run(out, {"r/x:0": [1.0, 1.0]}).tolist() == [22.0, 42.0]


# -- MetaGraphDef -----------------------------------------

def _model():
    x = tf.placeholder(tf.float32, [None], name="x")
    w = tf.Variable(3.0, name="w")
    b = tf.Variable(0.5, name="b", trainable=False)
    y = tf.add(tf.multiply(w, x), b, name="y")
    tf.add_to_collection("outputs", y)
    tf.add_to_collection("ops", y.op)
    tf.add_to_collection("strings", "hello")
    tf.add_to_collection("ints", 3)
    tf.add_to_collection("floats", 2.5)
    tf.add_to_collection("objects", object())        # no protobuf form: left out
    return x, w, b, y


def test_export_meta_graph_collections_and_saver_def(tmp_path):
    _model()
    saver = tf.train.Saver()
    meta = tf.train.export_meta_graph(str(tmp_path / "m.meta"), saver_def=saver.as_saver_def())
    assert os.path.exists(str(tmp_path / "m.meta"))
    cd = meta.collection_def
    assert list(cd["variables"].bytes_list.value)[0] == TF_VARIABLE_DEF
    assert len(cd["variables"].bytes_list.value) == 2
    assert len(cd["trainable_variables"].bytes_list.value) == 1
    assert list(cd["outputs"].node_list.value) == ["y:0"]
    assert list(cd["ops"].node_list.value) == ["y"]
    assert list(cd["strings"].bytes_list.value) == [b"hello"]
    assert list(cd["ints"].int64_list.value) == [3]
    assert list(cd["floats"].float_list.value) == [2.5]
    assert "objects" not in cd
    assert meta.saver_def.restore_op_name == "save/restore_all"
    assert meta.saver_def.max_to_keep == 5
    assert "_output_shapes" in meta.graph_def.node[0].attr
    assert tf.MetaGraphDef.FromString(open(str(tmp_path / "m.meta"), "rb").read()) == meta


def test_import_meta_graph_in_process(tmp_path):
    _model()
    saver = tf.train.Saver()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(tf.assign(tf.global_variables()[0], 4.0))
        prefix = saver.save(sess, str(tmp_path / "model"))
    assert os.path.exists(prefix + ".meta")
    tf.reset_default_graph()
    new_saver = tf.train.import_meta_graph(prefix + ".meta")
    g = tf.get_default_graph()
    w, b = tf.global_variables()
    assert (w.name, b.name) == ("w:0", "b:0")
    assert tf.trainable_variables()[0] is w           # one Variable per VariableDef
    assert w.op is g.get_operation_by_name("w") and w.initializer.name == "w/Assign"
    (y,) = tf.get_collection("outputs")
    assert y is g.get_tensor_by_name("y:0") and y.shape.as_list() == [None]
    assert tf.get_collection("ops") == [y.op]
    assert tf.get_collection("strings") == [b"hello"]
    assert tf.get_collection("ints") == [3] and tf.get_collection("floats") == [2.5]
    with tf.Session() as sess:
        new_saver.restore(sess, prefix)
        assert sess.run(y, {"x:0": [1.0, 2.0]}).tolist() == [4.5, 8.5]
        with tf.Session() as fresh:
            fresh.run(tf.global_variables_initializer())
            assert fresh.run(y, {"x:0": [1.0]}).tolist() == [3.5]
    # a later Saver gets a fresh name scope, as in TF
    assert tf.train.Saver().as_saver_def().restore_op_name == "save_1/restore_all"


def test_import_meta_graph_scope_text_format_and_clear_devices(tmp_path):
    with tf.device("/cpu:0"):
        _model()
    path = str(tmp_path / "m.pbtxt")
    tf.train.export_meta_graph(path, as_text=True)
    assert open(path).read().startswith("meta_info_def")
    tf.reset_default_graph()
    saver = tf.train.import_meta_graph(path, import_scope="imp", clear_devices=True)
    g = tf.get_default_graph()
    y = g.get_tensor_by_name("imp/y:0")
    assert y.op.device == ""
    assert [v.name for v in tf.global_variables()] == ["imp/w:0", "imp/b:0"]
    assert tf.get_collection("outputs") == [y]
    assert saver is not None
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert sess.run(y, {"imp/x:0": [2.0]}).tolist() == [6.5]
    with pytest.raises(IOError, match="does not exist"):
        tf.train.import_meta_graph(str(tmp_path / "missing.meta"))


def test_save_writes_meta_files_and_max_to_keep_removes_them(tmp_path):
    tf.Variable(1.0, name="v")
    saver = tf.train.Saver(max_to_keep=2)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for step in (1, 2, 3):
            saver.save(sess, str(tmp_path / "m"), global_step=step)
        tf.train.Saver().save(sess, str(tmp_path / "nometa"), write_meta_graph=False)
    assert sorted(f for f in os.listdir(str(tmp_path)) if f.endswith(".meta")) == \
        ["m-2.meta", "m-3.meta"]
    meta = mg.read_meta_graph_file(str(tmp_path / "m-3.meta"))
    assert meta.saver_def.restore_op_name == "save/restore_all"
    assert meta.saver_def.max_to_keep == 2


def test_renamed_saver_variables_survive_import(tmp_path):
    w = tf.Variable([1.0, 2.0], name="w")
    saver = tf.train.Saver({"weights/kernel": w})
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        prefix = saver.save(sess, str(tmp_path / "m"))
    tf.reset_default_graph()
    s2 = tf.train.import_meta_graph(prefix + ".meta")
    with tf.Session() as sess:
        s2.restore(sess, prefix)
        assert sess.run("w:0").tolist() == [1.0, 2.0]
        p2 = s2.save(sess, str(tmp_path / "again"), write_meta_graph=False)
    assert [n for n, _ in tf.train.list_variables(p2)] == ["weights/kernel"]


def _py_graph_def():
    tf.py_func(lambda a: a, [tf.constant(1.0)], tf.float32, name="pf")
    tf.get_default_graph().get_operation_by_name("pf").attrs["callback"] = len
    return tf.get_default_graph().as_graph_def()


def test_unrepresentable_attr_is_exported_as_placeholder():
    gd = _py_graph_def()              # `callback`: a Python object no GraphDef can hold
    node = _nodes(gd)["pf"]
    assert node.attr["callback"].placeholder == \
        "flowcore:unrepresentable:builtins.builtin_function_or_method"
    assert node.attr["token"].s.startswith(b"pyfunc_")
    tf.reset_default_graph()
    tf.import_graph_def(gd, name="")
    cb = tf.get_default_graph().get_operation_by_name("pf").get_attr("callback")
    assert isinstance(cb, mg.UnrepresentableAttr)
    with pytest.raises(tf.errors.UnimplementedError, match="Attr 'callback' of op 'pf'"):
        cb(1)


# -- the docs example, across processes -----------------------------------------

_TRAIN = textwrap.dedent("""
    import json, sys
    import flowcore.compat.v1 as tf
    logdir = sys.argv[1]
    x = tf.placeholder(tf.float32, [], name="x")
    y = tf.placeholder(tf.float32, [], name="y")
    w = tf.Variable(0.5, name="w")
    b = tf.Variable(0.0, name="b")
    gs = tf.train.get_or_create_global_step()
    with tf.name_scope("loss"):
        err = w * x + b - y
        loss = tf.multiply(err, err, name="sq")
    train_op = tf.train.MomentumOptimizer(0.02, 0.9).minimize(loss, global_step=gs)
    tf.add_to_collection("train_op", train_op)
    tf.add_to_collection("loss", loss)
    for t in (x, y):
        tf.add_to_collection("inputs", t)
    saver = tf.train.Saver(max_to_keep=2)
    data = [(1.0 + i % 3, 3.0 * (1.0 + i % 3) + 1.0) for i in range(12)]
    losses = []
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for i, (a, c) in enumerate(data):
            if i == 6:
                saver.save(sess, logdir + "/model", global_step=gs)
            losses.append(float(sess.run(loss, {x: a, y: c})))
            sess.run(train_op, {x: a, y: c})
    print(json.dumps(losses))
""")

_RESUME = textwrap.dedent("""
    import json, sys
    import flowcore.compat.v1 as tf
    logdir = sys.argv[1]
    ckpt = tf.train.latest_checkpoint(logdir)
    saver = tf.train.import_meta_graph(ckpt + ".meta")
    train_op = tf.get_collection("train_op")[0]
    loss = tf.get_collection("loss")[0]
    x, y = tf.get_collection("inputs")
    data = [(1.0 + i % 3, 3.0 * (1.0 + i % 3) + 1.0) for i in range(12)]
    losses = []
    with tf.Session() as sess:
        saver.restore(sess, ckpt)
        step = int(sess.run("global_step:0"))
        for a, c in data[step:]:
            losses.append(float(sess.run(loss, {x: a, y: c})))
            sess.run(train_op, {x: a, y: c})
        saver.save(sess, logdir + "/model", global_step=int(sess.run("global_step:0")))
    print(json.dumps({"step": step, "losses": losses, "ops": sorted(
        {op.type for op in tf.get_default_graph().get_operations()})}))
""")


def _python(code, *args):
    r = subprocess.run([sys.executable, "-c", code] + list(args), capture_output=True,
                       text=True, cwd=ROOT, timeout=60)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout.strip().splitlines()[-1])


def test_meta_graph_train_save_import_restore_in_fresh_process(tmp_path):
    d = str(tmp_path)
    full = _python(_TRAIN, d)
    assert full[-1] < full[0]
    assert os.path.exists(os.path.join(d, "model-6.meta"))
    resumed = _python(_RESUME, d)
    assert resumed["step"] == 6
    assert "ApplyMomentum" in resumed["ops"] and "VariableV2" in resumed["ops"]
    # momentum slots and the global step came back: the same loss curve
    assert resumed["losses"] == full[6:]
    assert tf.train.latest_checkpoint(d).endswith("model-12")
    assert os.path.exists(os.path.join(d, "model-12.meta"))


# -- TensorFlow reads what we write -----------------------------------------

_TF_CHECK = textwrap.dedent("""
    import json, sys
    import tensorflow.compat.v1 as tf
    tf.disable_eager_execution()
    gd = tf.GraphDef.FromString(open(sys.argv[1], "rb").read())
    tf.import_graph_def(gd, name="")
    g = tf.get_default_graph()
    with tf.Session() as sess:
        sess.run("w/Assign")
        out = sess.run("out:0", {"x:0": [1.0, 2.0]}).tolist()
        sess.run("train", {"x:0": [1.0, 2.0]})
        trained = sess.run("w:0").tolist()
    tf.reset_default_graph()
    tf.train.import_meta_graph(sys.argv[2])
    variables = [v.name for v in tf.global_variables()]
    events = [e for e in tf.train.summary_iterator(sys.argv[3])]
    kinds = [e.WhichOneof("what") for e in events]
    summary = [e for e in events if e.WhichOneof("what") == "summary"][0].summary
    png = [v for v in summary.value if v.tag.startswith("img")][0].image.encoded_image_string
    with tf.Session() as sess:
        pixels = sess.run(tf.image.decode_png(png)).reshape(-1).tolist()
    print(json.dumps({"out": out, "trained": trained, "variables": variables, "kinds": kinds,
                      "tags": sorted(v.tag for v in summary.value), "pixels": pixels}))
""")


@pytest.mark.skipif(not os.path.exists(TF_PYTHON), reason="no TensorFlow venv at " + TF_PYTHON)
def test_tensorflow_parses_our_graph_def_meta_graph_and_events(tmp_path):
    x = tf.placeholder(tf.float32, [2], name="x")
    w = tf.Variable([1.0, 2.0], name="w")
    tf.multiply(tf.add(x, w), 2.0, name="out")
    loss = tf.reduce_sum(tf.multiply(x, w))                  # no broadcasting in its gradient
    tf.train.GradientDescentOptimizer(0.1).minimize(loss, name="train")
    s = tf.summary.merge([tf.summary.scalar("loss", tf.constant(1.5)),
                          tf.summary.histogram("h", x),
                          tf.summary.image("img", tf.constant(
                              np.array([0, 64, 128, 255], np.uint8).reshape(1, 2, 2, 1)))])
    gd_path = str(tmp_path / "g.pb")
    with open(gd_path, "wb") as f:
        f.write(tf.get_default_graph().as_graph_def(add_shapes=True).SerializeToString())
    meta_path = str(tmp_path / "m.meta")
    tf.train.export_meta_graph(meta_path)
    with tf.summary.FileWriter(str(tmp_path / "logs"), graph=tf.get_default_graph()) as fw:
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            fw.add_summary(sess.run(s, {x: [1.0, 2.0]}), 3)
            sess.run("train", {x: [1.0, 2.0]})
            trained = sess.run(w).tolist()
        events_path = fw.event_writer.path
    r = subprocess.run([TF_PYTHON, "-c", _TF_CHECK, gd_path, meta_path, events_path],
                       capture_output=True, text=True, timeout=110)
    assert r.returncode == 0, r.stderr[-3000:]
    got = json.loads(r.stdout.strip().splitlines()[-1])
    assert got["out"] == [4.0, 8.0]
    assert got["trained"] == trained == pytest.approx([0.9, 1.8])   # TF runs our gradients
    assert got["variables"] == ["w:0"]
    assert got["kinds"] == ["file_version", "graph_def", "meta_graph_def", "summary"]
    assert got["tags"] == ["h", "img/image/0", "loss"]
    assert got["pixels"] == [0, 64, 128, 255]
