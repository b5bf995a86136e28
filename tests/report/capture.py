"""Captures what scripts/report.py writes for a fixed set of inputs, so that a change meant to keep
the report's behaviour (a restructuring of scripts/adambench_report/) can be shown to keep it: run
`capture` before and after the change and compare the two folders (`compare`: byte for byte, after
masking the input and output folders' own paths).

    /usr/bin/python3 tests/report/capture.py inputs CLI IN      # once: the fixed inputs (IN must not exist)
    /usr/bin/python3 tests/report/capture.py capture IN OUT     # per tree: renders every case into OUT
    /usr/bin/python3 tests/report/capture.py compare OUT1 OUT2  # exit 0 identical, 1 different

`inputs` copies the stored fixtures (tests/fixtures/), runs `CLI agree smoke`, `CLI converge smoke` and
`CLI sweep tuning-smoke` once (fresh results), builds history files with `CLI history add` and writes
hand-made variants (failures, skips, interrupted runs, expected divergence, counts below the minimum,
GPU-bench JSON, a summary too long to fit) and bad inputs. Keep IN outside the repository and reuse
it for every capture: fresh runs differ from run to run. `capture` records, per case, the exit code,
stdout, stderr, summary.md, index.html and every fig-*.svg; matplotlib's SVG output is already
deterministic (fixed hash salt, no date), so the only masks are the IN and OUT paths.
"""
import copy
import filecmp
import json
import os
import random
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from two_thread_speed import two_thread_speed  # noqa: E402  (the same input e2e.report draws)

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
REPORT = os.path.join(ROOT, "scripts", "report.py")
FIX = os.path.join(ROOT, "tests", "fixtures")
PY = "/usr/bin/python3"


def dump(path, doc):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w" if isinstance(doc, (str, dict, list)) else "wb") as f:
        if isinstance(doc, (dict, list)):
            json.dump(doc, f)
        else:
            f.write(doc)


def load(path):
    with open(path) as f:
        return json.load(f)


def errs(ulp, err_u, failed=0):
    return {"max_abs": 0.0, "max_rel": 0.0, "max_ulp": ulp, "max_err_u": err_u, "compared": 64, "failed": failed}


def agree_doc(results=None):
    """A small agree.json with a pass, a skip and a failure (the shape tests/report/test_report.py uses)."""
    return {"schema_version": 1, "kind": "agree", "suite": "test", "interrupted": False,
            "summary": {"passed": 1, "failed": 1, "skipped": 1},
            "context": {"machine": {}, "build": {"git_commit": "abc"}, "threads": 1}, "results": results if results is not None else [
        {"case": "c1", "impl": "eigen", "dtype": "float32", "seed": 0, "verdict": "pass", "checks": [
            {"step": 1, "params": errs(1.0, 0.5), "m": errs(2.0, 0.25), "v": errs(0.0, 0.0), "tolerance_u": 8.0, "ok": True},
            {"step": 10, "params": errs(7.0, 0.1), "m": errs(3.0, 0.2), "v": errs(1.0, 0.05), "max_v": errs(9.0, 0.9),
             "tolerance_u": 8.0, "ok": True}]},
        {"case": "c1", "impl": "fused", "dtype": "float32", "seed": 0, "verdict": "skip", "reason": "no CPU kernel", "checks": []},
        {"case": "c2", "impl": "eigen", "dtype": "float64", "seed": 0, "verdict": "fail",
         "first_mismatch": "after 1 steps: m[0][3] = 1 where the reference has 2", "checks": [
             {"step": 1, "params": errs(1e6, 5e4, 3), "tolerance_u": 8.0, "ok": False}]},
    ]}


