"""The benchmark jobs, each written once against a `tf` namespace that is either
`flowcore.compat.v1` or `tensorflow.compat.v1` (graph mode).

A job is a function `fn(tf, plan) -> (count, seconds)`: it builds a fresh
graph and session, runs the workload once and returns how many records
(steps, elements, runs) it processed and the wall time that took.  What is
timed: for queue pipelines, from `start_queue_runners` until the consumer's
`sess.run` raises `OutOfRangeError` (filling the queues is part of the cost);
for loops of `sess.run`, the loop after one untimed warm-up run.  Graph
construction, variable initialisation and joining the threads are not timed.

Every batching call uses the same settings (issue 6's `end_to_end` figures):
`capacity=10000, num_threads=2`, plus `min_after_dequeue=5000` for
`shuffle_batch`; filename queues are `string_input_producer(files,
num_epochs=E, shuffle=False)`.  Each job checks the number of records it got
(whole batches of what the files hold times the epochs), so a pipeline that
drops or duplicates records fails instead of looking fast; the TFRecord
per-record and MLP-from-TFRecords jobs also check *which* records they got
(`Ledger`: every record of the files `epochs` times, with its own label,
but for the tail of less than one batch that stays in the batch queue).

Rows with `processes=N` (flowcore's extension of `batch`/`shuffle_batch`:
reader and decoder in N worker processes) run under flowcore only
(`Job.frameworks`); their `reference` is the threaded row whose TensorFlow
figure they are compared with, and their `verify` runs once, untimed, after
the timed runs: the same pipeline threaded and in processes, same files and
seed, must deliver the same multiset of records (every record exactly once
per epoch).

`JOBS` lists them with the figures of issue 8's table: TensorFlow 1.x's
figure measured there (informative; the ratio measured in the same run is
what counts) and the target ratio flowcore / TensorFlow.
"""
import functools
import time

import numpy as np

from benchmarks import data as bdata

BATCH = 128
CAPACITY = 10000
MIN_AFTER = 5000
THREADS = 2
MLP_BATCH = 100
MLP_EXAMPLES = 10000
FRAMEWORKS = ("flowcore", "tensorflow")


class Job:
    """One row: `kind` is the dataset ("tfrecord", "csv", "fixed") or None;
    pipeline jobs read `records` records per epoch for `epochs` epochs, loop
    jobs run `steps` iterations (over `records` examples, for mlp_feed).

    `frameworks`: where the job can run (flowcore-only rows use flowcore's
    `processes=`); `reference`: for such a row, the row whose TensorFlow
    figure its ratio is taken against; `processes`: its worker processes
    (peak RSS counts them); `verify(tf, plan) -> str`: an untimed check run
    once after the timed runs, failing the row with an AssertionError."""

    def __init__(self, name, title, unit, fn, issue_tf=None, target=None, kind=None,
                 records=0, epochs=1, steps=0, table=True, frameworks=FRAMEWORKS,
                 reference=None, processes=0, verify=None):
        self.name, self.title, self.unit, self.fn = name, title, unit, fn
        self.issue_tf, self.target, self.kind = issue_tf, target, kind
        self.records, self.epochs, self.steps, self.table = records, epochs, steps, table
        self.frameworks, self.reference = tuple(frameworks), reference
        self.processes, self.verify = processes, verify

    def plan(self, scale, data_dir=bdata.DEFAULT_DIR, make=True, data_scale=None):
        """The sizes (and, with `make`, the data files) of one run at `scale`.

        `scale` multiplies the records read (or steps run).  The dataset keeps
        its size for scale >= 1 (more epochs over the same files) and shrinks
        for scale < 1 (quick smoke runs); `data_scale` pins the dataset's size
        to that of another scale, so `--memory-check` compares 1x and 10x the
        records through the very same files and arrays."""
        ds = min(scale if data_scale is None else data_scale, 1.0)
        p = {"scale": scale, "records": 0, "epochs": 0, "steps": 0, "files": []}
        if self.records:
            p["records"] = max(1, int(round(self.records * ds)))
            p["epochs"] = max(1, int(round(self.epochs * scale / ds)))
        if self.steps:
            p["steps"] = max(1, int(round(self.steps * scale)))
        if self.kind:
            p["files"] = (bdata.make if make else bdata.paths)(self.kind, p["records"],
                                                                data_dir)
        return p


