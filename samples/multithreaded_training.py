"""Several training threads running one optimizer on one session, fed by a
queue pipeline, inside the canonical Coordinator template:

    coord = tf.train.Coordinator()
    threads = tf.train.start_queue_runners(sess, coord)   # the input threads
    try:
        while not coord.should_stop(): sess.run(train_op)
    except Exception as e:
        coord.request_stop(e)
    finally:
        coord.request_stop()
    coord.join(threads)

Data: y = x . w_true + 0.5 + noise, generated in-graph by random ops and
enqueued by QueueRunner threads; a linear model learns w_true.

Run: python samples/multithreaded_training.py
"""
import os
import sys
import threading
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import flowcore.compat.v1 as tf  # noqa: E402
from _progress import Progress  # noqa: E402

FEATURES = 8
W_TRUE = np.linspace(-1.0, 1.0, FEATURES).astype(np.float32)


def build(batch_size=32):
    tf.set_random_seed(0)
    x = tf.random_normal([batch_size, FEATURES])
    y = tf.squeeze(tf.matmul(x, W_TRUE[:, None]), 1) + 0.5 + tf.random_normal([batch_size],
                                                                               stddev=0.01)
    queue = tf.FIFOQueue(capacity=50, dtypes=[tf.float32, tf.float32],
                         shapes=[[FEATURES], []], name="examples")
    enqueue = queue.enqueue_many([x, y])
    tf.train.add_queue_runner(tf.train.QueueRunner(queue, [enqueue] * 2))   # 2 input threads
    xb, yb = queue.dequeue_many(batch_size)
    w = tf.Variable(tf.zeros([FEATURES]), name="w")
    b = tf.Variable(0.0, name="b")
    prediction = tf.reduce_sum(xb * w, axis=1) + b
    loss = tf.reduce_mean(tf.square(prediction - yb))
    global_step = tf.train.get_or_create_global_step()
    train_op = tf.train.GradientDescentOptimizer(0.05).minimize(loss, global_step=global_step)
    return train_op, loss, global_step, w, b, queue


def main(num_threads=4, steps=2000):
    tf.reset_default_graph()
    train_op, loss, global_step, w, b, queue = build()
    progress = Progress()
    steps_per_thread, last_loss = {}, {}
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        coord = tf.train.Coordinator()
        input_threads = tf.train.start_queue_runners(sess=sess, coord=coord)

        def trainer(k):
            n = 0
            try:
                while not coord.should_stop():
                    _, step, last_loss[k] = sess.run([train_op, global_step, loss])
                    n += 1
                    if step >= steps:
                        coord.request_stop()
                    elif k == 0:
                        progress.update("step %d, batch queue %d/50" % (step, sess.run(
                            queue.size())))
            except Exception as e:          # report to the coordinator, which re-raises
                coord.request_stop(e)
            finally:
                steps_per_thread[k] = n

        start = time.perf_counter()
        trainers = [threading.Thread(target=trainer, args=(k,), name="trainer-%d" % k)
                    for k in range(num_threads)]
        for t in trainers:
            t.start()
        try:
            coord.join(trainers + input_threads)
        finally:
            coord.request_stop()
        elapsed = time.perf_counter() - start
        progress.done()
        total, w_value, b_value = sess.run([global_step, w, b])   # the queue is closed now
        final = np.mean(list(last_loss.values()))
    print("%d threads ran %d steps in %.2f s (%.0f steps/s); steps per thread: %s"
          % (num_threads, total, elapsed, total / elapsed,
             [steps_per_thread[k] for k in sorted(steps_per_thread)]))
    print("loss %.5f; learned w %s (true %s), b %.3f (true 0.5)"
          % (final, np.round(w_value.astype(np.float64), 2).tolist(),
             np.round(W_TRUE.astype(np.float64), 2).tolist(), b_value))
    return total, w_value, b_value, sum(steps_per_thread.values())


if __name__ == "__main__":
    main()
