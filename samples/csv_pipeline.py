"""The iris example of TensorFlow's "Reading data" guide: three CSV files read
by a TextLineReader, decoded with decode_csv, stacked into a feature vector
and batched.  Prints the batches and, at the end, rows read per species.

Run: python samples/csv_pipeline.py
"""
import glob
import os

import numpy as np

import flowcore.compat.v1 as tf

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "iris")
SPECIES = ["setosa", "versicolor", "virginica"]


def main(batch_size=10, num_epochs=1, show=3):
    files = sorted(glob.glob(os.path.join(DATA, "iris_*.csv")))
    tf.reset_default_graph()
    filename_queue = tf.train.string_input_producer(files, num_epochs=num_epochs,
                                                    shuffle=False)
    reader = tf.TextLineReader(skip_header_lines=1)     # each file starts with a header
    _, line = reader.read(filename_queue)
    # one default per column: its type, and the value used when a field is empty
    defaults = [[0.0], [0.0], [0.0], [0.0], [0]]
    sepal_length, sepal_width, petal_length, petal_width, species = tf.decode_csv(
        line, record_defaults=defaults)
    features = tf.stack([sepal_length, sepal_width, petal_length, petal_width])
    batch_features, batch_species = tf.train.batch(
        [features, species], batch_size=batch_size, allow_smaller_final_batch=True)

    counts = np.zeros(len(SPECIES), dtype=np.int64)
    batches = 0
    with tf.Session() as sess:
        sess.run(tf.local_variables_initializer())      # num_epochs counts in a local
        coord = tf.train.Coordinator()
        threads = tf.train.start_queue_runners(sess=sess, coord=coord)
        try:
            while not coord.should_stop():
                f, s = sess.run([batch_features, batch_species])
                if batches < show:
                    print("batch %d: features %s, first row %s, species %s"
                          % (batches, f.shape, [round(float(v), 1) for v in f[0]], s.tolist()))
                counts += np.bincount(s, minlength=len(SPECIES))
                batches += 1
        except tf.errors.OutOfRangeError:
            pass
        finally:
            coord.request_stop()
        coord.join(threads)
    print("read %d rows in %d batches: %s" % (counts.sum(), batches, ", ".join(
        "%s %d" % (name, n) for name, n in zip(SPECIES, counts))))
    return counts, batches


if __name__ == "__main__":
    main()
