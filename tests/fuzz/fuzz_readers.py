#!/usr/bin/python3
"""Fuzz test of every reader of untrusted input: suite TOML, npz, result JSON through compare and merge
(agree, speed, converge, count, tune) and through `history add` (agree, speed, converge, count, sweep),
and what `adambench tune --resume` reads (runs/tune.manifest, runs/*.run).

Mutates valid inputs (bit flips, truncation, wrong types, huge numbers, deep nesting, ...) and feeds
each mutant to `adambench-readers each` (in-process, one line per mutant). Every mutant must end with
exit 0, 1 or 2 and at most one line of message: never a crash, an abort, exit 4 (an exception that
should have been bad input), or a hang. A sample also goes through real processes of the given CLIs;
a `history add` of a good file and a mutant that exits 2 must leave no history file behind.

usage: fuzz_readers.py READERS SOURCE_DIR [--mutants N] [--cli ADAMBENCH] [--sample K]
"""
import argparse, copy, json, os, random, subprocess, sys, tempfile

import numpy as np

ap = argparse.ArgumentParser()
ap.add_argument("readers")
ap.add_argument("src")
ap.add_argument("--mutants", type=int, default=1000)
ap.add_argument("--cli", help="the real adambench binary: a sample of mutants through its compare and merge")
ap.add_argument("--sample", type=int, default=10)
ap.add_argument("--seed", type=int, default=20261129)
ap.add_argument("--timeout", type=float, default=300)
args = ap.parse_args()
rng = random.Random(args.seed)
work = tempfile.mkdtemp(prefix="adambench-fuzz-")

# ---- byte-level mutations (any format) -------------------------------------------------------
def bit_flips(b):
    b = bytearray(b)
    for _ in range(rng.randint(1, 8)):
        i = rng.randrange(len(b)); b[i] ^= 1 << rng.randrange(8)
    return bytes(b)

def truncate(b):
    return b[: rng.randrange(len(b))]

def splice(b):
    i, j = sorted(rng.randrange(len(b) + 1) for _ in range(2))
    return b[:i] + b[j:] + b[i:j] if rng.random() < 0.5 else b[:i] + b[i:j] * rng.randint(2, 4) + b[j:]

def random_bytes(b):
    i = rng.randrange(len(b) + 1)
    return b[:i] + bytes(rng.randrange(256) for _ in range(rng.randint(1, 64))) + b[i:]

BYTE_OPS = [bit_flips, truncate, splice, random_bytes]

# ---- JSON-level mutations --------------------------------------------------------------------
WRONG = ["zz", "", -1, 0, 1.5, 10**30, -10**30, 1e308, None, True, False, [], {}, [1, "x"], {"a": 1}, "NaN", "1/0", "0/0"]

def nodes(x, path=()):
    yield path, x
    if isinstance(x, dict):
        for k, v in x.items(): yield from nodes(v, path + (k,))
    elif isinstance(x, list):
        for i, v in enumerate(x): yield from nodes(v, path + (i,))

def pick(doc):
    all_nodes = list(nodes(doc))
    # Favour leaves and keys the readers use, so mutants reach past the first field.
    return rng.choice(all_nodes)

def set_at(doc, path, value):
    if not path: return value
    x = doc
    for p in path[:-1]: x = x[p]
    x[path[-1]] = value
    return doc

def wrong_type(doc):
    path, _ = pick(doc)
    return set_at(doc, path, copy.deepcopy(rng.choice(WRONG)))

def delete_key(doc):
    dicts = [(p, x) for p, x in nodes(doc) if isinstance(x, dict) and x]
    if not dicts:  # an earlier mutation replaced the whole document by a scalar
        return doc
    p, d = rng.choice(dicts)
    del d[rng.choice(list(d))]
    return doc

def deep(doc):
    path, v = pick(doc)
    n = rng.choice([100, 1000, 100000])
    return ("DEEP", path, n)

def to_text(doc):
    if isinstance(doc, tuple) and doc[0] == "DEEP":
        raise ValueError
    return json.dumps(doc, allow_nan=True).encode()

def huge_text(b):
    # Numbers past double range or with absurd exponents, as text (json.dumps cannot write them).
    s = b.decode("utf-8", "replace")
    digits = [i for i, ch in enumerate(s) if ch.isdigit() and (i == 0 or not s[i - 1].isdigit())]
    if not digits: return b
    i = rng.choice(digits)
    j = i
    while j < len(s) and (s[j].isdigit() or s[j] in ".eE+-"): j += 1
    return (s[:i] + rng.choice(["1e999", "-1e999", "9" * 400, "1e-999", "123456789012345678901234567890", "NaN", "Infinity"]) + s[j:]).encode()

