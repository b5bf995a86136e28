#!/usr/bin/env bash
# Measures the counted gate on this machine (docs/speed.md, "Counted speed"): how far counts of one
# build move between runs (the spread the default --min-effect must sit above), its A/A false
# alarms, and whether it flags each planted speed regression in every run, optionally while busy
# loops load every core.
#
#   scripts/count-power.sh OUT [options] -- COUNT-ARGS...
#   e.g. scripts/count-power.sh /tmp/cpower --busy 2 -- ci
#
# 1. N runs of `adambench count COUNT-ARGS` of the counting build (OUT/base-I/count.json).
# 2. Every pair of them through `adambench compare` (A/A: N(N-1)/2 comparisons; any regression or
#    improvement is a false alarm), and the largest relative spread of each gated figure.
# 3. M runs of the mutants binary with each plant (ADAMBENCH_PLANT=NAME steps eigen~NAME as eigen),
#    each compared with a base run: every Eigen row should be a regression, no other row.
# OUT/power.json and the last lines of the output hold the counts.
#
# Options: --bin PATH (default build-count/adambench), --mutants PATH (default: adambench-mutants
#          beside --bin), --runs N (10), --plant-runs M (3), --plants "A B ..." (scalar_loop
#          extra_v_pass double_math temp_buffer), --busy K (0: K loops `while :; do :; done` for the
#          whole measurement, stopped at the end), --jobs J (1: counts run J at a time; counts do
#          not depend on what runs beside them, only the wall times in OUT/times.txt do).
set -euo pipefail
usage() { sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
[ $# -ge 1 ] || usage
out=$1; shift
bin=build-count/adambench mutants="" runs=10 plant_runs=3 busy=0 jobs=1
plants="scalar_loop extra_v_pass double_math temp_buffer"
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
  case $1 in
    --bin) bin=$2; shift 2 ;;
    --mutants) mutants=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --plant-runs) plant_runs=$2; shift 2 ;;
    --plants) plants=$2; shift 2 ;;
    --busy) busy=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    *) echo "count-power.sh: unknown option '$1'" >&2; exit 2 ;;
  esac
