"""Counted speed (`adambench count`, kind "count"): the report's counted section.

Draws, from count.json (docs/speed.md, "Counted speed"):
  - simulated DRAM bytes per parameter against the algorithm's minimum (28 B, 36 B with amsgrad),
    per implementation and shape: fig-count-bytes;
  - instructions per parameter, per implementation and shape: fig-count-instructions;
  - a table of every counted benchmark (instructions, DRAM bytes and estimated cycles per step).
Counts come from Valgrind's simulation with a fixed cache model, at one thread: the same at any
load. A shape whose working set fits the simulated last-level cache moves about 0 DRAM bytes per
step; a figure below the minimum above the cache is a measurement problem, not a result.
"""
from collections import OrderedDict

from .common import human_count, num
from .figures import Figure, plt, render
from .verdict import Part


def parse_count(j, path):
    """count.json (already checked against schemas/count.schema.json) -> rows and the instrument."""
    rows = []
    for r in j["results"]:
        row = {"name": r["name"], "impl": r.get("impl", r["name"].split("/")[0]), "verdict": r["verdict"],
               "reason": str(r.get("reason", "")), "shape": r.get("shape", ""), "algo": r.get("algo", ""),
               "amsgrad": r.get("amsgrad") is True, "params": r.get("params")}
        if r["verdict"] == "counted":
            pp, ps = r["per_param"], r["per_step"]
            row.update(instr_pp=num(pp["instructions"]), bytes_pp=num(pp["dram_bytes"]), cycles_pp=num(pp["est_cycles"]),
                       cycles=num(ps["est_cycles"]), dram=num(ps["dram_bytes"]), instr=num(ps["instructions"]),
                       min_bpp=r["min_bytes_per_param"], fits=r["fits_in_ll"] is True, below=r["below_minimum"] is True)
        rows.append(row)
    c = j["counting"]
    ll = c["cache"]["LL"]
    return {"path": path, "context": j.get("context", {}), "suite": j.get("suite", ""), "rows": rows, "build": j["build"],
            "valgrind": c["valgrind"], "steps": c["steps"], "ll_bytes": ll["size"], "formula": c["est_cycles_formula"],
            "dram_rule": c["dram_bytes_rule"], "interrupted": j.get("interrupted") is True,
            "stopped_before": str(j.get("stopped_before", "") or ""), "planted": j.get("planted")}


KINDS = {"count": parse_count}
SCHEMAS = {"count": "count.schema.json"}


def _series(r):
    """The bar a row belongs to: implementation, algorithm and amsgrad (the probe: its bytes)."""
    if r["impl"] == "probe":
        return "probe" + (" (amsgrad)" if r["amsgrad"] else "")
    return f"{r['impl']} {r['algo']}" + ("+amsgrad" if r["amsgrad"] else "")


def bars(rows, colors, value, ylabel, title, minimum=False):
    """Grouped bars of one figure per shape (x) and implementation/algorithm (bars); None: nothing drawn."""
    shapes = list(OrderedDict.fromkeys(r["shape"] for r in rows))
    series = list(OrderedDict.fromkeys(_series(r) for r in rows))
    fig, ax = plt.subplots(figsize=(min(16, max(8.5, 3.0 + (0.4 * len(series) + 0.6) * len(shapes))), 4.6))
    width = 0.8 / len(series)
    for si, s in enumerate(series):
        xs, ys, impl = [], [], "probe"
        for xi, sh in enumerate(shapes):
            for r in rows:
                if r["shape"] == sh and _series(r) == s:
                    xs.append(xi - 0.4 + width * (si + 0.5))
                    ys.append(r[value])
                    impl = r["impl"]
        hatch = "///" if "amsgrad" in s else ""
        bars = ax.bar(xs, ys, width=width * 0.92, color=colors(impl), label=s, hatch=hatch, edgecolor="white", linewidth=0)
        for b, y in zip(bars, ys):
            ax.annotate(f"{y:.3g}", xy=(b.get_x() + b.get_width() / 2, y), xytext=(0, 2), textcoords="offset points",
                        ha="center", va="bottom", fontsize=7)
    if minimum:
        for m in sorted({r["min_bpp"] for r in rows}):
            ax.axhline(m, color="black", ls="--", lw=1.4, label=f"minimum traffic {m} B/param")
    labels = []
    for sh in shapes:
        r = next(r for r in rows if r["shape"] == sh)
        fits = "\nfits in the simulated LL" if r["fits"] else ""
        labels.append(f"{sh}\n{human_count(r['params'])} params{fits}")
    ax.set_xticks(range(len(shapes)))
    ax.set_xticklabels(labels, fontsize=8.5)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(axis="x", visible=False)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    fig.tight_layout()
    return fig


