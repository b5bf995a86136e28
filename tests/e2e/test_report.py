"""Unit tests of scripts/report.py's input handling (parsing, classification, bad input -> exit 2).

    cd tests/e2e && /usr/bin/python3 -B -m unittest -v test_report

Inputs are the stored fixtures (tests/fixtures/, made by `adambench speed` and `adambench converge`)
and small hand-made files for the edge cases.
"""
import json
import os
import shutil
import subprocess
import tempfile
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SCRIPT = os.path.join(ROOT, "scripts", "report.py")
FIX = os.path.join(ROOT, "tests", "fixtures")
PY = "/usr/bin/python3"

sys.path.insert(0, os.path.join(ROOT, "scripts"))
from adambench_report import load as report_load, tables, validate  # noqa: E402
from adambench_report.common import InputError  # noqa: E402


def load(path):
    with open(path) as f:
        return json.load(f)


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def errs(ulp, err_u, failed=0):
    return {"max_abs": 0.0, "max_rel": 0.0, "max_ulp": ulp, "max_err_u": err_u, "compared": 64, "failed": failed}


def agree_doc(results=None):
    """A small agree.json that matches schemas/agree.schema.json."""
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


class Tmp(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="report-test-")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def write(self, name, content):
        p = os.path.join(self.dir, name)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w" if isinstance(content, str) else "wb") as f:
            f.write(content)
        return p

    def run_report(self, *inputs, out=None):
        out = out or os.path.join(self.dir, "out")
        return subprocess.run([PY, SCRIPT, *inputs, "--out", out], capture_output=True, text=True, timeout=300)

    def assert_bad(self, r, *words):
        self.assertEqual(r.returncode, 2, r.stderr)
        lines = r.stderr.splitlines()
        self.assertEqual(len(lines), 1, r.stderr)
        self.assertTrue(lines[0].startswith("report: "), lines[0])
        for w in words:
            self.assertIn(w, lines[0])


