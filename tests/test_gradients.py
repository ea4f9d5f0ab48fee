"""`tf.gradients`: values users meet first, graph layout, paths, stops,
unconnected and integer inputs, errors, second order, IndexedSlices."""
import numpy as np
import pytest

import flowcore.compat.v1 as tf
from flowcore import gradient_checker, registry


def _run(fetches, feed=None):
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        return sess.run(fetches, feed)


def test_cube_at_two():
    x = tf.placeholder(tf.float32, [], name="x")
    y = 2.0 * x * x * x
    (g,) = tf.gradients(y, x)
    assert g.dtype == tf.float32 and g.shape.as_list() == []
    assert _run(g, {x: 2.0}) == pytest.approx(24.0)


def test_cube_of_variable_flows_through_read():
    x = tf.Variable(2.0, name="x")
    y = 2.0 * x * x * x
    (g,) = tf.gradients(y, x)
    assert _run(g) == pytest.approx(24.0)
    assert "x/read" in [op.name for op in tf.get_default_graph().get_operations()]


def test_z_wrt_x_and_y():
    x = tf.Variable(2.0, name="x")
    y = 2.0 * x * x * x
    z = 3.0 + y * y
    gx, gy = tf.gradients(z, [x, y])
    assert _run([gx, gy]) == [pytest.approx(768.0), pytest.approx(32.0)]


def test_second_derivative_of_cube():
    x = tf.placeholder(tf.float64, [], name="x")
    y = x * x * x
    (dy,) = tf.gradients(y, x)
    (d2y,) = tf.gradients(dy, x)
    assert _run([dy, d2y], {x: 3.0}) == [pytest.approx(27.0), pytest.approx(18.0)]
    (d3y,) = tf.gradients(d2y, x)
    assert _run(d3y, {x: 3.0}) == pytest.approx(6.0)


def test_gradient_ops_live_under_gradients_scope():
    x = tf.placeholder(tf.float32, [3], name="x")
    with tf.name_scope("layer"):
        y = tf.multiply(x, x, name="m")
    before = set(op.name for op in tf.get_default_graph().get_operations())
    (g,) = tf.gradients(y, x)
    new = [op.name for op in tf.get_default_graph().get_operations() if op.name not in before]
    assert new and all(n.startswith("gradients/") for n in new)
    assert any(n.startswith("gradients/layer/m_grad/") for n in new)
    assert "gradients/grad_ys_0" in new
    (g2,) = tf.gradients(y, x)
    assert g2.name.startswith("gradients_1/")
    (g3,) = tf.gradients(y, x, name="mygrads")
    assert g3.name.startswith("mygrads/")
    np.testing.assert_allclose(_run(g, {x: [1.0, 2.0, 3.0]}), [2.0, 4.0, 6.0])


def test_unconnected_is_none_or_zeros():
    x = tf.placeholder(tf.float32, [2], name="x")
    u = tf.placeholder(tf.float32, [2], name="u")
    y = x * 3.0
    assert tf.gradients(y, [x, u])[1] is None
    gx, gu = tf.gradients(y, [x, u], unconnected_gradients="zero")
    vx, vu = _run([gx, gu], {x: [1.0, 1.0], u: [5.0, 5.0]})
    np.testing.assert_array_equal(vx, [3.0, 3.0])
    np.testing.assert_array_equal(vu, [0.0, 0.0])


def test_stop_gradient_op():
    x = tf.placeholder(tf.float32, [], name="x")
    y = x * tf.stop_gradient(x) + tf.stop_gradient(x * x)
    (g,) = tf.gradients(y, x)
    assert _run(g, {x: 5.0}) == pytest.approx(5.0)
    assert tf.gradients(tf.stop_gradient(x) * 2.0, x) == [None]
    assert registry.gradient_function("StopGradient") is None


def test_stop_gradients_argument():
    # TF's documented example: a = 0, b = 2a, d(a + b)/d[a, b]
    a = tf.constant(0.0)
    b = 2 * a
    assert _run(tf.gradients(a + b, [a, b])) == [pytest.approx(3.0), pytest.approx(1.0)]
    assert _run(tf.gradients(a + b, [a, b], stop_gradients=[a, b])) == \
        [pytest.approx(1.0), pytest.approx(1.0)]


def test_multiple_paths_are_summed():
    x = tf.placeholder(tf.float64, [3], name="x")
    y = x * x + x * 3.0 - x
    (g,) = tf.gradients(y, x)
    np.testing.assert_allclose(_run(g, {x: [1.0, 2.0, -1.0]}), [4.0, 6.0, 0.0])


