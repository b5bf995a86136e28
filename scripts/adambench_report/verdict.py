"""The verdict people read first: one line that opens summary.md and index.html, and the banners of
interrupted runs.

    ✅ no failure: 512 agreement results and 63 convergence runs checked; 36 speed benchmarks reported (not gated)
    ❌ 3 disagreements, 1 unmet convergence expectation: ...
    ⚠️ incomplete: agree.json was interrupted ...   (no failure, but not a pass either)
    ⚠️ nothing checked: ...                         (every case skipped, or no result at all)

Each part below reads one kind and returns a Part; extension modules add theirs (VERDICT_PARTS).
Speed is reported, not gated: only a benchmark that errored counts against the verdict.
"""
from collections import namedtuple

# checked: [(n, "agreement results")]; failures: [(n, "disagreement", "disagreements")];
# reported: [(n, "speed benchmarks")] (neither pass nor fail); banners: [text] (interrupted runs);
# skipped: [(n, "agreement results")].
Part = namedtuple("Part", "checked failures reported banners skipped")
Verdict = namedtuple("Verdict", "level line banners")  # level: "pass" | "fail" | "warn"


def _interrupted(res, kind, where_key):
    if res.get("interrupted") is True:
        where = res.get(where_key)
        return [f"{res['path']}: this {kind} run was interrupted" + (f" ({where_key.replace('_', ' ')} {where})" if where else "")
                + "; its results are incomplete."]
    return []


def agree_part(data):
    n = {"pass": 0, "fail": 0, "error": 0, "skip": 0}
    banners = []
    for res in data["agree"]:
        for r in res["results"]:
            n[r["verdict"]] += 1
        banners += _interrupted(res, "agreement", "stopped_before")
    return Part([(n["pass"] + n["fail"] + n["error"], "agreement results")],
                [(n["fail"], "disagreement", "disagreements"), (n["error"], "agreement error", "agreement errors")],
                [], banners, [(n["skip"], "agreement results")])


def converge_part(data):
    checked = skipped = errors = unmet = stopped = 0
    banners = []
    for res in data["converge"]:
        for r in res["runs"]:
            v = r["verdict"]
            skipped += v == "skip"
            errors += v == "error"
            stopped += v == "interrupted"
            checked += v in ("ok", "diverged", "error")
        unmet += len(res["expectations_unmet"])
        banners += _interrupted(res, "convergence", "stopped_at")
        if stopped and not res.get("interrupted"):
            banners.append(f"{res['path']}: {stopped} convergence run(s) were interrupted; their results are incomplete.")
    return Part([(checked, "convergence runs")],
                [(errors, "convergence error", "convergence errors"),
                 (unmet, "unmet convergence expectation", "unmet convergence expectations")],
                [], banners, [(skipped, "convergence runs")])


def speed_part(data):
    rows = [r for res in data["speed"] for r in res["rows"]]
    errors = sum(1 for r in rows if r.get("error"))
    return Part([], [(errors, "speed benchmark error", "speed benchmark errors")],
                [(len(rows) - errors, "speed benchmarks")], [], [])


VERDICT_PARTS = [agree_part, converge_part, speed_part]


def _join(items):
    items = [i for i in items if i]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1] if items else ""


def verdict(data):
    parts = [p(data) for p in VERDICT_PARTS]
    checked = [(n, what) for p in parts for n, what in p.checked if n]
    failures = [f"{n} {one if n == 1 else many}" for p in parts for n, one, many in p.failures if n]
    reported = [(n, what) for p in parts for n, what in p.reported if n]
    skipped = [(n, what) for p in parts for n, what in p.skipped if n]
    banners = [b for p in parts for b in p.banners]
    what = _join([f"{n} {w}" for n, w in checked])
    tail = (f"{what} checked" if what else "nothing checked")
    if skipped:
        tail += f" ({_join([f'{n} {w}' for n, w in skipped])} skipped)"
    if reported:
        tail += f"; {_join([f'{n} {w}' for n, w in reported])} reported (not gated)"
    if failures:
        return Verdict("fail", f"❌ {', '.join(failures)}: {tail}", banners)
    if banners:
        return Verdict("warn", f"⚠️ incomplete (interrupted run), no failure so far: {tail}", banners)
    if not checked:
        line = "⚠️ nothing checked: " + (f"every case was skipped ({_join([f'{n} {w}' for n, w in skipped])})" if skipped
                                        else "no agreement or convergence results were given")
        if reported:
            line += f"; {_join([f'{n} {w}' for n, w in reported])} reported (not gated)"
        return Verdict("warn", line, banners)
    return Verdict("pass", f"✅ no failure: {tail}", banners)
