#!/usr/bin/python3
"""Behaviour capture for refactors: run a fixed set of adambench invocations and keep what they
print and write, with run-to-run noise masked, so two builds can be compared byte for byte.

  capture.py capture ADAMBENCH OUTDIR [--count-bin BIN] [--tune FIXTURE_DIR]   record (OUTDIR must be new)
  capture.py compare DIR_A DIR_B                                   exit 0 identical, 1 different

What is recorded (one file per invocation or result file):
  every --help (the top level, each subcommand, nested ones: found from the help itself), list,
  --version minus the commit; agree ci (stdout, agree.json); converge smoke (stdout, converge.json,
  curves minus wall_s); sweep tuning-smoke (stdout, sweep.json, curves); a tiny speed run's JSON
  structure (keys and benchmark names, no figures: Eigen against the LibTorch and DeepSpeed peers); with --tune DIR, a small tune on the fixture in
  DIR (made there by tests/e2e/tune_fixture.py when missing, then reused: needs python3-torch); with --count-bin, a one-row count in the counting build; and bad-input
  invocations of every subcommand (exit code and stderr).
Masked: timestamps, the commit, the host name, temporary paths, wall-clock durations, and in
speed results every figure and which LibTorch peer was fastest. Runs use --threads 2 (agree) and 1 (the rest), as the baselines do.
"""
import csv
import io
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HOST = socket.gethostname()
# Keys whose values change from run to run of the same build (durations, clocks, commit, host).
NOISY_KEYS = {"created", "git_commit", "adambench.build.git_commit", "hostname", "wall_s", "date", "host_name", "executable", "load_avg",
              "started", "finished", "elapsed_s", "duration_s", "seconds", "run_wall_s", "mhz_per_cpu",
              "memory_kib", "optimizer_share", "samples_per_s", "budget_s", "estimate_s", "eval_s", "load_s",
              "step_s", "wall_to_target_s", "eval_seconds", "optimizer_seconds", "train_seconds"}
TIME_RE = re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d+)?Z?")
DURATION_RE = re.compile(r"\b\d+(\.\d+)?\s?(s|ms|min)\b")
# The convergence table's timing columns (tokens: case impl batch lr final val_acc steps s_to_tgt fail
# samples/s opt% ...): masked by position, the row re-joined with single spaces (widths follow them).
TIMED_COLUMNS = (7, 9, 10)


class capture:
    def __init__(self, bin_path, out, tmp):
        self.bin, self.out, self.tmp, self.n = str(Path(bin_path).resolve()), Path(out), Path(tmp), 0
        self.tune_dir = None

    def mask(self, text):
        text = text.replace(str(self.tmp), "<TMP>").replace(self.bin, "<ADAMBENCH>").replace(str(ROOT), "<ROOT>")
        if self.tune_dir: text = text.replace(str(self.tune_dir), "<TUNEFX>")
        text = TIME_RE.sub("<TIME>", text)
        # The padding before a duration varies with its width: one space kept, or none.
        text = re.sub(r"( *)" + DURATION_RE.pattern, lambda m: (" " if m.group(1) else "") + "<dur>", text)
        return text.replace(HOST, "<HOST>")

    def write(self, name, text):
        self.n += 1
        (self.out / f"{self.n:03d}-{name}").write_text(text)

    def run(self, name, args, stdout_mask=None, env=None, cwd=None, stderr_mask=None):
        """Runs adambench ARGS; records the command, exit code, stdout and stderr (masked)."""
        p = subprocess.run([self.bin] + args, capture_output=True, text=True, env=env, cwd=cwd, timeout=900)
        out = self.mask(p.stdout)
        if stdout_mask: out = stdout_mask(out)
        err = self.mask(p.stderr)
        if stderr_mask: err = stderr_mask(err)
        cmd = self.mask(" ".join(["adambench"] + args))
        self.write(name + ".txt", f"$ {cmd}\nexit {p.returncode}\n--- stdout\n{out}--- stderr\n{err}")
        return p

    def json_file(self, name, path, numbers=False, peer_names=False):
        """A result file, keys sorted, noisy keys masked (numbers=True: every figure too;
        peer_names=True: the fastest LibTorch peer's name, a figure of speed results)."""
        if not Path(path).exists():
            self.write(name, f"missing: {self.mask(str(path))}\n")
            return
        data = mask_json(json.loads(Path(path).read_text()), numbers, peer_names)
        self.write(name, self.mask(json.dumps(data, indent=1, sort_keys=True)) + "\n")

    def curves(self, name, folder, drop=("wall_s",)):
        """Every CSV under FOLDER, in name order, without the columns in DROP."""
        parts = []
        for f in sorted(Path(folder).rglob("*.csv")) if Path(folder).exists() else []:
            rows = list(csv.reader(io.StringIO(f.read_text())))
            keep = [i for i, h in enumerate(rows[0]) if h not in drop] if rows else []
            body = "\n".join(",".join(r[i] for i in keep if i < len(r)) for r in rows)
            parts.append(f"== {f.relative_to(folder)}\n{body}\n")
        self.write(name, "".join(parts) or "no curves\n")


