"""Trends over commits from an adambench history file (`adambench history add`, docs/history.md).

load_history(path) reads the SQLite file (read-only, Python's sqlite3) into a plain dict;
history_section(data, colors) draws, from data["history"]:
    speed as a fraction of the limit, and params/s, per implementation and shape,
    the worst agreement error per implementation,
    steps to target per case, implementation and batch size,
all against the runs in order (labelled by commit), with the change points `history add` stored
marked: ▼ a regression step, ▲ an improvement step, a shaded span a drift.
"""
import math
import re
import sqlite3
from collections import defaultdict

import matplotlib.pyplot as plt

from .common import InputError, human_count
from .figures import Figure, render
from .verdict import Part

APPLICATION_ID = 0x41444D42  # "ADMB", PRAGMA application_id of a history file
SCHEMA_VERSION = 2           # the schema this module reads (bench/history/store.h)
MAX_PANELS = 12              # small multiples per figure; more are counted in the caption


def load_history(path):
    """{"path", "runs": {id: run}, "order": [run ids, oldest first], "series": {(benchmark, metric): s},
    "changes": [change]}; InputError (exit 2) for a missing, corrupt, foreign or newer file."""
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as e:
        raise InputError(f"{path}: cannot open the history file: {e}")
    try:
        check = con.execute("PRAGMA quick_check").fetchone()[0]
        if check != "ok":
            raise InputError(f"{path}: corrupt SQLite database (quick_check: {check.splitlines()[-1]})")
        app = con.execute("PRAGMA application_id").fetchone()[0]
        ver = con.execute("PRAGMA user_version").fetchone()[0]
        if app != APPLICATION_ID:
            raise InputError(f"{path}: not an adambench history (application_id {app:#x})")
        if ver > SCHEMA_VERSION:
            raise InputError(f"{path}: history schema {ver} is newer than this report reads (up to {SCHEMA_VERSION})")
        if ver < SCHEMA_VERSION:
            raise InputError(f"{path}: history schema {ver}: run `adambench history show --db {path}` once to migrate it")
        runs, order = {}, []
        for rid, kind, commit, created, host in con.execute(
                "SELECT id, kind, commit_id, created, hostname FROM runs ORDER BY created, id"):
            runs[rid] = {"kind": kind, "commit": commit, "created": created, "host": host}
            order.append(rid)
        series = {}
        for bench, metric, better, rid, value in con.execute(
                "SELECT f.benchmark, f.metric, f.better, f.run_id, f.value FROM figures f JOIN runs r ON r.id = f.run_id "
                "WHERE f.value IS NOT NULL ORDER BY f.benchmark, f.metric, r.created, r.id"):
            s = series.setdefault((bench, metric), {"better": better, "points": []})
            s["points"].append((rid, value))
        changes = [dict(zip(("benchmark", "metric", "kind", "method", "from_run", "run", "before", "after", "rel_change", "p",
                             "regression"), row))
                   for row in con.execute("SELECT benchmark, metric, kind, method, from_run, run_id, value_before, value_after, "
                                          "rel_change, p, regression FROM change_points")]
        for c in changes:
            c["better"] = series.get((c["benchmark"], c["metric"]), {}).get("better", 0)
    except sqlite3.DatabaseError as e:
        raise InputError(f"{path}: not a readable adambench history ({e})")
    finally:
        con.close()
    return {"path": path, "runs": runs, "order": order, "series": series, "changes": changes}


def short_commit(c):
    dirty = c.endswith("-dirty")
    h = c[:-6] if dirty else c
    return h[:7] + ("*" if dirty else "")


def newest_regressions(h):
    """Figures whose newest run sits after a regression step or at the end of a regression drift:
    the same rule as `adambench history check` (with its default thresholds)."""
    by_fig = defaultdict(list)
    for c in h["changes"]:
        by_fig[(c["benchmark"], c["metric"])].append(c)
    pos = {rid: i for i, rid in enumerate(h["order"])}
    out = []
    for key, cs in by_fig.items():
        s = h["series"].get(key)
        if not s or not s["better"]:
            continue
        newest = s["points"][-1][0]
        steps = sorted((c for c in cs if c["kind"] == "step"), key=lambda c: pos.get(c["run"], -1))
        if steps and steps[-1]["regression"]:
            out.append(steps[-1])
        out += [c for c in cs if c["kind"] == "drift" and c["regression"] and c["run"] == newest]
    return out


# ---- figures ------------------------------------------------------------------------------------
SPEED_RE = re.compile(r"^speed/(?P<impl>[^/]+)/(?P<algo>[^/]+)/(?P<shape>[^/]+)/threads:(?P<threads>\d+)")
CONVERGE_RE = re.compile(r"^converge/(?P<case>.+)/(?P<impl>[^/]+)/b(?P<batch>\d+)$")  # aggregates (not /seedS runs)


