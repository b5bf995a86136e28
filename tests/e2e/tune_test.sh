#!/usr/bin/env bash
# End-to-end tests of `adambench tune` on a small TorchScript CNN (tests/e2e/tune_fixture.py):
# the shipped plan (suites/tune.toml) writes tune.md (verdict first), tune.json (schemas/tune.schema.json),
# tuned.toml, curves and TensorBoard files, and its PyTorch snippet runs; the report draws its
# section; tuned.toml reproduces the measured runs; an interrupted tune keeps its runs and --resume
# ends where an uninterrupted tune does; --budget cuts the plan or refuses; bad input exits 2 with
# one line before anything is written; sweep --model/--data and suite-relative paths.
CLI=$(cd "$(dirname "$1")" && pwd)/$(basename "$1") EXPECT=$2   # absolute: some checks run from another folder
source "$(dirname "$0")/lib.sh"
here=$(cd "$(dirname "$0")" && pwd); root=$(cd "$here/../.." && pwd)
world=$root/tests/fixtures/tune-world.toml

mkdir -p "$tmp/other" "$tmp/otherdata"
{ $PY "$here/tune_fixture.py" "$tmp" --train 512 --val 256 && $PY "$here/tune_fixture.py" "$tmp/other" --train 512 --val 256 --seed 1 \
  && $PY "$here/tune_fixture.py" "$tmp/otherdata" --train 512 --val 200; } || { echo "FAIL cannot make the fixtures (python3-torch)"; exit 1; }
M=$tmp/cnn.pt D=$tmp/fmnist.npz

# ---- the shipped plan -----------------------------------------------------------------------------
check "tune with the shipped plan: exit 0, the plan printed first" 0 --stdout "plan embedded:tune: 8 stages" -- \
  "$CLI" --threads 1 tune --model "$M" --data "$D" --out "$tmp/full" --quiet
assert "tune.md verdict first; tune.json valid, every stage's factor judged, the snippet runs in PyTorch" $PY - "$tmp/full" "$root/schemas/tune.schema.json" <<'PY'
import json, os, sys, jsonschema, torch
d, schema = sys.argv[1], json.load(open(sys.argv[2]))
md = open(os.path.join(d, "tune.md")).read().splitlines()
assert md[0].startswith("# adambench tune: cnn.pt") and md[2].startswith("**Recommended:** Adam"), md[:3]
j = json.load(open(os.path.join(d, "tune.json")))
jsonschema.validate(j, schema)
assert j["kind"] == "tune" and not j["interrupted"] and j["verdict"] in md[2], j["verdict"]
factors = {r["factor"] for r in j["recommendations"]}
assert {"lr", "schedule", "weight_decay", "beta1", "beta2", "batch_size", "eps", "sgd"} <= factors, factors
assert all(r["seeds"] == 3 for r in j["recommendations"] if r["factor"] != "sgd" or r["seeds"]), j["recommendations"]
assert len(j["claims"]) == 12 and all(c["verdict"] in ("holds here", "does not hold here", "inconclusive") for c in j["claims"])
assert j["summary"]["reused"] >= 6, j["summary"]          # later stages' bases are the best lr's runs
assert j["decay_matching"]["adamw_weight_decay"] > 0 and j["decay_matching"]["l2"] == 1e-4, j["decay_matching"]
runs = sum(len(p["runs"]) for p in j["points"])
assert runs == j["summary"]["runs"] and len(os.listdir(os.path.join(d, "curves"))) == runs, runs
assert len(os.listdir(os.path.join(d, "tensorboard"))) == runs + 1, "one event folder per run and the hparams experiment"
model = torch.nn.Linear(4, 2)
env = {"model": model}
exec(j["pytorch"], env)
opt, rec = env["optimizer"], j["recommended"]
assert type(opt).__name__ == rec["optimizer"], (type(opt), rec)
g = opt.param_groups[0]
assert abs(g["lr"] - rec["lr"]) <= 1e-5 * rec["lr"] and tuple(g["betas"]) == tuple(rec["betas"]) and g["eps"] == rec["eps"], (g, rec)
assert ("scheduler" in env) == (rec["schedule"] != "constant"), rec["schedule"]
# A bad file must fail the schema: a recommendation's verdict outside the three.
j["recommendations"][0]["verdict"] = "probably"
try:
    jsonschema.validate(j, schema); raise SystemExit("the schema accepted a bad verdict")
except jsonschema.ValidationError:
    pass
PY
check "the report draws the tune section" 0 -- $PY "$root/scripts/report.py" "$tmp/full" --out "$tmp/report"
assert "... with the recommendations, the lr figure and the snippet" bash -c "grep -q 'Tuning on your model' '$tmp/report/summary.md' \
  && grep -q 'torch.optim.Adam' '$tmp/report/summary.md' && test -s '$tmp/report/fig-tune-lr.svg'"