def speed_history(src, out, n, seed, step_at=None):
    """n speed runs of the fixture with 2% noise, resnet50 25% slower from run step_at on (as e2e.history)."""
    base, rng = load(src), random.Random(seed)
    for i in range(n):
        j = copy.deepcopy(base)
        j["context"]["adambench.build.git_commit"] = "%08x" % rng.getrandbits(32) + "%032x" % i
        j["context"]["adambench.created"] = "2026-01-%02dT%02d:00:00Z" % (1 + i // 24, i % 24)
        noise = {}
        for b in j["benchmarks"]:
            name = b["run_name"]
            slow = 1.25 if step_at is not None and i >= step_at and name.startswith("eigen/adam/resnet50/") else 1.0
            m = noise.setdefault(name, slow * (1.0 + rng.gauss(0.0, 0.02)))
            for k in ("real_time", "cpu_time"):
                b[k] *= m
            for k in ("params_per_second", "bytes_per_second", "probe_fraction"):
                if k in b:
                    b[k] /= m
        dump(os.path.join(out, f"run{i:02d}", "speed.json"), j)
    return [os.path.join(out, f"run{i:02d}", "speed.json") for i in range(n)]


def run(cmd, **kw):
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True, **kw)


def make_inputs(cli, into):
    if os.path.exists(into):
        sys.exit(f"capture: {into} exists; inputs are made once (remove it to make new ones)")
    fix = os.path.join(into, "fix")
    shutil.copytree(FIX, fix, ignore=shutil.ignore_patterns("*.toml", "*.py", "__pycache__"))
    fresh = os.path.join(into, "fresh")
    run([cli, "agree", "smoke", "--quiet", "--out", os.path.join(fresh, "agree")], stdout=subprocess.DEVNULL)
    run([cli, "converge", "smoke", "--quiet", "--out", os.path.join(fresh, "converge")], stdout=subprocess.DEVNULL)
    run([cli, "sweep", "tuning-smoke", "--quiet", "--out", os.path.join(fresh, "sweep")], stdout=subprocess.DEVNULL)
    # The speed gate's A/A calibration (as e2e.gate): 4 short runs of one tiny benchmark.
    dump(os.path.join(into, "cal.toml"), '[speed]\nimpls = ["eigen"]\nflat = [10]\nrepetitions = 2\nmin_time = 0.01\nwarmup_time = 0.0\n')
    run([cli, "calibrate", "--bin", cli, "--runs", "4", "--group", "2", "--out", os.path.join(fresh, "cal"), "--", "--threads", "1",
         "speed", os.path.join(into, "cal.toml")], stdout=subprocess.DEVNULL)
    two_thread_speed(os.path.join(fix, "speed.json"), os.path.join(into, "e2e", "speed.json"))
    hist = os.path.join(into, "history")
    step = speed_history(os.path.join(fix, "speed.json"), os.path.join(hist, "step-runs"), 30, 2, step_at=20)
    run([cli, "history", "add", *step, "--db", os.path.join(hist, "step.db")], stdout=subprocess.DEVNULL)
    flat = speed_history(os.path.join(fix, "speed.json"), os.path.join(hist, "flat-runs"), 12, 1)
    run([cli, "history", "add", *flat, "--db", os.path.join(hist, "real.db")], stdout=subprocess.DEVNULL)
    run([cli, "history", "add", os.path.join(fresh, "agree", "agree.json"), os.path.join(fresh, "converge", "converge.json"),
         os.path.join(fix, "agree.json"), os.path.join(fix, "converge", "converge.json"), os.path.join(fix, "count.json"),
         "--db", os.path.join(hist, "real.db")], stdout=subprocess.DEVNULL)
    dump(os.path.join(hist, "not-a-db.db"), "this is not SQLite\n")
    hand_made(os.path.join(into, "hand"), fix)
    bad_inputs(os.path.join(into, "bad"), fix)
    print(f"capture: inputs in {into}")