def mask_json(v, numbers, peer_names=False):
    if isinstance(v, dict):
        return {k: ("<masked>" if k in NOISY_KEYS or (peer_names and k == "best_libtorch" and x is not None)
                    else mask_json(x, numbers, peer_names)) for k, x in v.items()}
    if isinstance(v, list):
        return [mask_json(x, numbers, peer_names) for x in v]
    if numbers and isinstance(v, (int, float)) and not isinstance(v, bool):
        return "<n>"
    return v


def subcommands(help_text):
    """The names under 'Subcommands:' in a CLI11 help text."""
    if "Subcommands:" not in help_text: return []
    names = []
    for line in help_text.split("Subcommands:", 1)[1].splitlines():
        m = re.match(r"^  (\S+)\s", line)
        if m: names.append(m.group(1))
    return names


def converge_table_masked(text):
    lines = []
    for line in text.splitlines(keepends=True):
        tok = line.split()
        if len(tok) > max(TIMED_COLUMNS) and tok[8].endswith("%") and tok[10].endswith("%"):
            for i in TIMED_COLUMNS: tok[i] = "<t>"
            line = " ".join(tok) + "\n"
        lines.append(line)
    return "".join(lines)


def figures_masked(text):
    return re.sub(r"\d+(\.\d+)?(e[-+]?\d+)?", "<n>", text)


# Which LibTorch peer is fastest is a figure too (libtorch and libtorch-foreach are within noise):
# kept is that a peer is named, and where.
BEST_PEER_RE = re.compile(r"over libtorch(-foreach|-fused)?\b")


def speed_masked(text):
    """Figures (with Google Benchmark's unit prefixes), the load, the commit and the fastest peer's
    name masked; columns (sized by the figures) re-joined."""
    text = re.sub(r"^Load Average:.*$", "Load Average: <masked>", text, flags=re.M)
    text = figures_masked(re.sub(r"\b[0-9a-f]{40}(-dirty)?", "<C>", text))
    text = re.sub(r"<n>[kMGTmun]?(?=[ /%B]|$)", "<n>", text, flags=re.M)
    return re.sub(r"[ \t]+", " ", BEST_PEER_RE.sub("over <peer>", text))


def helps(c):
    def walk(path):
        p = c.run("help-" + ("-".join(path) or "top"), path + ["--help"])
        for s in subcommands(p.stdout): walk(path + [s])
    walk([])


