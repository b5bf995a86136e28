"""Tune results (`adambench tune`, kind "tune"): the "Tuning on your model" section of the report.

From tune.json (docs/tuning.md, "Tune your own model"):
  - the verdict: the recommended settings, as tune wrote them;
  - per factor, its best value against the default, the improvement over seeds with its interval and
    the verdict (holds here / does not hold here / inconclusive), and whether the tuned settings use it;
  - the sensitivity figures, one per factor the stages varied (fig-tune-FACTOR; drawn by sweep.py's
    figure code from the stages' points, which have sweep.json's layout);
  - each piece of advice with its verdict on this model, linked to its figure;
  - the PyTorch snippet, the notes (grid edges, disagreeing seeds, the matching rules) and the plan.
"""
import math

from . import sweep
from .common import fail, num
from .figures import Figure, render
from .verdict import Part

FACTORS_SHOWN = ("lr", "beta1", "beta2", "eps", "weight_decay", "schedule", "batch_size", "algo")


def parse_tune(j, path):
    sw = sweep.parse_sweep({"points": j.get("points"), "claims": j.get("claims", []), "verdict_rule": j.get("verdict_rule", ""),
                            "metric": str(j.get("plan", {}).get("metric", "final_val_loss"))}, path)
    recs = j.get("recommendations")
    if not isinstance(recs, list):
        fail(path, "malformed tune result: missing 'recommendations' list")
    for i, r in enumerate(recs):
        if not isinstance(r, dict) or r.get("verdict") not in sweep.VERDICTS:
            fail(path, f"malformed tune result recommendations[{i}]: no verdict")
    runs = [r for p in j["points"] for r in p.get("runs", [])]
    return {"path": path, "context": j.get("context", {}), "verdict": str(j.get("verdict", "")), "model": j.get("model", {}),
            "data": j.get("data", {}), "plan": j.get("plan", {}), "recs": recs, "notes": [str(n) for n in j.get("notes", [])],
            "pytorch": str(j.get("pytorch", "")), "interrupted": j.get("interrupted") is True, "stopped_at": j.get("stopped_at"),
            "sweep": sw, "runs": len(runs), "errors": sum(1 for r in runs if r.get("verdict") == "error")}


KINDS = {"tune": parse_tune}
SCHEMAS = {"tune": "tune.schema.json"}


def pct(e):
    if not isinstance(e, dict):
        return "—"
    m, lo, hi = (num(e.get(k)) for k in ("median", "lo", "hi"))
    if not math.isfinite(m):
        return "—" if math.isnan(m) else ("+inf" if m > 0 else "-inf")
    f = lambda x: f"{100 * x:+.1f}%" if math.isfinite(x) else ("+inf" if x > 0 else "-inf")  # noqa: E731
    return f"{f(m)} [{f(lo)}, {f(hi)}]"


def claim_key(c, keys, prefix):
    a, b = c.get("a"), c.get("b")
    if isinstance(a, dict) and isinstance(b, dict):
        for f in sorted(set(a) | set(b), key=sweep.factor_rank):
            if a.get(f) != b.get(f) and f"{prefix}{f}" in keys:
                return f"{prefix}{f}"
    return None


def one_tune(res, colors, prefix, title_model):
    items = [("note", f"Recommended for {title_model}: {res['verdict']}")]
    items.append(("table", "Each factor: its best value against the default (improvement over seeds [95% interval], > 0: the best is better)",
                  ["factor", "stage", "best", "default", "improvement", "verdict", "seeds' own best", "used"],
                  [[r.get("factor", "") + (" (baseline)" if r.get("baseline") else ""), r.get("stage", ""), r.get("best", ""),
                    r.get("default", ""), pct(r.get("effect")), r["verdict"], r.get("per_seed_best", ""),
                    "yes" if r.get("applied") else "no"] for r in res["recs"]]))
    studs = sweep.studies([res["sweep"]])
    keys = set()
    factors = sorted({f for s in studs.values() for f in s["swept"]}, key=sweep.factor_rank)
    for f in factors:
        fig, used = sweep.fig_factor(studs, f, colors)
        if fig is None:
            continue
        key = f"{prefix}{f}"
        keys.add(key)
        items.append(("fig", Figure(key, f"{sweep.metric_label(res['sweep']['metric']).capitalize()} against "
                                         f"{sweep.FACTOR_LABEL.get(f, f)} on this model",
                                    "One panel per tune stage that varies it; every other setting at the stage's base (dotted "
                                    "line), the lr at the best the lr stages found. Line: median over seeds; band: range over "
                                    "seeds; ×: half or more of the seeds diverged. " + sweep.seeds_note(used),
                                    render(fig, key))))
    if not keys:
        items.append(("note", "No stage varied a factor over two or more values that ran: no sensitivity figure."))
    claims = res["sweep"]["claims"]
    if claims:
        items.append(("table", "The advice, on this model (verdict by the rule below; figure: where the comparison is drawn)",
                      ["advice", "compared", "effect", "interval", "verdict", "figure"],
                      [[c["claim"], c["compare"], sweep.fmt_num(c["effect"]),
                        "—" if not math.isfinite(c["lo"]) else f"[{c['lo']:.4g}, {c['hi']:.4g}]", c["verdict"],
                        (lambda k: f"#fig-{k}" if k else "—")(claim_key(c, keys, prefix))] for c in claims]))
        rules = sorted({c["rule"] for c in claims if c["rule"]})
        items += [("note", f"Verdict rule: {r}") for r in rules]
    if res["pytorch"]:
        items.append(("table", "Ready to paste (PyTorch)", ["code"], [[line] for line in res["pytorch"].rstrip("\n").split("\n")]))
    items += [("note", n) for n in res["notes"]]
    plan = res["plan"]
    stages = plan.get("stages", []) if isinstance(plan, dict) else []
    if stages:
        items.append(("table", f"The plan ({plan.get('source', '?')}): {len(plan.get('seeds', []))} seeds, {plan.get('steps', '?')} steps per run "
                               f"at batch {plan.get('batch_size', '?')}",
                      ["stage", "values", "points", "runs trained", "runs reused", "estimate (s)"],
                      [[s.get("name", ""), s.get("what", ""), s.get("points", ""), s.get("runs", ""), s.get("reused", ""),
                        sweep.fmt_num(num(s.get("estimate_s")))] for s in stages]))
    if plan.get("cuts"):
        items.append(("note", "Cut to fit --budget: " + "; ".join(str(c) for c in plan["cuts"]) + "."))
    return items


def tune_section(data, colors):
    tunes = data.get("tune", [])
    if not tunes:
        return None
    items = []
    for i, res in enumerate(tunes):
        model = res["model"].get("path", "?") if isinstance(res["model"], dict) else "?"
        items += one_tune(res, colors, "tune-" if len(tunes) == 1 else f"tune{i + 1}-", model)
    return "Tuning on your model", items


def tune_part(data):
    tunes = data.get("tune", [])
    banners = [f"{t['path']}: this tune was interrupted" + (f" ({t['stopped_at']})" if t.get("stopped_at") else "")
               + "; its recommendation is partial (adambench tune --resume continues it)." for t in tunes if t["interrupted"]]
    runs = sum(t["runs"] for t in tunes)
    errors = sum(t["errors"] for t in tunes)
    return Part([], [(errors, "tune run error", "tune run errors")], [(runs - errors, "tune runs")], banners, [])


SECTIONS = [tune_section]
VERDICT_PARTS = [tune_part]
