"""Fuzz test of scripts/report.py: corrupted copies of real result files must give exit 0, 1 or 2
with one line on stderr, never a traceback, a crash or a hang.

    cd tests/report && /usr/bin/python3 -B -m unittest -v test_report_fuzz

Seeds are real files: tests/fixtures/agree.json (an `adambench agree smoke` run), speed.json,
converge/ (with its curve CSVs), count.json (an `adambench count` run), tune/tune.json (`adambench
tune` on tests/fixtures/tune-world.toml), and a calibration file in calibrate's format. (sweep.json is
not among them yet: its module's bootstrap makes each accepted mutant cost seconds.) Mutations, from a fixed
random seed: bit flips, truncation, values of the wrong type, huge numbers (1e308, 1e999, 5,000-digit
integers, NaN), deep nesting (up to 200,000 levels), deleted keys, and corrupted curve CSVs.

For speed, the bulk (at least 1,000 mutants) runs report.py's main in this process with the figures
left out; a sample that passes validation is then drawn with the real figures, and another sample
goes through the real entry point in a new process, which must answer exactly as main did.
"""
import contextlib
import io
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SCRIPT = os.path.join(ROOT, "scripts", "report.py")
FIX = os.path.join(ROOT, "tests", "fixtures")
PY = "/usr/bin/python3"
sys.path.insert(0, os.path.join(ROOT, "scripts"))
from adambench_report import agree as agree_mod, cli, converge as converge_mod, count, speed as speed_mod, verdict  # noqa: E402

N_BULK = 1100  # mutants run with the figures left out
N_DRAWN = 10  # mutants that passed validation, drawn with the real figures
N_REAL = 6  # mutants run through scripts/report.py in a new process
HANG_S = 30  # one mutant taking longer than this is a hang (a whole report takes ~2 s)

CALIBRATION = {"schema_version": 1, "kind": "calibration", "thresholds": {"min_effect": 0.02, "alpha": 0.05}, "runs": 9, "group": 3,
               "comparisons": 6, "false_alarms": 1, "inconclusive": 0, "false_alarm_rate": 0.1667, "noise": "out of sample",
               "pairs": [{"a": 1, "b": 2, "compared": 2, "regressions": 1, "improvements": 0, "inconclusive": 0},
                         {"a": 1, "b": 3, "compared": 2, "regressions": 0, "improvements": 0, "inconclusive": 0},
                         {"a": 2, "b": 3, "compared": 2, "regressions": 0, "improvements": 0, "inconclusive": 0}],
               "adambench_noise": {"method": "(max - min) / min of run medians", "runs": 9, "benchmarks": {
                   "eigen/adam/flat_32M/threads:2/real_time": {"time": 0.031, "probe_fraction": 0.022},
                   "probe/28B/flat_32M/threads:2/manual_time": {"time": 0.012}}}}
PLACE = "\u0001raw\u0001"  # stands for raw JSON text put in after serialising (huge numbers, deep nesting)


def nodes(tree, path=()):
    """Every (container, key) in a parsed JSON tree."""
    out = []
    items = tree.items() if isinstance(tree, dict) else enumerate(tree) if isinstance(tree, list) else ()
    for k, v in items:
        out.append((tree, k))
        out += nodes(v, path + (k,))
    return out


def dumps_with(tree, raw):
    return json.dumps(tree).replace(json.dumps(PLACE), raw).encode()


def mutate(data, rng, how):
    """bytes of a JSON file -> bytes of a mutant."""
    if how == "bitflip":
        b = bytearray(data)
        for _ in range(rng.randint(1, 4)):
            i = rng.randrange(len(b))
            b[i] ^= 1 << rng.randrange(8)
        return bytes(b)
    if how == "truncate":
        return data[:rng.randrange(len(data))]
    tree = json.loads(data)
    spots = nodes(tree)
    parent, key = rng.choice(spots)
    if how == "wrong_type":
        parent[key] = rng.choice(["zz", "", 0, -1, 3.5, True, None, [], {}, [1, "a"], {"x": 1}])
        return json.dumps(tree).encode()
    if how == "huge_number":
        nums = [(p, k) for p, k in spots if isinstance(p[k], (int, float)) and not isinstance(p[k], bool)] or spots
        parent, key = rng.choice(nums)
        parent[key] = PLACE
        raw = rng.choice(["1e308", "-1e308", "1e999", "-1e999", "NaN", "Infinity", "-Infinity", "1e-320", "9" * 40,
                          "-" + "9" * 40, "1" + "0" * 400, "1" + "0" * 5000, "2e19", "0", "-0.0", "4.9e-324"])
        return dumps_with(tree, raw)
    if how == "deep_nesting":
        d = rng.choice([50, 900, 5000, 200000])
        parent[key] = PLACE
        raw = "[" * d + "]" * d if rng.random() < 0.5 else '{"a":' * d + "1" + "}" * d
        return dumps_with(tree, raw)
    if how == "delete":
        del parent[key]
        return json.dumps(tree).encode()
    if how == "structure":
        kind = rng.randrange(4)
        if kind == 0 and isinstance(tree, dict) and "kind" in tree:
            tree["kind"] = rng.choice(["agree", "converge", "speed", "calibration", "sweep", "count", 7])
        elif kind == 1:
            lists = [(p, k) for p, k in spots if isinstance(p[k], list) and p[k]]
            if lists:
                p, k = rng.choice(lists)
                p[k] = p[k] * rng.choice([0, 2, 50])
        elif kind == 2:
            dicts = [(p, k) for p, k in spots if isinstance(p[k], dict)]
            if dicts:
                p, k = rng.choice(dicts)
                p[k][rng.choice(["verdict", "impl", "params", "tensors", "expect", "interrupted", "x" * 300])] = rng.choice(
                    ["diverge", "fail", 1e300, -5, ["a"], "\u202e\n\t<script>", True])
        else:
            tree = rng.choice([[], {}, None, 1, "agree", [tree]])
        return json.dumps(tree).encode()
    raise ValueError(how)


