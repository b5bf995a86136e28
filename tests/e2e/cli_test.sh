#!/usr/bin/env bash
# End-to-end tests of `adambench agree` and `list` through the real binary.
CLI=$1 EXPECT=$2
source "$(dirname "$0")/lib.sh"

check "agree smoke passes and writes JSON" 0 --stdout "agree: [1-9][0-9]* passed, 0 failed" -- "$CLI" agree smoke --quiet --out "$tmp/r1"
assert "agree.json is schema-versioned with context and verdicts" $PY - "$tmp/r1/agree.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
assert j["schema_version"] == 1 and j["kind"] == "agree", j.keys()
for k in ("machine", "build", "threads", "created"): assert k in j["context"], k
for k in ("compiler", "git_commit", "libtorch", "eigen"): assert k in j["context"]["build"], k
v = {r["verdict"] for r in j["results"]}
assert v <= {"pass", "skip"} and "pass" in v, v
skips = [r for r in j["results"] if r["verdict"] == "skip"]
assert all(r.get("reason") for r in skips), "a skip without a reason"
r = j["results"][0]; c = r["checks"][0]
for a in ("params", "m", "v"): assert {"max_abs", "max_rel", "max_ulp", "max_err_u"} <= set(c[a]), c[a]
assert not j["interrupted"]
PY
assert "no temporary file is left beside the result" bash -c "! ls -a '$tmp/r1' | grep -q tmp"
check "unknown suite file: exit 2, one line" 2 --stderr-lines 1 -- "$CLI" agree "$tmp/nope.toml"
printf '[agree]\n[[agree.case]]\nname = "bad"\nbetas = [1.5, 0.9]\n' > "$tmp/bad.toml"
check "bad beta in a suite: exit 2, one line" 2 --stderr-lines 1 -- "$CLI" agree "$tmp/bad.toml"
printf '[agree\n' > "$tmp/syntax.toml"
check "TOML syntax error: exit 2, one line" 2 --stderr-lines 1 -- "$CLI" agree "$tmp/syntax.toml"
check "unknown implementation: exit 2, one line" 2 --stderr-lines 1 -- "$CLI" agree smoke --impl nope
check "unknown option: exit 2, one line" 2 --stderr-lines 1 -- "$CLI" agree --bogus
check "bad dtype: exit 2, one line" 2 --stderr-lines 1 -- "$CLI" agree smoke --dtype float8
touch "$tmp/afile"
check "unwritable --out: exit 4 (I/O), one line" 4 --stderr-lines 1 -- "$CLI" agree smoke --quiet --out "$tmp/afile/sub"
mkdir -p "$tmp/keep" && echo '{"old": true}' > "$tmp/keep/agree.json"
check "a failing run still exits 2 before touching an earlier result" 2 -- "$CLI" agree smoke --impl nope --out "$tmp/keep"
assert "earlier result intact" grep -q old "$tmp/keep/agree.json"
check "list shows every implementation and why fused is unavailable" 0 --stdout "libtorch-fused" -- "$CLI" list
check "help exits 0" 0 -- "$CLI" --help

# check_err NAME CODE REGEX -- CMD...: exit CODE and exactly one stderr line, matching REGEX.
check_err() {
  local name=$1 code=$2 re=$3; shift 4
  "$@" >"$tmp/out" 2>"$tmp/err"; local rc=$?
  if [ "$rc" = "$code" ] && [ "$(wc -l <"$tmp/err")" = 1 ] && grep -Eq -- "$re" "$tmp/err"; then echo "ok   $name"
  else echo "FAIL $name (exit $rc, want $code; stderr below, want one line matching /$re/)"; sed 's/^/     /' "$tmp/err" | tail -5; fails=$((fails+1)); fi
}

# Command-line consistency.
check "--version exits 0 and names the version" 0 --stdout "^adambench [0-9]+\.[0-9]+" -- "$CLI" --version
check "global options also after the subcommand (agree --threads 1)" 0 --stdout "agree: [1-9][0-9]* passed, 0 failed" -- \
  "$CLI" agree smoke --threads 1 --quiet --filter 'adamw/amsgrad=true'
check_err "--threads 0 before the subcommand: '--threads must be ≥ 1'" 2 '^adambench: --threads must be ≥ 1' -- "$CLI" --threads 0 agree smoke
check_err "--threads 0 after the subcommand: the same line" 2 '^adambench: --threads must be ≥ 1' -- "$CLI" converge smoke --threads 0
check_err "a 300-digit --seeds is not echoed in full" 2 '^.{0,120}$' -- "$CLI" agree smoke --seeds "$(printf '9%.0s' $(seq 300))"
check_err "unknown --impl suggests the closest name" 2 "did you mean 'eigen'" -- "$CLI" agree smoke --impl eigne
check_err "unknown --impl on converge suggests too" 2 "did you mean 'libtorch'" -- "$CLI" converge smoke --impl libtorch_
check_err "unwritable --out is found before the run: exit 4" 4 "^adambench: --out .*afile/sub" -- "$CLI" agree smoke --out "$tmp/afile/sub"
assert "  ...and nothing ran" test ! -s "$tmp/out"
check_err "unwritable --out on converge: exit 4 before the run" 4 "^adambench: --out" -- "$CLI" converge smoke --quiet --out "$tmp/afile/sub"
check_err "unwritable --out on speed: exit 4 before the run" 4 "^adambench: --out" -- "$CLI" speed smoke --out "$tmp/afile/sub"

