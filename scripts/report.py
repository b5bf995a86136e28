#!/usr/bin/python3
"""Report generator: adambench results -> one self-contained HTML page, a Markdown summary, SVG figures.

    /usr/bin/python3 scripts/report.py RESULTS... --out DIR

RESULTS are result files or folders of them (searched recursively for *.json):
  agree.json     `adambench agree --out`      (schema_version 1, kind "agree")
  speed.json     `adambench speed --out`      (Google Benchmark's JSON: context + benchmarks[])
  converge.json  `adambench converge --out`   (schema_version 1, kind "converge"; curves/*.csv beside it)
Any subset of the kinds may be given; sections without inputs are left out with a note.

Writes DIR/index.html (opens offline: figures are inline SVG, no external CSS/JS/fonts),
DIR/summary.md and DIR/fig-*.svg (the same figures, for the Markdown). Every file is written to a
temporary name and renamed, so a reader never sees half a report.

Exit codes: 0 written, 2 bad input (one line on stderr naming the file and what is wrong).
Runs with Debian's python3-matplotlib and python3-numpy (docs/reports.md).
"""
import argparse
import csv
import html
import io
import json
import math
import os
import re
import sys
from collections import Counter, OrderedDict, defaultdict

import numpy as np
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter  # noqa: E402

SCHEMA_VERSION = 1


class InputError(Exception):
    """Bad input: reported as one line on stderr, exit code 2."""


# ---------------------------------------------------------------------------------------------
# Loading

def _fail(path, what):
    raise InputError(f"{path}: {what}")


def _need(obj, key, types, path, where):
    if not isinstance(obj, dict) or key not in obj:
        _fail(path, f"malformed {where}: missing '{key}'")
    v = obj[key]
    if not isinstance(v, types) or isinstance(v, bool) and bool not in (types if isinstance(types, tuple) else (types,)):
        _fail(path, f"malformed {where}: '{key}' has the wrong type ({type(v).__name__})")
    return v


def _num(v):
    """A JSON number or null -> float (NaN for null/absent)."""
    if isinstance(v, bool) or v is None:
        return math.nan
    if isinstance(v, (int, float)):
        return float(v)
    return math.nan


def collect_files(inputs):
    """Expands folders into the *.json files under them (sorted, so the report is deterministic)."""
    files = []
    for p in inputs:
        if os.path.isdir(p):
            found = []
            for root, dirs, names in os.walk(p):
                dirs.sort()
                found += [os.path.join(root, n) for n in sorted(names) if n.endswith(".json") and not n.startswith(".")]
            if not found:
                _fail(p, "no result files (*.json) in this folder")
            files += found
        elif os.path.isfile(p):
            files.append(p)
        else:
            _fail(p, "no such file or folder")
    seen, out = set(), []
    for f in files:
        k = os.path.realpath(f)
        if k not in seen:
            seen.add(k)
            out.append(f)
    return out


def load_json(path):
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        _fail(path, f"cannot read: {e.strerror}")
    if not data.strip():
        _fail(path, "empty file")
    try:
        return json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        _fail(path, "not a text file (not UTF-8): not an adambench result")
    except json.JSONDecodeError as e:
        _fail(path, f"not valid JSON (truncated or corrupt?): {e.msg} at line {e.lineno} column {e.colno}")


def classify(j, path):
    """'agree' | 'converge' | 'speed', or InputError for anything else."""
    if isinstance(j, dict) and "kind" in j:
        kind = j.get("kind")
        if kind not in ("agree", "converge", "speed"):
            _fail(path, f"unknown result kind {kind!r} (this report reads agree, speed and converge results)")
        sv = j.get("schema_version")
        if sv != SCHEMA_VERSION:
            _fail(path, f"{kind} result with schema_version {sv!r}; this report reads schema_version {SCHEMA_VERSION}")
        if kind == "speed":
            _fail(path, "kind 'speed' without Google Benchmark's 'benchmarks' list")
        return kind
    if isinstance(j, dict) and "benchmarks" in j and "context" in j:
        return "speed"
    _fail(path, "not an adambench result (expected agree.json, converge.json or Google Benchmark speed JSON)")


