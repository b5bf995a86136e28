#!/usr/bin/env python3
"""The GitHub workflow and the Slurm script do their work through scripts/ci-gate.sh.

Usage: test_workflow.py REPO_ROOT. Parses .github/workflows/adambench.yml (python3-yaml) and
checks: a pull-request job that builds (build/ and the counting build build-count/), tests, gates
(`pr`) and uploads the report; a nightly matrix of shards whose count matches SHARDS, all of one run
(ADAMBENCH_RUN_ID from the workflow run and its attempt); a merge job after it that runs whatever
became of the shards and is given N; no step that runs adambench or ctest around the script; every
ci-gate.sh subcommand used exists in the script; and the Slurm scripts run shards and the merge
through the same script, the merge submitted with the array (afterany), the sbatch header
documenting a small node's overrides, and each script run outside Slurm answering with its one-line
hint (exit 2).
"""
import os
import re
import subprocess
import sys
from pathlib import Path

import yaml

root = Path(sys.argv[1] if len(sys.argv) > 1 else ".")
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


wf = yaml.safe_load((root / ".github/workflows/adambench.yml").read_text())
script = (root / "scripts/ci-gate.sh").read_text()
subcommands = set(re.findall(r"^  ([a-z-]+)\)$", script, re.M))
check({"build", "build-count", "test", "pr", "shard", "merge"} <= subcommands,
      f"ci-gate.sh has build, build-count, test, pr, shard, merge ({sorted(subcommands)})")

on = wf.get("on", wf.get(True))  # YAML 1.1 reads a bare `on` as true
check(isinstance(on, dict) and "pull_request" in on, "triggered by pull requests")
check(isinstance(on, dict) and any("cron" in s for s in on.get("schedule") or []), "triggered nightly (schedule: cron)")

jobs = wf.get("jobs") or {}


def runs(job):
    return [s["run"] for s in job.get("steps", []) if "run" in s]


def uses(job, action):
    return [s for s in job.get("steps", []) if str(s.get("uses", "")).startswith(action)]


def gate_calls(job):
    return [m.group(1) for r in runs(job) for m in re.finditer(r"scripts/ci-gate\.sh ([a-z-]+)", r)]


for name, job in jobs.items():
    for r in runs(job):
        direct = re.search(r"(build/adambench|\bctest\b|scripts/report\.py|scripts/run\.sh)", r)
        check(not direct, f"job {name}: no step runs adambench, ctest or the report around ci-gate.sh ({r.strip()[:60]})")
    for sub in gate_calls(job):
        check(sub in subcommands, f"job {name}: ci-gate.sh {sub} exists")

pr = [j for j in jobs.values() if "pr" in gate_calls(j)]
check(len(pr) == 1, "one job runs `ci-gate.sh pr`")
if pr:
    calls = gate_calls(pr[0])
    check(calls[:3] == ["build", "build-count", "test"] and "pr" in calls,
          f"the pull-request job builds, builds the counting build (counted speed), tests, then gates ({calls})")
    up = uses(pr[0], "actions/upload-artifact")
    check(bool(up) and any("results/pr" in str(s.get("with", {}).get("path", "")) for s in up), "the pull-request job uploads the report")

shard = [(n, j) for n, j in jobs.items() if "shard" in gate_calls(j)]
check(len(shard) == 1, "one job runs `ci-gate.sh shard`")
if shard:
    sname, sjob = shard[0]
    matrix = ((sjob.get("strategy") or {}).get("matrix") or {}).get("shard") or []
    n = str((wf.get("env") or {}).get("SHARDS", ""))
    check(matrix == list(range(1, len(matrix) + 1)) and len(matrix) > 1, f"shards form a matrix 1..N ({matrix})")
    check(n == str(len(matrix)), f"SHARDS ({n}) equals the matrix size ({len(matrix)})")
    run_id = str((wf.get("env") or {}).get("ADAMBENCH_RUN_ID", ""))
    check("github.run_id" in run_id and "github.run_attempt" in run_id,
          f"every job of a workflow run has one run id, ADAMBENCH_RUN_ID, from the run and its attempt ({run_id!r})")
    check(any(re.search(r"ci-gate\.sh shard \$\{\{ matrix\.shard \}\} \$\{\{ env\.SHARDS \}\}", r) for r in runs(sjob)),
          "each matrix job runs its own shard of N")
    check((sjob.get("strategy") or {}).get("fail-fast") is False, "one failing shard does not cancel the others")
    merge = [j for j in jobs.values() if "merge" in gate_calls(j)]
    check(len(merge) == 1, "one job runs `ci-gate.sh merge`")
    if merge:
        needs = merge[0].get("needs")
        needs = [needs] if isinstance(needs, str) else needs or []
        check(sname in needs, f"the merge job waits for the shards (needs: {needs})")
        check("always()" in str(merge[0].get("if", "")), "the merge job runs whatever became of the shards (always())")
        check(any(re.search(r"ci-gate\.sh merge \S+ \$\{\{ env\.SHARDS \}\}", r) for r in runs(merge[0])),
              "the merge is told the shard count, so it can name a shard that left nothing")
        down = uses(merge[0], "actions/download-artifact")
        check(bool(down) and all(s.get("continue-on-error") for s in down), "the merge job downloads the shards, and merges even when none arrived")

slurm = root / "scripts/slurm"
sb = (slurm / "full-suite.sbatch").read_text()
submit = (slurm / "submit.sh").read_text()
msb = (slurm / "merge.sbatch").read_text()
check(re.search(r"^#SBATCH --array=", sb, re.M) is not None, "the sbatch script is a job array")
check(re.search(r"scripts/ci-gate\.sh shard \"\$i\" \"\$n\"", sb) is not None, "each array task runs ci-gate.sh shard I N")
check("ADAMBENCH_RUN_ID=$SLURM_ARRAY_JOB_ID" in sb, "each task's run id is the array job id")
check("afterany:$array" in submit and "scripts/slurm/merge.sbatch" in submit and "full-suite.sbatch" in submit,
      "submit.sh submits the array, then the merge job after the whole array (afterany), not task 1")
check(re.search(r"^\s*sbatch\b|\$\(\s*sbatch\b", sb, re.M) is None, "no task submits anything (a task that never starts must not take the verdict with it)")
check(re.search(r"scripts/ci-gate\.sh merge \"\$ADAMBENCH_OUT\" \"\$ADAMBENCH_SHARDS\"", msb) is not None,
      "the merge job runs ci-gate.sh merge OUT N")
check(all(o in submit for o in ("--partition", "--account", "--qos")) and "shared[@]" in submit,
      "partition, account and QoS reach the merge job")
check("--mem=" in submit and re.search(r"^#SBATCH --mem=", msb, re.M) is not None, "the merge job requests memory")
check("$out/logs/" in submit and "--output" in submit, "job logs go under the output folder")
header = "".join(l for l in sb.splitlines(True) if l.startswith("#") and not l.startswith("#SBATCH"))
check(all(o in header for o in ("--cpus-per-task=", "--mem=", "--oversubscribe", "PartitionConfig")),
      "the sbatch header documents a small node's overrides and the pending reason they cure")
env = {k: v for k, v in os.environ.items() if not k.startswith("SLURM_")}
for script in ("full-suite.sbatch", "merge.sbatch"):
    r = subprocess.run(["bash", str(slurm / script)], env=env, capture_output=True, text=True, timeout=60)
    check(r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and "submit.sh" in r.stderr,
          f"{script} outside Slurm: exit 2 and a one-line hint ({r.returncode}: {r.stderr.strip()[:100]})")

print(f"{len(failures)} failed")
sys.exit(1 if failures else 0)
