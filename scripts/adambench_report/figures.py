"""What every figure shares: matplotlib set up for deterministic SVG (Agg, the style), one colour
per implementation across all figures, the Figure item of a section, render() to SVG text, and the
layout helpers (log-axis labels, a legend shared by panels, a suptitle, tight layout around them).
The figures themselves live in their kinds' modules (agree.py, speed.py, converge.py, ...)."""
import io
from collections import OrderedDict

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402,F401  (the kinds' modules draw with figures.plt)
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter  # noqa: E402

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


def log_labels(axis):
    """Plain numbers on a log axis, with 2 and 5 labelled between decades when few decades show."""
    axis.set_major_formatter(FuncFormatter(lambda v, _p: f"{v:g}"))
    lo, hi = axis.get_view_interval()
    if lo > 0 and hi / lo < 1e3:
        axis.set_minor_locator(LogLocator(base=10, subs=(2.0, 5.0)))
        axis.set_minor_formatter(FuncFormatter(lambda v, _p: f"{v:g}"))
    else:
        axis.set_minor_formatter(NullFormatter())


def shared_legend(fig, axes, top, ncol=None):
    """One legend for all panels (the union of their entries, first label wins), above or below the panels."""
    seen = OrderedDict()
    for ax in axes:
        for h, l in zip(*ax.get_legend_handles_labels()):
            seen.setdefault(l, h)
    if seen:
        fig.legend(list(seen.values()), list(seen.keys()), loc="upper center" if top else "lower center",
                   ncol=ncol or min(5, len(seen)), frameon=False, bbox_to_anchor=(0.5, 1.0 if top else 0.0))
    return len(seen)


def legend_rows(n, ncol=5):
    return (n + ncol - 1) // ncol


def suptitle(fig, text):
    """The figure's title, 0.05 inch below its top edge whatever the figure's height. tight_layout
    reserves the title's height plus one pad (~0.15 inch) above the panels; matplotlib's default
    place (2% of the height from the top) is lower than that on a tall grid, onto the first row's
    panel titles."""
    fig.suptitle(text, fontsize=11.5, y=1 - 0.05 / fig.get_figheight(), va="top")


def layout(fig, legend_entries=0):
    """tight_layout leaving room (in inches) for a suptitle above and a shared legend below."""
    h = fig.get_figheight()
    bottom = (0.12 + 0.24 * legend_rows(legend_entries)) / h if legend_entries else 0
    fig.tight_layout(rect=(0, bottom, 1, 1))  # tight_layout makes room for the suptitle itself
