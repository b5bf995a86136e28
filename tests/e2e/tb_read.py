"""Reads tb-fixture's event files with TensorBoard's own reader and checks what it finds.

Run with the tb-venv python (scripts/tb-venv.sh). Usage: tb_read.py DIR [--killed]
Exit 0 when every scalar, step and hparam is what tests/tensorboard/tb_fixture_main.cpp wrote; 1 with
the first difference otherwise.
"""
import math
import os
import sys

from tensorboard.backend.event_processing import event_accumulator as ea
from tensorboard.plugins.hparams import api_pb2, plugin_data_pb2

fails = []


def expect(cond, what):
    if not cond:
        fails.append(what)


def load(path):
    acc = ea.EventAccumulator(path, size_guidance={ea.SCALARS: 0})  # 0: keep every scalar
    acc.Reload()
    return acc


def close(a, b):  # simple_value is a float32
    return math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-12)


def check_run(root, run, scale, steps):
    acc = load(os.path.join(root, run))
    tags = set(acc.Tags()["scalars"])
    expect(tags == {"train/loss", "val/loss", "lr"}, f"{run}: scalar tags {sorted(tags)}")
    for tag, f in (("train/loss", lambda s: scale / (s + 1)), ("val/loss", lambda s: 1.5 * scale / (s + 1)),
                   ("lr", lambda s: 1e-3 * 0.5 ** (s // 2))):
        if tag not in tags:
            continue
        events = acc.Scalars(tag)
        expect([e.step for e in events] == [10 * s for s in range(steps)], f"{run} {tag}: steps {[e.step for e in events]}")
        for e in events:
            expect(close(e.value, f(e.step // 10)), f"{run} {tag} step {e.step}: {e.value} != {f(e.step // 10)}")
        expect(all(e.wall_time > 1.6e9 for e in events), f"{run} {tag}: wall_time not seconds since the epoch")


def hparams_of(root, run):
    acc = load(os.path.join(root, run))
    content = acc.PluginTagToContent("hparams")
    out = {}
    for tag, raw in content.items():
        out[tag] = plugin_data_pb2.HParamsPluginData.FromString(raw)
    return acc, out


def main(root, killed):
    if killed:
        acc = load(os.path.join(root, "killed"))
        got = [(e.step, e.value) for e in acc.Scalars("train/loss")]
        expect([s for s, _ in got] == [0, 1, 2] and all(close(v, 1.0 / (s + 1)) for s, v in got),
               f"killed run: {got} (want the 3 flushed steps only)")
    else:
        check_run(root, "eigen/lr=0.001", 1.0, 5)
        check_run(root, "libtorch/lr=0.001", 2.0, 5)
        for run, lr, impl, ams, val, train, status in (
                ("sweep/p0", 1e-3, "eigen", False, 0.25, 0.125, api_pb2.STATUS_SUCCESS),
                ("sweep/p1", 1e-1, "libtorch", True, 7.5, 3.0, api_pb2.STATUS_FAILURE)):
            acc, hp = hparams_of(root, run)
            expect(set(hp) == {"_hparams_/session_start_info", "_hparams_/session_end_info"}, f"{run}: hparams tags {sorted(hp)}")
            start = hp.get("_hparams_/session_start_info")
            if start is not None:
                h = start.session_start_info.hparams
                expect(close(h["lr"].number_value, lr), f"{run}: lr {h['lr']}")
                expect(h["impl"].string_value == impl, f"{run}: impl {h['impl']}")
                expect(h["amsgrad"].bool_value == ams and h["amsgrad"].WhichOneof("kind") == "bool_value", f"{run}: amsgrad {h['amsgrad']}")
            end = hp.get("_hparams_/session_end_info")
            if end is not None:
                expect(end.session_end_info.status == status, f"{run}: status {end.session_end_info.status}")
            expect(close(acc.Scalars("final/val_loss")[0].value, val), f"{run}: final/val_loss")
            expect(close(acc.Scalars("final/train_loss")[0].value, train), f"{run}: final/train_loss")
        _, hp = hparams_of(root, "")
        exp = hp.get("_hparams_/experiment")
        expect(exp is not None, "root: no _hparams_/experiment")
        if exp is not None:
            infos = {i.name: i for i in exp.experiment.hparam_infos}
            expect(set(infos) == {"lr", "impl", "amsgrad"}, f"experiment hparams {sorted(infos)}")
            expect(infos["lr"].type == api_pb2.DATA_TYPE_FLOAT64, "lr type")
            expect([v.number_value for v in infos["lr"].domain_discrete.values] == [1e-3, 1e-1], "lr domain (distinct values)")
            expect(infos["impl"].type == api_pb2.DATA_TYPE_STRING, "impl type")
            expect(infos["amsgrad"].type == api_pb2.DATA_TYPE_BOOL, "amsgrad type")
            expect([m.name.tag for m in exp.experiment.metric_infos] == ["final/val_loss", "final/train_loss"], "metric tags")
    for f in fails:
        print("tb_read: " + f, file=sys.stderr)
    if not fails:
        print("tb_read: TensorBoard's reader found every scalar, step and hparam")
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], "--killed" in sys.argv[2:]))
