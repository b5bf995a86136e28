"""Convergence results (`adambench converge`, kind "converge"; curves/*.csv beside the file): the
report's Convergence section.

From converge.json (docs/convergence.md):
  - validation loss against steps per case and batch size, median and range over seeds, diverged
    runs marked: fig-loss-curves;
  - steps to the case's target against batch size with the bootstrap interval and perfect scaling:
    fig-steps-to-target;
  - the verdicts per implementation, the suite's unmet expectations, and per case and batch size
    the aggregates over seeds;
  - its share of the verdict line: runs checked, skips, errors and unmet expectations as failures,
    and the banner of an interrupted run.
"""
import csv
import math
import os
from collections import Counter, OrderedDict, defaultdict

import numpy as np
from matplotlib.ticker import FuncFormatter, NullFormatter

from .common import fail, note, num, short
from .figures import Figure, layout, log_labels, plt, render, shared_legend, suptitle
from .load import need
from .verdict import Part, interrupted_banners


# ----------------------------------------------------------------------------------------------- parsing

def parse_converge(j, path):
    runs = need(j, "runs", list, path, "converge result")
    base = os.path.dirname(os.path.abspath(path))
    out = []
    for i, r in enumerate(runs):
        where = f"converge result runs[{i}]"
        impl = need(r, "impl", str, path, where)
        case = need(r, "case", str, path, where)
        verdict = need(r, "verdict", str, path, where)
        batch = r.get("batch_size")
        curve = None
        rel = r.get("curve_csv")
        if rel:
            if not isinstance(rel, str) or os.path.isabs(rel) or "\0" in rel or ".." in rel.replace("\\", "/").split("/"):
                fail(path, f"malformed {where}: curve_csv {short(rel)} is not a path inside the result's folder")
            curve = read_curve(os.path.join(base, rel), path)
        tgt = r.get("target") if isinstance(r.get("target"), dict) else None
        # What the suite expected of the case ("none", "target", "diverge"), where converge writes it.
        expect = r.get("expect") if r.get("expect") in ("none", "target", "diverge") else None
        out.append({"case": case, "impl": impl, "verdict": verdict, "reason": str(r.get("reason", "") or ""), "expect": expect,
                    "batch": int(batch) if isinstance(batch, (int, float)) and not isinstance(batch, bool) else None,
                    "seed": r.get("seed"), "workload": str(r.get("workload", "")),
                    "steps_to_target": num(r.get("steps_to_target")), "diverged_at": num(r.get("diverged_at_step")),
                    "target": tgt, "curve": curve, "final": r.get("final") if isinstance(r.get("final"), dict) else {}})
    aggs = []
    for i, a in enumerate(j.get("aggregates", []) or []):
        if not isinstance(a, dict):
            fail(path, f"malformed converge result aggregates[{i}]: not an object")
        st = a.get("steps_to_target")
        med, lo, hi = math.nan, math.nan, math.nan
        if isinstance(st, dict):
            med = num(st.get("median"))
            ci = st.get("ci95")
            if isinstance(ci, list) and len(ci) == 2:
                lo, hi = num(ci[0]), num(ci[1])
        aggs.append({"case": str(a.get("case", "?")), "impl": str(a.get("impl", "?")), "batch": a.get("batch_size"),
                     "has_target": isinstance(st, dict), "steps": med, "lo": lo, "hi": hi, "seeds": a.get("seeds"),
                     "failure_rate": num(a.get("failure_rate")), "final_val_loss": a.get("final_val_loss"),
                     "final_val_acc": a.get("final_val_acc")})
    unmet = j.get("expectations_unmet", [])
    return {"path": path, "context": j.get("context", {}), "suite": j.get("suite", ""), "runs": out, "aggregates": aggs,
            "interrupted": j.get("interrupted") is True, "stopped_at": str(j.get("stopped_at", "") or ""),
            "expectations_unmet": [str(u) for u in unmet] if isinstance(unmet, list) else []}


CURVE_COLUMNS = ("step", "epoch", "lr", "train_loss", "val_loss", "val_acc", "wall_s")


