"""Unit tests of scripts/report.py's input handling (parsing, classification, bad input -> exit 2).

    cd tests/report && /usr/bin/python3 -B -m unittest -v test_report

Inputs are the stored fixtures (tests/fixtures/, made by `adambench speed` and `adambench converge`)
and small hand-made files for the edge cases.
"""
import contextlib
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import types
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SCRIPT = os.path.join(ROOT, "scripts", "report.py")
FIX = os.path.join(ROOT, "tests", "fixtures")
PY = "/usr/bin/python3"

sys.path.insert(0, os.path.join(ROOT, "scripts"))
from adambench_report import agree, cli, converge, load as report_load, page as page_mod, speed, validate, verdict as verdict_mod  # noqa: E402
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


def run_main(argv, real=False):
    if real:
        return subprocess.run([PY, SCRIPT, *argv], capture_output=True, text=True, timeout=300)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = cli.main(argv)
        except SystemExit as e:
            code = e.code
    return types.SimpleNamespace(returncode=code, stdout=out.getvalue(), stderr=err.getvalue())


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

    def run_report(self, *inputs, out=None, real=False):
        """report.py's main in this process (fast), or with real=True the script in a new process."""
        out = out or os.path.join(self.dir, "out")
        return run_main([*inputs, "--out", out], real)

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
        a = agree.parse_agree(agree_doc(), "a")
        r = a["results"][0]
        # step, worst max_err_u over params/m/v/max_v, worst ULP of the parameters
        self.assertEqual(r["checks"][0][:3], (1, 0.5, 1.0))
        self.assertEqual(r["checks"][1][:3], (10, 0.9, 7.0))  # max_v counts for the error bound
        head, rows, failures = agree.agree_verdicts([a])
        self.assertEqual(rows[0][:5], ["eigen", 1, 1, 0, 0])
        self.assertEqual(rows[1][:5], ["fused", 0, 0, 0, 1])
        self.assertIn("no CPU kernel", rows[1][5])
        self.assertEqual(len(failures), 1)
        self.assertIn("m[0][3]", failures[0][4])

    def test_agree_missing_field(self):
        doc = agree_doc()
        del doc["results"][0]["verdict"]
        with self.assertRaisesRegex(InputError, r"results\[0\].*verdict"):
            agree.parse_agree(doc, "a.json")
        doc = agree_doc()
        doc["results"][0]["verdict"] = "maybe"
        with self.assertRaisesRegex(InputError, "unknown verdict"):
            agree.parse_agree(doc, "a.json")

    def test_bench_names(self):
        self.assertEqual(speed.parse_bench_name("eigen/adam/flat_1M/threads:2/real_time"), ("eigen", "adam", "flat_1M", 2))
        self.assertEqual(speed.parse_bench_name("probe/28B/resnet50/threads:1/real_time"), ("probe", "28B", "resnet50", 1))
        self.assertEqual(speed.parse_bench_name("libtorch/adamw+ams/gpt2_small/threads:4"), ("libtorch", "adamw+ams", "gpt2_small", 4))

    def test_size_counters(self):
        # Sizes come from the params and tensors counters (Google Benchmark writes them as doubles), never from
        # the label or the shape's name.
        def doc(**counters):
            b = {"name": "eigen/adam/resnet50/threads:1/real_time", "run_type": "iteration", "real_time": 1.0, "time_unit": "ms",
                 "params_per_second": 1e6, "label": "1 params in 1 tensors"}
            b.update(counters)
            return {"context": {}, "benchmarks": [b]}
        r = speed.parse_speed(doc(params=2.5557032e+07, tensors=161.0), "s")["rows"][0]
        self.assertEqual((r["numel"], r["tensors"]), (25557032, 161))
        r = speed.parse_speed(doc(params=4096), "s")["rows"][0]
        self.assertEqual((r["numel"], r["tensors"]), (4096, None))
        with self.assertRaisesRegex(InputError, r"benchmarks\[0\].*no 'params' counter"):
            speed.parse_speed(doc(), "s")
        for bad in (0, -4, 1.5, "4096", True, float("inf"), 1e300):
            with self.assertRaisesRegex(InputError, "counter 'params'"):
                speed.parse_speed(doc(params=bad), "s")
        with self.assertRaisesRegex(InputError, "counter 'tensors'"):
            speed.parse_speed(doc(params=4096, tensors=[1]), "s")

    def test_speed_fixture(self):
        s = speed.parse_speed(load(os.path.join(FIX, "speed.json")), "speed.json")
        rows = speed.speed_table([s])
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
                if want > 1.03:  # the fixture holds rows above the limit: flagged, no fraction shown
                    self.assertTrue(r["over_limit"], r["name"])
                    self.assertNotIn("frac", r)
                    self.assertAlmostEqual(r["frac_flagged"], want, delta=1e-9 + 1e-9 * want)
                    continue
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
        rows = speed.speed_table([speed.parse_speed(doc, "s")])
        by = {r["impl"]: r for r in rows}
        self.assertAlmostEqual(by["probe"]["t_med"], 1000.0)  # ms -> us
        self.assertAlmostEqual(by["eigen"]["t_med"], 2.0)     # ns -> us
        self.assertAlmostEqual(by["eigen"]["frac"], 0.5)
        self.assertEqual(by["torch"]["error"], "boom")
        doc["benchmarks"][0]["time_unit"] = "fortnights"
        with self.assertRaisesRegex(InputError, "time_unit"):
            speed.parse_speed(doc, "s")

    def test_speed_above_the_limit_is_never_a_result(self):
        def rows_of(eigen_pps, flag=None):
            e = {"name": "eigen/adam/flat_1K/threads:1/real_time", "run_type": "iteration", "real_time": 1.0, "time_unit": "us",
                 "params_per_second": eigen_pps, "bytes_per_second": 28 * eigen_pps, "params": 1024.0, "tensors": 1.0}
            if flag is not None:
                e["over_limit"] = flag
            doc = {"context": {}, "benchmarks": [
                {"name": "probe/28B/flat_1K/threads:1/real_time", "run_type": "iteration", "real_time": 1.0, "time_unit": "us",
                 "params_per_second": 1e9, "bytes_per_second": 28e9, "params": 1024.0, "tensors": 1.0}, e]}
            return {r["impl"]: r for r in speed.speed_table([speed.parse_speed(doc, "s")])}
        by = rows_of(1.08e9)  # 108% of the limit, no flag in the file: the report applies the 103% rule itself
        self.assertNotIn("frac", by["eigen"])
        self.assertTrue(by["eigen"]["over_limit"])
        cell = speed.speed_rows_table(list(by.values()))[1][1][-1]
        self.assertIn("measurement problem", cell)
        self.assertIn("frac", rows_of(1.02e9)["eigen"])       # within noise of the limit: a result
        self.assertNotIn("frac", rows_of(0.9e9, True)["eigen"])  # flagged by the harness: never shown
        from adambench_report import figures
        self.assertIsNone(speed.fig_speed_models(list(rows_of(1.08e9).values()), figures.Colors()))

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
        rows = {r["impl"]: r for r in speed.speed_table([speed.parse_speed(doc, "gpu_speed.json")])}
        self.assertEqual(rows["cuda-mt"]["numel"], 2 ** 20)
        self.assertAlmostEqual(rows["cuda-mt"]["frac"], 0.8)

    def test_converge_fixture(self):
        path = os.path.join(FIX, "converge", "converge.json")
        c = converge.parse_converge(load(path), path)
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
            converge.parse_converge(j, os.path.join(dst, "converge.json"))
        os.remove(os.path.join(dst, first))
        with self.assertRaisesRegex(InputError, "missing"):
            converge.parse_converge(j, os.path.join(dst, "converge.json"))


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
                r = self.run_report(p, real=name == "truncated")
                self.assert_bad(r, p, words)
                self.assertFalse(os.path.exists(os.path.join(self.dir, "out", "index.html")))

    def test_missing_path_empty_folder_and_bad_option(self):
        self.assert_bad(self.run_report(os.path.join(self.dir, "nope")), "no such file or folder")
        os.makedirs(os.path.join(self.dir, "empty"))
        self.assert_bad(self.run_report(os.path.join(self.dir, "empty")), "no result files")
        r = run_main(["x.json"], real=True)  # no --out
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
        r = self.run_report(os.path.join(FIX, "speed.json"), os.path.join(FIX, "converge"), real=True)
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


