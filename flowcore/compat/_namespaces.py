"""The nested TF1 namespaces (`tf.train`, `tf.initializers`, ...), assembled
from the `__all__` of the modules that implement them."""
import types

from flowcore import (gradient_checker as _gradient_checker, init_ops, meta_graph as _meta_graph, summary as _summary, train as _train,
                      variables as _variables)
from flowcore import sparse as _sparse
from flowcore.ops import array as _array, math as _math, random as _random
from flowcore.train import saver as _saver
from pipeline import (coordinator as _coordinator, decode as _decode, input as _input,
                      io_ops as _io_ops, parsing as _parsing, protos as _protos,
                      queue_runner as _queue_runner, queues as _queues, tfrecord as _tfrecord)


def _namespace(name, *modules, extra=None):
    ns = types.ModuleType("flowcore.compat.v1." + name)
    for m in modules:
        for k in getattr(m, "__all__", ()):
            setattr(ns, k, getattr(m, k))
    for k, v in (extra or {}).items():
        setattr(ns, k, v)
    return ns


queue_runner = _namespace("train.queue_runner", _queue_runner)
queue = _namespace("queue", _queues)
_meta_graph_names = {"export_meta_graph": _meta_graph.export_meta_graph,
                     "import_meta_graph": _meta_graph.import_meta_graph,
                     "write_graph": _meta_graph.write_graph}
train = _namespace("train", _train, _saver, _coordinator, _queue_runner, _input, _protos,
                   extra=dict(_meta_graph_names, queue_runner=queue_runner,
                              summary_iterator=_summary.summary_iterator))
summary = _namespace("summary", _summary)
test = _namespace("test", _gradient_checker)
initializers = _namespace("initializers", init_ops, extra=dict(
    init_ops.INITIALIZERS, global_variables=_variables.global_variables_initializer,
    local_variables=_variables.local_variables_initializer,
    variables=_variables.variables_initializer))
random = _namespace("random", _random,
                    extra={k: getattr(_random, k) for k in _random.RANDOM_NAMESPACE})
math = _namespace("math", _math, extra={"unsorted_segment_sum": _array.unsorted_segment_sum})
sparse = _namespace("sparse", extra={"SparseTensor": _sparse.SparseTensor,
                                     "to_dense": _array.sparse_tensor_to_dense,
                                     "placeholder": _sparse.sparse_placeholder})
python_io = _namespace("python_io", _tfrecord)
io = _namespace("io", _parsing, _decode, _io_ops, _tfrecord,
                extra={"write_graph": _meta_graph.write_graph})
