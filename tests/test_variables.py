"""Variables, variable scopes, get_variable and the initializers.

Names, messages and values were checked against TensorFlow 2.21's
`tensorflow.compat.v1` with `disable_v2_behavior()` (reference variables).
"""
import collections
import threading

import numpy as np
import pytest

import flowcore.compat.v1 as tf
from flowcore import init_ops


def op_names(prefix):
    return [op.name for op in tf.get_default_graph().get_operations()
            if op.name.startswith(prefix)]


# -- Variable ----------------------------------------------------------------------------

def test_variable_ops_names_and_repr():
    v = tf.Variable([1.0, 2.0], name="w")
    assert v.name == "w:0"
    assert v.op.name == "w" and v.op.type == "VariableV2"
    assert v.initializer.name == "w/Assign"
    assert v.initial_value.name == "w/initial_value:0"
    assert v.value().name == "w/read:0"
    assert repr(v) == "<tf.Variable 'w:0' shape=(2,) dtype=float32_ref>"
    assert v.shape.as_list() == [2] and v.dtype == tf.float32
    v2 = tf.Variable(1.0, name="w")
    assert v2.name == "w_1:0"
    v3 = tf.Variable(lambda: tf.ones([2]), name="cb")
    assert v3.initial_value.name == "cb/Initializer/ones:0"
    assert op_names("cb")[-3:] == ["cb", "cb/Assign", "cb/read"]
    assert v3.shape.as_list() == [2]
    assert tf.Variable(3, name="i").dtype == tf.int32
    assert tf.Variable(lambda: [1, 2], dtype=tf.int64).dtype == tf.int64


def test_variable_values_and_updates():
    v = tf.Variable([1.0, 2.0], name="v")
    with tf.Session() as sess:
        sess.run(v.initializer)
        np.testing.assert_array_equal(sess.run(v), [1.0, 2.0])
        np.testing.assert_array_equal(sess.run(v.assign([5.0, 6.0])), [5.0, 6.0])
        np.testing.assert_array_equal(sess.run(v.assign_add([1.0, 1.0])), [6.0, 7.0])
        np.testing.assert_array_equal(sess.run(v.assign_sub([2.0, 4.0])), [4.0, 3.0])
        op = v.assign([0.0, 0.0], read_value=False)
        assert isinstance(op, tf.Operation) and sess.run(op) is None
        np.testing.assert_array_equal(v.eval(sess), [0.0, 0.0])
        v.load([9.0, 8.0], sess)
        np.testing.assert_array_equal(sess.run(v.read_value()), [9.0, 8.0])
        np.testing.assert_array_equal(sess.run(v * 2), [18.0, 16.0])
        # assign_add/sub keep the value's shape: a wrong-length delta fails at build time
        with pytest.raises(ValueError):
            v.assign_add([1.0, 2.0, 3.0])


def test_variable_scatter_and_count_up_to():
    Slices = collections.namedtuple("Slices", "indices values")
    v = tf.Variable([[1.0, 1.0], [2.0, 2.0], [3.0, 3.0]])
    c = tf.Variable(0, name="counter")
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(v.scatter_update(Slices(tf.constant([2]), tf.constant([[7.0, 8.0]]))))
        sess.run(v.scatter_add(Slices(tf.constant([0, 0]), tf.constant([[1.0, 1.0]] * 2))))
        out = sess.run(v.scatter_sub(Slices(tf.constant([1]), tf.constant([[0.5, 1.5]]))))
        np.testing.assert_array_equal(out, [[3.0, 3.0], [1.5, 0.5], [7.0, 8.0]])
        up = c.count_up_to(2)
        assert [sess.run(up), sess.run(up)] == [0, 1]
        with pytest.raises(tf.errors.OutOfRangeError):
            sess.run(up)


def test_uninitialized_read_names_the_variable():
    v = tf.Variable(tf.zeros([2]), name="u")
    with tf.Session() as sess:
        with pytest.raises(tf.errors.FailedPreconditionError,
                           match="Attempting to use uninitialized value u"):
            sess.run(v)
        with pytest.raises(tf.errors.FailedPreconditionError, match="uninitialized value u"):
            sess.run(v + 1.0)
        assert sess.run(tf.report_uninitialized_variables()).tolist() == [b"u"]


def test_initialized_value_initializes_from_another_variable():
    a = tf.Variable([1.0, 2.0], name="a")
    b = tf.Variable(a.initialized_value() * 3.0, name="b")
    with tf.Session() as sess:
        sess.run(b.initializer)          # a itself is still uninitialized
        np.testing.assert_array_equal(sess.run(b), [3.0, 6.0])
        sess.run(a.assign([10.0, 10.0]))
        sess.run(b.initializer)
        np.testing.assert_array_equal(sess.run(b), [30.0, 30.0])