def read_curve(csv_path, owner):
    try:
        with open(csv_path, newline="", encoding="utf-8") as f:
            rd = csv.reader(f)
            header = next(rd, None)
            if header is None:
                fail(csv_path, "empty curve file")
            missing = [c for c in ("step", "val_loss") if c not in header]
            if missing:
                fail(csv_path, f"curve CSV without column(s) {', '.join(missing)} (expected {','.join(CURVE_COLUMNS)})")
            idx = {c: header.index(c) for c in CURVE_COLUMNS if c in header}
            cols = {c: [] for c in idx}
            for n, row in enumerate(rd, start=2):
                if not row:
                    continue
                if len(row) != len(header):
                    fail(csv_path, f"line {n}: {len(row)} fields, header has {len(header)}")
                for c, k in idx.items():
                    s = row[k].strip()
                    try:
                        cols[c].append(float(s) if s else math.nan)
                    except ValueError:
                        fail(csv_path, f"line {n}: {c} {short(s)} is not a number")
                if not math.isfinite(cols["step"][-1]):
                    fail(csv_path, f"line {n}: step {short(row[idx['step']])} is not a finite number")
    except UnicodeDecodeError:
        fail(csv_path, "not a text file (not UTF-8): not a curve CSV")
    except csv.Error as e:
        fail(csv_path, f"not a readable CSV: {e}")
    except FileNotFoundError:
        fail(owner, f"curve file {csv_path} is missing")
    except OSError as e:
        fail(csv_path, f"cannot read: {e.strerror}")
    return {c: np.array(v, dtype=float) for c, v in cols.items()}


KINDS = {"converge": parse_converge}
SCHEMAS = {"converge": "converge.schema.json"}
RANK = 2  # the verdict line and the colours: after agreement, before speed
IMPL_NAMES = {"converge": lambda res: [r["impl"] for r in res["runs"]]}


# ----------------------------------------------------------------------------------------------- tables

def converge_verdicts(conv):
    """Counts per implementation. A run of a case expected to diverge that diverged is counted apart,
    as expected; a failed expectation is listed by converge_unmet, and only errors are failures here."""
    counts = OrderedDict()
    notes = OrderedDict()
    for res in conv:
        for r in res["runs"]:
            c = counts.setdefault(r["impl"], Counter())
            c["diverged as expected" if r["verdict"] == "diverged" and r["expect"] == "diverge" else r["verdict"]] += 1
            if r["verdict"] != "ok" and r["reason"]:
                what = r["reason"] if r["verdict"] == "skip" else f"{r['verdict']}: {r['reason']}"
                notes.setdefault(r["impl"], Counter())[what] += 1
            if r["verdict"] == "ok" and r["target"] and not math.isfinite(r["steps_to_target"]):
                c["missed"] += 1
    head = ["implementation", "ok", "target missed", "diverged", "diverged as expected", "error", "skip", "reasons"]
    rows = []
    for impl, c in counts.items():
        rs = "; ".join(f"{why} (×{n})" for why, n in notes.get(impl, Counter()).most_common(4))
        rows.append([impl, c["ok"], c["missed"], c["diverged"], c["diverged as expected"], c["error"], c["skip"], rs or "-"])
    return head, rows


def converge_unmet(conv):
    """Rows of the expectations a suite stated (expect = "target" / "diverge") that runs did not meet."""
    return ["file", "expectation not met"], [[res["path"], u] for res in conv for u in res["expectations_unmet"]]


def converge_aggregate_table(conv):
    def ci(d, digits=4):
        if not isinstance(d, dict):
            return "-"
        m = num(d.get("median"))
        ci95 = d.get("ci95")
        lo, hi = (num(ci95[0]), num(ci95[1])) if isinstance(ci95, list) and len(ci95) == 2 else (math.nan, math.nan)
        if not math.isfinite(m):
            return "never" if m == math.inf or d.get("median") is None else "-"
        s = f"{m:.{digits}g}"
        if math.isfinite(lo) and math.isfinite(hi) and (lo != m or hi != m):
            s += f" [{lo:.{digits}g}, {hi:.{digits}g}]"
        return s
    head = ["case", "implementation", "batch", "seeds", "final val loss", "final val acc", "steps to target", "failure rate"]
    rows = []
    for res in conv:
        for a in res["aggregates"]:
            st = "-"
            if a["has_target"]:
                st = "never" if not math.isfinite(a["steps"]) else (f"{a['steps']:.6g}" + (f" [{a['lo']:.6g}, {a['hi']:.6g}]" if math.isfinite(a["lo"]) and math.isfinite(a["hi"]) and (a["lo"] != a["steps"] or a["hi"] != a["steps"]) else "") if math.isfinite(a["lo"]) else f"{a['steps']:.6g}")
            fr = a["failure_rate"]
            rows.append([a["case"], a["impl"], a["batch"] if a["batch"] is not None else "-", a["seeds"] if a["seeds"] is not None else "-",
                         ci(a["final_val_loss"]), ci(a["final_val_acc"]), st, f"{fr:.0%}" if math.isfinite(fr) else "-"])
    return head, rows


