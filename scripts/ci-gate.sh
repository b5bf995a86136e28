#!/usr/bin/env bash
# The one entry point of CI: .github/workflows/adambench.yml and scripts/slurm/full-suite.sbatch
# call it, and a ctest (ci.gate) runs it end to end in light mode. Usage:
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
#   scripts/ci-gate.sh shard I N OUT      slice I of N of the full suite into OUT/shard-I-of-N/
#   scripts/ci-gate.sh merge OUT          join OUT/shard-*-of-N/ into OUT/merged/, report, verdict
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
  pr_count=ci  count_args=(--filter '^(probe|eigen)/|^libtorch/[a-z+]*/(flat_|resnet50)')
  agree_base=agree-ci.json  converge_base=converge-smoke-analytic.json  count_base=count-ci.json
fi

die() { echo "ci-gate.sh: $*" >&2; exit 2; }
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
have_count_bin() {  # counted speed needs the counting build (x86-64-v3 kernels, which Valgrind runs)
  [ -x "$count_bin" ] && return 0
  echo "ci-gate.sh: no counting build at $count_bin (run: scripts/ci-gate.sh build-count): counted speed cannot be compared" >&2
  return 1
}
publish() {  # publish OUT: OUT/verdict.md, and the job summary on GitHub
  local out=$1
  {
    verdict_line "$worst"
    echo
    echo "| step | exit |"
    echo "|---|---|"
    while read -r label rc; do echo "| $label | $rc |"; done <"$status_file"
    for md in "$out"/*.md; do
      [ -f "$md" ] && [ "$(basename "$md")" != verdict.md ] || continue
      echo; echo "<details><summary>$(basename "$md")</summary>"; echo; head -c 20000 "$md"; echo; echo "</details>"
    done
    if [ -f "$out/report/summary.md" ]; then
      echo; echo "<details><summary>report summary</summary>"; echo; head -c 20000 "$out/report/summary.md"; echo; echo "</details>"
    fi
  } >"$out/verdict.md"
  head -c 60000 "$out/verdict.md" >>"${GITHUB_STEP_SUMMARY:-/dev/null}"
  verdict_line "$worst"
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
    i=$2 n=$3; out=$4/shard-$i-of-$n; mkdir -p "$out" || exit 4
    status_file=$out/steps.txt; : >"$status_file"
    run agree "$bin" --threads "$threads" agree "$full" --shard "$i/$n" --quiet --out "$out/agree" "${agree_args[@]}"
    run converge "$bin" --threads 1 converge "$full" --shard "$i/$n" --quiet --out "$out/converge"
    run speed "$bin" --threads "$threads" speed "$full" --shard "$i/$n" --out "$out/speed" "${speed_args[@]}"
    echo "shard $i/$n: $(verdict_line "$worst")"
    exit "$worst" ;;

  merge)
    [ $# = 2 ] || die "usage: ci-gate.sh merge OUT"
    out=$2; merged=$out/merged; mkdir -p "$merged" || exit 4
    status_file=$merged/steps.txt; : >"$status_file"
    shopt -s nullglob
    shards=("$out"/shard-*-of-*)
    [ ${#shards[@]} -gt 0 ] || die "no $out/shard-I-of-N folders to merge"
    while read -r label rc; do echo "$label $rc" >>"$status_file"; note "$rc"; done < <(cat "${shards[@]/%//steps.txt}" 2>/dev/null)
    for kind in agree converge speed; do
      files=("$out"/shard-*-of-*/"$kind/$kind.json")
      [ ${#files[@]} -gt 0 ] || { echo "no-$kind-pieces 2" >>"$status_file"; note 2; continue; }
      mkdir -p "$merged/$kind" || exit 4
      # converge.json names its curves relative to itself (curves/*.csv): bring them along.
      [ "$kind" = converge ] && for d in "$out"/shard-*-of-*/converge/curves; do cp -r "$d" "$merged/converge/" || exit 4; done
      run "merge-$kind" "$bin" merge --out "$merged/$kind/$kind.json" "${files[@]}"
    done
    reports=()
    for kind in agree converge speed; do [ -f "$merged/$kind/$kind.json" ] && reports+=("$merged/$kind/$kind.json"); done
    run report "$py" scripts/report.py "${reports[@]}" --out "$merged/report"
    # The history is its own subcommand (`history OUT DB`): where its file lives is the caller's choice.
    publish "$merged"
    exit "$worst" ;;

  history)
    [ $# = 3 ] || die "usage: ci-gate.sh history OUT DB"
    merged=$2/merged; db=$3; hout=$2/history; mkdir -p "$hout" || exit 4
    status_file=$hout/steps.txt; : >"$status_file"
    inputs=()
    for kind in agree converge speed sweep; do [ -f "$merged/$kind/$kind.json" ] && inputs+=("$merged/$kind/$kind.json"); done
    [ ${#inputs[@]} -gt 0 ] || die "no merged results in $merged (run: ci-gate.sh merge $2)"
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

  *) die "usage: ci-gate.sh build | build-count | test | pr OUT | baselines DIR | shard I N OUT | merge OUT | history OUT DB" ;;
esac