mkdir -p "$tmp/badrep"; $PY - "$tmp/full/tune.json" "$tmp/badrep/tune.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1])); j["recommendations"][0]["verdict"] = "probably"; json.dump(j, open(sys.argv[2], "w"))
PY
check "... and refuses a tune.json that does not match its schema (exit 2)" 2 -- $PY "$root/scripts/report.py" "$tmp/badrep" --out "$tmp/badrep/out"

# ---- tuned.toml reproduces the measured runs; interrupt and resume ----------------------------------
check "tune on a small lr grid" 0 -- "$CLI" --threads 1 tune --model "$M" --data "$D" --plan "$world" --out "$tmp/w1" --quiet
check "tuned.toml runs with adambench converge" 0 -- "$CLI" --threads 1 converge "$tmp/w1/tuned.toml" --out "$tmp/conv" --quiet
assert "... and ends where the tune's best point did, at every seed" $PY - "$tmp/w1/tune.json" "$tmp/conv/converge.json" <<'PY'
import json, sys
t, c = (json.load(open(f)) for f in sys.argv[1:3])
best = next(r["best_point"] for r in t["recommendations"] if r["factor"] == "lr")
want = {r["seed"]: r["final_val_loss"] for p in t["points"] if p["point"] == best for r in p["runs"]}
got = {r["seed"]: r["final"]["val_loss"] for r in c["runs"]}
assert len(want) == 3 and got == want, (want, got)
PY
"$CLI" --threads 1 tune --model "$M" --data "$D" --plan "$world" --out "$tmp/w2" --quiet >"$tmp/w2.log" 2>&1 & pid=$!
for _ in $(seq 600); do [ "$(ls "$tmp/w2/runs" 2>/dev/null | grep -c '\.run$')" -ge 3 ] && break; sleep 0.1; done
kill -INT $pid; wait $pid; rc=$?
kept=$(ls "$tmp/w2/runs" | grep -c '\.run$')
assert "SIGINT: exit 130, tune.json says interrupted, finished runs kept ($kept)" bash -c "[ $rc = 130 ] && [ $kept -ge 3 ] && [ $kept -lt 18 ] && \
  $PY -c \"import json; j = json.load(open('$tmp/w2/tune.json')); assert j['interrupted'] and j['stopped_at'] and 'partial' in j['verdict']\""
