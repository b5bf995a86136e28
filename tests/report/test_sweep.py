"""Unit tests of the report's sweep module (scripts/adambench_report/sweep.py) on a synthetic sweep
whose right answers are known by construction (tests/report/make_sweep_fixture.py):

    cd tests/report && /usr/bin/python3 -B -m unittest -v test_sweep

Each test also plants a change in the fixture that its assertion must notice.
"""
import copy
import json
import math
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
FIXTURE = os.path.join(ROOT, "tests", "fixtures", "sweep.json")
SCRIPT = os.path.join(ROOT, "scripts", "report.py")
PY = "/usr/bin/python3"

sys.path.insert(0, os.path.join(ROOT, "scripts"))
from adambench_report import sections, sweep  # noqa: E402,F401  (sections registers the sweep extension)
from adambench_report.common import InputError  # noqa: E402


def fixture():
    with open(FIXTURE) as f:
        return json.load(f)


def studies_of(doc):
    return sweep.studies([sweep.parse_sweep(doc, "sweep.json")])


class Parse(unittest.TestCase):
    def test_points_pooled_per_setting(self):
        res = sweep.parse_sweep(fixture(), "sweep.json")
        # lr-batch: 8 lr × 4 batch × 2 impls; ofat: (4 lr + 1 diverged lr + 3 β1 + 2 eps + 1 β2 + 5 algo×wd) × 2
        self.assertEqual(len(res["rows"]), 64 + 32)
        self.assertTrue(all(len(r["runs"]) == 3 for r in res["rows"]))

    def test_shards_merge_by_setting(self):
        doc = fixture()
        one_run_each = []
        for p in doc["points"]:
            for r in p["runs"]:
                q = {k: v for k, v in p.items() if k != "runs"}
                q.update(r)
                one_run_each.append(q)
        doc["points"] = one_run_each
        res = sweep.parse_sweep(doc, "sweep.json")
        self.assertEqual(len(res["rows"]), 96)
        self.assertTrue(all(len(r["runs"]) == 3 for r in res["rows"]))

    def test_bad_input_names_where(self):
        for mutate, words in ((lambda d: d.pop("points"), "missing 'points'"),
                              (lambda d: d["points"][3].pop("impl"), "points[3]: missing 'impl'"),
                              (lambda d: d["points"][0]["factors"].update(lr=[1]), "factor 'lr'"),
                              (lambda d: d["claims"][1].update(verdict="probably"), "claims[1]: verdict 'probably'"),
                              (lambda d: d["points"][5].pop("runs"), "points[5]: no 'runs'")):
            doc = fixture()
            mutate(doc)
            with self.assertRaises(InputError) as cm:
                sweep.parse_sweep(doc, "sweep.json")
            self.assertIn(words, str(cm.exception))


def tune_layout(doc):
    """The fixture in adambench sweep's own layout: 'settings', 'is_base', flat final_* run metrics,
    run verdicts, point summaries; plus an errored run that must be left out."""
    for p in doc["points"]:
        p["settings"] = p.pop("factors")
        p["final_val_loss"] = {"median": None, "ci95": [None, None]}
        runs = []
        for r in p["runs"]:
            div = r["diverged_at_step"] is not None
            runs.append({"seed": r["seed"], "verdict": "diverged" if div else "ok", "diverged_at_step": r["diverged_at_step"],
                         "final_train_loss": None if div else r["final"]["train_loss"],
                         "final_val_loss": None if div else r["final"]["val_loss"]})
        runs.append({"seed": 9, "verdict": "error", "diverged_at_step": None, "final_val_loss": None})
        p["runs"] = runs
    return doc


