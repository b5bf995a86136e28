"""The speed gate's A/A calibration (`adambench calibrate`, kind "calibration"): the report's
"Speed gate calibration" section, only when a calibration.json is given (docs/speed.md).

Shows the false-alarm rate of the speed gate on runs of one build, and each benchmark's A/A noise
floor. It adds nothing to the verdict line.
"""
from .common import note


def parse_calibration(j, path):
    """`adambench calibrate`'s A/A run (already checked against its schema): the false-alarm rate."""
    keys = ("thresholds", "runs", "group", "noise", "comparisons", "false_alarms", "inconclusive", "false_alarm_rate")
    floors = j["adambench_noise"]["benchmarks"]
    return dict({k: j[k] for k in keys}, path=path, context=j.get("context", {}),
                floors={k: (v.get("time"), v.get("probe_fraction")) for k, v in floors.items()})


KINDS = {"calibration": parse_calibration}
SCHEMAS = {"calibration": "calibration.schema.json"}


def calibration_section(data, colors):
    """The speed gate's A/A calibration (`adambench calibrate`), only when one is given."""
    if not data["calibration"]:
        return None
    head = ["file", "runs (groups of)", "comparisons", "false alarms", "inconclusive", "false-alarm rate", "noise floors", "thresholds"]
    rows = [[c["path"], f"{c['runs']} ({c['group']})", c["comparisons"], c["false_alarms"], c["inconclusive"],
             f"{c['false_alarm_rate']:.1%}", c["noise"], ", ".join(f"{k} {v}" for k, v in c["thresholds"].items())]
            for c in data["calibration"]]
    pct = lambda x: "-" if x is None else f"{x:.1%}"  # noqa: E731
    floors = [[k, pct(t), pct(f)] for c in data["calibration"]
              for k, (t, f) in sorted(c["floors"].items(), key=lambda kv: -(kv[1][0] or 0))]
    return "Speed gate calibration", [
        note("One build run several times: groups of runs compared pairwise with the speed gate, each with noise floors "
             "measured on the other runs; any regression or improvement it reports is a false alarm (docs/speed.md)."),
        ("table", "A/A calibration", head, rows),
        ("table", "A/A noise floor per benchmark ((max - min) / min of the run medians)", ["benchmark", "time", "fraction of probe"], floors)]


SECTIONS = [calibration_section]
