"""Checks proto/tensorboard_event.proto against TensorBoard's own message definitions: every field
we declare must have TensorBoard's field number, type and label, every enum value its number.

Usage (tb-venv python): tb_proto_match.py DESCRIPTOR_SET  (protoc --descriptor_set_out of our .proto)
Exit 0 when all match; 1 listing each mismatch.
"""
import sys

from google.protobuf import descriptor_pb2
from tensorboard.compat.proto import event_pb2, summary_pb2
from tensorboard.plugins.hparams import api_pb2, plugin_data_pb2

THEIRS = {
    "Event": event_pb2.Event, "Summary": summary_pb2.Summary, "Summary.Value": summary_pb2.Summary.Value,
    "SummaryMetadata": summary_pb2.SummaryMetadata, "SummaryMetadata.PluginData": summary_pb2.SummaryMetadata.PluginData,
    "HParamsPluginData": plugin_data_pb2.HParamsPluginData, "SessionStartInfo": plugin_data_pb2.SessionStartInfo,
    "SessionEndInfo": plugin_data_pb2.SessionEndInfo, "Experiment": api_pb2.Experiment, "HParamInfo": api_pb2.HParamInfo,
    "MetricInfo": api_pb2.MetricInfo, "MetricName": api_pb2.MetricName, "Interval": api_pb2.Interval,
}
ENUMS = {"Status": api_pb2.Status, "DataType": api_pb2.DataType, "DatasetType": api_pb2.DatasetType}


def repeated(field):
    """protobuf >= 5 has is_repeated (label is gone in 7); older ones only label."""
    if hasattr(field, "is_repeated"):
        return field.is_repeated
    return field.label == field.LABEL_REPEATED


def main(path):
    fds = descriptor_pb2.FileDescriptorSet()
    with open(path, "rb") as f:
        fds.ParseFromString(f.read())
    ours = next(f for f in fds.file if f.name.endswith("tensorboard_event.proto"))
    bad, seen = [], 0

    def walk(msgs, prefix=""):
        nonlocal seen
        for m in msgs:
            name = prefix + m.name
            if m.options.map_entry:
                continue
            theirs = THEIRS.get(name)
            if theirs is None:
                bad.append(f"{name}: no TensorBoard message to compare with")
                continue
            tf = {f.name: f for f in theirs.DESCRIPTOR.fields}
            for f in m.field:
                t = tf.get(f.name)
                seen += 1
                if t is None:
                    bad.append(f"{name}.{f.name}: TensorBoard has no such field")
                elif (t.number, t.type) != (f.number, f.type):
                    bad.append(f"{name}.{f.name}: ours is number {f.number} type {f.type}, TensorBoard's {t.number} type {t.type}")
                elif repeated(t) != (f.label == f.LABEL_REPEATED):
                    bad.append(f"{name}.{f.name}: repeated in one and not the other")
            walk(m.nested_type, name + ".")

    walk(ours.message_type)
    for e in ours.enum_type:
        theirs = ENUMS.get(e.name)
        if theirs is None:
            bad.append(f"enum {e.name}: no TensorBoard enum to compare with")
            continue
        for v in e.value:
            seen += 1
            if theirs.items().count((v.name, v.number)) != 1:
                bad.append(f"enum {e.name}.{v.name} = {v.number}: TensorBoard says {dict(theirs.items()).get(v.name)}")
    for b in bad:
        print("tb_proto_match: " + b, file=sys.stderr)
    if not bad:
        print(f"tb_proto_match: {seen} fields and enum values match TensorBoard's definitions")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
