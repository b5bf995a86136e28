#!/usr/bin/env bash
# Creates (once) and reuses a virtual environment with TensorBoard from PyPI, outside the clone, for
# the tests that read adambench's event files back with TensorBoard's own reader. Prints the venv's
# python on stdout. Exit 0 ok; 3 when PyPI cannot be reached (callers skip, saying so); 4 when the
# environment fails otherwise (no venv module, pip error although the index is reachable).
#   ADAMBENCH_TB_VENV     where the venv lives (default ${XDG_CACHE_HOME:-~/.cache}/adambench/tb-venv)
#   ADAMBENCH_TB_VERSION  pip requirement for tensorboard (default tensorboard==2.21.0, the version the
#                         tests were written against: they also use TensorBoard's web app in process)
set -uo pipefail
venv=${ADAMBENCH_TB_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/adambench/tb-venv}
req=${ADAMBENCH_TB_VERSION:-tensorboard==2.21.0}
py=$venv/bin/python
# Written last, holding the requirement: a venv without it was interrupted mid-install, and one made
# for another requirement is rebuilt, never reused.
marker=$venv/.adambench-complete
check="import tensorboard.backend.event_processing.event_accumulator"

mkdir -p "$(dirname "$venv")" || { echo "tb-venv: cannot create $(dirname "$venv")" >&2; exit 4; }
# One installer at a time (parallel ctest runs share the venv).
exec 9>"$venv.lock"
flock 9

if [ -f "$marker" ] && [ "$(cat "$marker")" = "$req" ] && "$py" -c "$check" 2>/dev/null; then
  echo "$py"
  exit 0
fi

# Debian's python3 (package python3-venv), not whatever python3 is first on PATH.
base=/usr/bin/python3
[ -x "$base" ] || base=$(command -v python3)
rm -rf "$venv"
if ! "$base" -m venv "$venv" >&2; then
  echo "tb-venv: cannot create a virtual environment with $base -m venv (Debian: apt-get install python3-venv)" >&2
  exit 4
fi
if ! "$py" -m pip install --quiet "$req" >&2; then
  index=${PIP_INDEX_URL:-https://pypi.org/simple}
  if ! "$base" - "$index" <<'PY' 2>/dev/null; then
import sys, urllib.request
urllib.request.urlopen(sys.argv[1].rstrip("/") + "/tensorboard/", timeout=20).read(1)
PY
    echo "tb-venv: the package index $index cannot be reached, so $req cannot be installed" >&2
    exit 3
  fi
  echo "tb-venv: pip install $req failed although $index is reachable" >&2
  exit 4
fi
if ! "$py" -c "$check" >&2; then
  echo "tb-venv: tensorboard was installed in $venv but its event reader does not import" >&2
  exit 4
fi
echo "$req" >"$marker"
echo "$py"
