#!/usr/bin/env bash
# End-to-end test of `adambench speed`: usage: speed_test.sh ADAMBENCH EXPECT_EXIT
# A tiny suite with very short timings (this checks the plumbing, not the speed).
set -euo pipefail
cli=$1; expect=$2
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

cat >"$tmp/mine.txt" <<'EOF'
# a user's model: three tensors
w 64 32
b 32
s
@params 2081
EOF
cat >"$tmp/tiny.toml" <<'EOF'
[speed]
impls = ["eigen", "libtorch"]
flat = [10]
models = ["mine.txt", "many_small"]
algo = ["adam"]
amsgrad = [false, true]
repetitions = 2
min_time = 0.01
warmup_time = 0
EOF
fast=(--benchmark_min_time=0.001 --benchmark_min_warmup_time=0)

# 1. A run with --out: Google Benchmark JSON with the harness context and the counters.
bash "$expect" 0 --stdout "wrote .*speed.json" -- "$cli" --threads 2 speed "$tmp/tiny.toml" --out "$tmp/a" "${fast[@]}"
[ -f "$tmp/a/speed.json" ] || fail "no speed.json"
[ -f "$tmp/a/speed.txt" ] || fail "no speed.txt"
ls -A "$tmp/a" | grep -q tmp && fail "temporary file left in the output folder"
py=/usr/bin/python3; [ -x "$py" ] || py=python3
"$py" - "$tmp/a/speed.json" <<'EOF'
import json, sys
j = json.load(open(sys.argv[1]))
c = j["context"]
for k in ["adambench.build.git_commit", "adambench.build.compiler", "adambench.build.libtorch", "adambench.build.eigen",
          "adambench.machine.cpu", "adambench.threads", "adambench.simd", "adambench.last_level_cache_bytes", "num_cpus"]:
    assert k in c, "context lacks " + k
assert c["adambench.threads"] == "2", c["adambench.threads"]
rows = [b for b in j["benchmarks"] if b["run_type"] == "iteration"]
names = {b["run_name"] for b in rows}
for want in ["probe/28B/flat_1K/threads:2/manual_time", "probe/36B/mine/threads:2/manual_time",
             "eigen/adam/flat_1K/threads:2/real_time", "libtorch/adam+ams/many_small/threads:2/real_time",
             "eigen/adam+ams/mine/threads:2/real_time"]:
    assert want in names, "missing " + want + " in " + str(sorted(names))
for b in rows:
    assert b["params_per_second"] > 0 and b["bytes_per_second"] > 0, b["name"]
    want_n = {"flat_1K": (1024, 1), "mine": (2081, 3), "many_small": (10240000, 10000)}[b["name"].split("/")[2]]
    assert (b["params"], b["tensors"]) == want_n, (b["name"], b["params"], b["tensors"])
    if b["name"].startswith("eigen/"):
        assert b["probe_fraction"] > 0 and b["speedup_vs_libtorch"] > 0, b["name"]
        assert b["speedup_vs_best_libtorch"] > 0, b["name"]
        assert b["over_limit"] in (True, False) and "limit_fraction" in b, b["name"]
        assert b["over_limit"] == ("measurement_problem" in b), b["name"]
    # Memory per step, from the allocation hook: the probe and Eigen allocate nothing per step;
    # torch::optim::Adam allocates its temporaries (denominators) on every step.
    if b["name"].startswith(("eigen/", "probe/")):
        assert b["extra_bytes_per_step"] == 0, (b["name"], b["extra_bytes_per_step"])
    # (a peak: it steps one tensor at a time, so at least one temporary of a 1,024-float tensor)
    if b["name"].startswith("libtorch/") and "many_small" in b["name"]:
        assert b["extra_bytes_per_step"] >= 4 * 1024, (b["name"], b["extra_bytes_per_step"])
    if b["name"].startswith("probe/"):
        for v in ("loop", "packet", "stream"):
            assert b["probe_%s_params_per_second" % v] > 0, (b["name"], v)
    if "/adam+ams/" in b["name"] or b["name"].startswith("probe/36B"):
        assert abs(b["bytes_per_second"] / b["params_per_second"] - 36) < 1e-6, b["name"]
    else:
        assert abs(b["bytes_per_second"] / b["params_per_second"] - 28) < 1e-6, b["name"]
aggs = {b["aggregate_name"] for b in j["benchmarks"] if b["run_type"] == "aggregate"}
assert {"mean", "median", "stddev", "min", "max"} <= aggs, aggs
assert len(rows) == 2 * 3 * 2 * 3, len(rows)  # repetitions x shapes x amsgrad x (probe, libtorch, eigen)
summary = {r["name"]: r for r in j["adambench_rows"]}
assert len(summary) == 3 * 2 * 3, len(summary)
e = summary["eigen/adam/many_small/threads:2"]
assert e["params"] == 10240000 and e["tensors"] == 10000 and e["extra_bytes_per_step"] == 0, e
if not e["over_limit"]:
    assert e["best_libtorch"] == "libtorch" and e["vs_best_libtorch"]["median"] > 0 and "libtorch" in e["vs_libtorch"], e
else:
    assert e["measurement_problem"] and "vs_best_libtorch" not in e, e