def parse_agree(j, path):
    results = _need(j, "results", list, path, "agree result")
    rows = []
    for i, r in enumerate(results):
        where = f"agree result results[{i}]"
        impl = _need(r, "impl", str, path, where)
        verdict = _need(r, "verdict", str, path, where)
        if verdict not in ("pass", "fail", "skip", "error"):
            _fail(path, f"malformed {where}: unknown verdict {verdict!r}")
        checks = r.get("checks", [])
        if not isinstance(checks, list):
            _fail(path, f"malformed {where}: 'checks' is not a list")
        pts = []
        for k, c in enumerate(checks):
            step = _need(c, "step", int, path, f"{where}.checks[{k}]")
            # Error in units of the bound: worst over parameters and all state (the tolerance applies to
            # each). ULP: parameters only, since m and v pass near zero, where ULP distances are huge
            # and meaningless.
            err_u, ulp = 0.0, 0.0
            for part in ("params", "m", "v", "max_v"):
                s = c.get(part)
                if isinstance(s, dict):
                    e = _num(s.get("max_err_u"))
                    err_u = max(err_u, 0.0 if math.isnan(e) else e)
                    if part == "params":
                        u = _num(s.get("max_ulp"))
                        ulp = max(ulp, 0.0 if math.isnan(u) else u)
            pts.append((step, err_u, ulp, _num(c.get("tolerance_u")), bool(c.get("ok", True))))
        rows.append({
            "case": str(r.get("case", "?")), "impl": impl, "dtype": str(r.get("dtype", "?")), "seed": r.get("seed"),
            "verdict": verdict, "reason": str(r.get("reason", "") or ""), "first_mismatch": r.get("first_mismatch"),
            "checks": pts,
        })
    return {"path": path, "context": j.get("context", {}), "suite": j.get("suite", ""), "results": rows}


_NAME_SUFFIXES = ("real_time", "process_time", "manual_time")


def parse_bench_name(name):
    """'eigen/adam/flat_1M/threads:2/real_time' -> impl, variant, shape, threads.
    'probe/28B/flat_1M/threads:2/real_time'  -> impl 'probe', variant '28B'."""
    parts = [p for p in name.split("/") if p]
    while parts and (parts[-1] in _NAME_SUFFIXES or re.fullmatch(r"(min_time|min_warmup_time|repeats|iterations):.*", parts[-1])):
        parts.pop()
    threads = None
    rest = []
    for p in parts:
        m = re.fullmatch(r"threads:(\d+)", p)
        if m:
            threads = int(m.group(1))
        else:
            rest.append(p)
    impl = rest[0] if rest else name
    variant = rest[1] if len(rest) > 2 else ""
    shape = rest[-1] if len(rest) >= 2 else ""
    return impl, variant, shape, threads


_SUFFIX = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}


def numel_of(shape, label):
    m = re.search(r"(\d+) params in (\d+) tensors", label or "")
    if m:
        return int(m.group(1)), int(m.group(2))
    m = re.fullmatch(r"flat_(\d+)([KMG]?)", shape)
    if m:
        return int(m.group(1)) * _SUFFIX[m.group(2)], 1
    m = re.fullmatch(r"flat_(\d+)\^(\d+)", shape)  # adambench-gpu-bench: flat_2^20
    if m:
        return int(m.group(1)) ** int(m.group(2)), 1
    return None, None