def test_collections_and_trainable():
    w = tf.Variable(1.0, name="w")
    frozen = tf.Variable(2.0, name="frozen", trainable=False)
    hidden = tf.Variable([3.0], name="hidden", collections=[], trainable=False)
    assert tf.global_variables() == [w, frozen]
    assert tf.trainable_variables() == [w]
    assert hidden not in tf.global_variables() and hidden not in tf.trainable_variables()
    loc = tf.Variable(0, name="loc", trainable=False,
                      collections=[tf.GraphKeys.LOCAL_VARIABLES])
    assert tf.local_variables() == [loc] and loc not in tf.global_variables()
    with pytest.raises(ValueError, match="collections argument to Variable constructor must "
                                         "be a list"):
        tf.Variable(1.0, collections="mine")
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        with pytest.raises(tf.errors.FailedPreconditionError, match="hidden"):
            sess.run(hidden)
        sess.run(hidden.initializer)
        assert sess.run(hidden).tolist() == [3.0]


def test_trainable_is_added_to_given_collections():
    mine = tf.Variable(4.0, name="mine", collections=["mine"])
    # TF adds TRAINABLE_VARIABLES to the given collections when trainable
    assert tf.get_collection("mine") == [mine]
    assert tf.trainable_variables() == [mine] and tf.global_variables() == []


def test_variable_ignores_enclosing_control_dependencies():
    c = tf.constant(1.0, name="dep")
    with tf.control_dependencies([c]):
        v = tf.Variable(2.0, name="cd")
        w = tf.get_variable("cdw", [1])
    for var in (v, w):
        assert var.initializer.control_inputs == []
        assert var.initial_value.op.control_inputs == []
        assert var.value().op.control_inputs == []


def test_validate_shape_false_and_to_proto():
    p = tf.placeholder(tf.float32, [None])
    v = tf.Variable(p, validate_shape=False, name="dyn")
    assert v.shape.ndims is None
    with pytest.raises(ValueError, match="initial_value must have a shape specified"):
        tf.Variable(p, name="bad")
    with tf.Session() as sess:
        sess.run(v.initializer, {p: [1.0, 2.0, 3.0]})
        assert sess.run(v).tolist() == [1.0, 2.0, 3.0]
    d = v.to_proto()
    assert d["variable_name"] == "dyn:0" and d["snapshot_name"] == "dyn/read:0"
    again = tf.Variable.from_proto(d)
    assert again.name == "dyn:0" and again.initializer is v.initializer


# -- variable_scope: names ---------------------------------------------------------------

def test_scope_names_and_op_name_scopes():
    with tf.variable_scope("foo") as s:
        v = tf.get_variable("v", [2, 3])
        c = tf.constant(1.0, name="c")
        assert (s.name, s.original_name_scope, s.reuse) == ("foo", "foo/", False)
        with tf.variable_scope("bar") as b:
            assert (b.name, b.original_name_scope) == ("foo/bar", "foo/bar/")
            assert tf.get_variable("w", [1]).name == "foo/bar/w:0"
    assert v.name == "foo/v:0" and c.name == "foo/c:0"
    assert v.initial_value.name == "foo/v/Initializer/random_uniform:0"
    assert v.initializer.name == "foo/v/Assign"
    assert tf.get_variable_scope().name == ""
    with tf.variable_scope("foo"):
        assert tf.constant(1.0, name="c").name == "foo_1/c:0"
        assert tf.get_variable_scope().original_name_scope == "foo_1/"
    with tf.variable_scope(s) as again:        # a captured scope keeps its names
        assert tf.constant(1.0, name="c").name == "foo_2/c:0"
        assert (again.name, again.original_name_scope) == ("foo", "foo/")
    with tf.variable_scope(s, auxiliary_name_scope=False):
        assert tf.constant(1.0, name="c").name == "c:0"
    with tf.variable_scope("aux", auxiliary_name_scope=False) as ax:
        assert (ax.name, ax.original_name_scope) == ("aux", "")
        assert tf.constant(1, name="c").name == "c_1:0"


def test_variable_names_ignore_name_scope():
    with tf.name_scope("ns"):
        with tf.variable_scope("vs") as vs:
            v = tf.get_variable("v", [1])
            c = tf.constant(1, name="c")
    assert (vs.name, vs.original_name_scope) == ("vs", "ns/vs/")
    assert v.name == "vs/v:0" and c.name == "ns/vs/c:0"
    with tf.variable_scope("x/y") as xy:
        assert (xy.name, xy.original_name_scope) == ("x/y", "x/y/")
        assert tf.get_variable("v", [1]).name == "x/y/v:0"


