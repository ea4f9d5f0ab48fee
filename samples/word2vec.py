"""Skip-gram word2vec on the Book of Genesis, structured as in the "manage
experiments" lecture: name_scope blocks for data / embed / loss / optimizer /
summaries, variable_scope + get_variable, a non-trainable global_step,
GradientDescentOptimizer.minimize(loss, global_step=...), NCE loss, batches
from a Python generator fed through a queue by a py_func enqueue op that a
QueueRunner runs, a checkpoint every SKIP_STEP steps with resume, loss
summaries for TensorBoard, and the nearest neighbours of a few words.

Run: python samples/word2vec.py [--steps N] [--logdir DIR] [--feed placeholders]
     tensorboard --logdir runs/word2vec        # to watch it (optional)

Running it again resumes from the last checkpoint in --logdir.
"""
import argparse
import collections
import os
import re
import sys
import threading
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import flowcore.compat.v1 as tf  # noqa: E402
from _progress import Progress  # noqa: E402

TEXT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "genesis.txt")
VOCAB_SIZE = 2000
BATCH_SIZE = 128
EMBED_SIZE = 64
SKIP_WINDOW = 2
NUM_SAMPLED = 32
LEARNING_RATE = 0.5
SKIP_STEP = 500
PROBES = ["god", "son", "land", "water", "day"]


def read_words(path=TEXT):
    with open(path) as f:
        return re.findall(r"[a-z]+", f.read().lower())


def build_vocab(words, vocab_size=VOCAB_SIZE):
    """Word -> index for the most common words; everything else is UNK (0)."""
    vocab = ["UNK"] + [w for w, _ in collections.Counter(words).most_common(vocab_size - 1)]
    index = {w: i for i, w in enumerate(vocab)}
    return vocab, np.array([index.get(w, 0) for w in words], dtype=np.int32)


def batch_generator(ids, batch_size=BATCH_SIZE, window=SKIP_WINDOW, seed=0):
    """Endless (centers [batch], targets [batch, 1]) skip-gram pairs, each
    center paired with words up to a random distance `window` away."""
    rng = np.random.RandomState(seed)
    n = len(ids)
    while True:
        centers = rng.randint(window, n - window, size=batch_size)
        offsets = rng.randint(1, window + 1, size=batch_size) * rng.choice([-1, 1], batch_size)
        yield ids[centers], ids[centers + offsets].reshape(batch_size, 1)


class SkipGramModel:
    """Builds the graph in the lecture's order, one name scope per part."""

    def __init__(self, vocab_size, embed_size, batch_size, num_sampled, learning_rate):
        self.vocab_size, self.embed_size = vocab_size, embed_size
        self.batch_size, self.num_sampled, self.lr = batch_size, num_sampled, learning_rate
        self.global_step = tf.Variable(0, dtype=tf.int32, trainable=False, name="global_step")

    def create_inputs(self, feed, generator):
        with tf.name_scope("data"):
            if feed == "placeholders":
                self.center_words = tf.placeholder(tf.int32, [self.batch_size], name="center")
                self.target_words = tf.placeholder(tf.int32, [self.batch_size, 1],
                                                   name="target")
                return
            lock = threading.Lock()

            def next_batch():           # a py_func runs in the QueueRunner's thread
                with lock:
                    return next(generator)

            centers, targets = tf.py_func(next_batch, [], [tf.int32, tf.int32],
                                          name="next_batch")
            queue = tf.FIFOQueue(capacity=8, dtypes=[tf.int32, tf.int32],
                                 shapes=[[self.batch_size], [self.batch_size, 1]],
                                 name="batches")
            enqueue = queue.enqueue([centers, targets])
            tf.train.add_queue_runner(tf.train.QueueRunner(queue, [enqueue]))
            self.center_words, self.target_words = queue.dequeue()

    def create_embedding(self):
        with tf.name_scope("embed"), tf.variable_scope("embed"):
            self.embed_matrix = tf.get_variable(
                "embed_matrix", [self.vocab_size, self.embed_size],
                initializer=tf.random_uniform_initializer(-1.0, 1.0, seed=1))

    def create_loss(self):
        with tf.name_scope("loss"):
            embed = tf.nn.embedding_lookup(self.embed_matrix, self.center_words, name="embed")
            with tf.variable_scope("nce"):
                nce_weight = tf.get_variable(
                    "weight", [self.vocab_size, self.embed_size],
                    initializer=tf.truncated_normal_initializer(
                        stddev=1.0 / self.embed_size ** 0.5, seed=2))
                nce_bias = tf.get_variable("bias", [self.vocab_size],
                                           initializer=tf.zeros_initializer())
            self.loss = tf.reduce_mean(tf.nn.nce_loss(
                weights=nce_weight, biases=nce_bias, labels=self.target_words, inputs=embed,
                num_sampled=self.num_sampled, num_classes=self.vocab_size,
                remove_accidental_hits=True), name="loss")

    def create_optimizer(self):
        with tf.name_scope("optimizer"):
            self.optimizer = tf.train.GradientDescentOptimizer(self.lr).minimize(
                self.loss, global_step=self.global_step)

    def create_summaries(self):
        with tf.name_scope("summaries"):
            tf.summary.scalar("loss", self.loss)
            tf.summary.histogram("histogram_loss", self.loss)
            self.summary_op = tf.summary.merge_all()

    def build(self, feed, generator):
        self.create_inputs(feed, generator)
        self.create_embedding()
        self.create_loss()
        self.create_optimizer()
        self.create_summaries()


