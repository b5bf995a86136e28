"""Browser check of report pages (used by report_test.sh): is every figure really drawn?

    report_page_check.py CHROME WORKDIR NAME=PAGE=FIG,FIG,... [NAME=PAGE=FIG,...]...

Chromium starts twice whatever the number of pages (each start costs seconds on a loaded machine):
  1. --dump-dom of a harness page that holds every page in an iframe: a script measures, in each
     page, every <figure data-figure> as the browser laid it out (size, SVG elements that are
     visible, coloured and glyphs) and the tables' text, and leaves the result in the DOM;
  2. --screenshot of a second harness with the pages side by side, each iframe as tall as its page,
     so each figure's region of pixels can be checked for ink and colour.
A figure passes when it is laid out at a readable size, holds many visible SVG elements (coloured
data series among them), and its region of the screenshot is not blank.

Prints one line per figure: "NAME: drawn FIG: ..." or "NAME: NOT DRAWN FIG: why", and
"NAME: unexpected figures [...]" for figures the page has but the command line does not name.
Writes WORKDIR/NAME.probe.json (the measurements). Exit 0 when every page passes, 1 when some
figure is not drawn, 2 when the check itself could not run.
"""
import html
import json
import os
import re
import subprocess
import sys

import numpy as np
from PIL import Image

WIDTH = 1280  # the page width each report is laid out at
MAX_H = 16000  # Chromium's screenshot size limit, roughly

chrome, work = sys.argv[1], os.path.abspath(sys.argv[2])
pages = []
for arg in sys.argv[3:]:
    name, page, figs = arg.split("=", 2)
    pages.append((name, os.path.abspath(page), [f for f in figs.split(",") if f]))
os.makedirs(work, exist_ok=True)
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--no-first-run", "--disable-sync", "--disable-quic", "--hide-scrollbars", "--force-device-scale-factor=1",
         # the harness reads its iframes' documents (file:// pages are otherwise each their own origin)
         "--allow-file-access-from-files", "--user-data-dir=" + os.path.join(work, "profile")]


def chromium(*args):
    r = subprocess.run([chrome, *FLAGS, *args], capture_output=True, text=True, timeout=180)
    if r.returncode != 0:
        print(f"chromium failed ({r.returncode}): {r.stderr.strip().splitlines()[-1:]}")
        sys.exit(2)
    return r.stdout


def url(p):
    return "file://" + p


# 1. Layout as the browser computes it, measured in every page once all iframes have loaded.
MEASURE = r"""
function sat(c){var m=/rgba?\(([\d.]+),\s*([\d.]+),\s*([\d.]+)(?:,\s*([\d.]+))?/.exec(c||"");
  if(!m||(m[4]!==undefined&&+m[4]===0))return 0;var v=[+m[1],+m[2],+m[3]];return Math.max.apply(0,v)-Math.min.apply(0,v);}
function measure(doc,win){
  var out={doc_h:doc.documentElement.scrollHeight,figures:{},tables:[],text:doc.body.innerText.slice(0,2000)};
  doc.querySelectorAll("figure[data-figure]").forEach(function(f){
    var svg=f.querySelector("svg"),r=(svg||f).getBoundingClientRect(),o={x:r.left+win.scrollX,y:r.top+win.scrollY,w:r.width,h:r.height,
      elements:0,visible:0,colored:0,glyphs:0,visibility:svg?win.getComputedStyle(svg).visibility:"none"};
    if(svg)svg.querySelectorAll("path,use,line,rect,polyline,polygon,circle,ellipse").forEach(function(e){
      o.elements++;var b=e.getBoundingClientRect();
      if((b.width>0||b.height>0)&&b.right>=r.left-1&&b.left<=r.right+1&&b.bottom>=r.top-1&&b.top<=r.bottom+1){
        o.visible++;if(e.tagName==="use")o.glyphs++;
        var s=win.getComputedStyle(e);if(sat(s.stroke)>60||sat(s.fill)>60)o.colored++;}});
    out.figures[f.getAttribute("data-figure")]=o;});
  doc.querySelectorAll("table").forEach(function(t){out.tables.push(Array.from(t.rows).map(function(tr){
    return Array.from(tr.cells).map(function(c){return c.textContent.trim();});}));});
  return out;}
window.addEventListener("load",function(){
  var res=[];document.querySelectorAll("iframe").forEach(function(fr){
    try{res.push(measure(fr.contentDocument,fr.contentWindow));}catch(e){res.push({error:String(e)});}});
  var p=document.createElement("pre");p.id="__probe";p.textContent=JSON.stringify(res);document.body.appendChild(p);});
"""
frames = "".join(f'<iframe src="{html.escape(url(p))}" style="border:0;display:block;width:{WIDTH}px;height:1000px"></iframe>'
                 for _, p, _ in pages)