def parse_speed(j, path):
    benches = _need(j, "benchmarks", list, path, "Google Benchmark JSON")
    ctx = j.get("context", {})
    if not isinstance(ctx, dict):
        _fail(path, "malformed Google Benchmark JSON: 'context' is not an object")
    runs = OrderedDict()  # run_name -> dict
    for i, b in enumerate(benches):
        where = f"benchmarks[{i}]"
        name = _need(b, "name", str, path, where)
        run_name = b.get("run_name", name)
        if not isinstance(run_name, str):
            _fail(path, f"malformed {where}: 'run_name' is not a string")
        e = runs.setdefault(run_name, {"reps": [], "agg": {}, "error": None, "label": "", "params": None})
        if b.get("error_occurred"):
            e["error"] = str(b.get("error_message", "error"))
            continue
        unit = b.get("time_unit", "ns")
        scale = {"ns": 1e-3, "us": 1.0, "ms": 1e3, "s": 1e6}.get(unit)
        if scale is None:
            _fail(path, f"malformed {where}: unknown time_unit {unit!r}")
        t = _num(b.get("real_time"))
        if math.isnan(t):
            _fail(path, f"malformed {where}: 'real_time' missing or not a number")
        # adambench speed's counters; adambench-gpu-bench (docs/cuda.md) names them items_per_second
        # and fraction_of_probe.
        pps = _num(b.get("params_per_second", b.get("items_per_second")))
        rec = {"time_us": t * scale, "params_per_second": pps, "bytes_per_second": _num(b.get("bytes_per_second")),
               "probe_fraction": _num(b.get("probe_fraction", b.get("fraction_of_probe")))}
        if isinstance(b.get("params"), int) and not isinstance(b.get("params"), bool):
            e["params"] = b["params"]
        e["label"] = b.get("label", e["label"]) or e["label"]
        if b.get("run_type") == "aggregate":
            e["agg"][str(b.get("aggregate_name", ""))] = rec
        else:
            e["reps"].append(rec)
    rows = []
    for run_name, e in runs.items():
        impl, variant, shape, threads = parse_bench_name(run_name)
        numel, tensors = numel_of(shape, e["label"])
        if e["params"]:
            numel = e["params"]
            m = re.search(r"(\d+) tensors", e["label"] or "")
            tensors = tensors or (int(m.group(1)) if m else None)
        reps = e["reps"] or ([e["agg"]["median"]] if "median" in e["agg"] else [])
        rows.append({"name": run_name, "impl": impl, "variant": variant, "shape": shape, "threads": threads,
                     "numel": numel, "tensors": tensors, "reps": reps, "error": e["error"] if not reps else None})
    return {"path": path, "context": ctx, "rows": rows}


def parse_converge(j, path):
    runs = _need(j, "runs", list, path, "converge result")
    base = os.path.dirname(os.path.abspath(path))
    out = []
    for i, r in enumerate(runs):
        where = f"converge result runs[{i}]"
        impl = _need(r, "impl", str, path, where)
        case = _need(r, "case", str, path, where)
        verdict = _need(r, "verdict", str, path, where)
        batch = r.get("batch_size")
        curve = None
        rel = r.get("curve_csv")
        if rel:
            curve = read_curve(os.path.join(base, rel), path)
        tgt = r.get("target") if isinstance(r.get("target"), dict) else None
        out.append({"case": case, "impl": impl, "verdict": verdict, "reason": str(r.get("reason", "") or ""),
                    "batch": int(batch) if isinstance(batch, (int, float)) and not isinstance(batch, bool) else None,
                    "seed": r.get("seed"), "workload": str(r.get("workload", "")),
                    "steps_to_target": _num(r.get("steps_to_target")), "diverged_at": _num(r.get("diverged_at_step")),
                    "target": tgt, "curve": curve, "final": r.get("final") if isinstance(r.get("final"), dict) else {}})
    aggs = []
    for i, a in enumerate(j.get("aggregates", []) or []):
        if not isinstance(a, dict):
            _fail(path, f"malformed converge result aggregates[{i}]: not an object")
        st = a.get("steps_to_target")
        med, lo, hi = math.nan, math.nan, math.nan
        if isinstance(st, dict):
            med = _num(st.get("median"))
            ci = st.get("ci95")
            if isinstance(ci, list) and len(ci) == 2:
                lo, hi = _num(ci[0]), _num(ci[1])
        aggs.append({"case": str(a.get("case", "?")), "impl": str(a.get("impl", "?")), "batch": a.get("batch_size"),
                     "has_target": isinstance(st, dict), "steps": med, "lo": lo, "hi": hi, "seeds": a.get("seeds"),
                     "failure_rate": _num(a.get("failure_rate")), "final_val_loss": a.get("final_val_loss"),
                     "final_val_acc": a.get("final_val_acc")})
    return {"path": path, "context": j.get("context", {}), "suite": j.get("suite", ""), "runs": out, "aggregates": aggs}


CURVE_COLUMNS = ("step", "epoch", "lr", "train_loss", "val_loss", "val_acc", "wall_s")


def read_curve(csv_path, owner):
    try:
        with open(csv_path, newline="") as f:
            rd = csv.reader(f)
            header = next(rd, None)
            if header is None:
                _fail(csv_path, "empty curve file")
            missing = [c for c in ("step", "val_loss") if c not in header]
            if missing:
                _fail(csv_path, f"curve CSV without column(s) {', '.join(missing)} (expected {','.join(CURVE_COLUMNS)})")
            idx = {c: header.index(c) for c in CURVE_COLUMNS if c in header}
            cols = {c: [] for c in idx}
            for n, row in enumerate(rd, start=2):
                if not row:
                    continue
                if len(row) != len(header):
                    _fail(csv_path, f"line {n}: {len(row)} fields, header has {len(header)}")
                for c, k in idx.items():
                    s = row[k].strip()
                    try:
                        cols[c].append(float(s) if s else math.nan)
                    except ValueError:
                        _fail(csv_path, f"line {n}: {c} {s!r} is not a number")
    except FileNotFoundError:
        _fail(owner, f"curve file {csv_path} is missing")
    except OSError as e:
        _fail(csv_path, f"cannot read: {e.strerror}")
    return {c: np.array(v, dtype=float) for c, v in cols.items()}


