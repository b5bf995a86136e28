"""adambench's report generator (entry point: scripts/report.py; docs/reports.md).

Modules, in data-flow order:
  common    InputError (bad input, exit 2), number helpers, atomic writes
  load      finding, reading, checking and parsing result files: {kind: [parsed file, ...]}
  tables    rows of cells for the tables; speed rows with medians and fraction of the probe
  figures   the matplotlib figures (deterministic SVG)
  sections  one builder per page section, in order; extension modules (sweep, history) add theirs
  page      index.html and summary.md from the sections
  cli       the command line (main returns the exit code)
"""
