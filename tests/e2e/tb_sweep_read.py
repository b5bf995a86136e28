"""Reads adambench sweep's TensorBoard files with TensorBoard's own reader (EventAccumulator) and
checks them against the sweep's curves: one run folder per curve CSV, a scalar per evaluation for
val/loss and lr at the CSV's steps and values, the hparams session in every run and the experiment
summary in the root. Usage: tb_sweep_read.py TB_DIR SWEEP_OUT_DIR. Exit 1 on any mismatch."""
import csv, os, sys
from tensorboard.backend.event_processing import event_accumulator as ea

tb, out = sys.argv[1], sys.argv[2]
curves = sorted(f[:-4] for f in os.listdir(os.path.join(out, "curves")))
runs = sorted(d for d in os.listdir(tb) if os.path.isdir(os.path.join(tb, d)))
if runs != curves:
    sys.exit(f"run folders {len(runs)} != curve files {len(curves)}")
for r in runs:
    acc = ea.EventAccumulator(os.path.join(tb, r), size_guidance={ea.SCALARS: 0, ea.TENSORS: 0})
    acc.Reload()
    rows = list(csv.DictReader(open(os.path.join(out, "curves", r + ".csv"))))
    for tag, col in (("val/loss", "val_loss"), ("lr", "lr")):
        got = [(e.step, e.value) for e in acc.Scalars(tag)]
        want = [(int(x["step"]), float(x[col])) for x in rows if x[col] not in ("", "inf", "-inf")]
        if len(got) != len(want) or any(g[0] != w[0] or abs(g[1] - w[1]) > 1e-6 * max(1.0, abs(w[1])) for g, w in zip(got, want)):
            sys.exit(f"{r}: {tag} {got[:3]} != {want[:3]}")
    tags = acc.Tags()
    if "_hparams_/session_start_info" not in tags.get("tensors", []) + list(acc.summary_metadata.keys()):
        sys.exit(f"{r}: no hparams session ({tags})")
root = ea.EventAccumulator(tb, size_guidance={ea.TENSORS: 0})
root.Reload()
if "_hparams_/experiment" not in root.summary_metadata:
    sys.exit("no hparams experiment summary in the root folder")
print(f"tb_sweep_read: {len(runs)} runs read by TensorBoard {ea.__name__}, scalars and hparams as expected")