class Counted(Tmp):
    """count.json (`adambench count`, tests/fixtures/count.json): the counted section, its figures and
    its share of the verdict line."""

    def report(self, doc, name="c/count.json"):
        r = self.run_report(self.write(name, json.dumps(doc)))
        self.assertEqual(r.returncode, 0, r.stderr)
        out = os.path.join(self.dir, "out")
        return read(os.path.join(out, "summary.md")), sorted(os.listdir(out)), read(os.path.join(out, "index.html"))

    def test_fixture_section_and_verdict(self):
        md, names, page = self.report(load(os.path.join(FIX, "count.json")))
        first = md.split("\n", 1)[0]
        self.assertTrue(first.startswith("✅ no failure: 8 counted benchmarks checked (4 counted benchmarks skipped)"), first)
        for f in ("fig-count-bytes.svg", "fig-count-instructions.svg"):
            self.assertIn(f, names)
        self.assertIn("Counted speed", md)
        self.assertIn("minimum traffic 28 B/param", page)  # the dashed line's legend (matplotlib names its text in SVG comments)
        self.assertIn("fits in the simulated LL", page)

    def test_below_minimum_and_errors_fail_the_verdict(self):
        doc = load(os.path.join(FIX, "count.json"))
        big = next(r for r in doc["results"] if r["verdict"] == "counted" and not r["fits_in_ll"])
        big["below_minimum"] = True
        big["per_param"]["dram_bytes"] = 16.0
        doc["results"].append({"name": "eigen/adamw/flat_4K/threads:1", "impl": "eigen", "verdict": "error", "reason": "no Callgrind dump"})
        md, _, page = self.report(doc)
        first = md.split("\n", 1)[0]
        self.assertTrue(first.startswith("❌ 1 counting error, 1 counted figure below the physical minimum"), first)
        self.assertIn("measurement problem", page)

    def test_interrupted_and_schema(self):
        doc = dict(load(os.path.join(FIX, "count.json")), interrupted=True, stopped_before="eigen/adam/flat_1M/threads:1")
        md, _, page = self.report(doc)
        self.assertTrue(md.startswith("⚠️ incomplete"), md[:100])
        self.assertIn("stopped before eigen/adam/flat_1M/threads:1", page)
        bad = load(os.path.join(FIX, "count.json"))
        del bad["results"][0]["per_step"]
        self.assert_bad(self.run_report(self.write("bad/count.json", json.dumps(bad))), "count.schema.json", "$.results[0]")


