"""Browser check of report pages (used by report_test.sh): is every figure really drawn?

    report_page_check.py CHROME WORKDIR NAME=PAGE=FIG,FIG,... [NAME=PAGE=FIG,...]...

Chromium starts twice whatever the number of pages (each start costs seconds on a loaded machine):
  1. --dump-dom of a harness page that holds every page in an iframe: a script measures, in each
     page, every <figure data-figure> as the browser laid it out (size, SVG elements that are
     visible, coloured and glyphs) and the tables' text, and leaves the result in the DOM;
  2. --screenshot of a second harness with the pages side by side, each iframe as tall as its page,
     so each figure's region of pixels can be checked for ink and colour.
A figure passes when it is laid out at a readable size, holds many visible SVG elements (coloured
data series among them), its region of the screenshot is not blank, and its layout is clean: no
two texts closer than 2 px, no legend over a text outside it, no data line whose drawing reaches
past the axes it is clipped to. The page's verdict mark passes when the middle of its box has ink
(a glyph no installed font has is drawn as an empty box).

Prints one line per figure: "NAME: drawn FIG: ..." or "NAME: NOT DRAWN FIG: why", one line per
layout problem: "NAME: BAD LAYOUT FIG: what", "NAME: verdict mark drawn (...)" or
"NAME: VERDICT MARK NOT DRAWN: why", and "NAME: unexpected figures [...]" for figures the page has
but the command line does not name.
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
// Layout of one matplotlib SVG (ids text_N, legend_N, line2d_N, prefixed by the page): texts that
// overlap each other, legends over a text outside them, and data lines whose drawing reaches past
// the axes they are clipped to (the clip hides the rest: a line that runs off its panel).
function label(g){var w=g.ownerDocument.createTreeWalker(g,NodeFilter.SHOW_COMMENT),t=[],n;
  while((n=w.nextNode()))t.push(n.nodeValue.trim());return t.join(" / ")||g.id;}
function box(e){var b=e.getBoundingClientRect();return {l:b.left,t:b.top,r:b.right,b:b.bottom};}
// Boxes closer than `gap` px (negative: overlapping by more than -gap). Two texts must be 2 px
// apart: a suptitle whose descenders touch the panel titles below it reads as one smudge.
function near(a,b,gap){return Math.min(a.r,b.r)-Math.max(a.l,b.l)>-gap&&Math.min(a.b,b.b)-Math.max(a.t,b.t)>-gap;}
function layout(svg,doc){
  var texts=[],legends=[],o={text_overlaps:[],legend_overlaps:[],lines_outside:[],texts:0,lines:0};
  svg.querySelectorAll("g[id]").forEach(function(g){
    if(/(^|-)text_\d+$/.test(g.id))texts.push({g:g,r:box(g),name:label(g)});
    else if(/(^|-)legend_\d+$/.test(g.id))legends.push({g:g,r:box(g)});});
  o.texts=texts.length;
  for(var i=0;i<texts.length;i++)for(var j=i+1;j<texts.length;j++)
    if(near(texts[i].r,texts[j].r,2))o.text_overlaps.push([texts[i].name,texts[j].name]);
  legends.forEach(function(L){texts.forEach(function(T){if(!L.g.contains(T.g)&&near(L.r,T.r,-1))o.legend_overlaps.push(T.name);});});
  svg.querySelectorAll("path[clip-path]").forEach(function(p){
    if(!/(^|-)line2d_\d+$/.test(p.parentNode.id||""))return;
    var m=/url\(#([^)]+)\)/.exec(p.getAttribute("clip-path")),c=m&&doc.getElementById(m[1]),rc=c&&c.querySelector("rect");
    if(!rc)return;o.lines++;
    var x=+rc.getAttribute("x"),y=+rc.getAttribute("y"),w=+rc.getAttribute("width"),h=+rc.getAttribute("height"),b=p.getBBox();
    var out=Math.max(x-b.x,y-b.y,b.x+b.width-x-w,b.y+b.height-y-h);
    if(out>1)o.lines_outside.push([p.parentNode.id,Math.round(out)]);});
  return o;}
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
    if(svg)o.layout=layout(svg,doc);
    out.figures[f.getAttribute("data-figure")]=o;});
  var v=doc.getElementById("verdict");
  if(v&&v.firstChild){var first=v.firstChild,vr;
    if(first.nodeType===1)vr=first.getBoundingClientRect();
    else{var rg=doc.createRange(),cp=first.nodeValue.codePointAt(0);rg.setStart(first,0);rg.setEnd(first,cp>0xffff?2:1);vr=rg.getBoundingClientRect();}
    out.verdict={x:vr.left+win.scrollX,y:vr.top+win.scrollY,w:vr.width,h:vr.height,mark:first.nodeType===1?first.tagName:first.nodeValue.slice(0,2),
      background:win.getComputedStyle(v).backgroundColor};}
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



def layout_problems(f):
    """What the browser's layout of a figure shows wrong: overlapping texts (a title on a title),
    a legend on a text, a data line drawn past its axes."""
    lay = (f or {}).get("layout")
    if not lay:
        return []
    out = [f"text '{a}' overlaps (or touches) text '{b}'" for a, b in lay["text_overlaps"]]
    out += [f"the legend covers text '{t}'" for t in lay["legend_overlaps"]]
    out += [f"{line} runs {d} units past its axes (the clip hides it: the line leaves the panel)" for line, d in lay["lines_outside"]]
    return out


def verdict_mark_problem(probe, shot, k):
    """None when the verdict's first mark is drawn: ink over the middle of its box. A glyph no font
    has (✅ without an emoji font) is drawn as an empty box: ink on its outline only."""
    v = probe.get("verdict")
    if v is None:
        return "the page has no #verdict"
    if v["w"] < 6 or v["h"] < 6:
        return f"laid out at {v['w']:.0f}x{v['h']:.0f} px"
    x0, y0 = k * WIDTH + v["x"], v["y"]
    mid = shot.crop((int(x0 + 0.3 * v["w"]), int(y0 + 0.3 * v["h"]), int(x0 + 0.7 * v["w"] + 1), int(y0 + 0.7 * v["h"] + 1)))
    px = np.asarray(mid, dtype=np.float32) / 255.0
    bg = np.array([float(c) for c in re.findall(r"[\d.]+", v["background"])[:3]], dtype=np.float32) / 255.0
    ink = (np.abs(px - bg).max(axis=2) > 0.25).mean() if px.size and len(bg) == 3 else 0.0
    return None if ink >= 0.3 else f"'{v['mark']}' has ink on {ink:.0%} of the middle of its box (an empty box: no font has the glyph?)"


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
        for problem in layout_problems(f):
            print(f"{name}: BAD LAYOUT {fig}: {problem}")
            bad += 1
    why = verdict_mark_problem(probe, shot, k)
    if why:
        print(f"{name}: VERDICT MARK NOT DRAWN: {why}")
        bad += 1
    elif "verdict" in probe:
        print(f"{name}: verdict mark drawn ({probe['verdict']['mark']})")
    extra = sorted(set(probe["figures"]) - set(figs))
    if extra:
        print(f"{name}: unexpected figures {extra}")
        bad += 1
sys.exit(1 if bad else 0)
