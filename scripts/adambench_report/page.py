"""The page: index.html (one self-contained file, inline SVG and CSS) and summary.md, both rendered
from the same sections (sections.py), plus the figures as fig-*.svg files beside them."""
import html
import os
import re

from .common import EnvError, InputError, atomic_write
from .sections import build_sections

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
"""


def _cell_class(v, col):
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return ' class="n fail"' if col in ("fail", "error", "diverged", "target missed") and v else ' class="n"'
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


def context_lines(data):
    lines = []
    for kind in ("agree", "speed", "converge"):
        for res in data[kind]:
            c = res["context"] if isinstance(res["context"], dict) else {}
            if kind == "speed":
                machine = f"{c.get('adambench.machine.cpu', '?')}, {c.get('num_cpus', '?')} CPUs"
                build = f"{c.get('adambench.build.git_commit', '?')[:12]}, {c.get('adambench.build.compiler', '?')}"
                created, threads = c.get("adambench.created", c.get("date", "?")), c.get("adambench.threads", "?")
            else:
                m, b = c.get("machine", {}) or {}, c.get("build", {}) or {}
                machine = f"{m.get('cpu', '?')}, {m.get('logical_cores', '?')} logical cores"
                build = f"{str(b.get('git_commit', '?'))[:12]}, {b.get('compiler', '?')}"
                created, threads = c.get("created", "?"), c.get("threads", "?")
            lines.append((kind, res["path"], f"{created} · {machine} · {threads} thread{'' if str(threads) == '1' else 's'}"
                                             f" · build {build}"))
    return lines


def write_report(data, out, title):
    sections = build_sections(data)
    try:
        os.makedirs(out, exist_ok=True)
    except OSError as e:
        if os.path.exists(out) and not os.path.isdir(out):
            raise InputError(f"--out {out}: not a folder")
        raise EnvError(f"--out {out}: cannot create the folder: {e.strerror}")
    if not os.path.isdir(out):
        raise InputError(f"--out {out}: not a folder")
    ctx = context_lines(data)
    h = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
         '<meta name="viewport" content="width=device-width, initial-scale=1">',
         f"<title>{html.escape(title)}</title><style>{CSS}</style></head><body>",
         f"<h1>{html.escape(title)}</h1>", '<div class="meta">']
    md = [f"# {title}", ""]
    for kind, path, line in ctx:
        h.append(f"<div><b>{kind}</b> <code>{html.escape(path)}</code>: {html.escape(line)}</div>")
        md.append(f"- **{kind}** `{path}`: {line}")
    h.append("</div>")
    md.append("")
    figs = []
    for stitle, items in sections:
        sid = stitle.lower()
        h.append(f'<section id="{sid}"><h2>{html.escape(stitle)}</h2>')
        md += [f"## {stitle}", ""]
        for it in items:
            if it[0] == "note":
                h.append(f'<p class="note">{html.escape(it[1])}</p>')
                md += [f"> {it[1]}", ""]
            elif it[0] == "fig":
                f = it[1]
                figs.append(f)
                h.append(f'<figure class="report-figure" id="fig-{f.key}" data-figure="{f.key}">{inline_svg(f.svg, f.key)}'
                         f"<figcaption><b>{html.escape(f.title)}.</b> {html.escape(f.caption)}</figcaption></figure>")
                md += [f"### {f.title}", "", f"![{f.title}]({f.filename})", "", f"{f.caption}", ""]
            elif it[0] == "table":
                _, ttitle, head, rows = it
                h.append(f"<h3>{html.escape(ttitle)}</h3>")
                if len(rows) > 40:
                    h.append(f"<details><summary>{len(rows)} rows</summary>{html_table(head, rows)}</details>")
                else:
                    h.append(html_table(head, rows))
                md += [f"### {ttitle}", "", md_table(head, rows), ""]
        h.append("</section>")
    h.append('<p class="meta">Generated by adambench scripts/report.py; figures are inline SVG (matplotlib), the page needs no '
             "network.</p></body></html>")
    for f in figs:
        atomic_write(os.path.join(out, f.filename), f.svg)
    # Figures of an earlier report in the same folder that this one does not have.
    wanted = {f.filename for f in figs}
    for name in sorted(os.listdir(out)):
        if re.fullmatch(r"fig-[\w.-]+\.svg", name) and name not in wanted:
            os.remove(os.path.join(out, name))
    atomic_write(os.path.join(out, "summary.md"), "\n".join(md).rstrip() + "\n")
    atomic_write(os.path.join(out, "index.html"), "\n".join(h) + "\n")
    return figs