def test_captured_scope_nested_in_another_name_scope():
    with tf.variable_scope("a") as s1:
        pass
    with tf.variable_scope("a"):
        with tf.variable_scope(s1) as s2:
            assert (s2.name, s2.original_name_scope) == ("a", "a/")
            assert tf.constant(0, name="c").name == "a_1/a/c:0"
            with tf.variable_scope("sub") as sub:
                assert (sub.name, sub.original_name_scope) == ("a/sub", "a_1/a/sub/")
        with tf.variable_scope("b") as sb:
            assert (sb.name, sb.original_name_scope) == ("a/b", "a_1/b/")


def test_root_scope_reentry():
    with tf.variable_scope(tf.get_variable_scope()) as root:
        assert (root.name, root.original_name_scope) == ("", "")
        assert tf.constant(0, name="rc").name == "rc:0"
        assert tf.get_variable("top", [1]).name == "top:0"


def test_default_name_uniquification():
    names = []
    for _ in range(3):
        with tf.variable_scope(None, default_name="dense") as s:
            names.append((s.name, s.original_name_scope))
            tf.get_variable("kernel", [1])
    assert names == [("dense", "dense/"), ("dense_1", "dense_1/"), ("dense_2", "dense_2/")]
    assert [v.name for v in tf.global_variables()] == [
        "dense/kernel:0", "dense_1/kernel:0", "dense_2/kernel:0"]


def test_default_name_counts_reset_per_enclosing_scope():
    with tf.variable_scope(None, default_name="dense"):
        with tf.variable_scope(None, default_name="inner") as q:
            assert q.name == "dense/inner"
        with tf.variable_scope(None, default_name="inner") as q:
            assert q.name == "dense/inner_1"
    with tf.variable_scope(None, default_name="dense") as q2:
        assert (q2.name, q2.original_name_scope) == ("dense_1", "dense_1/")
        with tf.variable_scope(None, default_name="inner") as q:
            assert q.name == "dense_1/inner"
    with tf.name_scope("dense_2"):
        pass
    with tf.variable_scope(None, default_name="dense") as q3:
        # variable scope names count scopes; name scopes count names
        assert (q3.name, q3.original_name_scope) == ("dense_2", "dense_3/")
    with tf.variable_scope("dense_5"):
        pass
    with tf.variable_scope(None, default_name="dense") as q4:
        assert (q4.name, q4.original_name_scope) == ("dense_3", "dense_4/")


def test_scope_argument_errors():
    with pytest.raises(TypeError, match="If default_name is None then name_or_scope is "
                                        "required"):
        tf.variable_scope(None)
    with pytest.raises(TypeError, match="VariableScope: name_or_scope must be a string or "
                                        "VariableScope."):
        with tf.variable_scope(3):
            pass
    with pytest.raises(ValueError, match="The reuse parameter must be True or False or None."):
        tf.variable_scope("q", reuse=3)
    with pytest.raises(ValueError, match="reuse=True cannot be used without a name_or_scope"):
        with tf.variable_scope(None, default_name="d", reuse=True):
            pass
    # a failed entry leaves no scope behind
    assert tf.get_variable_scope().name == ""
    assert tf.get_default_graph().get_name_scope() == ""


def test_values_pick_the_graph():
    g = tf.Graph()
    with g.as_default():
        t = tf.constant(1.0)
    with tf.variable_scope("s", values=[t]):
        assert tf.get_default_graph() is g
        v = tf.get_variable("v", [1])
    assert v.graph is g
    assert tf.get_default_graph() is not g
    with tf.variable_op_scope([t], None, default_name="old") as s:
        assert s.name == "old" and tf.get_default_graph() is g


# -- variable_scope: sharing -----------------------------------------------------------

EXISTS = ("Variable foo/v already exists, disallowed. Did you mean to set reuse=True or "
          "reuse=tf.AUTO_REUSE in VarScope?")
MISSING = ("Variable foo/w does not exist, or was not created with tf.get_variable(). "
           "Did you mean to set reuse=tf.AUTO_REUSE in VarScope?")


def test_exists_and_missing_errors():
    with tf.variable_scope("foo"):
        v = tf.get_variable("v", [2, 3])
    with pytest.raises(ValueError) as e:
        with tf.variable_scope("foo"):
            tf.get_variable("v", [2, 3])
    msg = str(e.value)
    assert msg.startswith(EXISTS + " Originally defined at:\n\n")
    assert "test_variables.py" in msg      # where the variable was created
    with pytest.raises(ValueError) as e:
        with tf.variable_scope("foo", reuse=True):
            tf.get_variable("w", [2, 3])
    assert str(e.value) == MISSING
    with tf.variable_scope("foo", reuse=True):
        assert tf.get_variable("v", [2, 3]) is v
        assert tf.get_variable("v") is v                 # shape may be left out
        assert tf.get_variable("v", [None, 3]) is v      # or be compatible
        with pytest.raises(ValueError) as e:
            tf.get_variable("v", [2, 4])
        assert str(e.value) == ("Trying to share variable foo/v, but specified shape (2, 4) "
                                "and found shape (2, 3).")
        with pytest.raises(ValueError) as e:
            tf.get_variable("v", [2, 3], dtype=tf.float64)
        assert str(e.value) == ("Trying to share variable foo/v, but specified dtype float64 "
                                "and found dtype float32_ref.")
    assert tf.global_variables() == [v]


