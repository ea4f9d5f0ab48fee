"""The nested TF1 namespaces (`tf.train`, `tf.initializers`, ...), assembled
from the modules that implement them."""
import types

from flowcore import init_ops, train as _train
from flowcore.ops import math as _math, random as _random


def _namespace(name, *modules, extra=None):
    ns = types.ModuleType("flowcore.compat.v1." + name)
    for m in modules:
        for k in getattr(m, "__all__", ()):
            setattr(ns, k, getattr(m, k))
    for k, v in (extra or {}).items():
        setattr(ns, k, v)
    return ns


train = _namespace("train", _train)
initializers = _namespace("initializers", init_ops)
random = _namespace("random", _random)
math = _namespace("math", _math)
