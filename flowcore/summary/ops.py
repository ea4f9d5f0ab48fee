"""Summary ops: graph ops whose value is a serialized `Summary` protocol buffer
(a scalar string), as TF1's `tf.summary.*` builds them.

Op types and inputs are TF's: `ScalarSummary(tags, values)`,
`HistogramSummary(tag, values)`, `ImageSummary(tag, tensor)`,
`TensorSummaryV2(tag, tensor, serialized_summary_metadata)` and
`MergeSummary(inputs...)`, so the graphs look like TF's in TensorBoard.
Tags follow TF: the summary's name scope (made unique) is its tag and its op
name; `family` adds a prefix and a scope.  None of them is differentiable.

Histograms use TF's default buckets (limits +-1e-12 * 1.1**k and 0, up to
+-DBL_MAX), with runs of empty buckets collapsed into one as TF does.  Images
are PNG-encoded by a small encoder over zlib; float images are rescaled per
image like TF (all >= 0: largest -> 255; else 0 -> 128 and the largest
magnitude -> 0 or 255), non-finite pixels get `bad_color`.
"""
import contextlib
import logging
import re
import struct
import zlib

import numpy as np

from flowcore import dtypes, errors, registry
from flowcore.graph import GraphKeys, get_default_graph, name_scope
from flowcore.ops import core
from flowcore.protos import HistogramProto, Summary, SummaryMetadata
from flowcore.shapes import TensorShape

__all__ = ["scalar", "histogram", "image", "text", "tensor_summary", "merge", "merge_all"]

_log = logging.getLogger("flowcore.summary")
_SCALAR = TensorShape([])
_REAL = frozenset(d.name for d in (dtypes.float16, dtypes.float32, dtypes.float64, dtypes.int8,
                                   dtypes.int16, dtypes.int32, dtypes.int64, dtypes.uint8,
                                   dtypes.uint16, dtypes.uint32, dtypes.uint64))
_IMAGE = frozenset(("uint8", "float16", "float32", "float64"))


def _string_scalar(b):
    out = np.empty((), dtype=object)
    out[()] = b
    return out


def _tags(value):
    return [t.decode("utf-8", "replace") if isinstance(t, bytes) else str(t)
            for t in np.asarray(value, dtype=object).reshape(-1)]


def _check_dtype(op, index, allowed, arg):
    dt = op.inputs[index].dtype
    if dt.name not in allowed:
        raise TypeError("Value passed to parameter '%s' has DataType %s not in list of allowed "
                        "values: %s" % (arg, dt.name, ", ".join(sorted(allowed))))


def _shape_fn(check=None):
    def shape(op):
        if check is not None:
            check(op)
        return [(dtypes.string, _SCALAR)]
    return shape


# -- ScalarSummary -----------------------------------------

def _scalar_kernel(ctx, op, tags, values):
    tags_a, values_a = np.asarray(tags, dtype=object), np.asarray(values)
    if tags_a.shape != values_a.shape:
        raise errors.InvalidArgumentError(
            None, op, "tags and values are not the same shape: %s != %s (tag '%s')"
            % (list(tags_a.shape), list(values_a.shape), ", ".join(_tags(tags_a))))
    s = Summary()
    for tag, v in zip(_tags(tags_a), values_a.reshape(-1).tolist()):
        s.value.add(tag=tag, simple_value=float(v))
    return _string_scalar(s.SerializeToString())


registry.register("ScalarSummary", kernel=_scalar_kernel,
                  shape=_shape_fn(lambda op: _check_dtype(op, 1, _REAL, "values")))


# -- HistogramSummary -----------------------------------------

def _default_bucket_limits():
    """TF's default histogram bucket limits: -DBL_MAX, -x_k..., 0, x_k..., DBL_MAX with
    x_0 = 1e-12, x_{k+1} = 1.1 x_k (repeated multiplication, as TF computes them) < 1e20."""
    pos = [1.0e-12]
    while pos[-1] * 1.1 < 1.0e20:
        pos.append(pos[-1] * 1.1)
    pos.append(np.finfo(np.float64).max)
    return np.array([-v for v in reversed(pos)] + [0.0] + pos)