def bad_inputs(c, t):
    afile = t / "afile"
    afile.write_text("x")
    (t / "bad.toml").write_text("[agree]\nbeta1 = [2.0]\n")
    (t / "broken.json").write_text('{"kind": "agree", "results": [')
    (t / "nested.json").write_text("[" * 5000 + "]" * 5000)
    (t / "wrongkind.json").write_text('{"kind": "nope"}')
    bad = {
        "top": [["--bogus"], [], ["--threads", "0", "agree", "smoke"], ["nosuchcommand"]],
        "agree": [["agree", str(t / "nope.toml")], ["agree", str(t / "bad.toml")], ["agree", "smoke", "--impl", "nope"],
                  ["agree", "smoke", "--impl", "eigne"], ["agree", "smoke", "--dtype", "float8"], ["agree", "--bogus"],
                  ["agree", "smoke", "--filter", "("], ["agree", "smoke", "--filter", "^nope", "--quiet"],
                  ["agree", "smoke", "--seeds", "0"], ["agree", "smoke", "--shard", "3/2"], ["agree", "smoke", "--shard", "x"],
                  ["agree", "smoke", "--quiet", "--out", str(afile / "sub")],
                  ["agree", "smoke", "--quiet", "--impl", "cuda", "--dtype", "float64"]],
        "replay": [["replay"], ["replay", str(t / "nope.npz"), "--impl", "eigen", "--out", str(t / "r.npz")],
                   ["replay", str(t / "afile"), "--impl", "nope", "--out", str(t / "r.npz")]],
        "speed": [["speed", "smoke", "--impl", "nope"], ["speed", "smoke", "--filter", "("],
                  ["speed", "smoke", "--filter", "x", "--benchmark_filter=y"], ["speed", "smoke", "--out", str(afile / "sub")],
                  ["speed", "smoke", "--shard", "0/2"], ["speed", "ci", "--impl", "cuda"]],
        "converge": [["converge", "smoke", "--model", "m.pt"], ["converge", "smoke", "--threads", "0"],
                     ["converge", "smoke", "--filter", "("], ["converge", "smoke", "--filter", "^nope$", "--quiet"],
                     ["converge", "smoke", "--impl", "libtorch_"], ["converge", "smoke", "--quiet", "--out", str(afile / "sub")],
                     ["converge", "smoke", "--shard", "2/1"]],
        "list": [["list", "extra"]],
        "compare": [["compare"], ["compare", str(t / "nope.json"), str(t / "nope.json")],
                    ["compare", str(t / "broken.json"), str(t / "broken.json")],
                    ["compare", str(t / "nested.json"), str(t / "nested.json")],
                    ["compare", str(t / "wrongkind.json"), str(t / "wrongkind.json")],
                    ["compare", str(ROOT / "tests/fixtures/agree.json"), str(ROOT / "tests/fixtures/speed.json")],
                    ["compare", str(ROOT / "tests/fixtures/agree.json"), str(ROOT / "tests/fixtures/agree.json"), "--alpha", "2"]],
        "merge": [["merge", str(t / "nope.json")], ["merge", "--out", str(t / "m.json"), str(t / "broken.json")],
                  ["merge", "--out", str(t / "m.json"), str(ROOT / "tests/fixtures/agree.json")],
                  ["merge", "--out", str(t / "m.json"), "--run-id", "bad id!", str(ROOT / "tests/fixtures/agree.json")]],
        "ab": [["ab"], ["ab", "--a", str(t / "nope"), "--b", str(t / "nope"), "--out", str(t / "ab"), "speed"]],
        "calibrate": [["calibrate"], ["calibrate", "--bin", str(t / "nope"), "--runs", "1", "--out", str(t / "cal"), "speed"]],
        "history": [["history"], ["history", "add"], ["history", "add", str(t / "nope.json"), "--db", str(t / "h.db")],
                    ["history", "add", str(t / "broken.json"), "--db", str(t / "h.db")],
                    ["history", "add", str(t / "wrongkind.json"), "--db", str(t / "h.db")],
                    ["history", "show", "--db", str(t / "nope.db")], ["history", "show", "--db", str(t / "h.db"), "--filter", "("],
                    ["history", "check", "--db", str(t / "nope.db")]],
        "sweep": [["sweep", str(t / "nope.toml")], ["sweep", "smoke"], ["sweep", "tuning-smoke", "--impl", "nope"],
                  ["sweep", "tuning-smoke", "--model", "m.pt"], ["sweep", "tuning-smoke", "--shard", "4/3"]],
        "tune": [["tune"], ["tune", "--model", str(t / "nope.pt"), "--data", str(t / "nope.npz"), "--out", str(t / "tu")],
                 ["tune", "--model", str(afile), "--data", str(afile), "--budget", "-1"]],
        "data-order": [["data-order"], ["data-order", "--train", "0", "--batch", "1", "--steps", "1", "--seed", "0"],
                       ["data-order", "--train", "10", "--batch", "20", "--steps", "1", "--seed", "0"]],
        "check": [["check"], ["check", str(t / "nope.npz"), str(t / "nope.npz")], ["check", str(afile), str(afile)]],
        "count": [["--threads", "2", "count", str(ROOT / "tests/fixtures/count_fixture.toml"), "--out", str(t / "cb")],
                  ["count", str(ROOT / "tests/fixtures/count_fixture.toml"), "--filter", "(", "--out", str(t / "cb")],
                  ["count", str(ROOT / "tests/fixtures/count_fixture.toml"), "--impl", "nope", "--out", str(t / "cb")],
                  ["count", str(ROOT / "tests/fixtures/count_fixture.toml"), "--steps", "0"],
                  ["count", str(ROOT / "tests/ci/light.toml"), "--out", str(t / "cn")],
                  ["count-worker", str(t / "nope.json")]],
    }
    for group, invocations in bad.items():
        for i, args in enumerate(invocations):
            c.run(f"bad-{group}-{i}", args)


