#!/usr/bin/env bash
# The command table (bench/cli/command.h): a binary is the command files linked into it. The subset
# binary links agree and list only, as the GPU check's adambench-gpu does: its help lists exactly
# those, it refuses the others, and what it has behaves as the full CLI's (output, errors, exits).
CLI=$1 SUB=$2 EXPECT=$3
source "$(dirname "$0")/lib.sh"

commands() { "$1" --help | sed -n '/^Subcommands:/,$p' | awk 'NR > 1 && NF {print $1}' | tr '\n' ' '; }
assert "the subset lists exactly agree and list" test "$(commands "$SUB")" = "agree list "
assert "the full CLI lists every command file in bench/cli/ that registers one" bash -c '
  want=$(grep -l "^ADAMBENCH_REGISTER_COMMAND" "$0"/bench/cli/*.cpp | wc -l)
  hidden=$(grep -c "ADAMBENCH_REGISTER_COMMAND(.*, true);" "$0"/bench/cli/*.cpp | awk -F: "{s += \$2} END {print s}")
  got=$(echo $1 | wc -w)
  echo "registered $want, hidden $hidden, listed $got"; [ "$want" -gt 10 ] && [ $((want - hidden)) = "$got" ]' \
  "$(cd "$(dirname "$0")/../.." && pwd)" "$(commands "$CLI")"
check "a command not linked is unknown to the subset: exit 2, one line" 2 --stderr-lines 1 -- "$SUB" speed smoke
check "the subset's agree runs and passes" 0 --stdout "agree: [1-9][0-9]* passed, 0 failed" -- \
  "$SUB" --threads 1 agree smoke --quiet --impl reference --impl eigen --out "$tmp/sub"
"$CLI" --threads 1 agree smoke --quiet --impl reference --impl eigen --out "$tmp/full" > /dev/null
assert "the same verdicts as the full CLI's agree" $PY - "$tmp/sub/agree.json" "$tmp/full/agree.json" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
strip = lambda j: [{k: v for k, v in r.items() if k != "seconds"} for r in j["results"]]
assert strip(a) == strip(b), "agree results differ"
PY
assert "the same list as the full CLI" bash -c 'diff <("$0" list) <("$1" list)' "$SUB" "$CLI"
# The shared checks of the command table, word for word the full CLI's.
for args in "agree smoke --shard 0/2" "agree smoke --filter (" "agree smoke --impl nope" "agree --threads 0 smoke" \
            "agree smoke --out /proc/adambench-cannot"; do
  read -ra a <<< "$args"
  "$SUB" "${a[@]}" > "$tmp/sub.out" 2> "$tmp/sub.err"; rs=$?
  "$CLI" "${a[@]}" > "$tmp/full.out" 2> "$tmp/full.err"; rf=$?
  assert "$args: exit $rf and the same line as the full CLI" bash -c \
    "[ $rs = $rf ] && [ $rs -ne 0 ] && [ \$(wc -l < '$tmp/sub.err') = 1 ] && diff '$tmp/sub.err' '$tmp/full.err'"
done
finish