def test_reuse_of_int_variable_needs_its_dtype():
    with tf.variable_scope("a"):
        i = tf.get_variable("i", [2], dtype=tf.int32)
    with tf.variable_scope("a", reuse=True):
        with pytest.raises(ValueError, match="specified dtype float32 and found dtype "
                                             "int32_ref"):
            tf.get_variable("i", [2])
        assert tf.get_variable("i", [2], dtype=tf.int32) is i


def test_reuse_is_inherited_and_cannot_be_turned_off():
    with tf.variable_scope("outer"):
        with tf.variable_scope("inner"):
            v = tf.get_variable("v", [1])
    with tf.variable_scope("outer", reuse=True):
        with tf.variable_scope("inner", reuse=False) as s:
            assert s.reuse is True
            assert tf.get_variable("v", [1]) is v
            with tf.variable_scope("deeper") as d:
                assert d.reuse is True
                with pytest.raises(ValueError, match="does not exist"):
                    tf.get_variable("x", [1])


def test_captured_scope_keeps_its_own_reuse():
    with tf.variable_scope("a") as sa:
        x = tf.get_variable("x", [2])
    with tf.variable_scope("outer", reuse=True):
        with tf.variable_scope(sa) as again:
            assert again.reuse is False
            with pytest.raises(ValueError, match="Variable a/x already exists"):
                tf.get_variable("x")
    with tf.variable_scope(sa, reuse=True):
        assert tf.get_variable("x") is x


def test_reuse_variables():
    with tf.variable_scope("rv") as s:
        v1 = tf.get_variable("v", [1])
        s.reuse_variables()
        assert s.reuse is True and tf.get_variable_scope().reuse is True
        assert tf.get_variable("v", [1]) is v1
        with tf.variable_scope("child") as ch:
            assert ch.reuse is True
    assert tf.get_variable_scope().reuse is False
    with tf.variable_scope(s):     # the captured object remembers it
        assert tf.get_variable("v") is v1


def test_auto_reuse_across_nested_scopes():
    assert repr(tf.AUTO_REUSE) == "<_ReuseMode.AUTO_REUSE: 1>"

    def model():
        with tf.variable_scope("model", reuse=tf.AUTO_REUSE):
            with tf.variable_scope("layer"):
                w = tf.get_variable("w", [3], initializer=tf.ones_initializer())
            with tf.variable_scope("layer", reuse=False) as s:
                assert s.reuse is tf.AUTO_REUSE
                b = tf.get_variable("b", [1])
        return w, b

    w1, b1 = model()
    w2, b2 = model()
    assert w1 is w2 and b1 is b2
    assert [v.name for v in tf.global_variables()] == ["model/layer/w:0", "model/layer/b:0"]
    with tf.variable_scope("model", reuse=True):
        with tf.variable_scope("layer", reuse=tf.AUTO_REUSE) as s:
            assert s.reuse is tf.AUTO_REUSE     # `True or AUTO_REUSE` is AUTO_REUSE in TF
            assert tf.get_variable("new", [1]).name == "model/layer/new:0"


def test_store_is_per_graph_and_scope_per_thread():
    g1, g2 = tf.Graph(), tf.Graph()
    with g1.as_default():
        a = tf.get_variable("v", [1])
    with g2.as_default():
        b = tf.get_variable("v", [1])       # no clash with g1's "v"
    assert a.graph is g1 and b.graph is g2 and a is not b
    seen = {}
    g = tf.get_default_graph()
    with tf.variable_scope("main"):
        def other():
            with g.as_default():
                seen["scope"] = tf.get_variable_scope().name
                with tf.variable_scope("main") as s:
                    seen["ns"] = s.original_name_scope
                    seen["v"] = tf.get_variable("shared", [1])
        t = threading.Thread(target=other)
        t.start()
        t.join()
    assert seen["scope"] == "" and seen["ns"] == "main_1/"
    with tf.variable_scope("main", reuse=True):
        assert tf.get_variable("shared", [1]) is seen["v"]    # the store is shared


# -- get_variable: initializers and defaults --------------------------------------------

