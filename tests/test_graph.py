"""Graphs, operations, tensors, scopes and collections (TF1 semantics)."""
import threading

import numpy as np
import pytest

import flowcore.compat.v1 as tf


def test_tensor_names_and_op_links():
    a = tf.constant(1.0, name="a")
    assert a.name == "a:0" and a.op.name == "a" and a.op.type == "Const"
    assert a.value_index == 0 and a.graph is tf.get_default_graph()
    assert a.op.outputs == [a] and a.dtype == tf.float32
    b = tf.add(a, a, name="b")
    assert list(b.op.inputs) == [a, a]
    assert a.consumers() == [b.op, b.op]


def test_unique_names():
    names = [tf.constant(0, name="a").op.name for _ in range(3)]
    assert names == ["a", "a_1", "a_2"]
    # an explicit a_1 is taken, so the next 'a' skips it
    g = tf.Graph()
    with g.as_default():
        tf.constant(0, name="a_1")
        assert tf.constant(0, name="a").op.name == "a"
        assert tf.constant(0, name="a").op.name == "a_2"


def test_default_graph_nesting_and_thread_local():
    g1, g2 = tf.Graph(), tf.Graph()
    outer = tf.get_default_graph()
    with g1.as_default():
        assert tf.get_default_graph() is g1
        with g2.as_default():
            assert tf.get_default_graph() is g2
            seen = []
            t = threading.Thread(target=lambda: seen.append(tf.get_default_graph()))
            t.start()
            t.join()
            assert seen[0] is outer  # other threads keep the global default
        assert tf.get_default_graph() is g1
    assert tf.get_default_graph() is outer


def test_reset_default_graph():
    a = tf.constant(1)
    tf.reset_default_graph()
    assert tf.get_default_graph() is not a.graph
    assert tf.get_default_graph().get_operations() == []
    with tf.Graph().as_default():
        with pytest.raises(AssertionError):
            tf.reset_default_graph()


def test_finalize():
    g = tf.Graph()
    with g.as_default():
        tf.constant(1)
        g.finalize()
        assert g.finalized
        with pytest.raises(RuntimeError, match="finalized"):
            tf.constant(2)


def test_mixing_graphs_is_value_error():
    g1, g2 = tf.Graph(), tf.Graph()
    with g1.as_default():
        a = tf.constant(1.0)
    with g2.as_default():
        b = tf.constant(2.0)
        with pytest.raises(ValueError):
            tf.add(a, b)


def test_op_goes_into_graph_of_inputs():
    g = tf.Graph()
    with g.as_default():
        a = tf.constant(1.0)
    c = tf.add(a, a)
    assert c.graph is g


def test_name_scope_nesting_reentry_and_reset():
    with tf.name_scope("outer") as outer:
        assert outer == "outer/"
        a = tf.constant(1, name="a")
        with tf.name_scope("inner") as inner:
            assert inner == "outer/inner/"
            b = tf.constant(1, name="b")
        with tf.name_scope(None):
            c = tf.constant(1, name="c")
        with tf.name_scope("outer/inner/"):
            d = tf.constant(1, name="d")
    with tf.name_scope("outer") as again:
        assert again == "outer_1/"
    assert a.op.name == "outer/a"
    assert b.op.name == "outer/inner/b"
    assert c.op.name == "c"
    assert d.op.name == "outer/inner/d"
    with tf.name_scope(None, default_name="dflt") as s:
        assert s == "dflt/"
    with tf.name_scope(None, default_name="dflt") as s:
        assert s == "dflt_1/"


def test_name_scope_is_thread_local():
    result = {}
    with tf.name_scope("main"):
        def other():
            result["name"] = tf.constant(1, name="x").op.name
        t = threading.Thread(target=other)
        t.start()
        t.join()
    assert result["name"] == "x"


def test_invalid_scope_name():
    with pytest.raises(ValueError):
        with tf.name_scope("bad name!"):
            pass


def test_control_dependencies_nested_and_cleared():
    a = tf.constant(1.0, name="a")
    b = tf.constant(2.0, name="b")
    with tf.control_dependencies([a]):
        c = tf.constant(3.0, name="c")
        with tf.control_dependencies([b.op]):
            d = tf.constant(4.0, name="d")
            with tf.control_dependencies(None):
                e = tf.constant(5.0, name="e")
    assert c.op.control_inputs == [a.op]
    assert set(d.op.control_inputs) == {a.op, b.op}
    assert e.op.control_inputs == []


