"""The command line: report.py RESULTS... --out DIR [--title TEXT]. main() returns the exit code."""
import argparse
import os
import sys
import traceback
import warnings

import numpy as np

from .common import EnvError, InputError
from .load import load_inputs
from .page import write_report

DESCRIPTION = "Report generator: adambench results -> one self-contained HTML page, a Markdown summary, SVG figures."


def main(argv=None):
    ap = argparse.ArgumentParser(prog="report.py", description=DESCRIPTION)
    ap.add_argument("results", nargs="*", metavar="RESULTS", help="result files or folders of them")
    ap.add_argument("--out", required=True, metavar="DIR", help="folder for index.html, summary.md and fig-*.svg")
    ap.add_argument("--title", default="adambench report", help="page title")
    ap.add_argument("--history", metavar="FILE", help="adambench history file (SQLite): trends over commits with change points")

    def error(msg):  # one line, exit 2, like the rest of the harness
        sys.exit(_say(msg, 2))

    ap.error = error
    args = ap.parse_args(argv)
    if not args.results and not args.history:
        error("give result files, --history FILE, or both")
    try:
        # Odd values (NaN, inf, zero on a log axis) are drawn or shown as "-" on purpose: numpy's and
        # matplotlib's warnings about them would only break the one-line stderr contract.
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            data = load_inputs(args.results)
            if args.history:  # docs/history.md
                from .history import load_history
                data["history"] = [load_history(args.history)]
            figs, v = write_report(data, args.out, args.title)
    except InputError as e:
        return _say(e, 2)
    except (EnvError, OSError) as e:  # a schema missing, the output folder not writable
        return _say(e, 4)
    except KeyboardInterrupt:
        return _say("interrupted; nothing half-written (each file is written whole or not at all)", 130)
    except RecursionError:
        return _say("input nested too deeply", 2)
    except Exception as e:  # a bug: still one line (no traceback), naming where it happened
        where = traceback.extract_tb(e.__traceback__)[-1]
        return _say(f"internal error {type(e).__name__}: {e} (at {os.path.basename(where.filename)}:{where.lineno}); "
                    "please report it", 4)
    kinds = ", ".join(f"{len(v)} {k}" for k, v in data.items() if v)
    print(f"report: {kinds} result file(s) -> {os.path.join(args.out, 'index.html')}, summary.md, {len(figs)} figure(s)")
    print(f"report: {v.line}")
    return 0


def _say(msg, code):
    """One line on stderr (newlines folded, at most 500 characters) and the exit code."""
    line = " ".join(str(msg).split())
    print(f"report: {line[:500]}", file=sys.stderr)
    return code
