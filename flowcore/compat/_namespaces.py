"""The nested TF1 namespaces (`tf.train`, `tf.initializers`, ...), assembled
from the `__all__` of the modules that implement them."""
import types

from flowcore import init_ops, train as _train
from flowcore.ops import math as _math, random as _random
from flowcore.train import saver as _saver
from pipeline import (coordinator as _coordinator, decode as _decode, input as _input,
                      io_ops as _io_ops, parsing as _parsing, protos as _protos,
                      queue_runner as _queue_runner, tfrecord as _tfrecord)


def _namespace(name, *modules, extra=None):
    ns = types.ModuleType("flowcore.compat.v1." + name)
    for m in modules:
        for k in getattr(m, "__all__", ()):
            setattr(ns, k, getattr(m, k))
    for k, v in (extra or {}).items():
        setattr(ns, k, v)
    return ns


queue_runner = _namespace("train.queue_runner", _queue_runner)
train = _namespace("train", _train, _saver, _coordinator, _queue_runner, _input, _protos,
                   extra={"queue_runner": queue_runner})
initializers = _namespace("initializers", init_ops)
random = _namespace("random", _random)
math = _namespace("math", _math)
python_io = _namespace("python_io", _tfrecord)
io = _namespace("io", _parsing, _decode, _io_ops, _tfrecord)
