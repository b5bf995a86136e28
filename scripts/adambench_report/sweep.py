"""Sweep results (`adambench sweep`, kind "sweep"): the sensitivity section of the report.

Draws, from sweep.json (docs/tuning.md):
  - the metric against each swept factor (log axis where the factor spans decades; band = range over
    seeds; × = diverged), one figure per factor: fig-sweep-FACTOR;
  - the lr × batch-size heatmap, diverged cells shown as such: fig-sweep-heatmap;
  - the best lr per batch size with the fitted exponent against linear (1) and square-root (0.5)
    scaling: fig-sweep-lr-scaling;
  - the generalisation gap of Adam + L2, AdamW and SGD-momentum at matched settings: fig-sweep-gap;
  - where implementations part ways: the largest cross-implementation difference in outcome over
    the sweep against the drift at the defaults: fig-sweep-impl-spread;
  - the claims table (claim, verdict, effect, interval), each claim linked to its figure.

Input (what parse_sweep reads; extra fields are ignored):
  {"kind": "sweep", "schema_version": 1, "context": {...}, "base": {FACTOR: value, ...},
   "metric": "val_loss",                                  (optional: the metric the figures use)
   "points": [{"impl": "eigen", "workload": "mlp", "study": "lr-batch" (optional grouping),
               "base": {FACTOR: value} (optional: the study's base, when it differs from the top-level one),
               "factors": {"lr": 0.01, "batch_size": 32, "algo": "adam", ...},
               "varied": ["lr"],                          (optional: factors changed from the base)
               "runs": [{"seed": 0, "final": {"train_loss": .., "val_loss": .., "val_acc": ..},
                         "gap": .., "steps_to_target": .., "diverged_at_step": null | step}, ...]}],
   "claims": [{"id": .., "claim": .., "compare": .., "metric": .., "effect": .., "ci95": [lo, hi],
               "verdict": "holds here" | "does not hold here" | "inconclusive", "rule": ..,
               "factor": "eps" | "figure": "sweep-eps"}]}
A point's factors may also be under "hparams" or "config" (an object), or be its own top-level
fields; a point may be one run (with "seed" and "final") instead of holding "runs": runs of the same
workload, study, implementation and factors are pooled (so shards merge).
"""
import math
from collections import OrderedDict

import numpy as np
from matplotlib.colors import LogNorm, Normalize

from .common import fail, num, short
from .figures import Figure, log_labels, plt, render

# The tuning playbook's order (lr first, then β1, eps, β2), then the rest; unknown factors follow, sorted.
FACTOR_ORDER = ("lr", "beta1", "eps", "beta2", "weight_decay", "algo", "schedule", "warmup", "batch_size")
FACTOR_LABEL = {"lr": "learning rate", "beta1": "β1", "beta2": "β2", "eps": "eps", "weight_decay": "weight decay",
                "algo": "algorithm", "schedule": "schedule", "warmup": "warmup steps", "batch_size": "batch size"}
VERDICTS = ("holds here", "does not hold here", "inconclusive")
ALGO_LABEL = {"adam": "Adam", "adamw": "AdamW", "sgd-momentum": "SGD-momentum", "sgd_momentum": "SGD-momentum"}
# A point's own fields that are not factors (when its factors are top-level fields).
NOT_FACTORS = {"impl", "workload", "case", "study", "experiment", "varied", "runs", "seed", "seeds", "final", "gap", "point",
               "id", "name", "steps_to_target", "wall_to_target_s", "time_to_target_s", "diverged", "diverged_at_step",
               "verdict", "reason", "curve_csv", "curve_digest", "summary", "aggregates", "config_text", "steps_done",
               "steps_budget", "train_seconds", "eval_seconds", "optimizer_seconds", "optimizer_share", "samples_per_s",
               "final_val_loss", "final_train_loss", "final_val_acc", "failure_rate", "tensorboard"}


# ----------------------------------------------------------------------------------------------- parsing

def _value(v, path, where):
    """A factor value, canonical so that equal settings compare equal: float (12 significant digits), str, bool."""
    if isinstance(v, bool) or isinstance(v, str):
        return v
    if isinstance(v, (int, float)) and math.isfinite(v):
        return float(f"{float(v):.12g}")
    fail(path, f"malformed {where}: factor value {short(v)} is not a number, string or bool")


def _factors(p, path, where):
    for key in ("factors", "settings", "hparams", "config"):
        if isinstance(p.get(key), dict):
            src = p[key]
            break
    else:
        src = {k: v for k, v in p.items() if k not in NOT_FACTORS and isinstance(v, (int, float, str, bool))}
    if not src:
        fail(path, f"malformed {where}: no factors (expected 'factors': {{\"lr\": ..., ...}})")
    return {str(k): _value(v, path, f"{where} factor '{k}'") for k, v in src.items()}


