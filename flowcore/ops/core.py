"""The ops every graph needs and the helpers every op builder uses.

- `convert_to_tensor`: Python values, numpy arrays and tensor-like objects
  (Variables, ...) to Tensors, with TF1's dtype inference;
- `apply_op`: add a registered op in the right graph and return its outputs;
- the ops `Const`, `Placeholder`, `PlaceholderWithDefault`, `Identity`,
  `StopGradient`, `NoOp` and the helpers `group` and `tuple`.
"""
import builtins

import numpy as np

from flowcore import dtypes, errors, registry
from flowcore.graph import (Operation, Tensor, _get_graph_from_inputs, get_default_graph)
from flowcore.shapes import TensorShape, as_shape, unknown_shape

__all__ = ["convert_to_tensor", "convert_n_to_tensor", "constant", "placeholder",
           "placeholder_with_default", "identity", "stop_gradient", "no_op", "group",
           "tuple", "register_tensor_conversion_function", "is_tensor",
           "convert_to_tensor_or_indexed_slices"]

_CONVERSIONS = []   # (type, fn(value, dtype, name, as_ref) -> Tensor)


def register_tensor_conversion_function(base_type, conversion_func, priority=100):
    """Let `convert_to_tensor` accept instances of `base_type` (e.g. Variable)."""
    _CONVERSIONS.append((priority, base_type, conversion_func))
    _CONVERSIONS.sort(key=lambda e: e[0])


def is_tensor(x):
    return isinstance(x, Tensor) or any(isinstance(x, t) for _, t, _f in _CONVERSIONS)


def convert_to_tensor(value, dtype=None, name=None, preferred_dtype=None, dtype_hint=None,
                      as_ref=False):
    """A Tensor for `value`: a Tensor (checked against `dtype`), a registered
    tensor-like object, or a constant built from a Python/numpy value."""
    if dtype is not None:
        dtype = dtypes.as_dtype(dtype)
    if isinstance(value, Tensor):
        if dtype is not None and value.dtype is not dtype:
            raise ValueError("Tensor conversion requested dtype %s for Tensor with dtype %s: %r"
                             % (dtype.name, value.dtype.name, value))
        return value
    for _, base, fn in _CONVERSIONS:
        if isinstance(value, base):
            t = fn(value, dtype=dtype, name=name, as_ref=as_ref)
            if dtype is not None and t.dtype is not dtype:
                raise ValueError("Tensor conversion requested dtype %s for Tensor with dtype %s: %r"
                                 % (dtype.name, t.dtype.name, t))
            return t
    if isinstance(value, Operation):
        raise TypeError("Can't convert Operation '%s' to Tensor (target dtype=%s, name=%s)"
                        % (value.name, dtype, name))
    if isinstance(value, (list, builtins.tuple)):
        # TF's autopacking: [shape(x)[0], -1] becomes a Pack op named "packed"
        from flowcore.ops import array
        if array._contains_tensor(value):
            return array._autopack(value, dtype=dtype or preferred_dtype or dtype_hint,
                                   name=name or "packed")
    hint = preferred_dtype or dtype_hint
    if dtype is None and hint is not None:
        try:
            return constant(value, dtype=hint, name=name or "Const")
        except (TypeError, ValueError):
            pass
    return constant(value, dtype=dtype, name=name or "Const")


def convert_n_to_tensor(values, dtype=None, name=None, preferred_dtype=None):
    return [convert_to_tensor(v, dtype=dtype, preferred_dtype=preferred_dtype,
                              name=None if name is None else "%s_%d" % (name, i))
            for i, v in enumerate(values)]


def convert_to_tensor_or_indexed_slices(value, dtype=None, name=None):
    if type(value).__name__ in ("IndexedSlices", "SparseTensor"):
        return value
    return convert_to_tensor(value, dtype=dtype, name=name)