check "--resume continues it" 0 --stdout "done already" -- "$CLI" tune --model "$M" --data "$D" --resume "$tmp/w2" --quiet
assert "... reusing the kept runs, and ends where the uninterrupted tune did" $PY - "$tmp/w1/tune.json" "$tmp/w2/tune.json" "$kept" <<'PY'
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
assert not b["interrupted"] and b["summary"]["reused"] >= int(sys.argv[3]), b["summary"]
fin = lambda j: {(p["point"], r["seed"]): r["final_val_loss"] for p in j["points"] for r in p["runs"]}
assert fin(a) == fin(b) and a["recommended"] == b["recommended"], "resumed results differ"
PY
cp -r "$tmp/w2" "$tmp/w3"; f=$(ls "$tmp/w3/runs"/*.run | head -1); head -c 200 "$f" > "$f.x"; mv "$f.x" "$f"
check "--resume with a damaged run file: exit 2, one line" 2 --stderr-lines 1 -- "$CLI" tune --model "$M" --data "$D" --resume "$tmp/w3"
check "--resume with another model: exit 2, one line" 2 --stderr-lines 1 -- "$CLI" tune --model "$tmp/other/cnn.pt" --data "$D" --resume "$tmp/w2"
check "--resume with other data: exit 2, one line" 2 --stderr-lines 1 -- "$CLI" tune --model "$M" --data "$tmp/otherdata/fmnist.npz" --resume "$tmp/w2"
check "--resume with --budget: exit 2, one line" 2 --stderr-lines 1 -- "$CLI" tune --model "$M" --data "$D" --resume "$tmp/w2" --budget 5
check "--resume of a folder that holds no tune: exit 2, one line" 2 --stderr-lines 1 -- "$CLI" tune --model "$M" --data "$D" --resume "$tmp/conv"
check "--out onto a folder that holds a tune: exit 2, one line" 2 --stderr-lines 1 -- "$CLI" tune --model "$M" --data "$D" --plan "$world" --out "$tmp/w1"

# ---- --budget ---------------------------------------------------------------------------------------
full_s=$($PY -c "import json; print(json.load(open('$tmp/w1/tune.json'))['plan']['estimate_s'])")
small=$($PY -c "print($full_s * 0.3 / 60)")  # 30%: cut even when the machine is now twice as fast or slow
check "--budget at 30% of the plan's estimate: cut, and says what" 0 --stdout "cut: stage lr: lr: 0.001, 0.003, 0.01 instead of" -- \
  "$CLI" --threads 1 tune --model "$M" --data "$D" --plan "$world" --budget "$small" --out "$tmp/cut" --quiet
assert "... the cuts are in tune.json and the estimate fits the budget" $PY -c "
import json; j = json.load(open('$tmp/cut/tune.json')); p = j['plan']
assert p['cuts'] and p['estimate_s'] <= p['budget_s'] and len(j['points']) == 3, p"
check "--budget too small for one point: exit 2, one line" 2 --stderr-lines 1 -- "$CLI" tune --model "$M" --data "$D" --budget 0.0001 --out "$tmp/b0"
assert "... and nothing written" test ! -e "$tmp/b0"

# ---- bad input: one line, exit 2, before anything runs ---------------------------------------------
cat > "$tmp/bad_inputs.py" <<'PY'
import sys, numpy as np, torch
class MLP(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(8, 10)
    def forward(self, x):
        return self.fc(x)
torch.jit.script(MLP()).save(sys.argv[1] + "/mlp8.pt")
d = np.load(sys.argv[1] + "/fmnist.npz")
np.savez(sys.argv[1] + "/noyval.npz", x_train=d["x_train"], y_train=d["y_train"], x_val=d["x_val"])
open(sys.argv[1] + "/garbage.pt", "wb").write(b"not a torchscript archive\n" * 10)
PY
$PY "$tmp/bad_inputs.py" "$tmp"  # torch.jit.script reads the class's source: a file, not stdin
printf '[tune]\nsteps = 10\n[[tune.stage]]\nname = "lr"\nvary = { lr = [1e-3] }\nwarp = 1\n' > "$tmp/badplan.toml"
bad() { local name=$1; shift; check "$name: exit 2, one line" 2 --stderr-lines 1 -- "$CLI" tune "$@"; }
bad "--seeds 2" --model "$M" --data "$D" --out "$tmp/x1" --seeds 2
bad "--budget -1" --model "$M" --data "$D" --out "$tmp/x2" --budget -1
bad "--impl nope" --model "$M" --data "$D" --out "$tmp/x3" --impl nope
bad "--impl sgd-momentum" --model "$M" --data "$D" --out "$tmp/x4" --impl sgd-momentum
bad "a garbage .pt" --model "$tmp/garbage.pt" --data "$D" --out "$tmp/x5"
bad "a model that does not take the data's x" --model "$tmp/mlp8.pt" --data "$D" --out "$tmp/x6"
bad "an npz without y_val" --model "$M" --data "$tmp/noyval.npz" --out "$tmp/x7"
bad "no --out" --model "$M" --data "$D"
bad "a plan with an unknown field" --model "$M" --data "$D" --out "$tmp/x8" --plan "$tmp/badplan.toml"
bad "a plan that does not exist" --model "$M" --data "$D" --out "$tmp/x9" --plan "$tmp/none.toml"
assert "... and nothing written" bash -c "! ls -d '$tmp'/x? 2>/dev/null"

# ---- sweep --model/--data; relative paths resolve against the suite's folder -----------------------
mkdir -p "$tmp/sub" "$tmp/elsewhere"; cp "$M" "$D" "$tmp/sub/"
cat > "$tmp/sub/rel.toml" <<'TOML'
[sweep]
impls = ["eigen"]
[[sweep.study]]
name = "lr"
workload = "torchscript"
options = { model = "cnn.pt", data = "fmnist.npz" }
batch_sizes = [32]
steps = 10
evals = 1
vary = { lr = [1e-3, 1e-2] }
TOML
cp "$tmp/sub/rel.toml" "$tmp/elsewhere/rel.toml"
check "a sweep suite naming its model and data relative to its folder, run from /" 0 -- bash -c "cd / && '$CLI' --threads 1 sweep '$tmp/sub/rel.toml' --quiet"
check "... and the same suite in a folder without them: exit 2, one line" 2 --stderr-lines 1 -- bash -c "cd '$tmp/sub' && '$CLI' sweep '$tmp/elsewhere/rel.toml' --quiet"
sed 's/workload = "torchscript"/workload = "quadratic"/; s/^options = .*/options = { dim = 4 }/' "$tmp/sub/rel.toml" > "$tmp/elsewhere/quad.toml"
check "sweep --model/--data trains the module in every study" 0 -- "$CLI" --threads 1 sweep "$tmp/elsewhere/quad.toml" --model "$M" --data "$D" --out "$tmp/sw" --quiet
assert "... (sweep.json: workload torchscript)" $PY -c "import json; j = json.load(open('$tmp/sw/sweep.json')); assert {p['workload'] for p in j['points']} == {'torchscript'}"
check "sweep --model without --data: exit 2, one line" 2 --stderr-lines 1 -- "$CLI" sweep "$tmp/elsewhere/quad.toml" --model "$M"
finish