class Parsing(Tmp):
    def test_classify(self):
        self.assertEqual(report_load.classify(agree_doc(), "a"), "agree")
        self.assertEqual(report_load.classify({"schema_version": 1, "kind": "converge", "runs": []}, "c"), "converge")
        self.assertEqual(report_load.classify({"context": {}, "benchmarks": []}, "s"), "speed")
        for bad in ({"hello": 1}, [], {"kind": "agree", "schema_version": 2}, {"kind": "nonsense", "schema_version": 1}, 3):
            with self.assertRaises(InputError):
                report_load.classify(bad, "x")

    def test_agree_worst_error_over_params_and_state(self):
        a = report_load.parse_agree(agree_doc(), "a")
        r = a["results"][0]
        # step, worst max_err_u over params/m/v/max_v, worst ULP of the parameters
        self.assertEqual(r["checks"][0][:3], (1, 0.5, 1.0))
        self.assertEqual(r["checks"][1][:3], (10, 0.9, 7.0))  # max_v counts for the error bound
        head, rows, failures = tables.agree_verdicts([a])
        self.assertEqual(rows[0][:5], ["eigen", 1, 1, 0, 0])
        self.assertEqual(rows[1][:5], ["fused", 0, 0, 0, 1])
        self.assertIn("no CPU kernel", rows[1][5])
        self.assertEqual(len(failures), 1)
        self.assertIn("m[0][3]", failures[0][4])

    def test_agree_missing_field(self):
        doc = agree_doc()
        del doc["results"][0]["verdict"]
        with self.assertRaisesRegex(InputError, r"results\[0\].*verdict"):
            report_load.parse_agree(doc, "a.json")
        doc = agree_doc()
        doc["results"][0]["verdict"] = "maybe"
        with self.assertRaisesRegex(InputError, "unknown verdict"):
            report_load.parse_agree(doc, "a.json")

    def test_bench_names(self):
        self.assertEqual(report_load.parse_bench_name("eigen/adam/flat_1M/threads:2/real_time"), ("eigen", "adam", "flat_1M", 2))
        self.assertEqual(report_load.parse_bench_name("probe/28B/resnet50/threads:1/real_time"), ("probe", "28B", "resnet50", 1))
        self.assertEqual(report_load.parse_bench_name("libtorch/adamw+ams/gpt2_small/threads:4"), ("libtorch", "adamw+ams", "gpt2_small", 4))

    def test_size_counters(self):
        # Sizes come from the params and tensors counters (Google Benchmark writes them as doubles), never from
        # the label or the shape's name.
        def doc(**counters):
            b = {"name": "eigen/adam/resnet50/threads:1/real_time", "run_type": "iteration", "real_time": 1.0, "time_unit": "ms",
                 "params_per_second": 1e6, "label": "1 params in 1 tensors"}
            b.update(counters)
            return {"context": {}, "benchmarks": [b]}
        r = report_load.parse_speed(doc(params=2.5557032e+07, tensors=161.0), "s")["rows"][0]
        self.assertEqual((r["numel"], r["tensors"]), (25557032, 161))
        r = report_load.parse_speed(doc(params=4096), "s")["rows"][0]
        self.assertEqual((r["numel"], r["tensors"]), (4096, None))
        with self.assertRaisesRegex(InputError, r"benchmarks\[0\].*no 'params' counter"):
            report_load.parse_speed(doc(), "s")
        for bad in (0, -4, 1.5, "4096", True, float("inf"), 1e300):
            with self.assertRaisesRegex(InputError, "counter 'params'"):
                report_load.parse_speed(doc(params=bad), "s")
        with self.assertRaisesRegex(InputError, "counter 'tensors'"):
            report_load.parse_speed(doc(params=4096, tensors=[1]), "s")

    def test_speed_fixture(self):
        s = report_load.parse_speed(load(os.path.join(FIX, "speed.json")), "speed.json")
        rows = tables.speed_table([s])
        impls = {r["impl"] for r in rows}
        self.assertIn("probe", impls)
        self.assertGreaterEqual(len(impls), 3)
        for r in rows:
            self.assertTrue(r["reps"], r["name"])
            # the counters, as the fixture's labels (written by the same run) state them
            label = next(b["label"] for b in load(os.path.join(FIX, "speed.json"))["benchmarks"] if b["run_name"] == r["name"])
            self.assertTrue(label.startswith(f"{r['numel']} params in {r['tensors']} tensors"), (r["name"], label))
            if r["impl"] != "probe":
                # the fraction of the probe: this row's params/s over the probe's median, same shape
                p = next(x for x in rows if x["impl"] == "probe" and x["shape"] == r["shape"] and x["threads"] == r["threads"])
                import numpy as np
                want = float(np.median([x["params_per_second"] for x in r["reps"]])) / float(np.median([x["params_per_second"] for x in p["reps"]]))
                self.assertAlmostEqual(r["frac"], want, delta=1e-9 + 1e-9 * want)
                self.assertLessEqual(r["frac_lo"], r["frac"])
                self.assertGreaterEqual(r["frac_hi"], r["frac"])

    def test_speed_single_repetition_and_errors(self):
        doc = {"context": {}, "benchmarks": [
            {"name": "probe/28B/flat_1K/threads:1/real_time", "run_name": "probe/28B/flat_1K/threads:1/real_time", "run_type": "iteration",
             "real_time": 1.0, "time_unit": "ms", "params_per_second": 1024e3, "bytes_per_second": 28 * 1024e3, "params": 1024.0, "tensors": 1.0},
            {"name": "eigen/adam/flat_1K/threads:1/real_time", "run_type": "iteration", "real_time": 2000, "time_unit": "ns",
             "params_per_second": 512e3, "bytes_per_second": 28 * 512e3, "params": 1024.0, "tensors": 1.0},
            {"name": "torch/adam/flat_1K/threads:1/real_time", "run_type": "iteration", "error_occurred": True, "error_message": "boom"}]}
        rows = tables.speed_table([report_load.parse_speed(doc, "s")])
        by = {r["impl"]: r for r in rows}
        self.assertAlmostEqual(by["probe"]["t_med"], 1000.0)  # ms -> us
        self.assertAlmostEqual(by["eigen"]["t_med"], 2.0)     # ns -> us
        self.assertAlmostEqual(by["eigen"]["frac"], 0.5)
        self.assertEqual(by["torch"]["error"], "boom")
        doc["benchmarks"][0]["time_unit"] = "fortnights"
        with self.assertRaisesRegex(InputError, "time_unit"):
            report_load.parse_speed(doc, "s")

    def test_gpu_bench_format(self):
        # adambench-gpu-bench (docs/cuda.md): items_per_second, fraction_of_probe, params, no threads:T,
        # the probe named by precision pattern.
        def row(name, us, rep):
            return {"name": name, "run_name": name, "run_type": "iteration", "repetition_index": rep, "real_time": us,
                    "time_unit": "us", "items_per_second": 2 ** 20 / (us * 1e-6), "bytes_per_second": 28 * 2 ** 20 / (us * 1e-6),
                    "fraction_of_probe": 0.0, "params": 2 ** 20, "label": "1 tensors, 29.4 MB working set (L2 60 MB)"}
        doc = {"context": {"gpu": "H200"}, "benchmarks": [
            row("probe/float32/flat_2^20", 10.0, 0), row("probe/float32/flat_2^20", 10.0, 1),
            row("cuda-mt/float32/flat_2^20", 12.5, 0), row("cuda-mt/float32/flat_2^20", 12.5, 1),
            {"name": "cuda-mt/float32/flat_2^20_stddev", "run_name": "cuda-mt/float32/flat_2^20", "run_type": "aggregate",
             "aggregate_name": "stddev", "real_time": 0.1, "time_unit": "us", "params": 2 ** 20}]}
        validate.validate(doc, "speed", "gpu_speed.json")  # against schemas/gpu_speed.schema.json
        self.assertEqual(validate.schema_file("speed", doc), "gpu_speed.schema.json")
        rows = {r["impl"]: r for r in tables.speed_table([report_load.parse_speed(doc, "gpu_speed.json")])}
        self.assertEqual(rows["cuda-mt"]["numel"], 2 ** 20)
        self.assertAlmostEqual(rows["cuda-mt"]["frac"], 0.8)

    def test_converge_fixture(self):
        path = os.path.join(FIX, "converge", "converge.json")
        c = report_load.parse_converge(load(path), path)
        self.assertTrue(c["runs"])
        for r in c["runs"]:
            if r["verdict"] in ("ok", "diverged"):
                self.assertIsNotNone(r["curve"])
                self.assertEqual(r["curve"]["step"][0], 0)
        self.assertTrue(any(a["has_target"] for a in c["aggregates"]))
        batches = {a["batch"] for a in c["aggregates"]}
        self.assertGreater(len(batches), 1)

    def test_converge_missing_or_bad_curve(self):
        src = os.path.join(FIX, "converge")
        dst = os.path.join(self.dir, "conv")
        shutil.copytree(src, dst)
        j = load(os.path.join(dst, "converge.json"))
        first = next(r["curve_csv"] for r in j["runs"] if r.get("curve_csv"))
        with open(os.path.join(dst, first), "a") as f:
            f.write("12,x,0.1,1,1,1,0.5\n")
        with self.assertRaisesRegex(InputError, "is not a number"):
            report_load.parse_converge(j, os.path.join(dst, "converge.json"))
        os.remove(os.path.join(dst, first))
        with self.assertRaisesRegex(InputError, "missing"):
            report_load.parse_converge(j, os.path.join(dst, "converge.json"))