BUCKET_LIMITS = _default_bucket_limits()
_DBL_MAX = float(np.finfo(np.float64).max)


def histogram_proto(values):
    """The HistogramProto TF writes for `values` (any shape, finite)."""
    v = np.asarray(values, dtype=np.float64).reshape(-1)
    h = HistogramProto()
    if v.size == 0:
        h.min, h.max = _DBL_MAX, -_DBL_MAX
        h.bucket_limit.append(_DBL_MAX)
        h.bucket.append(0.0)
        return h
    h.min, h.max, h.num = float(v.min()), float(v.max()), float(v.size)
    h.sum, h.sum_squares = float(v.sum()), float(np.dot(v, v))
    # bucket i holds [limit[i-1], limit[i]): the first limit above the value
    counts = np.bincount(np.searchsorted(BUCKET_LIMITS, v, side="right"),
                         minlength=len(BUCKET_LIMITS))[:len(BUCKET_LIMITS)].astype(np.float64)
    # a run of empty buckets becomes one bucket ending where the run ends
    nonzero = counts > 0
    keep = nonzero.copy()
    keep[:-1] |= nonzero[1:]
    keep[-1] = True
    h.bucket_limit.extend(BUCKET_LIMITS[keep].tolist())
    h.bucket.extend(counts[keep].tolist())
    return h


def _histogram_kernel(ctx, op, tag, values):
    v = np.asarray(values, dtype=np.float64)
    if not np.isfinite(v).all():
        what = "Nan in summary histogram for" if np.isnan(v).any() else \
            "Infinity in Histogram for"
        raise errors.InvalidArgumentError(None, op, "%s: %s" % (what, _tags(tag)[0]))
    s = Summary()
    s.value.add(tag=_tags(tag)[0], histo=histogram_proto(v))
    return _string_scalar(s.SerializeToString())


registry.register("HistogramSummary", kernel=_histogram_kernel,
                  shape=_shape_fn(lambda op: _check_dtype(op, 1, _REAL, "values")))


# -- ImageSummary -----------------------------------------

def encode_png(pixels):
    """PNG bytes of a uint8 array [height, width, channels] (1, 2, 3 or 4
    channels: gray, gray+alpha, RGB, RGBA), unfiltered rows deflated by zlib."""
    pixels = np.ascontiguousarray(pixels, dtype=np.uint8)
    height, width, channels = pixels.shape
    color_type = {1: 0, 2: 4, 3: 2, 4: 6}[channels]
    rows = np.zeros((height, 1 + width * channels), dtype=np.uint8)   # filter byte 0 per row
    rows[:, 1:] = pixels.reshape(height, width * channels)

    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data +
                struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff))
    return (b"\x89PNG\r\n\x1a\n" +
            chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(rows.tobytes())) + chunk(b"IEND", b""))


def _normalize_float_image(img, bad_color):
    """One float image [h, w, c] as uint8, scaled as TF's ImageSummary does."""
    img = np.asarray(img, dtype=np.float32)
    finite = np.isfinite(img)
    vals = img[finite]
    lo = float(vals.min()) if vals.size else 0.0
    hi = float(vals.max()) if vals.size else 0.0
    if lo < 0:
        biggest = max(abs(lo), abs(hi))
        scale, offset = (127.0 / biggest if biggest else 0.0), 128.0
    else:
        scale, offset = (255.0 / hi if hi else 0.0), 0.0
    with np.errstate(invalid="ignore", over="ignore"):
        out = np.where(finite, img * np.float32(scale) + np.float32(offset), 0)
    out = np.clip(out, 0, 255).astype(np.uint8)
    bad_pixels = ~finite.all(axis=-1)
    if bad_pixels.any():
        out[bad_pixels] = bad_color[:img.shape[-1]]
    return out


