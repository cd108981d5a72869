"""Stores over the real Mongo wire protocol, FireWorks workers in separate processes, embedded store."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from mlip_glass.store import get_job_store, get_launchpad
from mlip_glass.testing.toy_jobs import three_job_flow

pytestmark = pytest.mark.wire

EXPECTED_TOTAL = 1 + 3 + 9 + 27  # sum_k (1+2)^k, k < 4


def _rlaunch(launchpad_file: Path, workdir: Path, extra_env=None, *args) -> subprocess.CompletedProcess:
    rlaunch = Path(sys.executable).with_name("rlaunch")
    env = {**os.environ, **(extra_env or {})}
    return subprocess.run(
        [str(rlaunch), "-l", str(launchpad_file), *args, "rapidfire"],
        cwd=workdir, env=env, capture_output=True, text=True, timeout=300,
    )


def _launchpad_yaml(uri: str, path: Path) -> Path:
    db = uri.split("/")[3].split("?")[0] + "_fw"
    base = uri.replace(uri.split("/")[3], db)
    path.write_text(yaml.safe_dump({"host": base, "uri_mode": True, "name": db}))
    return path


def test_flow_runs_through_fireworks_worker_and_outputs_read_back(mongo_uri, tmp_path):
    from jobflow.managers.fireworks import flow_to_workflow

    lp_file = _launchpad_yaml(mongo_uri, tmp_path / "launchpad.yaml")
    lpad = get_launchpad(str(lp_file))
    lpad.reset("", require_password=False)
    store = get_job_store(mongo_uri)
    flow = three_job_flow()
    lpad.add_wf(flow_to_workflow(flow, store=store))

    result = _rlaunch(lp_file, tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]

    states = {fw["state"] for fw in lpad.fireworks.find({}, {"state": 1})}
    assert states == {"COMPLETED"}
    assert lpad.fireworks.count_documents({}) == 3

    reader = get_job_store(mongo_uri)  # a fresh connection, as a user querying later
    reader.connect()
    assert reader.count({}) == 3
    assert reader.get_output(flow.output.uuid) == EXPECTED_TOTAL
    series_doc = reader.query_one({"uuid": flow.jobs[1].uuid}, load=True)
    assert series_doc["output"]["series"] == [1.0, 3.0, 9.0, 27.0]  # blob came back from GridFS


def test_embedded_store_survives_process_exit(tmp_path):
    script = (
        "from jobflow import run_locally\n"
        "from mlip_glass.store import get_job_store\n"
        "from mlip_glass.testing.toy_jobs import three_job_flow\n"
        "flow = three_job_flow()\n"
        "run_locally(flow, store=get_job_store('embedded', r'%s'), ensure_success=True)\n"
        "print(flow.output.uuid)\n" % tmp_path
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    uuid = out.stdout.strip().splitlines()[-1]
    store = get_job_store("embedded", tmp_path)
    store.connect()
    assert store.count({}) == 3
    assert store.get_output(uuid) == EXPECTED_TOTAL


def test_unreachable_mongo_names_the_uri():
    from mlip_glass.store import StoreConfigError, check_mongo

    uri = "mongodb://127.0.0.1:1/nothing?serverSelectionTimeoutMS=200"
    with pytest.raises(StoreConfigError, match="127.0.0.1:1"):
        check_mongo(uri, timeout_ms=300)