def test_default_initializers_by_dtype():
    with tf.variable_scope("d"):
        f = tf.get_variable("f", [40, 60])
        i = tf.get_variable("i", [2], dtype=tf.int32)
        s = tf.get_variable("s", [], dtype=tf.string)
        b = tf.get_variable("b", [2], dtype=tf.bool)
    assert f.initial_value.name == "d/f/Initializer/random_uniform:0"
    assert i.initial_value.name == "d/i/Initializer/zeros:0"
    assert i in tf.trainable_variables()      # get_variable's default is trainable
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        fv, iv, sv, bv = sess.run([f, i, s, b])
    limit = np.sqrt(6.0 / (40 + 60))
    assert np.abs(fv).max() <= limit and np.abs(fv).max() > 0.9 * limit
    assert iv.tolist() == [0, 0] and sv == b"" and bv.tolist() == [False, False]


def test_get_variable_shape_and_initializer_errors():
    with tf.variable_scope("b"):
        with pytest.raises(ValueError) as e:
            tf.get_variable("x")
        assert str(e.value) == ("Variable b/x did not get an initializer, so its `shape` "
                                "argument must be specified.")
        with pytest.raises(ValueError, match="The initializer passed is not valid"):
            tf.get_variable("y", [None, 2])
        with pytest.raises(ValueError, match="^If initializer is a constant, do not specify "
                                             "shape.$"):
            tf.get_variable("z", [2], initializer=tf.constant([1.0, 2.0]))
        with pytest.raises(ValueError) as e:
            tf.get_variable("z2", dtype=tf.int32, initializer=tf.constant([1.0, 2.0]))
        assert str(e.value) == ("Initializer type '<dtype: 'float32'>' and explicit dtype "
                                "'<dtype: 'int32'>' don't match.")
        with pytest.raises(ValueError, match="An initializer for variable b/r of "
                                             "<dtype: 'resource'> is required"):
            tf.get_variable("r", [1], dtype=tf.dtypes.resource)
    assert tf.global_variables() == []


def test_initializer_forms():
    with tf.variable_scope("a"):
        t0 = tf.constant([1, 2])
        k = tf.get_variable("k", initializer=t0)            # a tensor: shape from it
        k2 = tf.get_variable("k2", initializer=[1.0, 2.0])  # a value
        k3 = tf.get_variable("k3", initializer=np.float64(2.5))
        k4 = tf.get_variable("k4", [3], initializer=tf.constant_initializer(2))
        k5 = tf.get_variable("k5", [3], dtype=tf.int64, initializer=tf.ones_initializer())
        k6 = tf.get_variable("k6", [2], initializer=tf.ones_initializer)  # a class
        k7 = tf.get_variable("k7", initializer=lambda: tf.fill([3], 7.0))  # no arguments
        k8 = tf.get_variable("k8", [2, 2], initializer=lambda shape, dtype: tf.ones(shape, dtype))
    assert k.initial_value is t0 and k.shape.as_list() == [2] and k.dtype == tf.int32
    assert k2.initial_value.name == "a/k2/initial_value:0" and k2.dtype == tf.float32
    assert k3.dtype == tf.float64 and k3.shape.as_list() == []
    assert k4.initial_value.name == "a/k4/Initializer/Const:0"
    assert k5.initial_value.name == "a/k5/Initializer/ones:0" and k5.dtype == tf.int64
    assert repr(k5) == "<tf.Variable 'a/k5:0' shape=(3,) dtype=int64_ref>"
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        got = sess.run([k, k2, k3, k4, k5, k6, k7, k8])
    assert [g.tolist() for g in got] == [[1, 2], [1.0, 2.0], 2.5, [2.0, 2.0, 2.0], [1, 1, 1],
                                         [1.0, 1.0], [7.0, 7.0, 7.0], [[1.0, 1.0], [1.0, 1.0]]]


def test_initializer_receives_partition_info_only_if_it_takes_it():
    calls = []

    def with_pi(shape, dtype=None, partition_info="unset"):
        calls.append(("pi", shape, dtype, partition_info))
        return tf.zeros(shape, dtype)

    def without_pi(shape, dtype=None):
        calls.append(("plain", shape, dtype))
        return tf.zeros(shape, dtype)

    tf.get_variable("p", [2, 1], initializer=with_pi)
    tf.get_variable("q", [3], dtype=tf.float64, initializer=without_pi)
    assert calls == [("pi", [2, 1], tf.float32, None), ("plain", [3], tf.float64)]


