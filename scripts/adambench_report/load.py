"""Reading result files, whatever their kind: finding them, parsing JSON, telling the kinds apart,
checking each against its schema and handing it to its kind's parser. Anything malformed raises
InputError (exit 2). The kinds' parsers live in their modules (agree.py, speed.py, ...), which
sections.py registers here (PARSERS, UNTAGGED)."""
import json
import os
from collections import OrderedDict

from .common import fail, short
from .validate import validate

SCHEMA_VERSION = 1


def need(obj, key, types, path, where):
    """obj[key], which must be of `types`; InputError naming `where` otherwise (for the kinds' parsers)."""
    if not isinstance(obj, dict) or key not in obj:
        fail(path, f"malformed {where}: missing '{key}'")
    v = obj[key]
    if not isinstance(v, types) or isinstance(v, bool) and bool not in (types if isinstance(types, tuple) else (types,)):
        fail(path, f"malformed {where}: '{key}' has the wrong type ({type(v).__name__})")
    return v


def collect_files(inputs):
    """Expands folders into the *.json files under them (sorted, so the report is deterministic)."""
    files = []
    for p in inputs:
        if os.path.isdir(p):
            found = []
            for root, dirs, names in os.walk(p):
                dirs.sort()
                found += [os.path.join(root, n) for n in sorted(names) if n.endswith(".json") and not n.startswith(".")]
            if not found:
                fail(p, "no result files (*.json) in this folder")
            files += found
        elif os.path.isfile(p):
            files.append(p)
        else:
            fail(p, "no such file or folder")
    seen, out = set(), []
    for f in files:
        k = os.path.realpath(f)
        if k not in seen:
            seen.add(k)
            out.append(f)
    return out


def load_json(path):
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        fail(path, f"cannot read: {e.strerror}")
    if not data.strip():
        fail(path, "empty file")
    try:
        return json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        fail(path, "not a text file (not UTF-8): not an adambench result")
    except json.JSONDecodeError as e:
        fail(path, f"not valid JSON (truncated or corrupt?): {e.msg} at line {e.lineno} column {e.colno}")
    except RecursionError:
        fail(path, "JSON nested too deeply: not an adambench result")
    except ValueError as e:  # e.g. an integer of thousands of digits
        fail(path, f"not readable JSON: {str(e).splitlines()[0][:120]}")


def classify(j, path):
    """The result kind of a parsed file (a key of PARSERS), or InputError for anything else."""
    if isinstance(j, dict) and "kind" in j:
        kind = j.get("kind")
        if isinstance(kind, str) and kind in UNTAGGED:
            fail(path, UNTAGGED[kind][1])
        if not isinstance(kind, str) or kind not in PARSERS:
            fail(path, f"unknown result kind {short(kind)} (this report reads {', '.join(PARSERS)} results)")
        sv = j.get("schema_version")
        if sv != SCHEMA_VERSION:
            fail(path, f"{kind} result with schema_version {short(sv)}; this report reads schema_version {SCHEMA_VERSION}")
        return kind
    for kind, (recognise, _) in UNTAGGED.items():
        if recognise(j):
            return kind
    fail(path, f"not an adambench result (expected {', '.join(PARSERS)} results)")


# Result kind -> parser(json, path) -> {"path", "context", ...}: what data[kind] holds, in page order.
# Filled by sections.py from each kind module's KINDS.
PARSERS = OrderedDict()
# Kinds whose files carry no "kind" field (Google Benchmark's JSON): kind -> (recognise(json) -> bool,
# the error for a file that names the kind but is not in its format). From the modules' UNTAGGED.
UNTAGGED = OrderedDict()


def load_inputs(inputs):
    """{kind: [parsed file, ...]} for every known kind (empty lists for kinds not given)."""
    data = {k: [] for k in PARSERS}
    for path in collect_files(inputs):
        j = load_json(path)
        kind = classify(j, path)
        validate(j, kind, path)
        data[kind].append(PARSERS[kind](j, path))
    return data
