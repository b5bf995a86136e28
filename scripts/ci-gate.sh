#!/usr/bin/env bash
# The one entry point of CI: .github/workflows/adambench.yml and the Slurm scripts (scripts/slurm/)
# call it, and a ctest (ci.gate) runs it end to end in light mode (docs/sharding.md). Usage:
#
#   scripts/ci-gate.sh build              configure and build (scripts/setup.sh)
#   scripts/ci-gate.sh build-count        the counting build, build-count/ (ADAMBENCH_COUNT=1 scripts/setup.sh)
#   scripts/ci-gate.sh test               every ctest except this script's own (scripts/test.sh)
#   scripts/ci-gate.sh pr OUT             pull-request gate: agreement, convergence and counted
#                                         speed against the baselines (gated), timed speed
#                                         (reported, not gated), report in OUT/report, verdict
#                                         in OUT/verdict.md
#   scripts/ci-gate.sh baselines DIR      write the baselines `pr` compares with (what
#                                         scripts/update-baselines.sh does for reports/baselines)
#   scripts/ci-gate.sh shard I N OUT      slice I of N of the full suite into OUT/shard-I-of-N/ (emptied
#                                         first), with status.txt: run id, job, state, exit code
#   scripts/ci-gate.sh merge OUT N        join this run's OUT/shard-{1..N}-of-N/ into OUT/merged/ (emptied
#                                         first), report, verdict naming each missing, failed or
#                                         cancelled shard
#   scripts/ci-gate.sh history OUT DB     append OUT/merged/ to the history file DB, `history check`
#                                         it, trend report in OUT/history/report (docs/history.md)
#
# Environment:
#   ADAMBENCH_BIN            the adambench binary (default: $ADAMBENCH_BUILD_DIR/adambench, build/)
#   ADAMBENCH_COUNT_BIN      the counting build's binary (default: build-count/adambench); counted
#                            speed needs it: without it `pr` and `baselines` fail (exit 4), never pass
#   ADAMBENCH_CI_BASELINES   baselines folder (default: reports/baselines)
#   ADAMBENCH_CI_THREADS     --threads for agree and speed (default 2; converge runs at 1 thread,
#                            where its curves are reproducible)
#   ADAMBENCH_CI_AGREE_ARGS  extra arguments for `agree` (e.g. "--impl eigen")
#   ADAMBENCH_CI_LIGHT=1     tests/ci/light.toml instead of the ci/smoke/full suites (ctest ci.gate)
#   ADAMBENCH_RUN_ID         shard, merge (required): the run, the same for every shard and its merge
#                            (the workflow: github.run_id-run_attempt; Slurm: the array job id). The
#                            runners write it into their results; merge takes pieces of this run only,
#                            so a piece an earlier run left in OUT counts as missing, never as present
#   ADAMBENCH_JOB_ID         shard: the scheduler's name for this task, kept in status.txt (e.g. 812_3)
#   ADAMBENCH_SHARD_JOBS     merge: a file of "I JOB STATE EXIT" lines, the scheduler's account of
#                            each shard (scripts/slurm/merge.sbatch writes it), shown in the verdict
#   GITHUB_STEP_SUMMARY      when set (GitHub Actions), the verdict is appended to it
#
# Exit codes are adambench's: 0 pass, 1 regression or disagreement, 2 bad input, 3 nothing
# checked, 4 I/O or environment failure, 130 interrupted. A step's code is kept and the worst one
# (130 > 4 > 2 > 1 > 3 > 0) is the script's, after every step has run and the report is written.
set -uo pipefail
cd "$(dirname "$0")/.."
build=${ADAMBENCH_BUILD_DIR:-build}
bin=${ADAMBENCH_BIN:-$build/adambench}
count_bin=${ADAMBENCH_COUNT_BIN:-build-count/adambench}
baselines=${ADAMBENCH_CI_BASELINES:-reports/baselines}
threads=${ADAMBENCH_CI_THREADS:-2}
read -r -a agree_args <<<"${ADAMBENCH_CI_AGREE_ARGS:-}"
py=/usr/bin/python3  # Debian's, with numpy, matplotlib and jsonschema (scripts/setup.sh)

if [ "${ADAMBENCH_CI_LIGHT:-0}" = 1 ]; then
  pr_agree=tests/ci/light.toml  pr_converge=tests/ci/light.toml  pr_converge_filter=.
  pr_speed=tests/ci/light.toml  full=tests/ci/light.toml  speed_args=()
  pr_count=tests/ci/light.toml  count_args=()
  agree_base=agree-light.json  converge_base=converge-light.json  count_base=count-light.json
