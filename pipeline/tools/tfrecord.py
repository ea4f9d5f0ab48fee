"""`tfrecord`: inspect, check and convert TFRecord files without TensorFlow.

    tfrecord count FILE...             records per file and the total
    tfrecord head [-n N] FILE...       the first N Examples as JSON lines
    tfrecord cat FILE...               every Example as JSON lines
    tfrecord verify FILE...            check every CRC; exit 1 on corruption
    tfrecord write OUT [JSONL]         JSON lines (as `cat` prints) -> Examples
    tfrecord from-csv CSV OUT          CSV with a header -> Examples
    tfrecord to-csv FILE...            flat Examples -> CSV
    tfrecord convert IN OUT --to gzip  change compression (none, gzip, zlib)

An Example prints as {"key": {"int64": [...]}, "key2": {"bytes": [...]}, ...};
bytes that are printable UTF-8 show as strings, others as {"hex": "..."}.
Compression is detected from the file's first bytes unless --compression is
given.  Bad input is reported as one line on stderr with exit status 1.
"""
import argparse
import csv
import json
import math
import os
import struct
import sys

from flowcore import errors
from pipeline import tfrecord as tfr
from pipeline.protos import Example, SequenceExample

_KINDS = {"bytes_list": "bytes", "float_list": "float", "int64_list": "int64"}


class UsageError(Exception):
    """Bad input: printed as one line, exit status 1."""


# -- compression -----------------------------------------------------------------------

def detect_compression(path):
    """'', 'GZIP' or 'ZLIB' from the first bytes of `path`."""
    try:
        with open(path, "rb") as f:
            head = f.read(12)
    except OSError as e:
        raise tfr.os_error(e, path) from None
    if len(head) == 12 and tfr.masked_crc32c(head[:8]) == struct.unpack("<I", head[8:])[0]:
        return ""
    if head[:2] == b"\x1f\x8b":
        return "GZIP"
    if len(head) >= 2 and head[0] & 0x0f == 8 and (head[0] * 256 + head[1]) % 31 == 0:
        return "ZLIB"
    return ""


def _compression(args, path):
    c = getattr(args, "compression", "auto")
    if c == "auto":
        return detect_compression(path)
    return tfr.compression_string(c.upper())


# -- Examples <-> JSON ---------------------------------------------------------------------

def _show_bytes(b):
    try:
        s = b.decode("utf-8")
    except UnicodeDecodeError:
        return {"hex": b.hex()}
    if any(ord(c) < 32 and c not in "\t\n" or c == "\x7f" for c in s):
        return {"hex": b.hex()}
    return s


def _show_float(x):
    if math.isnan(x) or math.isinf(x):
        return str(x)          # JSON has no NaN/inf: "nan", "inf", "-inf"
    return x


def feature_to_json(f):
    kind = f.WhichOneof("kind")
    if kind is None:
        return {}
    vals = getattr(f, kind).value
    if kind == "bytes_list":
        return {"bytes": [_show_bytes(v) for v in vals]}
    if kind == "float_list":
        return {"float": [_show_float(v) for v in vals]}
    return {"int64": list(vals)}


def example_to_json(ex):
    fmap = ex.features.feature
    return {k: feature_to_json(fmap[k]) for k in sorted(fmap)}


def sequence_example_to_json(se):
    lists = se.feature_lists.feature_list
    return {"context": example_to_json(se),
            "feature_lists": {k: [feature_to_json(f) for f in lists[k].feature]
                              for k in sorted(lists)}}


def _bytes_value(v, where):
    if isinstance(v, str):
        return v.encode("utf-8")
    if isinstance(v, dict) and set(v) == {"hex"}:
        try:
            return bytes.fromhex(v["hex"])
        except (TypeError, ValueError):
            raise UsageError("%s: bad hex value %r" % (where, v["hex"])) from None
    raise UsageError("%s: a bytes value must be a string or {\"hex\": ...}, got %r"
                     % (where, v))


