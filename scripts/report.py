#!/usr/bin/python3
"""Report generator: adambench results -> one self-contained HTML page, a Markdown summary, SVG figures.

    /usr/bin/python3 scripts/report.py RESULTS... --out DIR [--title TEXT]

RESULTS are result files or folders of them (searched recursively for *.json):
  agree.json     `adambench agree --out`      (schema_version 1, kind "agree")
  speed.json     `adambench speed --out`      (Google Benchmark's JSON: context + benchmarks[])
  converge.json  `adambench converge --out`   (schema_version 1, kind "converge"; curves/*.csv beside it)
Any subset of the kinds may be given; sections without inputs are left out with a note.

Writes DIR/index.html (opens offline: figures are inline SVG, no external CSS/JS/fonts),
DIR/summary.md and DIR/fig-*.svg (the same figures, for the Markdown). Every file is written to a
temporary name and renamed, so a reader never sees half a report.

Exit codes: 0 written, 2 bad input (one line on stderr naming the file and what is wrong).
Runs with Debian's python3-matplotlib and python3-numpy (docs/reports.md). The code lives in the
package scripts/adambench_report/ beside this file.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from adambench_report.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