def _image_kernel(ctx, op, tag, tensor):
    t = np.asarray(tensor)
    if t.ndim != 4 or t.shape[-1] not in (1, 3, 4):
        raise errors.InvalidArgumentError(
            None, op, "Tensor must be 4-D with last dim 1, 3, or 4, not [%s]"
            % ",".join(str(d) for d in t.shape))
    max_images = op.attrs["max_images"]
    bad = np.zeros(4, np.uint8)
    bc = np.asarray(op.attrs["bad_color"], dtype=np.uint8).reshape(-1)
    bad[:bc.size] = bc[:4]
    base = _tags(tag)[0]
    s = Summary()
    for i in range(min(t.shape[0], max_images)):
        img = t[i] if t.dtype == np.uint8 else _normalize_float_image(t[i], bad)
        name = base + "/image" if max_images == 1 else "%s/image/%d" % (base, i)
        s.value.add(tag=name, image=Summary.Image(
            height=img.shape[0], width=img.shape[1], colorspace=img.shape[2],
            encoded_image_string=encode_png(img)))
    return _string_scalar(s.SerializeToString())


registry.register("ImageSummary", kernel=_image_kernel,
                  shape=_shape_fn(lambda op: _check_dtype(op, 1, _IMAGE, "tensor")))


# -- TensorSummaryV2 (text and generic tensors) -----------------------------------------

def _tensor_summary_kernel(ctx, op, tag, tensor, metadata):
    from flowcore.meta_graph import make_tensor_proto
    s = Summary()
    v = s.value.add(tag=_tags(tag)[0])
    meta = np.asarray(metadata, dtype=object).reshape(-1)[0]
    v.metadata.ParseFromString(meta if isinstance(meta, bytes) else str(meta).encode())
    arr = np.asarray(tensor) if op.inputs[1].dtype is not dtypes.string else \
        np.asarray(tensor, dtype=object)
    v.tensor.CopyFrom(make_tensor_proto(arr, dtype=op.inputs[1].dtype))
    return _string_scalar(s.SerializeToString())


registry.register("TensorSummaryV2", kernel=_tensor_summary_kernel, shape=_shape_fn())


# -- MergeSummary -----------------------------------------

def _merge_kernel(ctx, op, *inputs):
    out = Summary()
    seen = set()
    for x in inputs:
        for raw in np.asarray(x, dtype=object).reshape(-1):
            s = Summary()
            try:
                s.ParseFromString(raw if isinstance(raw, bytes) else bytes(raw))
            except Exception:
                raise errors.InvalidArgumentError(
                    None, op, "Could not parse one of the summary inputs") from None
            for v in s.value:
                if v.tag in seen:
                    raise errors.InvalidArgumentError(
                        None, op, "Duplicate tag %s found in summary inputs " % v.tag)
                seen.add(v.tag)
                out.value.add().CopyFrom(v)
    return _string_scalar(out.SerializeToString())


def _merge_check(op):
    for t in op.inputs:
        if t.dtype is not dtypes.string:
            raise TypeError("MergeSummary inputs must be string tensors, got %s (%s)"
                            % (t.dtype.name, t.name))


registry.register("MergeSummary", kernel=_merge_kernel, shape=_shape_fn(_merge_check))

for _t in ("ScalarSummary", "HistogramSummary", "ImageSummary", "TensorSummaryV2",
           "MergeSummary"):
    registry.NotDifferentiable(_t)


# -- the tf.summary builders -----------------------------------------

_INVALID_TAG_CHARACTERS = re.compile(r"[^-/\w\.]")


def _clean_tag(name):
    """Replace characters TensorBoard does not allow in tags by '_' (and drop
    leading slashes), as TF does, logging the change."""
    if name is None:
        return None
    new = _INVALID_TAG_CHARACTERS.sub("_", name).lstrip("/")
    if new != name:
        _log.info("Summary name %s is illegal; using %s instead.", name, new)
    return new


@contextlib.contextmanager
def _summary_scope(name, family, values):
    """Enter the summary's name scope (`family/name`, made unique); yield
    (tag, scope): the tag is the scope, prefixed once more by the family so
    TensorBoard groups it under the family's tab."""
    name, family = _clean_tag(name), _clean_tag(family)
    base = name if family is None else "%s/%s" % (family, name)
    with name_scope(base, values=values) as scope:
        tag = scope.rstrip("/")
        yield (tag if family is None else "%s/%s" % (family, tag)), scope


def _collect(val, collections, default):
    g = val.graph
    for key in (default if collections is None else collections):
        g.add_to_collection(key, val)


