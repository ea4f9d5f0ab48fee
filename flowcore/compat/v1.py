"""`import flowcore.compat.v1 as tf`: TensorFlow 1.x's graph-mode namespace.

The only module allowed to see both `flowcore` and `pipeline`; nothing in
either package imports it.  Names come from each module's `__all__`.
"""
# flake8: noqa: F401,F403
from flowcore import errors, dtypes
from flowcore.dtypes import (DType, as_dtype, float16, half, float32, float64, double, int8,
                             int16, int32, int64, uint8, uint16, uint32, uint64, bool, string,
                             resource)
from flowcore.shapes import TensorShape, Dimension
from flowcore.graph import (Graph, Operation, Tensor, GraphKeys, get_default_graph,
                            reset_default_graph, name_scope, control_dependencies, device,
                            colocate_with, add_to_collection, add_to_collections,
                            get_collection, get_collection_ref, get_all_collection_keys,
                            op_scope)
from flowcore.session import (Session, InteractiveSession, get_default_session, ConfigProto,
                              RunOptions, RunMetadata, GPUOptions, GraphOptions,
                              OptimizerOptions)
from flowcore.ops.core import *
from flowcore.ops.state import *
from flowcore.ops.math import *
from flowcore.ops.array import *
from flowcore.ops.random import *
from flowcore.ops.control import *
from flowcore.variables import *
from flowcore.random_seed import *
from flowcore.init_ops import *
from flowcore.scopes import *
from flowcore.gradients import *
from flowcore.ops import nn
from flowcore import losses, layers
from pipeline.queues import *
from pipeline.readers import *
from pipeline.decode import *
from pipeline.parsing import *
from pipeline.io_ops import *
from flowcore.compat import _namespaces as _ns
train = _ns.train
initializers = _ns.initializers
random = _ns.random
math = _ns.math
python_io = _ns.python_io
io = _ns.io
queue = _ns.queue
summary = _ns.summary
sparse = _ns.sparse
test = _ns.test
from flowcore.protos import (Summary, SummaryMetadata, Event, SessionLog, HistogramProto,
                             GraphDef, NodeDef, AttrValue, MetaGraphDef)
from flowcore.meta_graph import import_graph_def, make_tensor_proto, make_ndarray
from flowcore.sparse import SparseTensor, SparseTensorValue, sparse_placeholder
from flowcore.registry import RegisterGradient, NotDifferentiable, NoGradient

newaxis = None


def disable_eager_execution():
    """A no-op: flowcore is always in graph mode."""


def enable_eager_execution(*args, **kwargs):
    raise NotImplementedError("flowcore runs TF1 graph mode only; eager execution is not "
                              "available.")


def executing_eagerly():
    return False


def disable_v2_behavior():
    """A no-op: flowcore always behaves like TF1."""