def json_to_example(obj, where):
    if not isinstance(obj, dict):
        raise UsageError("%s: expected a JSON object of features" % where)
    ex = Example()
    fmap = ex.features.feature
    for key, spec in obj.items():
        if not isinstance(spec, dict) or len(spec) > 1 or \
                spec and next(iter(spec)) not in ("bytes", "float", "int64"):
            raise UsageError("%s: feature %r must be {\"bytes\"|\"float\"|\"int64\": [...]}"
                             % (where, key))
        f = fmap[key]
        if not spec:
            continue
        kind, vals = next(iter(spec.items()))
        if not isinstance(vals, list):
            raise UsageError("%s: feature %r: values must be a list" % (where, key))
        try:
            if kind == "bytes":
                f.bytes_list.value.extend(_bytes_value(v, "%s: feature %r" % (where, key))
                                          for v in vals)
            elif kind == "float":
                f.float_list.value.extend(float(v) for v in vals)
            else:
                if any(isinstance(v, float) and not v.is_integer() for v in vals):
                    raise ValueError("not an integer")
                f.int64_list.value.extend(int(v) for v in vals)
        except (TypeError, ValueError, OverflowError) as e:
            raise UsageError("%s: feature %r: bad %s value (%s)" % (where, key, kind, e)) \
                from None
    return ex


# -- reading helpers -------------------------------------------------------------------------

def _records(args, path):
    return tfr.tf_record_iterator(path, _compression(args, path))


def _parse(record, path, index, sequence=False):
    try:
        return (SequenceExample if sequence else Example).FromString(record)
    except Exception:
        raise UsageError("%s: record %d is not a serialized %s (use --raw to print records "
                         "as hex)" % (path, index, "SequenceExample" if sequence
                                      else "Example")) from None


def _print_records(args, limit):
    out = sys.stdout
    for path in args.files:
        n = 0
        for i, rec in enumerate(_records(args, path)):
            if limit is not None and n >= limit:
                break
            if args.raw:
                out.write(json.dumps({"hex": rec.hex()}) + "\n")
            elif args.sequence:
                out.write(json.dumps(sequence_example_to_json(
                    _parse(rec, path, i, True)), ensure_ascii=False) + "\n")
            else:
                out.write(json.dumps(example_to_json(_parse(rec, path, i)),
                                     ensure_ascii=False) + "\n")
            n += 1
    return 0


# -- commands --------------------------------------------------------------------------------

def cmd_count(args):
    total = 0
    for path in args.files:
        n = sum(1 for _ in _records(args, path))
        total += n
        print("%d\t%s" % (n, path))
    if len(args.files) > 1:
        print("%d\ttotal" % total)
    return 0


def cmd_head(args):
    if args.n < 0:
        raise UsageError("-n must be >= 0")
    return _print_records(args, args.n)


def cmd_cat(args):
    return _print_records(args, None)


def cmd_verify(args):
    bad_files = 0
    for path in args.files:
        comp = _compression(args, path)
        good = bad = 0
        for offset, length, problem in tfr.scan(path, comp):
            if problem is None:
                good += 1
            else:
                bad += 1
                print("%s: bad record at offset %d: %s" % (path, offset, problem))
        status = "OK" if not bad else "CORRUPT"
        print("%s: %s, %d good record%s, %d bad%s" % (
            path, status, good, "" if good == 1 else "s", bad,
            " (compression %s)" % comp if comp else ""))
        bad_files += bool(bad)
    return 1 if bad_files else 0


def _open_writers(out, shards, compression):
    if shards < 1:
        raise UsageError("--shards must be >= 1")
    if shards == 1:
        names = [out]
    else:
        names = ["%s-%05d-of-%05d" % (out, i, shards) for i in range(shards)]
    opts = tfr.TFRecordOptions(tfr.compression_string(compression.upper()))
    return names, [tfr.TFRecordWriter(n, opts) for n in names]


def cmd_write(args):
    src = sys.stdin if args.input in (None, "-") else open(args.input, encoding="utf-8")
    names, writers = _open_writers(args.output, 1, args.to)
    n = 0
    try:
        for lineno, line in enumerate(src, 1):
            if not line.strip():
                continue
            where = "%s:%d" % (args.input or "<stdin>", lineno)
            try:
                obj = json.loads(line)
            except ValueError as e:
                raise UsageError("%s: not JSON (%s)" % (where, e)) from None
            writers[0].write(json_to_example(obj, where).SerializeToString())
            n += 1
    finally:
        for w in writers:
            w.close()
        if src is not sys.stdin:
            src.close()
    print("wrote %d records to %s" % (n, names[0]), file=sys.stderr)
    return 0


def _infer_type(values):
    nonempty = [v for v in values if v != ""]
    if not nonempty:
        return "bytes"
    try:
        for v in nonempty:
            int(v.strip())
        return "int64"
    except ValueError:
        pass
    try:
        for v in nonempty:
            float(v)
        return "float"
    except ValueError:
        return "bytes"