def _run(r, path, where):
    if not isinstance(r, dict):
        fail(path, f"malformed {where}: not an object")
    fin = r.get("final") if isinstance(r.get("final"), dict) else {}
    # Either {"final": {"val_loss": ..}} (converge.json's runs) or flat "final_val_loss" (adambench sweep's runs).
    train, val, acc = (num(fin.get(m, r.get(f"final_{m}", r.get(m)))) for m in ("train_loss", "val_loss", "val_acc"))
    gap = num(r.get("gap", r.get("generalisation_gap", r.get("generalization_gap"))))
    if math.isnan(gap) and math.isfinite(train) and math.isfinite(val):
        gap = val - train
    div_step = num(r.get("diverged_at_step"))
    diverged = (r.get("diverged") is True or r.get("verdict") == "diverged" or math.isfinite(div_step)
                or not math.isfinite(val))
    seed = r.get("seed")
    return {"seed": seed if isinstance(seed, (int, str)) and not isinstance(seed, bool) else None,
            "train_loss": train, "val_loss": val, "val_acc": acc, "gap": gap, "diverged": diverged,
            "diverged_at_step": div_step, "steps_to_target": num(r.get("steps_to_target")),
            "time_to_target_s": num(r.get("time_to_target_s", r.get("wall_to_target_s")))}


def parse_sweep(j, path):
    points = j.get("points")
    if not isinstance(points, list):
        fail(path, "malformed sweep result: missing 'points' list")
    base = j.get("base") if isinstance(j.get("base"), dict) else {}
    base = {str(k): _value(v, path, f"sweep result base '{k}'") for k, v in base.items()
            if isinstance(v, (int, float, str, bool)) and not (isinstance(v, float) and not math.isfinite(v))}
    rows = OrderedDict()
    for i, p in enumerate(points):
        where = f"sweep result points[{i}]"
        if not isinstance(p, dict):
            fail(path, f"malformed {where}: not an object")
        impl = p.get("impl")
        if not isinstance(impl, str) or not impl:
            fail(path, f"malformed {where}: missing 'impl'")
        factors = _factors(p, path, where)
        workload = str(p.get("workload", p.get("case", "")))
        study = str(p.get("study", p.get("experiment", ""))) or workload
        if isinstance(p.get("runs"), list):
            # Runs that errored, were skipped or interrupted have no outcome: they are left out, not
            # counted as diverged.
            runs = [_run(r, path, f"{where} runs[{k}]") for k, r in enumerate(p["runs"])
                    if not (isinstance(r, dict) and r.get("verdict") in ("error", "skip", "interrupted"))]
        elif "final" in p or "val_loss" in p:
            runs = [_run(p, path, where)]
        else:
            fail(path, f"malformed {where}: no 'runs' (per-seed results) and no 'final' metrics")
        varied = p.get("varied")
        varied = [str(v) for v in varied] if isinstance(varied, list) else ([] if p.get("is_base") is True else None)
        key = (study, workload, impl, tuple(sorted(factors.items(), key=lambda kv: kv[0])))
        pbase = p.get("base") if isinstance(p.get("base"), dict) else {}
        pbase = {str(k): _value(v, path, f"{where} base '{k}'") for k, v in pbase.items()}
        row = rows.setdefault(key, {"study": study, "workload": workload, "impl": impl, "factors": factors,
                                    "varied": varied, "base": pbase, "runs": []})
        row["runs"] += runs
    claims = []
    for i, c in enumerate(j.get("claims", []) or []):
        where = f"sweep result claims[{i}]"
        if not isinstance(c, dict):
            fail(path, f"malformed {where}: not an object")
        verdict = c.get("verdict")
        if verdict not in VERDICTS:
            fail(path, f"malformed {where}: verdict {short(verdict)} is not one of {', '.join(VERDICTS)}")
        effect = c.get("effect")
        ci = c.get("ci95", c.get("interval"))
        if isinstance(effect, dict):  # adambench sweep: {"median", "ci95": [lo, hi]}
            ci = effect.get("ci95", ci)
            effect = effect.get("median")
        lo, hi = (num(ci[0]), num(ci[1])) if isinstance(ci, list) and len(ci) == 2 else (math.nan, math.nan)
        claims.append({"id": str(c.get("id", c.get("name", f"claim {i + 1}"))),
                       "claim": str(c.get("claim", c.get("advice", c.get("id", "")))),
                       "compare": str(c.get("compare", c.get("compared", ""))), "metric": str(c.get("metric", "")),
                       "effect": num(effect), "lo": lo, "hi": hi, "verdict": verdict, "study": c.get("study"),
                       "kind": c.get("kind"), "a": c.get("a"), "b": c.get("b"), "why": str(c.get("why", "")),
                       "interval_method": str(c.get("interval_method", c.get("method", ""))),
                       "rule": str(c.get("rule", j.get("verdict_rule", ""))), "factor": c.get("factor"),
                       "figure": c.get("figure")})
    metric = str(j.get("metric", "val_loss")).replace("final_", "")
    metric = metric if metric in ("val_loss", "train_loss", "val_acc") else "val_loss"
    return {"path": path, "context": j.get("context", {}), "base": base, "metric": metric,
            "rows": list(rows.values()), "claims": claims}


KINDS = {"sweep": parse_sweep}
SCHEMAS = {"sweep": "sweep.schema.json"}


# ----------------------------------------------------------------------------------------------- statistics

