"""The `tf.train` protocol buffer messages (Example and its parts).

The generated modules live in `flowcore.protos` (the engine's summaries and
meta graphs need the event and graph schemas, and flowcore never imports
pipeline); this package re-exports the Example family for the pipeline.
"""
# flake8: noqa: F401  (re-exports)
from flowcore.protos import (BytesList, Example, Feature, FeatureList, FeatureLists,
                             Features, FloatList, Int64List, ReaderBaseState,
                             SequenceExample)

__all__ = ["Example", "SequenceExample", "Features", "Feature", "FeatureList",
           "FeatureLists", "BytesList", "FloatList", "Int64List"]
