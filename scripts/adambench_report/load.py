"""Reading result files: finding them, parsing JSON, telling the kinds apart, and turning each kind
into the rows the figures and tables draw from. Anything malformed raises InputError (exit 2)."""
import csv
import json
import math
import os
from collections import OrderedDict

import numpy as np

from .common import fail, num, short
from .validate import validate

SCHEMA_VERSION = 1


def _need(obj, key, types, path, where):
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
        if kind == "speed":
            fail(path, "kind 'speed' without Google Benchmark's 'benchmarks' list")
        if not isinstance(kind, str) or kind not in PARSERS:
            fail(path, f"unknown result kind {short(kind)} (this report reads {', '.join(PARSERS)} results)")
        sv = j.get("schema_version")
        if sv != SCHEMA_VERSION:
            fail(path, f"{kind} result with schema_version {short(sv)}; this report reads schema_version {SCHEMA_VERSION}")
        return kind
    if isinstance(j, dict) and "benchmarks" in j and "context" in j:
        return "speed"
    fail(path, f"not an adambench result (expected {', '.join(PARSERS)} results)")


def parse_agree(j, path):
    results = _need(j, "results", list, path, "agree result")
    rows = []
    for i, r in enumerate(results):
        where = f"agree result results[{i}]"
        impl = _need(r, "impl", str, path, where)
        verdict = _need(r, "verdict", str, path, where)
        if verdict not in ("pass", "fail", "skip", "error"):
            fail(path, f"malformed {where}: unknown verdict {verdict!r}")
        checks = r.get("checks", [])
        if not isinstance(checks, list):
            fail(path, f"malformed {where}: 'checks' is not a list")
        pts = []
        for k, c in enumerate(checks):
            step = _need(c, "step", int, path, f"{where}.checks[{k}]")
            if not 0 <= step <= 2 ** 53:
                fail(path, f"malformed {where}.checks[{k}]: step {short(step)} is not a step count")
            # Error in units of the bound: worst over parameters and all state (the tolerance applies to
            # each). ULP: parameters only, since m and v pass near zero, where ULP distances are huge
            # and meaningless.
            err_u, ulp = 0.0, 0.0
            for part in ("params", "m", "v", "max_v"):
                s = c.get(part)
                if isinstance(s, dict):
                    e = num(s.get("max_err_u"))
                    err_u = max(err_u, 0.0 if math.isnan(e) else e)
                    if part == "params":
                        u = num(s.get("max_ulp"))
                        ulp = max(ulp, 0.0 if math.isnan(u) else u)
            pts.append((step, err_u, ulp, num(c.get("tolerance_u")), bool(c.get("ok", True))))
        rows.append({
            "case": str(r.get("case", "?")), "impl": impl, "dtype": str(r.get("dtype", "?")), "seed": r.get("seed"),
            "verdict": verdict, "reason": str(r.get("reason", "") or ""), "first_mismatch": r.get("first_mismatch"),
            "checks": pts,
        })
    return {"path": path, "context": j.get("context", {}), "suite": j.get("suite", ""), "results": rows,
            "interrupted": j.get("interrupted") is True, "stopped_before": str(j.get("stopped_before", "") or "")}


_NAME_SUFFIXES = ("real_time", "process_time", "manual_time")
_NAME_OPTIONS = ("min_time:", "min_warmup_time:", "repeats:", "iterations:")


def parse_bench_name(name):
    """'eigen/adam/flat_1M/threads:2/real_time' -> impl, variant, shape, threads.
    'probe/28B/flat_1M/threads:2/real_time'  -> impl 'probe', variant '28B'."""
    parts = [p for p in name.split("/") if p]
    while parts and (parts[-1] in _NAME_SUFFIXES or parts[-1].startswith(_NAME_OPTIONS)):
        parts.pop()
    threads = None
    rest = []
    for p in parts:
        n = p[len("threads:"):]
        if p.startswith("threads:") and n.isascii() and n.isdigit():
            threads = int(n)
        else:
            rest.append(p)
    impl = rest[0] if rest else name
    variant = rest[1] if len(rest) > 2 else ""
    shape = rest[-1] if len(rest) >= 2 else ""
    return impl, variant, shape, threads


def _count(b, key, path, where):
    """A size counter (params, tensors): a whole number >= 1, or None when absent. Google Benchmark
    writes counters as doubles, so 1.048576e+06 is read as 1048576."""
    v = b.get(key)
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not 1 <= v <= 2 ** 53 or v != int(v):
        fail(path, f"malformed {where}: counter '{key}' is {short(v)}, not a whole number >= 1")
    return int(v)


