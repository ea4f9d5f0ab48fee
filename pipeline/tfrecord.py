"""TFRecord files (`tf.python_io`): the pipeline's face of `flowcore.records`.

The framing, CRC-32C and compression live in flowcore because the engine's
summary writer frames event files the same way; readers, the `tfrecord` tool
and users reach them through this module.
"""
# flake8: noqa: F401  (re-exports)
from flowcore.records import (TFRecordCompressionType, TFRecordOptions, TFRecordWriter,
                              RecordFile, compression_string, encode_record, masked_crc32c,
                              open_stream, os_error, scan, tf_record_iterator)

__all__ = ["TFRecordWriter", "tf_record_iterator", "TFRecordOptions",
           "TFRecordCompressionType"]
