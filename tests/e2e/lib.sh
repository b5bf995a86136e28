# Helpers for the end-to-end tests: each check prints what it ran and fails the script on error.
set -u
fails=0
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
PY=/usr/bin/python3   # Debian's python with numpy (not the python3 first on PATH)
# check NAME CODE [--stdout RE] [--stderr-lines N] -- CMD...
check() {
  local name=$1; shift
  if "$EXPECT" "$@" >"$tmp/log" 2>&1; then echo "ok   $name"; else echo "FAIL $name"; sed 's/^/     /' "$tmp/log" | tail -20; fails=$((fails+1)); fi
}
assert() {  # assert NAME CONDITION-COMMAND...
  local name=$1; shift
  if "$@" >"$tmp/log" 2>&1; then echo "ok   $name"; else echo "FAIL $name"; sed 's/^/     /' "$tmp/log" | tail -20; fails=$((fails+1)); fi
}
finish() { echo "$fails failed"; [ "$fails" = 0 ]; }
