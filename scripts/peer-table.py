#!/usr/bin/python3
"""Eigen against DeepSpeed's CPU Adam and torch's fused CPU Adam, from N whole runs (docs/speed.md).

    scripts/peer-table.py [--build build-torch] [--runs 5] [--out DIR] [--threads 2] [--algo adam,adamw]
                          [--flat 10..26] [--models resnet50,...] [--min-time 0.3] [--repetitions 3]
    scripts/peer-table.py --from DIR         # only the table, from the runs already in DIR

Runs `adambench speed` N times, each a whole run of the grid (probe, libtorch-fused, deepspeed-cpu,
eigen on every shape, thread count and algorithm, interleaved shape by shape), one after the other,
into DIR/run-K/speed.json; then prints the Markdown table: per row the median over runs of each
run's median Gparam/s, Eigen's fraction of the probe, and Eigen ÷ DeepSpeed and Eigen ÷ fused
computed inside each run, as the median over runs (min..max over runs). The load average before
each run goes to DIR/load.txt and into the table's head: the figures mean something only on a
quiet machine.

The targets (issue 22): Eigen >= 1.0x DeepSpeed and >= 1.0x fused on every row (the median over
runs), Eigen >= 95% of the probe at 1 thread and >= 90% at 2 threads on working sets above the
last-level cache. Missed targets are listed under the table.

Exit: 0 every target held, 1 a target missed (a row where a peer did not run counts as missed),
2 bad arguments, 3 no run to summarise, 4 a run failed or the build is missing, 130 interrupted
(the runs already done stay; running the same command again goes on from there).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

PEERS = ("deepspeed-cpu", "libtorch-fused")
SHIPPED_MODELS = ["resnet50", "bert_base", "gpt2_small", "llama2_7b_layer", "many_small"]


def parse_flat(s):
    if ".." in s:
        a, b = s.split("..")
        return list(range(int(a), int(b) + 1))
    return [int(x) for x in s.split(",") if x]


def suite_text(a):
    models = [m for m in a.models.split(",") if m]
    return "\n".join([
        "# Written by scripts/peer-table.py",
        "[speed]",
        f"impls = {json.dumps(['eigen', *PEERS])}",
        f"flat = {json.dumps(parse_flat(a.flat))}",
        f"models = {json.dumps(models)}",
        f"algo = {json.dumps(a.algo.split(','))}",
        f"threads = {json.dumps(list(range(1, a.threads + 1)))}",
        f"repetitions = {a.repetitions}",
        f"min_time = {a.min_time}",
        f"warmup_time = {a.warmup_time}",
        "",
    ])


def run_all(a):
    adambench = os.path.join(a.build, "adambench")
    if not os.access(adambench, os.X_OK):
        print(f"peer-table: no {adambench} (build it: ADAMBENCH_TORCH=pypi scripts/setup.sh)", file=sys.stderr)
        sys.exit(4)
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "suite.toml"), "w") as f:
        f.write(suite_text(a))
    for k in range(1, a.runs + 1):
        run_dir = os.path.join(a.out, f"run-{k}")
        if os.path.exists(os.path.join(run_dir, "speed.json")):
            continue  # a rerun after an interruption keeps what was measured
        load = os.getloadavg()
        with open(os.path.join(a.out, "load.txt"), "a") as f:
            f.write(f"run-{k} start {time.strftime('%H:%M:%S')} load {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}\n")
        print(f"peer-table: run {k}/{a.runs} (load average {load[0]:.2f})", file=sys.stderr, flush=True)
        cmd = [adambench, "--threads", str(a.threads), "speed", os.path.join(a.out, "suite.toml"), "--out", run_dir]
        with open(os.path.join(a.out, f"run-{k}.log"), "w") as log:
            rc = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT).returncode
        if rc == 130:
            print(f"peer-table: interrupted in run {k}; runs 1..{k - 1} are in {a.out}", file=sys.stderr)
            sys.exit(130)
        if rc != 0:
            print(f"peer-table: run {k} failed (exit {rc}); see {a.out}/run-{k}.log", file=sys.stderr)
            sys.exit(4)


def load_runs(out):
    runs = []
    for name in sorted(os.listdir(out), key=lambda n: (len(n), n)):
        p = os.path.join(out, name, "speed.json")
        if name.startswith("run-") and os.path.isfile(p):
            with open(p) as f:
                runs.append(json.load(f))
    return runs


def spread(xs):
    return statistics.median(xs), min(xs), max(xs)


def fmt_ratio(xs, pct=False):
    if not xs:
        return "-"
    m, lo, hi = spread(xs)
    if pct:
        return f"{100 * m:.1f}% ({100 * lo:.1f}..{100 * hi:.1f})"
    return f"{m:.3f}× ({lo:.3f}..{hi:.3f})"


def fmt_bytes(b):
    if b is None:
        return "-"
    if b >= 1 << 20:
        return f"{b / (1 << 20):.3g} MiB"
    if b >= 1 << 10:
        return f"{b / (1 << 10):.3g} KiB"
    return f"{int(b)} B"


def table(runs):
    """Markdown lines and the missed targets, from whole runs' speed.json."""
    llc = int(runs[0]["context"].get("adambench.last_level_cache_bytes", "0") or 0)
    # (shape, threads, algo) -> impl -> [per-run rate]; per-run ratios kept paired by run
    cells, order, extra, params = {}, [], {}, {}
    for run in runs:
        rows = run["adambench_rows"]
        probe = {(r["shape"], r["threads"]): r for r in rows if r["impl"] == "probe"}
        by = {}
        for r in rows:
            if r["impl"] == "probe":
                continue
            key = (r["shape"], r["threads"], r["algo"])
            by.setdefault(key, {})[r["impl"]] = r
        for key, impls in by.items():
            if key not in cells:
                cells[key] = {"probe": [], "eigen": [], "frac": [], **{p: [] for p in PEERS}, **{f"vs {p}": [] for p in PEERS}}
                order.append(key)
            c = cells[key]
            pr = probe.get(key[:2])
            e = impls.get("eigen")
            if pr:
                c["probe"].append(pr["params_per_second"]["median"])
            if e:
                c["eigen"].append(e["params_per_second"]["median"])
                params[key] = e["params"]
                if pr:
                    c["frac"].append(e["params_per_second"]["median"] / pr["params_per_second"]["median"])
            for p in PEERS:
                if p in impls:
                    c[p].append(impls[p]["params_per_second"]["median"])
                    extra.setdefault((key, p), impls[p].get("extra_bytes_per_step"))
                    if e:
                        c[f"vs {p}"].append(e["params_per_second"]["median"] / impls[p]["params_per_second"]["median"])
            if e:
                extra.setdefault((key, "eigen"), e.get("extra_bytes_per_step"))
    g = lambda xs: f"{statistics.median(xs) / 1e9:.3f}" if xs else "-"
    lines = [
        "| shape | thr | algo | probe | Eigen | Eigen, of probe | DeepSpeed | fused | Eigen ÷ DeepSpeed | Eigen ÷ fused | extra/step: Eigen, DeepSpeed, fused |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    missed = []
    for key in order:
        shape, thr, algo = key
        c = cells[key]
        cached = llc > 0 and params.get(key, 0) * 16 <= llc
        name = shape + (" *" if cached else "")
        ex = ", ".join(fmt_bytes(extra.get((key, i))) for i in ("eigen", *PEERS))
        lines.append(f"| {name} | {thr} | {algo} | {g(c['probe'])} | {g(c['eigen'])} | {fmt_ratio(c['frac'], True)} | "
                     f"{g(c['deepspeed-cpu'])} | {g(c['libtorch-fused'])} | {fmt_ratio(c['vs deepspeed-cpu'])} | "
                     f"{fmt_ratio(c['vs libtorch-fused'])} | {ex} |")
        for p in PEERS:
            xs = c[f"vs {p}"]
            if not xs:
                missed.append(f"{shape} {thr} thread(s) {algo}: no Eigen ÷ {p} (a row did not run)")
            elif statistics.median(xs) < 1.0:
                missed.append(f"{shape} {thr} thread(s) {algo}: Eigen ÷ {p} = {statistics.median(xs):.3f} < 1.0")
        if not cached and c["frac"]:
            goal = 0.95 if thr == 1 else 0.90
            f = statistics.median(c["frac"])
            if f < goal:
                missed.append(f"{shape} {thr} thread(s) {algo}: Eigen at {100 * f:.1f}% of the probe < {100 * goal:.0f}%")
    return lines, missed, llc


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="build-torch")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--out", default="peer-table")
    ap.add_argument("--from", dest="from_dir")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--algo", default="adam,adamw")
    ap.add_argument("--flat", default="10..26")
    ap.add_argument("--models", default=",".join(SHIPPED_MODELS))
    ap.add_argument("--repetitions", type=int, default=3)
    ap.add_argument("--min-time", type=float, default=0.3)
    ap.add_argument("--warmup-time", type=float, default=0.1)
    try:
        a = ap.parse_args()
        parse_flat(a.flat)
    except (SystemExit, ValueError) as e:
        if isinstance(e, SystemExit) and e.code == 0:
            raise
        print("peer-table: bad arguments (see --help)", file=sys.stderr)
        sys.exit(2)
    out = a.from_dir or a.out
    try:
        if not a.from_dir:
            run_all(a)
        runs = load_runs(out) if os.path.isdir(out) else []
    except KeyboardInterrupt:
        print(f"peer-table: interrupted; the finished runs stay in {out}", file=sys.stderr)
        sys.exit(130)
    if not runs:
        print(f"peer-table: no run-K/speed.json in {out}: nothing to summarise", file=sys.stderr)
        sys.exit(3)
    lines, missed, llc = table(runs)
    loads = [r["context"].get("load_avg", [None])[0] for r in runs]
    ctx = runs[0]["context"]
    print(f"{len(runs)} whole runs of `adambench speed` ({ctx.get('adambench.machine.cpu', ctx.get('host_name', '?'))}); "
          f"load average (1 min) at each run's end: {', '.join(f'{x:.2f}' for x in loads if x is not None)}.")
    print("Gparam/s: the median over runs of each run's median; ratios: computed inside each run, median over runs (min..max).")
    print(f"* the working set (16 B/param) fits in the last-level cache ({llc >> 20} MiB).\n")
    print("\n".join(lines))
    if missed:
        print(f"\nTargets missed ({len(missed)}):")
        for m in missed:
            print(f"- {m}")
        sys.exit(1)
    print("\nEvery target held.")


if __name__ == "__main__":
    main()