def test_scope_initializer_and_dtype_are_inherited_and_overridden():
    with tf.variable_scope("i1", initializer=tf.constant_initializer(5.0),
                           dtype=tf.float64) as i1:
        assert i1.dtype == tf.float64
        with tf.variable_scope("i2") as i2:
            w = tf.get_variable("w", [2])
            z = tf.get_variable("z", [2], initializer=tf.zeros_initializer())
            assert i2.dtype == tf.float64
        with tf.variable_scope("i3", initializer=tf.ones_initializer()):
            o = tf.get_variable("o", [1], dtype=tf.float32)
        # the scope initializer applies to every dtype (not zeros for ints), as in TF
        with tf.variable_scope("i4", initializer=tf.constant_initializer(2.5)):
            with pytest.raises(TypeError, match="Expected int32"):
                tf.get_variable("n", [1], dtype=tf.int32)
    with tf.variable_scope(i1):
        assert tf.get_variable_scope().dtype == tf.float64
        assert isinstance(tf.get_variable_scope().initializer, init_ops.Constant)
    s = tf.get_variable_scope()
    assert s.initializer is None
    assert w.dtype == tf.float64 and o.dtype == tf.float32
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert sess.run(w).tolist() == [5.0, 5.0]
        assert sess.run(z).tolist() == [0.0, 0.0]
        assert sess.run(o).tolist() == [1.0]


def test_set_initializer_on_scope_object():
    with tf.variable_scope("s") as s:
        s.set_initializer(tf.constant_initializer(3.0))
        a = tf.get_variable("a", [1])
    with tf.Session() as sess:
        sess.run(a.initializer)
        assert sess.run(a).tolist() == [3.0]


def test_regularizers():
    with tf.variable_scope("b", regularizer=lambda v: tf.identity(v, name="penalty")):
        r = tf.get_variable("r", [2])
        n = tf.get_variable("n", [2], regularizer=tf.no_regularizer)
        own = tf.get_variable("own", [2], regularizer=lambda v: v * 2.0)
    losses = tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES)
    assert [t.name for t in losses][0] == "b/r/Regularizer/penalty:0"
    assert len(losses) == 2 and losses[1].name.startswith("b/own/Regularizer/")
    assert n.name == "b/n:0" and r.name == "b/r:0" and own.name == "b/own:0"


def test_trainable_collections_and_local_variables():
    with tf.variable_scope("col") as cs:
        a = tf.get_variable("a", [1])
        b = tf.get_variable("b", [1], trainable=False)
        c = tf.get_variable("c", [1], collections=["mine"])
        loc = tf.get_local_variable("l", [1])
    assert tf.global_variables() == [a, b]
    assert tf.trainable_variables() == [a, c]
    assert tf.get_collection("mine") == [c]
    assert tf.local_variables() == [loc] and loc not in tf.trainable_variables()
    assert cs.global_variables() == [a, b] and cs.trainable_variables() == [a, c]
    assert cs.local_variables() == [loc]
    with tf.variable_scope("col", reuse=True):
        assert tf.get_local_variable("l", [1]) is loc


def test_custom_getters_nest():
    log = []

    def outer(getter, name, *args, **kwargs):
        log.append(("outer", name))
        v = getter(name, *args, **kwargs)
        log.append(("outer-done", v.name))
        return v

    def inner(getter, name, *args, **kwargs):
        log.append(("inner", name, sorted(kwargs)))
        return getter(name, *args, **kwargs)

    with tf.variable_scope("cg", custom_getter=outer):
        with tf.variable_scope("in", custom_getter=inner):
            v = tf.get_variable("v", [1])
    assert v.name == "cg/in/v:0"
    assert log == [("inner", "cg/in/v", ["aggregation", "caching_device", "collections",
                                         "constraint", "dtype", "initializer", "partitioner",
                                         "regularizer", "reuse", "shape", "synchronization",
                                         "trainable", "use_resource", "validate_shape"]),
                   ("outer", "cg/in/v"), ("outer-done", "cg/in/v:0")]

    def renaming(getter, name, *args, **kwargs):
        return getter(name + "_x", *args, **kwargs)

    assert tf.get_variable("w", [1], custom_getter=renaming).name == "w_x:0"
    with pytest.raises(ValueError, match="Passed a custom_getter which is not callable"):
        tf.get_variable("bad", [1], custom_getter=3)


def test_improper_nesting_is_detected():
    outer = tf.variable_scope("o")
    inner = tf.variable_scope("i")
    outer.__enter__()
    inner.__enter__()
    with pytest.raises(RuntimeError, match="Improper nesting of variable_scope."):
        outer.__exit__(None, None, None)


# -- initializers -----------------------------------------------------------------------

def run(t):
    with tf.Session() as sess:
        return sess.run(t)