class CommandLine(Tmp):
    def test_bad_inputs_exit_2_with_one_line(self):
        cases = {
            "truncated": ('{"schema_version": 1, "kind": "agree", "results": [{"case"', "not valid JSON"),
            "foreign": ('{"name": "package.json", "version": "1.0"}', "not an adambench result"),
            "future": ('{"schema_version": 9, "kind": "agree", "results": []}', "schema_version 9"),
            "unknown_kind": ('{"schema_version": 1, "kind": "nonsense"}', "unknown result kind"),
            "empty": ("", "empty file"),
            "binary": (b"\x7fELF\x02\x01\x01\x00\xff\xfe", "not a text file"),
            "not_a_list": (json.dumps(dict(agree_doc(), results={})), "at $.results: {} is not of type 'array'"),
            "gbench_bad": ('{"context": {}, "benchmarks": [{"name": "x"}]}', "does not match schemas/speed.schema.json at $.context"),
            "wrong_type": (json.dumps(dict(agree_doc(), summary={"passed": 1, "failed": "zz", "skipped": 0})),
                           "at $.summary.failed: 'zz' is not of type 'integer'"),
            "bad_verdict": (json.dumps(agree_doc([dict(agree_doc()["results"][1], verdict="maybe")])),
                            "at $.results[0].verdict: 'maybe' is not one of"),
        }
        for name, (content, words) in cases.items():
            with self.subTest(name):
                p = self.write(f"{name}.json", content)
                r = self.run_report(p)
                self.assert_bad(r, p, words)
                self.assertFalse(os.path.exists(os.path.join(self.dir, "out", "index.html")))

    def test_missing_path_empty_folder_and_bad_option(self):
        self.assert_bad(self.run_report(os.path.join(self.dir, "nope")), "no such file or folder")
        os.makedirs(os.path.join(self.dir, "empty"))
        self.assert_bad(self.run_report(os.path.join(self.dir, "empty")), "no result files")
        r = subprocess.run([PY, SCRIPT, "x.json"], capture_output=True, text=True)  # no --out
        self.assert_bad(r, "--out")
        p = self.write("a/agree.json", json.dumps(agree_doc()))
        self.assert_bad(self.run_report(p, out=p), "--out")  # a file, not a folder

    def test_bad_file_inside_a_folder(self):
        self.write("res/agree.json", json.dumps(agree_doc()))
        bad = self.write("res/sub/other.json", "[1, 2")
        self.assert_bad(self.run_report(os.path.join(self.dir, "res")), bad)

    def test_agree_only_report(self):
        p = self.write("a/agree.json", json.dumps(agree_doc()))
        r = self.run_report(p)
        self.assertEqual(r.returncode, 0, r.stderr)
        out = os.path.join(self.dir, "out")
        self.assertEqual(sorted(os.listdir(out)), ["fig-agree-error.svg", "index.html", "summary.md"])
        page = read(os.path.join(out, "index.html"))
        self.assertEqual(page.count("<figure"), 1)
        self.assertIn("No speed results", page)
        self.assertIn("No convergence results", page)
        self.assertIn("first mismatch", page.lower())
        md = read(os.path.join(out, "summary.md"))
        self.assertIn("![Agreement error against step count](fig-agree-error.svg)", md)
        self.assertIn("| eigen | 1 | 1 | 0 | 0 |", md)

    def test_full_report_from_fixtures(self):
        r = self.run_report(os.path.join(FIX, "speed.json"), os.path.join(FIX, "converge"))
        self.assertEqual(r.returncode, 0, r.stderr)
        out = os.path.join(self.dir, "out")
        names = sorted(os.listdir(out))
        for f in ("fig-loss-curves.svg", "fig-steps-to-target.svg", "fig-speed-size.svg", "fig-speed-models.svg"):
            self.assertIn(f, names)
        page = read(os.path.join(out, "index.html"))
        self.assertEqual(page.count("<figure"), 4)
        self.assertIn("No agreement results", page)
        # Inline SVG ids are unique across the page (each figure's are prefixed).
        import re
        ids = re.findall(r'\bid="([^"]+)"', page)
        self.assertEqual(len(ids), len(set(ids)))


if __name__ == "__main__":
    unittest.main()
