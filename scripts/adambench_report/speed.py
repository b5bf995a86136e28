"""Speed results (`adambench speed` and adambench-gpu-bench: Google Benchmark's JSON, no "kind"
field): the report's Speed section.

From speed.json (docs/speed.md; adambench-gpu-bench's format: docs/cuda.md):
  - step time and fraction of the in-run bandwidth probe against tensor size (flat buffers):
    fig-speed-size;
  - fraction of the probe per model shape list: fig-speed-models;
  - every benchmark's median time, GB/s and fraction of the probe; rows above 103% of the limit
    are flagged as measurement problems, never shown as results;
  - its share of the verdict line: speed is reported, not gated; only a benchmark that errored
    counts against the verdict.
"""
import math
import os
from collections import OrderedDict

import numpy as np
from matplotlib.ticker import FuncFormatter, NullFormatter

from .common import fail, human_count, human_time_us, note, num, short
from .figures import Figure, layout, plt, render, shared_legend
from .load import need
from .verdict import Part

SCHEMA = "speed.schema.json"
# adambench-gpu-bench (docs/cuda.md) writes Google Benchmark-like JSON of its own.
GPU_SPEED = "gpu_speed.schema.json"


# ----------------------------------------------------------------------------------------------- parsing

_NAME_SUFFIXES = ("real_time", "process_time", "manual_time")
_NAME_OPTIONS = ("min_time:", "min_warmup_time:", "repeats:", "iterations:")


def parse_bench_name(name):
    """'eigen/adam/flat_1M/threads:2/real_time' -> impl, variant, shape, threads.
    'probe/28B/flat_1M/threads:2/real_time'  -> impl 'probe', variant '28B'."""
    parts = [p for p in name.split("/") if p]
    while parts and (parts[-1] in _NAME_SUFFIXES or parts[-1].startswith(_NAME_OPTIONS)):
        parts.pop()
    threads = None
    rest = []
    for p in parts:
        n = p[len("threads:"):]
        if p.startswith("threads:") and n.isascii() and n.isdigit():
            threads = int(n)
        else:
            rest.append(p)
    impl = rest[0] if rest else name
    variant = rest[1] if len(rest) > 2 else ""
    shape = rest[-1] if len(rest) >= 2 else ""
    return impl, variant, shape, threads


def _count(b, key, path, where):
    """A size counter (params, tensors): a whole number >= 1, or None when absent. Google Benchmark
    writes counters as doubles, so 1.048576e+06 is read as 1048576."""
    v = b.get(key)
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not 1 <= v <= 2 ** 53 or v != int(v):
        fail(path, f"malformed {where}: counter '{key}' is {short(v)}, not a whole number >= 1")
    return int(v)


def parse_speed(j, path):
    """Google Benchmark JSON from `adambench speed` (or adambench-gpu-bench): one row per run name,
    with its repetitions. Sizes come from the rows' counters: `params` (parameters per step) and
    `tensors` (adambench-gpu-bench writes no `tensors`)."""
    benches = need(j, "benchmarks", list, path, "Google Benchmark JSON")
    ctx = j.get("context", {})
    if not isinstance(ctx, dict):
        fail(path, "malformed Google Benchmark JSON: 'context' is not an object")
    runs = OrderedDict()  # run_name -> dict
    for i, b in enumerate(benches):
        where = f"benchmarks[{i}]"
        name = need(b, "name", str, path, where)
        run_name = b.get("run_name", name)
        if not isinstance(run_name, str):
            fail(path, f"malformed {where}: 'run_name' is not a string")
        e = runs.setdefault(run_name, {"reps": [], "agg": {}, "error": None, "params": None, "tensors": None, "over_limit": False})
        # adambench speed flags a row above 103% of the limit on every entry (docs/speed.md).
        if b.get("over_limit") is True:
            e["over_limit"] = True
        if b.get("error_occurred"):
            e["error"] = str(b.get("error_message", "error"))
            continue
        unit = b.get("time_unit", "ns")
        scale = {"ns": 1e-3, "us": 1.0, "ms": 1e3, "s": 1e6}.get(unit) if isinstance(unit, str) else None
        if scale is None:
            fail(path, f"malformed {where}: unknown time_unit {short(unit)}")
        t = num(b.get("real_time"))
        if math.isnan(t):
            fail(path, f"malformed {where}: 'real_time' missing or not a number")
        # adambench speed's counters; adambench-gpu-bench (docs/cuda.md) names them items_per_second
        # and fraction_of_probe.
        pps = num(b.get("params_per_second", b.get("items_per_second")))
        rec = {"time_us": t * scale, "params_per_second": pps, "bytes_per_second": num(b.get("bytes_per_second")),
               "probe_fraction": num(b.get("probe_fraction", b.get("fraction_of_probe")))}
        agg = b.get("aggregate_name") if b.get("run_type") == "aggregate" else None
        # Sizes from the repetitions (and the central aggregates); stddev and cv of a size are 0.
        if agg in (None, "mean", "median", "min", "max"):
            for key in ("params", "tensors"):
                n = _count(b, key, path, where)
                if n is not None and e[key] is not None and n != e[key]:
                    fail(path, f"malformed {where}: counter '{key}' is {n}, another row of {short(run_name)} says {e[key]}")
                e[key] = e[key] if n is None else n
            if e["params"] is None:
                fail(path, f"malformed {where}: no 'params' counter (parameters per step; written by adambench speed)")
        if agg is not None:
            e["agg"][str(agg)] = rec
        else:
            e["reps"].append(rec)
    rows = []
    for run_name, e in runs.items():
        impl, variant, shape, threads = parse_bench_name(run_name)
        reps = e["reps"] or ([e["agg"]["median"]] if "median" in e["agg"] else [])
        rows.append({"name": run_name, "impl": impl, "variant": variant, "shape": shape, "threads": threads,
                     "numel": e["params"], "tensors": e["tensors"], "reps": reps, "error": e["error"] if not reps else None,
                     "over_limit": e["over_limit"]})
    return {"path": path, "context": ctx, "rows": rows}


