"""Tables as rows of cells (rendered to HTML and Markdown by page.py), and the speed rows with
their medians and fraction of the probe, which both the figures and the tables use."""
import math
import os
from collections import Counter, OrderedDict

import numpy as np

from .common import human_count, human_time_us, num

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

