"""decode_csv, decode_raw, string_to_number and the file ops."""
import os

import numpy as np
import pytest

import flowcore.compat.v1 as tf
from flowcore import errors


def _csv(records, defaults, **kw):
    out = tf.decode_csv(records, defaults, **kw)
    with tf.Session() as sess:
        return sess.run(out), out


def _csv_error(records, defaults, match, **kw):
    out = tf.decode_csv(records, defaults, **kw)
    with tf.Session() as sess, pytest.raises(errors.InvalidArgumentError, match=match):
        sess.run(out)


def test_decode_csv_types_defaults_and_quotes():
    (a, b, c, d, e), out = _csv(
        ['1,"a,b",2.5,7,x', '2,,,,"say ""hi"""', '3,"multi\nline",-1e3,9,""'],
        [[0], ["dflt"], [1.0], tf.constant([-1], tf.int64), ["e"]])
    assert [t.dtype for t in out] == [tf.int32, tf.string, tf.float32, tf.int64, tf.string]
    assert all(t.shape.as_list() == [3] for t in out)
    np.testing.assert_array_equal(a, [1, 2, 3])
    assert a.dtype == np.int32 and c.dtype == np.float32 and d.dtype == np.int64
    assert list(b) == [b"a,b", b"dflt", b"multi\nline"]
    np.testing.assert_array_equal(c, [2.5, 1.0, -1000.0])
    np.testing.assert_array_equal(d, [7, -1, 9])
    assert list(e) == [b"x", b'say "hi"', b"e"]     # "" is an empty field: the default


def test_decode_csv_shapes_delims_na_and_select():
    (x, y), out = _csv([["1|2"], ["3|4"]], [[0], [0.0]], field_delim="|")
    assert out[0].shape.as_list() == [2, 1] and x.shape == (2, 1)
    np.testing.assert_array_equal(y, [[2.0], [4.0]])
    (x, y), _ = _csv("5,6", [[0], [0]])
    assert x == 5 and y == 6 and np.ndim(x) == 0
    (x, y), _ = _csv(["NA,1", "2,NA"], [[0], [5]], na_value="NA")
    np.testing.assert_array_equal(x, [0, 2])
    np.testing.assert_array_equal(y, [1, 5])
    (x, y), _ = _csv(["1,2,3,4", "5,6,7,8,9"], [[0], [0]], select_cols=[1, 3])
    np.testing.assert_array_equal(x, [2, 6])
    np.testing.assert_array_equal(y, [4, 8])
    (q,), _ = _csv(['"a",1'], [[""]], use_quote_delim=False, select_cols=[0])
    assert list(q) == [b'"a"']
    (f64,), _ = _csv(["0.1"], [tf.constant([0.0], tf.float64)])
    assert f64.dtype == np.float64 and f64[0] == 0.1


def test_decode_csv_number_forms_follow_tf():
    (f,), _ = _csv(["inf", "-inf", "nan", "1e3", ".5", "5.", "0x10", "+3", " 1.5 ",
                    "Infinity", "1e400", "0x1p3"], [[0.0]], field_delim=";")
    np.testing.assert_array_equal(f[[0, 1, 3, 4, 5, 6, 7, 8, 9, 10, 11]],
                                  [np.inf, -np.inf, 1000, 0.5, 5, 16, 3, 1.5, np.inf,
                                   np.inf, 8])
    assert np.isnan(f[2])
    (i,), _ = _csv(["+3", "-0", "007", " 4 ", "-2147483648"], [[0]])
    np.testing.assert_array_equal(i, [3, 0, 7, 4, -2**31])
    (i,), _ = _csv(["9223372036854775807"], [tf.constant([0], tf.int64)])
    assert i[0] == 2**63 - 1


@pytest.mark.parametrize("records,defaults,match,kw", [
    (["1,2"], [[0], [0], [0.0]], r"^Expect 3 fields but have 2 in record 0$", {}),
    (["1,2,3", "1,2,3,4"], [[0], [0], [0.0]], "Expect 3 fields but have 4 in record 1", {}),
    ([""], [[0]], "Expect 1 fields but have 0 in record 0", {}),
    (["1,,2"], [[0], lambda: tf.constant([], tf.string), [0.0]],
     r"^Field 1 is required but missing in record 0!$", {}),
    (["1,x,3"], [[0], [0], [0.0]], r"^Field 1 in record 0 is not a valid int32: x$", {}),
    (["1,2,3", "1,2,3x"], [[0], [0], [0.0]], "Field 2 in record 1 is not a valid float: 3x", {}),
    (["1.0"], [[0]], "not a valid int32: 1.0", {}),
    (["2147483648"], [[0]], "not a valid int32: 2147483648", {}),
    (["1_0"], [[0.0]], "not a valid float: 1_0", {}),
    (["1e"], [[0.0]], "not a valid float", {}),
    (["x"], [lambda: tf.constant([0.0], tf.float64)], "not a valid double: x", {}),
    (['a"b"c,1'], [[""], [0]], "Unquoted fields cannot have quotes/CRLFs inside", {}),
    (['a\nb,1'], [[""], [0]], "Unquoted fields cannot have quotes/CRLFs inside", {}),
    (['1,2\r'], [[0], [0]], "Unquoted fields cannot have quotes/CRLFs inside", {}),
    (['"abc,1'], [[""], [0]], "Quoted field has to end with quote followed by delim", {}),
    (['"ab"c,1'], [[""], [0]], "Quote inside a string has to be escaped", {}),
    (["1,2"], [[0], [0]], "Expect 2 fields but have 2|Expect 2 fields", {"select_cols": [1, 2]}),
])
def test_decode_csv_errors(records, defaults, match, kw):
    defaults = [d() if callable(d) else d for d in defaults]
    _csv_error(records, defaults, match, **kw)