def json_mutant(doc_bytes):
    op = rng.randrange(9)
    if op < 4: return BYTE_OPS[op](doc_bytes)
    if op == 4: return huge_text(doc_bytes)
    doc = json.loads(doc_bytes)
    if op == 5: return to_text(wrong_type(doc))
    if op == 6: return to_text(delete_key(doc))
    if op == 7:  # deep nesting in place of one value
        path, _ = pick(doc)
        marker = "\"@@DEEP@@\""
        s = json.dumps(set_at(doc, path, "@@DEEP@@"))
        n = rng.choice([100, 1000, 100000])
        return s.replace(marker, "[" * n + "1" + "]" * n, 1).encode()
    for _ in range(rng.randint(2, 5)): doc = wrong_type(doc) if rng.random() < 0.7 else delete_key(doc)
    return to_text(doc)

# ---- TOML-level mutations ----------------------------------------------------------------------
def toml_mutant(b):
    op = rng.randrange(8)
    if op < 4: return BYTE_OPS[op](b)
    lines = b.decode().split("\n")
    i = rng.randrange(len(lines))
    if op == 4:  # a value of the wrong type
        if "=" in lines[i]:
            k = lines[i].split("=", 1)[0]
            lines[i] = k + "= " + rng.choice(['"zz"', "-1", "1e999", "99999999999999999999", "nan", "inf", "[]", "{}", "true", "[1, \"a\"]", "0", "-0.0", "1e-320"])
    elif op == 5:  # deep nesting
        n = rng.choice([50, 300, 5000])
        lines.insert(i, "deep = " + "[" * n + "1" + "]" * n)
    elif op == 6:  # duplicate a line (duplicate keys, tables)
        lines.insert(i, lines[i])
    else:  # huge numbers in place of every number on the line
        lines[i] = "".join(rng.choice(["9" * 40, "-9" * 20]) if ch.isdigit() else ch for ch in lines[i])
    return "\n".join(lines).encode()

# ---- npz-level mutations -----------------------------------------------------------------------
def make_npz(path):
    r = np.random.default_rng(1)
    np.savez(path, **{"p.0": r.standard_normal((3, 5)).astype(np.float32), "g.0": r.standard_normal(7), "m": np.zeros(4, np.float32)})
    return open(path, "rb").read()

def npz_mutant(b):
    op = rng.randrange(6)
    if op < 4: return BYTE_OPS[op](b)
    # Edit the .npy headers inside the (stored) zip: shapes, dtypes, order. Same length keeps the zip valid.
    s = bytearray(b)
    for key, subs in ((b"'shape': (", [b"'shape': (9999999999999, ", b"'shape': (-1, ", b"'shape': (0, "]),
                      (b"'descr': '<f4'", [b"'descr': '<f2'", b"'descr': '>f4'", b"'descr': '|O8'"]),
                      (b"'descr': '<f8'", [b"'descr': '<i8'", b"'descr': '<c16'"]),
                      (b"'fortran_order': False", [b"'fortran_order': True "])):
        at = s.find(key)
        if at >= 0 and rng.random() < 0.6:
            new = rng.choice(subs)
            s[at:at + len(key)] = new
    return bytes(s)

# ---- inputs --------------------------------------------------------------------------------------
def write(name, data):
    p = os.path.join(work, name)
    with open(p, "wb") as f: f.write(data)
    return p

def small_agree():
    d = json.load(open(os.path.join(args.src, "reports/baselines/agree-ci.json")))
    d["results"] = d["results"][:24]
    return d

def small_converge():
    d = json.load(open(os.path.join(args.src, "reports/baselines/converge-smoke-analytic.json")))
    return d

def small_speed():
    d = json.load(open(os.path.join(args.src, "tests/fixtures/speed.json")))
    d["benchmarks"] = d["benchmarks"][:30]
    return d

def small_tune():
    return json.load(open(os.path.join(args.src, "tests/fixtures/tune/tune.json")))

def small_count():
    return json.load(open(os.path.join(args.src, "tests/fixtures/count.json")))

results = {"agree": small_agree(), "converge": small_converge(), "speed": small_speed(), "tune": small_tune(),
           "count": small_count()}
def small_sweep():
    d = json.load(open(os.path.join(args.src, "tests/fixtures/sweep.json")))
    d["points"] = d["points"][:16]
    return d

# What `history add` keeps: every gated kind but tune, and sweep.
kept = {k: v for k, v in results.items() if k != "tune"}
kept["sweep"] = small_sweep()
tune_files = {k: open(os.path.join(args.src, "tests/fixtures/tune", f), "rb").read()
              for k, f in (("tune-manifest", "tune.manifest"), ("tune-run", "kept.run"))}
bases = {k: write(f"base-{k}.json", json.dumps(v).encode()) for k, v in results.items()}
shards = {}
for k, v in results.items():
    lst = {"agree": "results", "converge": "runs", "speed": "benchmarks", "tune": "points", "count": "results"}[k]
    a, b = copy.deepcopy(v), copy.deepcopy(v)
    a[lst], b[lst] = v[lst][0::2], v[lst][1::2]
    if k == "speed":
        a["context"]["adambench.shard"], b["context"]["adambench.shard"] = "1/2", "2/2"
    else:
        a["shard"], b["shard"] = "1/2", "2/2"
    shards[k] = (json.dumps(a).encode(), write(f"shard2-{k}.json", json.dumps(b).encode()))

