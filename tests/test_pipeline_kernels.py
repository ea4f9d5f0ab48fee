"""Fast paths of kernels the input pipelines lean on: Transpose's copy of a
short moved axis, DecodeRaw on one record and on blocks."""
import numpy as np
import pytest

import flowcore.compat.v1 as tf
from flowcore import errors


@pytest.mark.parametrize("shape,perm", [
    ((4, 3, 5, 6), (0, 2, 3, 1)),      # NCHW -> NHWC: the short axis copied index by index
    ((3, 5, 6), (1, 2, 0)),
    ((2, 3, 4, 5), (3, 2, 1, 0)),
    ((5, 2), (1, 0)),                  # 2-D: a view, as before
    ((4, 3, 5, 6), (0, 1, 3, 2)),
    ((2, 3, 4), (-3, -1, -2)),
])
def test_transpose_values(shape, perm):
    for dt, np_dt in ((tf.float32, np.float32), (tf.int64, np.int64), (tf.string, object)):
        x = np.arange(int(np.prod(shape))).reshape(shape)
        x = x.astype(np_dt) if np_dt is not object else \
            np.array([b"%d" % v for v in x.reshape(-1)], dtype=object).reshape(shape)
        src = x.transpose(np.argsort(perm)) if len(shape) > 2 else x   # a non-contiguous input
        with tf.Graph().as_default():
            p = tf.placeholder(dt, None)
            y = tf.transpose(tf.identity(p), perm)
            with tf.Session() as sess:
                got = sess.run(y, {p: src})
        want = src.transpose(perm)
        assert got.shape == want.shape and got.dtype == want.dtype
        assert got.tolist() == want.tolist()


def test_decode_raw_one_record_and_blocks():
    rec = bytes(range(12))
    with tf.Graph().as_default():
        one = tf.placeholder(tf.string, [])
        many = tf.placeholder(tf.string, [None])
        u8, i16, be = (tf.decode_raw(one, tf.uint8), tf.decode_raw(many, tf.int16),
                       tf.decode_raw(many, tf.int32, little_endian=False))
        flags = tf.decode_raw(many, tf.bool)
        with tf.Session() as sess:
            a = sess.run(u8, {one: rec})
            assert a.tolist() == list(range(12)) and a.flags.writeable
            a[0] = 7                     # a private, writable copy
            b = sess.run(i16, {many: [rec, rec[::-1]]})
            np.testing.assert_array_equal(b, np.frombuffer(rec + rec[::-1], "<i2").reshape(2, 6))
            assert b.dtype == np.int16 and b.flags.writeable
            c = sess.run(be, {many: [rec]})
            np.testing.assert_array_equal(c, np.frombuffer(rec, ">i4").reshape(1, 3))
            assert c.dtype == np.int32
            np.testing.assert_array_equal(sess.run(flags, {many: [b"\x00\x02"]}), [[False, True]])
            assert sess.run(u8, {one: b""}).shape == (0,)
            with pytest.raises(errors.InvalidArgumentError, match="element 2 has size 3 != 2"):
                sess.run(i16, {many: [b"ab", b"cd", b"efg"]})
            with pytest.raises(errors.InvalidArgumentError,
                               match="length 3 that is not a multiple of 2"):
                sess.run(i16, {many: [b"efg"]})