class Layouts(unittest.TestCase):
    def test_adambench_sweep_layout_reads_the_same(self):
        ours = studies_of(fixture())
        theirs = studies_of(tune_layout(fixture()))
        self.assertEqual(sweep.impl_spread(theirs), sweep.impl_spread(ours))
        self.assertEqual(sweep.gap_rows(theirs), sweep.gap_rows(ours))
        self.assertEqual(sweep.scaling_fit(sweep.grids(theirs)[0][3], "val_loss")[1:],
                         sweep.scaling_fit(sweep.grids(ours)[0][3], "val_loss")[1:])
        self.assertTrue(all(len(r["runs"]) == 3 for s in theirs.values() for r in s["rows"]))  # the error run left out

    def test_both_layouts_match_the_schema(self):
        from adambench_report import validate
        validate.validate(fixture(), "sweep", "sweep.json")
        validate.validate(tune_layout(fixture()), "sweep", "sweep.json")
        doc = fixture()
        doc["points"][0]["runs"][0]["diverged_at_step"] = "soon"
        with self.assertRaises(InputError) as cm:
            validate.validate(doc, "sweep", "sweep.json")
        self.assertIn("$.points[0].runs[0].diverged_at_step", str(cm.exception))


class Figures(unittest.TestCase):
    def test_base_and_swept_factors(self):
        st = studies_of(fixture())
        self.assertEqual(st["ofat"]["swept"], ["lr", "beta1", "eps", "beta2", "weight_decay", "algo"])
        self.assertEqual(st["ofat"]["base"]["lr"], 1e-3)
        self.assertEqual(st["lr-batch"]["swept"], ["lr", "batch_size"])

    def test_factor_series_marks_diverged(self):
        st = studies_of(fixture())
        ser = sweep.factor_series(st["ofat"], "lr", "val_loss")
        self.assertEqual([t[0] for t in ser["eigen"]], [1e-5, 1e-4, 1e-3, 1e-2, 0.1])
        self.assertTrue(math.isnan(ser["eigen"][-1][1]))      # lr 0.1: every seed diverged
        self.assertAlmostEqual(ser["eigen"][2][1], 0.46)       # median of 0.45, 0.46, 0.47
        self.assertAlmostEqual(ser["eigen"][2][2], 0.45)       # band: the seed range
        self.assertAlmostEqual(ser["eigen"][2][3], 0.47)
        self.assertTrue(sweep.is_log_factor([t[0] for t in ser["eigen"]]))
        self.assertFalse(sweep.is_log_factor([0.5, 0.8, 0.9]))

    def test_half_the_seeds_diverged_is_a_diverged_point(self):
        doc = fixture()
        for p in doc["points"]:
            if p["study"] == "ofat" and p["factors"]["lr"] == 1e-2 and p["factors"]["beta1"] == 0.9:
                for r in p["runs"][:2]:
                    r["diverged_at_step"] = 7
        ser = sweep.factor_series(studies_of(doc)["ofat"], "lr", "val_loss")
        self.assertTrue(math.isnan(ser["eigen"][3][1]))

    def test_heatmap_shows_the_diverged_cell(self):
        st = studies_of(fixture())
        gs = sweep.grids(st)
        self.assertEqual([(g[0], g[2]) for g in gs], [("lr-batch", "eigen"), ("lr-batch", "libtorch")])
        lrs, bs, med, state = sweep.heatmap_matrix(gs[0][3], "val_loss")
        self.assertEqual(bs, [16.0, 64.0, 256.0, 1024.0])
        diverged = [(lrs[j], bs[i]) for i in range(len(bs)) for j in range(len(lrs)) if state[i][j] == "diverged"]
        self.assertEqual(diverged, [(0.0128, 16.0)])
        # libtorch's lone diverged seed at (0.0064, 16) does not make the cell diverged
        self.assertEqual(sweep.heatmap_matrix(gs[1][3], "val_loss")[3][0][6], "ok")

    def test_best_lr_scales_with_the_square_root(self):
        gs = sweep.grids(studies_of(fixture()))
        best, k, lo, hi = sweep.scaling_fit(gs[0][3], "val_loss")
        self.assertEqual({b: v[0] for b, v in best.items()}, {16.0: 0.0008, 64.0: 0.0016, 256.0: 0.0032, 1024.0: 0.0064})
        self.assertAlmostEqual(k, 0.5, places=9)
        self.assertIn("nearer square-root (0.5); the interval holds 0.5 only", sweep.scaling_verdict(k, lo, hi))

    def test_linear_scaling_is_recognised(self):
        doc = fixture()
        for p in doc["points"]:  # move each batch's optimum to lr_opt ∝ batch: the exponent becomes 1
            if p["study"] == "lr-batch":
                b, lr = p["factors"]["batch_size"], p["factors"]["lr"]
                opt = 1.6e-3 * b / 64
                for r in p["runs"]:
                    if r["diverged_at_step"] is None:
                        r["final"]["val_loss"] = 0.1 + 0.02 * math.log2(lr / opt) ** 2 + 0.002 * (r["seed"] - 1)
        gs = sweep.grids(studies_of(doc))
        _best, k, lo, hi = sweep.scaling_fit(gs[0][3], "val_loss")
        self.assertGreater(k, 0.75)
        self.assertIn("nearer linear (1)", sweep.scaling_verdict(k, lo, hi))

    def test_gap_at_matched_settings(self):
        rows = sweep.gap_rows(studies_of(fixture()))
        eig = {(r[2], r[3]): r[4] for r in rows if r[1] == "eigen"}
        self.assertEqual(set(eig), {(0.0, "Adam"), (0.0, "AdamW"), (0.0, "SGD-momentum"),
                                    (0.01, "Adam + L2"), (0.01, "AdamW"), (0.01, "SGD-momentum")})
        self.assertAlmostEqual(eig[(0.01, "Adam + L2")], 0.30)
        self.assertAlmostEqual(eig[(0.01, "AdamW")], 0.20)
        self.assertAlmostEqual(eig[(0.01, "SGD-momentum")], 0.15)
        # points off the base in another factor (lr, β1, ...) are not "matched settings"
        self.assertEqual(len(rows), 12)

    def test_where_implementations_part_ways(self):
        spread = sweep.impl_spread(studies_of(fixture()))
        worst = sorted((t for t in spread if not t[2]), key=lambda t: -t[3])
        self.assertEqual((worst[0][0], worst[0][1]), ("lr-batch", "lr=0.0064, batch_size=16"))
        self.assertTrue(math.isinf(worst[0][3]))
        self.assertIn("libtorch diverged at seed 2", worst[0][5])
        self.assertEqual((worst[1][0], worst[1][1]), ("ofat", "lr=0.01"))
        self.assertAlmostEqual(worst[1][3], 0.05 / 1.05, places=6)
        base = {t[0]: t[3] for t in spread if t[2]}
        self.assertAlmostEqual(base["ofat"], 2e-7 / (1 + 2e-7), places=12)
        # identical implementations: no spread anywhere
        doc = fixture()
        for p in doc["points"]:
            if p["impl"] == "libtorch":
                p["impl"] = "eigen2"
                twin = next(q for q in doc["points"] if q["impl"] == "eigen" and q["factors"] == p["factors"]
                            and q["study"] == p["study"])
                p["runs"] = copy.deepcopy(twin["runs"])
        self.assertEqual(max(t[3] for t in sweep.impl_spread(studies_of(doc))), 0.0)

    def test_claims_link_to_figures_on_the_page(self):
        res = sweep.parse_sweep(fixture(), "sweep.json")
        head, rows, notes = sweep.claims_table([res], {"sweep-eps", "sweep-gap", "sweep-lr-scaling", "sweep-lr"})
        self.assertEqual(head[-1], "figure")
        self.assertEqual([r[-1] for r in rows], ["#fig-sweep-eps", "#fig-sweep-gap", "#fig-sweep-lr-scaling", "—"])
        self.assertEqual([r[5] for r in rows], ["inconclusive", "holds here", "does not hold here", "inconclusive"])
        self.assertEqual(rows[0][4], "[-0.03, 0.008]")
        self.assertIn("Interval: bootstrap, 3 seeds", notes)
        self.assertTrue(any(n.startswith("Verdict rule: holds here when") for n in notes))
        # a figure that is not on the page is not linked
        _h, rows, _n = sweep.claims_table([res], set())
        self.assertEqual({r[-1] for r in rows}, {"—"})

    def test_adambench_sweep_claims_find_their_figure(self):
        # adambench sweep's own claim format: effect {median, ci95}, settings a and b, figure = the study
        doc = fixture()
        doc["verdict_rule"] = "the runner's rule"
        doc["claims"] = [
            {"study": "ofat", "advice": "lower beta1", "compared": "beta1 0.8 against 0.9", "metric": "final_val_loss",
             "a": {"beta1": 0.8}, "b": {"beta1": 0.9}, "effect": {"median": -0.1, "ci95": [-0.2, -0.05]},
             "verdict": "does not hold here", "why": "interval below min_effect", "figure": "ofat"},
            {"study": "ofat", "advice": "AdamW over L2", "metric": "gap", "a": {"algo": "adamw", "weight_decay": 0.01},
             "b": {"algo": "adam", "weight_decay": 0.01}, "effect": {"median": 0.3, "ci95": [0.2, 0.4]},
             "verdict": "holds here", "figure": "ofat"},
            {"study": "lr-batch", "advice": "lr ∝ batch", "kind": "lr_batch_exponent", "metric": "final_val_loss",
             "effect": {"median": 0.5, "ci95": [0.4, 0.6]}, "verdict": "does not hold here", "figure": "lr-batch"}]
        res = sweep.parse_sweep(doc, "sweep.json")
        keys = {"sweep-lr", "sweep-beta1", "sweep-algo", "sweep-gap", "sweep-lr-scaling"}
        head, rows, notes = sweep.claims_table([res], keys, studies_of(doc))
        self.assertEqual([r[-1] for r in rows], ["#fig-sweep-beta1", "#fig-sweep-gap", "#fig-sweep-lr-scaling"])
        self.assertEqual(rows[0][3:5], ["-0.1", "[-0.2, -0.05]"])
        self.assertEqual(head[6], "why")
        self.assertEqual(notes, ["Verdict rule: the runner's rule"])


