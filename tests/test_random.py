"""Seed rules, random op distributions, static shapes and per-session state."""
import threading

import numpy as np
import pytest

import flowcore.compat.v1 as tf
from flowcore import random_seed


# -- seeds ----------------------------------------------------------------------------

def test_get_seed_rules():
    assert tf.get_seed(None) == (None, None)
    assert tf.get_seed(7) == (random_seed.DEFAULT_GRAPH_SEED, 7)
    tf.set_random_seed(3)
    tf.constant(1)
    tf.constant(2)
    g = tf.get_default_graph()
    assert tf.get_seed(None) == (3, g._last_id) == (3, 2)
    assert tf.get_seed(9) == (3, 9)
    tf.set_random_seed(0)
    assert tf.get_seed(0) == (0, 2 ** 31 - 1)
    assert tf.get_seed(2 ** 31 - 1 + 5) == (0, 5)      # truncated modulo 2**31 - 1


def test_seed_attrs_on_ops():
    a = tf.random_uniform([2], seed=5)
    assert a.op.get_attr("seed") == random_seed.DEFAULT_GRAPH_SEED
    assert a.op.get_attr("seed2") == 5
    b = tf.random_normal([2])
    rnd = b.op.inputs[0].op.inputs[0].op
    assert rnd.type == "RandomStandardNormal"
    assert (rnd.get_attr("seed"), rnd.get_attr("seed2")) == (0, 0)


def _values(build, runs=2):
    """Build with `build()` in a fresh graph; values of `runs` runs in two sessions."""
    g = tf.Graph()
    with g.as_default():
        t = build()
        out = []
        for _ in range(2):
            with tf.Session() as sess:
                out.append([sess.run(t) for _ in range(runs)])
    return out


def test_op_seed_replays_per_session_and_advances_per_run():
    (a1, a2), (b1, b2) = _values(lambda: tf.random_uniform([5], seed=11))
    np.testing.assert_array_equal(a1, b1)
    np.testing.assert_array_equal(a2, b2)
    assert not np.array_equal(a1, a2)


def test_graph_seed_makes_program_reproducible():
    def build():
        tf.set_random_seed(1234)
        x = tf.random_normal([4])
        y = tf.truncated_normal([4])
        return x, y
    first = _values(build, runs=1)[0][0]
    second = _values(build, runs=1)[0][0]
    np.testing.assert_array_equal(first[0], second[0])
    np.testing.assert_array_equal(first[1], second[1])
    assert not np.array_equal(first[0], first[1][:4])


def test_same_op_seed_same_values():
    a = tf.random_uniform([6], seed=3)
    b = tf.random_uniform([6], seed=3)
    c = tf.random_uniform([6], seed=4)
    with tf.Session() as sess:
        va, vb, vc = sess.run([a, b, c])
    np.testing.assert_array_equal(va, vb)
    assert not np.array_equal(va, vc)


def test_no_seed_differs_between_sessions():
    (a,), (b,) = _values(lambda: tf.random_uniform([8]), runs=1)
    assert not np.array_equal(a, b)


