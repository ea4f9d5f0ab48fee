"""Queue throughput: elements/s through a FIFOQueue, flowcore vs TF1.

    python benchmarks/queues.py

Jobs, each with one QueueRunner thread filling the queue while the main
thread drains it with `sess.run`:

- scalars: the runner enqueues one float32 scalar per run, the main thread
  dequeues one per run (the per-record pipeline pattern);
- batches: the runner runs `enqueue_many` of 128 float32 vectors of 16,
  the main thread `dequeue_many(128)`.

With TensorFlow importable the same graphs run in `tensorflow.compat.v1` in
this process and the ratio is printed (ratio > 1: flowcore is faster).
"""
from _common import rate, report, tensorflow_v1

import numpy as np

BATCH = 128


def _job(tf, kind):
    """(session, coordinator, threads, drain function, elements per call)."""
    g = tf.Graph()
    with g.as_default():
        if kind == "scalars":
            q = tf.FIFOQueue(1000, tf.float32, shapes=[])
            enq = q.enqueue(tf.constant(1.0))
            deq = q.dequeue()
            per_call = 1
        else:
            q = tf.FIFOQueue(8 * BATCH, tf.float32, shapes=[16])
            enq = q.enqueue_many(tf.constant(np.ones((BATCH, 16), np.float32)))
            deq = q.dequeue_many(BATCH)
            per_call = BATCH
        qr = tf.train.QueueRunner(q, [enq])
    sess = tf.Session(graph=g)
    coord = tf.train.Coordinator()
    threads = qr.create_threads(sess, coord=coord, daemon=True, start=True)
    return sess, coord, threads, (lambda: sess.run(deq)), per_call


def _measure(tf, kind):
    sess, coord, threads, drain, per_call = _job(tf, kind)
    try:
        return rate(drain, batch=per_call)
    finally:
        coord.request_stop()
        coord.join(threads, stop_grace_period_secs=10)
        sess.close()


def main():
    import flowcore.compat.v1 as fc
    tftf = tensorflow_v1()
    for title, kind in (("QueueRunner enqueue / sess.run(dequeue) scalars", "scalars"),
                        ("enqueue_many / dequeue_many(128)", "batches")):
        ours = _measure(fc, kind)
        theirs = _measure(tftf, kind) if tftf is not None else None
        report(title, "elem/s", ours, theirs)


if __name__ == "__main__":
    main()