# ----------------------------------------------------------------------------------------------- figures

def _loss_panels(conv):
    """(case, batch) -> impl -> [runs with curves]; the target metric of the case."""
    panels = OrderedDict()
    for res in conv:
        for r in res["runs"]:
            if r["curve"] is None or not len(r["curve"]["step"]):
                continue
            panels.setdefault((r["case"], r["batch"]), OrderedDict()).setdefault(r["impl"], []).append(r)
    return panels


def _panel_series(impls, order):
    """One panel's lines: [(impl, steps, median, min, max, runs)] over seeds, its val_loss target
    (or None) and [(impl, step of the blow-up)] for the runs that diverged."""
    series, target, diverged = [], None, []
    for impl in sorted(impls, key=lambda i: order.index(i) if i in order else 99):
        runs = impls[impl]
        steps = sorted({float(s) for r in runs for s in r["curve"]["step"]})
        ys = np.full((len(runs), len(steps)), np.nan)
        pos = {s: i for i, s in enumerate(steps)}
        for k, r in enumerate(runs):
            for s, v in zip(r["curve"]["step"], r["curve"]["val_loss"]):
                ys[k, pos[float(s)]] = v if math.isfinite(v) else np.nan
            if r["target"] and r["target"].get("metric") == "val_loss":
                target = num(r["target"].get("value"))
            if math.isfinite(r["diverged_at"]):
                diverged.append((impl, r["diverged_at"]))
        cnt = np.isfinite(ys).sum(axis=0)
        with np.errstate(all="ignore"):
            med, lo, hi = (np.array([f(ys[:, i]) if cnt[i] else np.nan for i in range(len(steps))])
                           for f in (np.nanmedian, np.nanmin, np.nanmax))
        series.append((impl, np.array(steps), med, lo, hi, len(runs)))
    return series, target, diverged


def _y_range(series, target):
    """(bottom, top, log scale?) of a panel: the curves that train, not an exploding one (its line is
    cut at the top edge and its blow-up marked with x there)."""
    lows = [v for *_, lo, _hi, _n in series for v in lo[np.isfinite(lo)]]
    highs = [v for *_, hi, _n in series for v in hi[np.isfinite(hi)]]
    starts = [med[np.isfinite(med)][0] for _i, _x, med, *_ in series if np.isfinite(med).any()]
    if target is not None and math.isfinite(target):
        lows.append(target)
    lo_y = min(lows) if lows else 1e-3
    hi_y = max(starts) * 1.6 if starts else (max(highs) if highs else 1.0)
    if lo_y > 0 and hi_y / lo_y > 20:
        return lo_y / 1.5, hi_y, True
    return min(0.0, lo_y), hi_y * 1.05, False


def _cut_at_top(x, y, top, log):
    """The line (x, y) ending on the top edge where it rises above `top` (and resuming there if it
    comes back), rather than running off the panel: a diverged run's line stops at the edge, under its x."""
    scale = np.log10 if log else (lambda v: v)
    xs, ys = [], []
    with np.errstate(all="ignore"):
        for i in range(len(x)):
            if i and np.isfinite(y[i - 1]) and np.isfinite(y[i]) and (y[i - 1] > top) != (y[i] > top):
                a, b = scale(y[i - 1]), scale(y[i])
                xs.append(x[i - 1] + (scale(top) - a) / (b - a) * (x[i] - x[i - 1]))
                ys.append(top)
            xs.append(x[i])
            ys.append(y[i] if y[i] <= top else np.nan)
    return np.array(xs), np.array(ys)