def parse_speed(j, path):
    """Google Benchmark JSON from `adambench speed` (or adambench-gpu-bench): one row per run name,
    with its repetitions. Sizes come from the rows' counters: `params` (parameters per step) and
    `tensors` (adambench-gpu-bench writes no `tensors`)."""
    benches = _need(j, "benchmarks", list, path, "Google Benchmark JSON")
    ctx = j.get("context", {})
    if not isinstance(ctx, dict):
        fail(path, "malformed Google Benchmark JSON: 'context' is not an object")
    runs = OrderedDict()  # run_name -> dict
    for i, b in enumerate(benches):
        where = f"benchmarks[{i}]"
        name = _need(b, "name", str, path, where)
        run_name = b.get("run_name", name)
        if not isinstance(run_name, str):
            fail(path, f"malformed {where}: 'run_name' is not a string")
        e = runs.setdefault(run_name, {"reps": [], "agg": {}, "error": None, "params": None, "tensors": None, "over_limit": False})
        # adambench speed flags a row above 103% of the limit on every entry (docs/speed.md).
        if b.get("over_limit") is True:
            e["over_limit"] = True
        if b.get("error_occurred"):
            e["error"] = str(b.get("error_message", "error"))
            continue
        unit = b.get("time_unit", "ns")
        scale = {"ns": 1e-3, "us": 1.0, "ms": 1e3, "s": 1e6}.get(unit) if isinstance(unit, str) else None
        if scale is None:
            fail(path, f"malformed {where}: unknown time_unit {short(unit)}")
        t = num(b.get("real_time"))
        if math.isnan(t):
            fail(path, f"malformed {where}: 'real_time' missing or not a number")
        # adambench speed's counters; adambench-gpu-bench (docs/cuda.md) names them items_per_second
        # and fraction_of_probe.
        pps = num(b.get("params_per_second", b.get("items_per_second")))
        rec = {"time_us": t * scale, "params_per_second": pps, "bytes_per_second": num(b.get("bytes_per_second")),
               "probe_fraction": num(b.get("probe_fraction", b.get("fraction_of_probe")))}
        agg = b.get("aggregate_name") if b.get("run_type") == "aggregate" else None
        # Sizes from the repetitions (and the central aggregates); stddev and cv of a size are 0.
        if agg in (None, "mean", "median", "min", "max"):
            for key in ("params", "tensors"):
                n = _count(b, key, path, where)
                if n is not None and e[key] is not None and n != e[key]:
                    fail(path, f"malformed {where}: counter '{key}' is {n}, another row of {short(run_name)} says {e[key]}")
                e[key] = e[key] if n is None else n
            if e["params"] is None:
                fail(path, f"malformed {where}: no 'params' counter (parameters per step; written by adambench speed)")
        if agg is not None:
            e["agg"][str(agg)] = rec
        else:
            e["reps"].append(rec)
    rows = []
    for run_name, e in runs.items():
        impl, variant, shape, threads = parse_bench_name(run_name)
        reps = e["reps"] or ([e["agg"]["median"]] if "median" in e["agg"] else [])
        rows.append({"name": run_name, "impl": impl, "variant": variant, "shape": shape, "threads": threads,
                     "numel": e["params"], "tensors": e["tensors"], "reps": reps, "error": e["error"] if not reps else None,
                     "over_limit": e["over_limit"]})
    return {"path": path, "context": ctx, "rows": rows}


