#!/usr/bin/env bash
# End-to-end tests of `adambench sweep` through the real binary: suites/tuning-smoke.toml (the CI
# sweep) writes a sweep.json valid against schemas/sweep.schema.json with claims and verdicts and
# the seeds behind every band; the same seed gives byte-identical curves; shards say which piece
# they are; bad input exits 2 with one line; SIGINT exits 130 with partial results.
CLI=$1 EXPECT=$2
source "$(dirname "$0")/lib.sh"
root="$(cd "$(dirname "$0")/../.." && pwd)"

check "sweep tuning-smoke runs and writes sweep.json" 0 --stdout "sweep: [0-9]+ points" -- "$CLI" --threads 1 sweep "$root/suites/tuning-smoke.toml" --quiet --out "$tmp/a"
check "same suite again, with --tensorboard" 0 -- "$CLI" --threads 1 sweep "$root/suites/tuning-smoke.toml" --quiet --out "$tmp/b" --tensorboard "$tmp/b/tb"
here=$(dirname "$0")
assert "TensorBoard files: one per run plus the hparams experiment, every record's masked CRC right" bash -c "
  [ \$(ls '$tmp/b/tb' | wc -l) = \$(( \$(ls '$tmp/b/curves' | wc -l) + 1 )) ] && $PY '$here/tfrecord_check.py' '$tmp/b/tb'"
venv_py=$(bash "$root/scripts/tb-venv.sh" 2>/dev/null)
if [ -n "$venv_py" ]; then
  assert "TensorBoard's reader: scalars per evaluation match the curves; hparams per run and experiment" "$venv_py" "$here/tb_sweep_read.py" "$tmp/b/tb" "$tmp/b"
  cp -r "$tmp/b/tb" "$tmp/tbswap"; a=$(ls "$tmp/tbswap" | grep __s0 | head -1); b=${a%__s0}__s1
  mv "$tmp/tbswap/$a" "$tmp/tbswap/x"; mv "$tmp/tbswap/$b" "$tmp/tbswap/$a"; mv "$tmp/tbswap/x" "$tmp/tbswap/$b"
  assert "... and the reader check fails when two seeds' runs are swapped" bash -c "! '$venv_py' '$here/tb_sweep_read.py' '$tmp/tbswap' '$tmp/b'"
else
  echo "note TensorBoard's reader not run: scripts/tb-venv.sh could not create its venv (no PyPI?)"
fi
assert "sweep.json: schema, claims with verdicts, seeds per band" $PY - "$tmp/a/sweep.json" "$root/schemas/sweep.schema.json" <<'PY'
import json, sys, jsonschema
j = json.load(open(sys.argv[1])); schema = json.load(open(sys.argv[2]))
jsonschema.validate(j, schema)
assert j["kind"] == "sweep" and j["schema_version"] == 1 and not j["interrupted"] and "shard" not in j, j.keys()
assert j["verdict_rule"] and len(j["claims"]) >= 4, j["claims"]
for c in j["claims"]:
    assert c["verdict"] in ("holds here", "does not hold here", "inconclusive") and c["interval_method"], c
    assert c["seeds"] == len(c["per_seed_effect"]), c
modes = {s["mode"] for s in j["studies"]}
assert modes == {"one_factor", "grid"}, modes
for p in j["points"]:
    assert p["seeds"] == len([r for r in p["runs"] if r["verdict"] in ("ok", "diverged")]), p
    assert "few" in p["interval_method"] or "only" in p["interval_method"] or p["seeds"] >= 5, p
impls = {p["impl"] for p in j["points"]}
assert {"eigen", "libtorch", "sgd-momentum"} <= impls, impls
# Bad files must fail the schema: a verdict outside the three.
j["claims"][0]["verdict"] = "probably"
try:
    jsonschema.validate(j, schema); raise SystemExit("schema accepted a bad verdict")
except jsonschema.ValidationError:
    pass