def mutate_csv(data, rng):
    b = bytearray(data)
    how = rng.randrange(5)
    if how == 0:
        return bytes(b[:rng.randrange(len(b))])
    if how == 1:
        for _ in range(rng.randint(1, 6)):
            b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
        return bytes(b)
    lines = bytes(b).split(b"\n")
    i = rng.randrange(len(lines))
    lines[i] = rng.choice([b"", b"\x00\x00", b"1,2", b"nan,nan,nan,nan,nan,nan,nan", b"1e999," * 6 + b"1",
                           b"-1,-1,-1,-1,-1,-1,-1", b"a,b,c,d,e,f,g", b"\xff\xfe" * 10])
    return b"\n".join(lines)


class Deadline(Exception):
    pass


def _alarm(_sig, _frame):
    raise Deadline()


def run_main(argv):
    """(exit code, stderr) of report.py's main in this process; exceptions are the caller's to see."""
    err = io.StringIO()
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(HANG_S)
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
            try:
                code = cli.main(argv)
            except SystemExit as e:
                code = e.code
    finally:
        signal.alarm(0)
    return code, err.getvalue()


@contextlib.contextmanager
def figures_left_out():
    """The figure functions return "nothing to draw" (the page then carries notes): the rest of the
    report (reading, schema checks, tables, verdict, page, summary) runs as usual."""
    saved = [(m, n, getattr(m, n)) for m in (agree_mod, speed_mod, converge_mod) for n in dir(m) if n.startswith("fig_")]
    for m, n, _ in saved:
        setattr(m, n, (lambda *a, **k: (None, "")) if n == "fig_loss_curves" else (lambda *a, **k: None))
    bars = count.bars
    count.bars = lambda *a, **k: None
    try:
        yield
    finally:
        for m, n, f in saved:
            setattr(m, n, f)
        count.bars = bars