def test_several_ys_are_summed_and_weighted():
    x = tf.placeholder(tf.float32, [2], name="x")
    y1 = x * 2.0
    y2 = x * x
    (g,) = tf.gradients([y1, y2], x)
    np.testing.assert_allclose(_run(g, {x: [1.0, 3.0]}), [4.0, 8.0])
    (gw,) = tf.gradients([y1, y2], x, grad_ys=[[1.0, 0.0], [10.0, 1.0]])
    np.testing.assert_allclose(_run(gw, {x: [1.0, 3.0]}), [22.0, 6.0])
    with pytest.raises(ValueError, match="Passed 1 grad_ys for 2 ys"):
        tf.gradients([y1, y2], x, grad_ys=[[1.0, 1.0]])


def test_y_depending_on_another_y():
    x = tf.placeholder(tf.float32, [], name="x")
    y = x * x
    z = y * 3.0
    (g,) = tf.gradients([y, z], x)      # d(y + 3y)/dx = 8x
    assert _run(g, {x: 2.0}) == pytest.approx(16.0)


def test_gradient_wrt_intermediate_and_its_input():
    x = tf.placeholder(tf.float32, [], name="x")
    h = x * 2.0
    y = h * h
    gh, gx = tf.gradients(y, [h, x])
    assert _run([gh, gx], {x: 1.5}) == [pytest.approx(6.0), pytest.approx(12.0)]


def test_integer_tensors_not_differentiated():
    i = tf.placeholder(tf.int32, [2], name="i")
    y = i * 2
    assert tf.gradients(y, i) == [None]
    yf = tf.cast(i, tf.float32) * 2.0
    assert tf.gradients(yf, i) == [None]
    x = tf.placeholder(tf.float32, [2], name="x")
    mixed = x * tf.cast(i, tf.float32)
    gx, gi = tf.gradients(mixed, [x, i])
    assert gi is None
    np.testing.assert_array_equal(_run(gx, {x: [1.0, 1.0], i: [4, 5]}), [4.0, 5.0])


def test_missing_gradient_raises_lookup_error_naming_op():
    if "FlowcoreTestNoGrad" not in registry.registered_types():
        registry.register("FlowcoreTestNoGrad", kernel=lambda ctx, op, x: x,
                          shape=lambda op: [(op.inputs[0].dtype, op.inputs[0].shape)])
    x = tf.placeholder(tf.float32, [], name="x")
    y = tf.get_default_graph().create_op("FlowcoreTestNoGrad", [x], name="nograd").outputs[0]
    with pytest.raises(LookupError, match=r"nograd.*FlowcoreTestNoGrad"):
        tf.gradients(y * 2.0, x)
    # not on a path from x: no error
    z = tf.placeholder(tf.float32, [], name="z")
    assert tf.gradients(y * z, z)[0] is not None


def test_not_differentiable_stops_without_error():
    x = tf.placeholder(tf.float32, [3], name="x")
    s = tf.cast(tf.shape(x), tf.float32)
    assert tf.gradients(s, x) == [None]


def test_static_shape_of_gradient():
    x = tf.placeholder(tf.float32, [None, 3], name="x")
    y = x * tf.constant([1.0, 2.0, 3.0])
    (g,) = tf.gradients(y, x)
    assert g.shape.as_list() == [None, 3]
    b = tf.placeholder(tf.float32, [3], name="b")
    (gb,) = tf.gradients(x + b, b)
    assert gb.shape.as_list() == [3]
    np.testing.assert_array_equal(_run(gb, {x: np.ones((4, 3)), b: np.zeros(3)}),
                                  [4.0, 4.0, 4.0])


def test_grad_ys_dtype_checked():
    x = tf.placeholder(tf.float32, [2], name="x")
    with pytest.raises(TypeError, match="must be real"):
        tf.gradients(x * 2.0, x, grad_ys=[tf.constant([1, 1])])


def test_gate_gradients_and_aggregation_methods_agree():
    x = tf.placeholder(tf.float64, [2], name="x")
    y = x * x * x + x * 2.0
    results = []
    for kwargs in ({}, {"gate_gradients": True},
                   {"aggregation_method": tf.AggregationMethod.EXPERIMENTAL_TREE}):
        results.append(tf.gradients(y, x, **kwargs)[0])
    vals = _run(results, {x: [1.0, 2.0]})
    for v in vals:
        np.testing.assert_allclose(v, [5.0, 14.0])
    ops = [op.name for op in tf.get_default_graph().get_operations()]
    assert any("/tuple/" in n for n in ops if n.startswith("gradients_1/"))