def convert_same_dtype(values, dtype=None, names=None):
    """Convert `values` to Tensors of one dtype, inferred from the first
    tensor-like value (so `x_f64 + 1` makes the 1 a float64).  A Tensor of a
    different dtype is a TypeError naming the argument, as in TF."""
    if dtype is None:
        for v in values:
            if isinstance(v, Tensor):
                dtype = v.dtype
                break
            if any(isinstance(v, t) for _, t, _f in _CONVERSIONS):
                dtype = convert_to_tensor(v).dtype
                break
    out = []
    for i, v in enumerate(values):
        if isinstance(v, Tensor) or any(isinstance(v, t) for _, t, _f in _CONVERSIONS):
            t = convert_to_tensor(v)
            if dtype is not None and t.dtype is not dtype:
                arg = names[i] if names else "arg %d" % i
                raise TypeError("Input '%s' has type %s that does not match type %s of the "
                                "other arguments." % (arg, t.dtype.name, dtype.name))
        else:
            t = convert_to_tensor(v, dtype=dtype)
        if dtype is None:
            dtype = t.dtype
        out.append(t)
    return out


def graph_for(values):
    """The graph an op over `values` goes into (ValueError on two graphs)."""
    return _get_graph_from_inputs([v for v in values if v is not None])


def apply_op(op_type, inputs, attrs=None, name=None, control_inputs=()):
    """Add an op of `op_type` over Tensor `inputs` to their graph; return the op."""
    g = _get_graph_from_inputs(inputs) if inputs else get_default_graph()
    return g.create_op(op_type, inputs, attrs, name=name, control_inputs=control_inputs)


def apply_op1(op_type, inputs, attrs=None, name=None):
    """`apply_op` for single-output ops: returns the output Tensor."""
    return apply_op(op_type, inputs, attrs, name)._outputs[0]


# -- constant values --------------------------------------------------------------

def _to_bytes_array(value):
    arr = np.asarray(value, dtype=object)
    flat = arr.reshape(-1)
    for i, x in enumerate(flat):
        if isinstance(x, str):
            flat[i] = x.encode("utf-8")
        elif isinstance(x, (bytes, np.bytes_)):
            flat[i] = bytes(x)
        else:
            raise TypeError("Expected string, got %r of type '%s' instead."
                            % (x, type(x).__name__))
    return arr


def _infer_dtype(value):
    if isinstance(value, np.ndarray) or isinstance(value, np.generic):
        arr = np.asarray(value)
        if arr.dtype.kind in "SUO":
            return dtypes.string, _to_bytes_array(arr)
        return dtypes.as_dtype(arr.dtype), arr
    if isinstance(value, (str, bytes)):
        return dtypes.string, _to_bytes_array(value)
    arr = np.asarray(value)
    kind = arr.dtype.kind
    if kind in "SUO":
        if arr.dtype.kind == "O" and arr.size and not builtins.all(
                isinstance(x, (str, bytes, np.bytes_)) for x in arr.reshape(-1)):
            raise TypeError("Failed to convert object of type %s to Tensor. Contents: %r."
                            % (type(value).__name__, value))
        # from `value`, not `arr`: numpy's S/U dtypes drop trailing NUL bytes
        return dtypes.string, _to_bytes_array(arr if kind == "O" else value)
    if kind == "b":
        return dtypes.bool, arr
    if kind in "iu":
        if arr.size == 0 or (arr.min() >= -2**31 and arr.max() < 2**31):
            return dtypes.int32, arr.astype(np.int32)
        return dtypes.int64, arr.astype(np.int64)
    if kind == "f":
        if arr.dtype == np.float64 and _has_numpy_float64(value):
            return dtypes.float64, arr
        return dtypes.float32, arr.astype(np.float32)
    raise TypeError("Failed to convert object of type %s to Tensor. Contents: %r."
                    % (type(value).__name__, value))


def _has_numpy_float64(value):
    if isinstance(value, (list, builtins.tuple)):
        return builtins.any(_has_numpy_float64(v) for v in value) if value else False
    return isinstance(value, (np.ndarray, np.float64))


