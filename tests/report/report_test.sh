#!/usr/bin/env bash
# End-to-end test of scripts/report.py: a real `agree smoke` run plus the stored speed and
# convergence fixtures (tests/fixtures/, made by `adambench speed` and `adambench converge`) go
# into one report, which headless Chromium then renders (report_page_check.py). A figure passes only
# if the browser lays it out at a real size, draws many visible SVG elements in it (coloured data
# series among them), and the screenshot of its region is not blank; its layout must be clean (no
# text on another, no legend on a text, no line drawn past its axes), and the verdict's mark must be
# drawn (not an empty box). A deliberately broken copy of the page (one figure emptied, one hidden,
# one with invisible data, one removed) must fail the same check on exactly those four figures, and
# a misplaced copy (a title on titles, a line past its axes, a legend on labels, the mark as an
# emoji) on exactly those, so the checks are known to bite. Chromium starts twice in all: every
# page is checked in one measuring run and one screenshot.
#   report_test.sh CLI EXPECT
CLI=$1 EXPECT=$2
source "$(dirname "$0")/../e2e/lib.sh"
root=$(cd "$(dirname "$0")/../.." && pwd)
REPORT=$root/scripts/report.py
FIX=$root/tests/fixtures
CHROME=$(command -v chromium || command -v chromium-browser || true)

# Inputs: a real agreement run and the stored fixtures.
mkdir -p "$tmp/in"
check "agree smoke run for the report" 0 -- "$CLI" agree smoke --quiet --out "$tmp/in/agree"
# The speed fixture as a run at 1 and 2 threads on a machine with a 32 MiB last-level cache
# (two_thread_speed.py says how and why).
$PY "$(dirname "$0")/two_thread_speed.py" "$FIX/speed.json" "$tmp/in/speed.json"
cp -r "$FIX/converge" "$tmp/in/converge"

ALL="loss-curves steps-to-target speed-size speed-models agree-error"
check "report of agree + speed + converge" 0 --stdout "5 figure" -- $PY "$REPORT" "$tmp/in" --out "$tmp/out"
assert "index.html, summary.md and one SVG per figure" bash -c "cd '$tmp/out' && ls index.html summary.md $(for f in $ALL; do printf 'fig-%s.svg ' $f; done)"
assert "summary.md links every figure" bash -c "for f in $ALL; do grep -q \"](fig-\$f.svg)\" '$tmp/out/summary.md' || exit 1; done"
assert "index.html is self-contained (no external URL, script, stylesheet or image file)" $PY - "$tmp/out/index.html" <<'PY'
import re, sys
s = open(sys.argv[1]).read()
bad = re.findall(r'<(?:script|link|img|iframe)\b[^>]*>|(?:src|href)="(?!#|data:)[^"]*"|url\((?!#|data:)[^)]*\)|@import', s)
assert not bad, bad[:5]
PY
assert "no temporary file left in the output folder" bash -c "! ls -a '$tmp/out' | grep -q tmp"
check "the same inputs give a byte-identical report" 0 -- $PY "$REPORT" "$tmp/in" --out "$tmp/out2"
assert "report is deterministic" bash -c "cmp '$tmp/out/index.html' '$tmp/out2/index.html' && cmp '$tmp/out/summary.md' '$tmp/out2/summary.md'"

# Any subset of the kinds: the absent sections become notes, never empty figures.
check "report of agreement alone" 0 --stdout "1 figure" -- $PY "$REPORT" "$tmp/in/agree/agree.json" --out "$tmp/agree_only"
assert "absent sections are notes, and stale figures are gone" bash -c "grep -q 'No speed results' '$tmp/agree_only/index.html' && grep -q 'No convergence results' '$tmp/agree_only/index.html' && [ \$(ls '$tmp/agree_only' | grep -c '^fig-') = 1 ]"
cp -r "$tmp/agree_only" "$tmp/reused"
check "re-running into a used folder replaces the report" 0 --stdout "2 figure" -- $PY "$REPORT" "$tmp/in/speed.json" --out "$tmp/reused"
assert "only the new figures remain" bash -c "cd '$tmp/reused' && ls fig-speed-size.svg fig-speed-models.svg && [ \$(ls | grep -c '^fig-') = 2 ]"