harness = os.path.join(work, "measure.html")
with open(harness, "w", encoding="utf-8") as f:
    f.write(f'<!DOCTYPE html><html><body style="margin:0">{frames}<script>{MEASURE}</script></body></html>')
dom = chromium(f"--window-size={WIDTH},1000", "--dump-dom", url(harness))
m = re.search(r'<pre id="__probe">(.*?)</pre>', dom, re.S)
if not m:
    print("the measuring script did not run (no probe output in the dumped DOM)")
    sys.exit(2)
probes = json.loads(html.unescape(m.group(1)))
for (name, _, _), probe in zip(pages, probes):
    if "error" in probe:
        print(f"{name}: cannot measure the page: {probe['error']}")
        sys.exit(2)
    with open(os.path.join(work, f"{name}.probe.json"), "w") as f:
        json.dump(probe, f)

# 2. Pixels: one screenshot with the pages side by side, each iframe as tall as its document.
heights = [min(int(p["doc_h"]) + 20, MAX_H) for p in probes]
frames = "".join(f'<iframe src="{html.escape(url(p))}" scrolling="no" style="border:0;flex:none;width:{WIDTH}px;height:{h}px">'
                 "</iframe>" for (_, p, _), h in zip(pages, heights))
harness = os.path.join(work, "shot.html")
with open(harness, "w", encoding="utf-8") as f:
    f.write(f'<!DOCTYPE html><html><body style="margin:0;display:flex;align-items:flex-start">{frames}</body></html>')
png = os.path.join(work, "pages.png")
chromium(f"--window-size={WIDTH * len(pages)},{max(heights)}", "--screenshot=" + png, url(harness))
shot = Image.open(png).convert("RGB")

bad = 0
for k, ((name, _, figs), probe) in enumerate(zip(pages, probes)):
    for fig in figs:
        f = probe["figures"].get(fig)
        why = None
        if f is None:
            why = f"no <figure data-figure={fig}> on the page"
        elif f["w"] < 300 or f["h"] < 150:
            why = f"laid out at {f['w']:.0f}x{f['h']:.0f} px, too small to read"
        elif f["visible"] < 60 or f["glyphs"] < 20 or f["colored"] < 3:
            why = f"not drawn ({f['visible']} visible SVG elements, {f['glyphs']} glyphs, {f['colored']} coloured)"
        else:
            x0, y0 = k * WIDTH + int(f["x"]), int(f["y"])
            box = (x0, y0, min(x0 + int(f["w"]), (k + 1) * WIDTH), min(y0 + int(f["h"]), shot.height))
            crop = np.asarray(shot.crop(box), dtype=np.float32) / 255.0 if box[3] > box[1] and box[2] > box[0] else np.zeros((0, 0, 3))
            if crop.size == 0 or crop.shape[0] < 0.9 * f["h"]:
                why = "outside the screenshot"
            else:
                ink = (crop < 0.85).any(axis=2)                      # anything not near-white
                colour = (crop.max(axis=2) - crop.min(axis=2)) > 0.3  # saturated: the data series, not axes or text
                hh, ww = ink.shape
                quads = [ink[:hh // 2, :ww // 2].mean(), ink[:hh // 2, ww // 2:].mean(), ink[hh // 2:, :ww // 2].mean(),
                         ink[hh // 2:, ww // 2:].mean()]
                if ink.mean() < 0.01 or colour.sum() < 300 or sum(q > 0.002 for q in quads) < 3:
                    why = (f"blank in the screenshot (ink {ink.mean():.3%}, {int(colour.sum())} coloured px, "
                           f"quadrants {['%.3f' % q for q in quads]})")
                else:
                    print(f"{name}: drawn {fig}: {f['w']:.0f}x{f['h']:.0f} px, {f['visible']} visible elements "
                          f"({f['colored']} coloured), ink {ink.mean():.1%}, {int(colour.sum())} coloured px")
        if why:
            print(f"{name}: NOT DRAWN {fig}: {why}")
            bad += 1
    extra = sorted(set(probe["figures"]) - set(figs))
    if extra:
        print(f"{name}: unexpected figures {extra}")
        bad += 1
sys.exit(1 if bad else 0)