def test_control_dependencies_order_execution():
    v = tf.Variable(0, name="v")
    inc = tf.assign_add(v, 1)
    with tf.control_dependencies([inc]):
        read = tf.identity(v)
    with tf.Session() as sess:
        sess.run(v.initializer)
        assert sess.run(read) == 1
        assert sess.run(read) == 2


def test_device_recorded_and_canonical():
    with tf.device("/cpu:0"):
        a = tf.constant(1)
        with tf.device("/gpu:1"):
            b = tf.constant(1)
        with tf.device(None):
            c = tf.constant(1)
    assert a.op.device == "/device:CPU:0"
    assert b.device == "/device:GPU:1"
    assert c.op.device == ""
    with tf.device("/job:worker/task:1"):
        with tf.device("/gpu:0"):
            d = tf.constant(1)
    assert d.op.device == "/job:worker/task:1/device:GPU:0"
    with tf.device(lambda op: "/cpu:0" if op.type == "Const" else "/gpu:0"):
        e = tf.constant(1)
    assert e.op.device == "/device:CPU:0"


def test_gpu_placed_ops_run_on_host_backend():
    with tf.device("/gpu:0"):
        x = tf.constant([1.0, 2.0]) + 1.0
    with tf.Session() as sess:
        np.testing.assert_allclose(sess.run(x), [2.0, 3.0])


def test_lookup_by_name():
    g = tf.get_default_graph()
    a = tf.constant(1.0, name="a")
    assert g.get_operation_by_name("a") is a.op
    assert g.get_tensor_by_name("a:0") is a
    with pytest.raises(KeyError, match="not in the graph"):
        g.get_operation_by_name("nope")
    with pytest.raises(ValueError, match="refers to an Operation, not a Tensor"):
        g.get_tensor_by_name("a")
    with pytest.raises(KeyError, match="only has 1 outputs"):
        g.get_tensor_by_name("a:1")
    with pytest.raises(KeyError):
        g.get_tensor_by_name("b:0")
    assert g.get_operations() == [a.op]
    with pytest.raises(TypeError):
        g.get_tensor_by_name(3)


def test_collections_and_scope_filter():
    g = tf.get_default_graph()
    with tf.name_scope("s1"):
        a = tf.constant(1, name="a")
    with tf.name_scope("s2"):
        b = tf.constant(1, name="b")
    tf.add_to_collection("mine", a)
    tf.add_to_collection("mine", b)
    tf.add_to_collection("mine", 42)       # no .name: dropped by scope filters only
    assert tf.get_collection("mine") == [a, b, 42]
    assert tf.get_collection("mine", scope="s1") == [a]
    assert tf.get_collection("mine", scope="s.") == [a, b]   # a regex prefix
    ref = tf.get_collection_ref("mine")
    ref.append("x")
    assert tf.get_collection("mine")[-1] == "x"
    copy = tf.get_collection("mine")
    copy.append("y")
    assert "y" not in tf.get_collection("mine")
    assert tf.get_collection("missing") == []
    assert "mine" in g.get_all_collection_keys()
    assert tf.GraphKeys.GLOBAL_VARIABLES == "variables"
    assert tf.GraphKeys.QUEUE_RUNNERS == "queue_runners"
    assert tf.GraphKeys.TRAINABLE_VARIABLES == "trainable_variables"


def test_static_shapes_and_set_shape():
    p = tf.placeholder(tf.float32, [None, 3])
    assert p.get_shape().as_list() == [None, 3]
    assert p.shape.ndims == 2 and not p.shape.is_fully_defined()
    p.set_shape([5, None])
    assert p.shape.as_list() == [5, 3]
    with pytest.raises(ValueError):
        p.set_shape([4, 3])
    u = tf.placeholder(tf.float32)
    assert u.shape.ndims is None
    u.set_shape([2])
    assert u.shape.as_list() == [2]


def test_build_time_shape_error_names_op():
    a = tf.placeholder(tf.float32, [2, 3])
    b = tf.placeholder(tf.float32, [4])
    with pytest.raises(ValueError, match="add_me"):
        tf.add(a, b, name="add_me")


def test_tensor_is_not_bool_or_iterable():
    a = tf.constant([1, 2])
    with pytest.raises(TypeError):
        bool(a)
    with pytest.raises(TypeError):
        iter(a)
    assert a != tf.constant([1, 2])   # identity equality, as TF1
    assert {a: 1}[a] == 1


