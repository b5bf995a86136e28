#!/usr/bin/env bash
# End-to-end test of scripts/report.py: a real `agree smoke` run plus the stored speed and
# convergence fixtures (tests/fixtures/, made by `adambench speed` and `adambench converge`) go
# into one report, which headless Chromium then renders. A figure passes only if the browser lays
# it out at a real size, draws many visible SVG elements in it (coloured data series among them),
# and the screenshot of its region is not blank. Deliberately broken copies of the page (a figure
# emptied, one hidden, one removed) must fail the same check, so the check is known to bite.
#   report_test.sh CLI EXPECT
CLI=$1 EXPECT=$2
source "$(dirname "$0")/lib.sh"
root=$(cd "$(dirname "$0")/../.." && pwd)
REPORT=$root/scripts/report.py
FIX=$root/tests/fixtures
CHROME=$(command -v chromium || command -v chromium-browser || true)

# check_page PAGE FIGURE... : the browser check (exit 0 when every named figure is drawn).
cat >"$tmp/check_page.py" <<'PY'
import json, os, re, subprocess, sys, tempfile
import numpy as np
import matplotlib
matplotlib.use("Agg")
import matplotlib.image as mpimg

chrome, page, figs = sys.argv[1], os.path.abspath(sys.argv[2]), sys.argv[3:]
WIDTH = 1280
work = tempfile.mkdtemp(prefix="report-check-")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--no-first-run", "--disable-sync", "--disable-quic", "--hide-scrollbars", "--force-device-scale-factor=1",
         "--user-data-dir=" + os.path.join(work, "profile")]

