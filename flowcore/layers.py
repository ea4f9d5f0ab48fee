"""`tf.layers`: the TF1 functional `dense` layer.

`dense` opens a variable scope (`name`, or `dense`, `dense_1`, ... when no
name is given), creates or reuses the variables `<scope>/kernel`
[in_units, units] and `<scope>/bias` [units] with `get_variable`, and builds
`activation(inputs @ kernel + bias)` under the same name scope, as
`tf.layers.dense` does.
"""
from flowcore import dtypes, init_ops, scopes
from flowcore.graph import GraphKeys, add_to_collection, name_scope
from flowcore.ops import array, core, math, nn

__all__ = ["dense"]


def _regularize(regularizer, tensor, what):
    if regularizer is None:
        return
    with name_scope(None, what + "/Regularizer", [tensor]):
        loss = regularizer(tensor)
    if loss is not None:
        add_to_collection(GraphKeys.REGULARIZATION_LOSSES, loss)


def dense(inputs, units, activation=None, use_bias=True, kernel_initializer=None,
          bias_initializer=None, kernel_regularizer=None, bias_regularizer=None,
          activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
          trainable=True, name=None, reuse=None):
    """A fully connected layer: `activation(matmul(inputs, kernel) + bias)`.

    `inputs` of rank > 2 are multiplied along their last dimension, which
    must be known.  `kernel_initializer` defaults to glorot_uniform and
    `bias_initializer` to zeros.  Regularizer losses go to
    `GraphKeys.REGULARIZATION_LOSSES`.
    """
    inputs = core.convert_to_tensor(inputs, name="inputs")
    units = int(units)
    if units <= 0:
        raise ValueError("Received an invalid value for `units`, expected a positive "
                         "integer, got %r." % units)
    dtype = inputs.dtype if inputs.dtype.is_floating else dtypes.float32
    if inputs.dtype is not dtype:
        inputs = math.cast(inputs, dtype)
    shape = inputs.shape
    if shape.ndims is not None and shape.ndims < 2:
        raise ValueError("Input 0 of layer dense is incompatible with the layer: expected "
                         "min_ndim=2, found ndim=%d. Full shape received: %s"
                         % (shape.ndims, shape))
    in_units = shape[-1].value if shape.ndims is not None else None
    if in_units is None:
        raise ValueError("The last dimension of the inputs to `Dense` should be defined. "
                         "Found `None`.")
    with scopes.variable_scope(name, default_name="dense", values=[inputs], reuse=reuse):
        existing = {id(v) for v in inputs.graph.get_collection(GraphKeys.GLOBAL_VARIABLES)}
        kernel = scopes.get_variable(
            "kernel", [in_units, units], dtype=dtype,
            initializer=kernel_initializer or init_ops.glorot_uniform_initializer(),
            trainable=trainable, constraint=kernel_constraint)
        bias = None
        if use_bias:
            bias = scopes.get_variable(
                "bias", [units], dtype=dtype,
                initializer=bias_initializer or init_ops.zeros_initializer(),
                trainable=trainable, constraint=bias_constraint)
        if id(kernel) not in existing:       # reused variables are regularized once
            _regularize(kernel_regularizer, kernel, "kernel")
        if bias is not None and id(bias) not in existing:
            _regularize(bias_regularizer, bias, "bias")
        if shape.ndims == 2:
            outputs = math.matmul(inputs, kernel)
        else:
            flat = array.reshape(inputs, [-1, in_units])
            outputs = math.matmul(flat, kernel)
            if shape[:-1].is_fully_defined():
                target = shape[:-1].as_list() + [units]
            else:
                target = array.concat([array.shape(inputs)[:-1], [units]], 0)
            outputs = array.reshape(outputs, target)
            outputs.set_shape(shape[:-1].concatenate([units]))
        if bias is not None:
            outputs = nn.bias_add(outputs, bias)
        if activation is not None:
            outputs = activation(outputs)
        if activity_regularizer is not None:
            _regularize(activity_regularizer, outputs, "activity")
        return outputs
