#!/usr/bin/python3
"""Report generator: adambench results -> one self-contained HTML page, a Markdown summary, SVG figures.

    /usr/bin/python3 scripts/report.py [RESULTS...] --out DIR [--title TEXT] [--history FILE]

RESULTS are result files or folders of them (searched recursively for *.json):
  agree.json        `adambench agree --out`      (kind "agree")
  speed.json        `adambench speed --out`      (Google Benchmark's JSON: context + benchmarks[]; also
                                                  adambench-gpu-bench's gpu_speed.json)
  converge.json     `adambench converge --out`   (kind "converge"; curves/*.csv beside it)
  calibration.json  `adambench calibrate`        (kind "calibration")
  sweep.json        `adambench sweep --out`      (kind "sweep")
  tune.json         `adambench tune --out`       (kind "tune")
  count.json        `adambench count --out`      (kind "count")
--history FILE adds the trends of an adambench history file (SQLite, `adambench history add`).
Any subset of the kinds may be given; sections without inputs are left out or say so in a note.
Every file is checked against its kind's schema (schemas/) first.

Writes DIR/index.html (opens offline: figures are inline SVG, no external CSS/JS/fonts),
DIR/summary.md (the verdict on its first line) and DIR/fig-*.svg (the same figures, for the
Markdown). Every file is written to a temporary name and renamed, so a reader never sees half a report.

Exit codes: 0 written (whatever the verdict); 2 bad input (one line on stderr naming the file and
what is wrong; nothing written); 4 the environment failed (a schema missing, the output folder not
writable) or an internal error, one line; 130 interrupted.

Runs with Debian's python3-matplotlib, python3-numpy and python3-jsonschema (docs/reports.md). The
code lives in the package scripts/adambench_report/ beside this file: one module per result kind.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from adambench_report.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
