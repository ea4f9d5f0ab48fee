"""Reading event files back: `summary_iterator` (TF's `tf.train.summary_iterator`)."""
from flowcore import records
from flowcore.protos import Event

__all__ = ["summary_iterator"]


def summary_iterator(path):
    """Yield the Event protos of the events file `path`, in order.  A missing
    file is NotFoundError; a corrupt or truncated record is DataLossError
    (after every good event before it)."""
    for raw in records.tf_record_iterator(path):
        yield Event.FromString(raw)
