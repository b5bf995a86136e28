#!/usr/bin/python3
"""The speed fixture as a run at 1 and 2 threads (its rows copied as 2-thread rows: the probe at half
the time, the implementations at 0.7x, so 0.71x the fraction of the limit) on a machine with a
32 MiB last-level cache: twice the series, whose legend sat on the "fill the last-level cache" note
when it was drawn inside the panel. Used by e2e.report and by capture.py.

  two_thread_speed.py SRC_SPEED_JSON DST_SPEED_JSON
"""
import copy
import json
import sys


def two_thread_speed(src, dst):
    d = json.load(open(src))
    two = []
    for b in d["benchmarks"]:
        b2 = copy.deepcopy(b)
        for k in ("name", "run_name"):
            b2[k] = b2[k].replace("/threads:1/", "/threads:2/")
        b2["threads"] = 2
        f = 0.5 if b["name"].startswith("probe/") else 0.7
        if b2.get("aggregate_name") != "cv":
            for k in ("real_time", "cpu_time"):
                b2[k] *= f
            for k in ("params_per_second", "bytes_per_second"):
                if k in b2:
                    b2[k] /= f
        two.append(b2)
    d["benchmarks"] += two
    d["context"].update({"adambench.thread_counts": "1,2", "adambench.last_level_cache_bytes": 32 << 20})
    with open(dst, "w") as out:
        json.dump(d, out)


if __name__ == "__main__":
    two_thread_speed(sys.argv[1], sys.argv[2])
