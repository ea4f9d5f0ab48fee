"""Summaries for TensorBoard (TF1's `tf.summary`): summary ops, event-file
writing (`FileWriter`, `FileWriterCache`) and reading (`summary_iterator`)."""
from flowcore.protos import Event, SessionLog, Summary, SummaryDescription, TaggedRunMetadata
from flowcore.summary.ops import (histogram, image, merge, merge_all, scalar, tensor_summary,
                                  text)
from flowcore.summary.reader import summary_iterator
from flowcore.summary.writer import FileWriter, FileWriterCache

__all__ = ["scalar", "histogram", "image", "text", "tensor_summary", "merge", "merge_all",
           "FileWriter", "FileWriterCache", "Summary", "SummaryDescription", "Event",
           "SessionLog", "TaggedRunMetadata"]
