"""Protocol buffers: committed modules match proto/, our package name, TF's wire format."""
import importlib.util
import pathlib
import sys

import pytest

import flowcore.compat.v1 as tf
from flowcore import protos
from flowcore.protos import _build

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_generated_modules_match_proto_sources():
    if importlib.util.find_spec("grpc_tools") is None:
        pytest.skip("grpcio-tools (the test extra) is not installed")
    if _build.protoc_version() != _build.PROTOC_VERSION:
        pytest.skip("generated code is pinned to grpcio-tools==%s, found %s"
                    % (_build.PROTOC_VERSION, _build.protoc_version()))
    stale = _build.differences(ROOT)
    assert stale == [], ("flowcore/protos is out of date with proto/: run "
                         "`python -m flowcore.protos._build` (stale: %s)" % stale)


def test_every_schema_has_a_committed_module():
    schemas = {p.stem for p in (ROOT / "proto").glob("*.proto")}
    modules = {p.name[:-len("_pb2.py")] for p in (ROOT / "flowcore" / "protos").glob("*_pb2.py")}
    assert schemas == modules
    assert {"example", "feature", "event", "summary", "graph", "node_def", "attr_value",
            "tensor", "tensor_shape", "histogram"} <= schemas


def test_package_is_flowcore_and_proto_is_not_ours():
    for name in ("Example", "SequenceExample", "Feature", "Event", "Summary", "GraphDef",
                 "HistogramProto", "SessionLog", "TensorProto", "NodeDef", "AttrValue"):
        assert getattr(protos, name).DESCRIPTOR.full_name == "flowcore." + name
    assert protos.Example.__module__ == "flowcore.protos.example_pb2"
    spec = importlib.util.find_spec("proto")   # proto-plus owns this name
    assert spec is None or not str(spec.origin or "").startswith(str(ROOT / "proto"))
    assert str(ROOT) not in [str(pathlib.Path(p).resolve()) for p in
                             getattr(spec, "submodule_search_locations", None) or []]
    assert "proto" not in sys.modules or not str(
        getattr(sys.modules["proto"], "__file__", "") or "").startswith(str(ROOT))


def test_tf_train_exports_the_example_messages():
    for name in ("Example", "SequenceExample", "Features", "Feature", "FeatureList",
                 "FeatureLists", "BytesList", "FloatList", "Int64List"):
        assert getattr(tf.train, name) is getattr(protos, name)
    assert set(protos.__all__) == {"Example", "SequenceExample", "Features", "Feature",
                                   "FeatureList", "FeatureLists", "BytesList", "FloatList",
                                   "Int64List"}


def test_wire_format_matches_tensorflow():
    # bytes written by TF 2.21 for these messages (field numbers, packed numerics)
    assert protos.Int64List(value=[1, -2]).SerializeToString() == \
        bytes.fromhex("0a0b01feffffffffffffffff01")
    assert protos.FloatList(value=[1.0, 2.0]).SerializeToString() == \
        bytes.fromhex("0a080000803f00000040")
    assert protos.BytesList(value=[b"a", b""]).SerializeToString() == bytes.fromhex("0a01610a00")
    f = protos.Feature(int64_list=protos.Int64List(value=[5]))
    assert f.SerializeToString() == bytes.fromhex("1a030a0105")
    assert f.WhichOneof("kind") == "int64_list" and f.HasField("int64_list")
    ex = protos.Example(features=protos.Features(feature={
        "id": f, "label": protos.Feature(bytes_list=protos.BytesList(value=[b"fish"]))}))
    back = protos.Example.FromString(ex.SerializeToString())
    assert back == ex and list(back.features.feature["label"].bytes_list.value) == [b"fish"]
    # a record written by TensorFlow parses to the same values
    tf_bytes = bytes.fromhex("0a200a0b0a02696412051a030a01050a110a056c6162656c12080a060a04"
                             "66697368")
    parsed = protos.Example.FromString(tf_bytes)
    assert parsed == back
    assert parsed.features.feature["id"].int64_list.value[0] == 5
    assert parsed.features.feature["label"].bytes_list.value[0] == b"fish"


def test_sequence_example_and_event_round_trip():
    se = protos.SequenceExample()
    se.context.feature["n"].int64_list.value.append(2)
    fl = se.feature_lists.feature_list["tok"]
    fl.feature.add().int64_list.value.extend([1, 2])
    fl.feature.add().int64_list.value.extend([3])
    assert protos.SequenceExample.FromString(se.SerializeToString()) == se
    ev = protos.Event(wall_time=1.5, step=3, summary=protos.Summary(value=[
        protos.Summary.Value(tag="loss", simple_value=0.25)]))
    assert ev.SerializeToString() == bytes.fromhex(   # as TF 2.21 serializes it
        "09000000000000f83f10032a0d0a0b0a046c6f7373150000803e")
    assert protos.Event.FromString(ev.SerializeToString()).summary.value[0].simple_value == 0.25
    assert protos.SessionLog.START == 1 and protos.SessionLog.CHECKPOINT == 3
    assert protos.DataType.Value("DT_STRING") == tf.string.as_datatype_enum
    assert protos.DataType.Value("DT_FLOAT") == tf.float32.as_datatype_enum