done
[ "${1:-}" = "--" ] || usage
shift
[ $# -ge 1 ] || usage
[ -x "$bin" ] || { echo "count-power.sh: --bin $bin: not an executable file (ADAMBENCH_COUNT=1 scripts/setup.sh)" >&2; exit 2; }
mutants=${mutants:-$(dirname "$bin")/adambench-mutants}
[ -x "$mutants" ] || { echo "count-power.sh: --mutants $mutants: not an executable file" >&2; exit 2; }
[ ! -e "$out" ] || { echo "count-power.sh: $out exists: give a new folder (nothing is overwritten)" >&2; exit 2; }
mkdir -p "$out"

loops=()
stop_loops() { for p in "${loops[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap stop_loops EXIT
for _ in $(seq 1 "$busy"); do
  sh -c 'while :; do :; done' &
  loops+=($!)
done
echo "count-power: $busy busy loops; load before: $(cut -d' ' -f1-3 /proc/loadavg)" | tee "$out/load.txt"

timed() {  # timed NAME CMD...: run, record the exit code and wall time (ms) in OUT/times.txt
  local name=$1 t0 rc=0; shift
  t0=$(date +%s%N)
  "$@" >"$out/$name.log" 2>&1 || rc=$?
  echo "$name $rc $(( ($(date +%s%N) - t0) / 1000000 ))" >>"$out/times.txt"
}
pending=()
spawn() {  # spawn NAME CMD...: timed in the background, at most --jobs at a time
  timed "$@" &
  pending+=($!)
  if [ ${#pending[@]} -ge "$jobs" ]; then wait "${pending[@]}"; pending=(); fi
}
for i in $(seq 1 "$runs"); do spawn "base-$i" "$bin" count "$@" --quiet --out "$out/base-$i"; done
for p in $plants; do
  for i in $(seq 1 "$plant_runs"); do spawn "plant-$p-$i" env ADAMBENCH_PLANT="$p" "$mutants" count "$@" --quiet --out "$out/plant-$p-$i"; done
done
[ ${#pending[@]} = 0 ] || wait "${pending[@]}"   # (a plain `wait` would wait for the busy loops too)
if awk '$2 != 0 { bad = 1 } END { exit !bad }' "$out/times.txt"; then
  echo "count-power: a count failed (exit codes in $out/times.txt)" >&2; exit 4
fi
echo "count-power: load after: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out/load.txt"

# Comparisons: every A/A pair; every plant run against base run 1 (and base run 2, 3, ... in turn).
for i in $(seq 1 "$runs"); do
  for j in $(seq $((i + 1)) "$runs"); do
    rc=0; "$bin" compare "$out/base-$i/count.json" "$out/base-$j/count.json" >"$out/aa-$i-$j.txt" 2>&1 || rc=$?
    echo "aa $i $j $rc" >>"$out/compares.txt"
  done
done
for p in $plants; do
  for i in $(seq 1 "$plant_runs"); do
    b=$(( (i - 1) % runs + 1 ))
    rc=0; "$bin" compare "$out/base-$b/count.json" "$out/plant-$p-$i/count.json" >"$out/cmp-$p-$i.txt" 2>&1 || rc=$?
    echo "plant $p $i $rc" >>"$out/compares.txt"
  done
done

/usr/bin/python3 - "$out" "$runs" "$plants" "$plant_runs" "$busy" <<'PY'
import glob, json, os, re, sys
out, runs, plants, plant_runs, busy = sys.argv[1], int(sys.argv[2]), sys.argv[3].split(), int(sys.argv[4]), int(sys.argv[5])
load = lambda f: {r["name"]: r for r in json.load(open(f))["results"] if r["verdict"] == "counted"}
base = [load(f"{out}/base-{i}/count.json") for i in range(1, runs + 1)]
spread = {}
for name in base[0]:
    for fig in ("est_cycles", "dram_bytes", "instructions"):
        v = [b[name]["per_step"][fig] for b in base if name in b]
        lo, hi = min(v), max(v)
        spread[f"{name} {fig}"] = (hi - lo) / lo if lo > 0 else (0.0 if hi == 0 else float("inf"))
worst = max(spread.items(), key=lambda kv: kv[1])
aa = [l.split() for l in open(f"{out}/compares.txt") if l.startswith("aa ")]
aa_alarms = [a for a in aa if a[3] != "0"]
rows = lambda txt: re.findall(r"^count\s+(\S+)\s+(regression|improvement)\s", open(txt).read(), re.M)
result = {"runs": runs, "busy_loops": busy, "aa_comparisons": len(aa), "aa_false_alarms": len(aa_alarms),
          "largest_spread": {"figure": worst[0], "relative": worst[1]},
          "figures_that_moved": sorted(k for k, v in spread.items() if v > 0), "plants": {}}
times = [l.split() for l in open(f"{out}/times.txt")]
result["seconds"] = {"base_median": sorted(int(t[2]) / 1000 for t in times if t[0].startswith("base-"))[runs // 2]}
for p in plants:
    flagged_runs, detail = 0, []
    for i in range(1, plant_runs + 1):
        r = rows(f"{out}/cmp-{p}-{i}.txt")
        eigen = {n for n, v in r if n.startswith("eigen/") and v == "regression"}
        others = [n for n, v in r if not n.startswith("eigen/")]
        want = {n for n in base[0] if n.startswith("eigen/")}
        ok = eigen == want and not others
        flagged_runs += ok
        detail.append({"run": i, "eigen_rows_flagged": len(eigen), "eigen_rows": len(want), "other_rows_flagged": others})
    result["plants"][p] = {"runs": plant_runs, "every_eigen_row_flagged_and_nothing_else": flagged_runs, "detail": detail}
json.dump(result, open(f"{out}/power.json", "w"), indent=1)
print(f"count-power: {runs} runs, {busy} busy loops: A/A {len(aa_alarms)} false alarms in {len(aa)} comparisons; "
      f"largest spread {worst[1]:.3g} ({worst[0]}); {len(result['figures_that_moved'])} figures moved at all")
for p, v in result["plants"].items():
    print(f"count-power: plant {p}: every Eigen row flagged, nothing else, in {v['every_eigen_row_flagged_and_nothing_else']} of {v['runs']} runs")
print(f"count-power: median wall time of a base run {result['seconds']['base_median']:.0f} s; wrote {out}/power.json")
PY