def count_section(data, colors):
    counts = data.get("count") or []
    if not counts:
        return None
    items = []
    first = counts[0]
    ll_mib = first["ll_bytes"] / 2 ** 20
    items.append(("note", f"Counted under {first['valgrind']} (Callgrind, a fixed simulated cache with a {ll_mib:g} MiB last level, "
                          f"one thread, {first['steps']} steps counted after warm-up, per step), built with {first['build']['compiler']}, "
                          f"kernels {first['build']['isa']}. Counts do not depend on the machine's load; they cannot see threads, real "
                          f"bandwidth, clock frequency or prefetchers (docs/speed.md). DRAM bytes: {first['dram_rule']}."))
    for c in counts:
        if c["planted"]:
            items.append(("note", f"⚠ {c['path']}: counted with the test-only plant '{c['planted']}' stepping as eigen."))
        if c["interrupted"]:
            items.append(("note", f"⚠ {c['path']}: interrupted before {c['stopped_before'] or '?'}; its counts are incomplete."))
    rows = [r for c in counts for r in c["rows"] if r["verdict"] == "counted"]
    f = bars(rows, colors, "bytes_pp", "simulated DRAM bytes per parameter and step",
             "Memory traffic per parameter against the minimum (counted, simulated cache)", minimum=True) if rows else None
    if f is not None:
        items.append(("fig", Figure("count-bytes", "Counted DRAM bytes per parameter against the minimum",
                                    "Bytes the simulated last-level cache fills from memory and writes back per step, divided by "
                                    "the parameters; the dashed line is the least an Adam step can move (read p, g, m, v; write "
                                    "p, m, v: 28 B, 36 B with amsgrad). Shapes that fit the simulated cache move about 0 at steady "
                                    "state: that is the model, not a fault.", render(f, "count-bytes"))))
        f = bars(rows, colors, "instr_pp", "instructions per parameter and step", "Instructions per parameter (counted)")
        items.append(("fig", Figure("count-instructions", "Counted instructions per parameter",
                                    "Instructions executed per parameter in one step, one thread (SIMD width and per-tensor "
                                    "overhead show here).", render(f, "count-instructions"))))
    else:
        items.append(("note", "The count results hold no counted benchmark: the counted figures are omitted." if not rows
                      else "The counted figures were left out."))
    below = [r["name"] for r in rows if r["below"]]
    if below:
        items.append(("note", f"⚠ {len(below)} counted row(s) below the minimum traffic with a working set above the simulated cache: "
                              "a measurement problem, not a result: " + ", ".join(below) + "."))
    head = ["benchmark", "params", "instructions/param", "DRAM B/param", "min B/param", "est. cycles/step", "note"]
    table = []
    for c in counts:
        for r in c["rows"]:
            if r["verdict"] != "counted":
                table.append([r["name"], human_count(r["params"] or 0) if r["params"] else "-", "-", "-", "-", "-",
                              f"{r['verdict']}: {r['reason']}"])
                continue
            note = "below the minimum: measurement problem" if r["below"] else "fits in the simulated LL" if r["fits"] else ""
            table.append([r["name"], human_count(r["params"]), f"{r['instr_pp']:.3f}", f"{r['bytes_pp']:.2f}", r["min_bpp"],
                          f"{r['cycles']:.4g}", note])
    items.append(("table", "Every counted benchmark (per step, one thread)", head, table))
    return "Counted speed", items


SECTIONS = [count_section]


def count_part(data):
    """The verdict line's share: counted benchmarks are checked against the physical minimum; a row
    below it, or one that failed to count, is a failure; an interrupted count a banner."""
    rows = [r for c in data.get("count") or [] for r in c["rows"]]
    counted = sum(1 for r in rows if r["verdict"] == "counted")
    below = sum(1 for r in rows if r["verdict"] == "counted" and r["below"])
    errors = sum(1 for r in rows if r["verdict"] == "error")
    skipped = sum(1 for r in rows if r["verdict"] == "skip")
    banners = [f"{c['path']}: this count run was interrupted (stopped before {c['stopped_before'] or '?'}); its results are incomplete."
               for c in data.get("count") or [] if c["interrupted"]]
    return Part([(counted, "counted benchmarks")],
                [(errors, "counting error", "counting errors"),
                 (below, "counted figure below the physical minimum", "counted figures below the physical minimum")],
                [], banners, [(skipped, "counted benchmarks")])


VERDICT_PARTS = [count_part]