def _convert_value(value, dtype):
    """`value` as a numpy array of `dtype`, refusing lossy conversions like TF."""
    if dtype is dtypes.string:
        return _to_bytes_array(value)
    npdt = dtype.as_numpy_dtype
    src = np.asarray(value)
    if src.dtype.kind in "SUO":
        raise TypeError("Expected %s, got %r of type '%s' instead."
                        % (dtype.name, value, type(value).__name__))
    if dtype.is_integer or dtype is dtypes.bool:
        if src.dtype.kind == "f" and src.size and not np.all(np.equal(np.mod(src, 1), 0)):
            raise TypeError("Expected %s, got %r of type '%s' instead."
                            % (dtype.name, value, type(value).__name__))
        if dtype is dtypes.bool and src.dtype.kind != "b":
            raise TypeError("Expected bool, got %r of type '%s' instead."
                            % (value, type(value).__name__))
        if dtype.is_integer and src.size and src.dtype.kind in "iuf":
            info = np.iinfo(npdt)
            if src.min() < info.min or src.max() > info.max:
                raise ValueError("Value %r is out of range for dtype %s" % (value, dtype.name))
    return src.astype(npdt, copy=False)


def make_ndarray_value(value, dtype=None, shape=None, verify_shape=False):
    """The numpy value and DType of a constant, with TF1's shape rules: a
    single value fills the shape; fewer values are padded with the last one."""
    if dtype is not None:
        dtype = dtypes.as_dtype(dtype)
        arr = _convert_value(value, dtype)
    else:
        dtype, arr = _infer_dtype(value)
    if shape is not None:
        shape = [int(d) for d in (shape if isinstance(shape, (list, builtins.tuple, TensorShape))
                                  else [shape])]
        n = int(np.prod(shape, dtype=np.int64))
        if verify_shape and list(arr.shape) != shape:
            raise TypeError("Expected Tensor's shape: %s, got %s." % (tuple(shape), arr.shape))
        if arr.size == n:
            arr = arr.reshape(shape)
        elif arr.size == 1:
            arr = np.full(shape, arr.reshape(()).item() if dtype is not dtypes.string
                          else arr.reshape(-1)[0], dtype=arr.dtype)
        elif arr.size < n and arr.size > 0:
            flat = arr.reshape(-1)
            arr = np.concatenate([flat, np.repeat(flat[-1:], n - flat.size)]).reshape(shape)
        else:
            raise TypeError("Too many elements provided. Needed at most %d, but received %d"
                            % (n, arr.size)) if arr.size > n else \
                ValueError("Cannot create a tensor of shape %s from an empty value" % shape)
    if not arr.flags.c_contiguous:
        arr = arr.copy()
    return dtype, arr


def _const_shape(op):
    v = op.attrs["value"]
    return [(op.attrs["dtype"], TensorShape(v.shape))]


def _const_kernel(ctx, op):
    return op.attrs["value"]


registry.register("Const", shape=_const_shape, kernel=_const_kernel)


def constant(value, dtype=None, shape=None, name="Const", verify_shape=False):
    """A tensor holding `value` (TF1's `tf.constant`, including its shape padding)."""
    dt, arr = make_ndarray_value(value, dtype, shape, verify_shape)
    if dt is not dtypes.string:
        arr.flags.writeable = False
    g = get_default_graph()
    return g.create_op("Const", [], {"value": arr, "dtype": dt}, name=name)._outputs[0]


# -- placeholders -------------------------------------------------------------------

def _shape_str(shape):
    if shape.ndims is None:
        return "<unknown>"
    return "[%s]" % ",".join("?" if d is None else str(d) for d in shape.as_list())


def _placeholder_kernel(ctx, op):
    raise errors.InvalidArgumentError(
        None, op, "You must feed a value for placeholder tensor '%s' with dtype %s%s"
        % (op.name, op.attrs["dtype"].name,
           "" if op.attrs["shape"].ndims is None else " and shape %s" % _shape_str(op.attrs["shape"])))


registry.register("Placeholder", shape=lambda op: [(op.attrs["dtype"], op.attrs["shape"])],
                  kernel=_placeholder_kernel, stateful=True)


def placeholder(dtype, shape=None, name=None):
    """A tensor that must be fed: `InvalidArgumentError` naming it otherwise."""
    dtype = dtypes.as_dtype(dtype)
    shape = unknown_shape() if shape is None else as_shape(shape)
    return get_default_graph().create_op(
        "Placeholder", [], {"dtype": dtype, "shape": shape}, name=name or "Placeholder")._outputs[0]


def _pwd_shape(op):
    shape = op.attrs["shape"]
    inp = op.inputs[0].shape
    if not shape.is_compatible_with(inp):
        raise ValueError("Shape %s of the default value is not compatible with shape %s"
                         % (inp, shape))
    return [(op.inputs[0].dtype, shape)]