def nearest(embeddings, vocab, words, k=5):
    """The k nearest words (cosine similarity) to each of `words`."""
    normed = embeddings / np.linalg.norm(embeddings, axis=1, keepdims=True)
    index = {w: i for i, w in enumerate(vocab)}
    out = {}
    for w in words:
        sims = normed @ normed[index[w]]
        out[w] = [vocab[i] for i in np.argsort(-sims)[1:k + 1]]
    return out


def train(steps, logdir, feed="queue"):
    words = read_words()
    vocab, ids = build_vocab(words)
    generator = batch_generator(ids)
    tf.reset_default_graph()
    tf.set_random_seed(0)
    model = SkipGramModel(VOCAB_SIZE, EMBED_SIZE, BATCH_SIZE, NUM_SAMPLED, LEARNING_RATE)
    model.build(feed, generator)
    saver = tf.train.Saver()
    checkpoints = os.path.join(logdir, "checkpoints")
    os.makedirs(checkpoints, exist_ok=True)
    progress = Progress()
    print("%d words, vocabulary %d, training to step %d" % (len(words), VOCAB_SIZE, steps))
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        ckpt = tf.train.get_checkpoint_state(checkpoints)
        if ckpt and ckpt.model_checkpoint_path:
            saver.restore(sess, ckpt.model_checkpoint_path)
            print("resumed from %s" % os.path.basename(ckpt.model_checkpoint_path))
        writer = tf.summary.FileWriter(os.path.join(logdir, "lr%g" % LEARNING_RATE), sess.graph)
        coord = tf.train.Coordinator()
        threads = tf.train.start_queue_runners(sess=sess, coord=coord)
        initial_step = int(sess.run(model.global_step))
        total, start = 0.0, time.perf_counter()
        fetches = [model.loss, model.optimizer, model.summary_op]
        try:
            for index in range(initial_step, steps):
                feed_dict = None
                if feed == "placeholders":
                    centers, targets = next(generator)
                    feed_dict = {model.center_words: centers, model.target_words: targets}
                loss, _, summary = sess.run(fetches, feed_dict)
                writer.add_summary(summary, global_step=index)
                total += loss
                progress.update("step %d, loss %.2f" % (index + 1, loss))
                if (index + 1) % SKIP_STEP == 0:
                    progress.done()
                    print("average loss at step %5d: %6.2f  (%.0f steps/s)" % (
                        index + 1, total / SKIP_STEP,
                        SKIP_STEP / (time.perf_counter() - start)))
                    total, start = 0.0, time.perf_counter()
                    saver.save(sess, os.path.join(checkpoints, "skip-gram"), index + 1)
        finally:
            coord.request_stop()
            coord.join(threads)
            writer.close()
        embeddings = sess.run(model.embed_matrix)
    progress.done()
    for w, near in nearest(embeddings, vocab, PROBES).items():
        print("nearest to %-6s %s" % (w + ":", ", ".join(near)))
    return embeddings


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=5000)
    parser.add_argument("--logdir", default=os.path.join("runs", "word2vec"))
    parser.add_argument("--feed", choices=["queue", "placeholders"], default="queue")
    args = parser.parse_args(argv)
    train(args.steps, args.logdir, args.feed)


if __name__ == "__main__":
    main()