class Report(unittest.TestCase):
    def test_report_page_has_every_sweep_figure_and_the_claims(self):
        with tempfile.TemporaryDirectory() as out:
            p = subprocess.run([PY, SCRIPT, FIXTURE, "--out", out], capture_output=True, text=True)
            self.assertEqual(p.returncode, 0, p.stderr)
            with open(os.path.join(out, "index.html"), encoding="utf-8") as f:
                page = f.read()
            for key in ("sweep-lr", "sweep-beta1", "sweep-eps", "sweep-beta2", "sweep-batch_size", "sweep-algo",
                        "sweep-heatmap", "sweep-lr-scaling", "sweep-gap", "sweep-impl-spread"):
                self.assertIn(f'id="fig-{key}"', page)
                self.assertTrue(os.path.exists(os.path.join(out, f"fig-{key}.svg")), key)
            for claim in ("AdamW generalises better than Adam + L2", "holds here", '<a href="#fig-sweep-gap">'):
                self.assertIn(claim, page)
            with open(os.path.join(out, "summary.md"), encoding="utf-8") as f:
                self.assertIn("[fig-sweep-gap](fig-sweep-gap.svg)", f.read())
            self.assertIn("3 seeds", page)  # the report says how many seeds each band uses

    def test_broken_sweep_is_exit_2(self):
        doc = fixture()
        doc["claims"][0]["verdict"] = "yes"
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "sweep.json")
            with open(path, "w") as f:
                json.dump(doc, f)
            p = subprocess.run([PY, SCRIPT, path, "--out", os.path.join(d, "out")], capture_output=True, text=True)
            self.assertEqual(p.returncode, 2)
            self.assertIn("claims[0].verdict", p.stderr)  # named by the schema check, before parsing
            self.assertFalse(os.path.exists(os.path.join(d, "out", "index.html")))


if __name__ == "__main__":
    unittest.main()