def _draw_panel(ax, series, target, diverged, colors):
    bottom, top, log = _y_range(series, target)
    if log:
        ax.set_yscale("log")
    ax.set_ylim(bottom, top)
    for rank, (impl, x, med, lo, hi, nruns) in enumerate(series):
        c = colors(impl)
        # Implementations that agree draw identical curves: earlier ones wider and underneath, so
        # each stays visible as a stripe.
        lw = max(1.2, 4.6 - 2.0 * rank)
        ls = (0, (2, 1.5)) if impl == "sgd-momentum" else "-"
        ax.plot(*_cut_at_top(x, med, top, log), color=c, lw=lw, ls=ls, label=f"{impl}", zorder=3 + rank)
        if nruns > 1:
            ax.fill_between(x, np.minimum(lo, top), np.minimum(hi, top), color=c, alpha=0.15, lw=0, zorder=1)
    if target is not None and math.isfinite(target):
        ax.axhline(target, color="#444", ls="--", lw=1, zorder=2)
        ax.annotate(f"target {target:g}", xy=(1, target), xycoords=("axes fraction", "data"), xytext=(-4, 3),
                    textcoords="offset points", ha="right", fontsize=8, color="#444")
    for impl, d in diverged:
        ax.plot([d], [top], marker="x", color=colors(impl), ms=9, mew=2.2, clip_on=False, zorder=10,
                label="diverged (step of the blow-up)")
    if diverged:
        ax.annotate("× diverged", xy=(max(d for _, d in diverged), top), xytext=(6, -10),
                    textcoords="offset points", fontsize=8, color="#a00")


def fig_loss_curves(conv, colors):
    panels = _loss_panels(conv)
    if not panels:
        return None, ""
    note = ""
    if len(panels) > 12:  # one panel per case: its smallest batch size
        keep = OrderedDict()
        for (c, b), v in panels.items():
            old = [k for k in keep if k[0] == c]
            if not old or (b is not None and old[0][1] is not None and b < old[0][1]):
                for k in old:
                    del keep[k]
                keep[(c, b)] = v
        panels = keep
        note = " Only the smallest batch size of each case is drawn (too many panels otherwise)."
    n = len(panels)
    ncol = 1 if n == 1 else 2
    nrow = math.ceil(n / ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(9 if ncol == 1 else 11, 3.5 * nrow + 0.9), squeeze=False)
    for ax, ((case, batch), impls) in zip(axes.flat, panels.items()):
        series, target, diverged = _panel_series(impls, list(colors.known))
        _draw_panel(ax, series, target, diverged, colors)
        nruns = series[-1][-1]
        seeds = f"{nruns} seed{'s' if nruns > 1 else ''}"
        ax.set_title(f"{case}" + (f" · batch {batch}" if batch is not None else "") + f" · {seeds}")
        ax.set_xlabel("optimizer step")
        ax.set_ylabel("validation loss")
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    nleg = shared_legend(fig, list(axes.flat)[:n], top=False)
    suptitle(fig, "Validation loss per implementation: median over seeds, band = range over seeds")
    layout(fig, nleg)
    return fig, note


def fig_steps_to_target(conv, colors):
    pts = defaultdict(lambda: defaultdict(list))  # case -> impl -> [(batch, med, lo, hi)]
    for res in conv:
        for a in res["aggregates"]:
            if a["has_target"] and math.isfinite(num(a["batch"])) and num(a["batch"]) > 0:
                pts[a["case"]][a["impl"]].append((num(a["batch"]), a["steps"], a["lo"], a["hi"]))
    pts = OrderedDict((c, v) for c, v in pts.items() if v)
    if not pts:
        return None
    n = len(pts)
    ncol = 1 if n == 1 else 2
    nrow = math.ceil(n / ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(9 if ncol == 1 else 11, 4.0 * nrow + 0.8), squeeze=False)
    order = list(colors.known)
    for ax, (case, impls) in zip(axes.flat, pts.items()):
        fin = [m for v in impls.values() for _, m0, _, h0 in v for m in (m0, h0) if math.isfinite(m)]
        cap = (max(fin) if fin else 1.0) * 2.0
        batches = sorted({b for v in impls.values() for b, *_ in v})
        names = sorted(impls, key=lambda i: order.index(i) if i in order else 99)
        for rank, impl in enumerate(names):
            v = sorted(impls[impl])
            # Equal results (implementations that agree) would hide each other: offset sideways a little.
            b = np.array([p[0] for p in v]) * 1.06 ** (rank - (len(names) - 1) / 2)
            m = np.array([p[1] for p in v])
            lo = np.array([p[2] if math.isfinite(p[2]) else p[1] for p in v])
            hi = np.array([min(p[3], cap) if math.isfinite(p[3]) else cap for p in v])
            ok = np.isfinite(m)
            c = colors(impl)
            ls = (0, (2, 1.5)) if impl == "sgd-momentum" else "-"
            if ok.any():
                ax.errorbar(b[ok], m[ok], yerr=[m[ok] - lo[ok], hi[ok] - m[ok]], color=c, ls=ls, marker="o",
                            ms=5, lw=1.6, capsize=3, label=impl)
            if (~ok).any():
                ax.plot(b[~ok], np.full((~ok).sum(), cap), ls="none", marker="^", color=c, ms=9, clip_on=False,
                        label=impl if not ok.any() else None)
        # Perfect scaling: twice the batch, half the steps, from the first implementation's smallest batch.
        first = next((p[1] for i in names for p in sorted(impls[i]) if p[0] == batches[0] and math.isfinite(p[1])), None)
        if len(batches) > 1 and first:
            bb = np.array(batches)
            ax.plot(bb, first * bb[0] / bb, color="#777", ls="--", lw=1, label="perfect scaling (steps ∝ 1/batch)")
        if any(not math.isfinite(p[1]) for v in impls.values() for p in v):
            ax.axhline(cap, color="#bbb", lw=0.8)
            ax.annotate("▲ never reached", xy=(0, cap), xycoords=("axes fraction", "data"), xytext=(4, -12),
                        textcoords="offset points", fontsize=8, color="#555")
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xticks(batches)
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _p: f"{v:g}"))
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlim(batches[0] / 1.5, batches[-1] * 1.5)
        log_labels(ax.yaxis)
        ax.set_xlabel("batch size (samples per step)")
        ax.set_ylabel("optimizer steps to reach the target")
        ax.set_title(case)
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    nleg = shared_legend(fig, list(axes.flat)[:n], top=False)
    suptitle(fig, "Steps to target against batch size: median over seeds, bars = bootstrap 95% interval")
    layout(fig, nleg)
    return fig