def test_decode_csv_build_errors():
    with pytest.raises(TypeError, match="bool"):
        tf.decode_csv(["1"], [[True]])
    with pytest.raises(ValueError, match="length-0 or length-1"):
        tf.decode_csv(["1"], [[0, 1]])
    with pytest.raises(ValueError, match="1 char"):
        tf.decode_csv(["1"], [[0]], field_delim="::")
    with pytest.raises(ValueError, match="strictly increasing"):
        tf.decode_csv(["1"], [[0], [0]], select_cols=[2, 1])
    with pytest.raises(ValueError, match="do not match"):
        tf.decode_csv(["1"], [[0], [0]], select_cols=[1])


def test_decode_raw():
    v = tf.decode_raw(tf.constant([b"\x01\x00\x02\x00", b"\x03\x00\x04\x00"]), tf.int16)
    assert v.shape.as_list() == [2, None] and v.dtype == tf.int16
    be = tf.decode_raw([b"\x01\x00\x02\x00"], tf.int16, little_endian=False)
    f = tf.decode_raw(b"\x00\x00\x80\x3f\x00\x00\x00\xc0", tf.float32)
    u = tf.decode_raw(tf.placeholder(tf.string, [None]), tf.uint8)
    b = tf.decode_raw([b"\x00\x01"], tf.bool)
    assert tf.decode_raw(tf.placeholder(tf.string), tf.uint8).shape.ndims is None
    with tf.Session() as sess:
        r = sess.run(v)
        np.testing.assert_array_equal(r, [[1, 2], [3, 4]])
        assert r.dtype == np.int16
        np.testing.assert_array_equal(sess.run(be), [[256, 512]])
        np.testing.assert_array_equal(sess.run(f), [1.0, -2.0])
        assert sess.run(u, {u.op.inputs[0]: []}).shape == (0, 0)
        np.testing.assert_array_equal(sess.run(b), [[False, True]])
        with pytest.raises(errors.InvalidArgumentError,
                           match="length 3 that is not a multiple of 2, the size of int16"):
            sess.run(tf.decode_raw([b"\x01\x00\x02"], tf.int16))
        with pytest.raises(errors.InvalidArgumentError,
                           match="element 1 has size 4 != 2"):
            sess.run(tf.decode_raw([b"\x01\x00", b"\x01\x00\x02\x00"], tf.int16))
    with pytest.raises(TypeError, match="string"):
        tf.decode_raw([b"ab"], tf.string)


def test_string_to_number():
    with tf.Session() as sess:
        np.testing.assert_array_equal(sess.run(tf.string_to_number(["1.5", " 2", "inf"])),
                                      np.array([1.5, 2, np.inf], np.float32))
        r = sess.run(tf.string_to_number([["12"], ["-3"]], tf.int64))
        assert r.dtype == np.int64 and r.shape == (2, 1)
        with pytest.raises(errors.InvalidArgumentError,
                           match="StringToNumberOp could not correctly convert string: 1.5"):
            sess.run(tf.string_to_number(["1.5"], tf.int32))


def test_read_write_matching_files(tmp_path):
    target = tmp_path / "sub" / "dir" / "x.bin"
    w = tf.write_file(str(target), b"hi\x00there")
    r = tf.read_file(str(target))
    assert r.shape.as_list() == [] and r.dtype == tf.string
    for name in ("b.txt", "a.txt", "c.dat"):
        (tmp_path / name).write_text(name)
    m = tf.matching_files(str(tmp_path / "*.txt"))
    m2 = tf.matching_files([str(tmp_path / "*.dat"), str(tmp_path / "a.*")])
    none = tf.matching_files(str(tmp_path / "nomatch*"))
    assert m.shape.as_list() == [None]
    with tf.Session() as sess:
        sess.run(w)
        assert sess.run(r) == b"hi\x00there"
        assert list(sess.run(m)) == [str(tmp_path / n).encode() for n in ("a.txt", "b.txt")]
        assert list(sess.run(m2)) == [str(tmp_path / n).encode() for n in ("a.txt", "c.dat")]
        assert sess.run(none).shape == (0,)
        with pytest.raises(errors.NotFoundError, match="missing.bin"):
            sess.run(tf.read_file(str(tmp_path / "missing.bin")))
    assert os.listdir(target.parent) == ["x.bin"]