def _parse_types(spec):
    types = {}
    for part in (spec or "").split(","):
        if not part.strip():
            continue
        col, sep, t = part.partition("=")
        t = t.strip().lower()
        t = {"str": "bytes", "string": "bytes", "int": "int64", "float32": "float"}.get(t, t)
        if not sep or t not in ("bytes", "float", "int64"):
            raise UsageError("--types wants COLUMN=bytes|float|int64[,...], got %r" % part)
        types[col.strip()] = t
    return types


def cmd_from_csv(args):
    try:
        with open(args.csv, newline="", encoding="utf-8") as f:
            rows = list(csv.reader(f, delimiter=args.delimiter))
    except OSError as e:
        raise tfr.os_error(e, args.csv) from None
    except (UnicodeDecodeError, csv.Error) as e:
        raise UsageError("%s: cannot read CSV (%s)" % (args.csv, e)) from None
    if not rows:
        raise UsageError("%s: empty CSV file (a header line is needed)" % args.csv)
    header, body = rows[0], rows[1:]
    if len(set(header)) != len(header):
        raise UsageError("%s: duplicate column names in the header" % args.csv)
    for i, row in enumerate(body, 2):
        if len(row) != len(header):
            raise UsageError("%s:%d: %d fields, the header has %d"
                             % (args.csv, i, len(row), len(header)))
    given = _parse_types(args.types)
    unknown = set(given) - set(header)
    if unknown:
        raise UsageError("--types names unknown column(s): %s" % ", ".join(sorted(unknown)))
    types = [given.get(h) or _infer_type([r[j] for r in body]) for j, h in enumerate(header)]
    names, writers = _open_writers(args.output, args.shards, args.compression)
    per = -(-len(body) // len(writers)) if body else 1
    try:
        for i, row in enumerate(body):
            ex = Example()
            fmap = ex.features.feature
            for h, t, v in zip(header, types, row):
                f = fmap[h]
                try:
                    if t == "bytes":
                        f.bytes_list.value.append(v.encode("utf-8")) if v != "" \
                            else f.bytes_list.SetInParent()
                    elif t == "int64":
                        f.int64_list.value.append(int(v.strip())) if v != "" \
                            else f.int64_list.SetInParent()
                    else:
                        f.float_list.value.append(float(v)) if v != "" \
                            else f.float_list.SetInParent()
                except (ValueError, OverflowError):
                    raise UsageError("%s:%d: column %r: %r is not a valid %s"
                                     % (args.csv, i + 2, h, v, t)) from None
            writers[min(i // per, len(writers) - 1)].write(ex.SerializeToString())
    finally:
        for w in writers:
            w.close()
    print("wrote %d records to %s (%s)" % (len(body), ", ".join(names), ", ".join(
        "%s:%s" % (h, t) for h, t in zip(header, types))), file=sys.stderr)
    return 0


def cmd_to_csv(args):
    rows, keys = [], []
    seen = set()
    for path in args.files:
        for i, rec in enumerate(_records(args, path)):
            ex = _parse(rec, path, i)
            fmap = ex.features.feature
            row = {}
            for k in fmap:
                f = fmap[k]
                kind = f.WhichOneof("kind")
                vals = getattr(f, kind).value if kind else []
                if len(vals) > 1:
                    raise UsageError("%s: record %d: feature %r has %d values; to-csv needs "
                                     "flat Examples (at most one value per feature)"
                                     % (path, i, k, len(vals)))
                if vals:
                    v = vals[0]
                    row[k] = v.decode("utf-8", "backslashreplace") if kind == "bytes_list" \
                        else repr(v) if kind == "float_list" else str(v)
                else:
                    row[k] = ""
                if k not in seen:
                    seen.add(k)
                    keys.append(k)
            rows.append(row)
    keys = sorted(keys) if not args.columns else args.columns.split(",")
    out = open(args.output, "w", newline="", encoding="utf-8") if args.output else sys.stdout
    try:
        w = csv.writer(out, delimiter=args.delimiter, lineterminator="\n")
        w.writerow(keys)
        for row in rows:
            w.writerow([row.get(k, "") for k in keys])
    finally:
        if out is not sys.stdout:
            out.close()
    return 0


def cmd_convert(args):
    comp_in = _compression(args, args.input)
    comp_out = tfr.compression_string(args.to.upper())
    if os.path.abspath(args.input) == os.path.abspath(args.output):
        raise UsageError("input and output are the same file")
    n = 0
    tmp = args.output + ".partial"
    try:
        with tfr.TFRecordWriter(tmp, tfr.TFRecordOptions(comp_out)) as w:
            for rec in tfr.tf_record_iterator(args.input, comp_in):
                w.write(rec)
                n += 1
        os.replace(tmp, args.output)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    print("converted %d records: %s (%s) -> %s (%s)" % (
        n, args.input, comp_in or "none", args.output, comp_out or "none"), file=sys.stderr)
    return 0


# -- argument parsing --------------------------------------------------------------------------

def build_parser():
    p = argparse.ArgumentParser(
        prog="tfrecord", description="Inspect, check and convert TFRecord files "
        "(TensorFlow's record format) without TensorFlow.")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    comp = dict(choices=["auto", "none", "gzip", "zlib"], default="auto",
                help="input compression (default: detected from the file)")

    def files_cmd(name, fn, help, **extra):
        s = sub.add_parser(name, help=help, description=help)
        s.add_argument("files", nargs="+", metavar="FILE")
        s.add_argument("--compression", **comp)
        s.set_defaults(fn=fn)
        return s

    files_cmd("count", cmd_count, "print the number of records per file and in total")
    for name, fn, help in (("head", cmd_head, "print the first records as JSON lines"),
                           ("cat", cmd_cat, "print every record as JSON lines")):
        s = files_cmd(name, fn, help)
        if name == "head":
            s.add_argument("-n", type=int, default=10, help="records per file (default 10)")
        s.add_argument("--raw", action="store_true",
                       help="print records as {\"hex\": ...} instead of parsing Examples")
        s.add_argument("--sequence", action="store_true",
                       help="records are SequenceExamples")
    files_cmd("verify", cmd_verify, "check every record's CRCs; print each bad record's "
              "offset; exit 1 when a file is corrupt")

    s = sub.add_parser("write", help="write JSON lines (as cat prints them) as Examples",
                       description="Write Examples from JSON lines in the format `cat` "
                       "prints.")
    s.add_argument("output", metavar="OUT")
    s.add_argument("input", nargs="?", metavar="JSONL", help="input file (default stdin)")
    s.add_argument("--to", choices=["none", "gzip", "zlib"], default="none",
                   help="output compression")
    s.set_defaults(fn=cmd_write)

    s = sub.add_parser("from-csv", help="convert a CSV file with a header to Examples",
                       description="One Example per CSV row, one feature per column; "
                       "column types are inferred (int64, float, else bytes) unless given.")
    s.add_argument("csv", metavar="CSV")
    s.add_argument("output", metavar="OUT")
    s.add_argument("--types", help="COLUMN=bytes|float|int64,... overriding inference")
    s.add_argument("--delimiter", default=",", help="field delimiter (default ',')")
    s.add_argument("--compression", choices=["none", "gzip", "zlib"], default="none",
                   help="output compression")
    s.add_argument("--shards", type=int, default=1,
                   help="write OUT-00000-of-0000N ... instead of one file")
    s.set_defaults(fn=cmd_from_csv)

    s = files_cmd("to-csv", cmd_to_csv, "convert flat Examples (at most one value per "
                  "feature) to CSV with a header")
    s.add_argument("-o", "--output", help="output file (default stdout)")
    s.add_argument("--columns", help="comma-separated columns, in order (default: all, "
                   "sorted)")
    s.add_argument("--delimiter", default=",", help="field delimiter (default ',')")

    s = sub.add_parser("convert", help="rewrite a file with another compression",
                       description="Copy every record (CRCs checked) to OUT with the "
                       "compression given by --to.")
    s.add_argument("input", metavar="IN")
    s.add_argument("output", metavar="OUT")
    s.add_argument("--to", choices=["none", "gzip", "zlib"], required=True,
                   help="output compression")
    s.add_argument("--compression", **comp)
    s.set_defaults(fn=cmd_convert)
    return p


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        return args.fn(args)
    except BrokenPipeError:        # `tfrecord cat f | head`: stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except (UsageError, errors.OpError, OSError, ValueError) as e:
        msg = str(e) if not isinstance(e, OSError) or not e.filename else \
            "%s: %s" % (e.filename, e.strerror)
        print("tfrecord: error: %s" % msg, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130

if __name__ == "__main__":
    sys.exit(main())