def is_speed(j):
    """Google Benchmark's JSON carries no "kind": a file with its context and benchmarks is speed."""
    return isinstance(j, dict) and "benchmarks" in j and "context" in j


def is_gpu_bench(j):
    ctx = j.get("context") if isinstance(j, dict) else None
    return isinstance(ctx, dict) and "gpu" in ctx and "adambench.schema_version" not in ctx


def schema_of(j):
    return GPU_SPEED if is_gpu_bench(j) else SCHEMA


def context_of(c):
    """(created, machine, threads, build) from Google Benchmark's context and adambench's keys in it."""
    machine = f"{c.get('adambench.machine.cpu', c.get('gpu', '?'))}, {c.get('num_cpus', '?')} CPUs"
    build = f"{str(c.get('adambench.build.git_commit', '?'))[:12]}, {c.get('adambench.build.compiler', '?')}"
    return c.get("adambench.created", c.get("date", "?")), machine, c.get("adambench.threads", "?"), build


KINDS = {"speed": parse_speed}
SCHEMAS = {"speed": schema_of}
UNTAGGED = {"speed": (is_speed, "kind 'speed' without Google Benchmark's 'benchmarks' list")}
CONTEXT = {"speed": context_of}
RANK = 3  # the verdict line and the colours: after agreement and convergence
IMPL_NAMES = {"speed": lambda res: [r["impl"] for r in res["rows"] if r["impl"] != "probe"]}


# ----------------------------------------------------------------------------------------------- tables

# A row above this fraction of the limit is a measurement problem (bench/runners: limit_tolerance).
OVER_LIMIT = 1.03


def speed_table(speed):
    """Rows per implementation benchmark with medians and fraction of the probe."""
    multi = len(speed) > 1
    probes = {}
    rows = []
    for res in speed:
        src = os.path.basename(os.path.dirname(os.path.abspath(res["path"]))) if multi else ""
        for r in res["rows"]:
            if r["impl"] == "probe" and r["reps"]:
                probes[(src, r["shape"], r["threads"], r["variant"])] = float(np.median([x["params_per_second"] for x in r["reps"]]))
    for res in speed:
        src = os.path.basename(os.path.dirname(os.path.abspath(res["path"]))) if multi else ""
        for r in res["rows"]:
            row = dict(r, src=src)
            if r["reps"]:
                t = np.array([x["time_us"] for x in r["reps"]])
                pps = np.array([x["params_per_second"] for x in r["reps"]])
                bps = np.array([x["bytes_per_second"] for x in r["reps"]])
                row.update(t_med=float(np.median(t)), t_lo=float(t.min()), t_hi=float(t.max()),
                           gbs=float(np.median(bps)) / 1e9 if np.isfinite(bps).all() else math.nan)
                # The probe of the same shape, threads and access pattern (28 B or 36 B/param).
                # (GPU bench: the probe of the same precision pattern, named like the implementation's.)
                nbytes = "36B" if "+ams" in r["variant"] else "28B"
                p = probes.get((src, r["shape"], r["threads"], r["variant"])) or probes.get((src, r["shape"], r["threads"], nbytes))
                if r["impl"] != "probe" and p and np.isfinite(pps).all():
                    fr = pps / p
                else:
                    fr = np.array([x["probe_fraction"] for x in r["reps"]])
                if r["impl"] != "probe" and np.isfinite(fr).all():
                    med = float(np.median(fr))
                    # Above the limit is a measurement problem, never a result (the harness's own rule,
                    # applied here too for files that do not carry the flag): no fraction is shown.
                    if r.get("over_limit") or med > OVER_LIMIT:
                        row.update(over_limit=True, frac_flagged=med)
                    else:
                        row.update(frac=med, frac_lo=float(fr.min()), frac_hi=float(fr.max()))
            rows.append(row)
    return rows