class VerdictAndSummary(Tmp):
    """The verdict opens summary.md and index.html; interrupted runs get a banner; summary.md stays
    under 60,000 characters whatever the input."""

    def report(self, *inputs):
        r = self.run_report(*inputs)
        self.assertEqual(r.returncode, 0, r.stderr)
        out = os.path.join(self.dir, "out")
        return read(os.path.join(out, "summary.md")), read(os.path.join(out, "index.html"))

    def opens_with(self, md, page, start):
        first = md.split("\n", 1)[0]
        self.assertTrue(first.startswith(start), first)
        body = page[page.index("<body>") + len("<body>"):].lstrip()
        self.assertTrue(body.startswith('<p class="verdict'), body[:200])
        # The page draws the mark in SVG (a browser without an emoji font shows ✅ as an empty box).
        emoji, level = next((e, lv) for e, lv in (("✅", "pass"), ("❌", "fail"), ("⚠️", "warn")) if first.startswith(e))
        head = body[:body.index("</p>")]
        self.assertIn(f'<svg class="mark" viewBox="0 0 16 16" role="img" aria-label="{level}">', head)
        self.assertNotIn(emoji, head)
        import html
        self.assertTrue(head.endswith("</svg> " + html.escape(first[len(emoji):].lstrip())), head[-300:])
        return first

    def test_pass_fail_and_nothing_checked(self):
        doc = agree_doc()
        first = self.opens_with(*self.report(self.write("a/agree.json", json.dumps(doc))), "❌")
        self.assertIn("1 disagreement", first)
        self.assertIn("2 agreement results checked (1 agreement results skipped)", first)
        doc["results"] = [doc["results"][0]]
        first = self.opens_with(*self.report(self.write("b/agree.json", json.dumps(doc))), "✅ no failure")
        self.assertIn("1 agreement results checked", first)
        doc["results"] = [agree_doc()["results"][1]]  # only a skipped case
        first = self.opens_with(*self.report(self.write("c/agree.json", json.dumps(doc))), "⚠️ nothing checked")
        self.assertIn("skipped", first)
        self.opens_with(*self.report(os.path.join(FIX, "speed.json")), "⚠️ nothing checked")

    def test_interrupted_banner(self):
        doc = dict(agree_doc(), interrupted=True, stopped_before="case c9")
        doc["results"] = [doc["results"][0]]
        md, page = self.report(self.write("a/agree.json", json.dumps(doc)))
        self.opens_with(md, page, "⚠️ incomplete")
        self.assertIn('<p class="banner">⚠️', page)
        self.assertIn("interrupted (stopped before case c9)", page)
        self.assertIn("> ⚠️ **", md.split("\n")[2])
        doc = dict(doc, interrupted=False)
        md, page = self.report(self.write("b/agree.json", json.dumps(doc)))
        self.assertNotIn('class="banner"', page)

    def converge_copy(self, expect=None, unmet=()):
        dst = os.path.join(self.dir, "conv")
        shutil.rmtree(dst, ignore_errors=True)
        shutil.copytree(os.path.join(FIX, "converge"), dst)
        j = load(os.path.join(dst, "converge.json"))
        diverged = [r for r in j["runs"] if r["verdict"] == "diverged"]
        self.assertTrue(diverged)  # the fixture has runs that diverge (sgd-momentum on quadratic)
        for r in diverged:
            if expect:
                r["expect"] = expect
        j["expectations_unmet"] = list(unmet)
        j["summary"]["expectations_unmet"] = len(unmet)
        with open(os.path.join(dst, "converge.json"), "w") as f:
            json.dump(j, f)
        return dst, len(diverged)

    def test_expected_divergence_is_not_a_failure(self):
        conv, n = self.converge_copy(expect="diverge")
        md, page = self.report(conv)
        self.opens_with(md, page, "✅ no failure")
        head, rows = converge.converge_verdicts([converge.parse_converge(load(os.path.join(conv, "converge.json")),
                                                                           os.path.join(conv, "converge.json"))])
        col = head.index("diverged as expected")
        self.assertEqual(sum(r[col] for r in rows), n)
        self.assertEqual(sum(r[head.index("diverged")] for r in rows), 0)
        self.assertNotIn('class="n fail"', page)  # nothing drawn as a red failure
        # The same divergence against a stated expectation to reach the target: a red failure.
        conv, n = self.converge_copy(expect="target", unmet=["quadratic/b8/s0 sgd-momentum: expected to reach val_loss <= 1, diverged"])
        md, page = self.report(conv)
        self.opens_with(md, page, "❌ 1 unmet convergence expectation")
        self.assertIn('<td class="fail">quadratic/b8/s0 sgd-momentum', page)

    def test_summary_is_short_whatever_the_input(self):
        doc = agree_doc()
        fail = doc["results"][2]
        doc["results"] = [dict(fail, case=f"case_{i}_" + "c" * 300, impl=f"impl{i % 7}", reason="r" * 5000) for i in range(100)]
        for k in range(45):
            self.write(f"many/{k:03d}_{'p' * 150}/agree.json", json.dumps(dict(doc, interrupted=k % 2 == 0)))
        md, page = self.report(os.path.join(self.dir, "many"))
        self.assertLessEqual(len(md), 60000)
        self.assertTrue(md.startswith("❌ 4500 disagreements"), md[:100])
        for want in ("… and 3 more interrupted runs", "… and 25 more files", "<details><summary>4500 rows</summary>"):
            self.assertTrue(want in md, want)
        self.assertRegex(md, r"… and 4\d\d\d more rows \(all in index.html\)")
        self.assertEqual(md.count("<details>"), md.count("</details>"))
        # A long --title cannot make it long either.
        r = run_main([os.path.join(self.dir, "many"), "--out", os.path.join(self.dir, "t"), "--title", "T" * 100000])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertLessEqual(len(read(os.path.join(self.dir, "t", "summary.md"))), 60000)

    def test_summary_cut_keeps_the_verdict(self):
        # Sections that stay long without their tables (a kind's long notes, say) are cut at a line.
        v = verdict_mod.Verdict("pass", "✅ no failure: 1 agreement results checked", [])
        sections = [(f"S{i}", [("note", "n" * 700)] * 10) for i in range(20)]
        md = page_mod.summary_md("t", v, [], sections)
        self.assertLessEqual(len(md), 60000)
        self.assertTrue(md.startswith(v.line + "\n"))
        self.assertTrue(md.endswith("(the whole report is in index.html)\n"), md[-200:])