def test_concurrent_runs_draw_distinct_values():
    t = tf.random_uniform([16], seed=1)
    results = []
    with tf.Session() as sess:
        def work():
            for _ in range(20):
                results.append(sess.run(t).tobytes())
        threads = [threading.Thread(target=work) for _ in range(4)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
    assert len(set(results)) == 80


# -- shapes and argument checks -------------------------------------------------------------

def test_static_shapes():
    assert tf.random_uniform([2, 3]).shape.as_list() == [2, 3]
    assert tf.random_uniform([]).shape.as_list() == []
    assert tf.random_uniform(tf.TensorShape([4])).shape.as_list() == [4]
    assert tf.random_uniform(np.array([2, 5], np.int64)).shape.as_list() == [2, 5]
    p = tf.placeholder(tf.int32, [2])
    assert tf.random_normal(p).shape.as_list() == [None, None]
    n = tf.placeholder(tf.int32, [])
    assert tf.random_uniform([n, 3]).shape.as_list() == [None, 3]
    x = tf.placeholder(tf.float32, [None, 7])
    assert tf.random_uniform(tf.shape(x)).shape.as_list() == [None, 7]
    assert tf.random_normal(tf.placeholder(tf.int32)).shape.ndims is None
    assert tf.random_shuffle([[1, 2], [3, 4], [5, 6]]).shape.as_list() == [3, 2]
    m = tf.multinomial([[1.0, 2.0]], 5)
    assert m.shape.as_list() == [1, 5] and m.dtype == tf.int64
    assert tf.random_uniform([3], maxval=4, dtype=tf.int64).dtype == tf.int64


def test_names_follow_tf():
    assert tf.random_uniform([2]).name == "random_uniform/RandomUniform:0"
    assert tf.random_uniform([2], 1.0, 2.0).name == "random_uniform_1:0"
    assert tf.random_normal([2]).name == "random_normal:0"
    assert tf.truncated_normal([2]).name == "truncated_normal:0"
    assert tf.random_shuffle([1, 2]).name == "RandomShuffle:0"
    assert tf.multinomial([[1.0]], 1).name == "multinomial/Multinomial:0"


def test_argument_errors():
    with pytest.raises(ValueError, match="Must specify maxval for integer dtype"):
        tf.random_uniform([2], dtype=tf.int32)
    with pytest.raises(ValueError, match="rank 1 but is rank 0"):
        tf.random_uniform(3)
    with pytest.raises(ValueError, match="partially known"):
        tf.random_uniform(tf.TensorShape([2, None]))
    with pytest.raises(ValueError, match="rank 2 but is rank 1"):
        tf.multinomial([1.0, 2.0], 3)
    with pytest.raises(ValueError, match="invalid value"):
        tf.random_uniform([2], maxval=3, dtype=tf.uint8)
    bad = tf.random_uniform([2], 5, 5, dtype=tf.int32)
    neg = tf.random_uniform(tf.placeholder_with_default([2, -1], [2]))
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError, match="Need minval < maxval"):
            sess.run(bad)
        with pytest.raises(tf.errors.InvalidArgumentError, match="non-negative"):
            sess.run(neg)


# -- distributions ------------------------------------------------------------------------

def test_uniform_ranges():
    f = tf.random_uniform([20000], -2.0, 3.0, seed=1)
    i = tf.random_uniform([20000], 3, 7, dtype=tf.int32, seed=2)
    h = tf.random_uniform([1000], dtype=tf.float16, seed=3)
    d = tf.random_uniform([2], dtype=tf.float64)
    with tf.Session() as sess:
        vf, vi, vh, vd = sess.run([f, i, h, d])
    assert vf.dtype == np.float32 and vf.min() >= -2 and vf.max() < 3
    assert abs(vf.mean() - 0.5) < 0.05
    assert vi.dtype == np.int32 and set(np.unique(vi)) == {3, 4, 5, 6}
    assert vh.dtype == np.float16 and vh.max() < 1 and vh.min() >= 0
    assert vd.dtype == np.float64


def test_normal_and_truncated_normal():
    n = tf.random_normal([50000], mean=3.0, stddev=2.0, seed=1)
    t = tf.truncated_normal([50000], mean=-1.0, stddev=0.5, seed=2, dtype=tf.float64)
    with tf.Session() as sess:
        vn, vt = sess.run([n, t])
    assert abs(vn.mean() - 3.0) < 0.05 and abs(vn.std() - 2.0) < 0.05
    assert vt.dtype == np.float64
    assert np.abs(vt + 1.0).max() <= 1.0                      # within 2 stddev
    assert abs(vt.mean() + 1.0) < 0.01
    assert abs(vt.std() - 0.5 * 0.87962566) < 0.01             # std of N(0,1) cut at +-2