def speed_rows_table(rows):
    head = ["benchmark", "params", "tensors", "time/step (median)", "GB/s", "fraction of probe"]
    out = []
    for r in rows:
        if r.get("error"):
            out.append([r["name"], "-", "-", "error: " + r["error"], "-", "-"])
            continue
        if "t_med" not in r:
            continue
        fr = (f"{r['frac']:.1%} ({r['frac_lo']:.0%}–{r['frac_hi']:.0%})" if "frac" in r
              else f"⚠ {r['frac_flagged']:.0%}: above the limit, a measurement problem (not a result)" if r.get("over_limit")
              else "limit" if r["impl"] == "probe" else "-")
        out.append([r["name"] + (f" [{r['src']}]" if r["src"] else ""), human_count(r["numel"]) if r["numel"] else "-",
                    r["tensors"] or "-", human_time_us(r["t_med"]), f"{r['gbs']:.1f}" if math.isfinite(r.get("gbs", math.nan)) else "-", fr])
    return head, out


# ----------------------------------------------------------------------------------------------- figures

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
    layout(fig, shared_legend(fig, [ax_t, ax_f], top=False))
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


# ----------------------------------------------------------------------------------------------- section and verdict

def speed_section(data, colors):
    items = []
    if not data["speed"]:
        return "Speed", [note("No speed results (Google Benchmark speed.json) were given: speed figures are omitted.")]
    rows = speed_table(data["speed"])
    llc = None
    for res in data["speed"]:
        try:
            llc = int(res["context"].get("adambench.last_level_cache_bytes"))
        except (TypeError, ValueError, OverflowError):
            pass
    f = fig_speed_size(rows, colors, llc)
    if f is not None:
        items.append(("fig", Figure("speed-size", "Step time and fraction of the limit against tensor size",
                                    "One flat fp32 tensor of each size. The limit is the in-run bandwidth probe: "
                                    "Adam's memory traffic (read p, g, m, v; write p, m, v) with no arithmetic, on the "
                                    "same sizes and threads. Small sizes fit in cache, so the probe runs faster there. Rows above "
                                    "103% of the limit are measurement problems and are left out of the fraction panel (listed below).",
                                    render(f, "speed-size"))))
    else:
        items.append(note("The speed results hold no flat-buffer benchmarks: step time against tensor size is omitted."))
    f = fig_speed_models(rows, colors)
    if f is not None:
        items.append(("fig", Figure("speed-models", "Fraction of the limit per model shape list",
                                    "Each model's real parameter tensor shapes, stepped together; fraction of the probe's "
                                    "parameters per second on the same shapes.", render(f, "speed-models"))))
    else:
        items.append(note("The speed results hold no model shape lists: the per-model bar chart is omitted."))
    flagged = [r["name"] + (f" [{r['src']}]" if r["src"] else "") for r in rows if r.get("over_limit")]
    if flagged:
        items.append(note(f"⚠ {len(flagged)} benchmark{'s' if len(flagged) > 1 else ''} measured above 103% of the memory-bandwidth "
                          "limit: a measurement problem (the probe's rounds were slowed, or the cache held the working set), "
                          "not a result. Their fractions are not shown in any figure; rerun on a quieter machine: "
                          + ", ".join(flagged) + "."))
    h, trows = speed_rows_table(rows)
    items.append(("table", "All benchmarks (median over repetitions)", h, trows))
    return "Speed", items


SECTIONS = [speed_section]


def speed_part(data):
    rows = [r for res in data["speed"] for r in res["rows"]]
    errors = sum(1 for r in rows if r.get("error"))
    return Part([], [(errors, "speed benchmark error", "speed benchmark errors")],
                [(len(rows) - errors, "speed benchmarks")], [], [])


VERDICT_PARTS = [speed_part]