def chromium(*args):
    r = subprocess.run([chrome, *FLAGS, *args], capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        sys.exit(f"chromium failed ({r.returncode}): {r.stderr.strip().splitlines()[-1:]}")
    return r.stdout

# 1. Layout as the browser computes it: a copy of the page with a measuring script appended.
PROBE = r"""<script>
(function(){
  function sat(c){var m=/rgba?\(([\d.]+),\s*([\d.]+),\s*([\d.]+)(?:,\s*([\d.]+))?/.exec(c||"");
    if(!m||(m[4]!==undefined&&+m[4]===0))return 0;var v=[+m[1],+m[2],+m[3]];return Math.max.apply(0,v)-Math.min.apply(0,v);}
  var out={doc_h:document.documentElement.scrollHeight,figures:{},tables:[]};
  document.querySelectorAll("figure[data-figure]").forEach(function(f){
    var svg=f.querySelector("svg"),r=(svg||f).getBoundingClientRect(),o={x:r.left+scrollX,y:r.top+scrollY,w:r.width,h:r.height,
      elements:0,visible:0,colored:0,glyphs:0,visibility:svg?getComputedStyle(svg).visibility:"none"};
    if(svg)svg.querySelectorAll("path,use,line,rect,polyline,polygon,circle,ellipse").forEach(function(e){
      o.elements++;var b=e.getBoundingClientRect();
      if((b.width>0||b.height>0)&&b.right>=r.left-1&&b.left<=r.right+1&&b.bottom>=r.top-1&&b.top<=r.bottom+1){
        o.visible++;if(e.tagName==="use")o.glyphs++;
        var s=getComputedStyle(e);if(sat(s.stroke)>60||sat(s.fill)>60)o.colored++;}});
    out.figures[f.getAttribute("data-figure")]=o;});
  document.querySelectorAll("table").forEach(function(t){out.tables.push(Array.from(t.rows).map(function(tr){
    return Array.from(tr.cells).map(function(c){return c.textContent.trim();});}));});
  var p=document.createElement("pre");p.id="__probe";p.textContent=JSON.stringify(out);document.body.appendChild(p);
})();
</script>"""
src = open(page, encoding="utf-8").read()
probe_page = os.path.join(os.path.dirname(page), ".probe-" + os.path.basename(page))
open(probe_page, "w", encoding="utf-8").write(src.replace("</body>", PROBE + "</body>"))
try:
    dom = chromium(f"--window-size={WIDTH},1000", "--dump-dom", "file://" + probe_page)
finally:
    os.remove(probe_page)
m = re.search(r'<pre id="__probe">(.*?)</pre>', dom, re.S)
if not m:
    sys.exit("the measuring script did not run (no probe output in the dumped DOM)")
import html as _h
probe = json.loads(_h.unescape(m.group(1)))
json.dump(probe, open(os.path.join(os.path.dirname(page), ".probe.json"), "w"))

# 2. Pixels: a screenshot of the whole page (window as tall as the document).
height = min(int(probe["doc_h"]) + 20, 16000)
png = os.path.join(work, "page.png")
chromium(f"--window-size={WIDTH},{height}", "--screenshot=" + png, "file://" + page)
img = mpimg.imread(png)[..., :3]

bad = []
for name in figs:
    f = probe["figures"].get(name)
    if f is None:
        bad.append(f"{name}: no <figure data-figure={name}> on the page"); continue
    if f["w"] < 300 or f["h"] < 150:
        bad.append(f"{name}: laid out at {f['w']:.0f}x{f['h']:.0f} px, too small to read"); continue
    if f["visible"] < 60 or f["glyphs"] < 20 or f["colored"] < 3:
        bad.append(f"{name}: not drawn ({f['visible']} visible SVG elements, {f['glyphs']} glyphs, {f['colored']} coloured)"); continue
    y0, x0 = int(f["y"]), int(f["x"])
    crop = img[y0:y0 + int(f["h"]), x0:x0 + int(f["w"])]
    if crop.size == 0 or crop.shape[0] < 0.9 * f["h"]:
        bad.append(f"{name}: outside the screenshot"); continue
    ink = (crop < 0.85).any(axis=2)                      # anything not near-white
    colour = (crop.max(axis=2) - crop.min(axis=2)) > 0.3  # saturated: the data series, not axes or text
    hh, ww = ink.shape
    quads = [ink[:hh // 2, :ww // 2].mean(), ink[:hh // 2, ww // 2:].mean(), ink[hh // 2:, :ww // 2].mean(), ink[hh // 2:, ww // 2:].mean()]
    if ink.mean() < 0.01 or colour.sum() < 300 or sum(q > 0.002 for q in quads) < 3:
        bad.append(f"{name}: blank in the screenshot (ink {ink.mean():.3%}, {int(colour.sum())} coloured px, quadrants {['%.3f' % q for q in quads]})")
        continue
    print(f"drawn {name}: {f['w']:.0f}x{f['h']:.0f} px, {f['visible']} visible elements ({f['colored']} coloured), "
          f"ink {ink.mean():.1%}, {int(colour.sum())} coloured px")
extra = sorted(set(probe["figures"]) - set(figs))
if extra:
    bad.append(f"unexpected figures {extra}")
for b in bad:
    print("NOT DRAWN " + b)
sys.exit(1 if bad else 0)
PY
check_page() { $PY "$tmp/check_page.py" "$CHROME" "$@"; }

# Inputs: a real agreement run and the stored fixtures.
mkdir -p "$tmp/in"
check "agree smoke run for the report" 0 -- "$CLI" agree smoke --quiet --out "$tmp/in/agree"
cp "$FIX/speed.json" "$tmp/in/speed.json"
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

if [ -z "$CHROME" ]; then
  echo "FAIL chromium is not installed (scripts/setup.sh installs the Debian package chromium)"; fails=$((fails+1))
else
  assert "Chromium draws every figure of the full report" check_page "$tmp/out/index.html" $ALL
  sed 's/^/     /' "$tmp/log"
  assert "the verdict table counts match agree.json" $PY - "$tmp/out/.probe.json" "$tmp/in/agree/agree.json" <<'PY'
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

  # The check must fail on pages that exist but do not show a figure.
  $PY - "$tmp/out/index.html" "$tmp" <<'PY'
import re, sys
src, tmp = open(sys.argv[1]).read(), sys.argv[2]
# (a) a figure whose SVG has lost its content (an empty drawing of the same size)
a = re.sub(r'(<figure[^>]*data-figure="speed-size"[^>]*>)(<svg[^>]*>).*?</svg>', r'\1\2</svg>', src, count=1, flags=re.S)
# (b) a figure hidden by the page's style: every element is still in the DOM
b = src.replace("</style>", "#fig-loss-curves svg{visibility:hidden}</style>", 1)
# (c) a figure left out
c = re.sub(r'<figure[^>]*data-figure="agree-error".*?</figure>', "", src, count=1, flags=re.S)
# (d) axes, labels and legend text drawn, but every data series in white (nothing to read)
def whiten(m):
    v = [int(m.group(1)[i:i + 2], 16) for i in (0, 2, 4)]
    return "#ffffff" if max(v) - min(v) > 60 else m.group(0)
fig = re.search(r'<figure[^>]*data-figure="steps-to-target".*?</figure>', src, re.S)
d = src[:fig.start()] + re.sub(r"#([0-9a-fA-F]{6})\b", whiten, fig.group(0)) + src[fig.end():]
assert a != src and b != src and c != src and d != src
for name, text in (("emptied", a), ("hidden", b), ("missing", c), ("no-data", d)):
    open(f"{tmp}/out/broken-{name}.html", "w").write(text)
PY
  check "the browser check fails on a page with an emptied figure" 1 --stdout "NOT DRAWN speed-size" -- $PY "$tmp/check_page.py" "$CHROME" "$tmp/out/broken-emptied.html" $ALL
  check "the browser check fails on a page with a hidden figure" 1 --stdout "NOT DRAWN loss-curves: blank" -- $PY "$tmp/check_page.py" "$CHROME" "$tmp/out/broken-hidden.html" $ALL
  check "the browser check fails on a figure whose data series are not visible" 1 --stdout "NOT DRAWN steps-to-target" -- $PY "$tmp/check_page.py" "$CHROME" "$tmp/out/broken-no-data.html" $ALL
  check "the browser check fails on a page missing a figure" 1 --stdout "NOT DRAWN agree-error: no <figure" -- $PY "$tmp/check_page.py" "$CHROME" "$tmp/out/broken-missing.html" $ALL
fi

# Any subset of the kinds: the absent sections become notes, never empty figures.
check "report of agreement alone" 0 --stdout "1 figure" -- $PY "$REPORT" "$tmp/in/agree/agree.json" --out "$tmp/agree_only"
assert "absent sections are notes, and stale figures are gone" bash -c "grep -q 'No speed results' '$tmp/agree_only/index.html' && grep -q 'No convergence results' '$tmp/agree_only/index.html' && [ \$(ls '$tmp/agree_only' | grep -c '^fig-') = 1 ]"
if [ -n "$CHROME" ]; then
  assert "Chromium draws the one figure of the agreement-only report" check_page "$tmp/agree_only/index.html" agree-error
fi
check "re-running into a used folder replaces the report" 0 --stdout "2 figure" -- $PY "$REPORT" "$tmp/in/speed.json" --out "$tmp/agree_only"
assert "only the new figures remain" bash -c "cd '$tmp/agree_only' && ls fig-speed-size.svg fig-speed-models.svg && [ \$(ls | grep -c '^fig-') = 2 ]"

# Bad input: one clear line, exit 2.
printf '{"schema_version": 1, "kind": "agree", "results": [' >"$tmp/truncated.json"
echo '{"hello": "world"}' >"$tmp/foreign.json"
check "truncated result file: exit 2, one line" 2 --stderr-lines 1 -- $PY "$REPORT" "$tmp/truncated.json" --out "$tmp/bad"
check "foreign JSON file: exit 2, one line" 2 --stderr-lines 1 -- $PY "$REPORT" "$tmp/foreign.json" --out "$tmp/bad"
check "missing file: exit 2, one line" 2 --stderr-lines 1 -- $PY "$REPORT" "$tmp/nope.json" --out "$tmp/bad"
check "binary file: exit 2, one line" 2 --stderr-lines 1 -- $PY "$REPORT" "$CLI" --out "$tmp/bad"
assert "nothing written for bad input" bash -c "[ ! -e '$tmp/bad/index.html' ]"
finish