def _summary_op(op_type, inputs, attrs, scope):
    return core.apply_op(op_type, inputs, attrs, name=scope).outputs[0]


def scalar(name, tensor, collections=None, family=None):
    """A summary op holding one scalar value (TF's `tf.summary.scalar`)."""
    tensor = core.convert_to_tensor(tensor)
    with _summary_scope(name, family, [tensor]) as (tag, scope):
        tags = core.constant(tag, name="tags")
        val = _summary_op("ScalarSummary", [tags, tensor], {"T": tensor.dtype}, scope)
    _collect(val, collections, [GraphKeys.SUMMARIES])
    return val


def histogram(name, values, collections=None, family=None):
    """A summary op holding a histogram of `values` (TF's `tf.summary.histogram`)."""
    values = core.convert_to_tensor(values)
    with _summary_scope(name, family, [values]) as (tag, scope):
        t = core.constant(tag, name="tag")
        val = _summary_op("HistogramSummary", [t, values], {"T": values.dtype}, scope)
    _collect(val, collections, [GraphKeys.SUMMARIES])
    return val


def image(name, tensor, max_outputs=3, collections=None, family=None):
    """A summary op holding up to `max_outputs` PNG images of the 4-D
    `tensor` [batch, height, width, 1|3|4] (TF's `tf.summary.image`)."""
    tensor = core.convert_to_tensor(tensor)
    if int(max_outputs) < 1:
        raise ValueError("Attr 'max_images' of 'ImageSummary' Op passed %d less than minimum 1."
                         % int(max_outputs))
    with _summary_scope(name, family, [tensor]) as (tag, scope):
        t = core.constant(tag, name="tag")
        bad_color = np.array([255, 0, 0, 255], dtype=np.uint8)
        bad_color.flags.writeable = False
        val = _summary_op("ImageSummary", [t, tensor],
                          {"T": tensor.dtype, "max_images": int(max_outputs),
                           "bad_color": bad_color}, scope)
    _collect(val, collections, [GraphKeys.SUMMARIES])
    return val


def tensor_summary(name, tensor, summary_description=None, collections=None,
                   summary_metadata=None, family=None, display_name=None):
    """A summary op holding `tensor` itself, with optional SummaryMetadata."""
    tensor = core.convert_to_tensor(tensor)
    meta = SummaryMetadata()
    if summary_metadata is not None:
        meta.CopyFrom(summary_metadata)
    if summary_description is not None:
        meta.summary_description = summary_description
    if display_name is not None:
        meta.display_name = display_name
    with _summary_scope(name, family, [tensor]) as (tag, scope):
        t = core.constant(tag, name="tag")
        m = core.constant(meta.SerializeToString(), name="serialized_summary_metadata")
        val = _summary_op("TensorSummaryV2", [t, tensor, m], {"T": tensor.dtype}, scope)
    _collect(val, collections, [GraphKeys.SUMMARIES])
    return val


def text(name, tensor, collections=None):
    """A summary op holding a string tensor for TensorBoard's text plugin."""
    tensor = core.convert_to_tensor(tensor)
    if tensor.dtype is not dtypes.string:
        raise ValueError("Expected tensor %s to have dtype string, got %s"
                         % (tensor.name, tensor.dtype))
    meta = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(plugin_name="text"))
    return tensor_summary(name, tensor, collections=collections, summary_metadata=meta)


def merge(inputs, collections=None, name=None):
    """One summary holding the values of all `inputs` (serialized Summary
    tensors); running it fails on two values with one tag."""
    inputs = [core.convert_to_tensor(x) for x in inputs]
    g = core.graph_for(inputs) if inputs else get_default_graph()
    with g.as_default(), name_scope(name, "Merge", inputs):
        val = core.apply_op("MergeSummary", inputs, {"N": len(inputs)},
                            name="MergeSummary").outputs[0]
    _collect(val, collections, [])
    return val


def merge_all(key=GraphKeys.SUMMARIES, scope=None, name=None):
    """`merge` of every summary in collection `key` (under `scope`), or None
    when there are none."""
    ops = get_default_graph().get_collection(key, scope)
    if not ops:
        return None
    return merge(ops, name=name)

