"""The verdict people read first: one line that opens summary.md and index.html, and the banners of
interrupted runs.

    ✅ no failure: 512 agreement results and 63 convergence runs checked; 36 speed benchmarks reported (not gated)
    ❌ 3 disagreements, 1 unmet convergence expectation: ...
    ⚠️ incomplete: agree.json was interrupted ...   (no failure, but not a pass either)
    ⚠️ nothing checked: ...                         (every case skipped, or no result at all)

Each kind's module (agree.py, converge.py, speed.py, ...) reads its results and returns a Part
(its VERDICT_PARTS); sections.py registers them here in the kinds' RANK order.
"""
from collections import namedtuple

# checked: [(n, "agreement results")]; failures: [(n, "disagreement", "disagreements")];
# reported: [(n, "speed benchmarks")] (neither pass nor fail); banners: [text] (interrupted runs);
# skipped: [(n, "agreement results")].
Part = namedtuple("Part", "checked failures reported banners skipped")
Verdict = namedtuple("Verdict", "level line banners")  # level: "pass" | "fail" | "warn"


def interrupted_banners(res, kind, where_key):
    """The banner of a result file whose run was interrupted (res["interrupted"]), naming where it stopped."""
    if res.get("interrupted") is True:
        where = res.get(where_key)
        return [f"{res['path']}: this {kind} run was interrupted" + (f" ({where_key.replace('_', ' ')} {where})" if where else "")
                + "; its results are incomplete."]
    return []


# Functions data -> Part, in the order the verdict line names them (filled by sections.py).
VERDICT_PARTS = []


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