def hand_made(h, fix):
    d = agree_doc()
    dump(f"{h}/agree-fail/agree.json", d)
    dump(f"{h}/agree-pass/agree.json", agree_doc([d["results"][0]]))
    dump(f"{h}/agree-skip/agree.json", agree_doc([d["results"][1]]))
    dump(f"{h}/agree-interrupted/agree.json", dict(agree_doc([d["results"][0]]), interrupted=True, stopped_before="case c9"))
    fail = d["results"][2]
    many = dict(d, results=[dict(fail, case=f"case_{i}_" + "c" * 300, impl=f"impl{i % 7}", reason="r" * 5000) for i in range(100)])
    for k in range(45):
        dump(f"{h}/many/{k:03d}_{'p' * 150}/agree.json", dict(many, interrupted=k % 2 == 0))
    for name, expect, unmet in (("conv-diverge", "diverge", []),
                                ("conv-unmet", "target", ["quadratic/b8/s0 sgd-momentum: expected to reach val_loss <= 1, diverged"]),
                                ("conv-interrupted", None, [])):
        shutil.copytree(os.path.join(fix, "converge"), f"{h}/{name}")
        j = load(f"{h}/{name}/converge.json")
        for r in j["runs"]:
            if r["verdict"] == "diverged" and expect:
                r["expect"] = expect
        j["expectations_unmet"] = unmet
        j["summary"]["expectations_unmet"] = len(unmet)
        if name == "conv-interrupted":
            j["interrupted"], j["stopped_at"] = True, "logreg/b64/s1"
            j["runs"][-1]["verdict"] = "interrupted"
        dump(f"{h}/{name}/converge.json", j)
    c = load(os.path.join(fix, "count.json"))
    big = next(r for r in c["results"] if r["verdict"] == "counted" and not r["fits_in_ll"])
    big["below_minimum"], big["per_param"]["dram_bytes"] = True, 16.0
    c["results"].append({"name": "eigen/adamw/flat_4K/threads:1", "impl": "eigen", "verdict": "error", "reason": "no Callgrind dump"})
    dump(f"{h}/count-below/count.json", c)
    dump(f"{h}/count-interrupted/count.json", dict(load(os.path.join(fix, "count.json")), interrupted=True,
                                                   stopped_before="eigen/adam/flat_1M/threads:1"))
    t = load(os.path.join(fix, "tune", "tune.json"))
    dump(f"{h}/tune-interrupted/tune.json", dict(t, interrupted=True, stopped_at="stage lr"))
    # Speed: one repetition, units, an errored row, a row above the limit (no flag) and one flagged.
    def it(name, t, unit, pps, **kw):
        return dict({"name": name, "run_name": name, "run_type": "iteration", "real_time": t, "time_unit": unit,
                     "params_per_second": pps, "bytes_per_second": 28 * pps, "params": 1024.0, "tensors": 1.0}, **kw)
    dump(f"{h}/speed-odd/speed.json", {"context": load(os.path.join(fix, "speed.json"))["context"], "benchmarks": [
        it("probe/28B/flat_1K/threads:1/real_time", 1.0, "ms", 1024e3), it("eigen/adam/flat_1K/threads:1/real_time", 2000, "ns", 512e3),
        it("over/adam/flat_1K/threads:1/real_time", 900, "us", 1.08 * 1024e3), it("flag/adam/flat_1K/threads:1/real_time", 1.2, "ms", 900e3,
                                                                                 over_limit=True),
        {"name": "torch/adam/flat_1K/threads:1/real_time", "run_type": "iteration", "error_occurred": True, "error_message": "boom"}]})
    def g(name, us, rep):
        return {"name": name, "run_name": name, "run_type": "iteration", "repetition_index": rep, "real_time": us, "time_unit": "us",
                "items_per_second": 2 ** 20 / (us * 1e-6), "bytes_per_second": 28 * 2 ** 20 / (us * 1e-6), "fraction_of_probe": 0.0,
                "params": 2 ** 20, "label": "1 tensors, 29.4 MB working set (L2 60 MB)"}
    dump(f"{h}/gpu/speed.json", {"context": {"gpu": "H200"}, "benchmarks": [
        g("probe/float32/flat_2^20", 10.0, 0), g("probe/float32/flat_2^20", 10.0, 1),
        g("cuda-mt/float32/flat_2^20", 12.5, 0), g("cuda-mt/float32/flat_2^20", 12.5, 1),
        {"name": "cuda-mt/float32/flat_2^20_stddev", "run_name": "cuda-mt/float32/flat_2^20", "run_type": "aggregate",
         "aggregate_name": "stddev", "real_time": 0.1, "time_unit": "us", "params": 2 ** 20}]})