def test_constant_initializer_values():
    np.testing.assert_array_equal(run(tf.constant_initializer([1, 2])([4])), [1, 2, 2, 2])
    np.testing.assert_array_equal(run(tf.constant_initializer([[1, 2], [3, 4]])([4])),
                                  [1, 2, 3, 4])
    out = run(tf.constant_initializer(np.arange(6.0))([2, 3], dtype=tf.float64))
    assert out.dtype == np.float64 and out.tolist() == [[0, 1, 2], [3, 4, 5]]
    out = run(tf.constant_initializer(7)([2, 2], dtype=tf.int32))
    assert out.dtype == np.int32 and out.tolist() == [[7, 7], [7, 7]]
    with pytest.raises(ValueError, match=r"^Too many elements provided. Takes at most 4, "
                                         r"but got 5.$"):
        tf.constant_initializer([1, 2, 3, 4, 5])([4])
    with pytest.raises(TypeError, match=r"^Expected Tensor's shape: \(4,\), but got \(2,\).$"):
        tf.constant_initializer([1, 2], verify_shape=True)([4])
    with pytest.raises(TypeError, match="Expected int32"):
        tf.constant_initializer(2.5)([2], dtype=tf.int32)
    with pytest.raises(TypeError, match="Invalid type for initial value"):
        tf.constant_initializer(tf.constant(1.0))
    assert tf.constant_initializer(3).get_config() == {"value": 3, "dtype": "float32"}
    with tf.Graph().as_default():
        assert tf.constant_initializer(3)([2]).name == "Const:0"


def test_zeros_ones_initializers():
    z = tf.zeros_initializer()([2, 3])
    assert z.name == "zeros:0" and z.dtype == tf.float32 and z.shape.as_list() == [2, 3]
    assert tf.zeros_initializer(dtype=tf.int32)([2]).dtype == tf.int32
    assert run(tf.ones_initializer()([2], dtype=tf.int64)).tolist() == [1, 1]
    assert run(tf.zeros_initializer()([2], dtype=tf.string)).tolist() == [b"", b""]
    assert run(tf.ones_initializer()([2], dtype=tf.bool)).tolist() == [True, True]
    assert run(tf.zeros_initializer()(tf.constant([2, 1]))).tolist() == [[0.0], [0.0]]
    assert tf.zeros_initializer().get_config() == {"dtype": "float32"}


def _draw(init, shape=(100, 200), dtype=None):
    t = init(list(shape)) if dtype is None else init(list(shape), dtype=dtype)
    assert t.shape.as_list() == list(shape)
    return run(t)


def test_random_uniform_initializer():
    x = _draw(tf.random_uniform_initializer(-2.0, 3.0, seed=1))
    assert x.dtype == np.float32 and x.min() >= -2.0 and x.max() < 3.0
    assert abs(x.mean() - 0.5) < 0.05 and abs(x.std() - 5 / np.sqrt(12)) < 0.05
    y = _draw(tf.random_uniform_initializer(seed=2), dtype=tf.float64)
    assert y.dtype == np.float64 and y.min() >= 0.0 and y.max() < 1.0
    ints = _draw(tf.random_uniform_initializer(0, 10, seed=3), dtype=tf.int32)
    assert ints.dtype == np.int32 and set(np.unique(ints)) == set(range(10))
    with pytest.raises(ValueError, match="Must specify maxval for integer dtype"):
        tf.random_uniform_initializer()([2], dtype=tf.int32)
    with tf.Graph().as_default():
        assert tf.random_uniform_initializer(seed=4)([2]).name == "random_uniform:0"


def test_random_initializers_with_a_seed_repeat_per_session():
    t = tf.random_normal_initializer(seed=7)([5])
    a, b = run(t), run(t)
    np.testing.assert_array_equal(a, b)
    assert len(set(a.tolist())) == 5


def test_normal_initializers():
    x = _draw(tf.random_normal_initializer(1.0, 2.0, seed=4))
    assert abs(x.mean() - 1.0) < 0.05 and abs(x.std() - 2.0) < 0.05
    assert x.max() - 1.0 > 3 * 2.0           # untruncated: tails beyond 2 stddev exist
    t = _draw(tf.truncated_normal_initializer(1.0, 2.0, seed=5))
    assert t.min() >= 1.0 - 4.0 and t.max() <= 1.0 + 4.0
    assert abs(t.mean() - 1.0) < 0.05 and abs(t.std() - 2.0 * 0.8796) < 0.05
    with pytest.raises(ValueError, match="Expected floating point type, got int32."):
        tf.random_normal_initializer(dtype=tf.int32)
    with tf.Graph().as_default():
        assert tf.random_normal_initializer()([2]).name == "random_normal:0"
        assert tf.truncated_normal_initializer()([2]).name == "truncated_normal:0"


def test_glorot_initializers():
    fan_in, fan_out = 100, 200
    x = _draw(tf.glorot_uniform_initializer(seed=1), (fan_in, fan_out))
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    assert np.abs(x).max() <= limit and np.abs(x).max() > 0.99 * limit
    assert abs(x.std() - limit / np.sqrt(3)) < 0.01 * limit * 5
    n = _draw(tf.glorot_normal_initializer(seed=2), (fan_in, fan_out))
    std = np.sqrt(2.0 / (fan_in + fan_out))
    assert abs(n.std() - std) < 0.05 * std and np.abs(n).max() <= 2 * std / 0.8796 + 1e-6
    # conv kernels: fans include the receptive field (3 * 3)
    k = _draw(tf.glorot_uniform_initializer(seed=3), (3, 3, 16, 32))
    assert np.abs(k).max() <= np.sqrt(6.0 / (9 * 16 + 9 * 32))
    assert tf.glorot_uniform_initializer().get_config() == {"seed": None, "dtype": "float32"}


