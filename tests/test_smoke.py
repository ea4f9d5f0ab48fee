import numpy as np

import flowcore.compat.v1 as tf


def test_add_two_constants():
    c = tf.constant(2.0) + tf.constant(3.0)
    with tf.Session() as sess:
        v = sess.run(c)
    assert v == 5.0 and isinstance(v, np.float32)


def test_sample_loss_goes_down():
    import importlib.util
    import pathlib
    path = pathlib.Path(__file__).parent.parent / "samples" / "linear_placeholders.py"
    spec = importlib.util.spec_from_file_location("sample", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    losses = mod.main(steps=200)
    assert np.mean(losses[-40:]) < 0.05 * np.mean(losses[:40])