def load_inputs(inputs):
    data = {"agree": [], "speed": [], "converge": []}
    for path in collect_files(inputs):
        j = load_json(path)
        kind = classify(j, path)
        data[kind].append({"agree": parse_agree, "speed": parse_speed, "converge": parse_converge}[kind](j, path))
    return data


# ---------------------------------------------------------------------------------------------
# Figures

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


def human_count(x, _pos=None):
    if x <= 0 or not math.isfinite(x):
        return ""
    for div, suf in ((1e9, "G"), (1e6, "M"), (1e3, "K")):
        if x >= div:
            v = x / div
            return f"{v:.0f}{suf}" if v >= 10 or v == int(v) else f"{v:.1f}{suf}"
    return f"{x:.0f}"


def human_time_us(x, _pos=None):
    if x <= 0 or not math.isfinite(x):
        return ""
    if x >= 1e6:
        return f"{x / 1e6:.3g} s"
    if x >= 1e3:
        return f"{x / 1e3:.3g} ms"
    if x >= 1:
        return f"{x:.3g} µs"
    return f"{x * 1e3:.3g} ns"


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
    fig.suptitle("Agreement with the float64 reference: worst error against steps taken", fontsize=11.5)
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
                if r["numel"] is None and np.isfinite(pps).all() and (pps > 0).all():
                    row["numel"] = int(round(float(np.median(pps * t * 1e-6))))
                # The probe of the same shape, threads and access pattern (28 B or 36 B/param).
                # (GPU bench: the probe of the same precision pattern, named like the implementation's.)
                nbytes = "36B" if "+ams" in r["variant"] else "28B"
                p = probes.get((src, r["shape"], r["threads"], r["variant"])) or probes.get((src, r["shape"], r["threads"], nbytes))
                if r["impl"] != "probe" and p and np.isfinite(pps).all():
                    fr = pps / p
                else:
                    fr = np.array([x["probe_fraction"] for x in r["reps"]])
                if r["impl"] != "probe" and np.isfinite(fr).all():
                    row.update(frac=float(np.median(fr)), frac_lo=float(fr.min()), frac_hi=float(fr.max()))
            rows.append(row)
    return rows


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
    fig, (ax_t, ax_f) = plt.subplots(1, 2, figsize=(11, 4.5))
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
    ax_f.legend(loc="best", frameon=False)
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
    ax_t.legend(loc="upper left", frameon=False)
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
    fig.tight_layout()
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