def point_stat(row, metric):
    """(median, lo, hi, seeds, diverged seeds): median and range over the seeds that did not diverge.
    The point counts as diverged (median NaN) when half or more of its seeds diverged."""
    runs = row["runs"]
    ok = [r[metric] for r in runs if not r["diverged"] and math.isfinite(r[metric])]
    ndiv = sum(1 for r in runs if r["diverged"])
    if not ok or 2 * ndiv >= len(runs):
        return math.nan, math.nan, math.nan, len(runs), ndiv
    return float(np.median(ok)), min(ok), max(ok), len(runs), ndiv


def studies(sweeps):
    """study -> {"rows": [...], "base": {factor: value}, "swept": [factors with 2+ values, in order]}."""
    out = OrderedDict()
    for res in sweeps:
        for r in res["rows"]:
            s = out.setdefault(r["study"], {"rows": [], "given_base": dict(res["base"]), "metric": res["metric"]})
            s["rows"].append(r)
    for s in out.values():
        values = OrderedDict()
        for r in s["rows"]:
            if r.get("base") and not s.get("point_base"):
                s["point_base"] = r["base"]
            for f, v in r["factors"].items():
                values.setdefault(f, []).append(v)
        s["swept"] = sorted((f for f, vs in values.items() if len(set(vs)) > 1), key=factor_rank)
        base = {}
        explicit = [r for r in s["rows"] if r["varied"] == []]
        for f, vs in values.items():
            distinct = sorted(set(vs), key=sort_key)
            if explicit:
                base[f] = explicit[0]["factors"].get(f)
            elif f in s.get("point_base", {}) and s["point_base"][f] in distinct:
                base[f] = s["point_base"][f]
            elif f in s["given_base"] and s["given_base"][f] in distinct:
                base[f] = s["given_base"][f]
            else:  # the most common value; on a tie the middle one of the tied values
                counts = {v: vs.count(v) for v in distinct}
                top = [v for v in distinct if counts[v] == max(counts.values())]
                base[f] = top[(len(top) - 1) // 2]
        s["base"] = base
    return out


def factor_rank(f):
    return (FACTOR_ORDER.index(f), "") if f in FACTOR_ORDER else (len(FACTOR_ORDER), f)


def sort_key(v):
    return (0, v, "") if isinstance(v, float) else (1, 0.0, str(v))


def at_base_except(study, row, free):
    """True when the row's factors equal the study's base for every factor not in free."""
    return all(v == study["base"].get(f) for f, v in row["factors"].items() if f not in free)


def is_log_factor(values):
    nums = [v for v in values if isinstance(v, float)]
    return len(nums) == len(values) and min(nums) > 0 and max(nums) / min(nums) >= 100


def fmt_value(v):
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


def metric_label(metric):
    return {"val_loss": "final validation loss", "train_loss": "final training loss", "val_acc": "final validation accuracy"}[metric]


def impls_of(rows):
    out = []
    for r in rows:
        if r["impl"] not in out:
            out.append(r["impl"])
    return out


def seeds_note(rows):
    counts = sorted({len(r["runs"]) for r in rows})
    if not counts:
        return ""
    n = f"{counts[0]}" if len(counts) == 1 else f"{counts[0]}–{counts[-1]}"
    small = " (fewer than 5 seeds: the band is the observed range, not an interval)" if counts[0] < 5 else ""
    return f"Each band spans the range over the {n} seeds of its point{small}."


# ----------------------------------------------------------------------------------------------- figures

def factor_series(study, factor, metric):
    """impl -> [(value, median, lo, hi, seeds, diverged seeds)] along one factor, others at the base."""
    out = OrderedDict()
    for r in study["rows"]:
        if factor in r["factors"] and at_base_except(study, r, {factor}):
            out.setdefault(r["impl"], []).append((r["factors"][factor],) + point_stat(r, metric))
    for v in out.values():
        v.sort(key=lambda t: sort_key(t[0]))
    return out


def fig_factor(studs, factor, colors):
    panels = [(name, s) for name, s in studs.items() if factor in s["swept"]]
    panels = [(name, s, factor_series(s, factor, s["metric"])) for name, s in panels]
    panels = [p for p in panels if any(len(v) > 1 for v in p[2].values())]
    if not panels:
        return None, []
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels) + 0.6, 3.4), squeeze=False)
    rows_used = []
    for ax, (name, s, series) in zip(axes[0], panels):
        values = sorted({t[0] for ser in series.values() for t in ser}, key=sort_key)
        numeric = all(isinstance(v, float) for v in values)
        log_x = numeric and is_log_factor(values)
        pos = (lambda v: v) if numeric else (lambda v: values.index(v))
        finite = [t[1] for ser in series.values() for t in ser if math.isfinite(t[1])]
        for k, (impl, ser) in enumerate(series.items()):
            c = colors(impl)
            xs = np.array([pos(t[0]) for t in ser], dtype=float)
            if not numeric:  # categories: a small sideways offset per implementation keeps equal results visible
                xs = xs + 0.08 * (k - (len(series) - 1) / 2)
            med = np.array([t[1] for t in ser])
            lo, hi = np.array([t[2] for t in ser]), np.array([t[3] for t in ser])
            ax.plot(xs, med, "-o" if numeric else "o", color=c, ms=4, lw=1.4, label=impl)
            if numeric:
                ax.fill_between(xs, lo, hi, color=c, alpha=0.18, lw=0)
            else:
                ax.vlines(xs, lo, hi, color=c, lw=3, alpha=0.35)
            div = [x for x, t in zip(xs, ser) if not math.isfinite(t[1])]
            if div:  # drawn at the top of the finite values: a diverged point has no value to plot
                top = max(finite) if finite else 1.0
                ax.plot(div, [top] * len(div), "x", color=c, ms=9, mew=2, label=f"{impl} diverged", clip_on=False)
        for ser in series.values():
            rows_used += [t for t in ser]
        if log_x:
            ax.set_xscale("log")
            log_labels(ax.xaxis)
        if not numeric:
            ax.set_xticks(range(len(values)), [fmt_value(v) for v in values])
        if finite and min(finite) > 0 and max(finite) / min(finite) > 20:
            ax.set_yscale("log")
        b = s["base"].get(factor)
        if b is not None:
            ax.axvline(pos(b), color="#888", lw=0.8, ls=":")
        ax.set_xlabel(FACTOR_LABEL.get(factor, factor) + (" (log)" if log_x else ""))
        ax.set_ylabel(metric_label(s["metric"]))
        ax.set_title(name, fontsize=10)
    handles = OrderedDict()
    for ax in axes[0]:
        for h, l in zip(*ax.get_legend_handles_labels()):
            handles.setdefault(l, h)
    fig.legend(list(handles.values()), list(handles.keys()), loc="lower center", ncol=min(4, len(handles)), frameon=False,
               bbox_to_anchor=(0.5, 0.0))
    fig.tight_layout(rect=(0, 0.06 + 0.07 * ((len(handles) + 3) // 4), 1, 1))
    return fig, [r for _, s, _ in panels for r in s["rows"] if factor in r["factors"] and at_base_except(s, r, {factor})]


def grid_cells(study, impl, metric):
    """{(lr, batch): row} for the lr × batch-size grid of one implementation, other factors at the base."""
    return {(r["factors"]["lr"], r["factors"]["batch_size"]): r for r in study["rows"]
            if r["impl"] == impl and "lr" in r["factors"] and "batch_size" in r["factors"]
            and at_base_except(study, r, {"lr", "batch_size"})}


def grids(studs):
    """[(study name, study, impl, cells)] for studies that sweep lr and batch size over a 2+ × 2+ grid."""
    out = []
    for name, s in studs.items():
        if "lr" not in s["swept"] or "batch_size" not in s["swept"]:
            continue
        for impl in impls_of(s["rows"]):
            cells = grid_cells(s, impl, s["metric"])
            if len({k[0] for k in cells}) >= 2 and len({k[1] for k in cells}) >= 2:
                out.append((name, s, impl, cells))
    return out


def heatmap_matrix(cells, metric):
    """(lrs, batches, medians[b][l] (NaN: diverged), state[b][l]: 'ok' | 'diverged' | 'missing')."""
    lrs = sorted({k[0] for k in cells})
    bs = sorted({k[1] for k in cells})
    med = np.full((len(bs), len(lrs)), np.nan)
    state = [["missing"] * len(lrs) for _ in bs]
    for (lr, b), r in cells.items():
        m = point_stat(r, metric)[0]
        i, j = bs.index(b), lrs.index(lr)
        med[i, j] = m
        state[i][j] = "ok" if math.isfinite(m) else "diverged"
    return lrs, bs, med, state


def fig_heatmap(gs):
    shown = gs[:4]
    fig, axes = plt.subplots(1, len(shown), figsize=(4.6 * len(shown) + 0.8, 3.6), squeeze=False)
    for ax, (name, s, impl, cells) in zip(axes[0], shown):
        lrs, bs, med, state = heatmap_matrix(cells, s["metric"])
        fin = med[np.isfinite(med)]
        norm = LogNorm(fin.min(), fin.max()) if len(fin) and fin.min() > 0 and fin.max() > fin.min() else Normalize()
        # Better is always the bright end: low losses, high accuracies.
        cmap = "viridis" if s["metric"] == "val_acc" else "viridis_r"
        im = ax.imshow(np.ma.masked_invalid(med), cmap=cmap, norm=norm, aspect="auto", origin="lower")
        for i in range(len(bs)):
            for j in range(len(lrs)):
                if state[i][j] == "diverged":
                    ax.add_patch(plt.Rectangle((j - 0.5, i - 0.5), 1, 1, facecolor="#d9d9d9", edgecolor="#b2182b",
                                               hatch="xx", lw=0.8))
                    ax.text(j, i, "div.", ha="center", va="center", fontsize=7, color="#b2182b")
                elif state[i][j] == "missing":
                    ax.text(j, i, "–", ha="center", va="center", fontsize=8, color="#666")
                else:
                    v = med[i, j]
                    ax.text(j, i, f"{v:.3g}", ha="center", va="center", fontsize=7,
                            color="white" if norm(v) > 0.6 else "black")
        ax.set_xticks(range(len(lrs)), [f"{v:g}" for v in lrs], rotation=45, fontsize=8)
        ax.set_yticks(range(len(bs)), [f"{v:g}" for v in bs])
        ax.set_xlabel("learning rate")
        ax.set_ylabel("batch size")
        ax.grid(False)
        ax.set_title(f"{name} · {impl}", fontsize=10)
        fig.colorbar(im, ax=ax, label=metric_label(s["metric"]), shrink=0.85)
    fig.tight_layout()
    return fig


def best_lr(cells, metric, pick=None):
    """batch -> (best lr, its median) over the grid (NaN lr when every lr diverged at that batch).
    pick: optional resampled seed indices (same for every cell, so seed pairing across cells holds)."""
    out = {}
    for (lr, b), r in sorted(cells.items()):
        runs = r["runs"] if pick is None else [r["runs"][k] for k in pick if k < len(r["runs"])]
        m = point_stat({"runs": runs}, metric)[0]
        if metric == "val_acc":
            m = -m
        if math.isfinite(m) and (b not in out or m < out[b][1]):
            out[b] = (lr, m)
    return {b: (lr, -m if metric == "val_acc" else m) for b, (lr, m) in out.items()}


def fit_exponent(best):
    """Least-squares slope of log(best lr) on log(batch): the scaling exponent (NaN with < 2 batch sizes)."""
    pts = sorted((b, lr) for b, (lr, _m) in best.items())
    if len(pts) < 2:
        return math.nan
    x = np.log([p[0] for p in pts])
    y = np.log([p[1] for p in pts])
    return float(np.polyfit(x, y, 1)[0])


def scaling_fit(cells, metric, reps=400):
    """(best, exponent, lo, hi): the exponent with a 95% percentile bootstrap interval from resampling
    seeds (the same seeds in every cell), and best lr per batch size."""
    best = best_lr(cells, metric)
    k = fit_exponent(best)
    n = min(len(r["runs"]) for r in cells.values())
    if n < 2 or not math.isfinite(k):
        return best, k, math.nan, math.nan
    rng = np.random.default_rng(12345)  # fixed: the report is deterministic
    ks = []
    for _ in range(reps):
        kk = fit_exponent(best_lr(cells, metric, rng.integers(0, n, n)))
        if math.isfinite(kk):
            ks.append(kk)
    if len(ks) < reps // 2:
        return best, k, math.nan, math.nan
    return best, k, float(np.percentile(ks, 2.5)), float(np.percentile(ks, 97.5))


def scaling_verdict(k, lo, hi):
    if not math.isfinite(k):
        return "no fit (fewer than 2 batch sizes with a best lr)"
    near = "square-root (0.5)" if abs(k - 0.5) < abs(k - 1.0) else "linear (1)"
    if math.isfinite(lo):
        inside = [name for name, v in (("0.5", 0.5), ("1", 1.0)) if lo - 1e-9 <= v <= hi + 1e-9]
        if len(inside) == 1:
            return f"nearer {near}; the interval holds {inside[0]} only"
        if len(inside) == 2:
            return f"nearer {near}; the interval holds both 0.5 and 1 (inconclusive)"
        return f"nearer {near}; the interval holds neither 0.5 nor 1"
    return f"nearer {near} (one seed: no interval)"


def fig_lr_scaling(fits, colors):
    fig, ax = plt.subplots(figsize=(5.6, 3.8))
    allb = []
    for name, impl, best, k, lo, hi in fits:
        pts = sorted((b, v[0]) for b, v in best.items())
        if not pts:
            continue
        b = np.array([p[0] for p in pts])
        lr = np.array([p[1] for p in pts])
        allb += list(b)
        label = f"{name} · {impl}: exponent {k:.2f}" + (f" [{lo:.2f}, {hi:.2f}]" if math.isfinite(lo) else "")
        ax.plot(b, lr, "o", color=colors(impl), ms=6, label=label)
        if math.isfinite(k):
            c = np.exp(np.mean(np.log(lr)) - k * np.mean(np.log(b)))
            xs = np.geomspace(b.min(), b.max(), 20)
            ax.plot(xs, c * xs ** k, "-", color=colors(impl), lw=1.2)
    if allb:
        name, impl, best, k, lo, hi = fits[0]
        pts = sorted((b, v[0]) for b, v in best.items())
        b0, lr0 = pts[0]
        xs = np.geomspace(min(allb), max(allb), 20)
        ax.plot(xs, lr0 * (xs / b0), "--", color="#555", lw=1, label="linear scaling (exponent 1)")
        ax.plot(xs, lr0 * (xs / b0) ** 0.5, ":", color="#555", lw=1.2, label="square-root scaling (exponent 0.5)")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _p: f"{v:g}"))
    ax.set_xlabel("batch size")
    ax.set_ylabel("best learning rate on the grid")
    ax.legend(loc="upper left", fontsize=7.5, frameon=False)
    fig.tight_layout()
    return fig


def algo_label(algo, wd):
    name = ALGO_LABEL.get(str(algo), str(algo))
    if str(algo) == "adam" and isinstance(wd, float) and wd > 0:
        return "Adam + L2"
    return name


def gap_rows(studs):
    """[(study, impl, weight_decay, algo label, gap median, lo, hi, val median, seeds, algo)] at matched settings:
    every factor but algo and weight_decay at the study's base."""
    out = []
    for name, s in studs.items():
        if "algo" not in s["swept"]:
            continue
        for r in s["rows"]:
            if "algo" not in r["factors"] or not at_base_except(s, r, {"algo", "weight_decay"}):
                continue
            wd = r["factors"].get("weight_decay", 0.0)
            g = point_stat(r, "gap")
            v = point_stat(r, "val_loss")
            out.append((name, r["impl"], wd, algo_label(r["factors"]["algo"], wd), g[0], g[1], g[2], v[0], len(r["runs"]),
                        str(r["factors"]["algo"])))
    out.sort(key=lambda t: (t[0], t[1], sort_key(t[2]), t[3]))
    return out


def fig_gap(rows):
    studies_ = list(OrderedDict.fromkeys(r[0] for r in rows))
    first_impl = {s: next(r[1] for r in rows if r[0] == s) for s in studies_}
    fig, axes = plt.subplots(1, len(studies_), figsize=(4.8 * len(studies_) + 0.4, 3.5), squeeze=False)
    algo_colors = {"Adam": "#1f77b4", "Adam + L2": "#d62728", "AdamW": "#2ca02c", "SGD-momentum": "#ff7f0e"}
    for ax, st in zip(axes[0], studies_):
        sel = [r for r in rows if r[0] == st and r[1] == first_impl[st]]
        wds = sorted({r[2] for r in sel}, key=sort_key)
        algos = list(OrderedDict.fromkeys(r[9] for r in sel))  # one slot per algorithm; Adam's label says + L2
        w = 0.8 / max(1, len(algos))
        for a_i, a in enumerate(algos):
            for r in sel:
                if r[9] != a:
                    continue
                x = wds.index(r[2]) + (a_i - (len(algos) - 1) / 2) * w
                if math.isfinite(r[4]):
                    ax.bar(x, r[4], w * 0.9, color=algo_colors.get(r[3], "#7f7f7f"), label=r[3])
                    ax.vlines(x, r[5], r[6], color="black", lw=1)
                else:
                    ax.plot(x, 0, "x", color="#b2182b", ms=9, mew=2, label="diverged")
        ax.set_xticks(range(len(wds)), [fmt_value(v) for v in wds])
        ax.set_xlabel("weight decay")
        ax.set_ylabel("generalisation gap (val − train loss)")
        ax.axhline(0, color="#888", lw=0.6)
        ax.set_title(f"{st} · {first_impl[st]}", fontsize=10)
        h, l = ax.get_legend_handles_labels()
        seen = OrderedDict()
        for hh, ll in zip(h, l):
            seen.setdefault(ll, hh)
        ax.legend(list(seen.values()), list(seen.keys()), fontsize=7.5, frameon=False)
    fig.tight_layout()
    return fig


def impl_spread(studs):
    """[(study, setting text, is_base, spread, {impl: median}, note)]: for every setting run by 2+
    implementations, the largest relative difference in the metric between two implementations on
    the same seed (inf when one diverged and another did not on the same seed)."""
    out = []
    for name, s in studs.items():
        metric = s["metric"]
        by_setting = OrderedDict()
        for r in s["rows"]:
            by_setting.setdefault(tuple(sorted(r["factors"].items())), []).append(r)
        for setting, rows in by_setting.items():
            if len(rows) < 2:
                continue
            worst, note = 0.0, ""
            for i in range(len(rows)):
                for k in range(i + 1, len(rows)):
                    a = {r["seed"]: r for r in rows[i]["runs"]}
                    b = {r["seed"]: r for r in rows[k]["runs"]}
                    for seed in a.keys() & b.keys():
                        ra, rb = a[seed], b[seed]
                        if ra["diverged"] != rb["diverged"]:
                            worst = math.inf
                            note = f"{(rows[i] if ra['diverged'] else rows[k])['impl']} diverged at seed {seed}, " \
                                   f"{(rows[k] if ra['diverged'] else rows[i])['impl']} did not"
                        elif not ra["diverged"] and math.isfinite(ra[metric]) and math.isfinite(rb[metric]):
                            d = abs(ra[metric] - rb[metric]) / max(abs(ra[metric]), abs(rb[metric]), 1e-300)
                            if d > worst:
                                worst = d
            factors = dict(setting)
            varied = [f for f in s["swept"] if factors.get(f) != s["base"].get(f)]
            text = ", ".join(f"{f}={fmt_value(factors[f])}" for f in varied) or "defaults (base)"
            meds = {r["impl"]: point_stat(r, metric)[0] for r in rows}
            out.append((name, text, not varied, worst, meds, note))
    return out


def fig_impl_spread(spread):
    top = sorted((t for t in spread if not t[2]), key=lambda t: -t[3])[:12]
    bases = [t for t in spread if t[2]]
    shown = top + bases
    finite = [t[3] for t in shown if math.isfinite(t[3]) and t[3] > 0]
    floor = min(finite) / 10 if finite else 1e-17
    ceil = max(finite) * 10 if finite else 1.0
    fig, ax = plt.subplots(figsize=(7.0, 0.32 * len(shown) + 1.2))
    for y, t in enumerate(reversed(shown)):
        v = t[3]
        color = "#7f7f7f" if t[2] else ("#b2182b" if not math.isfinite(v) else "#1f77b4")
        width = ceil if not math.isfinite(v) else max(v, floor)
        ax.barh(y, width, color=color, height=0.7, left=0)
        label = "one diverged" if not math.isfinite(v) else ("identical" if v == 0 else f"{v:.2g}")
        ax.text(min(width, ceil), y, " " + label, va="center", fontsize=7.5)
    ax.set_yticks(range(len(shown)), [f"{t[0]}: {t[1]}" for t in reversed(shown)], fontsize=7.5)
    ax.set_xscale("log")
    ax.set_xlim(floor, ceil * 30)
    ax.set_xlabel("largest relative difference between implementations (same seed)")
    ax.grid(axis="y", visible=False)
    fig.tight_layout()
    return fig


# ----------------------------------------------------------------------------------------------- section

def fmt_num(v):
    return "—" if not isinstance(v, float) or not math.isfinite(v) else f"{v:.4g}"


def claim_figure(c, studs, figure_keys):
    """The key of the figure on this page that shows a claim's comparison, or None.
    In order: 'figure' naming a figure; lr-batch exponent claims -> the scaling figure; the factor
    it compares ('factor', else the first factor where settings 'a' and 'b' differ, else the first
    factor its study sweeps), the gap figure for gap claims about the algorithm or weight decay."""
    fig = c["figure"] if isinstance(c["figure"], str) else ""
    key = fig[4:] if fig.startswith("fig-") else fig
    if key in figure_keys:
        return key
    if c["kind"] == "lr_batch_exponent" or "exponent" in c["metric"]:
        return "sweep-lr-scaling" if "sweep-lr-scaling" in figure_keys else None
    study = studs.get(fig) or (studs.get(c["study"]) if isinstance(c["study"], str) else None)
    factor = c["factor"] if isinstance(c["factor"], str) else None
    if factor is None and isinstance(c["a"], dict) and isinstance(c["b"], dict):
        differ = sorted((f for f in set(c["a"]) | set(c["b"]) if c["a"].get(f) != c["b"].get(f)), key=factor_rank)
        factor = differ[0] if differ else None
    if factor is None and study is not None and study["swept"]:
        factor = study["swept"][0]
    if factor is None:
        return None
    if factor in ("algo", "weight_decay") and "gap" in c["metric"] and "sweep-gap" in figure_keys:
        return "sweep-gap"
    return f"sweep-{factor}" if f"sweep-{factor}" in figure_keys else None


def claims_table(sweeps, figure_keys, studs=None):
    """(head, rows, notes) of the claims table; each claim links (#fig-KEY) to the figure that shows
    it when that figure is on this page ('—' otherwise). Notes: the verdict rules and interval methods."""
    studs = studs if studs is not None else studies(sweeps)
    claims = [c for res in sweeps for c in res["claims"]]
    why = any(c["why"] for c in claims)
    head = ["claim", "compared", "metric", "effect", "interval", "verdict"] + (["why"] if why else []) + ["figure"]
    rows = []
    for c in claims:
        key = claim_figure(c, studs, figure_keys)
        interval = "—" if not math.isfinite(c["lo"]) else f"[{c['lo']:.4g}, {c['hi']:.4g}]"
        rows.append([c["claim"], c["compare"], c["metric"], fmt_num(c["effect"]), interval, c["verdict"]]
                    + ([c["why"]] if why else []) + [f"#fig-{key}" if key else "—"])
    notes = [f"Verdict rule: {r}" for r in sorted({c["rule"] for c in claims if c["rule"]})]
    notes += [f"Interval: {m}" for m in sorted({c["interval_method"] for c in claims if c["interval_method"]})]
    return head, rows, notes


def sweep_section(data, colors):
    sweeps = data.get("sweep", [])
    if not sweeps:
        return None
    studs = studies(sweeps)
    items, keys = [], set()
    all_rows = [r for s in studs.values() for r in s["rows"]]
    factors = sorted({f for s in studs.values() for f in s["swept"]}, key=factor_rank)
    if not factors:
        items.append(("note", "The sweep results vary no factor (every point has the same settings): no sensitivity figure."))
    for f in factors:
        fig, used = fig_factor(studs, f, colors)
        if fig is None:
            continue
        key = f"sweep-{f}"
        keys.add(key)
        log_x = is_log_factor(sorted({r["factors"][f] for r in used}, key=sort_key))
        items.append(("fig", Figure(key, f"{metric_label(next(iter(studs.values()))['metric']).capitalize()} against "
                                    f"{FACTOR_LABEL.get(f, f)}",
                                    "One panel per study that varies it; every other factor at the study's base (dotted "
                                    "line). The line is the median over seeds that did not diverge; × marks a point where "
                                    "half or more of the seeds diverged. " + seeds_note(used)
                                    + (" Log axis: the values span decades." if log_x else ""),
                                    render(fig, key))))
    gs = grids(studs)
    if gs:
        keys.add("sweep-heatmap")
        ndiv = sum(st == "diverged" for _n, s, _i, cells in gs[:4] for row in heatmap_matrix(cells, s["metric"])[3] for st in row)
        shown = "; ".join(f"{n} · {i}" for n, _s, i, _c in gs[:4]) + (f" (first 4 of {len(gs)} panels)" if len(gs) > 4 else "")
        items.append(("fig", Figure("sweep-heatmap", "Learning rate × batch size",
                                    f"Median {metric_label(gs[0][1]['metric'])} over seeds per cell (log colour scale); "
                                    f"hatched grey cells (div.) diverged (half or more of their seeds; {ndiv} cells over the panels); "
                                    f"– = not run. Panels: {shown}. "
                                    + seeds_note([r for g in gs for r in g[3].values()]),
                                    render(fig_heatmap(gs), "sweep-heatmap"))))
        fits = [(name, impl) + scaling_fit(cells, s["metric"]) for name, s, impl, cells in gs]
        keys.add("sweep-lr-scaling")
        items.append(("fig", Figure("sweep-lr-scaling", "Best learning rate per batch size",
                                    "The grid's best lr at each batch size (lowest median), with the least-squares fit "
                                    "of log lr on log batch; dashed: linear scaling (exponent 1), dotted: square-root "
                                    "scaling (0.5), both through the smallest batch's best lr. The exponent's interval "
                                    "is a 95% percentile bootstrap over seeds (400 resamples, the same seeds in every "
                                    "cell); the best lr is quantised to the grid, so the exponent is only as fine as it.",
                                    render(fig_lr_scaling(fits, colors), "sweep-lr-scaling"))))
        items.append(("table", "Learning-rate scaling with batch size",
                      ["study", "implementation", "best lr per batch size", "exponent", "95% interval", "verdict"],
                      [[name, impl, ", ".join(f"{b:g}: {v[0]:g}" for b, v in sorted(best.items())), fmt_num(k),
                        "—" if not math.isfinite(lo) else f"[{lo:.3g}, {hi:.3g}]", scaling_verdict(k, lo, hi)]
                       for name, impl, best, k, lo, hi in fits]))
    else:
        items.append(("note", "No study sweeps lr and batch size together: the heatmap and lr-scaling fit are omitted."))
    grows = gap_rows(studs)
    if grows:
        keys.add("sweep-gap")
        items.append(("fig", Figure("sweep-gap", "Generalisation gap per algorithm at matched settings",
                                    "Final validation minus training loss; every factor but the algorithm and weight decay "
                                    "at the study's base. Adam with weight decay is Adam + L2 (decay added to the gradient); "
                                    "AdamW decouples it. Bar: median over seeds, line: range over seeds. First "
                                    "implementation of each study shown; the table lists all.",
                                    render(fig_gap(grows), "sweep-gap"))))
        items.append(("table", "Generalisation gap at matched settings",
                      ["study", "implementation", "weight decay", "algorithm", "gap (median)", "gap range", "val loss", "seeds"],
                      [[r[0], r[1], fmt_value(r[2]), r[3], fmt_num(r[4]),
                        "—" if not math.isfinite(r[5]) else f"[{r[5]:.3g}, {r[6]:.3g}]", fmt_num(r[7]), r[8]] for r in grows]))
    else:
        items.append(("note", "No study varies the algorithm: the generalisation-gap comparison is omitted."))
    spread = impl_spread(studs)
    if spread:
        keys.add("sweep-impl-spread")
        base_txt = "; ".join(f"{t[0]}: {'identical' if t[3] == 0 else f'{t[3]:.2g}'}" for t in spread if t[2]) or "no base point"
        items.append(("fig", Figure("sweep-impl-spread", "Where implementations part ways",
                                    "Largest relative difference in the final metric between two implementations on the "
                                    "same seed, for the 12 settings where they differ most (blue; red: one diverged and "
                                    "another did not) and at the defaults (grey). Drift at the defaults: " + base_txt + ".",
                                    render(fig_impl_spread(spread), "sweep-impl-spread"))))
        worst = sorted((t for t in spread if not t[2]), key=lambda t: -t[3])[:10]
        base_of = {t[0]: t[3] for t in spread if t[2]}
        items.append(("table", "Largest cross-implementation differences",
                      ["study", "setting", "difference", "× drift at defaults", "median per implementation", "note"],
                      [[t[0], t[1], "one diverged" if not math.isfinite(t[3]) else f"{t[3]:.3g}",
                        ratio_text(t[3], base_of.get(t[0])), ", ".join(f"{i}: {fmt_num(v)}" for i, v in t[4].items()), t[5]]
                       for t in worst]))
    else:
        items.append(("note", "Every setting ran one implementation only: where implementations part ways is not measured."))
    head, rows, notes = claims_table(sweeps, keys, studs)
    if rows:
        items.append(("table", "Tuning advice: claims and verdicts (figure: the figure that shows each comparison)", head, rows))
        items += [("note", n) for n in notes]
    else:
        items.append(("note", "The sweep results hold no claims: the claims table is omitted."))
    if not all_rows:
        items.append(("note", "The sweep results hold no points."))
    return "Sensitivity", items


def ratio_text(v, base):
    if base is None:
        return "no base point"
    if not math.isfinite(v):
        return "—"
    if base == 0:
        return "defaults identical" if v > 0 else "1"
    return f"{v / base:.3g}"


SECTIONS = [sweep_section]
