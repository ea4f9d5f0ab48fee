"""flowcore: TensorFlow 1.x's graph engine on numpy.

Graphs of ops, sessions that run them from many threads at once, variables,
scopes and collections.  `flowcore.compat.v1` is the TF1-shaped namespace
users import; this package holds the engine itself.
"""
from flowcore import errors, dtypes, backend  # noqa: F401  (backend caps BLAS threads)
from flowcore.dtypes import DType, as_dtype  # noqa: F401
from flowcore.shapes import TensorShape, Dimension  # noqa: F401
from flowcore.graph import (Graph, Operation, Tensor, GraphKeys, get_default_graph,  # noqa: F401
                            reset_default_graph, name_scope, control_dependencies, device,
                            add_to_collection, get_collection, get_collection_ref)
from flowcore import ops  # noqa: F401  (registers all op types)
from flowcore.session import Session, InteractiveSession, get_default_session  # noqa: F401
from flowcore.variables import Variable  # noqa: F401

__version__ = "0.1.0"