def _layout(fig, legend_entries=0, title=True):
    """tight_layout leaving room (in inches) for a suptitle above and a shared legend below."""
    h = fig.get_figheight()
    bottom = (0.12 + 0.24 * _legend_rows(legend_entries)) / h if legend_entries else 0
    fig.tight_layout(rect=(0, bottom, 1, 1))  # tight_layout makes room for the suptitle itself


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
    order = list(colors.known)
    for ax, ((case, batch), impls) in zip(axes.flat, panels.items()):
        target = None
        lows, highs, starts = [], [], []
        diverged = []
        names = sorted(impls, key=lambda i: order.index(i) if i in order else 99)
        for rank, impl in enumerate(names):
            runs = impls[impl]
            steps = sorted({float(s) for r in runs for s in r["curve"]["step"]})
            ys = np.full((len(runs), len(steps)), np.nan)
            pos = {s: i for i, s in enumerate(steps)}
            for k, r in enumerate(runs):
                for s, v in zip(r["curve"]["step"], r["curve"]["val_loss"]):
                    ys[k, pos[float(s)]] = v if math.isfinite(v) else np.nan
                if r["target"] and r["target"].get("metric") == "val_loss":
                    target = _num(r["target"].get("value"))
                if math.isfinite(r["diverged_at"]):
                    diverged.append((impl, r["diverged_at"]))
            x = np.array(steps)
            cnt = np.isfinite(ys).sum(axis=0)
            with np.errstate(all="ignore"):
                med = np.array([np.nanmedian(ys[:, i]) if cnt[i] else np.nan for i in range(len(steps))])
                lo = np.array([np.nanmin(ys[:, i]) if cnt[i] else np.nan for i in range(len(steps))])
                hi = np.array([np.nanmax(ys[:, i]) if cnt[i] else np.nan for i in range(len(steps))])
            c = colors(impl)
            # Implementations that agree draw identical curves: earlier ones wider and underneath, so
            # each stays visible as a stripe.
            lw = max(1.2, 4.6 - 2.0 * rank)
            ls = (0, (2, 1.5)) if impl == "sgd-momentum" else "-"
            seeds = f"{len(runs)} seed{'s' if len(runs) > 1 else ''}"
            ax.plot(x, med, color=c, lw=lw, ls=ls, label=f"{impl}", zorder=3 + rank)
            if len(runs) > 1:
                ax.fill_between(x, lo, hi, color=c, alpha=0.15, lw=0, zorder=1)
            ok = np.isfinite(med)
            if ok.any():
                starts.append(med[ok][0])
            lows += list(lo[np.isfinite(lo)])
            highs += list(hi[np.isfinite(hi)])
        if target is not None and math.isfinite(target):
            ax.axhline(target, color="#444", ls="--", lw=1, zorder=2)
            ax.annotate(f"target {target:g}", xy=(1, target), xycoords=("axes fraction", "data"), xytext=(-4, 3),
                        textcoords="offset points", ha="right", fontsize=8, color="#444")
            lows.append(target)
        # The y range: the curves that train, not an exploding one (marked with x at the top instead).
        lo_y = min(lows) if lows else 1e-3
        hi_y = max(starts) * 1.6 if starts else (max(highs) if highs else 1.0)
        if lo_y > 0 and hi_y / lo_y > 20:
            ax.set_yscale("log")
            ax.set_ylim(lo_y / 1.5, hi_y)
        else:
            ax.set_ylim(min(0.0, lo_y), hi_y * 1.05)
        for impl, d in diverged:
            ax.plot([d], [ax.get_ylim()[1]], marker="x", color=colors(impl), ms=9, mew=2.2, clip_on=False, zorder=10,
                    label="diverged (step of the blow-up)")
        if diverged:
            ax.annotate("× diverged", xy=(max(d for _, d in diverged), ax.get_ylim()[1]), xytext=(6, -10),
                        textcoords="offset points", fontsize=8, color="#a00")
        ax.set_title(f"{case}" + (f" · batch {batch}" if batch is not None else "") + f" · {seeds}")
        ax.set_xlabel("optimizer step")
        ax.set_ylabel("validation loss")
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    nleg = _shared_legend(fig, list(axes.flat)[:n], top=False)
    fig.suptitle("Validation loss per implementation: median over seeds, band = range over seeds", fontsize=11.5)
    _layout(fig, nleg)
    return fig, note


def fig_steps_to_target(conv, colors):
    pts = defaultdict(lambda: defaultdict(list))  # case -> impl -> [(batch, med, lo, hi)]
    for res in conv:
        for a in res["aggregates"]:
            if a["has_target"] and isinstance(a["batch"], (int, float)):
                pts[a["case"]][a["impl"]].append((float(a["batch"]), a["steps"], a["lo"], a["hi"]))
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
    fig.suptitle("Steps to target against batch size: median over seeds, bars = bootstrap 95% interval", fontsize=11.5)
    _layout(fig, nleg)
    return fig


# ---------------------------------------------------------------------------------------------
# Tables (rows of cells; rendered to HTML and Markdown)

def agree_verdicts(agree):
    counts = OrderedDict()
    reasons = OrderedDict()
    failures = []
    for res in agree:
        for r in res["results"]:
            c = counts.setdefault(r["impl"], Counter())
            c[r["verdict"]] += 1
            if r["verdict"] == "skip":
                reasons.setdefault(r["impl"], Counter())[r["reason"] or "(no reason given)"] += 1
            if r["verdict"] in ("fail", "error"):
                what = r["reason"]
                fm = r["first_mismatch"]
                if not what and isinstance(fm, dict):
                    what = ", ".join(f"{k}={v}" for k, v in fm.items() if not isinstance(v, (dict, list)))
                elif not what and fm is not None:
                    what = str(fm)
                failures.append([r["impl"], r["case"], r["dtype"], r["verdict"], what or "-"])
    head = ["implementation", "pass", "fail", "error", "skip", "skip reasons"]
    rows = []
    for impl, c in counts.items():
        rs = "; ".join(f"{why} (×{n})" for why, n in reasons.get(impl, Counter()).most_common())
        rows.append([impl, c["pass"], c["fail"], c["error"], c["skip"], rs or "-"])
    return head, rows, failures


