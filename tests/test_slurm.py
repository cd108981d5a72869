"""FireWorks on a real single-node SLURM (``slurm_cluster`` fixture) with the Mongo wire server: ``mlip-glass
submit`` of the surrogate flow and of a demo-size active-learning campaign, ``qlaunch rapidfire`` with the shipped
SLURM queue adapter (only its ``/path/to/...`` placeholders replaced), every Firework COMPLETED through ``sbatch``,
and the store's documents identical (job uuids, output hashes) to the same campaign run with ``run_locally``."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from campaign_docs import campaign_documents
from fireworks_queue import BIN, UNFINISHED, WORKFLOWS, fw_config, launchpad_file, qadapter_for, states, submit

from mlip_glass.campaign import campaign_salt
from mlip_glass.flows import build_flow
from mlip_glass.job_ids import deterministic_flow
from mlip_glass.store import get_job_store, get_launchpad, memory_job_store

pytestmark = [pytest.mark.slurm, pytest.mark.wire]

TOY_CAMPAIGN = "mlip_glass.testing.al_standins:toy_campaign_flow"
#: a surrogate grid of five jobs: two swap-MC coolings, two MD coolings, the time-scale map
SURROGATE_OPTIONS = {"n_samples": 1, "swap_sweeps": [100, 1000], "md_times": [10, 20]}
#: iteration 0 of the stand-in campaign plus one active-learning iteration (dynamic Fireworks)
TOY_OPTIONS = {"max_iterations": 1, "n_feedback_runs": 1}


def local_documents(flow: str, campaign: str, options: dict, root_dir: Path) -> dict:
    """The campaign's documents from jobflow's ``run_locally`` in ``root_dir`` (same job uuids as
    ``mlip-glass submit``)."""
    from jobflow import run_locally

    store = memory_job_store()
    built, _ = deterministic_flow(build_flow(flow, campaign, **options), salt=campaign_salt(campaign, 0))
    run_locally(built, store=store, ensure_success=True, log=False, root_dir=root_dir, create_folders=True)
    return campaign_documents(store, campaign)


def slurm_job_of(launch_dir: str) -> str:
    """The SLURM job id of a launch: its queue job wrote ``<job_name>-<id>.out`` into the launch folder."""
    outs = list(Path(launch_dir).glob("*-*.out"))
    assert len(outs) == 1, f"{launch_dir}: expected one SLURM output file, got {outs}"
    return outs[0].stem.rsplit("-", 1)[1]


def sacct_states(cluster) -> dict[str, str]:
    """Job id → final state of every finished job (``sacct -c``: the jobcomp file, no database)."""
    out = cluster.run("sacct", "-c", "-n", "-P", "-o", "JobID,State")
    return dict(line.split("|")[:2] for line in out.splitlines() if line.strip())


def queue_campaign(cluster, tmp_path: Path, mongo_uri: str, flow: str, campaign: str, options: dict):
    """Submit ``flow`` with ``mlip-glass submit``, run ``qlaunch rapidfire`` until every Firework finished;
    returns ``(lpad, firework → SLURM job id)``."""
    lp_file = launchpad_file(mongo_uri, tmp_path / "launchpad.yaml")
    lpad = get_launchpad(str(lp_file))
    lpad.reset("", require_password=False)
    env = {**cluster.env, "FW_CONFIG_FILE": str(fw_config(tmp_path))}
    submit(flow, campaign, options, lp_file, mongo_uri, env)
    qadapter = qadapter_for(tmp_path, lp_file, tmp_path / "checkpoints")  # paths edited, nothing else
    launch_dir = tmp_path / "qlaunch"
    launch_dir.mkdir()
    cmd = [str(BIN / "qlaunch"), "-l", str(lp_file), "-w", str(WORKFLOWS / "my_fworker.yaml"), "-q", str(qadapter),
           "--launch_dir", str(launch_dir), "rapidfire", "-m", "2", "--sleep", "1"]
    for _ in range(10):  # qlaunch leaves when no Firework is READY or WAITING behind a running one
        q = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
        assert q.returncode == 0, q.stderr[-3000:]
        while cluster.run("squeue", "-h", "-o", "%i").split():  # let the last queued jobs finish
            subprocess.run(["sleep", "0.5"])
        if not lpad.fireworks.count_documents({"state": {"$in": UNFINISHED}}):
            break
    n_fw = lpad.fireworks.count_documents({})
    assert states(lpad) == {"COMPLETED": n_fw}, (states(lpad), cluster.logs())
    job_of = {la["fw_id"]: slurm_job_of(la["launch_dir"]) for la in lpad.launches.find({"state": "COMPLETED"})}
    assert len(job_of) == n_fw and len(set(job_of.values())) == n_fw  # one sbatch job per Firework
    return lpad, job_of


@pytest.mark.parametrize(("flow", "campaign", "options"), [
    ("surrogate", "slurm-surrogate", SURROGATE_OPTIONS),
    (TOY_CAMPAIGN, "slurm-al", TOY_OPTIONS),
], ids=["surrogate", "active_learning"])
def test_qlaunch_runs_every_firework_through_sbatch_with_the_documents_of_run_locally(
        slurm_cluster, mongo_uri, tmp_path, flow, campaign, options):
    lpad, job_of = queue_campaign(slurm_cluster, tmp_path, mongo_uri, flow, campaign, options)
    finished = sacct_states(slurm_cluster)
    assert {job_of[fw]: finished.get(job_of[fw]) for fw in job_of} == {j: "COMPLETED" for j in job_of.values()}
    some = sorted(job_of.values())[0]
    shown = slurm_cluster.run("scontrol", "show", "job", some)
    assert "JobState=COMPLETED" in shown and "Partition=standard" in shown and "TimeLimit=02:00:00" in shown
    print(f"\n{campaign}: {len(job_of)} Fireworks COMPLETED through sbatch; scontrol show job {some}:\n"
          + "\n".join(ln for ln in shown.splitlines() if re.search("JobId=|JobState=|RunTime=|WorkDir=", ln)))

    queued = campaign_documents(get_job_store(mongo_uri), campaign)
    assert queued == local_documents(flow, campaign, options, tmp_path / "local")  # same uuids, same outputs, nothing twice
    if flow == TOY_CAMPAIGN:
        dynamic = [fw for fw in lpad.fireworks.find({}, {"spec._tasks.job.metadata": 1})
                   if fw["spec"]["_tasks"][0]["job"]["metadata"].get("iteration") == 1]
        assert dynamic, "no Firework of active-learning iteration 1 was created"