# -- helpers --------------------------------------------------------------------------

def _session(tf):
    g = tf.Graph()
    return g, tf.Session(graph=g)


def _filenames(tf, plan):
    return tf.train.string_input_producer(plan["files"], num_epochs=plan["epochs"],
                                          shuffle=False)


def _init(tf, sess):
    sess.run([tf.global_variables_initializer(), tf.local_variables_initializer()])


def _drain(tf, sess, fetch, per_run, check=None, each=None):
    """Start the queue runners and `sess.run(fetch)` until OutOfRangeError.
    Returns (items, seconds); `per_run(value)` counts the items of one run,
    `check(value)` looks at the first run's, `each(value)` at every run's."""
    coord = tf.train.Coordinator()
    t0 = time.perf_counter()
    threads = tf.train.start_queue_runners(sess=sess, coord=coord)
    n = 0
    try:
        while True:
            v = sess.run(fetch)
            if check is not None and n == 0:
                check(v)
            if each is not None:
                each(v)
            n += per_run(v)
    except tf.errors.OutOfRangeError:
        pass
    seconds = time.perf_counter() - t0
    coord.request_stop()
    coord.join(threads, stop_grace_period_secs=30)
    return n, seconds


def _expect(got, plan, batch):
    total = plan["records"] * plan["epochs"]
    want = total // batch * batch
    if got != want:
        raise AssertionError("got %d records, expected %d (%d records x %d epochs in "
                             "whole batches of %d)" % (got, want, plan["records"],
                                                       plan["epochs"], batch))


@functools.lru_cache(maxsize=2)
def _contents(records):
    return bdata.tfrecord_contents(records)


class Ledger:
    """Which records of the TFRecord dataset a pipeline delivered, counted
    per record.  A record is known by 8 bytes of its content, unique in the
    benchmark's data: its first two `weights` (`add_weights`) or its first 8
    image bytes (`add_images`, from the MLP's image/255 floats); its label
    must be the one the files hold.  Costs a few microseconds per batch."""

    def __init__(self, plan):
        image8, self._labels, weights = _contents(plan["records"])
        self._index = {}
        for kind, raw in (("weights", weights[:, :2]), ("image", image8)):
            keys = np.ascontiguousarray(raw).view("<u8").ravel()
            order = np.argsort(keys, kind="stable")
            self._index[kind] = (keys[order], order)
        self.counts = np.zeros(len(self._labels), np.int64)
        self.epochs = plan["epochs"]

    def _add(self, kind, keys, labels):
        sorted_keys, order = self._index[kind]
        pos = np.minimum(np.searchsorted(sorted_keys, keys), len(sorted_keys) - 1)
        if not np.array_equal(sorted_keys[pos], keys):
            raise AssertionError("a batch holds a record that is not in the files (by its %s)"
                                 % kind)
        ids = order[pos]
        if not np.array_equal(self._labels[ids], labels):
            raise AssertionError("a batch pairs records with labels that are not theirs")
        np.add.at(self.counts, ids, 1)

    def add_weights(self, weights, labels):
        """A batch of `weights` [n, 10] float32 and int64 `labels` [n]."""
        self._add("weights", np.ascontiguousarray(weights[:, :2], "<f4").view("<u8").ravel(),
                  np.asarray(labels))

    def add_images(self, image8, one_hot):
        """A batch's first 8 pixels as image/255 floats [n, 8] and one-hot labels [n, 10]."""
        pixels = np.rint(np.asarray(image8, np.float64) * 255).astype(np.uint8)
        self._add("image", np.ascontiguousarray(pixels).view("<u8").ravel(),
                  np.argmax(one_hot, axis=1))

    def verify(self, tail):
        """Every record came `epochs` times, but for `tail` records in all
        (those a batch of whole batches left in its queue)."""
        over = np.flatnonzero(self.counts > self.epochs)
        if over.size:
            raise AssertionError("record %d came %d times in %d epochs (%d records "
                                 "duplicated)" % (over[0], self.counts[over[0]], self.epochs,
                                                  over.size))
        missing = int((self.epochs - self.counts).sum())
        if missing != tail:
            raise AssertionError("%d record deliveries missing, expected %d (the tail left "
                                 "in the queue)" % (missing, tail))