print("json ok")
EOF
grep -q "of limit" "$tmp/a/speed.txt" || fail "summary lacks the limit column"
grep -q "vs best LibTorch" "$tmp/a/speed.txt" || fail "summary lacks the vs best LibTorch column"
grep -q "extra/step" "$tmp/a/speed.txt" || fail "summary lacks the memory column"
grep -q "vs DeepSpeed" "$tmp/a/speed.txt" || fail "summary lacks the vs DeepSpeed column"
# DeepSpeed's CPU Adam where its sources were not built in (this build): every benchmark of it is a
# recorded skip with the reason, and a run of it alone compared nothing (exit 3). With the sources
# (build-torch/), scripts/torch-current-check.sh checks its rows and the vs DeepSpeed ratios.
"$cli" list >"$tmp/list.txt"
if grep -q '^deepspeed-cpu .*not built' "$tmp/list.txt"; then
  bash "$expect" 3 -- "$cli" --threads 2 speed "$tmp/tiny.toml" --impl deepspeed-cpu "${fast[@]}" 2>"$tmp/ds.err" >/dev/null
  grep -q "nothing checked: .*built without DeepSpeed.s sources" "$tmp/ds.err" || fail "no deepspeed-cpu skip reason"
  echo "deepspeed-cpu skipped with its reason"
fi

# 2. Google Benchmark's compare.py works unchanged on two outputs (when it and scipy are installed).
cmp=$(dpkg -L libbenchmark-tools 2>/dev/null | grep '/compare.py$' | head -1 || true)
if [ -n "$cmp" ] && "$py" -c "import scipy, numpy" 2>/dev/null; then
  bash "$expect" 0 -- "$cli" --threads 2 speed "$tmp/tiny.toml" --out "$tmp/b" "${fast[@]}" >/dev/null
  "$py" "$cmp" benchmarks "$tmp/a/speed.json" "$tmp/b/speed.json" >"$tmp/cmp.txt" || fail "compare.py failed"
  grep -q "eigen/adam/flat_1K/threads:2/real_time" "$tmp/cmp.txt" || fail "compare.py output lacks the eigen row"
  grep -q "U Test" "$tmp/cmp.txt" || fail "compare.py ran no U test"
  echo "compare.py ok"
else
  echo "compare.py or scipy not installed: skipping the compare.py check"
fi

# 3. --benchmark_filter and the default suite's names; a filter that matches nothing is bad input.
bash "$expect" 0 --stdout "eigen/adam/flat_1K" -- "$cli" speed "$tmp/tiny.toml" --benchmark_filter='flat_1K' "${fast[@]}"
bash "$expect" 0 --stdout "probe/28B/resnet50" -- "$cli" speed --benchmark_list_tests=true

# 4. Bad input: exit 2, one line on stderr, nothing written.
printf '[speed]\nflat = [10\n' >"$tmp/bad.toml"
printf '[speed]\nmodels = ["no_such_model"]\n' >"$tmp/badmodel.toml"
printf '[speed]\nmodels = ["missing/file.txt"]\n' >"$tmp/nofile.toml"
printf '[speed]\nflat = 10\nimpls = ["nope"]\n' >"$tmp/badimpl.toml"
printf 'w 3 x\n' >"$tmp/broken.txt"; printf '[speed]\nmodels = ["broken.txt"]\n' >"$tmp/broken.toml"
printf '[agree]\n' >"$tmp/nospeed.toml"
for args in "$tmp/bad.toml" "$tmp/badmodel.toml" "$tmp/nofile.toml" "$tmp/badimpl.toml" "$tmp/broken.toml" "$tmp/nospeed.toml" \
            "$tmp/no_such_suite.toml" "$tmp/tiny.toml --impl nope" "$tmp/tiny.toml --benchmark_bogus=1" \
            "$tmp/tiny.toml --bogus" "$tmp/tiny.toml --benchmark_filter=nothing_matches"; do
  # shellcheck disable=SC2086
  bash "$expect" 2 --stderr-lines 1 -- "$cli" speed $args --out "$tmp/bad"
  [ ! -e "$tmp/bad/speed.json" ] || fail "speed.json written on bad input: $args"
done

# 5. Interruption: SIGINT stops after the current benchmark, exit 130, nothing written.
cat >"$tmp/long.toml" <<'EOF'
[speed]
impls = ["eigen"]
flat = [12, 13, 14, 15, 16]
repetitions = 20
min_time = 0.2
EOF
"$cli" speed "$tmp/long.toml" --out "$tmp/int" >"$tmp/int.log" 2>&1 &
pid=$!
# Signal only once benchmarks run (the handler is installed by then; a SIGINT that arrives while
# the process is still loading LibTorch on a busy machine would be ignored, as bash ignores it in
# background jobs).
for _ in $(seq 120); do grep -q "^Running" "$tmp/int.log" 2>/dev/null && break; sleep 0.5; done
sleep 1
kill -INT $pid
rc=0; wait $pid || rc=$?
[ "$rc" = 130 ] || { cat "$tmp/int.log"; fail "interrupted run exited $rc, expected 130"; }
[ ! -e "$tmp/int/speed.json" ] || fail "speed.json written by an interrupted run"
[ -z "$(ls -A "$tmp/int" 2>/dev/null)" ] || fail "files left by an interrupted run: $(ls -A "$tmp/int")"
echo "ok: speed end-to-end"