def test_gradient_in_non_default_graph():
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [], name="x")
        y = x * x
    (dx,) = tf.gradients(y, x)
    assert dx.graph is g
    assert tf.get_default_graph().get_operations() == []
    with tf.Session(graph=g) as sess:
        assert sess.run(dx, {x: 4.0}) == pytest.approx(8.0)


def test_gradient_wrt_variable_read_twice():
    w = tf.Variable([1.0, 2.0], name="w")
    y = w * w.read_value() + w
    (g,) = tf.gradients(y, w)
    np.testing.assert_allclose(_run(g), [3.0, 5.0])


def test_gradient_override_map():
    graph = tf.get_default_graph()

    @tf.RegisterGradient("FlowcoreTestTripleGrad")
    def _triple(op, grad):
        return [grad * 3.0]
    x = tf.placeholder(tf.float32, [], name="x")
    with graph.gradient_override_map({"Identity": "FlowcoreTestTripleGrad"}):
        y = tf.identity(x)
    assert y.op.attrs["_gradient_op_type"] == "FlowcoreTestTripleGrad"
    (g,) = tf.gradients(y, x)
    assert _run(g, {x: 1.0}) == pytest.approx(3.0)


def test_checker_matches_and_catches_a_wrong_gradient():
    x = tf.placeholder(tf.float64, [3], name="x")
    init = np.array([1.0, 2.0, 3.0])
    theo, num = gradient_checker.compute_gradient(x, [3], x * x, [3], x_init_value=init)
    assert theo.shape == num.shape == (3, 3)
    np.testing.assert_allclose(theo, np.diag([2.0, 4.0, 6.0]))
    np.testing.assert_allclose(num, theo, atol=1e-6)
    assert gradient_checker.compute_gradient_error(x, [3], x * x, [3], x_init_value=init,
                                                   delta=1e-5) < 1e-8
    if "FlowcoreTestBadSquare" not in registry.registered_types():
        registry.register("FlowcoreTestBadSquare", kernel=lambda ctx, op, v: v * v,
                          shape=lambda op: [(op.inputs[0].dtype, op.inputs[0].shape)],
                          grad=lambda op, grad: [grad * op.inputs[0] * 3.0])
    y = tf.get_default_graph().create_op("FlowcoreTestBadSquare", [x]).outputs[0]
    err = gradient_checker.compute_gradient_error(x, [3], y, [3], x_init_value=init)
    assert err == pytest.approx(3.0, rel=1e-6)     # 3x - 2x at x = 3


def test_hessians():
    x = tf.placeholder(tf.float64, [2], name="x")
    y = x * x * x
    (h,) = tf.hessians(y, x)
    np.testing.assert_allclose(_run(h, {x: [1.0, 2.0]}), [[6.0, 0.0], [0.0, 12.0]])


# -- IndexedSlices ----------------------------------------------------------------------

def test_gather_gradient_is_indexed_slices_and_aggregates_by_concat():
    params = tf.placeholder(tf.float32, [5, 2], name="params")
    a = tf.gather(params, [0, 2])
    b = tf.gather(params, [2, 4, 2])
    (g,) = tf.gradients([a * 2.0, b], params)
    assert type(g).__name__ == "IndexedSlices"
    values, indices = _run([g.values, g.indices], {params: np.ones((5, 2))})
    assert sorted(indices.tolist()) == [0, 2, 2, 2, 4]
    dense = np.zeros((5, 2))
    np.add.at(dense, indices, values)
    np.testing.assert_allclose(dense, [[2, 2], [0, 0], [4, 4], [0, 0], [1, 1]])


def test_indexed_slices_mixed_with_dense_is_densified():
    params = tf.placeholder(tf.float32, [3, 2], name="params")
    y = tf.gather(params, [1, 1]) * 1.0
    z = params * 2.0
    (g,) = tf.gradients([y, z], params)
    assert isinstance(g, tf.Tensor)
    np.testing.assert_allclose(_run(g, {params: np.ones((3, 2))}),
                               [[2, 2], [4, 4], [2, 2]])


def test_indexed_slices_with_int32_and_int64_indices_concatenate_as_int64():
    params = tf.placeholder(tf.float32, [4, 2], name="params")
    a = tf.gather(params, tf.constant([1], dtype=tf.int32))
    b = tf.gather(params, tf.constant([1, 3], dtype=tf.int64))
    (g,) = tf.gradients([a, b], params)
    assert type(g).__name__ == "IndexedSlices"
    assert g.indices.dtype == tf.int64
    dense = tf.convert_to_tensor(g)
    np.testing.assert_allclose(_run(dense, {params: np.ones((4, 2))}),
                               [[0, 0], [2, 2], [0, 0], [1, 1]])
