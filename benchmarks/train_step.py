"""Training-step throughput: a 784-128-10 ReLU MLP, softmax cross-entropy,
batch 100, GradientDescent(0.1), fed from numpy by placeholders.

    python benchmarks/train_step.py [--seconds 5] [--profile] [--blas-threads N]

Synthetic MNIST-sized data (10,000 images of 784 floats in [0, 1], ten
classes) and the initial weights come from numpy, so both frameworks train
the same model on the same batches.  With TensorFlow importable, the same
graph runs in `tensorflow.compat.v1` in this process and the ratio is printed
(ratio > 1: flowcore is faster); the two alternate in short rounds and the
best round of each counts, so a busy machine disturbs both alike.  Both
losses after 300 steps are printed too: they agree, a check that both
train the same model.  `--profile` prints where a flowcore step spends its
time: cProfile by own time, then each kernel of the compiled plan.

Two matmuls (x @ w1 and its gradient x^T @ d, 10M multiply-adds each) are
most of a flowcore step; numpy runs them in OpenBLAS, whose two threads
help on an idle machine and hurt badly when another process holds a core.
`--blas-threads N` sets OPENBLAS_NUM_THREADS for this run (numpy only;
TensorFlow keeps its own thread pools).
"""
import argparse
import cProfile
import io
import os
import pstats
import sys

if "--blas-threads" in sys.argv:     # must be set before numpy loads OpenBLAS
    os.environ["OPENBLAS_NUM_THREADS"] = sys.argv[sys.argv.index("--blas-threads") + 1]

import numpy as np  # noqa: E402
from _common import rate, report, tensorflow_v1  # noqa: E402

BATCH = 100
N = 10000


def make_data(seed=0):
    rng = np.random.RandomState(seed)
    images = rng.uniform(0, 1, (N, 784)).astype(np.float32)
    labels = np.eye(10, dtype=np.float32)[rng.randint(0, 10, N)]
    init = [(rng.normal(0, 0.05, (784, 128))).astype(np.float32), np.zeros(128, np.float32),
            (rng.normal(0, 0.05, (128, 10))).astype(np.float32), np.zeros(10, np.float32)]
    return images, labels, init


def build(tf, init):
    """The model in `tf`'s namespace: (session, step function, loss, feed function)."""
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [None, 784], name="x")
        y = tf.placeholder(tf.float32, [None, 10], name="y")
        w1, b1, w2, b2 = [tf.Variable(v, name=n) for v, n in zip(init, ["w1", "b1", "w2", "b2"])]
        hidden = tf.nn.relu(tf.matmul(x, w1) + b1)
        logits = tf.matmul(hidden, w2) + b2
        loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits_v2(labels=y,
                                                                         logits=logits))
        train = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
        init_op = tf.global_variables_initializer()
    sess = tf.Session(graph=g)
    sess.run(init_op)
    return sess, train, loss, x, y


def stepper(tf, images, labels, init):
    sess, train, loss, x, y = build(tf, init)
    state = {"i": 0}

    def step():
        i = state["i"]
        state["i"] = (i + BATCH) % N
        sess.run(train, {x: images[i:i + BATCH], y: labels[i:i + BATCH]})
    return sess, step, (loss, x, y)


def check_learns(tf, images, labels, init, steps=300):
    """The loss on the first batch after `steps` steps (sanity: both learn)."""
    sess, step, (loss, x, y) = stepper(tf, images, labels, init)
    before = sess.run(loss, {x: images[:BATCH], y: labels[:BATCH]})
    for _ in range(steps):
        step()
    after = sess.run(loss, {x: images[:BATCH], y: labels[:BATCH]})
    sess.close()
    return float(before), float(after)


def profile(fc, images, labels, init, steps=1000, top=25):
    """cProfile of `steps` steps, then each plan step's own time (kernels
    timed one by one, engine loop outside them)."""
    import collections
    import time
    sess, train, _, x, y = build(fc, init)
    feed = {x: images[:BATCH], y: labels[:BATCH]}
    sess.run(train, feed)
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(steps):
        sess.run(train, feed)
    prof.disable()
    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(top)
    print(out.getvalue())
    plan = sess._plan(train, feed)
    ctx, acc = sess._ctx, collections.defaultdict(float)
    t_all = time.perf_counter()
    for _ in range(steps):
        vals = plan.template[:]
        for writers, value in zip(plan.feeds, feed.values()):
            writers[0](vals, value)
        for kernel, op, ins, out_slot, outs in plan.steps:
            t0 = time.perf_counter()
            r = kernel(ctx, op, *[vals[i] for i in ins])
            acc[(op.type, op.name)] += time.perf_counter() - t0
            if out_slot >= 0:
                vals[out_slot] = r
            else:
                for s, v in zip(outs, r):
                    vals[s] = v
    t_all = (time.perf_counter() - t_all) / steps * 1e6
    t0 = time.perf_counter()
    for _ in range(steps):
        sess.run(train, feed)
    plain = (time.perf_counter() - t0) / steps * 1e6
    kernels = sum(acc.values()) / steps * 1e6
    print("plan: %d steps; sess.run %.0f us/step; kernels %.0f us; engine loop (timed "
          "replica) %.0f us" % (len(plan.steps), plain, kernels, t_all - kernels))
    for (typ, name), t in sorted(acc.items(), key=lambda kv: -kv[1]):
        print("%8.1f us  %-30s %s" % (t / steps * 1e6, typ, name))
    sess.close()


def measure(fc, tftf, images, labels, init, seconds, rounds=5):
    """Best steps/s of each framework over `rounds` alternating rounds (a
    busy machine slows both alike; the best round is the least disturbed)."""
    ours_sess, ours, _ = stepper(fc, images, labels, init)
    theirs_sess, theirs = None, None
    if tftf is not None:
        theirs_sess, theirs, _ = stepper(tftf, images, labels, init)
    best_ours, best_theirs = 0.0, None
    for _ in range(rounds):
        best_ours = max(best_ours, rate(ours, min_time=seconds / rounds))
        if theirs is not None:
            best_theirs = max(best_theirs or 0.0, rate(theirs, min_time=seconds / rounds))
    ours_sess.close()
    if theirs_sess is not None:
        theirs_sess.close()
    return best_ours, best_theirs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--blas-threads", type=int, default=None,
                    help="OpenBLAS threads for numpy (default: OpenBLAS's own choice)")
    args = ap.parse_args()
    import flowcore.compat.v1 as fc
    images, labels, init = make_data()
    if args.profile:
        profile(fc, images, labels, init)
        return
    tftf = tensorflow_v1()
    ours, theirs = measure(fc, tftf, images, labels, init, args.seconds)
    report("MLP 784-128-10 train step, b=100", "steps/s", ours, theirs)
    b, a = check_learns(fc, images, labels, init)
    print("flowcore   loss on batch 0: %.4f -> %.4f after 300 steps" % (b, a))
    if tftf is not None:
        b, a = check_learns(tftf, images, labels, init)
        print("tensorflow loss on batch 0: %.4f -> %.4f after 300 steps" % (b, a))


if __name__ == "__main__":
    main()