def _tail(plan, batch):
    total = plan["records"] * plan["epochs"]
    return total - total // batch * batch


def _shapes(*want):
    """A check that the first fetched batch has these shapes (None: any)."""
    def check(values):
        got = [tuple(np.shape(v)) for v in values]
        for g, w in zip(got, want):
            if w is not None and g != w:
                raise AssertionError("batch shapes %s, expected %s" % (got, list(want)))
    return check


def _count0(values):
    return len(values[0])


def _features(tf):
    return {"image": tf.FixedLenFeature([], tf.string),
            "label": tf.FixedLenFeature([], tf.int64),
            "weights": tf.FixedLenFeature([10], tf.float32)}


def _csv_defaults():
    return [[0.0], [0.0], [0.0], [0.0], [""]]


def _shuffle_batch(tf, tensors, batch=BATCH, enqueue_many=False, processes=None,
                   final=False):
    """issue 6's shuffle_batch; `processes=N` (flowcore only) runs `tensors`
    in N worker processes, `final` lets the last batch be short."""
    extra = {"processes": processes} if processes else {}
    if final:
        extra["allow_smaller_final_batch"] = True
    return tf.train.shuffle_batch(tensors, batch_size=batch, capacity=CAPACITY,
                                  min_after_dequeue=MIN_AFTER, num_threads=THREADS,
                                  seed=1, enqueue_many=enqueue_many, **extra)


def _batch(tf, tensors, batch=BATCH, enqueue_many=False):
    return tf.train.batch(tensors, batch_size=batch, capacity=CAPACITY,
                          num_threads=THREADS, enqueue_many=enqueue_many)


def _pipeline(tf, plan, build, batch=BATCH, each=None):
    """Run a reader pipeline: `build(tf, filename_queue)` returns (fetch, check)."""
    g, sess = _session(tf)
    with g.as_default():
        tf.set_random_seed(1)
        fetch, check = build(tf, _filenames(tf, plan))
        _init(tf, sess)
        n, seconds = _drain(tf, sess, fetch, _count0, check, each)
    sess.close()
    _expect(n, plan, batch)
    return n, seconds


# -- reader pipelines -----------------------------------------------------------------

def _tfrecord_example(tf, fq):
    """TFRecordReader.read -> parse_single_example: [image, label, weights]."""
    _, serialized = tf.TFRecordReader().read(fq)
    f = tf.parse_single_example(serialized, _features(tf))
    return [f["image"], f["label"], f["weights"]]


def tfrecord_record(tf, plan, processes=None):
    """TFRecordReader.read -> parse_single_example -> shuffle_batch(128);
    `processes=N`: the reader and parser in N processes (flowcore only)."""
    ledger = Ledger(plan)

    def build(tf, fq):
        out = _shuffle_batch(tf, _tfrecord_example(tf, fq), processes=processes)
        return out, _shapes((BATCH,), (BATCH,), (BATCH, 10))
    n, seconds = _pipeline(tf, plan, build, each=lambda v: ledger.add_weights(v[2], v[1]))
    ledger.verify(_tail(plan, BATCH))
    return n, seconds


def tfrecord_record_p1(tf, plan):
    """tfrecord_record with shuffle_batch(..., processes=1)."""
    return tfrecord_record(tf, plan, processes=1)


def tfrecord_record_p2(tf, plan):
    """tfrecord_record with shuffle_batch(..., processes=2)."""
    return tfrecord_record(tf, plan, processes=2)


