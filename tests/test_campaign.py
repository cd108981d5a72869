"""Campaigns resume: deterministic job identities, finished jobs skipped, no duplicate documents, and a
SIGKILLed swap-MC job resumed from its per-campaign checkpoint."""

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from mlip_glass.campaign import CampaignRunner
from mlip_glass.job_ids import deterministic_flow
from mlip_glass.cli import main
from mlip_glass.flows import build_flow
from mlip_glass.store import get_job_store, memory_job_store
from mlip_glass.testing.toy_jobs import TOY_FLOW

MLIP_GLASS = str(Path(sys.executable).with_name("mlip-glass"))
#: a small surrogate grid whose 40,000-sweep swap-MC job (~10 s) is the one interrupted
SMALL_GRID = ["-o", "swap_sweeps=[100, 40000]", "-o", "md_times=[5, 10]", "-o", "n_samples=1"]


def _uuids(flow):
    return [job.uuid for job, _ in flow.iterflow()]


def test_job_identities_are_the_same_for_the_same_campaign_and_inputs_only():
    first, _ = deterministic_flow(build_flow(TOY_FLOW, "c"), salt="c")
    again, _ = deterministic_flow(build_flow(TOY_FLOW, "c"), salt="c")
    other, _ = deterministic_flow(build_flow(TOY_FLOW, "d"), salt="d")
    assert _uuids(first) == _uuids(again)
    assert not set(_uuids(first)) & set(_uuids(other))
    # references follow the renamed parents: the second job reads the first job's new uuid
    assert first.jobs[1].function_args[0].uuid == first.jobs[0].uuid


def test_identical_twin_jobs_get_distinct_identities():
    from jobflow import Flow

    from mlip_glass.testing.toy_jobs import add

    flow, identities = deterministic_flow(Flow([add(1, 2), add(1, 2)]), salt="c")
    assert len(set(_uuids(flow))) == 2 and len(identities) == 2


def _docs(store, campaign):
    return list(store.query({"metadata.campaign": campaign}, properties=["uuid", "index", "name", "output"]))


def test_rerun_skips_finished_jobs_and_writes_no_duplicates(tmp_path):
    store = memory_job_store()
    runner = CampaignRunner(store, "c", tmp_path)
    first = runner.run(build_flow(TOY_FLOW, "c"))
    second = runner.run(build_flow(TOY_FLOW, "c"))
    assert (len(first.ran), len(first.skipped)) == (3, 0)
    assert (len(second.ran), len(second.skipped)) == (0, 3)
    docs = _docs(store, "c")
    assert len(docs) == 3 and {d["output"] for d in docs if d["name"] == "total"} == {40.0}


def test_a_job_that_failed_runs_again_and_its_parent_is_not_recomputed(tmp_path, monkeypatch):
    """First run: the last job fails; the re-run (cause fixed) runs only that job."""
    from mlip_glass.testing import toy_jobs

    store = memory_job_store()
    runner = CampaignRunner(store, "c", tmp_path)
    original = toy_jobs.total.original

    def broken(values):
        raise OSError("disk full")

    monkeypatch.setattr(toy_jobs.total, "original", broken)
    result = runner.run(build_flow(TOY_FLOW, "c"))
    assert [name for name, _ in result.failed] == ["total"] and len(result.ran) == 2
    monkeypatch.setattr(toy_jobs.total, "original", original)
    result = runner.run(build_flow(TOY_FLOW, "c"))
    assert result.ran == ["total"] and len(result.skipped) == 2
    assert len(_docs(store, "c")) == 3


def _checkpoint_sweep(project: Path, campaign: str) -> int:
    """Largest sweep stored in the campaign's swap-MC checkpoints (0 if none readable yet)."""
    sweeps = [0]
    for path in (project / "checkpoints" / campaign).glob("*/swapmc_*.ckpt"):
        try:
            with np.load(path) as data:
                sweeps.append(int(data["sweep"]))
        except (OSError, ValueError, KeyError, EOFError):
            continue
    return max(sweeps)


@pytest.mark.timeout(600)
def test_sigkilled_surrogate_run_resumes_from_its_checkpoint(tmp_path):
    project = tmp_path / "project"
    common = ["--project-dir", str(project)]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("MLIP_GLASS_CHECKPOINT_DIR", None)
    proc = subprocess.Popen([MLIP_GLASS, "run", "surrogate", "--campaign", "k", *SMALL_GRID, *common],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    deadline = time.monotonic() + 300
    # the 100-sweep job checkpoints every sweep: wait for a checkpoint of the 40,000-sweep job
    while _checkpoint_sweep(project, "k") <= 100 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    proc.send_signal(signal.SIGKILL)
    output, _ = proc.communicate(timeout=60)
    killed_at = _checkpoint_sweep(project, "k")
    assert 100 < killed_at < 40000, f"the run must be killed inside the long swap-MC job:\n{output}"

    store = get_job_store(None, project)
    store.connect()
    before = _docs(store, "k")
    store.close()
    assert [d["name"] for d in before] == ["swap-MC 1e+02 sweeps s0"]

    rerun = subprocess.run([MLIP_GLASS, "resume", "--campaign", "k", *common], capture_output=True, text=True,
                           timeout=600, env=env)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert "[1/5] swap-MC 1e+02 sweeps s0: finished before, skipped" in rerun.stdout
    resumed = re.search(r"swap-MC resumed from .* at sweep (\d+) / 40000", rerun.stdout)
    assert resumed and int(resumed.group(1)) == killed_at
    assert "ran 4 jobs, skipped 1 finished before" in rerun.stdout

    store = get_job_store(None, project)
    store.connect()
    after = _docs(store, "k")
    keys = Counter((d["uuid"], d["index"]) for d in after)
    assert len(after) == 5 and max(keys.values()) == 1
    assert next(d for d in after if d["uuid"] == before[0]["uuid"])  # the finished job kept its uuid
    swap = next(d for d in after if d["name"] == "swap-MC 4e+04 sweeps s0")["output"]
    store.close()
    assert not list((project / "checkpoints" / "k").glob("*/*.ckpt"))  # cleaned after success

    # the resumed chain ends where an uninterrupted run ends (bit-identical swap-MC resume)
    assert main(["run", "surrogate", "--campaign", "ref", "--quiet", *SMALL_GRID, *common]) == 0
    store = get_job_store(None, project)
    store.connect()
    ref = next(d for d in _docs(store, "ref") if d["name"] == "swap-MC 4e+04 sweeps s0")["output"]
    assert swap["structure_hash"] == ref["structure_hash"]
    assert swap["e_is_per_atom"] == ref["e_is_per_atom"]
    recipe = json.loads((project / "campaigns" / "k.json").read_text())
    assert recipe["flow"] == "surrogate" and recipe["options"]["swap_sweeps"] == [100, 40000]


def test_another_iteration_of_the_same_campaign_is_not_taken_for_finished(tmp_path, capsys):
    common = ["--campaign", "c", "--project-dir", str(tmp_path)]
    assert main(["run", TOY_FLOW, *common]) == 0
    assert main(["run", TOY_FLOW, "--iteration", "1", *common]) == 0
    assert "ran 3 jobs, skipped 0" in capsys.readouterr().out
    assert main(["run", TOY_FLOW, "--iteration", "1", *common]) == 0
    assert "ran 0 jobs, skipped 3" in capsys.readouterr().out