def _mark_changes(ax, h, x_of, changes, y_of):
    """▼ regression / ▲ improvement at a step's first run; a shaded span over a drift."""
    for c in changes:
        if c["run"] not in x_of:
            continue
        x = x_of[c["run"]]
        colour = "#d62728" if c["regression"] else ("#2ca02c" if c["better"] else "#7f7f7f")
        if c["kind"] == "drift" and c["from_run"] in x_of:
            ax.axvspan(x_of[c["from_run"]], x, color=colour, alpha=0.10, lw=0)
        else:
            ax.axvline(x, color=colour, lw=0.8, ls="--", alpha=0.7)
            y = y_of(c)
            if y is not None and math.isfinite(y):
                up = c["rel_change"] is not None and c["rel_change"] > 0
                ax.plot([x], [y], marker="^" if up else "v", color=colour, ms=8, zorder=5, ls="none")


def _commit_ticks(ax, h, xs):
    """Commit labels under a few of the runs."""
    if not xs:
        return
    step = max(1, len(xs) // 6)
    ticks = xs[::step]
    ax.set_xticks(ticks)
    ax.set_xticklabels([short_commit(h["runs"][h["order"][x]]["commit"]) for x in ticks], rotation=45, ha="right", fontsize=7)


def _small_multiples(h, panels, colors, ylabel, yfmt=None, logy=False):
    """panels: [(title, [(impl, label, [(x, y)], changes)])] -> a figure, one panel each."""
    shown = panels[:MAX_PANELS]
    ncol = min(3, len(shown))
    nrow = (len(shown) + ncol - 1) // ncol
    fig, axes = plt.subplots(nrow, ncol, figsize=(4.2 * ncol, 2.9 * nrow), squeeze=False)
    x_of = {rid: i for i, rid in enumerate(h["order"])}
    for ax, (title, lines) in zip(axes.flat, shown):
        xs_all = set()
        for impl, label, pts, changes in lines:
            pts = [(x, y) for x, y in pts if math.isfinite(y)]
            if not pts:
                continue
            xs, ys = zip(*pts)
            xs_all.update(xs)
            ax.plot(xs, ys, marker="o", ms=3, lw=1.2, color=colors(impl), label=label)
            yx = dict(pts)
            _mark_changes(ax, h, x_of, changes, lambda c: yx.get(x_of.get(c["run"])))
        ax.set_title(title, fontsize=9)
        ax.set_ylabel(ylabel, fontsize=8)
        if logy:
            ax.set_yscale("log")
        if yfmt:
            ax.yaxis.set_major_formatter(yfmt)
        _commit_ticks(ax, h, sorted(xs_all))
        if len(lines) > 1:
            ax.legend(loc="best", fontsize=7)
    for ax in list(axes.flat)[len(shown):]:
        ax.set_visible(False)
    fig.tight_layout()
    return fig


def _changes_of(h, bench, metric):
    return [c for c in h["changes"] if c["benchmark"] == bench and c["metric"] == metric]


def speed_panels(h, metric):
    """One panel per shape (and thread count), one line per implementation."""
    panels = defaultdict(list)
    for (bench, m), s in sorted(h["series"].items()):
        mm = SPEED_RE.match(bench)
        if m != metric or not mm or mm["impl"] == "probe":
            continue
        x_of = {rid: i for i, rid in enumerate(h["order"])}
        pts = [(x_of[rid], v) for rid, v in s["points"] if rid in x_of]
        title = f"{mm['shape']} · {mm['algo']} · {mm['threads']} thread{'s' if mm['threads'] != '1' else ''}"
        panels[title].append((mm["impl"], mm["impl"], pts, _changes_of(h, bench, m)))
    return sorted(panels.items())


def agree_panels(h):
    """The worst error over cases and dtypes per implementation and run; change points of any case."""
    worst, changes = defaultdict(dict), defaultdict(list)
    x_of = {rid: i for i, rid in enumerate(h["order"])}
    for (bench, m), s in h["series"].items():
        if m != "worst_err_u" or not bench.startswith("agree/"):
            continue
        impl = bench.split("/")[-2]
        for rid, v in s["points"]:
            if rid in x_of:
                worst[impl][x_of[rid]] = max(worst[impl].get(x_of[rid], 0.0), v)
        changes[impl] += _changes_of(h, bench, m)
    lines = [(impl, impl, sorted(pts.items()), changes[impl]) for impl, pts in sorted(worst.items())]
    return [("worst over cases and dtypes", lines)] if lines else []


def converge_panels(h):
    """Median steps to target over seeds, one panel per case, one line per implementation and batch size."""
    panels = defaultdict(list)
    x_of = {rid: i for i, rid in enumerate(h["order"])}
    for (bench, m), s in sorted(h["series"].items()):
        mm = CONVERGE_RE.match(bench)
        if m != "steps_to_target" or not mm:
            continue
        case, impl, b = mm["case"], mm["impl"], f"b{mm['batch']}"
        pts = [(x_of[rid], v) for rid, v in s["points"] if rid in x_of]
        panels[case].append((impl, f"{impl} {b}", pts, _changes_of(h, bench, m)))
    return sorted(panels.items())


def change_rows(h):
    pos = {rid: i for i, rid in enumerate(h["order"])}
    rows = []
    for c in sorted(h["changes"], key=lambda c: (pos.get(c["run"], -1), c["benchmark"], c["metric"])):
        run = h["runs"].get(c["run"], {})
        where = f"run {pos.get(c['run'], -1) + 1} ({short_commit(run.get('commit', '?'))}, {run.get('created', '?')})"
        if c["kind"] == "drift":
            frm = h["runs"].get(c["from_run"], {})
            where = f"runs {pos.get(c['from_run'], -1) + 1}–{pos.get(c['run'], -1) + 1} ({short_commit(frm.get('commit', '?'))}.." \
                    f"{short_commit(run.get('commit', '?'))})"
        verdict = "regression" if c["regression"] else ("improvement" if c["better"] else "change")
        rel = c["rel_change"]
        rel_s = "inf" if rel is None or not math.isfinite(rel) else f"{100 * rel:+.1f}%"
        test = f"U p={c['p']:.2g}" if c["p"] is not None else "tail rule"
        rows.append([f"{c['benchmark']} {c['metric']}", c["kind"], rel_s, f"{c['before']:.4g} → {c['after']:.4g}", where, test, verdict])
    return rows


def history_section(data, colors):
    hs = data.get("history") or []
    if not hs:
        return None
    h = hs[0]
    items = []
    n = len(h["order"])
    commits = len({r["commit"] for r in h["runs"].values()})
    items.append(("note", f"{n} runs from {commits} commits in {h['path']}; x axis: the runs in order of creation, labelled by "
                          "commit (* = a dirty build). A dashed line marks a step at that run (▲ up, ▼ down): red a regression, "
                          "green an improvement, grey a figure with no better direction; a shaded span marks a drift. Method: docs/history.md."))
    bad = newest_regressions(h)
    if bad:
        items.append(("note", f"REGRESSION at the newest run in {len(bad)} figure(s): "
                              + "; ".join(f"{c['benchmark']} {c['metric']} {c['kind']} {100 * c['rel_change']:+.1f}%"
                                          for c in bad[:5]) + (" …" if len(bad) > 5 else "")))
    specs = [
        ("history-speed-fraction", "Speed over commits: fraction of the limit", speed_panels(h, "probe_fraction"),
         "Parameters per second as a fraction of the in-run bandwidth probe's, per shape; higher is better.",
         "fraction of limit", None, False),
        ("history-speed-params", "Speed over commits: parameters per second", speed_panels(h, "params_per_second"),
         "Median over repetitions of each run; higher is better.", "params/s", plt.FuncFormatter(human_count), False),
        ("history-agree", "Worst agreement error over commits", agree_panels(h),
         "Worst |error| / (u · running bound) over every case, dtype and seed per implementation; lower is better; "
         "marks are change points of any one case.", "error / (u·bound)", None, False),
        ("history-steps", "Steps to target over commits", converge_panels(h),
         "Median over seeds per case, implementation and batch size; lower is better.", "steps", None, False),
    ]
    for key, title, panels, caption, ylabel, yfmt, logy in specs:
        if not panels:
            items.append(("note", f"{title}: the history holds no such figures."))
            continue
        more = f" Showing {MAX_PANELS} of {len(panels)} panels." if len(panels) > MAX_PANELS else ""
        fig = _small_multiples(h, panels, colors, ylabel, yfmt, logy)
        items.append(("fig", Figure(key, title, caption + more, render(fig, key))))
    rows = change_rows(h)
    if rows:
        items.append(("table", "Change points (as stored by `adambench history add`)",
                      ["figure", "kind", "change", "median before → after", "where", "test", "verdict"], rows))
    else:
        items.append(("note", "No change points in the history."))
    return "History", items


SECTIONS = [history_section]


def history_part(data):
    """The history's share of the verdict line (verdict.VERDICT_PARTS): figures with a direction and
    enough runs to judge are checked; each regression at the newest run is a failure."""
    hs = data.get("history") or []
    checked = sum(1 for h in hs for s in h["series"].values() if s["better"] and len(s["points"]) >= 5)
    bad = sum(len(newest_regressions(h)) for h in hs)
    return Part([(checked, "history figures")],
                [(bad, "regression at the newest run of the history", "regressions at the newest run of the history")],
                [], [], [])


VERDICT_PARTS = [history_part]