def _same_as_threads(tf, plan, inputs, batch, add, processes):
    """The untimed identity check of a `processes` row: `inputs(tf, fq)`
    batched by shuffle_batch (seed 1, allow_smaller_final_batch, so nothing
    stays behind) once with THREADS threads and once in `processes`
    processes; `add(ledger, value)` books a fetched batch.  Both must deliver
    every record of the files exactly once per epoch, so the same multiset."""
    plan = dict(plan, epochs=min(plan["epochs"], 2))
    counts = []
    for procs in (None, processes):
        ledger = Ledger(plan)
        g, sess = _session(tf)
        with g.as_default():
            tf.set_random_seed(1)
            out = _shuffle_batch(tf, inputs(tf, _filenames(tf, plan)), batch=batch,
                                 processes=procs, final=True)
            _init(tf, sess)
            _drain(tf, sess, out, _count0, each=lambda v: add(ledger, v))
        sess.close()
        try:
            ledger.verify(0)
        except AssertionError as e:
            raise AssertionError("%s: %s" % ("processes=%d" % procs if procs
                                             else "%d threads" % THREADS, e))
        counts.append(ledger.counts)
    if not np.array_equal(counts[0], counts[1]):
        raise AssertionError("processes=%d and %d threads delivered different records"
                             % (processes, THREADS))
    return ("same %d records x %d epochs as %d threads (seed 1)"
            % (plan["records"], plan["epochs"], THREADS))


def tfrecord_record_same(tf, plan, processes):
    return _same_as_threads(tf, plan, _tfrecord_example, BATCH,
                            lambda ledger, v: ledger.add_weights(v[2], v[1]), processes)


def tfrecord_batch(tf, plan):
    """TFRecordReader.read_up_to(128) -> parse_example -> shuffle_batch(enqueue_many)."""
    def build(tf, fq):
        _, serialized = tf.TFRecordReader().read_up_to(fq, BATCH)
        f = tf.parse_example(serialized, _features(tf))
        out = _shuffle_batch(tf, [f["image"], f["label"], f["weights"]], enqueue_many=True)
        return out, _shapes((BATCH,), (BATCH,), (BATCH, 10))
    return _pipeline(tf, plan, build)


def csv_record(tf, plan, shuffle=False):
    """TextLineReader.read -> decode_csv -> batch(128) (or shuffle_batch)."""
    def build(tf, fq):
        _, line = tf.TextLineReader().read(fq)
        cols = tf.decode_csv(line, record_defaults=_csv_defaults())
        out = (_shuffle_batch if shuffle else _batch)(tf, cols)
        return out, _shapes(*[(BATCH,)] * 5)
    return _pipeline(tf, plan, build)


def csv_record_shuffle(tf, plan):
    """csv_record ending in issue 6's shuffle_batch instead of batch."""
    return csv_record(tf, plan, shuffle=True)


def csv_batch(tf, plan):
    """TextLineReader.read_up_to(128) -> decode_csv on the vector -> batch(enqueue_many)."""
    def build(tf, fq):
        _, lines = tf.TextLineReader().read_up_to(fq, BATCH)
        cols = tf.decode_csv(lines, record_defaults=_csv_defaults())
        return _batch(tf, cols, enqueue_many=True), _shapes(*[(BATCH,)] * 5)
    return _pipeline(tf, plan, build)


def _cifar_record(tf, raw):
    """cifar10_input.py's decoding: label byte, depth-major image -> [32, 32, 3] float32."""
    label = tf.cast(tf.reshape(tf.strided_slice(raw, [0], [1]), []), tf.int32)
    image = tf.reshape(tf.strided_slice(raw, [1], [3073]), [3, 32, 32])
    return tf.cast(tf.transpose(image, [1, 2, 0]), tf.float32), label


def fixed_record(tf, plan):
    """FixedLengthRecordReader(3073).read -> decode_raw -> [32,32,3] float32 -> shuffle_batch."""
    def build(tf, fq):
        _, value = tf.FixedLengthRecordReader(record_bytes=3073).read(fq)
        image, label = _cifar_record(tf, tf.decode_raw(value, tf.uint8))
        return (_shuffle_batch(tf, [image, label]),
                _shapes((BATCH, 32, 32, 3), (BATCH,)))
    return _pipeline(tf, plan, build)


