"""TensorBoard's own event reader (the `tensorboard` package, no TensorFlow)
loads a log directory written by flowcore: scalars with their steps,
histograms, images, text and the graph."""

import numpy as np

import flowcore.compat.v1 as tf
from tensorboard.backend.event_processing import event_accumulator as ea


def _write_run(logdir):
    x = tf.placeholder(tf.float32, [None], name="x")
    imgs = tf.placeholder(tf.uint8, [None, 2, 3, 3], name="imgs")
    w = tf.Variable(1.0, name="w")
    with tf.name_scope("train"):
        loss = tf.multiply(w, tf.constant(2.0), name="loss")
    tf.summary.scalar("loss", loss)
    tf.summary.histogram("activations", x)
    tf.summary.image("samples", imgs, max_outputs=2)
    tf.summary.text("note", tf.constant("step note"))
    merged = tf.summary.merge_all()
    step_op = tf.assign_sub(w, 0.25)
    rng = np.random.RandomState(0)
    batches = []
    with tf.summary.FileWriter(logdir, graph=tf.get_default_graph()) as writer:
        writer.add_session_log(tf.SessionLog(status=tf.SessionLog.START), 0)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            for step in range(0, 40, 10):
                data = rng.randn(50)
                pics = rng.randint(0, 256, (3, 2, 3, 3)).astype(np.uint8)
                batches.append((data, pics))
                writer.add_summary(sess.run(merged, {x: data, imgs: pics}), step)
                sess.run(step_op)
    return batches


def test_tensorboard_event_accumulator_reads_our_logdir(tmp_path):
    logdir = str(tmp_path)
    batches = _write_run(logdir)
    acc = ea.EventAccumulator(logdir, size_guidance={ea.SCALARS: 0, ea.HISTOGRAMS: 0,
                                                     ea.IMAGES: 0, ea.TENSORS: 0})
    acc.Reload()
    tags = acc.Tags()
    assert tags["scalars"] == ["loss"]
    assert tags["histograms"] == ["activations"]
    assert sorted(tags["images"]) == ["samples/image/0", "samples/image/1"]
    assert tags["graph"] is True and tags["meta_graph"] is True

    scalars = acc.Scalars("loss")
    assert [(e.step, e.value) for e in scalars] == [(0, 2.0), (10, 1.5), (20, 1.0), (30, 0.5)]

    hists = acc.Histograms("activations")
    assert [h.step for h in hists] == [0, 10, 20, 30]
    for h, (data, _) in zip(hists, batches):
        hv = h.histogram_value
        assert hv.num == 50 and sum(hv.bucket) == 50
        assert hv.min == np.float32(data).min() and hv.max == np.float32(data).max()
        assert len(hv.bucket_limit) == len(hv.bucket)

    images = acc.Images("samples/image/1")
    assert [i.step for i in images] == [0, 10, 20, 30]
    assert (images[0].width, images[0].height) == (3, 2)
    assert images[0].encoded_image_string.startswith(b"\x89PNG")

    texts = acc.Tensors("note")
    assert [t.step for t in texts] == [0, 10, 20, 30]
    assert list(texts[0].tensor_proto.string_val) == [b"step note"]
    assert acc.SummaryMetadata("note").plugin_data.plugin_name == "text"

    graph = acc.Graph()
    names = {n.name: n.op for n in graph.node}
    assert names["x"] == "Placeholder" and names["w"] == "VariableV2"
    assert names["train/loss"] == "Mul" and names["loss"] == "ScalarSummary"
    assert "summaries" in acc.MetaGraph().collection_def
