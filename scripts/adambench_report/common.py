"""Shared by every module of the report: the bad-input error, number helpers, atomic writes."""
import math
import os


class InputError(Exception):
    """Bad input: reported as one line on stderr, exit code 2."""


class EnvError(Exception):
    """The environment failed (a schema missing, the output not writable): one line, exit code 4."""


def fail(path, what):
    raise InputError(f"{path}: {what}")


def short(v, limit=60):
    """repr of a value for an error line: one line, at most about `limit` characters."""
    r = repr(v).replace("\n", " ")
    return r if len(r) <= limit else r[:limit] + "…"


def num(v):
    """A JSON number or null -> float (NaN for null/absent)."""
    if isinstance(v, bool) or v is None:
        return math.nan
    if isinstance(v, float):
        return v
    if isinstance(v, int):
        try:
            return float(v)
        except OverflowError:  # an integer of hundreds of digits
            return math.inf if v > 0 else -math.inf
    return math.nan


def human_count(x, _pos=None):
    if x <= 0 or not math.isfinite(x):
        return ""
    for div, suf in ((1e9, "G"), (1e6, "M"), (1e3, "K")):
        if x >= div:
            v = x / div
            return f"{v:.0f}{suf}" if v >= 10 or v == int(v) else f"{v:.1f}{suf}"
    return f"{x:.0f}"


def human_time_us(x, _pos=None):
    if x <= 0 or not math.isfinite(x):
        return ""
    if x >= 1e6:
        return f"{x / 1e6:.3g} s"
    if x >= 1e3:
        return f"{x / 1e3:.3g} ms"
    if x >= 1:
        return f"{x:.3g} µs"
    return f"{x * 1e3:.3g} ns"


def atomic_write(path, data):
    """Writes under a temporary name and renames, so a reader never sees half a file."""
    tmp = os.path.join(os.path.dirname(path), f".{os.path.basename(path)}.tmp{os.getpid()}")
    mode = "wb" if isinstance(data, bytes) else "w"
    try:
        with open(tmp, mode, **({} if mode == "wb" else {"encoding": "utf-8", "newline": "\n"})) as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.remove(tmp)
        except OSError:
            pass
        raise



def note(text):
    """A section's item: a one-line note (why a figure is absent, say)."""
    return ("note", text)