registry.register("PlaceholderWithDefault", shape=_pwd_shape, kernel=lambda ctx, op, x: x)


def placeholder_with_default(input, shape, name=None):
    """Its input's value unless fed; `shape` may be less specific than the input's."""
    t = convert_to_tensor(input)
    return apply_op1("PlaceholderWithDefault", [t], {"shape": as_shape(shape)},
                     name or "PlaceholderWithDefault")


# -- identity, no_op, group, tuple -------------------------------------------------------

def _same_as_input(op):
    return [(op.inputs[0].dtype, op.inputs[0].shape)]


def _identity_grad(op, grad):
    return grad


registry.register("Identity", shape=_same_as_input, kernel=lambda ctx, op, x: x,
                  grad=_identity_grad)
registry.register("StopGradient", shape=_same_as_input, kernel=lambda ctx, op, x: x)
registry.NotDifferentiable("StopGradient")
registry.register("NoOp", shape=lambda op: [], kernel=lambda ctx, op, *a: None)
registry.NotDifferentiable("NoOp")


def identity(input, name=None):
    """A tensor with the same value as `input` (a fresh read for a Variable)."""
    if hasattr(input, "_identity_input"):
        input = input._identity_input()
    t = convert_to_tensor(input)
    return apply_op1("Identity", [t], None, name or "Identity")


def stop_gradient(input, name=None):
    """The same value as `input`, but gradients do not flow through it."""
    t = convert_to_tensor(input)
    return apply_op1("StopGradient", [t], None, name or "StopGradient")


def no_op(name=None):
    """An op that does nothing; useful as a control-dependency target."""
    return get_default_graph().create_op("NoOp", [], None, name=name or "NoOp")


def _as_op(x):
    if isinstance(x, Operation):
        return x
    if isinstance(x, Tensor):
        return x.op
    conv = getattr(x, "_as_graph_element", None)
    if conv is not None:
        e = conv()
        return e.op if isinstance(e, Tensor) else e
    op = getattr(x, "op", None)
    if isinstance(op, Operation):
        return op
    raise TypeError("Expected a Tensor or Operation, got %r" % (x,))


def group(*inputs, **kwargs):
    """An op that runs all `inputs` (ops or tensors; nested lists flattened)."""
    name = kwargs.pop("name", None)
    if kwargs:
        raise TypeError("Unknown keyword arguments: " + ", ".join(kwargs))
    flat = []

    def walk(x):
        if isinstance(x, (list, builtins.tuple)):
            for y in x:
                walk(y)
        elif isinstance(x, dict):
            for y in x.values():
                walk(y)
        elif x is not None:
            flat.append(_as_op(x))
    walk(inputs)
    g = _get_graph_from_inputs(flat) if flat else get_default_graph()
    deps = []
    for op in flat:
        if op not in deps:
            deps.append(op)
    with g.control_dependencies(deps):
        return g.create_op("NoOp", [], None, name=name or "group_deps")


def tuple(tensors, name=None, control_inputs=None):
    """Tensors with the same values as `tensors`, available only once all of
    them (and `control_inputs`) have been computed."""
    tensors = list(tensors)
    real = [t for t in tensors if t is not None]
    g = _get_graph_from_inputs(real) if real else get_default_graph()
    with g.as_default(), g.name_scope(name or "tuple") as scope:
        gate = group(*(real + list(control_inputs or [])))
        out = []
        with g.control_dependencies([gate]):
            for t in tensors:
                out.append(None if t is None else identity(t))
        return out


# op type -> fn(op, output_index) giving the value when known at build time
CONSTANT_VALUE_RULES = {
    "Const": lambda op, i: op.attrs["value"],
    "Identity": lambda op, i: constant_value(op.inputs[0]),
    "StopGradient": lambda op, i: constant_value(op.inputs[0]),
}


def constant_value(t):
    """The numpy value of `t` if it can be known while building the graph
    (a Const, or an op with a rule in CONSTANT_VALUE_RULES), else None.
    Shape functions use it to infer static shapes (reshape, fill, ...)."""
    if not isinstance(t, Tensor):
        return None
    rule = CONSTANT_VALUE_RULES.get(t.op.type)
    return None if rule is None else rule(t.op, t.value_index)