def fixed_batch(tf, plan):
    """The same with read_up_to(128), decoding the whole block at once."""
    def build(tf, fq):
        _, values = tf.FixedLengthRecordReader(record_bytes=3073).read_up_to(fq, BATCH)
        raw = tf.decode_raw(values, tf.uint8)
        label = tf.cast(raw[:, 0], tf.int32)
        image = tf.reshape(raw[:, 1:], [-1, 3, 32, 32])
        image = tf.cast(tf.transpose(image, [0, 2, 3, 1]), tf.float32)
        return (_shuffle_batch(tf, [image, label], enqueue_many=True),
                _shapes((BATCH, 32, 32, 3), (BATCH,)))
    return _pipeline(tf, plan, build)


# -- the 784-128-10 MLP, fed three ways -----------------------------------------------

def _mlp(tf, x, y):
    """784-128-10 ReLU MLP, softmax cross-entropy, GradientDescent(0.1): the train op."""
    w1 = tf.Variable(tf.truncated_normal([784, 128], stddev=0.05), name="w1")
    b1 = tf.Variable(tf.zeros([128]), name="b1")
    w2 = tf.Variable(tf.truncated_normal([128, 10], stddev=0.05), name="w2")
    b2 = tf.Variable(tf.zeros([10]), name="b2")
    hidden = tf.nn.relu(tf.matmul(x, w1) + b1)
    logits = tf.matmul(hidden, w2) + b2
    loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits_v2(labels=y, logits=logits))
    return tf.train.GradientDescentOptimizer(0.1).minimize(loss), loss



def _check_loss(loss_value):
    if not np.isfinite(loss_value):
        raise AssertionError("MLP loss is %r after training" % (loss_value,))


def mlp_feed(tf, plan):
    """One step per sess.run, batches of 100 fed from numpy through placeholders."""
    xs, ys = bdata.mlp_arrays(max(MLP_BATCH, plan["records"]))
    batches = [(xs[i:i + MLP_BATCH], ys[i:i + MLP_BATCH])
               for i in range(0, len(xs) - MLP_BATCH + 1, MLP_BATCH)]
    g, sess = _session(tf)
    with g.as_default():
        tf.set_random_seed(1)
        x = tf.placeholder(tf.float32, [None, 784])
        y = tf.placeholder(tf.float32, [None, 10])
        train, loss = _mlp(tf, x, y)
        _init(tf, sess)
        sess.run(train, {x: batches[0][0], y: batches[0][1]})     # warm-up
        steps, nb = plan["steps"], len(batches)
        t0 = time.perf_counter()
        for i in range(steps):
            bx, by = batches[i % nb]
            sess.run(train, {x: bx, y: by})
        seconds = time.perf_counter() - t0
        _check_loss(sess.run(loss, {x: batches[0][0], y: batches[0][1]}))
    sess.close()
    return steps, seconds


def mlp_preload(tf, plan):
    """The dataset in non-trainable variables (collections=[]) initialised from a
    placeholder, sliced by slice_input_producer and batched by batch(100)."""
    xs, ys = bdata.mlp_arrays(plan["records"])
    g, sess = _session(tf)
    with g.as_default():
        tf.set_random_seed(1)
        x_init = tf.placeholder(tf.float32, xs.shape)
        y_init = tf.placeholder(tf.float32, ys.shape)
        x_var = tf.Variable(x_init, trainable=False, collections=[])
        y_var = tf.Variable(y_init, trainable=False, collections=[])
        x1, y1 = tf.train.slice_input_producer([x_var, y_var], num_epochs=plan["epochs"],
                                               seed=1)
        bx, by = _batch(tf, [x1, y1], batch=MLP_BATCH)
        train, loss = _mlp(tf, bx, by)
        sess.run([x_var.initializer, y_var.initializer], {x_init: xs, y_init: ys})
        _init(tf, sess)
        steps, seconds = _drain(tf, sess, [train, loss], lambda v: 1,
                                lambda v: _check_loss(v[1]))
    sess.close()
    _expect(steps * MLP_BATCH, plan, MLP_BATCH)
    return steps, seconds


def _mlp_example(tf, fq):
    """read -> parse_single_example -> decode_raw -> [image/255, one_hot(label)]."""
    _, serialized = tf.TFRecordReader().read(fq)
    f = tf.parse_single_example(serialized, _features(tf))
    image = tf.cast(tf.decode_raw(f["image"], tf.uint8), tf.float32) * (1.0 / 255)
    return [tf.reshape(image, [784]), tf.one_hot(f["label"], 10)]


