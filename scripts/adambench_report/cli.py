"""The command line: report.py RESULTS... --out DIR [--title TEXT]. main() returns the exit code."""
import argparse
import os
import sys

from .common import InputError
from .load import load_inputs
from .page import write_report

DESCRIPTION = "Report generator: adambench results -> one self-contained HTML page, a Markdown summary, SVG figures."


def main(argv=None):
    ap = argparse.ArgumentParser(prog="report.py", description=DESCRIPTION)
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
