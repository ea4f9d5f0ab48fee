"""Gradient-check cases for the array ops (format: tests/test_gradients_ops.py).

Multi-output ops (Unpack, Split, DynamicPartition) are checked through a
weighted sum/concatenation of their outputs, some outputs left unused so the
missing gradients are filled with zeros.  Gradient ops that are themselves
differentiable (StridedSliceGrad, MirrorPadGrad) are checked through a
gradient of a gradient.
"""
import numpy as np

import flowcore.compat.v1 as tf
from flowcore.ops import array

_rng = np.random.RandomState(11)


def _r(*shape):
    return _rng.uniform(-1.5, 1.5, size=shape).astype(np.float64)


def _unstack(x):
    a, _, c = tf.unstack(x, axis=1)
    return a * 2.0 + c * 3.0


def _split(x):
    a, b, _ = tf.split(x, 3, axis=1)
    return tf.concat([a * 2.0, b], 0)


def _splitv(x):
    a, b = tf.split(x, [1, -1], axis=-1)
    return tf.concat([b, a * a], 1)


def _strided_slice_grad(x):
    """d/dx of sum(x[1:, ::2]^3): a StridedSliceGrad op that depends on x."""
    g = tf.gradients(x[1:, ::2] * x[1:, ::2] * x[1:, ::2], x)[0]
    return g * x


def _mirror_pad_grad(x, mode):
    padded = tf.pad(x, [[1, 2], [2, 1]], mode)
    g = tf.gradients(padded * padded, x)[0]
    return g * x


def _dynamic_partition(x):
    a, b, _ = tf.dynamic_partition(x, [2, 0, 1, 0], 3)
    return tf.concat([a * 2.0, b], 0)


def _sparse_to_dense(v, d):
    return tf.sparse_to_dense([[0, 1], [1, 0], [2, 2]], [3, 4], v, d) * 2.0


def _sparse_to_dense_scalar(v, d):
    return tf.sparse_to_dense([[0, 1], [1, 0]], [2, 3], v, d)