def mlp_queue(tf, plan, processes=None):
    """Examples from the TFRecord files: read -> parse_single_example -> decode_raw ->
    image/255 and one_hot(label) -> shuffle_batch(100) -> one train step per run;
    `processes=N`: everything before shuffle_batch in N processes (flowcore only).
    Each run also fetches the batch's labels and first 8 pixels for the Ledger."""
    ledger = Ledger(plan)
    g, sess = _session(tf)
    with g.as_default():
        tf.set_random_seed(1)
        bx, by = _shuffle_batch(tf, _mlp_example(tf, _filenames(tf, plan)), batch=MLP_BATCH,
                                processes=processes)
        train, loss = _mlp(tf, bx, by)
        _init(tf, sess)
        steps, seconds = _drain(tf, sess, [train, loss, bx[:, :8], by], lambda v: 1,
                                lambda v: _check_loss(v[1]),
                                lambda v: ledger.add_images(v[2], v[3]))
    sess.close()
    _expect(steps * MLP_BATCH, plan, MLP_BATCH)
    ledger.verify(_tail(plan, MLP_BATCH))
    return steps, seconds


def mlp_queue_p2(tf, plan):
    """mlp_queue with shuffle_batch(..., processes=2)."""
    return mlp_queue(tf, plan, processes=2)


def mlp_queue_same(tf, plan, processes):
    return _same_as_threads(tf, plan, _mlp_example, MLP_BATCH,
                            lambda ledger, v: ledger.add_images(v[0][:, :8], v[1]), processes)


# -- queues and session overhead ------------------------------------------------------

def _queue_loop(tf, plan, many):
    g, sess = _session(tf)
    with g.as_default():
        q = tf.FIFOQueue(CAPACITY, [tf.float32], shapes=[[]])
        if many:
            enqueue, dequeue = q.enqueue_many([tf.ones([BATCH])]), q.dequeue_many(BATCH)
        else:
            enqueue, dequeue = q.enqueue([tf.constant(1.0)]), q.dequeue()
        tf.train.add_queue_runner(tf.train.QueueRunner(q, [enqueue]))
        coord = tf.train.Coordinator()
        steps = plan["steps"]
        t0 = time.perf_counter()
        threads = tf.train.start_queue_runners(sess=sess, coord=coord)
        for _ in range(steps):
            v = sess.run(dequeue)
        seconds = time.perf_counter() - t0
        if np.shape(v) != ((BATCH,) if many else ()):
            raise AssertionError("dequeued shape %s" % (np.shape(v),))
        coord.request_stop()
        coord.join(threads, stop_grace_period_secs=30)
    sess.close()
    return steps * (BATCH if many else 1), seconds


def queue_scalars(tf, plan):
    """A QueueRunner enqueues scalars into a FIFOQueue; the main thread runs dequeue."""
    return _queue_loop(tf, plan, many=False)


def queue_many(tf, plan):
    """The same moving 128 elements per run: enqueue_many / dequeue_many(128)."""
    return _queue_loop(tf, plan, many=True)


def _run_loop(sess, fetch, feed, steps):
    sess.run(fetch, feed)          # warm-up (plan compilation)
    t0 = time.perf_counter()
    for _ in range(steps):
        sess.run(fetch, feed)
    return time.perf_counter() - t0


def run_add(tf, plan):
    """sess.run(a + b) on two scalar constants."""
    g, sess = _session(tf)
    with g.as_default():
        total = tf.constant(2.0) + tf.constant(3.0)
        seconds = _run_loop(sess, total, None, plan["steps"])
        if sess.run(total) != 5.0:
            raise AssertionError("a + b is not 5")
    sess.close()
    return plan["steps"], seconds


def run_fed(tf, plan):
    """sess.run(a + b) with a and b scalar placeholders fed numpy float32 values."""
    g, sess = _session(tf)
    with g.as_default():
        a = tf.placeholder(tf.float32, [])
        b = tf.placeholder(tf.float32, [])
        total = a + b
        feed = {a: np.float32(2.0), b: np.float32(3.0)}
        seconds = _run_loop(sess, total, feed, plan["steps"])
        if sess.run(total, feed) != 5.0:
            raise AssertionError("a + b is not 5")
    sess.close()
    return plan["steps"], seconds


