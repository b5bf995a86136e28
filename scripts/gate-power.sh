#!/usr/bin/env bash
# Measures the speed gate on this machine (docs/speed.md, "The speed gate"): its A/A false-alarm
# rate and its detection rate of a real, planted slowdown.
#
#   scripts/gate-power.sh OUT [options] -- SPEED-ARGS...
#   e.g. scripts/gate-power.sh /tmp/power -- --threads 2 speed suites/ci.toml
#
# 1. `adambench calibrate --runs CAL --group G`: CAL A/A runs; every benchmark's noise floor
#    (OUT/cal/baseline.json) and the out-of-sample false-alarm rate over groups of G runs.
# 2. E times `adambench ab --rounds G --noise OUT/cal/baseline.json`: A is the build, B the same build
#    with ADAMBENCH_PLANTED_SLOWDOWN=IMPL:FRACTION (IMPL spins FRACTION of its own step time after
#    each step). IMPL's rows must be flagged as regressions; every other row (the probe, other
#    implementations) is an A/A comparison and must not be.
# OUT/power.json and the last lines of the output hold the counts.
#
# Options: --bin PATH (default build/adambench), --cal N (9), --group G (3), --experiments E (10),
#          --impl NAME (eigen), --slowdown FRACTION (0.10), --b-args "ARGS" (extra SPEED-ARGS for
#          the A/B runs only, e.g. "--filter 'flat_32M|resnet50'" to time only some rows there),
#          --plant NAME (B is the mutants binary stepping eigen~NAME as eigen, ADAMBENCH_PLANT,
#          instead of a planted slowdown: the counted gate's plants timed; --bin should then be the
#          mutants binary too), --summary (only summarise what an earlier, possibly interrupted, run
#          left in OUT).
set -euo pipefail
usage() { sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
[ $# -ge 1 ] || usage
out=$1; shift
bin=build/adambench cal=9 group=3 experiments=10 impl=eigen slowdown=0.10 b_args="" summary_only=0 plant=""
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
  case $1 in
    --bin) bin=$2; shift 2 ;;
    --cal) cal=$2; shift 2 ;;
    --group) group=$2; shift 2 ;;
    --experiments) experiments=$2; shift 2 ;;
    --impl) impl=$2; shift 2 ;;
    --slowdown) slowdown=$2; shift 2 ;;
    --b-args) b_args=$2; shift 2 ;;
    --plant) plant=$2; shift 2 ;;
    --summary) summary_only=1; shift ;;
    *) echo "gate-power.sh: unknown option '$1'" >&2; exit 2 ;;
  esac