class Registry(Tmp):
    """One module per result kind: the core names no kind, and a new kind is one module registered."""

    CORE = ("common", "load", "validate", "figures", "verdict", "page")

    def test_the_core_names_no_kind(self):
        import ast
        from adambench_report import sections
        kinds = set(sections.KINDS) | set(report_load.PARSERS)
        for name in self.CORE:
            path = os.path.join(ROOT, "scripts", "adambench_report", f"{name}.py")
            with self.subTest(name):
                tree = ast.parse(read(path))
                named = sorted({n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and n.value in kinds}
                               | {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module in kinds})
                self.assertEqual(named, [], f"{path} names result kinds: the kind's own module should")

    def test_a_kind_is_one_module(self):
        from adambench_report import sections
        schemas = os.path.join(self.dir, "schemas")
        os.makedirs(schemas)
        self.write("schemas/demo.schema.json", json.dumps({"type": "object", "required": ["things"]}))
        demo = types.ModuleType("demo")
        demo.KINDS = {"demo": lambda j, path: {"path": path, "context": {}, "things": j["things"]}}
        demo.SCHEMAS = {"demo": "demo.schema.json"}
        demo.SECTIONS = [lambda data, colors: ("Demo things", [("table", "Things", ["thing"], [[t] for t in d["things"]])
                                                                  for d in data["demo"]]) if data["demo"] else None]
        demo.VERDICT_PARTS = [lambda data: verdict_mod.Part([(sum(len(d["things"]) for d in data["demo"]), "demo things")],
                                                            [], [], [], [])]
        saved_dir = validate.SCHEMA_DIR
        sections.register(demo)
        try:
            validate.SCHEMA_DIR = schemas
            ok = self.run_report(self.write("d/demo.json", json.dumps({"kind": "demo", "schema_version": 1, "things": ["x", "y"]})))
            bad = self.run_report(self.write("e/demo.json", json.dumps({"kind": "demo", "schema_version": 1})), out=os.path.join(self.dir, "o2"))
        finally:
            validate.SCHEMA_DIR = saved_dir
            sections.MODULES.remove(demo)
            sections.rebuild()
        self.assertEqual(ok.returncode, 0, ok.stderr)
        md = read(os.path.join(self.dir, "out", "summary.md"))
        self.assertTrue(md.startswith("✅ no failure: 2 demo things checked"), md[:200])
        self.assertIn("## Demo things", md)
        self.assertIn("| y |", md)
        self.assert_bad(bad, "demo.schema.json", "'things' is a required property")
        self.assertNotIn("demo", report_load.PARSERS)  # unregistered again
        self.assertEqual(self.run_report(self.write("f/demo.json", json.dumps({"kind": "demo", "schema_version": 1, "things": []})),
                                         out=os.path.join(self.dir, "o3")).returncode, 2)


if __name__ == "__main__":
    unittest.main()
