#!/usr/bin/env bash
# expect_exit.sh CODE [--stdout REGEX] [--stderr-lines N] -- CMD...
# Runs CMD and passes only if it exits with CODE (a crash or any other code fails), and, when
# given, its stdout matches REGEX and its stderr has exactly N lines.
set -u
want=$1; shift
out_re=""; err_lines=""
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
  case $1 in
    --stdout) out_re=$2; shift 2 ;;
    --stderr-lines) err_lines=$2; shift 2 ;;
    *) echo "expect_exit.sh: unknown option $1"; exit 2 ;;
  esac
done
shift
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
"$@" >"$tmp/out" 2>"$tmp/err"; rc=$?
cat "$tmp/out"; cat "$tmp/err" >&2
if [ "$rc" != "$want" ]; then echo "FAIL: exit code $rc, expected $want"; exit 1; fi
if [ -n "$out_re" ] && ! grep -Eq -- "$out_re" "$tmp/out"; then echo "FAIL: stdout does not match /$out_re/"; exit 1; fi
if [ -n "$err_lines" ]; then
  n=$(wc -l <"$tmp/err")
  if [ "$n" != "$err_lines" ]; then echo "FAIL: stderr has $n lines, expected $err_lines"; exit 1; fi
fi
echo "ok: exit code $rc"
