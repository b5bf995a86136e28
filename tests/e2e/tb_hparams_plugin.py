"""Serves tb-fixture's event files with TensorBoard's own web app (in process, no port) and asks
its hparams plugin what the HPARAMS tab would show: the experiment's hparams and metrics, and each
session group's hparams, metric values and status.

Usage (tb-venv python): tb_hparams_plugin.py DIR. Exit 0 when the plugin shows what
tests/tensorboard/tb_fixture_main.cpp wrote; 1 with the differences otherwise.
"""
import json
import sys
import time

from tensorboard import default, program
from tensorboard.backend import application
from werkzeug.test import Client

fails = []


def expect(cond, what):
    if not cond:
        fails.append(what)


def main(logdir):
    tb = program.TensorBoard(default.get_plugins())
    # The Python loader (not the Rust data server): in process, and what every install has.
    tb.configure(argv=[None, "--logdir", logdir, "--load_fast", "false", "--reload_interval", "0"])
    provider, multiplexer = tb._make_data_provider()
    app = application.TensorBoardWSGIApp(tb.flags, tb.plugin_loaders, provider, tb.assets_zip_provider, multiplexer)
    client = Client(app)
    runs = []
    for _ in range(100):  # --reload_interval 0 loads once, on a background thread
        runs = json.loads(client.get("/data/runs").data)
        if {"sweep/p0", "sweep/p1"} <= set(runs):
            break
        time.sleep(0.1)

    def post(route, body):
        r = client.post(f"/data/plugin/hparams/{route}", data=json.dumps(body), content_type="application/json")
        expect(r.status_code == 200, f"{route}: HTTP {r.status_code}")
        return json.loads(r.data) if r.status_code == 200 else {}

    exp = post("experiment", {"experimentName": ""})
    infos = {h["name"]: h for h in exp.get("hparamInfos", [])}
    expect(set(infos) == {"lr", "impl", "amsgrad"}, f"experiment hparams {sorted(infos)}")
    expect(infos.get("lr", {}).get("domainDiscrete") == [0.001, 0.1], f"lr domain {infos.get('lr')}")
    expect([m["name"]["tag"] for m in exp.get("metricInfos", [])] == ["final/val_loss", "final/train_loss"],
           f"metrics {exp.get('metricInfos')}")
    groups = post("session_groups", {"experimentName": "", "startIndex": 0, "sliceSize": 100, "colParams": [],
                                     "allowedStatuses": ["STATUS_UNKNOWN", "STATUS_SUCCESS", "STATUS_FAILURE", "STATUS_RUNNING"]})
    got = {g["name"]: g for g in groups.get("sessionGroups", [])}
    want = {"sweep/p0": ({"lr": 0.001, "impl": "eigen", "amsgrad": False}, {"final/val_loss": 0.25, "final/train_loss": 0.125},
                         "STATUS_SUCCESS"),
            "sweep/p1": ({"lr": 0.1, "impl": "libtorch", "amsgrad": True}, {"final/val_loss": 7.5, "final/train_loss": 3.0},
                         "STATUS_FAILURE")}
    expect(set(got) == set(want), f"session groups {sorted(got)} (runs seen: {runs})")
    for name, (hp, metrics, status) in want.items():
        g = got.get(name)
        if g is None:
            continue
        expect(g["hparams"] == hp, f"{name}: hparams {g['hparams']}")
        mv = {m["name"]["tag"]: m["value"] for m in g.get("metricValues", [])}
        expect(mv == metrics, f"{name}: metric values {mv}")
        expect([s["status"] for s in g.get("sessions", [])] == [status], f"{name}: status {g.get('sessions')}")
    for f in fails:
        print("tb_hparams_plugin: " + f, file=sys.stderr)
    if not fails:
        print("tb_hparams_plugin: TensorBoard's hparams plugin shows every session, hparam, metric and status")
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