def converge_verdicts(conv):
    counts = OrderedDict()
    notes = OrderedDict()
    for res in conv:
        for r in res["runs"]:
            counts.setdefault(r["impl"], Counter())[r["verdict"]] += 1
            if r["verdict"] != "ok" and r["reason"]:
                notes.setdefault(r["impl"], Counter())[f"{r['verdict']}: {r['reason']}" if r["verdict"] != "skip" else r["reason"]] += 1
            if r["verdict"] == "ok" and r["target"] and not math.isfinite(r["steps_to_target"]):
                counts[r["impl"]]["missed"] += 1
    head = ["implementation", "ok", "target missed", "diverged", "error", "skip", "reasons"]
    rows = []
    for impl, c in counts.items():
        rs = "; ".join(f"{why} (×{n})" for why, n in notes.get(impl, Counter()).most_common(4))
        rows.append([impl, c["ok"], c["missed"], c["diverged"], c["error"], c["skip"], rs or "-"])
    return head, rows


def converge_aggregate_table(conv):
    def ci(d, digits=4):
        if not isinstance(d, dict):
            return "-"
        m = _num(d.get("median"))
        lo, hi = (_num(x) for x in (d.get("ci95") or [None, None])[:2]) if isinstance(d.get("ci95"), list) else (math.nan, math.nan)
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


def speed_rows_table(rows):
    head = ["benchmark", "params", "tensors", "time/step (median)", "GB/s", "fraction of probe"]
    out = []
    for r in rows:
        if r.get("error"):
            out.append([r["name"], "-", "-", "error: " + r["error"], "-", "-"])
            continue
        if "t_med" not in r:
            continue
        fr = f"{r['frac']:.1%} ({r['frac_lo']:.0%}–{r['frac_hi']:.0%})" if "frac" in r else ("limit" if r["impl"] == "probe" else "-")
        out.append([r["name"] + (f" [{r['src']}]" if r["src"] else ""), human_count(r["numel"]) if r["numel"] else "-",
                    r["tensors"] or "-", human_time_us(r["t_med"]), f"{r['gbs']:.1f}" if math.isfinite(r.get("gbs", math.nan)) else "-", fr])
    return head, out


# ---------------------------------------------------------------------------------------------
# Output

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


def html_table(head, rows):
    out = ["<table><thead><tr>" + "".join(f"<th>{html.escape(str(h))}</th>" for h in head) + "</tr></thead><tbody>"]
    for r in rows:
        out.append("<tr>" + "".join(f"<td{_cell_class(v, head[i])}>{html.escape(str(v))}</td>" for i, v in enumerate(r)) + "</tr>")
    out.append("</tbody></table>")
    return "\n".join(out)


def md_escape(v):
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