# A copy of the full page with four figures broken in four ways; the fifth is left intact.
$PY - "$tmp/out/index.html" "$tmp/out/broken.html" <<'PY'
import re, sys
src = open(sys.argv[1]).read()
# a figure whose SVG has lost its content (an empty drawing of the same size)
s = re.sub(r'(<figure[^>]*data-figure="speed-size"[^>]*>)(<svg[^>]*>).*?</svg>', r'\1\2</svg>', src, count=1, flags=re.S)
# a figure hidden by the page's style: every element is still in the DOM
s = s.replace("</style>", "#fig-loss-curves svg{visibility:hidden}</style>", 1)
# a figure left out
s = re.sub(r'<figure[^>]*data-figure="agree-error".*?</figure>', "", s, count=1, flags=re.S)
# axes, labels and legend text drawn, but every data series in white (nothing to read)
def whiten(m):
    v = [int(m.group(1)[i:i + 2], 16) for i in (0, 2, 4)]
    return "#ffffff" if max(v) - min(v) > 60 else m.group(0)
fig = re.search(r'<figure[^>]*data-figure="steps-to-target".*?</figure>', s, re.S)
s = s[:fig.start()] + re.sub(r"#([0-9a-fA-F]{6})\b", whiten, fig.group(0)) + s[fig.end():]
assert s.count("<figure") == src.count("<figure") - 1 and "visibility:hidden" in s
open(sys.argv[2], "w").write(s)
PY

# A copy of the full page with its layout broken four ways, every figure still drawn: the grid's
# title moved onto the first row's panel titles, a line of the loss curves drawn far past its axes
# (hidden by the clip), the speed legend moved onto the axis labels, and the verdict's mark as the
# ✅ character (no font here has it: Chromium draws an empty box).
$PY - "$tmp/out/index.html" "$tmp/out/misplaced.html" <<'PY'
import re, sys
s = open(sys.argv[1]).read()
s, n1 = re.subn(r'(<g id="loss-curves-text_\d+")(>\s*<!-- Validation loss per)', r'\1 transform="translate(0 20)"\2', s, count=1)
lines = list(re.finditer(r'<g id="loss-curves-line2d_\d+">\s*<path d="([^"]*)" clip-path=', s))
s = s[:lines[-1].end(1)] + "L 0 -1000" + s[lines[-1].end(1):]
s, n2 = re.subn(r'(<g id="speed-size-legend_1")>', r'\1 transform="translate(0 -40)">', s, count=1)
s, n3 = re.subn(r'<svg class="mark".*?</svg> ', "✅ ", s, count=1, flags=re.S)
assert n1 == n2 == n3 == 1, (n1, n2, n3)
open(sys.argv[2], "w").write(s)
PY

if [ -z "$CHROME" ]; then
  echo "FAIL chromium is not installed (scripts/setup.sh installs the Debian package chromium)"; fails=$((fails+1))
