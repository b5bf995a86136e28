#!/usr/bin/python3
"""The counted gate beside the timed one, per planted regression and shape (docs/speed.md,
"Counted speed"): what each gate says about the same plants, and how the counted cost per step
relates to the timed one.

  scripts/count-vs-timed.py --count COUNT_POWER_OUT --timed TIMED_OUT [--bin build/adambench] [--json FILE]

COUNT_POWER_OUT is the folder of `scripts/count-power.sh` (base-1/count.json, plant-NAME-1/count.json).
TIMED_OUT holds `adambench ab` folders ab-NAME/ (a.json, b.json: the real build and the mutants binary
with ADAMBENCH_PLANT=NAME) and cal/baseline.json (`adambench calibrate` of the same suite: the noise
floors), as `scripts/gate-power.sh --plant NAME` writes them (its ab-1/ renamed ab-NAME/).

For every Eigen row both measured: the counted estimated cycles and DRAM bytes per step (plant over
base), the timed gate's verdict (`adambench compare --noise`, the gate CI would run) and the timed
ratio (median over runs of each run's median real time, plant over base). The correlation is
Pearson's r of the log ratios and Spearman's rank correlation, over all rows, and over the rows whose
working set is above the simulated last-level cache. Counted rows are one thread, timed rows as
timed (their thread count is part of the name): a shape's name without the thread count matches them.
"""
import argparse
import json
import math
import os
import re
import subprocess
import sys
from statistics import median


def shape_key(name):
    """eigen/adam/flat_1M/threads:2/real_time -> eigen/adam/flat_1M"""
    return "/".join(name.split("/")[:3])


def counted(path):
    rows = {}
    for r in json.load(open(path))["results"]:
        if r.get("verdict") == "counted" and r["impl"] == "eigen":
            rows[shape_key(r["name"])] = r
    return rows


def timed_medians(path):
    runs = {}
    for b in json.load(open(path))["benchmarks"]:
        if b.get("run_type") != "iteration" or not b["name"].startswith("eigen/"):
            continue
        runs.setdefault(b["name"], {}).setdefault(b.get("adambench_run", 1), []).append(b["real_time"])
    return {n: median(median(v) for v in per_run.values()) for n, per_run in runs.items()}


def verdicts(bin_, a, b, noise):
    out = subprocess.run([bin_, "compare", a, b, "--noise", noise], capture_output=True, text=True)
    if out.returncode not in (0, 1):
        sys.exit(f"count-vs-timed: compare {a} {b} exited {out.returncode}: {out.stderr.strip()}")
    v = {}
    for line in out.stdout.splitlines():
        m = re.match(r"^speed\s+(\S+)\s+(\S+)\s", line)
        if m:
            v[m.group(1)] = m.group(2)
    return v


def ranks(xs):
    order = sorted(range(len(xs)), key=lambda i: xs[i])
    r = [0.0] * len(xs)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and xs[order[j + 1]] == xs[order[i]]:
            j += 1
        for k in range(i, j + 1):
            r[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return r


def pearson(x, y):
    n = len(x)
    if n < 3:
        return float("nan")
    mx, my = sum(x) / n, sum(y) / n
    sxy = sum((a - mx) * (b - my) for a, b in zip(x, y))
    sxx = sum((a - mx) ** 2 for a in x)
    syy = sum((b - my) ** 2 for b in y)
    return sxy / math.sqrt(sxx * syy) if sxx > 0 and syy > 0 else float("nan")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--count", required=True)
    p.add_argument("--timed", required=True)
    p.add_argument("--bin", default="build/adambench")
    p.add_argument("--json")
    a = p.parse_args()
    for need in (os.path.join(a.count, "base-1", "count.json"), os.path.join(a.timed, "cal", "baseline.json")):
        if not os.path.isfile(need):
            print(f"count-vs-timed: {need}: no such file (see the usage above)", file=sys.stderr)
            sys.exit(2)
    base = counted(os.path.join(a.count, "base-1", "count.json"))
    noise = os.path.join(a.timed, "cal", "baseline.json")
    rows = []
    for d in sorted(os.listdir(a.timed)):
        if not d.startswith("ab-") or not os.path.exists(os.path.join(a.timed, d, "b.json")):
            continue
        plant = d[3:]
        cpath = os.path.join(a.count, f"plant-{plant}-1", "count.json")
        if not os.path.exists(cpath):
            print(f"count-vs-timed: {plant}: no counted run ({cpath}): left out", file=sys.stderr)
            continue
        cnt = counted(cpath)
        ta, tb = (timed_medians(os.path.join(a.timed, d, f)) for f in ("a.json", "b.json"))
        v = verdicts(a.bin, os.path.join(a.timed, d, "a.json"), os.path.join(a.timed, d, "b.json"), noise)
        for name in sorted(ta):
            k = shape_key(name)
            if name not in tb or k not in cnt or k not in base:
                continue
            c0, c1 = base[k], cnt[k]
            rows.append({
                "plant": plant, "benchmark": name, "fits_in_ll": c0["fits_in_ll"],
                "counted_cycles_ratio": c1["per_step"]["est_cycles"] / c0["per_step"]["est_cycles"],
                "counted_dram_ratio": (c1["per_step"]["dram_bytes"] / c0["per_step"]["dram_bytes"]) if c0["per_step"]["dram_bytes"] > 0 else None,
                "timed_ratio": tb[name] / ta[name],
                "timed_verdict": v.get(name, "unchanged"),
            })
    if not rows:
        sys.exit("count-vs-timed: no row measured by both gates")
    print(f"{'plant':<13} {'benchmark':<42} {'counted cycles':>14} {'timed':>7}  timed gate")
    for r in rows:
        fits = " (in LL)" if r["fits_in_ll"] else ""
        print(f"{r['plant']:<13} {r['benchmark']:<42} {r['counted_cycles_ratio']:>13.2f}x {r['timed_ratio']:>6.2f}x  {r['timed_verdict']}{fits}")
    summary = {}
    for label, sel in (("all", rows), ("above the simulated LL", [r for r in rows if not r["fits_in_ll"]])):
        x = [math.log(r["counted_cycles_ratio"]) for r in sel]
        y = [math.log(r["timed_ratio"]) for r in sel]
        summary[label] = {"rows": len(sel), "pearson_log": pearson(x, y), "spearman": pearson(ranks(x), ranks(y))}
        print(f"correlation, {label}: {len(sel)} rows, Pearson r of log ratios {summary[label]['pearson_log']:.2f}, "
              f"Spearman {summary[label]['spearman']:.2f}")
    for plant in sorted({r["plant"] for r in rows}):
        mine = [r for r in rows if r["plant"] == plant]
        hit = sum(r["timed_verdict"] == "regression" for r in mine)
        print(f"timed gate, {plant}: {hit} of {len(mine)} Eigen rows flagged as regressions")
    if a.json:
        tmp = a.json + ".tmp"
        with open(tmp, "w") as f:
            json.dump({"rows": rows, "correlation": summary}, f, indent=1)
        os.replace(tmp, a.json)


if __name__ == "__main__":
    main()