def test_tensorshape_api():
    s = tf.TensorShape([2, None, 3])
    assert s.ndims == 2 + 1 and s.as_list() == [2, None, 3]
    assert s.dims[1].value is None
    assert s[0].value == 2 and s[1:].as_list() == [None, 3]
    assert s.is_compatible_with([2, 5, 3]) and not s.is_compatible_with([2, 5])
    assert s.merge_with([None, 4, 3]).as_list() == [2, 4, 3]
    with pytest.raises(ValueError):
        s.merge_with([3, 4, 3])
    assert s.concatenate([7]).as_list() == [2, None, 3, 7]
    assert tf.TensorShape([2, 3]).num_elements() == 6 and s.num_elements() is None
    assert tf.TensorShape(None).ndims is None
    with pytest.raises(ValueError):
        tf.TensorShape(None).as_list()
    assert tf.TensorShape([]).is_fully_defined()
    assert tf.Dimension(3) + 2 == tf.Dimension(5)
    assert (tf.Dimension(None) == 3) is None


def test_dtypes():
    assert tf.as_dtype("float32") is tf.float32
    assert tf.as_dtype(np.int64) is tf.int64
    assert tf.as_dtype(np.dtype("uint8")) is tf.uint8
    assert tf.as_dtype(bool) is tf.bool
    assert tf.float32.as_numpy_dtype is np.float32
    assert tf.float16.is_floating and not tf.int8.is_floating
    assert tf.int16.is_integer and tf.uint16.is_integer and not tf.bool.is_integer
    assert tf.bool.is_bool and tf.string.name == "string"
    assert tf.float64 == tf.double and tf.float32 != tf.float64
    with pytest.raises(TypeError):
        tf.as_dtype("nope")


@pytest.mark.parametrize("value,dtype,shape", [
    (1, tf.int32, []), (1.5, tf.float32, []), (True, tf.bool, []),
    ([1, 2], tf.int32, [2]), ([[1.0], [2.0]], tf.float32, [2, 1]),
    (np.arange(3, dtype=np.int64), tf.int64, [3]), (np.float64(2.0), tf.float64, []),
    ("abc", tf.string, []), ([b"a", "b"], tf.string, [2]), (2 ** 40, tf.int64, []),
])
def test_convert_to_tensor_inference(value, dtype, shape):
    t = tf.convert_to_tensor(value)
    assert t.dtype == dtype and t.shape.as_list() == shape


def test_convert_to_tensor_errors_and_passthrough():
    a = tf.constant(1.0)
    assert tf.convert_to_tensor(a) is a
    with pytest.raises(ValueError):
        tf.convert_to_tensor(a, dtype=tf.int32)
    with pytest.raises(TypeError):
        tf.constant(2.5, dtype=tf.int32)
    with pytest.raises(TypeError):
        tf.convert_to_tensor(a.op)
    t = tf.convert_to_tensor(3, dtype=tf.float64)
    assert t.dtype == tf.float64


def test_constant_shape_fill_and_pad():
    with tf.Session() as sess:
        np.testing.assert_array_equal(sess.run(tf.constant(7, shape=[2, 2])), [[7, 7], [7, 7]])
        np.testing.assert_array_equal(sess.run(tf.constant([1, 2, 3], shape=[5])), [1, 2, 3, 3, 3])
        np.testing.assert_array_equal(sess.run(tf.constant([1, 2, 3, 4], shape=[2, 2])), [[1, 2], [3, 4]])
    with pytest.raises(TypeError):
        tf.constant([1, 2, 3], shape=[2])
    with pytest.raises(TypeError):
        tf.constant([1, 2], shape=[2, 1], verify_shape=True)


def test_string_constants_are_bytes():
    with tf.Session() as sess:
        assert sess.run(tf.constant("héllo")) == "héllo".encode()
        out = sess.run(tf.constant(["a", "bc"]))
        assert out.dtype == object and list(out) == [b"a", b"bc"]


def test_group_and_tuple():
    v = tf.Variable(0)
    a = tf.assign_add(v, 1)
    b = tf.assign_add(v, 10)
    g = tf.group(a, [b], name="both")
    assert g.type == "NoOp" and g.name == "both"
    x, y = tf.tuple([tf.constant(1), tf.constant(2)])
    with tf.Session() as sess:
        sess.run(v.initializer)
        assert sess.run(g) is None
        assert sess.run(v) == 11
        assert sess.run([x, y]) == [1, 2]
    assert tf.no_op(name="n").type == "NoOp"