def bad_inputs(b, fix):
    d = agree_doc()
    files = {
        "truncated": '{"schema_version": 1, "kind": "agree", "results": [{"case"',
        "foreign": '{"name": "package.json", "version": "1.0"}',
        "future": '{"schema_version": 9, "kind": "agree", "results": []}',
        "unknown_kind": '{"schema_version": 1, "kind": "nonsense"}',
        "speed_kind": '{"schema_version": 1, "kind": "speed"}',
        "empty": "",
        "binary": b"\x7fELF\x02\x01\x01\x00\xff\xfe",
        "not_a_list": json.dumps(dict(d, results={})),
        "gbench_bad": '{"context": {}, "benchmarks": [{"name": "x"}]}',
        "wrong_type": json.dumps(dict(d, summary={"passed": 1, "failed": "zz", "skipped": 0})),
        "bad_verdict": json.dumps(agree_doc([dict(d["results"][1], verdict="maybe")])),
        "deep": "[" * 100000 + "]" * 100000,
    }
    for name, content in files.items():
        dump(f"{b}/{name}.json", content)
    os.makedirs(f"{b}/empty-folder")
    dump(f"{b}/folder/agree.json", d)
    dump(f"{b}/folder/sub/other.json", "[1, 2")
    c = load(os.path.join(fix, "count.json"))
    del c["results"][0]["per_step"]
    dump(f"{b}/count/count.json", c)
    t = load(os.path.join(fix, "tune", "tune.json"))
    del t["recommendations"]
    dump(f"{b}/tune/tune.json", t)
    s = load(os.path.join(fix, "sweep.json"))
    s["points"] = {}
    dump(f"{b}/sweep/sweep.json", s)
    shutil.copytree(os.path.join(fix, "converge"), f"{b}/conv-nocurve")
    os.remove(os.path.join(f"{b}/conv-nocurve/curves", sorted(os.listdir(f"{b}/conv-nocurve/curves"))[0]))
    shutil.copytree(os.path.join(fix, "converge"), f"{b}/conv-badcurve")
    first = os.path.join(f"{b}/conv-badcurve/curves", sorted(os.listdir(f"{b}/conv-badcurve/curves"))[0])
    with open(first, "a") as f:
        f.write("x,y\n")
    dump(f"{b}/out-is-a-file", "x\n")


def cases(i):
    """(name, argv, out folder or None: argv has its own --out / none, prior case whose folder it reuses)."""
    f, fr, h, b = f"{i}/fix", f"{i}/fresh", f"{i}/hand", f"{i}/bad"
    ok = [
        ("fix-agree", [f"{f}/agree.json"]), ("fix-speed", [f"{f}/speed.json"]), ("fix-converge", [f"{f}/converge"]),
        ("fix-sweep", [f"{f}/sweep.json"]), ("fix-tune", [f"{f}/tune"]), ("fix-count", [f"{f}/count.json"]),
        ("fix-all", [f]), ("fix-speed-converge", [f"{f}/speed.json", f"{f}/converge"]),
        ("fresh-agree", [f"{fr}/agree"]), ("fresh-converge", [f"{fr}/converge"]), ("fresh-sweep", [f"{fr}/sweep"]),
        ("fresh-calibration", [f"{fr}/cal/calibration.json"]), ("fresh-calibration-folder", [f"{fr}/cal"]),
        ("fresh-all", [fr]), ("e2e-report", [f"{fr}/agree", f"{i}/e2e/speed.json", f"{f}/converge"]),
        ("everything", [f, fr, f"{i}/e2e", "--history", f"{i}/history/real.db", "--title", "Everything <&> \"at once\""]),
        ("history-step", ["--history", f"{i}/history/step.db"]), ("history-real", ["--history", f"{i}/history/real.db"]),
        ("history-and-agree", [f"{f}/agree.json", "--history", f"{i}/history/step.db"]),
        ("speed-twice", [f"{f}/speed.json", f"{i}/e2e/speed.json"]),
        ("dup-input", [f"{f}/agree.json", f"{f}/agree.json", f]),
        # Every kind's failures at once: the verdict line's order of the kinds.
        ("verdict-order", [f"{h}/conv-unmet", f"{h}/speed-odd", f"{h}/agree-fail", f"{h}/count-below", f"{h}/tune-interrupted",
                           "--history", f"{i}/history/step.db"]),
    ]
    ok += [(f"hand-{n}", [f"{h}/{n}"]) for n in sorted(os.listdir(h))]
    ok += [("long-title", [f"{h}/many", "--title", "T" * 100000])]
    bad = [(f"bad-{n[:-5]}", [f"{b}/{n}"]) for n in sorted(os.listdir(b)) if n.endswith(".json")]
    bad += [(f"bad-{n}", [f"{b}/{n}"]) for n in ("empty-folder", "folder", "count", "tune", "sweep", "conv-nocurve", "conv-badcurve")]
    bad += [("bad-missing", [f"{b}/nope.json"]), ("bad-history", ["--history", f"{i}/history/not-a-db.db"]),
            ("bad-history-missing", ["--history", f"{i}/history/nope.db"]), ("bad-nothing", [])]
    out = [(n, a, True, None) for n, a in ok + bad]
    out += [("reuse", [f"{f}/speed.json"], True, "fix-agree"),  # stale figures of the earlier report are removed
            ("no-out", [f"{f}/agree.json"], False, None), ("out-is-a-file", [f"{f}/agree.json", "--out", f"{b}/out-is-a-file"], False, None),
            ("bad-option", [f"{f}/agree.json", "--nope"], True, None), ("help", ["--help"], False, None)]
    return out


