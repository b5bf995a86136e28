"""The matplotlib figures (SVG, deterministic): agreement error, speed against size and per model,
loss curves, steps to target. Each fig_* function returns a matplotlib figure (or None when its
inputs hold nothing to draw); render() turns one into SVG text."""
import io
import math
from collections import Counter, OrderedDict, defaultdict

import numpy as np
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter  # noqa: E402

from .common import human_count, human_time_us, num  # noqa: E402

STYLE = {
    "figure.dpi": 100, "font.size": 10, "axes.titlesize": 11, "axes.labelsize": 10, "legend.fontsize": 8.5,
    "axes.grid": True, "grid.alpha": 0.3, "grid.linewidth": 0.6, "axes.spines.top": False, "axes.spines.right": False,
    "svg.fonttype": "path", "savefig.bbox": "tight",
}
# Fixed colours per implementation name (in order of first appearance), so one implementation has
# one colour in every figure.
PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f"]


class Colors:
    def __init__(self):
        self.known = {}

    def __call__(self, name):
        if name == "probe":
            return "#000000"
        if name not in self.known:
            self.known[name] = PALETTE[len(self.known) % len(PALETTE)]
        return self.known[name]



class Figure:
    def __init__(self, key, title, caption, svg):
        self.key, self.title, self.caption, self.svg = key, title, caption, svg

    @property
    def filename(self):
        return f"fig-{self.key}.svg"


def render(fig, key):
    """SVG text of a figure; deterministic (fixed hash salt per figure, no date)."""
    with matplotlib.rc_context({"svg.hashsalt": f"adambench-{key}"}):
        buf = io.StringIO()
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": "adambench scripts/report.py"})
    plt.close(fig)
    return buf.getvalue()


def _log_labels(axis):
    """Plain numbers on a log axis, with 2 and 5 labelled between decades when few decades show."""
    axis.set_major_formatter(FuncFormatter(lambda v, _p: f"{v:g}"))
    lo, hi = axis.get_view_interval()
    if lo > 0 and hi / lo < 1e3:
        axis.set_minor_locator(LogLocator(base=10, subs=(2.0, 5.0)))
        axis.set_minor_formatter(FuncFormatter(lambda v, _p: f"{v:g}"))
    else:
        axis.set_minor_formatter(NullFormatter())


def fig_agree_error(agree, colors):
    """Worst error over cases (params and all state) against the number of steps, per impl and dtype."""
    worst = defaultdict(dict)  # (impl, dtype) -> step -> (err_u, ulp)
    tol = set()
    # Cases are checked at different step counts (suites choose check_steps per case): a worst-over-
    # cases line through steps from different cases would zigzag with the case mix, not with the
    # steps. So the lines use the cases checked on the longest schedule (the most common one on a tie).
    schedules = Counter(tuple(c[0] for c in r["checks"]) for res in agree for r in res["results"] if r["checks"])
    if not schedules:
        return None
    grid = max(schedules, key=lambda g: (len(g), schedules[g]))
    ncases = len({(r["case"], r["seed"]) for res in agree for r in res["results"] if tuple(c[0] for c in r["checks"]) == grid})
    nall = len({(r["case"], r["seed"]) for res in agree for r in res["results"] if r["checks"]})
    for res in agree:
        for r in res["results"]:
            if tuple(c[0] for c in r["checks"]) != grid:
                continue
            for step, err_u, ulp, tol_u, _ok in r["checks"]:
                d = worst[(r["impl"], r["dtype"])]
                e0, u0 = d.get(step, (0.0, 0.0))
                d[step] = (max(e0, err_u), max(u0, ulp))
                if math.isfinite(tol_u):
                    tol.add(tol_u)
    if not worst:
        return None
    dtypes = sorted({k[1] for k in worst})
    styles = {dt: s for dt, s in zip(dtypes, ["-", "--", ":", "-."] * 4)}
    markers = {dt: m for dt, m in zip(dtypes, ["o", "s", "^", "D"] * 4)}
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.3))
    zero = []
    steps_all = sorted({s for d in worst.values() for s in d})
    drawn = 0
    for (impl, dt), d in sorted(worst.items(), key=lambda kv: (list(colors.known).index(kv[0][0]) if kv[0][0] in colors.known else 99, kv[0])):
        steps = sorted(d)
        eu = np.array([d[s][0] for s in steps])
        ul = np.array([d[s][1] for s in steps])
        if not (eu > 0).any() and not (ul > 0).any():
            zero.append(f"{impl} ({dt})")
            continue
        # Implementations often share identical errors: a small horizontal offset keeps each visible.
        x = np.array(steps, dtype=float) * 1.045 ** (drawn - 2)
        drawn += 1
        for ax, y in ((axes[0], eu), (axes[1], ul)):
            keep = y > 0
            ax.plot(x[keep], y[keep], linestyle=styles[dt], marker=markers[dt], color=colors(impl), ms=5, lw=1.6,
                    label=f"{impl} · {dt}")
    for t in sorted(tol):
        axes[0].axhline(t, color="#444", ls="--", lw=1)
        axes[0].annotate(f"tolerance {t:g} u·bound", xy=(1, t), xycoords=("axes fraction", "data"), xytext=(-4, 4),
                         textcoords="offset points", ha="right", va="bottom", fontsize=8, color="#444")
    axes[0].set_ylabel("worst error / (u · running error bound)")
    axes[1].set_ylabel("worst parameter distance (ULP of its dtype)")
    axes[1].set_title("Parameters: error in units in the last place")
    axes[0].set_title("Parameters and state: error / error bound")
    for ax in axes:
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("optimizer steps taken (from the case's start state)")
        ax.set_xticks(steps_all)
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _p: f"{v:g}"))
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlim(steps_all[0] / 1.6, steps_all[-1] * 1.6)
        _log_labels(ax.yaxis)
    nleg = _shared_legend(fig, [axes[1]], top=False, ncol=math.ceil(len(worst) / len(dtypes)) if len(worst) <= 10 else None)
    _suptitle(fig, "Agreement with the float64 reference: worst error against steps taken")
    _layout(fig, nleg)
    which = (f"all {nall} cases" if ncases == nall else
             f"the {ncases} of {nall} cases checked after {', '.join(str(g) for g in grid)} steps (the longest schedule; "
             "every case's verdict is in the table below)")
    cap = (f"Each point is the worst error over {which} at that step count; lower is better. Left: parameters, m, v "
           "and max_v in units of u times the reference's running error bound (the dashed line is the pass/fail "
           "tolerance). Right: parameters in ULPs of their dtype. Series are offset slightly sideways so equal values stay "
           "visible.")
    if zero:
        cap += " Exactly zero error at every step (not drawable on a log axis): " + ", ".join(zero) + "."
    return Figure("agree-error", "Agreement error against step count", cap, render(fig, "agree-error"))



