"""Per-run overhead of Session.run: runs/s on tiny graphs, flowcore vs TF1.

    python benchmarks/session_overhead.py

Jobs: `a + b` on scalar constants; a chain of 10 element-wise ops on a
scalar; a placeholder fed per run.  With TensorFlow importable, the same
graphs run in `tensorflow.compat.v1` in this process and the ratio is
printed (ratio > 1: flowcore is faster).
"""
from _common import rate, report, tensorflow_v1

import numpy as np


def jobs(tf):
    g = tf.Graph()
    with g.as_default():
        a = tf.constant(2.0)
        b = tf.constant(3.0)
        add = a + b
        x = add
        for i in range(10):
            x = x * 1.0001 if i % 2 else x + 1.0
        p = tf.placeholder(tf.float32, [])
        fed = p * 2.0
    sess = tf.Session(graph=g)
    one = np.float32(1.0)
    return sess, [("a + b (scalars)", lambda: sess.run(add)),
                  ("10-op chain", lambda: sess.run(x)),
                  ("placeholder feed, p * 2", lambda: sess.run(fed, {p: one}))]


def main():
    import flowcore.compat.v1 as fc
    ours_sess, ours = jobs(fc)
    tftf = tensorflow_v1()
    theirs = jobs(tftf)[1] if tftf is not None else [(n, None) for n, _ in ours]
    for (name, f_ours), (_, f_tf) in zip(ours, theirs):
        report(name, "runs/s", rate(f_ours), rate(f_tf) if f_tf else None)
    ours_sess.close()


if __name__ == "__main__":
    main()
