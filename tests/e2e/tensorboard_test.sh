#!/usr/bin/env bash
# TensorBoard event files from tb-fixture (tests/tensorboard/tb_fixture_main.cpp), checked two ways:
# TensorBoard's own reader (tb_read.py in the scripts/tb-venv.sh venv) and an independent CRC decoder
# (tfrecord_check.py with crcmod). Each check is also shown able to fail on a corrupted file.
# Usage: tensorboard_test.sh TB_FIXTURE TB_VENV_SCRIPT PROTOC PROTO_FILE.
# Exit 77 (skip) only when PyPI cannot be reached.
set -u
FIXTURE=$1; VENV_SCRIPT=$2; PROTOC=$3; PROTO=$4
here=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
fails=0
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
ok() { echo "ok   $1"; }
bad() { echo "FAIL $1"; sed 's/^/     /' "$tmp/log" | tail -20; fails=$((fails+1)); }
run() {  # run NAME WANT_RC CMD...
  local name=$1 want=$2; shift 2
  "$@" >"$tmp/log" 2>&1; local rc=$?
  if [ "$rc" = "$want" ]; then ok "$name (exit $rc)"; else echo "     got exit $rc, want $want" >>"$tmp/log"; bad "$name"; fi
}

run "fixture writes event files" 0 "$FIXTURE" "$tmp/tb"
run "every record's masked CRC is right (independent decoder)" 0 $PY "$here/tfrecord_check.py" "$tmp/tb"

# The decoder can fail: flip one byte inside the first record's data (bytes 12..35), then one in its length.
f=$(find "$tmp/tb/eigen" -name 'events.out.tfevents.*' | head -1)
cp "$f" "$tmp/flipped"
$PY - "$tmp/flipped" 20 <<'PY'
import sys
p, at = sys.argv[1], int(sys.argv[2])
b = bytearray(open(p, "rb").read()); b[at] ^= 0x01; open(p, "wb").write(b)
PY
run "a flipped data byte fails the CRC check" 1 $PY "$here/tfrecord_check.py" "$tmp/flipped"
grep -q "data CRC mismatch" "$tmp/log" && ok "  ... named as a data CRC mismatch" || bad "  ... named as a data CRC mismatch"
cp "$f" "$tmp/flipped_len"
$PY - "$tmp/flipped_len" 0 <<'PY'
import sys
p, at = sys.argv[1], int(sys.argv[2])
b = bytearray(open(p, "rb").read()); b[at] ^= 0x04; open(p, "wb").write(b)
PY
run "a flipped length byte fails the CRC check" 1 $PY "$here/tfrecord_check.py" "$tmp/flipped_len"
grep -q "length CRC mismatch" "$tmp/log" && ok "  ... named as a length CRC mismatch" || bad "  ... named as a length CRC mismatch"
run "no event files is exit 2" 2 $PY "$here/tfrecord_check.py" "$tmp/nothing_here"

# A run killed with records still buffered leaves only whole records.
"$FIXTURE" "$tmp/killed" --killed >/dev/null 2>&1; rc=$?
[ "$rc" = 137 ] && ok "killed fixture died by SIGKILL" || { echo "     exit $rc" >"$tmp/log"; bad "killed fixture died by SIGKILL"; }
run "a killed run's file has only whole, valid records" 0 $PY "$here/tfrecord_check.py" "$tmp/killed"

# TensorBoard's own reader.
venv_py=$(bash "$VENV_SCRIPT" 2>"$tmp/venv.log"); vrc=$?
if [ "$vrc" = 3 ]; then
  cat "$tmp/venv.log"
  echo "SKIP TensorBoard's reader: PyPI cannot be reached, so tensorboard cannot be installed ($fails failed so far)"
  [ "$fails" = 0 ] && exit 77 || exit 1
elif [ "$vrc" != 0 ]; then
  cp "$tmp/venv.log" "$tmp/log"; bad "tb-venv.sh creates the TensorBoard venv (exit $vrc)"
else
  ok "TensorBoard venv: $venv_py ($("$venv_py" -c 'import tensorboard; print("tensorboard", tensorboard.__version__)'))"
  run "TensorBoard's reader finds every scalar, step and hparam" 0 "$venv_py" "$here/tb_read.py" "$tmp/tb"
  run "TensorBoard's reader sees the killed run's flushed steps" 0 "$venv_py" "$here/tb_read.py" "$tmp/killed" --killed
  run "TensorBoard's hparams plugin (its web app) shows every session, hparam and metric" 0 \
    "$venv_py" "$here/tb_hparams_plugin.py" "$tmp/tb"
  mkdir -p "$tmp/one_session"; cp -r "$tmp/tb/." "$tmp/one_session/"; rm -rf "$tmp/one_session/sweep/p1"
  run "a missing session fails the hparams check" 1 "$venv_py" "$here/tb_hparams_plugin.py" "$tmp/one_session"
  grep -q "session groups" "$tmp/log" && ok "  ... naming the session groups" || bad "  ... naming the session groups"
  # Our .proto against TensorBoard's own definitions: numbers, types, labels, enum values; and a
  # mistyped field number is caught.
  "$PROTOC" --descriptor_set_out="$tmp/ours.pb" --include_imports -I "$(dirname "$PROTO")" "$PROTO" 2>"$tmp/log" \
    || bad "protoc reads $PROTO"
  run "proto/tensorboard_event.proto matches TensorBoard's field numbers" 0 "$venv_py" "$here/tb_proto_match.py" "$tmp/ours.pb"
  mkdir -p "$tmp/badproto"
  sed 's/string display_name = 3;.*/string display_name = 2;/' "$PROTO" >"$tmp/badproto/$(basename "$PROTO")"
  "$PROTOC" --descriptor_set_out="$tmp/bad.pb" --include_imports -I "$tmp/badproto" "$tmp/badproto/$(basename "$PROTO")"
  run "a wrong field number (MetricInfo.display_name = 2) is caught" 1 "$venv_py" "$here/tb_proto_match.py" "$tmp/bad.pb"
  grep -q "MetricInfo.display_name" "$tmp/log" && ok "  ... naming the field" || bad "  ... naming the field"
  # The reader check can fail: values written by another run are not the expected ones.
  mkdir -p "$tmp/swapped"; cp -r "$tmp/tb/." "$tmp/swapped/"
  rm -rf "$tmp/swapped/eigen"; cp -r "$tmp/tb/libtorch" "$tmp/swapped/eigen"
  run "swapped runs fail the reader check" 1 "$venv_py" "$here/tb_read.py" "$tmp/swapped"
  grep -q "train/loss step 0" "$tmp/log" && ok "  ... naming the wrong scalar" || bad "  ... naming the wrong scalar"
fi
echo "$fails failed"
[ "$fails" = 0 ]