def series_key(r, many_threads, many_variants, multi_src):
    parts = [r["impl"]]
    if many_variants and r["variant"]:
        parts.append(r["variant"])
    if many_threads and r["threads"]:
        parts.append(f"{r['threads']} thr")
    if multi_src and r["src"]:
        parts.append(f"[{r['src']}]")
    return " · ".join(parts)


def fig_speed_size(rows, colors, llc=None):
    """Step time and fraction of the probe against tensor size, flat buffers only."""
    flat = [r for r in rows if r["shape"].startswith("flat_") and "t_med" in r and r["numel"]]
    if not {r["numel"] for r in flat if r["impl"] != "probe"}:
        return None
    impl_rows = [r for r in flat if r["impl"] != "probe"]
    many_threads = len({r["threads"] for r in flat}) > 1
    many_variants = len({r["variant"] for r in impl_rows}) > 1
    multi_src = len({r["src"] for r in flat}) > 1
    fig, (ax_t, ax_f) = plt.subplots(1, 2, figsize=(11, 5.0))
    groups = OrderedDict()
    for r in flat:
        groups.setdefault(series_key(r, many_threads, many_variants and r["impl"] != "probe", multi_src), []).append(r)
    # Colour = implementation; line style and marker = the rest of the series (threads, algorithm, file).
    styles = OrderedDict()
    for r in flat:
        styles.setdefault((r["threads"] if many_threads else None, r["variant"] if many_variants and r["impl"] != "probe" else None,
                           r["src"] if multi_src else None), None)
    for k, i in zip(list(styles), range(len(styles))):
        styles[k] = (["-", "--", ":", "-."][i % 4], ["o", "s", "^", "D", "v"][i % 5])
    probe_styles = OrderedDict()
    for key, rs in groups.items():
        rs.sort(key=lambda r: r["numel"])
        x = np.array([r["numel"] for r in rs], dtype=float)
        r0 = rs[0]
        impl = r0["impl"]
        t = np.array([r["t_med"] for r in rs])
        err = np.array([[r["t_med"] - r["t_lo"] for r in rs], [r["t_hi"] - r["t_med"] for r in rs]])
        if impl == "probe":
            i = len(probe_styles)
            probe_styles[key] = i
            what = key.split(" · ", 1)[1] if " · " in key else ""
            ax_t.plot(x, t, color="black", ls=["--", ":", "-.", (0, (6, 2))][i % 4], lw=1.8,
                      label=f"bandwidth limit (probe, {r0['variant'] or '28B'}/param{', ' + what if what else ''})")
            continue
        ls, mk = styles[(r0["threads"] if many_threads else None, r0["variant"] if many_variants else None,
                         r0["src"] if multi_src else None)]
        ax_t.errorbar(x, t, yerr=err, color=colors(impl), ls=ls, marker=mk, ms=4.5, lw=1.6, capsize=2.5, label=key)
        fr = [(r["numel"], r["frac"], r["frac_lo"], r["frac_hi"]) for r in rs if "frac" in r]
        if fr:
            fx, fm, fl, fh = (np.array(v, dtype=float) for v in zip(*fr))
            ax_f.errorbar(fx, fm, yerr=[fm - fl, fh - fm], color=colors(impl), ls=ls, marker=mk, ms=4.5, lw=1.6, capsize=2.5,
                          label=key)
    ax_f.axhline(1.0, color="black", ls="--", lw=1.8, label="memory-bandwidth limit (probe = 1.0)")
    ax_t.set_xscale("log", base=2)
    ax_t.set_yscale("log")
    ax_t.yaxis.set_major_formatter(FuncFormatter(human_time_us))
    ax_t.yaxis.set_minor_formatter(NullFormatter())
    ax_t.set_ylabel("time per optimizer step (median, bars: min–max)")
    ax_t.set_title("Step time (lower is better)")
    ax_f.set_xscale("log", base=2)
    ax_f.set_ylabel("fraction of the probe's params/s (1.0 = limit)")
    ax_f.set_title("Fraction of the memory-bandwidth limit (higher is better)")
    # Up to the highest median (a noisy repetition's bar may leave the plot rather than squash it).
    meds = [r["frac"] for r in impl_rows if "frac" in r and math.isfinite(r["frac"])]
    his = [r["frac_hi"] for r in impl_rows if "frac_hi" in r and math.isfinite(r["frac_hi"])]
    ax_f.set_ylim(0, max([1.2] + [1.15 * m for m in meds] + [min(h, 1.6) * 1.05 for h in his]))
    for ax in (ax_t, ax_f):
        ax.set_xlabel("parameters per step (one flat fp32 tensor; K = 1024)")
        ax.xaxis.set_minor_formatter(NullFormatter())
    sizes = sorted({r["numel"] for r in flat})
    names = {r["numel"]: r["shape"][len("flat_"):] for r in flat}
    for ax in (ax_t, ax_f):
        ax.set_xticks(sizes)
        ax.set_xticklabels([names[n] for n in sizes])
        ax.set_xlim(sizes[0] / 1.6, sizes[-1] * 1.6)
    if llc:
        # Where the working set (p, g, m, v: 16 B/param; the probe moves 28) outgrows the last-level cache.
        x = llc / 16
        for ax in (ax_t, ax_f):
            ax.axvline(x, color="#888", ls=":", lw=1.2)
        ax_f.annotate(f"p, g, m, v fill the\nlast-level cache\n({llc / 2**20:.0f} MiB)", xy=(x, 0.97),
                      xycoords=("data", "axes fraction"), xytext=(-4, 0), textcoords="offset points", ha="right", va="top",
                      fontsize=7.5, color="#555", bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none", "alpha": 0.85})
    # One legend below both panels: inside a panel, "best" placement ignores the cache note and
    # the data of the other panel's series, and sat on the note.
    _layout(fig, _shared_legend(fig, [ax_t, ax_f], top=False))
    return fig


def fig_speed_models(rows, colors):
    """Fraction of the probe per model shape list (non-flat shapes): grouped bars per implementation."""
    mr = [r for r in rows if not r["shape"].startswith("flat_") and r["impl"] != "probe" and "frac" in r]
    if not mr:
        return None
    many_threads = len({r["threads"] for r in mr}) > 1
    many_variants = len({r["variant"] for r in mr}) > 1
    multi_src = len({r["src"] for r in mr}) > 1
    shapes = list(OrderedDict.fromkeys(r["shape"] for r in mr))
    series = list(OrderedDict.fromkeys(series_key(r, many_threads, many_variants, multi_src) for r in mr))
    fig, ax = plt.subplots(figsize=(min(16, max(8.5, 3.0 + (0.45 * len(series) + 0.6) * len(shapes))), 4.8))
    width = 0.8 / len(series)
    top = 1.15
    # Colour = implementation; hatching = the rest of the series (threads, algorithm, file).
    rest = list(OrderedDict.fromkeys(
        (r["threads"] if many_threads else None, r["variant"] if many_variants else None, r["src"] if multi_src else None) for r in mr))
    hatch_of = {}
    for r in mr:
        hatch_of[series_key(r, many_threads, many_variants, multi_src)] = ["", "///", "...", "xxx", "\\\\"][
            rest.index((r["threads"] if many_threads else None, r["variant"] if many_variants else None,
                        r["src"] if multi_src else None)) % 5]
    for si, s in enumerate(series):
        xs, ys, lo, hi, impl = [], [], [], [], None
        for xi, sh in enumerate(shapes):
            for r in mr:
                if r["shape"] == sh and series_key(r, many_threads, many_variants, multi_src) == s:
                    xs.append(xi - 0.4 + width * (si + 0.5))
                    ys.append(r["frac"])
                    lo.append(r["frac"] - r["frac_lo"])
                    hi.append(r["frac_hi"] - r["frac"])
                    impl = r["impl"]
                    top = max(top, r["frac_hi"] * 1.15)
        bars = ax.bar(xs, ys, width=width * 0.92, color=colors(impl), label=s, yerr=[lo, hi], capsize=2.5, hatch=hatch_of[s],
                      edgecolor="white", linewidth=0,
                      error_kw={"lw": 1, "ecolor": "#333"})
        for b, y, h in zip(bars, ys, hi):
            ax.annotate(f"{y:.0%}", xy=(b.get_x() + b.get_width() / 2, y + h), xytext=(0, 3), textcoords="offset points",
                        ha="center", va="bottom", fontsize=7.5)
    ax.axhline(1.0, color="black", ls="--", lw=1.6, label="memory-bandwidth limit (probe = 1.0)")
    labels = []
    for sh in shapes:
        r = next(r for r in mr if r["shape"] == sh)
        n = f"\n{human_count(r['numel'])} params" if r["numel"] else ""
        tn = f"\n{r['tensors']} tensors" if r.get("tensors") else ""
        labels.append(f"{sh}{n}{tn}")
    ax.set_xticks(range(len(shapes)))
    ax.set_xticklabels(labels, fontsize=8.5)
    ax.set_ylim(0, min(top, 3.0))
    ax.set_ylabel("fraction of the probe's params/s (1.0 = limit)")
    ax.set_xlabel("model shape list (all of a model's parameter tensors, fp32)")
    ax.set_title("Fraction of the memory-bandwidth limit per model (median, bars: min–max over repetitions)")
    ax.grid(axis="x", visible=False)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    fig.tight_layout()
    return fig


def _loss_panels(conv):
    """(case, batch) -> impl -> [runs with curves]; the target metric of the case."""
    panels = OrderedDict()
    for res in conv:
        for r in res["runs"]:
            if r["curve"] is None or not len(r["curve"]["step"]):
                continue
            panels.setdefault((r["case"], r["batch"]), OrderedDict()).setdefault(r["impl"], []).append(r)
    return panels


def _shared_legend(fig, axes, top, ncol=None):
    """One legend for all panels (the union of their entries, first label wins), above or below the panels."""
    seen = OrderedDict()
    for ax in axes:
        for h, l in zip(*ax.get_legend_handles_labels()):
            seen.setdefault(l, h)
    if seen:
        fig.legend(list(seen.values()), list(seen.keys()), loc="upper center" if top else "lower center",
                   ncol=ncol or min(5, len(seen)), frameon=False, bbox_to_anchor=(0.5, 1.0 if top else 0.0))
    return len(seen)


def _legend_rows(n, ncol=5):
    return (n + ncol - 1) // ncol


def _suptitle(fig, text):
    """The figure's title, 0.05 inch below its top edge whatever the figure's height. tight_layout
    reserves the title's height plus one pad (~0.15 inch) above the panels; matplotlib's default
    place (2% of the height from the top) is lower than that on a tall grid, onto the first row's
    panel titles."""
    fig.suptitle(text, fontsize=11.5, y=1 - 0.05 / fig.get_figheight(), va="top")


def _layout(fig, legend_entries=0):
    """tight_layout leaving room (in inches) for a suptitle above and a shared legend below."""
    h = fig.get_figheight()
    bottom = (0.12 + 0.24 * _legend_rows(legend_entries)) / h if legend_entries else 0
    fig.tight_layout(rect=(0, bottom, 1, 1))  # tight_layout makes room for the suptitle itself


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
    nleg = _shared_legend(fig, list(axes.flat)[:n], top=False)
    _suptitle(fig, "Validation loss per implementation: median over seeds, band = range over seeds")
    _layout(fig, nleg)
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
        _log_labels(ax.yaxis)
        ax.set_xlabel("batch size (samples per step)")
        ax.set_ylabel("optimizer steps to reach the target")
        ax.set_title(case)
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    nleg = _shared_legend(fig, list(axes.flat)[:n], top=False)
    _suptitle(fig, "Steps to target against batch size: median over seeds, bars = bootstrap 95% interval")
    _layout(fig, nleg)
    return fig


