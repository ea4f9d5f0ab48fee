"""RandomShuffleQueue's slot storage: the seeded order of a plain list
model, private values, released strings, growth past a first allocation."""
import sys

import numpy as np
import pytest

import flowcore.compat.v1 as tf
from pipeline import queues


class _Model:
    """The order the queue promises, on a Python list: a dequeue_many of k
    draws k distinct positions (`choice`, or a permutation of all), the
    elements after the kept ones fill the holes in order; a dequeue draws
    one position and moves the last element there."""

    def __init__(self, seed, seed2):
        self.rng = np.random.default_rng([seed, seed2])
        self.items = []

    def put(self, xs):
        self.items.extend(xs)

    def take(self, k):
        n = len(self.items)
        idx = self.rng.choice(n, k, replace=False) if k < n else self.rng.permutation(n)
        out = [self.items[i] for i in idx]
        keep = n - k
        taken = set(idx.tolist())
        movers = [self.items[j] for j in range(keep, n) if j not in taken]
        holes = [i for i in idx.tolist() if i < keep]       # in the order drawn
        for h, m in zip(holes, movers):
            self.items[h] = m
        del self.items[keep:]
        return out

    def take1(self):
        last = len(self.items) - 1
        i = int(self.rng.integers(last + 1))
        self.items[i], self.items[last] = self.items[last], self.items[i]
        return self.items.pop()


def _queue(capacity=200, min_after=0, seed=7):
    q = tf.RandomShuffleQueue(capacity, min_after, [tf.int64, tf.string, tf.float32],
                              shapes=[[], [], [2]], seed=seed)
    a = q.queue_ref.op.attrs
    return q, _Model(a["seed"], a["seed2"])


def _ops(q):
    x = tf.placeholder(tf.int64, [None])
    s = tf.placeholder(tf.string, [None])
    f = tf.placeholder(tf.float32, [None, 2])
    x1 = tf.placeholder(tf.int64, [])
    s1 = tf.placeholder(tf.string, [])
    one = q.enqueue([x1, s1, tf.fill([2], tf.cast(x1, tf.float32))])
    return (x, s, f, (x1, s1), q.enqueue_many([x, s, f]), one, q.dequeue_many(13),
            q.dequeue())


def _feed(x, s, f, ids):
    ids = np.asarray(ids, dtype=np.int64)
    return {x: ids, s: [b"%d" % i for i in ids], f: np.stack([ids, ids], 1).astype(np.float32)}


@pytest.mark.parametrize("prealloc", [None, 1 << 10])
def test_order_matches_the_list_model(prealloc, monkeypatch):
    if prealloc is not None:     # small first allocations: the slots grow by copying
        monkeypatch.setattr(queues._RandomShuffleQueue, "_PREALLOC_BYTES", prealloc)
    g = tf.Graph()
    with g.as_default():
        q, model = _queue()
        x, s, f, x1, em, e1, dm, d1 = _ops(q)
        script = "MM1DdMMDD11dDMDdMMMDDDdd" * 3
        nxt = 0
        with tf.Session() as sess:
            for c in script:
                if c == "M":
                    ids = list(range(nxt, nxt + 17))
                    nxt += 17
                    sess.run(em, _feed(x, s, f, ids))
                    model.put(ids)
                elif c == "1":
                    sess.run(e1, {x1[0]: nxt, x1[1]: b"%d" % nxt})
                    model.put([nxt])
                    nxt += 1
                elif c == "D":
                    a, b, v = sess.run(dm)
                    want = model.take(13)
                    assert a.tolist() == want
                    assert b.tolist() == [b"%d" % i for i in want]
                    np.testing.assert_array_equal(v, np.float32([[i, i] for i in want]))
                else:
                    a, b, v = sess.run(d1)
                    want = model.take1()
                    assert (int(a), b) == (want, b"%d" % want)
                    np.testing.assert_array_equal(v, [want, want])


def test_values_are_private_and_strings_released():
    g = tf.Graph()
    with g.as_default():
        q, _ = _queue()
        x, s, f, x1, em, e1, dm, d1 = _ops(q)
        token = b"unique-token-" + bytes(range(50))
        before = sys.getrefcount(token)
        feed = _feed(x, s, f, range(13))
        feed[s] = np.array([token] * 13, dtype=object)
        with tf.Session() as sess:
            sess.run(em, feed)
            feed[x][:] = -1          # the queue copied what it keeps
            feed[f][:] = -1
            del feed
            assert sys.getrefcount(token) == before + 13
            a, b, v = sess.run(dm)
            assert sorted(a.tolist()) == list(range(13)) and (v >= 0).all()
            a[:] = 99                # and what it gives out
            del b
            assert sys.getrefcount(token) == before     # the slots let go of it
            sess.run(em, _feed(x, s, f, range(100, 113)))
            a2, _, _ = sess.run(dm)
            assert sorted(a2.tolist()) == list(range(100, 113))