else
  B=$tmp/browser
  LIST=$(echo $ALL | tr ' ' ',')
  $PY "$root/tests/report/report_page_check.py" "$CHROME" "$B" "full=$tmp/out/index.html=$LIST" \
    "agree_only=$tmp/agree_only/index.html=agree-error" "broken=$tmp/out/broken.html=$LIST" \
    "misplaced=$tmp/out/misplaced.html=$LIST" >"$B.out" 2>&1
  echo $? >"$B.rc"
  sed 's/^/     /' "$B.out"
  assert "the browser check ran, and found the broken page (exit 1)" grep -qx 1 "$B.rc"
  assert "Chromium draws every figure of the full report, laid out cleanly, and the verdict's mark" bash -c "for f in $ALL; do grep -q \"^full: drawn \$f:\" '$B.out' || exit 1; done; grep -q '^full: verdict mark drawn' '$B.out' && ! grep -q '^full: \(NOT\|BAD\|VERDICT\|unexpected\)' '$B.out'"
  assert "Chromium draws the one figure of the agreement-only report" bash -c "grep -q '^agree_only: drawn agree-error:' '$B.out' && grep -q '^agree_only: verdict mark drawn' '$B.out' && ! grep -q '^agree_only: \(NOT\|BAD\|VERDICT\|unexpected\)' '$B.out'"
  assert "the browser check fails on an emptied figure" grep -q "^broken: NOT DRAWN speed-size: not drawn" "$B.out"
  assert "the browser check fails on a hidden figure" grep -q "^broken: NOT DRAWN loss-curves: blank" "$B.out"
  assert "the browser check fails on a figure whose data series are not visible" grep -q "^broken: NOT DRAWN steps-to-target" "$B.out"
  assert "the browser check fails on a page missing a figure" grep -q "^broken: NOT DRAWN agree-error: no <figure" "$B.out"
  assert "the broken page's intact figure still passes (the failures are the broken figures' own)" grep -q "^broken: drawn speed-models:" "$B.out"
  assert "the layout check fails on a title on the panel titles" grep -q "^misplaced: BAD LAYOUT loss-curves: text 'logreg · batch 16 · 3 seeds' overlaps (or touches) text 'Validation loss per" "$B.out"
  assert "the layout check fails on a line drawn past its axes" grep -q "^misplaced: BAD LAYOUT loss-curves: loss-curves-line2d_[0-9]* runs [0-9]* units past its axes" "$B.out"
  assert "the layout check fails on a legend over text" grep -q "^misplaced: BAD LAYOUT speed-size: the legend covers text 'parameters per step" "$B.out"
  assert "the verdict check fails on a mark drawn as an empty box" grep -q "^misplaced: VERDICT MARK NOT DRAWN: '✅ ' has ink on" "$B.out"
  assert "the misplaced page's other figures pass (the failures are the planted ones)" bash -c "[ \$(grep -c '^misplaced: BAD LAYOUT' '$B.out') = \$(grep -c '^misplaced: BAD LAYOUT \(loss-curves\|speed-size\)' '$B.out') ] && for f in steps-to-target speed-models agree-error; do grep -q \"^misplaced: drawn \$f:\" '$B.out' || exit 1; done"
  assert "the rendered page opens with summary.md's first line, the verdict" $PY - "$B/full.probe.json" "$tmp/out/summary.md" <<'PY'
import json, sys
text, first = json.load(open(sys.argv[1]))["text"], open(sys.argv[2], encoding="utf-8").readline().strip()
emoji = next(e for e in ("✅", "❌", "⚠️") if first.startswith(e))
assert text.lstrip().startswith(first[len(emoji):].lstrip()), (text[:200], first)  # the page draws the mark in SVG
PY
  assert "the verdict table counts match agree.json" $PY - "$B/full.probe.json" "$tmp/in/agree/agree.json" <<'PY'
import json, sys
from collections import Counter
probe, agree = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
want = {}
for r in agree["results"]:
    want.setdefault(r["impl"], Counter())[r["verdict"]] += 1
tables = [t for t in probe["tables"] if t and t[0][:5] == ["implementation", "pass", "fail", "error", "skip"]]
assert tables, "no agreement verdict table"
got = {row[0]: row for row in tables[0][1:]}
for impl, c in want.items():
    row = got[impl]
    assert [int(x) for x in row[1:5]] == [c["pass"], c["fail"], c["error"], c["skip"]], (impl, row, c)
    if c["skip"]:
        assert row[5] not in ("", "-"), f"{impl}: skips without their reason"
PY
fi

# Bad input: one clear line, exit 2.
printf '{"schema_version": 1, "kind": "agree", "results": [' >"$tmp/truncated.json"
echo '{"hello": "world"}' >"$tmp/foreign.json"
check "truncated result file: exit 2, one line" 2 --stderr-lines 1 -- $PY "$REPORT" "$tmp/truncated.json" --out "$tmp/bad"
check "foreign JSON file: exit 2, one line" 2 --stderr-lines 1 -- $PY "$REPORT" "$tmp/foreign.json" --out "$tmp/bad"
check "missing file: exit 2, one line" 2 --stderr-lines 1 -- $PY "$REPORT" "$tmp/nope.json" --out "$tmp/bad"
check "binary file: exit 2, one line" 2 --stderr-lines 1 -- $PY "$REPORT" "$CLI" --out "$tmp/bad"
assert "nothing written for bad input" bash -c "[ ! -e '$tmp/bad/index.html' ]"
finish
