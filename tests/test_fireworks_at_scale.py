"""A demo-size active-learning campaign through FireWorks over the real Mongo wire protocol:
two concurrent ``rlaunch rapidfire`` workers, a SIGKILLed worker recovered by ``lpad detect_lostruns
--rerun``, ``qlaunch rapidfire`` with the SLURM adapter against stand-in ``sbatch``/``squeue``, and the
same campaign with ``run_locally`` on the embedded store giving the same documents."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
import yaml
from fireworks_queue import UNFINISHED, launchpad_file, states

from mlip_glass import queries
from mlip_glass.store import INDEXED_FIELDS, ensure_indexes, get_job_store, get_launchpad
from mlip_glass.testing.al_standins import toy_campaign_flow

pytestmark = pytest.mark.wire

BIN = Path(sys.executable).parent
WORKFLOWS = Path(__file__).resolve().parents[1] / "workflows" / "fireworks"
CAMPAIGN = "fw"


def _submit(mongo_uri: str, tmp_path: Path, **campaign):
    from jobflow.managers.fireworks import flow_to_workflow

    lp_file = launchpad_file(mongo_uri, tmp_path / "launchpad.yaml")
    lpad = get_launchpad(str(lp_file))
    lpad.reset("", require_password=False)
    store = get_job_store(mongo_uri)
    lpad.add_wf(flow_to_workflow(toy_campaign_flow(CAMPAIGN, **campaign), store=store))
    return lp_file, lpad


def _counts(store) -> Counter:
    store.connect()
    docs = list(store.query({"metadata.campaign": CAMPAIGN}, properties=["uuid", "index", "name", "metadata"]))
    assert len(docs) == len({(d["uuid"], d["index"]) for d in docs}), "a job document was written twice"
    return Counter((d["metadata"]["stage"], d["metadata"]["iteration"], d["name"]) for d in docs)


def _local_counts(tmp_path: Path, **campaign) -> Counter:
    from jobflow import run_locally

    store = get_job_store("embedded", tmp_path / "embedded")
    run_locally(toy_campaign_flow(CAMPAIGN, **campaign), store=store, ensure_success=True, log=False)
    return _counts(get_job_store("embedded", tmp_path / "embedded"))


def _rlaunch(lp_file: Path, workdir: Path, *args: str, **popen) -> subprocess.Popen:
    workdir.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen([str(BIN / "rlaunch"), "-l", str(lp_file), *args], cwd=workdir,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **popen)


def test_two_concurrent_workers_run_every_firework_once(mongo_uri, tmp_path):
    # feedback runs of 1.5 s: the two of an iteration are READY together and one worker cannot take both before
    # the other starts (with instant jobs one fast worker could drain the whole workflow alone)
    lp_file, lpad = _submit(mongo_uri, tmp_path, max_iterations=2, n_feedback_runs=2, sleep_s=1.5)
    rounds = 0
    while lpad.fireworks.count_documents({"state": {"$in": UNFINISHED}}) and rounds < 10:
        # two workers at once; a worker leaves when nothing is READY, so start rounds until done
        workers = [_rlaunch(lp_file, tmp_path / f"worker{i}", "rapidfire", "--sleep", "1") for i in (0, 1)]
        for w in workers:
            out, _ = w.communicate(timeout=600)
            assert w.returncode == 0, out[-3000:]
        rounds += 1
    n_fw = lpad.fireworks.count_documents({})
    assert states(lpad) == {"COMPLETED": n_fw}
    launches = list(lpad.launches.find({}, {"fw_id": 1, "launch_dir": 1}))
    assert len(launches) == n_fw and len({la["fw_id"] for la in launches}) == n_fw  # each ran exactly once
    by_worker = Counter(Path(la["launch_dir"]).parent.name for la in launches)
    assert by_worker["worker0"] > 0 and by_worker["worker1"] > 0

    store = get_job_store(mongo_uri)
    counts = _counts(store)
    assert counts == _local_counts(tmp_path, max_iterations=2, n_feedback_runs=2)  # same as run_locally (no sleep)
    assert sum(counts.values()) == n_fw  # one document per firework

    d1, d2 = (queries.find_dataset(store, CAMPAIGN, k)["output"] for k in (1, 2))
    old = set(d1["frame_hashes_train"]) | set(d1["frame_hashes_test"])
    new = set(d2["frame_hashes_train"]) | set(d2["frame_hashes_test"])
    assert old < new and len(new - old) == 2
    assert set(d1["frame_hashes_test"]) <= set(d2["frame_hashes_test"])
    fresh = {r["structure_hash"] for r in queries.frames_of_subset(store, CAMPAIGN, "mlip_feedback", 2)}
    assert new - old == fresh
    chain = queries.lineage(store, CAMPAIGN, sorted(fresh)[0])
    assert [s["kind"] for s in chain] == ["frame", "feedback", "surrogate"] and chain[-1]["seed"] in (11, 12, 13)

    assert set(ensure_indexes(store)) == {*INDEXED_FIELDS, "data:blob_uuid"}  # GridFS blobs by blob_uuid
    info = store.docs_store._collection.index_information()
    indexed = {key for spec in info.values() for key, _ in spec["key"]}
    assert set(INDEXED_FIELDS) <= indexed


def test_killed_worker_is_detected_and_its_job_rerun_without_loss(mongo_uri, tmp_path):
    campaign = dict(max_iterations=1, n_feedback_runs=1, sleep_s=4.0)
    lp_file, lpad = _submit(mongo_uri, tmp_path, **campaign)
    worker = _rlaunch(lp_file, tmp_path / "victim", "rapidfire", "--sleep", "1", start_new_session=True)
    deadline = time.time() + 300
    while time.time() < deadline:
        running = lpad.fireworks.find_one({"name": queries.FEEDBACK_JOB_NAME, "state": "RUNNING"})
        if running:
            break
        assert worker.poll() is None, worker.communicate()[0][-3000:]
        time.sleep(0.2)
    assert running, "the feedback firework never started"
    time.sleep(1.0)  # mid-job: the stand-in feedback run sleeps 4 s
    os.killpg(worker.pid, signal.SIGKILL)
    worker.wait()
    assert lpad.fireworks.find_one({"fw_id": running["fw_id"]})["state"] == "RUNNING"  # stale
    time.sleep(2.0)

    detect = subprocess.run([str(BIN / "lpad"), "-l", str(lp_file), "detect_lostruns", "--time", "1", "--rerun"],
                            capture_output=True, text=True, timeout=120)
    assert detect.returncode == 0, detect.stderr[-3000:]
    assert str(running["fw_id"]) in detect.stdout + detect.stderr
    assert lpad.fireworks.find_one({"fw_id": running["fw_id"]})["state"] == "READY"

    rescue = _rlaunch(lp_file, tmp_path / "rescue", "rapidfire", "--sleep", "1")
    out, _ = rescue.communicate(timeout=600)
    assert rescue.returncode == 0, out[-3000:]
    n_fw = lpad.fireworks.count_documents({})
    assert states(lpad) == {"COMPLETED": n_fw}
    counts = _counts(get_job_store(mongo_uri))  # asserts no (uuid, index) twice
    assert counts == _local_counts(tmp_path, **campaign)
    assert counts[("active_learning", 1, queries.FEEDBACK_JOB_NAME)] == 1


SBATCH = """#!/bin/bash
# stand-in sbatch: run the job script in the background here, print what SLURM prints
state="{state}"; mkdir -p "$state"
script="$(realpath "${{@: -1}}")"
n=$(( $(ls "$state" | grep -c '\\.pid$') + $(cat "$state/done" 2>/dev/null || echo 0) + 1001 ))
echo "$script" >> "$state/submitted"
( cd "$(dirname "$script")" && nohup bash "$script" > "$script.$n.out" 2>&1; rm -f "$state/$n.pid" ) &
echo $! > "$state/$n.pid"
echo "Submitted batch job $n"
"""

SQUEUE = """#!/bin/bash
# stand-in squeue -o "%u" -u USER -h: one line per live job
state="{state}"
for f in "$state"/*.pid; do [ -e "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null && echo "$USER"; done
exit 0
"""


def test_qlaunch_rapidfire_with_the_slurm_adapter(mongo_uri, tmp_path):
    lp_file, lpad = _submit(mongo_uri, tmp_path, max_iterations=1, n_feedback_runs=1)
    fake_bin, state = tmp_path / "fake_slurm", tmp_path / "slurm_state"
    fake_bin.mkdir()
    for name, text in (("sbatch", SBATCH), ("squeue", SQUEUE)):
        (fake_bin / name).write_text(text.format(state=state))
        (fake_bin / name).chmod(0o755)
    fworker = WORKFLOWS / "my_fworker.yaml"  # the shipped catch-all worker and SLURM adapter
    settings = yaml.safe_load((WORKFLOWS / "my_qadapter_slurm.yaml").read_text())
    settings.update({"rocket_launch": f"{BIN / 'rlaunch'} -l {lp_file} -w {fworker} singleshot",
                     "walltime": "00:10:00", "queue": "debug", "pre_rocket": f"export PATH={BIN}:$PATH"})
    qadapter = tmp_path / "my_qadapter.yaml"
    qadapter.write_text(yaml.safe_dump(settings))
    fw_config = tmp_path / "FW_config.yaml"
    fw_config.write_text(yaml.safe_dump({"QUEUE_UPDATE_INTERVAL": 0, "QSTAT_FREQUENCY": 1}))
    env = {**os.environ, "PATH": f"{fake_bin}:{os.environ['PATH']}", "FW_CONFIG_FILE": str(fw_config)}
    launch_dir = tmp_path / "qlaunch"
    launch_dir.mkdir()
    for _ in range(20):  # qlaunch leaves when nothing is READY; the dynamic loop adds work later
        q = subprocess.run([str(BIN / "qlaunch"), "-l", str(lp_file), "-w", str(fworker), "-q", str(qadapter),
                            "--launch_dir", str(launch_dir), "rapidfire", "-m", "2", "--sleep", "1"],
                           env=env, capture_output=True, text=True, timeout=600)
        assert q.returncode == 0, q.stderr[-3000:]
        while list(state.glob("*.pid")):  # wait for the "queued" jobs to finish
            time.sleep(0.5)
        if not lpad.fireworks.count_documents({"state": {"$in": UNFINISHED}}):
            break
    n_fw = lpad.fireworks.count_documents({})
    assert states(lpad) == {"COMPLETED": n_fw}
    scripts = (state / "submitted").read_text().split()
    assert len(scripts) >= n_fw  # every firework went through sbatch
    text = Path(scripts[0]).read_text()
    assert "#SBATCH --time=00:10:00" in text and "#SBATCH --partition=debug" in text and "singleshot" in text
    assert _counts(get_job_store(mongo_uri)) == _local_counts(tmp_path, max_iterations=1, n_feedback_runs=1)


@pytest.mark.slow
def test_worker_categories_route_fits_and_other_jobs_to_their_workers(mongo_uri, tmp_path):
    from jobflow.managers.fireworks import flow_to_workflow

    from mlip_glass.active_learning.resources import set_resources

    flow = toy_campaign_flow(CAMPAIGN, max_iterations=1, n_feedback_runs=1)
    set_resources(flow, category="cpu", cores=1, walltime="01:00:00")
    set_resources(flow, name_filter="nep fit", category="nep", cores=4, walltime="12:00:00", gres="gpu:1")
    lp_file = launchpad_file(mongo_uri, tmp_path / "launchpad.yaml")
    lpad = get_launchpad(str(lp_file))
    lpad.reset("", require_password=False)
    lpad.add_wf(flow_to_workflow(flow, store=get_job_store(mongo_uri)))
    workers = {c: WORKFLOWS / f"my_fworker_{c}.yaml" for c in ("cpu", "nep")}  # the shipped workers
    rounds = 0
    while lpad.fireworks.count_documents({"state": {"$in": UNFINISHED}}) and rounds < 10:
        procs = [_rlaunch(lp_file, tmp_path / c, "-w", str(w), "rapidfire", "--sleep", "1") for c, w in workers.items()]
        for p in procs:
            out, _ = p.communicate(timeout=600)
            assert p.returncode == 0, out[-3000:]
        rounds += 1
    fws = list(lpad.fireworks.find({}, {"fw_id": 1, "name": 1, "state": 1, "spec._category": 1,
                                        "spec._queueadapter": 1}))
    assert {fw["state"] for fw in fws} == {"COMPLETED"}
    ran_in = {la["fw_id"]: Path(la["launch_dir"]).parent.name for la in lpad.launches.find({})}
    fits = [fw for fw in fws if "nep fit" in fw["name"]]
    assert len(fits) == 2  # iteration 0 and the fit created dynamically by iteration 1
    for fw in fws:
        expected = "nep" if "nep fit" in fw["name"] else "cpu"
        assert (fw["name"], fw["spec"]["_category"], ran_in[fw["fw_id"]]) == (fw["name"], expected, expected)
    assert fits[-1]["spec"]["_queueadapter"] == {"gres": "gpu:1", "ntasks": 4, "walltime": "12:00:00"}