PY
assert "same seed twice: byte-identical curves (all columns but wall_s)" bash -c "
  n=0; for f in '$tmp'/a/curves/*.csv; do n=\$((n+1)); cmp <(cut -d, -f1-6 \"\$f\") <(cut -d, -f1-6 '$tmp'/b/curves/\$(basename \"\$f\")) || exit 1; done; [ \$n -ge 30 ]"
check "a shard says which piece it is" 0 -- "$CLI" --threads 1 sweep "$root/suites/tuning-smoke.toml" --quiet --shard 2/3 --out "$tmp/s2"
assert "shard 2/3: \"shard\" field and only its studies" $PY - "$tmp/s2/sweep.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
assert j["shard"] == "2/3", j.get("shard")
assert [s["name"] for s in j["studies"]] == ["lr_batch"], j["studies"]
PY
for i in 1 3; do "$CLI" --threads 1 sweep "$root/suites/tuning-smoke.toml" --quiet --shard $i/3 --out "$tmp/s$i" >/dev/null; done
check "merge joins the three sweep shards" 0 -- "$CLI" merge --out "$tmp/smerged.json" "$tmp/s1" "$tmp/s2" "$tmp/s3"
assert "merged shards hold every study, point and claim of the unsharded run" $PY - "$tmp/a/sweep.json" "$tmp/smerged.json" <<'PY'
import json, sys
a, m = (json.load(open(f)) for f in sys.argv[1:3])
for k, key in (("studies", lambda s: s["name"]), ("points", lambda p: (p["study"], p["point"], p["impl"])),
               ("claims", lambda c: (c["advice"], c["verdict"]))):
    assert sorted(map(key, a[k])) == sorted(map(key, m[k])), (k, len(a[k]), len(m[k]))
PY
check "merge refuses a missing sweep shard" 2 --stderr-lines 1 -- "$CLI" merge --out "$tmp/sbad.json" "$tmp/s1" "$tmp/s3"

# Bad input: exit 2, one line naming file, study and field.
printf '[sweep]\n[[sweep.study]]\nname = "x"\nworkload = "quadratic"\nlrr = 1\nvary = { lr = [1, 2] }\n' > "$tmp/bad1.toml"
check "unknown field: exit 2, one line" 2 --stderr-lines 1 -- "$CLI" sweep "$tmp/bad1.toml"
assert "the message names file, study and field" bash -c "'$CLI' sweep '$tmp/bad1.toml' 2>&1 | grep -q 'bad1.toml: sweep.study x: lrr: unknown field'"
printf '[sweep]\n[[sweep.study]]\nname = "x"\nworkload = "quadratic"\nvary = { lr = { log = [0, 1], points = 3 } }\n' > "$tmp/bad2.toml"
check "log range from 0: exit 2, one line" 2 --stderr-lines 1 -- "$CLI" sweep "$tmp/bad2.toml"
printf '[sweep]\n[[sweep.study]]\nname = "x"\nworkload = "quadratic"\nvary = { beta2 = [0.99, 2.0] }\n' > "$tmp/bad3.toml"
check "beta2 out of range: exit 2, one line" 2 --stderr-lines 1 -- "$CLI" sweep "$tmp/bad3.toml"
check "unknown implementation: exit 2, one line" 2 --stderr-lines 1 -- "$CLI" sweep "$root/suites/tuning-smoke.toml" --impl nope
# A sweep that trained nothing checked nothing: exit 3 (the default build's deepspeed-cpu is a recorded
# skip: built without DeepSpeed's sources), 0 only with --allow-empty; the result is still written.
"$CLI" --threads 1 sweep "$root/suites/tuning-smoke.toml" --impl deepspeed-cpu --study lr --quiet --out "$tmp/empty" >/dev/null 2>"$tmp/empty.err"; rc=$?
assert "every run skipped: exit 3 (got $rc), one line naming the reason" bash -c "
  [ $rc = 3 ] && [ \$(wc -l <'$tmp/empty.err') = 1 ] && grep -q 'sweep: nothing checked: .*deepspeed-cpu: built without' '$tmp/empty.err'"
assert "... and its sweep.json is written, every run skipped" test -s "$tmp/empty/sweep.json"
check "every run skipped with --allow-empty: 0" 0 -- "$CLI" --threads 1 sweep "$root/suites/tuning-smoke.toml" --impl deepspeed-cpu --study lr --quiet --allow-empty --out "$tmp/empty2"
# --out is checked before any training, as every runner does.
printf 'x' >"$tmp/afile"
check "unwritable --out: exit 4 before any run, one line" 4 --stderr-lines 1 -- "$CLI" --threads 1 sweep "$root/suites/tuning-smoke.toml" --out "$tmp/afile/sub"
check "no [sweep] table: exit 2, one line" 2 --stderr-lines 1 -- "$CLI" sweep "$root/suites/smoke.toml"

# Interrupt: partial sweep.json with "interrupted": true, exit 130.
printf '[sweep]\nimpls = ["eigen"]\n[[sweep.study]]\nname = "long"\nworkload = "quadratic"\noptions = { dim = 400 }\nsteps = 100000000\neval_every = 1000\nvary = { lr = [0.001, 0.01] }\n' > "$tmp/long.toml"
"$CLI" --threads 1 sweep "$tmp/long.toml" --out "$tmp/int" >"$tmp/int.out" 2>&1 &
pid=$!
# Interrupt once the run has started (its progress line is out), and again while it has not
# stopped: under load the process may take seconds to start, and a SIGINT that arrives before
# its handler is installed is ignored (a background job of a non-interactive shell ignores SIGINT).
for _ in $(seq 60); do grep -q '^\[1/' "$tmp/int.out" 2>/dev/null && break; sleep 0.5; done
sleep 1
for _ in $(seq 30); do kill -INT $pid 2>/dev/null || break; sleep 1; done
wait $pid; rc=$?
assert "SIGINT: exit 130" test "$rc" = 130
assert "SIGINT: partial sweep.json says interrupted" $PY -c "import json; j = json.load(open('$tmp/int/sweep.json')); assert j['interrupted'] and j['stopped_at'], j.keys()"
finish
