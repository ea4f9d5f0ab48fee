"""Train y = 3x + 2 with placeholders and feed_dict, printing the loss as it falls.

Run: python samples/linear_placeholders.py
"""
import numpy as np

import flowcore.compat.v1 as tf


def main(steps=200, seed=0):
    rng = np.random.RandomState(seed)
    xs = rng.uniform(-1, 1, size=256).astype(np.float32)
    ys = 3.0 * xs + 2.0 + rng.normal(0, 0.05, size=256).astype(np.float32)

    tf.reset_default_graph()
    x = tf.placeholder(tf.float32, shape=[], name="x")
    y = tf.placeholder(tf.float32, shape=[], name="y")
    w = tf.Variable(0.0, name="w")
    b = tf.Variable(0.0, name="b")
    err = w * x + b - y
    loss = err * err
    lr = 0.05
    train = tf.group(tf.assign_sub(w, lr * 2.0 * err * x), tf.assign_sub(b, lr * 2.0 * err))

    losses = []
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for step in range(steps):
            i = step % len(xs)
            l, _ = sess.run([loss, train], feed_dict={x: xs[i], y: ys[i]})
            losses.append(float(l))
            if step % 40 == 0 or step == steps - 1:
                window = losses[-40:]
                print("step %4d  loss %.5f" % (step, sum(window) / len(window)))
        print("w = %.3f, b = %.3f (true 3, 2)" % tuple(sess.run([w, b])))
    return losses


if __name__ == "__main__":
    main()
