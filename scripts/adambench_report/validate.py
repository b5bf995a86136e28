"""Every input is checked against its kind's published JSON Schema (schemas/*.schema.json, draft-07,
python3-jsonschema) before anything reads it: a file that does not match is bad input (exit 2), named
with the JSON path of the first mismatch."""
import json
import os

import jsonschema
from jsonschema.exceptions import best_match

from .common import EnvError, fail

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# ADAMBENCH_SCHEMA_DIR: another folder of schemas (to try a schema change without installing it).
SCHEMA_DIR = os.environ.get("ADAMBENCH_SCHEMA_DIR") or os.path.join(ROOT, "schemas")

# Result kind -> schema file in SCHEMA_DIR, or a function json -> schema file (a kind with two
# formats). Filled by sections.py from each kind module's SCHEMAS.
SCHEMAS = {}

_validators = {}


def schema_file(kind, j):
    s = SCHEMAS.get(kind)
    return s(j) if callable(s) else s


def validator(name):
    if name not in _validators:
        path = os.path.join(SCHEMA_DIR, name)
        try:
            with open(path, encoding="utf-8") as f:
                schema = json.load(f)
            jsonschema.Draft7Validator.check_schema(schema)
        except (OSError, ValueError, jsonschema.SchemaError) as e:
            raise EnvError(f"cannot use the schema {path}: {getattr(e, 'strerror', None) or str(e).splitlines()[0]}")
        _validators[name] = jsonschema.Draft7Validator(schema)
    return _validators[name]


def json_path(error):
    out = "$"
    for p in error.absolute_path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if str(p).isidentifier() else f"[{json.dumps(str(p))}]")
    return out


def validate(j, kind, path):
    """InputError naming the file, the JSON path of the first mismatch and what is wrong there."""
    name = schema_file(kind, j)
    if name is None:
        raise EnvError(f"no schema for {kind} results (this report's SCHEMAS)")
    v = validator(name)
    try:
        err = best_match(v.iter_errors(j))
    except RecursionError:
        fail(path, "nested too deeply to validate: not an adambench result")
    if err is not None:
        msg = " ".join(err.message.split())
        if len(msg) > 160:
            msg = msg[:160] + "…"
        fail(path, f"does not match schemas/{name} at {json_path(err)}: {msg}")
