#!/usr/bin/env bash
# End-to-end tests of `adambench converge` through the real binary: CSV layout, determinism
# (same seed twice -> byte-identical curves, analytic and LibTorch workloads), divergence reported
# with its step, bad input (exit 2, one line on stderr), interruption (exit 130, partial results).
CLI=$1 EXPECT=$2
source "$(dirname "$0")/lib.sh"

cat > "$tmp/det.toml" <<'TOML'
[converge]
impls = ["reference", "eigen", "libtorch", "libtorch-foreach", "sgd-momentum"]
seeds = [0, 1]
[[converge.case]]
name = "quad"
workload = "quadratic"
options = { dim = 30, condition = 100, noise = 1.0 }
lr = 0.05
batch_sizes = [16, 256]
steps = 800
eval_every = 10
target = 0.1
[[converge.case]]
name = "mlp"
workload = "mlp"
options = { train = 4096, val = 1000 }
lr = 1e-3
batch_sizes = [64]
steps = 60
eval_every = 20
impls = ["eigen", "libtorch"]
seeds = [0]
[[converge.case]]
name = "lm"
workload = "char_lm"
options = { context = 16, width = 16, layers = 1, heads = 2, val_windows = 8 }
batch_sizes = [8]
steps = 12
eval_every = 4
impls = ["eigen"]
seeds = [0]
TOML
check "converge runs a suite and writes JSON and curves" 0 --stdout "converge: [0-9]+ runs" -- "$CLI" --threads 2 converge "$tmp/det.toml" --quiet --out "$tmp/a"
check "same suite again" 0 -- "$CLI" --threads 2 converge "$tmp/det.toml" --quiet --out "$tmp/b"
assert "every curve CSV has exactly the documented header" bash -c "
  n=0; for f in '$tmp'/a/curves/*.csv; do n=\$((n+1)); [ \"\$(head -1 \"\$f\")\" = 'step,epoch,lr,train_loss,val_loss,val_acc,wall_s' ] || { echo \"bad header: \$f\"; exit 1; }; done
  [ \$n -ge 20 ] || { echo \"only \$n curves\"; exit 1; }"
assert "same seed twice: byte-identical curves (all columns but wall_s), analytic and LibTorch workloads" bash -c "
  for f in '$tmp'/a/curves/*.csv; do
    g='$tmp'/b/curves/\$(basename \"\$f\")
    cmp <(cut -d, -f1-6 \"\$f\") <(cut -d, -f1-6 \"\$g\") || { echo \"curves differ: \$(basename \"\$f\")\"; exit 1; }
  done
  ls '$tmp'/a/curves | grep -q '^mlp__eigen' && ls '$tmp'/a/curves | grep -q '^quad__libtorch__' && ls '$tmp'/a/curves | grep -q '^lm__eigen'"
assert "another seed gives another curve" bash -c "! cmp -s <(cut -d, -f1-6 '$tmp/a/curves/quad__eigen__b16__s0.csv') <(cut -d, -f1-6 '$tmp/a/curves/quad__eigen__b16__s1.csv')"
assert "converge.json: schema, context, runs, aggregates, drift, batch scaling" $PY - "$tmp/a/converge.json" "$tmp/a" <<'PY'
import csv, json, math, os, sys
j = json.load(open(sys.argv[1]))
assert j["schema_version"] == 1 and j["kind"] == "converge", j.keys()
for k in ("machine", "build", "threads", "created"): assert k in j["context"], k
assert j["context"]["threads"] == 2
assert not j["interrupted"]
runs = j["runs"]
for r in runs:
    assert r["verdict"] == "ok", r
    rows = list(csv.DictReader(open(os.path.join(sys.argv[2], r["curve_csv"]))))
    assert int(rows[-1]["step"]) == r["steps_done"] and float(rows[-1]["wall_s"]) > 0, r
    assert all(float(rows[i]["wall_s"]) <= float(rows[i + 1]["wall_s"]) for i in range(len(rows) - 1))
    if r["workload"] == "mlp": assert rows[-1]["val_acc"] != "" and 0.3 < float(rows[-1]["val_acc"]) <= 1
    if r["workload"] == "quadratic": assert rows[-1]["val_acc"] == ""
    assert r["samples_per_s"] > 0 and 0 < r["optimizer_share"] < 1
q = [r for r in runs if r["case"] == "quad" and r["impl"] in ("eigen", "libtorch", "libtorch-foreach")]
assert len(q) == 12
for r in q:  # float32 Adam against the float64 reference on a convex problem: close, not equal
    d = r["drift_from_reference"]
    assert d["max_abs_val_loss"] < 1e-3 and d["param_l2_rel"] < 1e-4, r
    assert r["steps_to_target"] is not None
agg = [a for a in j["aggregates"] if a["case"] == "quad" and a["impl"] == "reference"]
assert len(agg) == 2 and all(a["seeds"] == 2 and a["failure_rate"] == 0 for a in agg), agg
s = agg[0]["steps_to_target"]
assert s["ci95"][0] <= s["median"] <= s["ci95"][1], s
bs = [b for b in j["batch_scaling"] if b["case"] == "quad" and b["impl"] == "reference"]
assert len(bs) == 1 and [p["batch_size"] for p in bs[0]["points"]] == [16, 256], bs
PY

check "--tensorboard writes one event file per run" 0 -- "$CLI" --threads 2 converge "$tmp/det.toml" --quiet --case lm --out "$tmp/tbrun" --tensorboard "$tmp/tbrun/tb"
assert "... named like the curves, every record's masked CRC right" bash -c "
  [ \"\$(ls '$tmp/tbrun/tb')\" = \"\$(ls '$tmp/tbrun/curves' | sed 's/[.]csv\$//')\" ] && /usr/bin/python3 '$(dirname "$0")/tfrecord_check.py' '$tmp/tbrun/tb'"

# Divergence: lr = 10 is reported with its step, never a crash; expect = "diverge" makes it a pass.
cat > "$tmp/div.toml" <<'TOML'
[converge]
impls = ["eigen", "libtorch"]
[[converge.case]]
name = "mlp_lr10"
workload = "mlp"
options = { train = 4096, val = 1000 }
lr = 10
batch_sizes = [128]
steps = 100
expect = "diverge"
[[converge.case]]
name = "rosen_lr10"
workload = "rosenbrock"
lr = 10
batch_sizes = [1]
steps = 100
expect = "diverge"
TOML
check "lr = 10 diverges: reported with its step, exit 0" 0 --stdout "mlp_lr10 b=128 seed=0 eigen: diverged at step [0-9]+" -- "$CLI" --threads 2 converge "$tmp/div.toml" --quiet --out "$tmp/div"
assert "diverged runs carry their step in JSON and stop there" $PY - "$tmp/div/converge.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
assert j["summary"]["diverged"] == 4, j["summary"]
for r in j["runs"]:
    assert r["verdict"] == "diverged" and 1 <= r["diverged_at_step"] < 100 and r["steps_done"] == r["diverged_at_step"], r
PY
sed 's/expect = "diverge"/expect = "target"\ntarget = 0.1/' "$tmp/div.toml" > "$tmp/div_unmet.toml"
check "an unmet expectation exits 1" 1 --stdout "expectations not met|Expectations not met" -- "$CLI" --threads 2 converge "$tmp/div_unmet.toml" --quiet --case rosen

sed 's/^target = 0.1$/target = 0.1\nmax_drift = 0.0/' "$tmp/det.toml" > "$tmp/drift0.toml"
check "drift beyond max_drift exits 1 and says so" 1 --stdout "drift from the reference .* > max_drift 0" -- "$CLI" --threads 2 converge "$tmp/drift0.toml" --quiet --case quad

# Bad input: exit 2 with one line on stderr naming what and where.
check "missing data dir: exit 2, one line" 2 --stderr-lines 1 -- "$CLI" converge "$tmp/det.toml" --case mlp --data-dir "$tmp/no-such-dir"
assert "the message names the data dir" bash -c "'$CLI' converge '$tmp/det.toml' --case mlp --data-dir '$tmp/no-such-dir' 2>&1 >/dev/null | grep -q 'no-such-dir'"
mkdir -p "$tmp/halfdir" && touch "$tmp/halfdir/train-images-idx3-ubyte.gz"
check "data dir without label files: exit 2, one line" 2 --stderr-lines 1 -- "$CLI" converge "$tmp/det.toml" --case mlp --data-dir "$tmp/halfdir"
check "missing text corpus: exit 2, one line" 2 --stderr-lines 1 -- "$CLI" converge "$tmp/det.toml" --case lm --text "$tmp/none.txt"
printf '[converge]\n[[converge.case]]\nname = "x"\nworkload = "nosuch"\n' > "$tmp/bad1.toml"
check "unknown workload: exit 2, one line" 2 --stderr-lines 1 -- "$CLI" converge "$tmp/bad1.toml"
printf '[converge]\n[[converge.case]]\nname = "x"\nworkload = "quadratic"\nschedule = "exp"\n' > "$tmp/bad2.toml"
check "unknown schedule: exit 2, one line" 2 --stderr-lines 1 -- "$CLI" converge "$tmp/bad2.toml"
printf '[converge]\n[[converge.case]]\nname = "x"\nworkload = "quadratic"\noptions = { dimm = 3 }\n' > "$tmp/bad3.toml"
check "unknown workload option: exit 2, one line" 2 --stderr-lines 1 -- "$CLI" converge "$tmp/bad3.toml"
check "no [converge] table: exit 2, one line" 2 --stderr-lines 1 -- "$CLI" converge "$(dirname "$0")/../../suites/default.toml"
check "unknown implementation: exit 2, one line" 2 --stderr-lines 1 -- "$CLI" converge "$tmp/det.toml" --impl nope
check "missing suite file: exit 2, one line" 2 --stderr-lines 1 -- "$CLI" converge "$tmp/nope.toml"

# Interrupt: SIGINT mid-run writes what is done, says where it stopped, exits 130.
cat > "$tmp/long.toml" <<'TOML'
[converge]
impls = ["eigen"]
[[converge.case]]
name = "long"
workload = "quadratic"
options = { dim = 400 }
batch_sizes = [16]
steps = 100000000
eval_every = 1000
TOML
"$CLI" --threads 1 converge "$tmp/long.toml" --out "$tmp/int" >"$tmp/int.out" 2>&1 &
pid=$!
# Interrupt once the run has started (its progress line is out), and again while it has not
# stopped: under load the process may take seconds to start, and a SIGINT that arrives before
# its handler is installed is ignored (a background job of a non-interactive shell ignores SIGINT).
for _ in $(seq 60); do grep -q '^\[1/' "$tmp/int.out" 2>/dev/null && break; sleep 0.5; done
sleep 1
for _ in $(seq 30); do kill -INT $pid 2>/dev/null || break; sleep 1; done
wait $pid; rc=$?
assert "SIGINT: exit 130" test "$rc" = 130
assert "SIGINT: says where it stopped" grep -q "Interrupted: stopped at long b=16 seed=0 eigen step" "$tmp/int.out"
assert "SIGINT: partial JSON and curve written" $PY - "$tmp/int/converge.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
assert j["interrupted"] and "stopped_at" in j, j.keys()
r = j["runs"][0]
assert r["verdict"] == "interrupted" and 0 < r["steps_done"] < 100000000, r
PY
finish