def capture_one(case, i, o):
    name, argv, with_out, reuse = case
    dst = os.path.join(o, name)
    os.makedirs(dst)
    work = os.path.join(o, ".work", name)
    if reuse:
        shutil.copytree(os.path.join(o, ".work", reuse), work)
    argv = argv + (["--out", work] if with_out else [])
    r = subprocess.run([PY, "-B", REPORT, *argv], capture_output=True, timeout=600)

    def mask(data):
        return data.replace(work.encode(), b"<OUT>").replace(i.encode(), b"<IN>")
    with open(os.path.join(dst, "result.txt"), "wb") as f:
        f.write(b"exit %d\n--- stdout\n%s--- stderr\n%s" % (r.returncode, mask(r.stdout), mask(r.stderr)))
    if os.path.isdir(work):
        for n in sorted(os.listdir(work)):
            with open(os.path.join(work, n), "rb") as src, open(os.path.join(dst, n), "wb") as out:
                out.write(mask(src.read()))
    return name, r.returncode


def capture(i, o):
    i, o = os.path.abspath(i), os.path.abspath(o)
    if os.path.exists(o):
        sys.exit(f"capture: {o} exists")
    os.makedirs(os.path.join(o, ".work"))
    todo = cases(i)
    first = [c for c in todo if not c[3]]
    with ThreadPoolExecutor(max_workers=2) as ex:
        done = list(ex.map(lambda c: capture_one(c, i, o), first))
    done += [capture_one(c, i, o) for c in todo if c[3]]
    shutil.rmtree(os.path.join(o, ".work"))
    codes = {}
    for _, rc in done:
        codes[rc] = codes.get(rc, 0) + 1
    print(f"capture: {len(done)} cases into {o} (exit codes: {', '.join(f'{k}: {v}' for k, v in sorted(codes.items()))})")


def compare(a, b):
    cmp = filecmp.dircmp(a, b)
    bad = []

    def walk(c, rel):
        bad.extend(f"only in {c.left}: {n}" for n in c.left_only)
        bad.extend(f"only in {c.right}: {n}" for n in c.right_only)
        for n in c.common_files:
            if not filecmp.cmp(os.path.join(c.left, n), os.path.join(c.right, n), shallow=False):
                bad.append(f"differs: {os.path.join(rel, n)}")
        for n, sub in c.subdirs.items():
            walk(sub, os.path.join(rel, n))
    walk(cmp, "")
    files = sum(len(fs) for _, _, fs in os.walk(a))
    if bad:
        print("\n".join(bad[:50]) + (f"\n... and {len(bad) - 50} more" if len(bad) > 50 else ""))
        print(f"compare: {len(bad)} difference(s) over {files} files")
        return 1
    print(f"compare: identical ({files} files)")
    return 0


def main():
    if len(sys.argv) != 4 or sys.argv[1] not in ("inputs", "capture", "compare"):
        print(__doc__, file=sys.stderr)
        return 2
    cmd, a, b = sys.argv[1:]
    if cmd == "inputs":
        make_inputs(os.path.abspath(a), os.path.abspath(b))
    elif cmd == "capture":
        capture(a, b)
    else:
        return compare(a, b)
    return 0


if __name__ == "__main__":
    sys.exit(main())