done
if [ "$summary_only" = 0 ]; then
[ "${1:-}" = "--" ] || usage
shift
[ $# -ge 1 ] || usage
[ -x "$bin" ] || { echo "gate-power.sh: --bin $bin: not an executable file" >&2; exit 2; }
[ ! -e "$out" ] || { echo "gate-power.sh: $out exists: give a new folder (nothing is overwritten)" >&2; exit 2; }
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
mkdir -p "$out"
# B: the same binary with the slowdown (or the plant) in it (ab runs a binary: B is a two-line wrapper).
if [ -n "$plant" ]; then
  printf '#!/bin/sh\nADAMBENCH_PLANT=%s exec %s "$@"\n' "$plant" "$bin" >"$out/slow.sh"
else
  printf '#!/bin/sh\nADAMBENCH_PLANTED_SLOWDOWN=%s:%s exec %s "$@"\n' "$impl" "$slowdown" "$bin" >"$out/slow.sh"
fi
chmod +x "$out/slow.sh"
echo "gate-power: load before: $(cut -d' ' -f1-3 /proc/loadavg)" | tee "$out/load.txt"

"$bin" calibrate --bin "$bin" --runs "$cal" --group "$group" --out "$out/cal" -- "$@" >"$out/cal.log" 2>&1
tail -1 "$out/cal.log"
# shellcheck disable=SC2086 # b_args is a list of words
for e in $(seq 1 "$experiments"); do
  set +e
  "$bin" ab --a "$bin" --b "$out/slow.sh" --rounds "$group" --noise "$out/cal/baseline.json" --out "$out/ab-$e" \
    -- "$@" $b_args >"$out/ab-$e.log" 2>"$out/ab-$e.err"
  rc=$?
  set -e
  [ "$rc" -le 1 ] || { echo "gate-power: ab $e exited $rc (see $out/ab-$e.err)" >&2; exit 4; }
  echo "gate-power: experiment $e/$experiments: exit $rc, $(grep -c ' regression ' "$out/ab-$e.log" || true) regression rows"
done
echo "gate-power: load after: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out/load.txt"
fi
[ -f "$out/cal/calibration.json" ] || { echo "gate-power: $out holds no calibration" >&2; exit 2; }

/usr/bin/python3 - "$out" "$experiments" "$impl" "$slowdown" "$plant" <<'PY'
import json, os, re, sys
out, n, impl, slow, plant = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4]), sys.argv[5]
cal = json.load(open(f"{out}/cal/calibration.json"))
row = re.compile(r"^speed\s+(\S+)\s+(regression|improvement|inconclusive|warning|new)\s")
planted = planted_hit = planted_all = others = other_alarms = other_inconclusive = 0
experiments = []
done = 0
for e in range(1, n + 1):
    if not os.path.exists(f"{out}/ab-{e}/b.json"):
        continue  # not run, or interrupted: counted as not done
    done += 1
    names = {b["run_name"] for b in json.load(open(f"{out}/ab-{e}/a.json"))["benchmarks"] if b["run_type"] == "iteration"}
    mine = {k for k in names if k.startswith(impl + "/")}
    verdicts = {}
    for line in open(f"{out}/ab-{e}.log"):
        m = row.match(line)
        if m: verdicts[m.group(1)] = m.group(2)
    hit = sum(verdicts.get(k) == "regression" for k in mine)
    alarms = sum(verdicts.get(k) in ("regression", "improvement") for k in names - mine)
    planted += len(mine); planted_hit += hit; planted_all += hit == len(mine)
    others += len(names - mine); other_alarms += alarms
    other_inconclusive += sum(verdicts.get(k) == "inconclusive" for k in names - mine)
    experiments.append({"experiment": e, "planted_rows": len(mine), "flagged": hit, "other_rows": len(names - mine), "other_alarms": alarms})
res = {"slowdown": None if plant else slow, "plant": plant or None, "impl": impl, "experiments_done": done, "experiments": experiments,
       "calibration": {k: cal[k] for k in ("runs", "group", "comparisons", "false_alarms", "inconclusive", "false_alarm_rate", "noise")},
       "planted_rows": planted, "planted_flagged": planted_hit, "experiments_all_flagged": planted_all,
       "other_rows": others, "other_false_alarms": other_alarms, "other_inconclusive": other_inconclusive,
       "load": open(f"{out}/load.txt").read().strip().splitlines()}
tmp = f"{out}/.power.json.tmp"
json.dump(res, open(tmp, "w"), indent=1)
os.replace(tmp, f"{out}/power.json")
print(f"gate-power: A/A (calibrate, {cal['noise']}): {cal['false_alarms']} false alarms in {cal['comparisons']} comparisons "
      f"({100 * cal['false_alarm_rate']:.1f}%), {cal['inconclusive']} inconclusive")
print(f"gate-power: A/A (unslowed rows of the A/B runs): {other_alarms} false alarms in {others} comparisons, {other_inconclusive} inconclusive")
what = f"planted {plant}" if plant else f"slowed by {100 * slow:.0f}%"
print(f"gate-power: {impl} {what}: {planted_hit} of {planted} rows flagged; "
      f"every {impl} row flagged in {planted_all} of {done} A/B runs ({n - done} not run)")
PY