def parse_converge(j, path):
    runs = _need(j, "runs", list, path, "converge result")
    base = os.path.dirname(os.path.abspath(path))
    out = []
    for i, r in enumerate(runs):
        where = f"converge result runs[{i}]"
        impl = _need(r, "impl", str, path, where)
        case = _need(r, "case", str, path, where)
        verdict = _need(r, "verdict", str, path, where)
        batch = r.get("batch_size")
        curve = None
        rel = r.get("curve_csv")
        if rel:
            if not isinstance(rel, str) or os.path.isabs(rel) or "\0" in rel or ".." in rel.replace("\\", "/").split("/"):
                fail(path, f"malformed {where}: curve_csv {short(rel)} is not a path inside the result's folder")
            curve = read_curve(os.path.join(base, rel), path)
        tgt = r.get("target") if isinstance(r.get("target"), dict) else None
        # What the suite expected of the case ("none", "target", "diverge"), where converge writes it.
        expect = r.get("expect") if r.get("expect") in ("none", "target", "diverge") else None
        out.append({"case": case, "impl": impl, "verdict": verdict, "reason": str(r.get("reason", "") or ""), "expect": expect,
                    "batch": int(batch) if isinstance(batch, (int, float)) and not isinstance(batch, bool) else None,
                    "seed": r.get("seed"), "workload": str(r.get("workload", "")),
                    "steps_to_target": num(r.get("steps_to_target")), "diverged_at": num(r.get("diverged_at_step")),
                    "target": tgt, "curve": curve, "final": r.get("final") if isinstance(r.get("final"), dict) else {}})
    aggs = []
    for i, a in enumerate(j.get("aggregates", []) or []):
        if not isinstance(a, dict):
            fail(path, f"malformed converge result aggregates[{i}]: not an object")
        st = a.get("steps_to_target")
        med, lo, hi = math.nan, math.nan, math.nan
        if isinstance(st, dict):
            med = num(st.get("median"))
            ci = st.get("ci95")
            if isinstance(ci, list) and len(ci) == 2:
                lo, hi = num(ci[0]), num(ci[1])
        aggs.append({"case": str(a.get("case", "?")), "impl": str(a.get("impl", "?")), "batch": a.get("batch_size"),
                     "has_target": isinstance(st, dict), "steps": med, "lo": lo, "hi": hi, "seeds": a.get("seeds"),
                     "failure_rate": num(a.get("failure_rate")), "final_val_loss": a.get("final_val_loss"),
                     "final_val_acc": a.get("final_val_acc")})
    unmet = j.get("expectations_unmet", [])
    return {"path": path, "context": j.get("context", {}), "suite": j.get("suite", ""), "runs": out, "aggregates": aggs,
            "interrupted": j.get("interrupted") is True, "stopped_at": str(j.get("stopped_at", "") or ""),
            "expectations_unmet": [str(u) for u in unmet] if isinstance(unmet, list) else []}


CURVE_COLUMNS = ("step", "epoch", "lr", "train_loss", "val_loss", "val_acc", "wall_s")


def read_curve(csv_path, owner):
    try:
        with open(csv_path, newline="", encoding="utf-8") as f:
            rd = csv.reader(f)
            header = next(rd, None)
            if header is None:
                fail(csv_path, "empty curve file")
            missing = [c for c in ("step", "val_loss") if c not in header]
            if missing:
                fail(csv_path, f"curve CSV without column(s) {', '.join(missing)} (expected {','.join(CURVE_COLUMNS)})")
            idx = {c: header.index(c) for c in CURVE_COLUMNS if c in header}
            cols = {c: [] for c in idx}
            for n, row in enumerate(rd, start=2):
                if not row:
                    continue
                if len(row) != len(header):
                    fail(csv_path, f"line {n}: {len(row)} fields, header has {len(header)}")
                for c, k in idx.items():
                    s = row[k].strip()
                    try:
                        cols[c].append(float(s) if s else math.nan)
                    except ValueError:
                        fail(csv_path, f"line {n}: {c} {short(s)} is not a number")
                if not math.isfinite(cols["step"][-1]):
                    fail(csv_path, f"line {n}: step {short(row[idx['step']])} is not a finite number")
    except UnicodeDecodeError:
        fail(csv_path, "not a text file (not UTF-8): not a curve CSV")
    except csv.Error as e:
        fail(csv_path, f"not a readable CSV: {e}")
    except FileNotFoundError:
        fail(owner, f"curve file {csv_path} is missing")
    except OSError as e:
        fail(csv_path, f"cannot read: {e.strerror}")
    return {c: np.array(v, dtype=float) for c, v in cols.items()}


def parse_calibration(j, path):
    """`adambench calibrate`'s A/A run (already checked against its schema): the false-alarm rate."""
    keys = ("thresholds", "runs", "group", "noise", "comparisons", "false_alarms", "inconclusive", "false_alarm_rate")
    floors = j["adambench_noise"]["benchmarks"]
    return dict({k: j[k] for k in keys}, path=path, context=j.get("context", {}),
                floors={k: (v.get("time"), v.get("probe_fraction")) for k, v in floors.items()})


# Result kind -> parser(json, path) -> {"path", "context", ...}: what data[kind] holds. An extension
# module (sections.EXTENSIONS) adds its own kinds here.
PARSERS = OrderedDict([("agree", parse_agree), ("speed", parse_speed), ("converge", parse_converge),
                       ("calibration", parse_calibration)])


def load_inputs(inputs):
    """{kind: [parsed file, ...]} for every known kind (empty lists for kinds not given)."""
    data = {k: [] for k in PARSERS}
    for path in collect_files(inputs):
        j = load_json(path)
        kind = classify(j, path)
        validate(j, kind, path)
        data[kind].append(PARSERS[kind](j, path))
    return data