class Fuzz(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="report-fuzz-")
        cls.rng = random.Random(20261129)
        with open(os.path.join(FIX, "agree.json"), "rb") as f:
            agree = f.read()
        with open(os.path.join(FIX, "speed.json"), "rb") as f:
            speed = json.load(f)
        # A smaller speed file (every shape's probe and implementation rows are kept): validation of
        # the whole fixture for each of hundreds of mutants would cost minutes.
        keep = {b["run_name"] for b in speed["benchmarks"] if "flat_4K" in b["run_name"] or "resnet50" in b["run_name"]}
        speed["benchmarks"] = [b for b in speed["benchmarks"] if b["run_name"] in keep]
        cls.conv_dir = os.path.join(cls.dir, "converge_seed")
        shutil.copytree(os.path.join(FIX, "converge"), cls.conv_dir)
        with open(os.path.join(cls.conv_dir, "converge.json"), "rb") as f:
            conv = f.read()
        with open(os.path.join(FIX, "tune", "tune.json"), "rb") as f:
            tune = f.read()
        with open(os.path.join(FIX, "count.json"), "rb") as f:
            counted = f.read()
        cls.seeds = {"agree": agree, "speed": json.dumps(speed).encode(), "converge": conv,
                     "calibration": json.dumps(CALIBRATION).encode(), "tune": tune, "count": counted}
        cls.curves = sorted(os.listdir(os.path.join(cls.conv_dir, "curves")))
        cls.results = []  # (mutant path, how, code, stderr)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def mutants(self, n):
        """Yields (path to pass to report.py, description) for n mutants, spread over the seeds and kinds."""
        hows = ["bitflip", "truncate", "wrong_type", "huge_number", "deep_nesting", "delete", "structure"]
        weights = {"agree": 4, "speed": 3, "converge": 4, "calibration": 1, "tune": 1}
        kinds = [k for k, w in weights.items() for _ in range(w)]
        for i in range(n):
            kind = kinds[i % len(kinds)]
            how = hows[(i // len(kinds)) % len(hows)]
            if kind == "converge":
                # the mutant beside the real curves (a few with a corrupted curve instead)
                d = os.path.join(self.dir, f"m{i}")
                os.makedirs(d)
                os.symlink(os.path.join(self.conv_dir, "curves"), os.path.join(d, "curves"))
                path = os.path.join(d, "converge.json")
                data = self.seeds["converge"]
                if i % 9 == 0:
                    how = "curve_csv"
                    os.remove(os.path.join(d, "curves"))
                    shutil.copytree(os.path.join(self.conv_dir, "curves"), os.path.join(d, "curves"))
                    c = os.path.join(d, "curves", self.rng.choice(self.curves))
                    with open(c, "rb") as f:
                        bad = mutate_csv(f.read(), self.rng)
                    with open(c, "wb") as f:
                        f.write(bad)
                else:
                    data = mutate(data, self.rng, how)
            else:
                path = os.path.join(self.dir, f"m{i}-{kind}.json")
                data = mutate(self.seeds[kind], self.rng, how)
            with open(path, "wb") as f:
                f.write(data)
            yield path, f"mutant {i} ({kind}, {how})"

    def problem(self, what, code, err):
        """None when the answer keeps the contract, else what is wrong."""
        lines = err.splitlines()
        if code not in (0, 1, 2):
            return f"{what}: exit {code}: {err[:300]}"
        if code and (len(lines) != 1 or not lines[0].startswith("report: ")):
            return f"{what}: stderr is not one line: {err[:300]}"
        if "Traceback" in err:
            return f"{what}: a traceback"
        return None

    def check(self, what, code, err):
        p = self.problem(what, code, err)
        self.assertIsNone(p, p)

    def test_0_the_check_bites(self):
        # A planted bug (an exception deep in the report) must be caught by the same check.
        path = os.path.join(self.dir, "seed-agree.json")
        with open(path, "wb") as f:
            f.write(self.seeds["agree"])
        code, err = run_main([path, "--out", os.path.join(self.dir, "seed-out")])
        self.assertIsNone(self.problem("seed", code, err))
        self.assertEqual(code, 0, err)
        saved = verdict.VERDICT_PARTS[0]
        verdict.VERDICT_PARTS[0] = lambda data: {}["planted"]
        try:
            code, err = run_main([path, "--out", os.path.join(self.dir, "seed-out")])
        finally:
            verdict.VERDICT_PARTS[0] = saved
        self.assertIn("internal error KeyError", err)
        self.assertIsNotNone(self.problem("planted bug", code, err))
        self.assertIsNotNone(self.problem("two lines", 2, "report: a\nreport: b\n"))
        self.assertIsNotNone(self.problem("a traceback", 2, "Traceback (most recent call last):\n"))

    def test_1_bulk_in_process(self):
        out = os.path.join(self.dir, "out")
        codes, problems = {0: 0, 1: 0, 2: 0}, []
        with figures_left_out():
            for path, what in self.mutants(N_BULK):
                try:
                    code, err = run_main([path, "--out", out])
                except Deadline:
                    code, err = None, f"no answer within {HANG_S} s (a hang)"
                except BaseException as e:  # an exception escaping main is the failure this test looks for
                    code, err = None, f"{type(e).__name__} escaped main: {e!s:.300}"
                p = self.problem(what, code, err)
                if p:
                    problems.append(p)
                    continue
                codes[code] += 1
                type(self).results.append((path, what, code, err))
        self.assertEqual(problems, [], f"{len(problems)} of {N_BULK} mutants broke the contract, e.g.\n" + "\n".join(problems[:12]))
        # The mutations must reach both sides: some mutants still read as results, most are refused.
        self.assertGreaterEqual(len(self.results), 1000)
        self.assertGreater(codes[0], 50, codes)
        self.assertGreater(codes[2], 300, codes)
        print(f"\n{len(self.results)} mutants: exit codes {codes}", file=sys.stderr)

    def test_2_drawn(self):
        # Accepted mutants of every kind, drawn with the real figures (odd values reach matplotlib).
        ok = [r for r in self.results if r[2] == 0]
        self.assertTrue(ok)
        pick = [r for r in ok if "huge_number" in r[1] or "wrong_type" in r[1]][:N_DRAWN // 2]
        pick += self.rng.sample([r for r in ok if r not in pick], min(N_DRAWN - len(pick), len(ok) - len(pick)))
        for path, what, _, _ in pick:
            try:
                code, err = run_main([path, "--out", os.path.join(self.dir, "drawn")])
            except Deadline:
                self.fail(f"{what}: no answer within {HANG_S} s (a hang)")
            except BaseException as e:
                self.fail(f"{what}: {type(e).__name__} escaped main: {e!s:.300}")
            self.check(what + " (drawn)", code, err)

    def test_3_real_entry_point(self):
        # The real script in a new process answers exactly as main did in this one.
        by_code = {c: [r for r in self.results if r[2] == c] for c in (0, 2)}
        pick = self.rng.sample(by_code[0], 2) + self.rng.sample(by_code[2], N_REAL - 2)
        for path, what, code, err in pick:
            r = subprocess.run([PY, SCRIPT, path, "--out", os.path.join(self.dir, "real")], capture_output=True, text=True,
                               timeout=120)
            self.check(what + " (new process)", r.returncode, r.stderr)
            self.assertEqual((r.returncode, r.stderr), (code, err), what)


if __name__ == "__main__":
    unittest.main()