else
  # Keep these in step with scripts/update-baselines.sh, which writes the baselines they meet.
  pr_agree=ci  pr_converge=smoke  pr_converge_filter='quadratic|logreg|rosenbrock|diverge'
  pr_speed=smoke  full=full  speed_args=()
  # LibTorch's many_small row is left out of the counted slice: 10,000 tensors through its dispatcher
  # take over a minute of simulation per row, more than the rest of the slice (docs/speed.md).
  pr_count=ci  count_args=(--filter '^(probe|eigen)/|^libtorch/[a-z+]*/(flat_64K|flat_32M|resnet50)/')
  agree_base=agree-ci.json  converge_base=converge-smoke-analytic.json  count_base=count-ci.json
fi

die() { echo "ci-gate.sh: $*" >&2; exit 2; }
need_run_id() {  # need_run_id SUBCOMMAND: ADAMBENCH_RUN_ID set and well formed, or exit 2
  [ -n "${ADAMBENCH_RUN_ID:-}" ] || die "$1: set ADAMBENCH_RUN_ID, the same for every shard of one run and its merge (the workflow uses github.run_id-run_attempt, scripts/slurm/submit.sh the array job id)"
  [[ $ADAMBENCH_RUN_ID =~ ^[A-Za-z0-9._:+-]{1,100}$ ]] || die "$1: ADAMBENCH_RUN_ID '$ADAMBENCH_RUN_ID': expected at most 100 of A-Z a-z 0-9 . _ : + -"
  export ADAMBENCH_RUN_ID
}
worst=0
note() {  # note RC: keep the most severe exit code
  local rc=$1 r
  for r in 130 4 2 1 3; do
    if [ "$rc" = "$r" ] || [ "$worst" = "$r" ]; then worst=$r; return; fi
  done
  [ "$rc" = 0 ] || worst=$rc
}
run() {  # run LABEL CMD...: run a step, log its exit code to $status_file, keep the worst
  local label=$1; shift
  echo "== $label: $*"
  "$@"; local rc=$?
  echo "$label $rc" >>"$status_file"
  note "$rc"
  return 0
}
step() {  # step LABEL CMD...: `run` for shards: in the background, so that a TERM (scancel, a
  # cancelled job) is heard at once; a cancelled shard runs no further step
  local label=$1 rc again; shift
  [ "$cancelled" = 0 ] || return 0
  echo "== $label: $*"
  "$@" & child=$!
  wait "$child"; rc=$?
  if [ "$cancelled" = 1 ] && [ "$rc" -gt 128 ]; then  # wait was cut short: the step's own code, once it has stopped
    wait "$child"; again=$?; [ "$again" = 127 ] || rc=$again
  fi
  child=
  echo "$label $rc" >>"$status_file"
  note "$rc"
}
shard_status() {  # shard_status DIR STATE EXIT: DIR/status.txt, written whole (what `merge` reads)
  printf 'run_id=%s\nshard=%s\njob=%s\nstate=%s\nexit=%s\n' "$ADAMBENCH_RUN_ID" "$i/$n" "${ADAMBENCH_JOB_ID:--}" "$2" "$3" >"$1/.status.tmp" &&
    mv -f "$1/.status.tmp" "$1/status.txt"
}
read_status() {  # read_status DIR: run, state, code and job from DIR/status.txt (empty: none)
  local key val
  run="" state="" code="" job=-
  [ -f "$1/status.txt" ] || return 0
  while IFS='=' read -r key val; do
    case $key in run_id) run=$val ;; state) state=$val ;; exit) code=$val ;; job) job=$val ;; esac
  done <"$1/status.txt"
  [ "$run" = "$ADAMBENCH_RUN_ID" ] || job=-   # another run's job, not this one's
}
shard_fault() {  # shard_fault K N DIR: sets `what`, what is wrong with shard K of this run (empty:
  # nothing); its steps go to $status_file, their codes to `note`
  what=""
  if [ "$run" != "$ADAMBENCH_RUN_ID" ]; then
    state=missing code=- what="missing: no result of run $ADAMBENCH_RUN_ID${run:+ (its folder holds a result of run $run)}"
    echo "shard-$1/$2:missing 2" >>"$status_file"; note 2
    return
  fi
  mine+=("$1")
  [ ! -f "$3/steps.txt" ] || while read -r label rc; do echo "shard-$1/$2:$label $rc" >>"$status_file"; note "$rc"; done <"$3/steps.txt"
  case $state in
    done) [ "$code" = 0 ] || what="exit $code" ;;
    cancelled) what="cancelled, exit $code" ;;
    *) what="killed before it recorded its end (status: $state)"; echo "shard-$1/$2:killed 4" >>"$status_file"; note 4 ;;
  esac
}
account_shards() {  # account_shards OUT N: each shard's run, state and exit (status.txt, and the
  # scheduler's "I JOB STATE EXIT" line in ADAMBENCH_SHARD_JOBS); prints the Markdown that names
  # each shard that is not a clean finish of this run, then a table of all. Sets mine and bad.
  local out=$1 n=$2 k run state code job sched sched_job what table
  mine=() bad=0
  table="| shard | job | state | exit | scheduler |"$'\n'"|---|---|---|---|---|"
  for ((k = 1; k <= n; k++)); do
    read_status "$out/shard-$k-of-$n"
    sched="" sched_job=""
    [ -z "${ADAMBENCH_SHARD_JOBS:-}" ] || read -r sched_job sched < <(awk -v k="$k" '$1 == k { print $2, $3, $4 }' "$ADAMBENCH_SHARD_JOBS" 2>/dev/null)
    [ -z "$sched_job" ] || job=$sched_job
    shard_fault "$k" "$n" "$out/shard-$k-of-$n"
    if [ -z "$what" ] && [ -n "$sched" ] && [ "${sched%% *}" != COMPLETED ]; then
      what="the scheduler says $sched"; echo "shard-$k/$n:scheduler 4" >>"$status_file"; note 4
    fi
    [ -z "$what" ] || { bad=$((bad + 1)); echo "- shard $k/$n (job $job): $what${sched:+; scheduler: $sched}"; }
    table+=$'\n'"| $k/$n | $job | $state | ${code:--} | ${sched:--} |"
  done
  [ "$bad" = 0 ] || echo
  echo "$table"
}
counted=""   # pr: what the counted gate compared (the verdict line says it)
verdict_line() {
  local tail=""
  [ -z "$counted" ] || tail=" (counted speed: $counted)"
  case $1 in
    0) echo "✅ adambench gate: pass$tail" ;;
    1) echo "❌ adambench gate: regression or disagreement$tail" ;;
    3) echo "❌ adambench gate: nothing was checked$tail" ;;
    130) echo "❌ adambench gate: interrupted$tail" ;;
    *) echo "❌ adambench gate: could not run (exit $1: bad input or environment)$tail" ;;
  esac
}
embed() {  # embed FILE: at most 20,000 characters of it; inside a red verdict, no part of it says ✅
  if [ "$worst" = 0 ]; then head -c 20000 "$1"; else head -c 20000 "$1" | sed 's/✅/⚠️ (part of a red verdict)/g'; fi
}
headline="" preface=""  # merge: the verdict's first line and what follows it when shards are missing
have_count_bin() {  # counted speed needs the counting build (x86-64-v3 kernels, which Valgrind runs)
  [ -x "$count_bin" ] && return 0
  echo "ci-gate.sh: no counting build at $count_bin (run: scripts/ci-gate.sh build-count): counted speed cannot be compared" >&2
  return 1
}
publish() {  # publish OUT: OUT/verdict.md, and the job summary on GitHub
  local out=$1
  {
    if [ -n "$headline" ]; then echo "$headline"; else verdict_line "$worst"; fi
    [ -z "$preface" ] || { echo; cat "$preface"; }
    echo
    echo "| step | exit |"
    echo "|---|---|"
    while read -r label rc; do echo "| $label | $rc |"; done <"$status_file"
    for md in "$out"/*.md; do
      [ -f "$md" ] && [ "$(basename "$md")" != verdict.md ] || continue
      echo; echo "<details><summary>$(basename "$md")</summary>"; echo; embed "$md"; echo; echo "</details>"
    done
    if [ -f "$out/report/summary.md" ]; then
      echo; echo "<details><summary>report summary</summary>"; echo; embed "$out/report/summary.md"; echo; echo "</details>"
    fi
  } >"$out/verdict.md"
  head -c 60000 "$out/verdict.md" >>"${GITHUB_STEP_SUMMARY:-/dev/null}"
  if [ -n "$headline" ]; then echo "$headline"; else verdict_line "$worst"; fi
}

[ -x "$bin" ] || [ "${1:-}" = build ] || [ "${1:-}" = build-count ] || [ "${1:-}" = test ] || { echo "ci-gate.sh: no adambench binary at $bin (run: scripts/ci-gate.sh build)" >&2; exit 4; }

case "${1:-}" in
  build)
    exec scripts/setup.sh ;;
  build-count)
    ADAMBENCH_COUNT=1 exec scripts/setup.sh ;;
  test)
    exec scripts/test.sh -E '^ci\.gate$' ;;

  baselines)
    [ $# = 2 ] || die "usage: ci-gate.sh baselines DIR"
    dir=$2; tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
    mkdir -p "$dir" || exit 4
    "$bin" --threads "$threads" agree "$pr_agree" --quiet --out "$tmp/agree" "${agree_args[@]}" >/dev/null || exit $?
    "$bin" --threads 1 converge "$pr_converge" --filter "$pr_converge_filter" --quiet --out "$tmp/conv" >/dev/null || exit $?
    have_count_bin || exit 4
    "$count_bin" count "$pr_count" --quiet --out "$tmp/count" "${count_args[@]}" >/dev/null || exit $?
    cp "$tmp/agree/agree.json" "$dir/$agree_base" && cp "$tmp/conv/converge.json" "$dir/$converge_base" &&
      cp "$tmp/count/count.json" "$dir/$count_base" || exit 4
    echo "ci-gate.sh: wrote $dir/$agree_base, $dir/$converge_base and $dir/$count_base" ;;

  pr)
    [ $# = 2 ] || die "usage: ci-gate.sh pr OUT"
    out=$2; mkdir -p "$out" || exit 4
    status_file=$out/steps.txt; : >"$status_file"
    for f in "$baselines/$agree_base" "$baselines/$converge_base" "$baselines/$count_base"; do [ -f "$f" ] || die "missing baseline $f"; done
    run agree "$bin" --threads "$threads" agree "$pr_agree" --quiet --out "$out/agree" "${agree_args[@]}"
    [ -f "$out/agree/agree.json" ] &&
      run agree-vs-baseline "$bin" compare "$baselines/$agree_base" "$out/agree/agree.json" --markdown "$out/agree-compare.md"
    run converge "$bin" --threads 1 converge "$pr_converge" --filter "$pr_converge_filter" --quiet --out "$out/converge"
    [ -f "$out/converge/converge.json" ] &&
      run converge-vs-baseline "$bin" compare "$baselines/$converge_base" "$out/converge/converge.json" --markdown "$out/converge-compare.md"
    # Counted speed is gated: counts do not depend on the load (docs/speed.md, "Counted speed"). A
    # count that did not compare is a failure, never a pass.
    counted="not compared"
    if have_count_bin; then
      run count "$count_bin" count "$pr_count" --quiet --out "$out/count" "${count_args[@]}"
    else
      echo "count 4" >>"$status_file"; note 4
    fi
    if [ -f "$out/count/count.json" ]; then
      run count-vs-baseline "$bin" compare "$baselines/$count_base" "$out/count/count.json" --markdown "$out/count-compare.md"
      [ -s "$out/count-compare.md" ] && counted=$(head -1 "$out/count-compare.md" | sed 's/^[^ ]* //')
    else
      echo "count-vs-baseline 4" >>"$status_file"; note 4
    fi
    # Timed speed is reported, not gated: CI machines are too noisy for a verdict (docs/speed.md).
    echo "== speed (reported, not gated)"
    "$bin" --threads "$threads" speed "$pr_speed" --out "$out/speed" "${speed_args[@]}" >"$out/speed.log" 2>&1
    echo "speed(not-gated) $?" >>"$status_file"
    inputs=("$out/agree" "$out/converge"); [ -f "$out/speed/speed.json" ] && inputs+=("$out/speed")
    [ -f "$out/count/count.json" ] && inputs+=("$out/count")
    run report "$py" scripts/report.py "${inputs[@]}" --out "$out/report"
    publish "$out"
    exit "$worst" ;;

  shard)
    [ $# = 4 ] || die "usage: ci-gate.sh shard I N OUT"
    i=$2 n=$3
    [[ $i =~ ^[1-9][0-9]{0,5}$ && $n =~ ^[1-9][0-9]{0,5}$ ]] && [ "$i" -le "$n" ] || die "shard: expected I N with 1 <= I <= N (got '$i' '$n')"
    need_run_id shard
    # The folder holds this run's results only: what an earlier run left there must never be
    # taken for this shard's if it dies before writing its own.
    out=$4/shard-$i-of-$n; rm -rf "$out" && mkdir -p "$out" || exit 4
    status_file=$out/steps.txt; : >"$status_file"
    cancelled=0 child=
    shard_status "$out" running -
    trap 'cancelled=1; shard_status "$out" cancelled 130; [ -z "$child" ] || kill -TERM "$child" 2>/dev/null' TERM INT
    step agree "$bin" --threads "$threads" agree "$full" --shard "$i/$n" --quiet --out "$out/agree" "${agree_args[@]}"
    step converge "$bin" --threads 1 converge "$full" --shard "$i/$n" --quiet --out "$out/converge"
    step speed "$bin" --threads "$threads" speed "$full" --shard "$i/$n" --out "$out/speed" "${speed_args[@]}"
    state=done
    if [ "$cancelled" = 1 ]; then state=cancelled; echo "cancelled 130" >>"$status_file"; note 130; fi
    shard_status "$out" "$state" "$worst"
    echo "shard $i/$n of run $ADAMBENCH_RUN_ID: $(verdict_line "$worst")"
    exit "$worst" ;;

  merge)
    [ $# = 3 ] || die "usage: ci-gate.sh merge OUT N"
    out=$2 n=$3
    [[ $n =~ ^[1-9][0-9]{0,5}$ ]] || die "merge: N must be the run's shard count (got '$n')"
    need_run_id merge
    merged=$out/merged; rm -rf "$merged" && mkdir -p "$merged" || exit 4  # nothing of an earlier merge stays
    status_file=$merged/steps.txt; : >"$status_file"
    preface=$merged/shards.txt
    account_shards "$out" "$n" >"$preface"   # sets mine (this run's shards) and bad (shards to name)
    for kind in agree converge speed; do
      files=()
      for ((k = 1; k <= n; k++)); do [ -f "$out/shard-$k-of-$n/$kind/$kind.json" ] && files+=("$out/shard-$k-of-$n/$kind/$kind.json"); done
      [ ${#files[@]} -gt 0 ] || { echo "no-$kind-pieces 2" >>"$status_file"; note 2; continue; }
      mkdir -p "$merged/$kind" || exit 4
      # converge.json names its curves relative to itself (curves/*.csv): bring this run's along.
      if [ "$kind" = converge ]; then
        for k in "${mine[@]}"; do [ ! -d "$out/shard-$k-of-$n/converge/curves" ] || cp -r "$out/shard-$k-of-$n/converge/curves" "$merged/converge/" || exit 4; done
      fi
      # Every piece there is goes in: adambench merge leaves out those of another run, and then
      # names their shards as missing.
      run "merge-$kind" "$bin" merge --run-id "$ADAMBENCH_RUN_ID" --out "$merged/$kind/$kind.json" "${files[@]}"
    done
    reports=()
    for kind in agree converge speed; do [ -f "$merged/$kind/$kind.json" ] && reports+=("$merged/$kind/$kind.json"); done
    if [ ${#reports[@]} -gt 0 ]; then run report "$py" scripts/report.py "${reports[@]}" --out "$merged/report"; fi
    [ "$bad" = 0 ] || headline="❌ adambench gate: $bad of $n shards of run $ADAMBENCH_RUN_ID missing, failed or cancelled (exit $worst)"
    # The history is its own subcommand (`history OUT DB`): where its file lives is the caller's choice.
    publish "$merged"
    exit "$worst" ;;

  history)
    [ $# = 3 ] || die "usage: ci-gate.sh history OUT DB"
    merged=$2/merged; db=$3; hout=$2/history; mkdir -p "$hout" || exit 4
    status_file=$hout/steps.txt; : >"$status_file"
    inputs=()
    for kind in agree converge speed sweep; do [ -f "$merged/$kind/$kind.json" ] && inputs+=("$merged/$kind/$kind.json"); done
    [ ${#inputs[@]} -gt 0 ] || die "no merged results in $merged (run: ci-gate.sh merge $2 N)"
    run history-add "$bin" history add "${inputs[@]}" --db "$db"
    echo "== history-check: $bin history check --db $db"
    "$bin" history check --db "$db" >"$hout/history-check.txt" 2>&1; rc=$?
    cat "$hout/history-check.txt"
    { echo '```'; cat "$hout/history-check.txt"; echo '```'; } >"$hout/history-check.md"
    [ "$rc" = 3 ] && rc=0   # fewer than 5 runs per figure yet: nothing to judge is no failure here
    echo "history-check $rc" >>"$status_file"; note "$rc"
    run history-report "$py" scripts/report.py "${inputs[@]}" --history "$db" --out "$hout/report"
    publish "$hout"
    exit "$worst" ;;

  *) die "usage: ci-gate.sh build | build-count | test | pr OUT | baselines DIR | shard I N OUT | merge OUT N | history OUT DB" ;;
esac
