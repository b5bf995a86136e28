"""Agreement results (`adambench agree`, kind "agree"): the report's Agreement section.

From agree.json (docs/tolerances.md):
  - the worst error against the number of steps taken, per implementation and dtype (params and all
    state in units of the error bound; parameters in ULP): fig-agree-error;
  - the verdicts per implementation with the skip reasons, and the failed cases;
  - its share of the verdict line: results checked (pass, fail, error), skips, failures, and the
    banner of an interrupted run.
"""
import math
from collections import Counter, OrderedDict, defaultdict

import numpy as np
from matplotlib.ticker import FuncFormatter, NullFormatter

from .common import fail, note, num, short
from .figures import Figure, layout, log_labels, plt, render, shared_legend, suptitle
from .load import need
from .verdict import Part, interrupted_banners


# ----------------------------------------------------------------------------------------------- parsing

def parse_agree(j, path):
    results = need(j, "results", list, path, "agree result")
    rows = []
    for i, r in enumerate(results):
        where = f"agree result results[{i}]"
        impl = need(r, "impl", str, path, where)
        verdict = need(r, "verdict", str, path, where)
        if verdict not in ("pass", "fail", "skip", "error"):
            fail(path, f"malformed {where}: unknown verdict {verdict!r}")
        checks = r.get("checks", [])
        if not isinstance(checks, list):
            fail(path, f"malformed {where}: 'checks' is not a list")
        pts = []
        for k, c in enumerate(checks):
            step = need(c, "step", int, path, f"{where}.checks[{k}]")
            if not 0 <= step <= 2 ** 53:
                fail(path, f"malformed {where}.checks[{k}]: step {short(step)} is not a step count")
            # Error in units of the bound: worst over parameters and all state (the tolerance applies to
            # each). ULP: parameters only, since m and v pass near zero, where ULP distances are huge
            # and meaningless.
            err_u, ulp = 0.0, 0.0
            for part in ("params", "m", "v", "max_v"):
                s = c.get(part)
                if isinstance(s, dict):
                    e = num(s.get("max_err_u"))
                    err_u = max(err_u, 0.0 if math.isnan(e) else e)
                    if part == "params":
                        u = num(s.get("max_ulp"))
                        ulp = max(ulp, 0.0 if math.isnan(u) else u)
            pts.append((step, err_u, ulp, num(c.get("tolerance_u")), bool(c.get("ok", True))))
        rows.append({
            "case": str(r.get("case", "?")), "impl": impl, "dtype": str(r.get("dtype", "?")), "seed": r.get("seed"),
            "verdict": verdict, "reason": str(r.get("reason", "") or ""), "first_mismatch": r.get("first_mismatch"),
            "checks": pts,
        })
    return {"path": path, "context": j.get("context", {}), "suite": j.get("suite", ""), "results": rows,
            "interrupted": j.get("interrupted") is True, "stopped_before": str(j.get("stopped_before", "") or "")}


KINDS = {"agree": parse_agree}
SCHEMAS = {"agree": "agree.schema.json"}
RANK = 1  # the verdict line and the colours take correctness first
IMPL_NAMES = {"agree": lambda res: [r["impl"] for r in res["results"]]}


# ----------------------------------------------------------------------------------------------- tables

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


# ----------------------------------------------------------------------------------------------- figures

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
        log_labels(ax.yaxis)
    nleg = shared_legend(fig, [axes[1]], top=False, ncol=math.ceil(len(worst) / len(dtypes)) if len(worst) <= 10 else None)
    suptitle(fig, "Agreement with the float64 reference: worst error against steps taken")
    layout(fig, nleg)
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


# ----------------------------------------------------------------------------------------------- section and verdict

def agreement_section(data, colors):
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
    return "Agreement", items


SECTIONS = [agreement_section]


def agree_part(data):
    n = {"pass": 0, "fail": 0, "error": 0, "skip": 0}
    banners = []
    for res in data["agree"]:
        for r in res["results"]:
            n[r["verdict"]] += 1
        banners += interrupted_banners(res, "agreement", "stopped_before")
    return Part([(n["pass"] + n["fail"] + n["error"], "agreement results")],
                [(n["fail"], "disagreement", "disagreements"), (n["error"], "agreement error", "agreement errors")],
                [], banners, [(n["skip"], "agreement results")])


VERDICT_PARTS = [agree_part]
