#!/usr/bin/env bash
# The nightly on a real Slurm (Debian's slurm-wlm and munge, which scripts/setup.sh installs): a
# one-node cluster for this host, its daemons started here and stopped by PID, the light suite
# submitted by scripts/slurm/submit.sh from a folder outside the repository as an array of 3.
#   1. merged == unsharded, field by field (tests/ci/same_results.py), logs under the output folder;
#   2. the same folder again: task 1 cancelled before it starts and task 2 cancelled mid-run still
#      give a verdict, red, naming both shards with their job ids; the stale piece of run 1 in
#      shard 1's folder does not count.
# slurmd must run as root: without root the test says so and exits 77 (ctest: skipped).
CLI=$1 EXPECT=$2 ROOT=$3
if [ "$(id -u)" != 0 ]; then
  echo "SKIP: a one-node Slurm needs root to run slurmd (this runs as $(id -un)); .ci/run and CI run as root"
  exit 77
fi
source "$(dirname "$0")/lib.sh"
for c in munged slurmctld slurmd sbatch scontrol squeue scancel; do
  command -v "$c" >/dev/null || { echo "FAIL: no $c: scripts/setup.sh installs slurm-wlm and munge"; exit 1; }
done
S=$tmp/slurm
mkdir -p "$S/state" "$S/spool" "$tmp/elsewhere"
pids=()
stop() {  # our jobs, then our daemons, by PID (also when a check failed half way)
  if [ -n "${SLURM_CONF:-}" ] && [ ${#pids[@]} -gt 1 ]; then
    scancel --user="$(id -un)" 2>/dev/null
    for _ in $(seq 40); do [ -z "$(squeue -h 2>/dev/null)" ] && break; sleep 0.5; done
  fi
  for ((k = ${#pids[@]} - 1; k >= 0; k--)); do kill "${pids[k]}" 2>/dev/null; done
  for p in "${pids[@]}"; do
    for _ in $(seq 20); do kill -0 "$p" 2>/dev/null || break; sleep 0.25; done
    kill -9 "$p" 2>/dev/null; wait "$p" 2>/dev/null
  done
  rm -rf "$tmp"
}
trap stop EXIT

# munge, with its own key and socket.
dd if=/dev/urandom bs=1 count=1024 of="$S/munge.key" 2>/dev/null && chmod 400 "$S/munge.key"
munged -F --force --key-file="$S/munge.key" --socket="$S/munge.sock" --pid-file="$S/munged.pid" \
  --log-file="$S/munged.log" --seed-file="$S/munged.seed" >"$S/munged.out" 2>&1 &
pids+=($!)
# Two free ports, a node of this host's CPUs and half its free memory.
read -r port_ctld port_d < <($PY -c '
import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(*[x.getsockname()[1] for x in s])')
host=$(hostname -s)
mem=$(awk '/MemAvailable/ { print int($2 / 1024 / 2) }' /proc/meminfo)
cat >"$S/slurm.conf" <<EOF
ClusterName=adambench-test
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$port_ctld
SlurmdPort=$port_d
AuthType=auth/munge
AuthInfo=socket=$S/munge.sock
CredType=cred/munge
StateSaveLocation=$S/state
SlurmdSpoolDir=$S/spool
SlurmctldPidFile=$S/slurmctld.pid
SlurmdPidFile=$S/slurmd.pid
SlurmctldLogFile=$S/slurmctld.log
SlurmdLogFile=$S/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU_Memory
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
ReturnToService=2
KillWait=5
MinJobAge=600
NodeName=$host NodeAddr=127.0.0.1 CPUs=$(nproc) RealMemory=$mem State=UNKNOWN
PartitionName=adambench Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF=$S/slurm.conf
for _ in $(seq 40); do [ -S "$S/munge.sock" ] && break; sleep 0.25; done
slurmctld -D -i -f "$SLURM_CONF" >"$S/slurmctld.out" 2>&1 &
pids+=($!)
slurmd -D -f "$SLURM_CONF" -N "$host" >"$S/slurmd.out" 2>&1 &
pids+=($!)
for _ in $(seq 120); do [ "$(sinfo -h -o %T 2>/dev/null)" = idle ] && break; sleep 0.25; done
assert "a one-node Slurm is up ($host, $(nproc) CPUs, ${mem} MiB)" bash -c "[ \"\$(sinfo -h -o %T)\" = idle ]"
[ "$fails" = 0 ] || { tail -5 "$S"/*.out "$S"/*.log; finish; exit 1; }

export ADAMBENCH_CI_LIGHT=1 ADAMBENCH_CI_THREADS=1 ADAMBENCH_BIN=$CLI ADAMBENCH_OUT=$tmp/out
small=(--cpus-per-task=1 --mem=1G --oversubscribe)   # the header's overrides for a small node
state_of() { scontrol -o show job "$1" 2>/dev/null | grep -o 'JobState=[A-Z_]*' | head -1 | cut -d= -f2; }
wait_done() {  # wait_done JOB SECONDS: until the job has ended
  for _ in $(seq $(($2 * 4))); do
    case $(state_of "$1") in COMPLETED | FAILED | CANCELLED | TIMEOUT | NODE_FAIL | OUT_OF_MEMORY) return 0 ;; esac
    sleep 0.25
  done
  return 1
}
submit() {  # submit ARGS...: submit.sh from outside the repository; sets run and merge
  local line
  line=$(cd "$tmp/elsewhere" && "$ROOT/scripts/slurm/submit.sh" "$@") || return 1
  echo "$line"
  run=$(sed -n 's/^submit.sh: run \([0-9]*\):.*/\1/p' <<<"$line") merge=$(sed -n 's/.*merge job \([0-9]*\);.*/\1/p' <<<"$line")
  [ -n "$run" ] && [ -n "$merge" ]
}

# 1. The light suite as an array of 3, and the same suite unsharded, here.
t0=$(date +%s)
assert "submit.sh from another folder: the array of 3, then the merge job" submit --array=1-3 "${small[@]}"
ADAMBENCH_RUN_ID=whole "$ROOT/scripts/ci-gate.sh" shard 1 1 "$tmp/whole" >"$tmp/whole.log" 2>&1
assert "the unsharded run (ci-gate.sh shard 1 1, outside Slurm) passes" grep -qx 'exit=0' "$tmp/whole/shard-1-of-1/status.txt"
assert "run $run: the merge job $merge ends (afterany the array)" wait_done "$merge" 150
echo "     run 1: $(($(date +%s) - t0)) s from submit to verdict"
assert "run $run: the verdict is a pass, from 3 shards of this run" bash -c "
  head -1 '$tmp/out/merged/verdict.md' | grep -q '^✅ adambench gate: pass' && [ \$(grep -c '^| [123]/3 | ${run}_[123] | done | 0 | COMPLETED' '$tmp/out/merged/verdict.md') = 3 ]"
for k in agree converge speed; do
  check "run $run: merged $k == unsharded $k" 0 --stdout "^$k: same" -- $PY "$ROOT/tests/ci/same_results.py" \
    "$tmp/whole/shard-1-of-1/$k/$k.json" "$tmp/out/merged/$k/$k.json"
done
assert "logs under the output folder, the repository found from ADAMBENCH_REPO" bash -c "
  ls '$tmp/out/logs/shard-${run}_'{1,2,3}.out '$tmp/out/logs/merge-$merge.out' >/dev/null &&
  grep -q 'repository $ROOT (from ADAMBENCH_REPO, set by submit.sh)' '$tmp/out/logs/shard-${run}_1.out' && ! ls '$tmp/elsewhere'/*.out 2>/dev/null"

# 2. The same folder again. Task 1 cancelled before it starts (held at submit), task 2 mid-run.
t0=$(date +%s)
if submit --array=1-3 --hold "${small[@]}" >"$tmp/submit2"; then
  scancel "${run}_1"
  scontrol release "$run"
  for _ in $(seq 240); do grep -qx "run_id=$run" "$tmp/out/shard-2-of-3/status.txt" 2>/dev/null && break; sleep 0.25; done
  sleep 1   # into a step
  scancel "${run}_2"
  assert "run $run: the merge job $merge ends although task 1 never ran" wait_done "$merge" 120
  echo "     run 2: $(($(date +%s) - t0)) s from submit to verdict"
  assert "run $run: red, naming shard 1/3 (never started; its folder holds run 1's piece) and shard 2/3 (cancelled)" bash -c "
    head -1 '$tmp/out/merged/verdict.md' | grep -q '^❌ adambench gate: 2 of 3 shards of run $run' &&
    grep -q '^- shard 1/3 (job ${run}_1): missing: no result of run $run (its folder holds a result of run [0-9]*); scheduler: NO_RECORD' '$tmp/out/merged/verdict.md' &&
    grep -q '^- shard 2/3 (job ${run}_2): cancelled, exit 130; scheduler: CANCELLED' '$tmp/out/merged/verdict.md' &&
    ! grep -q '✅' '$tmp/out/merged/verdict.md'"
  assert "run $run: the merge job failed (exit status not 0)" bash -c "[ \"\$(scontrol -o show job $merge | grep -o 'ExitCode=[0-9]*' | cut -d= -f2)\" != 0 ]"
else
  assert "submit.sh --hold" false
fi
if [ "$(nproc)" -lt 16 ]; then   # the header's --cpus-per-task=16 fits no node here
  (cd "$tmp/elsewhere" && "$ROOT/scripts/slurm/submit.sh" --array=1-2) >/dev/null 2>"$tmp/big"; rc=$?
  assert "the header's defaults on this small node: exit 2 (got $rc), one line with the overrides to use, nothing left queued" bash -c "
    [ $rc = 2 ] && [ \$(wc -l <'$tmp/big') = 1 ] && grep -q -- '--oversubscribe' '$tmp/big' && [ -z \"\$(squeue -h)\" ]"
fi
assert "outside Slurm, full-suite.sbatch prints its one-line hint: exit 2" bash -c "
  env -u SLURM_ARRAY_JOB_ID bash '$ROOT/scripts/slurm/full-suite.sbatch' 2>'$tmp/hint'; [ \$? = 2 ] && [ \$(wc -l <'$tmp/hint') = 1 ] && grep -q submit.sh '$tmp/hint'"
[ "$fails" = 0 ] || for f in "$tmp"/out/logs/merge*.out "$tmp/out/merged/verdict.md"; do echo "== $f"; tail -25 "$f"; done
finish
