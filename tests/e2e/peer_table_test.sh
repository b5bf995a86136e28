#!/usr/bin/env bash
# scripts/peer-table.py's summary from whole runs (--from), on made-up speed.json files: the table,
# the targets it checks and its exit codes. Usage: peer_table_test.sh REPO_ROOT
set -euo pipefail
root=$1
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
py=/usr/bin/python3; [ -x "$py" ] || py=python3

# runs DIR PROBE EIGEN DEEPSPEED FUSED: two runs of one above-cache row (1 thread, adam), Gparam/s.
runs() {
  "$py" - "$@" <<'PY'
import json, os, sys
d, probe, eigen, ds, fused = sys.argv[1], *map(float, sys.argv[2:])
for k, wobble in ((1, 1.0), (2, 1.0)):
    def row(impl, rate):
        return {"name": f"{impl}/flat_1K/threads:1", "impl": impl, "algo": "probe" if impl == "probe" else "adam",
                "shape": "flat_1K", "params": 1024, "threads": 1, "extra_bytes_per_step": 0,
                "params_per_second": {"median": rate * 1e9 * wobble, "min": rate * 1e9, "max": rate * 1e9}}
    j = {"context": {"adambench.last_level_cache_bytes": "1000", "load_avg": [0.4, 0.5, 0.6]},
         "adambench_rows": [row("probe", probe), row("libtorch-fused", fused), row("deepspeed-cpu", ds), row("eigen", eigen)]}
    os.makedirs(f"{d}/run-{k}", exist_ok=True)
    json.dump(j, open(f"{d}/run-{k}/speed.json", "w"))
PY
}
table() { "$py" "$root/scripts/peer-table.py" --from "$1" >"$tmp/out.txt" 2>&1; }

# Eigen ahead of both peers and at 98% of the probe: every target holds.
runs "$tmp/ok" 1.02 1.0 0.9 0.8
table "$tmp/ok" || fail "exit $? on a run where every target held: $(cat "$tmp/out.txt")"
grep -q "| flat_1K | 1 | adam | 1.020 | 1.000 | 98.0% " "$tmp/out.txt" || fail "row: $(cat "$tmp/out.txt")"
grep -q "1.111× (1.111..1.111)" "$tmp/out.txt" || fail "Eigen ÷ DeepSpeed: $(cat "$tmp/out.txt")"
grep -q "Every target held" "$tmp/out.txt" || fail "no verdict"

# DeepSpeed faster: exit 1, named.
runs "$tmp/ds" 1.02 1.0 1.1 0.8
rc=0; table "$tmp/ds" || rc=$?
[ "$rc" = 1 ] || fail "exit $rc with DeepSpeed ahead"
grep -q "Eigen ÷ deepspeed-cpu = 0.909 < 1.0" "$tmp/out.txt" || fail "$(cat "$tmp/out.txt")"

# Below 95% of the probe at one thread above the cache: exit 1, named.
runs "$tmp/probe" 1.2 1.0 0.9 0.8
rc=0; table "$tmp/probe" || rc=$?
[ "$rc" = 1 ] || fail "exit $rc with Eigen at 83% of the probe"
grep -q "Eigen at 83.3% of the probe < 95%" "$tmp/out.txt" || fail "$(cat "$tmp/out.txt")"

# A peer that never ran is a missed target, not a pass.
"$py" - "$tmp/ds/run-1/speed.json" "$tmp/ds/run-2/speed.json" <<'PY'
import json, sys
for p in sys.argv[1:]:
    j = json.load(open(p)); j["adambench_rows"] = [r for r in j["adambench_rows"] if r["impl"] != "deepspeed-cpu"]
    json.dump(j, open(p, "w"))
PY
rc=0; table "$tmp/ds" || rc=$?
[ "$rc" = 1 ] || fail "exit $rc without DeepSpeed's rows"
grep -q "no Eigen ÷ deepspeed-cpu" "$tmp/out.txt" || fail "$(cat "$tmp/out.txt")"

# Nothing to summarise: exit 3.
mkdir "$tmp/none"
rc=0; table "$tmp/none" || rc=$?
[ "$rc" = 3 ] || fail "exit $rc on an empty folder"
echo "peer-table ok"
