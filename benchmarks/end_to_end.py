"""Issue 6's end-to-end figures: the three reader pipelines and the MLP fed three ways.

    python benchmarks/end_to_end.py [--repeat N] [--scale S] [--tf-python PATH] ...

Rows (jobs in `benchmarks/jobs.py`, run by the harness in `benchmarks/__main__.py`,
which takes the same options):

- TFRecord, CSV and fixed-length (CIFAR-10 layout) files, each read one record
  per run by its reader, decoded (`parse_single_example`, `decode_csv`,
  `decode_raw` to a [32, 32, 3] float32 image) and batched by
  `shuffle_batch(batch_size=128, capacity=10000, min_after_dequeue=5000,
  num_threads=2)`, consumed by `sess.run` until `OutOfRangeError`: records/s;
- the 784-128-10 ReLU MLP (GradientDescent 0.1, softmax cross-entropy, batch 100)
  fed by placeholders, by preloaded variables + `slice_input_producer` + `batch`,
  and by TFRecord queues: steps/s.

Side by side with `tensorflow.compat.v1` whenever an interpreter that imports it
is found (this one, `--tf-python` or `$FLOWCORE_TF_PYTHON`), with the ratio
flowcore / TensorFlow per row; the goal is a ratio of at least 1.
"""
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from benchmarks import jobs  # noqa: E402
from benchmarks.__main__ import main as harness  # noqa: E402


def main(argv=None):
    return harness(argv, default_rows=jobs.END_TO_END, compare=True,
                   prog="python benchmarks/end_to_end.py")


if __name__ == "__main__":
    sys.exit(main())
