#!/usr/bin/env python3
"""A merged sharded run equals the unsharded run, field by field.

Usage: same_results.py UNSHARDED MERGED   (two result files of one kind: agree, converge, speed
or sweep JSON). Exit 0 when every field agrees, 1 listing each difference (its JSON path and both
values), 2 when the files cannot be compared (unreadable, different kinds, a list entry whose key
appears twice).

Lists of results are compared as sets keyed by each entry's identity (KEYS below): a merge joins
the shards' lists one shard after the other, so the order differs from the unsharded run's, but
every entry must be there once, with every field equal. Not compared, and why:
  * bookkeeping of the sharding itself: merged_from, shard, empty_slice, the run id (each run has
    its own), the time a file was written (context created/date);
  * timing fields (SKIP, RATE_SUFFIX): wall-clock seconds, rates, the iteration counts Google
    Benchmark picks from timings, ratios of timings and the verdicts drawn from them
    (over_limit, measurement_problem, best_libtorch);
  * Google Benchmark's family_index and per_family_instance_index: its registration counters,
    which restart in every process, so a shard's are not the unsharded run's.
"""
import json
import sys

# Identity of one entry of each list of results.
KEYS = {
    ("agree", "results"): ("case", "impl", "dtype", "seed"),
    ("converge", "runs"): ("case", "impl", "batch_size", "seed"),
    ("converge", "aggregates"): ("case", "impl", "batch_size"),
    ("converge", "batch_scaling"): ("case", "impl"),
    ("converge", "expectations_unmet"): None,  # strings: the entry is its own key
    ("speed", "benchmarks"): ("name", "run_type", "aggregate_name", "repetition_index"),
    ("speed", "adambench_rows"): ("name",),
    ("sweep", "studies"): ("name",),
    ("sweep", "points"): ("study", "point", "impl"),
    ("sweep", "claims"): ("study", "advice", "impl"),
}

# Fields never compared, by where they sit: "top", "context", or the list they belong to.
BOOKKEEPING = {
    "top": {"merged_from", "shard", "empty_slice"},
    "context": {"run_id", "created", "adambench.run_id", "adambench.created", "adambench.shard", "adambench.empty_slice",
                "date", "load_avg", "mhz_per_cpu"},
}
SKIP = {
    "summary": {"seconds"},
    "runs": {"train_seconds", "optimizer_seconds", "eval_seconds", "samples_per_s", "optimizer_share", "wall_to_target_s"},
    "aggregates": {"samples_per_s", "optimizer_share", "wall_to_target_s"},
    "points": {"time_to_target_s"},
    "benchmarks": {"real_time", "cpu_time", "iterations", "probe_fraction", "limit_fraction", "over_limit",
                   "measurement_problem", "vs_best_libtorch", "best_libtorch", "family_index", "per_family_instance_index"},
    "adambench_rows": {"time_us", "limit_fraction", "over_limit", "measurement_problem", "vs_best_libtorch",
                       "best_libtorch", "vs_libtorch"},
}
RATE_SUFFIX = "_per_second"  # bytes_per_second, params_per_second, probe_*_params_per_second


def kind_of(doc):
    return "speed" if "benchmarks" in doc else doc.get("kind")


def strip(entry, where):
    if not isinstance(entry, dict):
        return entry
    skip = SKIP.get(where, set())
    return {k: v for k, v in entry.items() if k not in skip and not (where in ("benchmarks", "adambench_rows") and k.endswith(RATE_SUFFIX))}


def keyed(kind, field, items, side):
    key = KEYS[(kind, field)]
    out = {}
    for x in items:
        k = json.dumps(x, sort_keys=True) if key is None else json.dumps([x.get(f) for f in key])
        if k in out:
            raise ValueError(f"{side}: {field} entry {k} appears twice")
        out[k] = strip(x, field)
    return out


def canonical(doc, side):
    kind = kind_of(doc)
    out = {}
    for k, v in doc.items():
        if k in BOOKKEEPING["top"]:
            continue
        if k == "context" and isinstance(v, dict):
            v = {c: x for c, x in v.items() if c not in BOOKKEEPING["context"]}
        elif (kind, k) in KEYS and isinstance(v, list):
            v = keyed(kind, k, v, side)
        elif k in SKIP:
            v = strip(v, k)
        out[k] = v
    return kind, out


def diff(a, b, path, found):
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            p = f"{path}.{k}" if not k.startswith("[") else f"{path}{k}"
            if k not in a:
                found.append(f"{p}: only in the merged run")
            elif k not in b:
                found.append(f"{p}: only in the unsharded run")
            else:
                diff(a[k], b[k], p, found)
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            diff(x, y, f"{path}[{i}]", found)
    elif a != b or type(a) is not type(b):
        found.append(f"{path}: unsharded {json.dumps(a)[:200]}, merged {json.dumps(b)[:200]}")


def main(argv):
    if len(argv) != 3:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    try:
        docs = [json.load(open(f)) for f in argv[1:]]
        (ka, a), (kb, b) = canonical(docs[0], argv[1]), canonical(docs[1], argv[2])
    except (OSError, ValueError) as e:
        print(f"same_results.py: {e}", file=sys.stderr)
        return 2
    if ka != kb or ka not in ("agree", "converge", "speed", "sweep"):
        print(f"same_results.py: {argv[1]} is a {ka} result, {argv[2]} a {kb} result", file=sys.stderr)
        return 2
    found = []
    diff(a, b, ka, found)
    # A comparison of two empty lists proves nothing: the unsharded run must have results.
    lists = [f for (k, f) in KEYS if k == ka and f in a]
    if not any(a[f] for f in lists):
        print(f"same_results.py: {argv[1]} holds no {ka} results: nothing to compare", file=sys.stderr)
        return 2
    for line in found:
        print(line)
    counts = ", ".join(f"{len(a[f])} {f}" for f in lists)
    print(f"{ka}: {'same' if not found else f'{len(found)} differences'} ({counts}; timing fields excepted)")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