def test_variance_scaling_modes_and_distributions():
    shape = (100, 400)
    for mode, n in (("fan_in", 100), ("fan_out", 400), ("fan_avg", 250)):
        x = _draw(tf.variance_scaling_initializer(2.0, mode, "uniform", seed=1), shape)
        limit = np.sqrt(3.0 * 2.0 / n)
        assert np.abs(x).max() <= limit and np.abs(x).max() > 0.99 * limit
    x = _draw(tf.variance_scaling_initializer(2.0, "fan_in", "untruncated_normal", seed=2),
              shape)
    assert abs(x.std() - np.sqrt(2.0 / 100)) < 0.003
    x = _draw(tf.variance_scaling_initializer(seed=3), shape)     # truncated, fan_in
    assert abs(x.std() - np.sqrt(1.0 / 100)) < 0.003
    assert np.abs(x).max() <= 2 * np.sqrt(1.0 / 100) / 0.8796 + 1e-6
    with pytest.raises(ValueError, match="Argument `scale` must be a positive float. "
                                         "Received: -1.0"):
        tf.variance_scaling_initializer(scale=-1.0)
    with pytest.raises(ValueError, match="Argument `mode` should be one of"):
        tf.variance_scaling_initializer(mode="foo")
    with pytest.raises(ValueError, match="Argument `distribution` should be one of"):
        tf.variance_scaling_initializer(distribution="foo")
    assert tf.variance_scaling_initializer().get_config() == {
        "scale": 1.0, "mode": "fan_in", "distribution": "truncated_normal", "seed": None,
        "dtype": "float32"}


def test_he_lecun_and_unit_scaling():
    shape = (200, 100)
    x = _draw(init_ops.he_uniform(seed=1), shape)
    assert np.abs(x).max() <= np.sqrt(6.0 / 200) and np.abs(x).max() > 0.99 * np.sqrt(6 / 200)
    x = _draw(init_ops.lecun_uniform(seed=2), shape)
    assert np.abs(x).max() <= np.sqrt(3.0 / 200)
    x = _draw(init_ops.he_normal(seed=3), shape)
    assert abs(x.std() - np.sqrt(2.0 / 200)) < 0.005
    x = _draw(tf.uniform_unit_scaling_initializer(1.5, seed=4), (50, 40))
    limit = np.sqrt(3.0 / 50) * 1.5
    assert np.abs(x).max() <= limit and np.abs(x).max() > 0.98 * limit


def test_orthogonal_and_identity_initializers():
    q = _draw(tf.orthogonal_initializer(2.0, seed=8), (50, 40))
    np.testing.assert_allclose(q.T @ q, 4 * np.eye(40), atol=1e-4)
    w = _draw(tf.orthogonal_initializer(seed=9), (3, 4, 10)).reshape(12, 10)
    np.testing.assert_allclose(w.T @ w, np.eye(10), atol=1e-5)
    wide = _draw(tf.orthogonal_initializer(seed=10), (4, 9))
    np.testing.assert_allclose(wide @ wide.T, np.eye(4), atol=1e-5)
    with pytest.raises(ValueError, match="at least two-dimensional"):
        tf.orthogonal_initializer()([3])
    ident = init_ops.Identity(gain=3.0)
    assert run(ident([2, 3])).tolist() == [[3, 0, 0], [0, 3, 0]]
    with pytest.raises(ValueError, match="Identity matrix initializer can only be used for "
                                         "2D matrices."):
        ident([2, 2, 2])


def test_initializer_names_and_namespace():
    ns = init_ops.INITIALIZERS
    assert ns["zeros"] is tf.zeros_initializer is init_ops.Zeros
    assert ns["glorot_uniform"] is tf.glorot_uniform_initializer is ns["GlorotUniform"]
    for short in ("ones", "constant", "random_uniform", "random_normal", "truncated_normal",
                  "variance_scaling", "glorot_normal", "orthogonal", "identity",
                  "uniform_unit_scaling", "he_normal", "he_uniform", "lecun_normal",
                  "lecun_uniform"):
        assert callable(ns[short])
    for name in init_ops.__all__:
        assert getattr(tf.initializers, name) is getattr(tf, name)
    # the short names do not shadow the ops of the same name at top level
    assert tf.zeros is not init_ops.Zeros and tf.constant is not init_ops.Constant
    assert isinstance(tf.glorot_uniform_initializer(), init_ops.Initializer)
    assert init_ops.Zeros.from_config({"dtype": "int32"}).dtype == tf.int32