def speed_structure(c, t):
    out = t / "speed"
    # The peers listed last and out of order: the grid's order and the "vs" columns are in the structure.
    impls = ["eigen", "deepspeed-cpu", "libtorch-fused", "libtorch-foreach", "libtorch"]
    c.run("speed-tiny", ["--threads", "1", "speed", "smoke", *[a for i in impls for a in ("--impl", i)],
                         "--filter", "/flat_64K/", "--out", str(out), "--benchmark_min_time=0.001"], stdout_mask=speed_masked, stderr_mask=speed_masked)
    c.json_file("speed.json-structure", out / "speed.json", numbers=True, peer_names=True)


def tune_fixture(c, t, fx):
    """fx: the fixture folder, made once and reused (a saved TorchScript file differs between saves)."""
    fx = Path(fx).resolve()
    if not (fx / "cnn.pt").exists():
        fx.mkdir(parents=True, exist_ok=True)
        r = subprocess.run(["/usr/bin/python3", str(ROOT / "tests/e2e/tune_fixture.py"), str(fx), "--train", "512",
                            "--val", "256"], capture_output=True, text=True)
        if r.returncode != 0:
            c.write("tune-skipped.txt", "tune fixture could not be made (python3-torch)\n")
            return
    c.tune_dir = fx
    out = t / "tune"
    c.run("tune-world", ["--threads", "1", "tune", "--model", str(fx / "cnn.pt"), "--data", str(fx / "fmnist.npz"),
                         "--plan", str(ROOT / "tests/fixtures/tune-world.toml"), "--out", str(out), "--quiet"])
    c.json_file("tune.json", out / "tune.json")
    for f in ("tuned.toml", "tune.md"):
        if (out / f).exists(): c.write(f"tune-{f}", c.mask((out / f).read_text()))
    c.curves("tune-curves", out / "curves")


def count_run(c, t, count_bin):
    cc = capture(count_bin, c.out, c.tmp)
    cc.n = c.n
    out = t / "count"
    cc.run("count-tiny", ["count", str(ROOT / "tests/fixtures/count_fixture.toml"), "--filter", "flat_4K/", "--steps", "1",
                          "--warmup", "1", "--out", str(out)], stdout_mask=None)
    cc.json_file("count.json", out / "count.json")
    c.n = cc.n


def do_capture(bin_path, outdir, count_bin, tune):
    outdir = Path(outdir)
    outdir.mkdir(parents=True)
    with tempfile.TemporaryDirectory(prefix="adambench-capture.") as tmp:
        t = Path(tmp)
        c = capture(bin_path, outdir, t)
        helps(c)
        c.run("list", ["list"])
        c.run("version", ["--version"], stdout_mask=lambda s: re.sub(r"commit [0-9a-f]+(-dirty)?", "commit <C>", s))
        c.run("agree-ci", ["--threads", "2", "agree", "ci", "--out", str(t / "agree")])
        c.json_file("agree.json", t / "agree" / "agree.json")
        c.run("converge-smoke", ["--threads", "1", "converge", "smoke", "--out", str(t / "conv")],
              stdout_mask=converge_table_masked)
        c.json_file("converge.json", t / "conv" / "converge.json")
        c.curves("converge-curves", t / "conv" / "curves")
        c.run("sweep-tuning-smoke", ["--threads", "1", "sweep", "tuning-smoke", "--out", str(t / "sweep")])
        c.json_file("sweep.json", t / "sweep" / "sweep.json")
        c.curves("sweep-curves", t / "sweep" / "curves")
        speed_structure(c, t)
        if tune: tune_fixture(c, t, tune)
        if count_bin: count_run(c, t, count_bin)
        bad_inputs(c, t)
    print(f"capture: {c.n} files in {outdir}")


def do_compare(a, b):
    a, b = Path(a), Path(b)
    names = sorted({p.name for p in a.iterdir()} | {p.name for p in b.iterdir()})
    diff = 0
    for n in names:
        fa, fb = a / n, b / n
        if not fa.exists() or not fb.exists():
            print(f"only in {'B' if not fa.exists() else 'A'}: {n}")
            diff += 1
        elif fa.read_bytes() != fb.read_bytes():
            print(f"differs: {n}")
            subprocess.run(["diff", "-u", str(fa), str(fb)])
            diff += 1
    print(f"compare: {len(names)} files, {diff} differ")
    return 1 if diff else 0


def main(argv):
    if len(argv) >= 3 and argv[0] == "capture":
        count_bin = argv[argv.index("--count-bin") + 1] if "--count-bin" in argv else None
        tune = argv[argv.index("--tune") + 1] if "--tune" in argv else None
        do_capture(argv[1], argv[2], count_bin, tune)
        return 0
    if len(argv) == 3 and argv[0] == "compare":
        return do_compare(argv[1], argv[2])
    print(__doc__.strip().splitlines()[2:4], file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
