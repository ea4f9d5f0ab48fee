"""Command-line tools shipped with the project (`tfrecord`)."""
