"""The report's sections, one builder each, in page order.

A section builder is a function `builder(data, colors) -> (title, items)`, or None to leave the
section out. `data` is load.load_inputs()'s {kind: [parsed file, ...]}; `colors` gives each
implementation its colour (the same in every figure). Items, drawn in order:
    ("note", text)                      a one-line note (e.g. why a figure is absent)
    ("fig", figures.Figure)             a figure (inline SVG in the page, fig-KEY.svg beside summary.md)
    ("table", title, head, rows)        a table; rows are lists of cells (str or numbers)

Extension modules: each name in EXTENSIONS that exists as a module of this package is imported; it
may define SECTIONS (a list of builders, appended to the page in that order), KINDS
({kind: parser(json, path)}, added to load.PARSERS so files of that kind are read) and SCHEMAS
({kind: "NAME.schema.json"} in schemas/, added to validate.SCHEMAS: every file is validated first)
and VERDICT_PARTS (functions data -> verdict.Part, counted in the verdict line).
"""
import importlib
import importlib.util

import matplotlib

from . import figures, load, validate, verdict
from .figures import Colors, Figure, render
from .tables import agree_verdicts, converge_aggregate_table, converge_unmet, converge_verdicts, speed_rows_table, speed_table

EXTENSIONS = ("sweep", "history", "tune", "count")


def note(text):
    return ("note", text)


def agreement_section(data, colors):
    items = []
    if data["agree"]:
        f = figures.fig_agree_error(data["agree"], colors)
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
    f = figures.fig_speed_size(rows, colors, llc)
    if f is not None:
        items.append(("fig", Figure("speed-size", "Step time and fraction of the limit against tensor size",
                                    "One flat fp32 tensor of each size. The limit is the in-run bandwidth probe: "
                                    "Adam's memory traffic (read p, g, m, v; write p, m, v) with no arithmetic, on the "
                                    "same sizes and threads. Small sizes fit in cache, so the probe runs faster there. Rows above "
                                    "103% of the limit are measurement problems and are left out of the fraction panel (listed below).",
                                    render(f, "speed-size"))))
    else:
        items.append(note("The speed results hold no flat-buffer benchmarks: step time against tensor size is omitted."))
    f = figures.fig_speed_models(rows, colors)
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


def convergence_section(data, colors):
    conv = data["converge"]
    if not conv:
        return "Convergence", [note("No convergence results (converge.json) were given: loss curves and steps-to-target are omitted.")]
    items = []
    f, extra = figures.fig_loss_curves(conv, colors)
    if f is not None:
        items.append(("fig", Figure("loss-curves", "Loss curves", "Validation loss against optimizer steps; the line is the "
                                    "median over seeds and the band the range over seeds (× = diverged there). "
                                    "Same initial weights and data order for every implementation at a given seed, so "
                                    "implementations that agree draw the same curve: they show as nested stripes, "
                                    "earlier ones wider." + extra,
                                    render(f, "loss-curves"))))
    else:
        items.append(note("The convergence results hold no curves (no curve CSV files): loss curves are omitted."))
    f = figures.fig_steps_to_target(conv, colors)
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


def calibration_section(data, colors):
    """The speed gate's A/A calibration (`adambench calibrate`), only when one is given."""
    if not data["calibration"]:
        return None
    head = ["file", "runs (groups of)", "comparisons", "false alarms", "inconclusive", "false-alarm rate", "noise floors", "thresholds"]
    rows = [[c["path"], f"{c['runs']} ({c['group']})", c["comparisons"], c["false_alarms"], c["inconclusive"],
             f"{c['false_alarm_rate']:.1%}", c["noise"], ", ".join(f"{k} {v}" for k, v in c["thresholds"].items())]
            for c in data["calibration"]]
    pct = lambda x: "-" if x is None else f"{x:.1%}"  # noqa: E731
    floors = [[k, pct(t), pct(f)] for c in data["calibration"]
              for k, (t, f) in sorted(c["floors"].items(), key=lambda kv: -(kv[1][0] or 0))]
    return "Speed gate calibration", [
        note("One build run several times: groups of runs compared pairwise with the speed gate, each with noise floors "
             "measured on the other runs; any regression or improvement it reports is a false alarm (docs/speed.md)."),
        ("table", "A/A calibration", head, rows),
        ("table", "A/A noise floor per benchmark ((max - min) / min of the run medians)", ["benchmark", "time", "fraction of probe"], floors)]


# Is it right, is it fast, does it train: correctness first. Extensions append theirs.
SECTIONS = [agreement_section, speed_section, convergence_section, calibration_section]


def _load_extensions():
    for name in EXTENSIONS:
        full = f"{__package__}.{name}"
        if importlib.util.find_spec(full) is None:
            continue
        mod = importlib.import_module(full)
        load.PARSERS.update(getattr(mod, "KINDS", {}))
        validate.SCHEMAS.update(getattr(mod, "SCHEMAS", {}))
        verdict.VERDICT_PARTS.extend(getattr(mod, "VERDICT_PARTS", []))
        SECTIONS.extend(getattr(mod, "SECTIONS", []))


_load_extensions()


def build_sections(data):
    """[(title, items)] for the page, in order; sections whose builder returns None are left out."""
    colors = Colors()
    for kind in ("agree", "converge", "speed"):  # stable colours: order of first appearance
        for res in data.get(kind, []):
            for r in res.get("results", res.get("runs", res.get("rows", []))):
                if r["impl"] != "probe":
                    colors(r["impl"])
    out = []
    with matplotlib.rc_context(figures.STYLE):
        for builder in SECTIONS:
            s = builder(data, colors)
            if s is not None:
                out.append(s)
    return out