def test_random_shuffle_permutes_rows():
    x = np.arange(40).reshape(20, 2)
    s = tf.random_shuffle(x, seed=4)
    with tf.Session() as sess:
        a, b = sess.run(s), sess.run(s)
    assert sorted(map(tuple, a)) == sorted(map(tuple, x))
    assert not np.array_equal(a, b)
    assert (a[:, 1] - a[:, 0] == 1).all()     # rows move whole


def test_multinomial_frequencies():
    logits = np.log([[0.2, 0.3, 0.5], [0.9, 0.1, 1e-30]]).astype(np.float32)
    logits[1, 2] = -np.inf
    m = tf.multinomial(logits, 20000, seed=5)
    c = tf.random.categorical(logits, 3, dtype=tf.int32)
    with tf.Session() as sess:
        v, vc = sess.run([m, c])
    assert vc.dtype == np.int32 and vc.shape == (2, 3)
    f0 = np.bincount(v[0], minlength=3) / 20000.0
    f1 = np.bincount(v[1], minlength=3) / 20000.0
    np.testing.assert_allclose(f0, [0.2, 0.3, 0.5], atol=0.015)
    np.testing.assert_allclose(f1, [0.9, 0.1, 0.0], atol=0.015)
    assert f1[2] == 0


def test_random_namespace_aliases():
    assert tf.random.uniform is tf.random_uniform
    assert tf.random.normal is tf.random_normal
    assert tf.random.shuffle is tf.random_shuffle
    assert tf.random.truncated_normal is tf.truncated_normal
    assert tf.random.set_random_seed is tf.set_random_seed


# -- candidate samplers ---------------------------------------------------------------------

def _log_uniform_p(k, range_max):
    return np.log((k + 2.0) / (k + 1.0)) / np.log(range_max + 1.0)


def test_log_uniform_sampler_unique_and_expected_counts():
    true = np.array([[0], [5], [40]], np.int64)
    s = tf.nn.log_uniform_candidate_sampler(true, 1, 20, True, 50, seed=3)
    assert s.sampled_candidates.shape.as_list() == [20]
    assert s.true_expected_count.shape.as_list() == [3, 1]
    assert s.sampled_expected_count.shape.as_list() == [20]
    with tf.Session() as sess:
        for _ in range(5):
            cand, tec, sec = sess.run(s)
            assert cand.dtype == np.int64 and len(set(cand)) == 20
            assert cand.min() >= 0 and cand.max() < 50
            # every expected count is 1 - (1 - p)^tries for one common number of tries
            p = _log_uniform_p(cand, 50)
            tries = np.log1p(-sec.astype(np.float64)) / np.log1p(-p)
            assert np.allclose(tries, tries[0], rtol=1e-3) and tries[0] >= 20 - 1e-3
            ref = -np.expm1(round(tries[0]) * np.log1p(-_log_uniform_p(true, 50)))
            np.testing.assert_allclose(tec, ref, rtol=1e-5)


def test_log_uniform_sampler_with_replacement():
    s = tf.nn.log_uniform_candidate_sampler([[1, 2]], 2, 4000, False, 10, seed=1)
    with tf.Session() as sess:
        cand, tec, sec = sess.run(s)
    p = _log_uniform_p(np.arange(10), 10)
    np.testing.assert_allclose(np.bincount(cand, minlength=10) / 4000.0, p, atol=0.02)
    np.testing.assert_allclose(sec, _log_uniform_p(cand, 10) * 4000, rtol=1e-5)
    np.testing.assert_allclose(tec, [p[[1, 2]] * 4000], rtol=1e-5)


def test_uniform_sampler_and_errors():
    s = tf.nn.uniform_candidate_sampler([[1]], 1, 4, True, 4, seed=2)
    with tf.Session() as sess:
        cand = sess.run(s.sampled_candidates)
    assert sorted(cand) == [0, 1, 2, 3]
    with pytest.raises(TypeError, match="int64"):
        tf.nn.log_uniform_candidate_sampler(tf.constant([[1]]), 1, 2, True, 4)
    small = tf.nn.log_uniform_candidate_sampler([[1]], 1, 5, True, 4)
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError, match="range is too small"):
            sess.run(small)
