"""The global step: an int64 scalar variable named `global_step`, in the
GLOBAL_STEP collection, that `Optimizer.minimize(global_step=...)` increments
once per training step."""
from flowcore import dtypes
from flowcore.graph import GraphKeys, Tensor, get_default_graph
from flowcore.variables import Variable

__all__ = ["get_global_step", "create_global_step", "get_or_create_global_step",
           "global_step", "assert_global_step"]


def assert_global_step(global_step_tensor):
    """TypeError unless `global_step_tensor` is an integer scalar Variable or Tensor."""
    if not isinstance(global_step_tensor, (Variable, Tensor)):
        raise TypeError('Existing "global_step" must be a Variable or Tensor: %s.'
                        % global_step_tensor)
    if not global_step_tensor.dtype.is_integer:
        raise TypeError('Existing "global_step" does not have integer type: %s'
                        % global_step_tensor.dtype)
    shape = global_step_tensor.get_shape()
    if shape.ndims != 0 and shape.is_fully_defined():
        raise TypeError('Existing "global_step" is not scalar: %s' % shape)


def get_global_step(graph=None):
    """The global step of `graph` (default graph): the one item of the
    GLOBAL_STEP collection, else the tensor `global_step:0`, else None."""
    graph = graph or get_default_graph()
    found = graph.get_collection(GraphKeys.GLOBAL_STEP)
    if len(found) == 1:
        step = found[0]
    elif not found:
        try:
            step = graph.get_tensor_by_name("global_step:0")
        except KeyError:
            return None
    else:
        return None     # TF logs "Multiple tensors in global_step collection."
    assert_global_step(step)
    return step


def create_global_step(graph=None):
    """Create the global step (ValueError if `graph` already has one)."""
    graph = graph or get_default_graph()
    if get_global_step(graph) is not None:
        raise ValueError('"global_step" already exists.')
    from flowcore import scopes
    from flowcore.init_ops import zeros_initializer
    with graph.as_default(), graph.name_scope(None):
        return scopes.get_variable(
            GraphKeys.GLOBAL_STEP, shape=[], dtype=dtypes.int64,
            initializer=zeros_initializer(), trainable=False,
            collections=[GraphKeys.GLOBAL_VARIABLES, GraphKeys.GLOBAL_STEP])


def get_or_create_global_step(graph=None):
    """The global step of `graph`, created if missing."""
    graph = graph or get_default_graph()
    step = get_global_step(graph)
    if step is None:
        step = create_global_step(graph)
    return step


def global_step(sess, global_step_tensor):
    """The value of the global step in `sess`, as a Python int."""
    return int(sess.run(global_step_tensor))