# One filter style: --filter REGEX over case names, the same on agree, speed and converge.
check "agree --filter runs only the matching cases" 0 --stdout "agree: 8 passed, 0 failed, 2 skipped" -- \
  "$CLI" agree smoke --quiet --filter 'adamw/amsgrad=true$'
check_err "agree --filter that matches nothing: exit 2" 2 "no case matches --filter" -- "$CLI" agree smoke --filter '^nope'
check_err "agree --filter that is not a regex: exit 2" 2 "not a regular expression" -- "$CLI" agree smoke --filter '('
check_err "converge --filter that matches nothing: exit 2" 2 "no case matches" -- "$CLI" converge smoke --filter '^nope$'
check "converge --filter REGEX (alternation)" 0 --stdout "converge: [1-9][0-9]* runs" -- "$CLI" converge smoke --quiet --seeds 1 --filter '^(quadratic|rosenbrock)$' --impl eigen
assert "  ...ran exactly those two cases" bash -c "'$CLI' converge smoke --quiet --seeds 1 --filter '^(quadratic|rosenbrock)\$' --impl eigen | grep -E '^(quadratic|rosenbrock|logreg)' | cut -d' ' -f1 | sort -u | tr '\n' ' ' | grep -qx 'quadratic rosenbrock '"
check "speed --filter maps onto benchmark names" 0 --stdout "^eigen/adam/flat" -- "$CLI" speed smoke --filter '^eigen/adam/' --benchmark_list_tests
assert "  ...and lists nothing else" bash -c "! '$CLI' speed smoke --filter '^eigen/adam/' --benchmark_list_tests | grep -v '^eigen/adam/'"
check "--quiet on agree: no progress lines" 0 --stderr-lines 0 -- "$CLI" agree smoke --quiet --filter 'adam/amsgrad=false$'
check "--quiet on converge: no progress lines" 0 --stderr-lines 0 -- "$CLI" converge smoke --quiet --seeds 1 --filter '^quadratic$' --impl eigen
check "--quiet on speed is accepted" 0 -- "$CLI" speed smoke --quiet --filter '^eigen/adam/' --benchmark_list_tests

# A run that checked nothing says so: exit 3, one line naming why; --allow-empty accepts it.
# CUDA implementations never do float64, with or without a GPU.
check_err "agree where every case is skipped: exit 3 with the reason" 3 "nothing checked.*not float64" -- "$CLI" agree smoke --quiet --impl cuda --dtype float64
check "  ...--allow-empty accepts it" 0 -- "$CLI" agree smoke --quiet --impl cuda --dtype float64 --allow-empty
if "$CLI" list | awk '/^cuda /{f=1; next} /^[^ ]/{f=0} f' | grep -q "no CUDA device"; then  # no GPU here
  check_err "agree smoke --impl cuda without a GPU: exit 3, 'no CUDA device'" 3 "nothing checked.*no CUDA device" -- "$CLI" agree smoke --quiet --impl cuda
  check_err "converge --impl cuda without a GPU: exit 3" 3 "converge: nothing checked.*no CUDA device" -- "$CLI" converge smoke --quiet --impl cuda --filter '^quadratic$'
  check "  ...--allow-empty accepts it" 0 -- "$CLI" converge smoke --quiet --impl cuda --filter '^quadratic$' --allow-empty
  check_err "speed --impl cuda without a GPU: exit 3" 3 "speed: nothing checked.*no CUDA device" -- "$CLI" speed smoke --impl cuda
  check "  ...--allow-empty accepts it" 0 -- "$CLI" speed smoke --impl cuda --allow-empty
fi
# Integer options of every command: a bad value is one short line naming the option and the bound
# (CLI11's own range check printed a 309-digit bound).
for args in "data-order --train 0 --batch 1 --steps 1 --seed 0" "sweep tuning-smoke --seeds 0" "tune --model m --data d --threads 0" \
            "history show --db x --since 0" "history check --db x --recent -1" "ab --a x --b y --out z --rounds 0 -- agree" \
            "agree smoke --seeds 0" "--threads 0 list"; do
  read -ra a <<< "$args"
  flag=$(printf '%s\n' "${a[@]}" | grep -E '^--(train|seeds|threads|since|recent|rounds)$' | head -1)
  check_err "$args: exit 2, one line naming $flag and its bound" 2 "^adambench: $flag must be ≥ -?[0-9]+ \(got -?[0-9]+\)$" -- "$CLI" "${a[@]}"
done
finish
