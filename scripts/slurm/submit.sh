#!/usr/bin/env bash
# Submits the nightly full suite to Slurm: the job array of shards (full-suite.sbatch), then the
# merge-and-report job (merge.sbatch) with --dependency=afterany on the whole array, so a verdict
# comes whatever happens to any task, the first included. Run it from any folder:
#
#   scripts/slurm/submit.sh [SBATCH OPTIONS...]
#   scripts/slurm/submit.sh --array=1-16 -p long -A myproj --qos=normal
#   scripts/slurm/submit.sh --cpus-per-task=2 --mem=4G --oversubscribe     # a small node
#
# The options go to the array; partition (-p), account (-A) and QoS (-q) go to the merge job too.
# --array must be a range A-B (with an optional %K). Do not pass --export or --output: the jobs
# need the variables this script exports, and their logs go to $ADAMBENCH_OUT/logs/.
#
# Environment: ADAMBENCH_OUT (results; default: REPO/results/nightly), ADAMBENCH_MERGE_MEM (the
# merge job's memory; default 4G), ADAMBENCH_CI_* (passed on to scripts/ci-gate.sh).
# Prints the array job id (the run id) and the merge job id.
set -euo pipefail
say() { echo "submit.sh: $*" >&2; }
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
command -v sbatch >/dev/null || { say "no sbatch on this machine: run it where Slurm jobs are submitted"; exit 4; }
out=${ADAMBENCH_OUT:-$repo/results/nightly}
mkdir -p "$out/logs" || exit 4
out=$(cd "$out" && pwd)   # the jobs may start in another folder

# The options the merge job shares with the array, and the array's range (N shards).
shared=() range=""
args=("$@")
for ((k = 0; k < ${#args[@]}; k++)); do
  a=${args[k]}
  case $a in
    -p | --partition | -A | --account | -q | --qos) shared+=("$a" "${args[k + 1]:-}") ;;
    --partition=* | --account=* | --qos=* | -p?* | -A?* | -q?*) shared+=("$a") ;;
    -a | --array) range=${args[k + 1]:-} ;;
    --array=* | -a?*) range=${a#--array=}; range=${range#-a} ;;
    --export* | -o | --output* | -e | --error*) say "do not pass $a: submit.sh sets it"; exit 2 ;;
  esac
done
[ -n "$range" ] || range=$(sed -n 's/^#SBATCH --array=//p' "$repo/scripts/slurm/full-suite.sbatch")
[[ $range =~ ^([0-9]+)-([0-9]+)(%[0-9]+)?$ ]] && [ "${BASH_REMATCH[1]}" -le "${BASH_REMATCH[2]}" ] ||
  { say "--array '$range': expected a range A-B (optionally %K)"; exit 2; }
first=${BASH_REMATCH[1]} n=$((BASH_REMATCH[2] - BASH_REMATCH[1] + 1))

cd "$repo"   # SLURM_SUBMIT_DIR: the repository, for scripts that look there
env_common="ALL,ADAMBENCH_REPO=$repo,ADAMBENCH_OUT=$out,ADAMBENCH_SHARDS=$n"
array=$(sbatch --parsable --export="$env_common" --output="$out/logs/shard-%A_%a.out" "$@" scripts/slurm/full-suite.sbatch) ||
  { say "sbatch refused the array (its message is above)"; exit 4; }
array=${array%%;*}
if ! merge=$(sbatch --parsable --dependency="afterany:$array" --kill-on-invalid-dep=no "${shared[@]}" \
      --mem="${ADAMBENCH_MERGE_MEM:-4G}" --output="$out/logs/merge-%j.out" \
      --export="$env_common,ADAMBENCH_RUN_ID=$array,ADAMBENCH_ARRAY_FIRST=$first" scripts/slurm/merge.sbatch); then
  scancel "$array" || true
  say "the merge job could not be submitted: array $array cancelled (no shard should run without its verdict)"
  exit 4
fi
merge=${merge%%;*}
# Resources no node of the partition has pend forever (Reason=PartitionConfig): say so now.
for _ in $(seq 20); do
  reason=$(squeue -h -j "$array" -o %r 2>/dev/null | sort -u | head -1)
  [ "$reason" = None ] || [ -z "$reason" ] || break
  sleep 0.5
done
if [ "$reason" = PartitionConfig ]; then
  scancel "$array" "$merge" || true
  say "the array would pend forever (Reason=PartitionConfig): the partition has no node as big as it asks; both jobs cancelled. On a small node pass its size, e.g. --cpus-per-task=2 --mem=4G --oversubscribe (full-suite.sbatch's header)"
  exit 2
fi
echo "submit.sh: run $array: $n shards (array job $array), merge job $merge; results in $out, logs in $out/logs"