# ----------------------------------------------------------------------------------------------- section and verdict

def convergence_section(data, colors):
    conv = data["converge"]
    if not conv:
        return "Convergence", [note("No convergence results (converge.json) were given: loss curves and steps-to-target are omitted.")]
    items = []
    f, extra = fig_loss_curves(conv, colors)
    if f is not None:
        items.append(("fig", Figure("loss-curves", "Loss curves", "Validation loss against optimizer steps; the line is the "
                                    "median over seeds and the band the range over seeds (× = diverged there). "
                                    "Same initial weights and data order for every implementation at a given seed, so "
                                    "implementations that agree draw the same curve: they show as nested stripes, "
                                    "earlier ones wider." + extra,
                                    render(f, "loss-curves"))))
    else:
        items.append(note("The convergence results hold no curves (no curve CSV files): loss curves are omitted."))
    f = fig_steps_to_target(conv, colors)
    if f is not None:
        items.append(("fig", Figure("steps-to-target", "Steps to target against batch size",
                                    "Median steps to reach the case's target over seeds with the bootstrap 95% interval "
                                    "(points offset sideways a little so equal results stay visible); ▲ marks a batch size "
                                    "whose median run never reached the target; the dashed line is perfect scaling (twice "
                                    "the batch, half the steps).",
                                    render(f, "steps-to-target"))))
    else:
        items.append(note("No convergence case has a target: steps-to-target against batch size is omitted."))
    h, rows = converge_verdicts(conv)
    items.append(("table", "Verdicts per implementation (one run = one case, batch size and seed)", h, rows))
    h, rows = converge_unmet(conv)
    if rows:
        items.append(("table", "Unmet expectations (the suite's expect = ...)", h, rows))
    h, rows = converge_aggregate_table(conv)
    if rows:
        items.append(("table", "Per case and batch size (median over seeds [bootstrap 95% interval])", h, rows))
    return "Convergence", items


SECTIONS = [convergence_section]


def converge_part(data):
    checked = skipped = errors = unmet = stopped = 0
    banners = []
    for res in data["converge"]:
        for r in res["runs"]:
            v = r["verdict"]
            skipped += v == "skip"
            errors += v == "error"
            stopped += v == "interrupted"
            checked += v in ("ok", "diverged", "error")
        unmet += len(res["expectations_unmet"])
        banners += interrupted_banners(res, "convergence", "stopped_at")
        if stopped and not res.get("interrupted"):
            banners.append(f"{res['path']}: {stopped} convergence run(s) were interrupted; their results are incomplete.")
    return Part([(checked, "convergence runs")],
                [(errors, "convergence error", "convergence errors"),
                 (unmet, "unmet convergence expectation", "unmet convergence expectations")],
                [], banners, [(skipped, "convergence runs")])


VERDICT_PARTS = [converge_part]