def build_report(data, title):
    colors = Colors()
    for kind in ("agree", "converge", "speed"):  # stable colours: order of first appearance
        for res in data[kind]:
            for r in res.get("results", res.get("runs", res.get("rows", []))):
                if r["impl"] != "probe":
                    colors(r["impl"])
    sections = []  # (title, [("fig", Figure) | ("html", str, md) | ("note", text)])

    def note(text):
        return ("note", text)

    with matplotlib.rc_context(STYLE):
        # Convergence
        items = []
        if data["converge"]:
            f, extra = fig_loss_curves(data["converge"], colors)
            if f is not None:
                items.append(("fig", Figure("loss-curves", "Loss curves", "Validation loss against optimizer steps; the line is the "
                                            "median over seeds and the band the range over seeds (× = diverged there). "
                                            "Same initial weights and data order for every implementation at a given seed, so "
                                            "implementations that agree draw the same curve: they show as nested stripes, "
                                            "earlier ones wider." + extra,
                                            render(f, "loss-curves"))))
            else:
                items.append(note("The convergence results hold no curves (no curve CSV files): loss curves are omitted."))
            f = fig_steps_to_target(data["converge"], colors)
            if f is not None:
                items.append(("fig", Figure("steps-to-target", "Steps to target against batch size",
                                            "Median steps to reach the case's target over seeds with the bootstrap 95% interval "
                                            "(points offset sideways a little so equal results stay visible); ▲ marks a batch size "
                                            "whose median run never reached the target; the dashed line is perfect scaling (twice "
                                            "the batch, half the steps).",
                                            render(f, "steps-to-target"))))
            else:
                items.append(note("No convergence case has a target: steps-to-target against batch size is omitted."))
            h, rows = converge_verdicts(data["converge"])
            items.append(("table", "Verdicts per implementation (one run = one case, batch size and seed)", h, rows))
            h, rows = converge_aggregate_table(data["converge"])
            if rows:
                items.append(("table", "Per case and batch size (median over seeds [bootstrap 95% interval])", h, rows))
        else:
            items.append(note("No convergence results (converge.json) were given: loss curves and steps-to-target are omitted."))
        sections.append(("Convergence", items))

        # Speed
        items = []
        if data["speed"]:
            rows = speed_table(data["speed"])
            llc = None
            for res in data["speed"]:
                try:
                    llc = int(res["context"].get("adambench.last_level_cache_bytes"))
                except (TypeError, ValueError):
                    pass
            f = fig_speed_size(rows, colors, llc)
            if f is not None:
                items.append(("fig", Figure("speed-size", "Step time and fraction of the limit against tensor size",
                                            "One flat fp32 tensor of each size. The limit is the in-run bandwidth probe: "
                                            "Adam's memory traffic (read p, g, m, v; write p, m, v) with no arithmetic, on the "
                                            "same sizes and threads. Small sizes fit in cache, so the probe runs faster there; a value above 1.0 "
                                            "means the probe's own repetitions were slowed by noise in that run.",
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
            h, trows = speed_rows_table(rows)
            items.append(("table", "All benchmarks (median over repetitions)", h, trows))
        else:
            items.append(note("No speed results (Google Benchmark speed.json) were given: speed figures are omitted."))
        sections.append(("Speed", items))

        # Agreement
        items = []
        if data["agree"]:
            f = fig_agree_error(data["agree"], colors)
            if f is not None:
                items.append(("fig", f))
            else:
                items.append(note("The agreement results hold no checks (every case skipped): the error figure is omitted."))
            h, rows, failures = agree_verdicts(data["agree"])
            items.append(("table", "Verdicts per implementation (one result = one case, dtype and seed)", h, rows))
            if failures:
                items.append(("table", "Failed cases", ["implementation", "case", "dtype", "verdict", "reason / first mismatch"], failures))
        else:
            items.append(note("No agreement results (agree.json) were given: the agreement error figure and verdicts are omitted."))
        sections.append(("Agreement", items))
    # Is it right, is it fast, does it train: correctness first.
    return [sections[2], sections[1], sections[0]]


def atomic_write(path, data):
    tmp = os.path.join(os.path.dirname(path), f".{os.path.basename(path)}.tmp{os.getpid()}")
    mode = "wb" if isinstance(data, bytes) else "w"
    try:
        with open(tmp, mode, **({} if mode == "wb" else {"encoding": "utf-8", "newline": "\n"})) as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.remove(tmp)
        except OSError:
            pass
        raise


def write_report(data, out, title):
    sections = build_report(data, title)
    try:
        os.makedirs(out, exist_ok=True)
    except OSError as e:
        raise InputError(f"--out {out}: {e.strerror}")
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


def main(argv=None):
    ap = argparse.ArgumentParser(prog="report.py", description=__doc__.split("\n\n")[0])
    ap.add_argument("results", nargs="+", metavar="RESULTS", help="result files or folders of them")
    ap.add_argument("--out", required=True, metavar="DIR", help="folder for index.html, summary.md and fig-*.svg")
    ap.add_argument("--title", default="adambench report", help="page title")

    def error(msg):  # one line, exit 2, like the rest of the harness
        print(f"report: {msg}", file=sys.stderr)
        sys.exit(2)

    ap.error = error
    args = ap.parse_args(argv)
    try:
        data = load_inputs(args.results)
        figs = write_report(data, args.out, args.title)
    except InputError as e:
        print(f"report: {e}", file=sys.stderr)
        return 2
    kinds = ", ".join(f"{len(v)} {k}" for k, v in data.items() if v)
    print(f"report: {kinds} result file(s) -> {os.path.join(args.out, 'index.html')}, summary.md, {len(figs)} figure(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
