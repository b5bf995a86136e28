"""adambench's report generator (entry point: scripts/report.py; docs/reports.md).

The core, in data-flow order (it names no result kind):
  common    InputError (bad input, exit 2), EnvError (exit 4), number helpers, atomic writes
  load      finding and reading result files, telling the kinds apart: {kind: [parsed file, ...]}
  validate  every file against its kind's JSON Schema (schemas/) before it is parsed
  figures   what the figures share: style, one colour per implementation, SVG rendering, layout
  verdict   the verdict line and the banners, from the kinds' parts
  sections  the registry: the kinds' modules in page order, their parsers, schemas, sections and parts
  page      index.html and summary.md from the sections
  cli       the command line (main returns the exit code)

One module per result kind, each with its parsing, tables, figures, section and verdict part:
  agree, speed, converge, calibration, sweep, history (--history FILE), tune, count
"""