suites = [open(os.path.join(args.src, "suites", f), "rb").read() for f in sorted(os.listdir(os.path.join(args.src, "suites")))
          if f.endswith(".toml")]
npz = make_npz(os.path.join(work, "valid.npz"))

# Each reader: the command lines for adambench-readers, and (path, argv) for the real CLI sample.
jobs = {"suite": [], "npz": [], "compare": [], "merge": [], "tune-manifest": [], "tune-run": [], "history": []}
for i in range(args.mutants):
    jobs["suite"].append(["suite", write(f"suite-{i}.toml", toml_mutant(rng.choice(suites)))])
    jobs["npz"].append(["npz", write(f"state-{i}.npz", npz_mutant(npz))])
    k = rng.choice(list(results))
    m = write(f"cand-{i}.json", json_mutant(json.dumps(results[k]).encode()))
    jobs["compare"].append(["compare", bases[k], m] if i % 3 else ["compare", m, bases[k], os.path.join(work, f"md-{i}.md")])
    piece, other = shards[k]
    jobs["merge"].append(["merge", os.path.join(work, f"merged-{i}.json"), write(f"piece-{i}.json", json_mutant(piece)), other])
    for reader, valid in tune_files.items():
        jobs[reader].append([reader, write(f"{reader}-{i}", json_mutant(valid))])
# After the others, so their mutants stay what they were before the history joined.
kept_files = {k: write(f"kept-{k}.json", json.dumps(v).encode()) for k, v in kept.items()}
for i in range(args.mutants):
    k = rng.choice(list(kept))
    m = write(f"hist-{i}.json", json_mutant(json.dumps(kept[k]).encode()))
    jobs["history"].append(["history", kept_files[k], m] if i % 2 else ["history", m])

failures = []

def run_batch(reader, lines):
    text = "".join("\t".join(l) + "\n" for l in lines)
    try:
        p = subprocess.run([args.readers, "each"], input=text.encode(), capture_output=True, timeout=args.timeout)
    except subprocess.TimeoutExpired:
        failures.append(f"{reader}: hang: no answer within {args.timeout} s")
        return
    out = p.stdout.decode("utf-8", "replace").splitlines()
    codes = {}
    for line in out: codes[line.split("\t", 1)[0]] = codes.get(line.split("\t", 1)[0], 0) + 1
    for line, cmd in zip(out, lines):
        code, nlines, msg = (line.split("\t", 2) + ["", ""])[:3]
        if code not in ("0", "1", "2") or int(nlines) > 1:
            failures.append(f"{reader}: {' '.join(cmd)} -> exit {code}, {nlines} lines: {msg[:300]}")
    if p.returncode != 0 or len(out) != len(lines):
        at = lines[len(out)] if len(out) < len(lines) else ["?"]
        err = p.stderr.decode("utf-8", "replace").strip().splitlines()
        failures.append(f"{reader}: the reader died (status {p.returncode}) on {' '.join(at)}: {' | '.join(err[-5:])[:600]}")
    print(f"fuzz: {reader}: {len(out)} of {len(lines)} mutants answered; by exit code: "
          + ", ".join(f"{k}: {v}" for k, v in sorted(codes.items())), flush=True)

for reader, lines in jobs.items():
    run_batch(reader, lines)

# A sample through real processes: exit status and stderr as a user sees them.
def run_cli(argv):
    try:
        p = subprocess.run(argv, capture_output=True, timeout=120)
    except subprocess.TimeoutExpired:
        failures.append(f"hang: {' '.join(argv)}")
        return None
    err = [l for l in p.stderr.decode("utf-8", "replace").splitlines() if l.strip()]
    if p.returncode not in (0, 1, 2) or len(err) > 1:
        failures.append(f"{' '.join(argv)} -> exit {p.returncode}, stderr {err[:3]}")
    return p.returncode

for reader in jobs:
    for cmd in rng.sample(jobs[reader], min(args.sample, len(jobs[reader]))):
        run_cli([args.readers] + cmd)
        if args.cli and cmd[0] == "compare":
            run_cli([args.cli, "compare", cmd[1], cmd[2]] + (["--markdown", cmd[3]] if len(cmd) > 3 else []))
        if args.cli and cmd[0] == "merge":
            run_cli([args.cli, "merge", "--out", cmd[1], cmd[2], cmd[3]])
        if args.cli and cmd[0] == "history":
            # Every file is read before the history is opened: a bad one creates nothing.
            db = os.path.join(work, f"history-{len(failures)}-{rng.randrange(10**9)}.db")
            argv = [args.cli, "history", "add", *cmd[1:], "--db", db]
            if run_cli(argv) == 2 and os.path.exists(db):
                failures.append(f"{' '.join(argv)} -> exit 2 but the history file was written")

if failures:
    print(f"fuzz: {len(failures)} failures (mutants kept in {work}):")
    for f in failures[:40]: print("  " + f)
    sys.exit(1)
print(f"fuzz: every mutant ({sum(len(v) for v in jobs.values())}) gave exit 0, 1 or 2 with at most one line")
subprocess.run(["rm", "-rf", work])