CASES = [
    ("reshape", ["Reshape"], lambda x: tf.reshape(x, [4, -1]) * 2.0, [_r(2, 3, 4)]),
    ("transpose", ["Transpose"], lambda x: tf.transpose(x, [2, 0, 1]), [_r(2, 3, 4)]),
    ("transpose_default", ["Transpose"], lambda x: tf.transpose(x) * x[0, 0], [_r(2, 3)]),
    ("concat", ["ConcatV2"], lambda x, y: tf.concat([x, y, x], 1), [_r(2, 3), _r(2, 1)]),
    ("concat_neg_axis", ["ConcatV2"], lambda x, y: tf.concat([x, y], -2),
     [_r(2, 3, 2), _r(2, 1, 2)]),
    ("stack", ["Pack"], lambda x, y: tf.stack([x, y, x * y], axis=1), [_r(2, 3), _r(2, 3)]),
    ("unstack", ["Unpack"], _unstack, [_r(2, 3, 2)]),
    ("split", ["Split"], _split, [_r(2, 6)]),
    ("splitv", ["SplitV"], _splitv, [_r(3, 4)]),
    ("expand_dims", ["ExpandDims"], lambda x: tf.expand_dims(x, 1) * 2.0, [_r(2, 3)]),
    ("squeeze", ["Squeeze"], lambda x: tf.squeeze(x, [0, 2]) * 2.0, [_r(1, 3, 1, 2)]),
    ("slice", ["Slice"], lambda x: tf.slice(x, [1, 0, 1], [1, -1, 2]), [_r(2, 3, 4)]),
    ("getitem_basic", ["StridedSlice"], lambda x: x[1, :, 1:3], [_r(2, 3, 4)]),
    ("getitem_masks", ["StridedSlice"], lambda x: x[..., None, ::-2] * x[:, -1:, 0, None, None],
     [_r(2, 3, 4)]),
    ("strided_slice_shrink_newaxis", ["StridedSlice"],
     lambda x: tf.strided_slice(x, [0, 1], [0, 3], [1, 1], shrink_axis_mask=1,
                                new_axis_mask=0), [_r(2, 4)]),
    ("strided_slice_grad", ["StridedSliceGrad"], _strided_slice_grad, [_r(3, 4)]),
    ("gather_axis0", ["GatherV2"], lambda x: tf.gather(x, [2, 0, 2, 1]), [_r(4, 3)]),
    ("gather_2d_indices", ["GatherV2"], lambda x: tf.gather(x, [[1, 1], [3, 0]]) * 2.0,
     [_r(4, 2)]),
    ("gather_axis1", ["GatherV2"], lambda x: tf.gather(x, [[2, 0], [2, 2]], axis=1),
     [_r(2, 3, 2)]),
    ("gather_densified", ["GatherV2"],
     lambda x: tf.gather(x * 2.0, [1, 1, 0]), [_r(3, 2)]),
    ("gather_nd", ["GatherNd"], lambda x: tf.gather_nd(x, [[0, 1], [2, 0], [0, 1]]),
     [_r(3, 2)]),
    ("gather_nd_rows", ["GatherNd"], lambda x: tf.gather_nd(x, [[2], [0], [2]]), [_r(3, 2)]),
    ("scatter_nd", ["ScatterNd"], lambda u: tf.scatter_nd([[1], [3], [1]], u, [5, 2]),
     [_r(3, 2)]),
    ("tile", ["Tile"], lambda x: tf.tile(x, [2, 1, 3]), [_r(2, 3, 2)]),
    ("pad", ["Pad"], lambda x: tf.pad(x, [[1, 0], [2, 1]]), [_r(2, 3)]),
    ("pad_v2", ["PadV2"], lambda x: tf.pad(x, [[1, 0], [2, 1]], constant_values=2.0) * x[0, 0],
     [_r(2, 3)]),
    ("mirror_pad_reflect", ["MirrorPad"], lambda x: tf.pad(x, [[1, 2], [2, 1]], "REFLECT"),
     [_r(4, 3)]),
    ("mirror_pad_symmetric", ["MirrorPad"],
     lambda x: tf.pad(x, [[2, 2], [3, 1]], "SYMMETRIC"), [_r(3, 3)]),
    ("mirror_pad_grad_reflect", ["MirrorPadGrad"], lambda x: _mirror_pad_grad(x, "REFLECT"),
     [_r(4, 3)]),
    ("mirror_pad_grad_symmetric", ["MirrorPadGrad"],
     lambda x: _mirror_pad_grad(x, "SYMMETRIC"), [_r(3, 3)]),
    ("reverse", ["ReverseV2"], lambda x: tf.reverse(x, [0, -1]) * x, [_r(2, 3)]),
    ("broadcast_to", ["BroadcastTo"], lambda x: tf.broadcast_to(x, [2, 3, 4]), [_r(3, 1)]),
    ("fill", ["Fill"], lambda v: tf.fill([2, 3], v) * 2.0, [_r()]),
    ("unsorted_segment_sum", ["UnsortedSegmentSum"],
     lambda x: tf.unsorted_segment_sum(x, [0, -1, 3, 0], 4), [_r(4, 2)]),
    ("sparse_to_dense", ["SparseToDense"], _sparse_to_dense, [_r(3), _r()]),
    ("sparse_to_dense_scalar_value", ["SparseToDense"], _sparse_to_dense_scalar, [_r(), _r()]),
    ("dynamic_partition", ["DynamicPartition"], _dynamic_partition,
     [_r(4, 2)]),
    ("dynamic_stitch", ["DynamicStitch"],
     lambda x, y: tf.dynamic_stitch([[0, 2], [1, 3, 4]], [x, y]), [_r(2, 2), _r(3, 2)]),
    ("boolean_mask", ["Where", "GatherV2"],
     lambda x: tf.boolean_mask(x, [[True, False, True], [False, True, True]]), [_r(2, 3, 2)]),
    ("zeros_like_stops", [], lambda x: array.zeros_like(x, optimize=False) + x * 2.0,
     [_r(2, 2)]),
]
