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
finish
