"""The result kinds and the page's sections: one module per kind, registered here in page order.

A kind's module (agree.py, speed.py, converge.py, calibration.py, sweep.py, history.py, tune.py,
count.py) owns everything about its results: parsing, tables, figures, its section and its share of
the verdict line. The core (load, validate, verdict, page) knows no kind by name. Each module may
define:
    KINDS          {kind: parser(json, path) -> parsed file}: what load_inputs() puts in data[kind]
    SCHEMAS        {kind: "NAME.schema.json" in schemas/, or a function json -> name}: checked first
    UNTAGGED       {kind: (recognise(json) -> bool, error)} for files without a "kind" field
    SECTIONS       [builder(data, colors) -> (title, items) or None]: its sections, in order
    VERDICT_PARTS  [function(data) -> verdict.Part]: what it adds to the verdict line
    RANK           where its verdict parts and colours come among the kinds' (lower first; kinds
                   without one follow in page order)
    IMPL_NAMES     {kind: function(parsed file) -> implementation names}: colours handed out in
                   order of first appearance, before any section is drawn
    CONTEXT        {kind: function(context) -> (created, machine, threads, build)}: the file's line
                   under the title (default: adambench's context object)

A section builder returns (title, items), or None to leave the section out. `data` is
load.load_inputs()'s {kind: [parsed file, ...]} (plus data["history"] with --history); `colors`
gives each implementation its colour (the same in every figure). Items, drawn in order:
    ("note", text)                      a one-line note (e.g. why a figure is absent)
    ("fig", figures.Figure)             a figure (inline SVG in the page, fig-KEY.svg beside summary.md)
    ("table", title, head, rows)        a table; rows are lists of cells (str or numbers)

Adding a result kind is one module, its name in KINDS and its schema (docs/reports.md); register()
adds a module at run time (the tests add one that way).
"""
import importlib

import matplotlib

from . import figures, load, validate, verdict
from .figures import Colors

# Page order: is it right, is it fast, does it train; then the gate's calibration, the sweeps, the
# history, tuning and counted speed.
KINDS = ("agree", "speed", "converge", "calibration", "sweep", "history", "tune", "count")

MODULES = []  # the kinds' modules, in page order
SECTIONS = []
IMPL_NAMES = []  # [(kind, function)], in RANK order
CONTEXT = {}


def register(mod):
    """Adds a kind's module after those registered (its section last on the page)."""
    MODULES.append(mod)
    rebuild()


def rebuild():
    """Fills the core's tables (load, validate, verdict, this module's) from MODULES."""
    for table in (load.PARSERS, load.UNTAGGED, validate.SCHEMAS, CONTEXT, SECTIONS, verdict.VERDICT_PARTS, IMPL_NAMES):
        table.clear()
    for mod in MODULES:
        load.PARSERS.update(getattr(mod, "KINDS", {}))
        load.UNTAGGED.update(getattr(mod, "UNTAGGED", {}))
        validate.SCHEMAS.update(getattr(mod, "SCHEMAS", {}))
        CONTEXT.update(getattr(mod, "CONTEXT", {}))
        SECTIONS.extend(getattr(mod, "SECTIONS", []))
    for i in sorted(range(len(MODULES)), key=lambda i: getattr(MODULES[i], "RANK", 100 + i)):
        verdict.VERDICT_PARTS.extend(getattr(MODULES[i], "VERDICT_PARTS", []))
        IMPL_NAMES.extend(getattr(MODULES[i], "IMPL_NAMES", {}).items())


MODULES.extend(importlib.import_module(f"{__package__}.{name}") for name in KINDS)
rebuild()


def build_sections(data):
    """[(title, items)] for the page, in order; sections whose builder returns None are left out."""
    colors = Colors()
    for kind, names in IMPL_NAMES:  # stable colours: order of first appearance
        for res in data.get(kind, []):
            for impl in names(res):
                colors(impl)
    out = []
    with matplotlib.rc_context(figures.STYLE):
        for builder in SECTIONS:
            s = builder(data, colors)
            if s is not None:
                out.append(s)
    return out