# -- the table ------------------------------------------------------------------------

JOBS = [
    Job("tfrecord_record", "TFRecord->parse_single_example->shuffle_batch/rec",
        "rec/s", tfrecord_record, 28000, 2.0, "tfrecord", records=50000, epochs=1),
    Job("tfrecord_record_p1", "TFRecord per record, shuffle_batch(processes=1)",
        "rec/s", tfrecord_record_p1, 28000, 2.0, "tfrecord", records=50000, epochs=1,
        frameworks=("flowcore",), reference="tfrecord_record", processes=1,
        verify=functools.partial(tfrecord_record_same, processes=1)),
    Job("tfrecord_record_p2", "TFRecord per record, shuffle_batch(processes=2)",
        "rec/s", tfrecord_record_p2, 28000, 2.0, "tfrecord", records=50000, epochs=1,
        frameworks=("flowcore",), reference="tfrecord_record", processes=2,
        verify=functools.partial(tfrecord_record_same, processes=2)),
    Job("tfrecord_batch", "TFRecord read_up_to(128)+parse_example+enqueue_many",
        "rec/s", tfrecord_batch, 210000, 1.0, "tfrecord", records=50000, epochs=4),
    Job("csv_record", "CSV->decode_csv->batch(128), per record",
        "rec/s", csv_record, 36000, 2.0, "csv", records=50000, epochs=1),
    Job("csv_batch", "CSV read_up_to(128)+vector decode_csv+batch",
        "rec/s", csv_batch, 450000, 1.0, "csv", records=50000, epochs=10),
    Job("fixed_record", "3073-byte rec->decode_raw->[32,32,3]f32->shuffle",
        "rec/s", fixed_record, 13000, 2.0, "fixed", records=20000, epochs=1),
    Job("fixed_batch", "3073-byte records, read_up_to(128)",
        "rec/s", fixed_batch, 104000, 1.0, "fixed", records=20000, epochs=5),
    Job("mlp_feed", "784-128-10 MLP step, feed_dict (batch 100)",
        "steps/s", mlp_feed, 1230, 1.5, records=MLP_EXAMPLES, steps=2000),
    Job("mlp_preload", "MLP, preloaded vars+slice_input_producer+batch",
        "steps/s", mlp_preload, 490, 2.0, records=MLP_EXAMPLES, epochs=10),
    Job("mlp_queue", "MLP fed from TFRecords through queues",
        "steps/s", mlp_queue, 220, 2.0, "tfrecord", records=50000, epochs=1),
    Job("mlp_queue_p2", "MLP from TFRecords, reader in processes=2",
        "steps/s", mlp_queue_p2, 220, 2.0, "tfrecord", records=50000, epochs=1,
        frameworks=("flowcore",), reference="mlp_queue", processes=2,
        verify=functools.partial(mlp_queue_same, processes=2)),
    Job("queue_scalars", "QueueRunner enqueue / sess.run(dequeue), scalars",
        "elem/s", queue_scalars, 13000, 3.0, steps=20000),
    Job("queue_many", "enqueue_many / dequeue_many(128)",
        "elem/s", queue_many, 590000, 1.0, steps=4000),
    Job("run_add", "sess.run(a + b) on scalars",
        "runs/s", run_add, 15600, 3.0, steps=20000),
    Job("run_fed", "sess.run with two fed scalars",
        "runs/s", run_fed, 4400, 3.0, steps=8000),
    Job("csv_record_shuffle", "CSV->decode_csv->shuffle_batch(128), per record",
        "rec/s", csv_record_shuffle, None, None, "csv", records=50000, epochs=1,
        table=False),
]

BY_NAME = {j.name: j for j in JOBS}
TABLE = [j.name for j in JOBS if j.table]
END_TO_END = ["tfrecord_record", "csv_record_shuffle", "fixed_record",
              "mlp_feed", "mlp_preload", "mlp_queue"]
