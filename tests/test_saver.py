"""Saver checkpoints: save/restore, state file, max_to_keep, partial savers,
atomicity under injected failure, clear restore errors."""
import os

import numpy as np
import pytest

import flowcore.compat.v1 as tf
from flowcore.train import saver as saver_mod


def _model():
    w = tf.Variable([[1.0, 2.0], [3.0, 4.0]], name="w")
    b = tf.Variable(7, name="b")
    data = tf.Variable([9.0, 9.0], name="data", trainable=False, collections=[])
    return w, b, data


def test_save_restore_roundtrip(tmp_path):
    w, b, data = _model()
    saver = tf.train.Saver()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(tf.assign(w, [[5.0, 6.0], [7.0, 8.0]]))
        prefix = saver.save(sess, str(tmp_path / "model"), write_meta_graph=False)
    assert prefix == str(tmp_path / "model")
    assert os.path.exists(prefix + ".index")
    assert os.path.exists(prefix + ".data-00000-of-00001")
    with tf.Session() as sess:            # no initialization needed before restore
        saver.restore(sess, prefix)
        np.testing.assert_array_equal(sess.run(w), [[5.0, 6.0], [7.0, 8.0]])
        assert sess.run(b) == 7
        with pytest.raises(tf.errors.FailedPreconditionError):
            sess.run(data)   # collections=[] keeps it out of the default Saver
    assert sorted(n for n, _ in tf.train.list_variables(prefix)) == ["b", "w"]


def test_global_step_names_and_state_file(tmp_path):
    w, _, _ = _model()
    gs = tf.Variable(0, name="global_step", trainable=False)
    saver = tf.train.Saver(max_to_keep=2)
    d = str(tmp_path)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        paths = []
        for step in (10, 20, 30):
            sess.run(tf.assign(gs, step))
            paths.append(saver.save(sess, os.path.join(d, "model"), global_step=gs,
                                    write_meta_graph=False))
    assert paths == [os.path.join(d, "model-%d" % s) for s in (10, 20, 30)]
    assert saver.last_checkpoints == paths[1:]
    assert not os.path.exists(paths[0] + ".index")          # beyond max_to_keep: deleted
    assert all(os.path.exists(p + ".index") for p in paths[1:])
    assert tf.train.latest_checkpoint(d) == paths[-1]
    st = tf.train.get_checkpoint_state(d)
    assert st.model_checkpoint_path == paths[-1]
    assert st.all_model_checkpoint_paths == paths[1:]
    text = open(os.path.join(d, "checkpoint")).read()
    assert 'model_checkpoint_path: "%s"' % paths[-1] in text
    assert tf.train.latest_checkpoint(str(tmp_path / "empty")) is None


def test_recover_last_checkpoints_keeps_counting(tmp_path):
    _model()
    d = str(tmp_path)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        s1 = tf.train.Saver(max_to_keep=2)
        first = [s1.save(sess, os.path.join(d, "m"), global_step=i, write_meta_graph=False)
                 for i in range(2)]
        s2 = tf.train.Saver(max_to_keep=2)
        s2.recover_last_checkpoints(tf.train.get_checkpoint_state(d).all_model_checkpoint_paths)
        assert s2.last_checkpoints == first
        s2.save(sess, os.path.join(d, "m"), global_step=5, write_meta_graph=False)
    assert not os.path.exists(first[0] + ".index")


def test_partial_saver_with_dict(tmp_path):
    w, b, _ = _model()
    saver = tf.train.Saver({"weights": w})
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        p = saver.save(sess, str(tmp_path / "part"), write_meta_graph=False)
    assert [n for n, _ in tf.train.list_variables(p)] == ["weights"]
    with tf.Session() as sess:
        saver.restore(sess, p)
        np.testing.assert_array_equal(sess.run(w), [[1, 2], [3, 4]])
        with pytest.raises(tf.errors.FailedPreconditionError):
            sess.run(b)


def test_restore_errors(tmp_path):
    w, b, _ = _model()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        p = tf.train.Saver({"w": w}).save(sess, str(tmp_path / "m"), write_meta_graph=False)
    tf.reset_default_graph()
    w2 = tf.Variable(tf.zeros([3]), name="w")
    other = tf.Variable(0.0, name="other")
    with tf.Session() as sess:
        with pytest.raises(tf.errors.NotFoundError, match="other"):
            tf.train.Saver([other]).restore(sess, p)
        with pytest.raises(tf.errors.InvalidArgumentError, match="w"):
            tf.train.Saver([w2]).restore(sess, p)
        wi = tf.Variable([[0, 0], [0, 0]], name="wi")
        with pytest.raises(tf.errors.InvalidArgumentError, match="dtype"):
            tf.train.Saver({"w": wi}).restore(sess, p)
        with pytest.raises(tf.errors.NotFoundError):
            tf.train.Saver([w2]).restore(sess, str(tmp_path / "missing"))
    # corrupt the data file: flip one byte
    data = p + ".data-00000-of-00001"
    raw = bytearray(open(data, "rb").read())
    raw[3] ^= 0xFF
    open(data, "wb").write(bytes(raw))
    tf.reset_default_graph()
    w3 = tf.Variable(tf.zeros([2, 2]), name="w")
    with tf.Session() as sess:
        with pytest.raises(tf.errors.DataLossError, match="corrupt"):
            tf.train.Saver([w3]).restore(sess, p)


def test_save_is_atomic_under_injected_failure(tmp_path, monkeypatch):
    w, _, _ = _model()
    saver = tf.train.Saver()
    d = str(tmp_path)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        good = saver.save(sess, os.path.join(d, "m"), global_step=1, write_meta_graph=False)
        state_before = open(os.path.join(d, "checkpoint")).read()
        sess.run(tf.assign(w, [[0.0, 0.0], [0.0, 0.0]]))

        real_encode = saver_mod._encode
        calls = {"n": 0}

        def failing_encode(value):
            calls["n"] += 1
            if calls["n"] == 2:
                raise OSError(28, "No space left on device")
            return real_encode(value)
        monkeypatch.setattr(saver_mod, "_encode", failing_encode)
        with pytest.raises(OSError):
            saver.save(sess, os.path.join(d, "m"), global_step=1, write_meta_graph=False)
        monkeypatch.setattr(saver_mod, "_encode", real_encode)
    # the previous checkpoint and the state file are untouched, no temp files remain
    assert open(os.path.join(d, "checkpoint")).read() == state_before
    assert not [f for f in os.listdir(d) if ".tmp-" in f]
    tf.reset_default_graph()
    w2 = tf.Variable(tf.zeros([2, 2]), name="w")
    with tf.Session() as sess:
        tf.train.Saver([w2]).restore(sess, good)
        np.testing.assert_array_equal(sess.run(w2), [[1, 2], [3, 4]])


def test_empty_saver():
    with pytest.raises(ValueError, match="No variables to save"):
        tf.train.Saver()
    assert tf.train.Saver(allow_empty=True).last_checkpoints == []


def test_state_file_paths_are_relative_to_a_relative_save_dir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    os.mkdir("ck")
    w, b, _ = _model()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        tf.train.Saver().save(sess, os.path.join("ck", "model"), global_step=4,
                              write_meta_graph=False)
    assert 'model_checkpoint_path: "model-4"' in open(os.path.join("ck", "checkpoint")).read()
    monkeypatch.chdir("/")
    assert tf.train.latest_checkpoint(str(tmp_path / "ck")) == str(tmp_path / "ck" / "model-4")
