"""The page: index.html (one self-contained file, inline SVG and CSS) and summary.md, both rendered
from the same sections (sections.py), plus the figures as fig-*.svg files beside them."""
import html
import os
import re

from .common import EnvError, InputError, atomic_write
from .sections import CONTEXT, build_sections
from .verdict import verdict

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;margin:0 auto;max-width:1180px;
padding:16px 28px 48px;color:#1b1b1b;line-height:1.45;background:#fff}
h1{font-size:1.6em;margin:.4em 0 .2em}h2{font-size:1.25em;margin:1.6em 0 .5em;border-bottom:1px solid #ddd;padding-bottom:.2em}
.meta{color:#555;font-size:.9em}.note{background:#f6f6f6;border-left:4px solid #aaa;padding:.5em .8em;color:#444}
figure{margin:1em 0 1.6em}figure svg{max-width:100%;height:auto;display:block}
figcaption{font-size:.9em;color:#444;margin-top:.3em}
table{border-collapse:collapse;font-size:.88em;margin:.6em 0 1em}th,td{border:1px solid #d6d6d6;padding:.25em .6em;text-align:left;vertical-align:top}
th{background:#f2f2f2}td.n{text-align:right;font-variant-numeric:tabular-nums}tr.bad td{background:#fde8e8}
td.fail{color:#b00020;font-weight:600}details{margin:.5em 0}summary{cursor:pointer;color:#333}
code{font-size:.92em}
.verdict{font-size:1.25em;font-weight:600;margin:.6em 0 .3em;padding:.45em .8em;border-radius:4px}
.verdict.pass{background:#e6f4ea;color:#0b5f1e}.verdict.fail{background:#fde8e8;color:#b00020}
.verdict.warn{background:#fff4d6;color:#6b4e00}
.verdict svg.mark{width:1.05em;height:1.05em;vertical-align:-.15em;margin-right:.15em}
.banner{background:#fff4d6;border:2px solid #e0a800;padding:.45em .8em;margin:.4em 0;font-weight:600}
"""


def _cell_class(v, col):
    if col == "expectation not met":
        return ' class="fail"'
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return ' class="n fail"' if col in ("fail", "error") and v else ' class="n"'
    return ""


FIG_LINK = re.compile(r"#fig-[\w.-]+")  # a cell naming a figure on the page (the sweep's claims table) links to it


def _cell(v):
    if isinstance(v, str) and FIG_LINK.fullmatch(v):
        return f'<a href="{v}">{html.escape(v[1:])}</a>'
    return html.escape(str(v))


def html_table(head, rows):
    out = ["<table><thead><tr>" + "".join(f"<th>{html.escape(str(h))}</th>" for h in head) + "</tr></thead><tbody>"]
    for r in rows:
        out.append("<tr>" + "".join(f"<td{_cell_class(v, head[i])}>{_cell(v)}</td>" for i, v in enumerate(r)) + "</tr>")
    out.append("</tbody></table>")
    return "\n".join(out)


def md_escape(v):
    if isinstance(v, str) and FIG_LINK.fullmatch(v):
        return f"[{v[1:]}]({v[1:]}.svg)"  # summary.md's figures are the fig-KEY.svg files beside it
    return str(v).replace("|", "\\|").replace("\n", " ")


def md_table(head, rows):
    out = ["| " + " | ".join(md_escape(h) for h in head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    out += ["| " + " | ".join(md_escape(v) for v in r) + " |" for r in rows]
    return "\n".join(out)


def inline_svg(svg, key):
    """The figure's SVG for embedding in HTML: no XML prolog, ids made unique per figure."""
    s = svg[svg.index("<svg"):]
    pre = f"{key}-"
    s = re.sub(r'\bid="([^"]+)"', lambda m: f'id="{pre}{m.group(1)}"', s)
    s = re.sub(r'(xlink:href|href)="#([^"]+)"', lambda m: f'{m.group(1)}="#{pre}{m.group(2)}"', s)
    s = re.sub(r"url\(#([^)]+)\)", lambda m: f"url(#{pre}{m.group(1)})", s)
    return s.replace("<svg ", f'<svg role="img" aria-label="{html.escape(key)}" ', 1)


MD_LIMIT = 60000  # a pull-request comment holds 65,536 characters; the job summary more
MD_ROWS = (40, 12, 0)  # rows shown per Markdown table, tried in turn until the summary fits
MD_LIST = 20  # context lines and banners shown before "... and N more"
CELL = 200  # characters of one Markdown cell, path or title


def _cut(text, n=CELL):
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[:n - 1] + "…"


def adambench_context(c):
    """(created, machine, threads, build) from an adambench result's context object."""
    m, b = c.get("machine", {}), c.get("build", {})
    m, b = m if isinstance(m, dict) else {}, b if isinstance(b, dict) else {}
    machine = f"{m.get('cpu', '?')}, {m.get('logical_cores', '?')} logical cores"
    build = f"{str(b.get('git_commit', '?'))[:12]}, {b.get('compiler', '?')}"
    return c.get("created", "?"), machine, c.get("threads", "?"), build


def context_lines(data):
    """(kind, path, line) per input file: when, where and what built it (a kind's CONTEXT, or adambench's)."""
    lines = []
    for kind, results in data.items():
        for res in results:
            c = res.get("context") if isinstance(res.get("context"), dict) else {}
            if kind not in CONTEXT and not c:
                lines.append((kind, res["path"], ""))
                continue
            created, machine, threads, build = CONTEXT.get(kind, adambench_context)(c)
            lines.append((kind, res["path"], f"{created} · {machine} · {threads} thread{'' if str(threads) == '1' else 's'}"
                                             f" · build {build}"))
    return lines


# The verdict's mark drawn in SVG: ✅ and ❌ exist only in colour-emoji fonts, and a browser without
# one (a CI runner, a server) draws an empty box. summary.md keeps the emoji (GitHub draws them).
ICONS = {
    "pass": ("✅", '<circle cx="8" cy="8" r="8" fill="#1f883d"/><path d="M4.2 8.4l2.5 2.5 5-5.3" fill="none" stroke="#fff" '
                  'stroke-width="2" stroke-linecap="round" stroke-linejoin="round"/>'),
    "fail": ("❌", '<circle cx="8" cy="8" r="8" fill="#cf222e"/><path d="M5 5l6 6M11 5l-6 6" fill="none" stroke="#fff" '
                  'stroke-width="2" stroke-linecap="round"/>'),
    "warn": ("⚠️", '<path d="M8 .8L15.6 14.6H.4z" fill="#d4a72c" stroke="#d4a72c" stroke-linejoin="round"/>'
                   '<path d="M8 5.6v4.4" stroke="#1b1b1b" stroke-width="1.8" stroke-linecap="round"/>'
                   '<circle cx="8" cy="12.4" r="1.05" fill="#1b1b1b"/>'),
}


def verdict_html(verdict):
    """The verdict paragraph: the level's mark as inline SVG, then the line without its emoji."""
    emoji, icon = ICONS[verdict.level]
    text = verdict.line[len(emoji):].lstrip() if verdict.line.startswith(emoji) else verdict.line
    return (f'<p class="verdict {verdict.level}" id="verdict"><svg class="mark" viewBox="0 0 16 16" role="img" '
            f'aria-label="{verdict.level}">{icon}</svg> {html.escape(text)}</p>')


def render_html(title, verdict, ctx, sections):
    h = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
         '<meta name="viewport" content="width=device-width, initial-scale=1">',
         f"<title>{html.escape(title)}</title><style>{CSS}</style></head><body>",
         verdict_html(verdict)]
    h += [f'<p class="banner">⚠️ {html.escape(b)}</p>' for b in verdict.banners]
    h += [f"<h1>{html.escape(title)}</h1>", '<div class="meta">']
    for kind, path, line in ctx:
        h.append(f"<div><b>{kind}</b> <code>{html.escape(path)}</code>{': ' + html.escape(line) if line else ''}</div>")
    h.append("</div>")
    for stitle, items in sections:
        h.append(f'<section id="{re.sub(r"[^a-z0-9]+", "-", stitle.lower())}"><h2>{html.escape(stitle)}</h2>')
        for it in items:
            if it[0] == "note":
                h.append(f'<p class="note">{html.escape(it[1])}</p>')
            elif it[0] == "fig":
                f = it[1]
                h.append(f'<figure class="report-figure" id="fig-{f.key}" data-figure="{f.key}">{inline_svg(f.svg, f.key)}'
                         f"<figcaption><b>{html.escape(f.title)}.</b> {html.escape(f.caption)}</figcaption></figure>")
            elif it[0] == "table":
                _, ttitle, head, rows = it
                h.append(f"<h3>{html.escape(ttitle)}</h3>")
                if len(rows) > 40:
                    h.append(f"<details><summary>{len(rows)} rows</summary>{html_table(head, rows)}</details>")
                else:
                    h.append(html_table(head, rows))
        h.append("</section>")
    h.append('<p class="meta">Generated by adambench scripts/report.py; figures are inline SVG (matplotlib), the page needs no '
             "network.</p></body></html>")
    return "\n".join(h) + "\n"


def _md_list(lines, what):
    if len(lines) <= MD_LIST:
        return lines
    return lines[:MD_LIST] + [f"- … and {len(lines) - MD_LIST} more {what} (all in index.html)"]


def render_md(title, verdict, ctx, sections, max_rows):
    """summary.md: the verdict on its first line; tables longer than a few rows folded in <details>
    and cut to max_rows rows with a count of what was left out."""
    md = [verdict.line, ""]
    if verdict.banners:
        md += _md_list([f"> ⚠️ **{_cut(b, 2 * CELL)}**" for b in verdict.banners], "interrupted runs") + [""]
    md += [f"# {_cut(title)}", ""]
    md += _md_list([f"- **{kind}** `{_cut(path)}`" + (f": {_cut(line)}" if line else "") for kind, path, line in ctx], "files")
    md.append("")
    for stitle, items in sections:
        md += [f"## {_cut(stitle)}", ""]
        for it in items:
            if it[0] == "note":
                md += [f"> {_cut(it[1], 4 * CELL)}", ""]
            elif it[0] == "fig":
                f = it[1]
                md += [f"### {f.title}", "", f"![{f.title}]({f.filename})", "", f"{f.caption}", ""]
            elif it[0] == "table":
                _, ttitle, head, rows = it
                md += [f"### {_cut(ttitle)}", ""]
                cells = [[_cut(v) for v in r] for r in rows[:max_rows]]
                left = len(rows) - len(cells)
                if len(rows) <= 10 and not left:
                    md += [md_table(head, cells), ""]
                    continue
                md += [f"<details><summary>{len(rows)} rows</summary>", ""]
                if cells:
                    md += [md_table(head, cells), ""]
                if left:
                    md += [f"… and {left} more row{'s' if left > 1 else ''} (all in index.html)", ""]
                md += ["</details>", ""]
    return "\n".join(md).rstrip() + "\n"


def summary_md(title, verdict, ctx, sections):
    for max_rows in MD_ROWS:
        md = render_md(title, verdict, ctx, sections, max_rows)
        if len(md) <= MD_LIMIT:
            return md
    # Still too long (a kind's long notes, say): cut at a line, keeping the verdict first.
    tail = "\n\n… summary cut at 60,000 characters (the whole report is in index.html)\n"
    return md[:md.rindex("\n", 0, MD_LIMIT - len(tail)) + 1].rstrip() + tail


def write_report(data, out, title):
    sections = build_sections(data)
    v = verdict(data)
    try:
        os.makedirs(out, exist_ok=True)
    except OSError as e:
        if os.path.exists(out) and not os.path.isdir(out):
            raise InputError(f"--out {out}: not a folder")
        raise EnvError(f"--out {out}: cannot create the folder: {e.strerror}")
    if not os.path.isdir(out):
        raise InputError(f"--out {out}: not a folder")
    ctx = context_lines(data)
    page = render_html(title, v, ctx, sections)
    md = summary_md(title, v, ctx, sections)
    figs = [it[1] for _, items in sections for it in items if it[0] == "fig"]
    for f in figs:
        atomic_write(os.path.join(out, f.filename), f.svg)
    # Figures of an earlier report in the same folder that this one does not have.
    wanted = {f.filename for f in figs}
    for name in sorted(os.listdir(out)):
        if re.fullmatch(r"fig-[\w.-]+\.svg", name) and name not in wanted:
            os.remove(os.path.join(out, name))
    atomic_write(os.path.join(out, "summary.md"), md)
    atomic_write(os.path.join(out, "index.html"), page)
    return figs, v
