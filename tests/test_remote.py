"""jobflow-remote with the active-learning loop: the stand-in campaign (iteration 0 + one active-learning
iteration, 15 jobs) submitted with :func:`mlip_glass.remote.submit_campaign` and run by the jobflow-remote runner
against the Mongo wire server, with the shipped project file (paths and URIs edited): the store-reading jobs on the
``frontend`` worker (local shell, ``MLIP_GLASS_QUERY_STORE`` set), the others on ``cluster_cpu`` (the real SLURM,
``sbatch``). Every job COMPLETED and the documents identical to ``run_locally``'s (job uuids, output hashes).

jobflow-remote needs pymongo < 4.11, the project pins 4.16: it lives in ``.venv-remote`` (``make remote-venv``),
which ``tests/jfr_driver.py`` runs in."""

from __future__ import annotations

import json
import os
import subprocess
from collections import Counter
from pathlib import Path

import pytest
import yaml
from campaign_docs import campaign_documents
from test_slurm import TOY_CAMPAIGN, TOY_OPTIONS, local_documents, sacct_states

from mlip_glass.remote import STORE_READERS
from mlip_glass.store import get_job_store

pytestmark = [pytest.mark.remote, pytest.mark.slurm, pytest.mark.wire]

REPO = Path(__file__).resolve().parents[1]
PROJECT_FILE = REPO / "workflows" / "fireworks" / "jobflow_remote_project.yaml"
REMOTE_PYTHON_ENV = "MLIP_GLASS_REMOTE_PYTHON"


@pytest.fixture(scope="module")
def remote_python() -> Path:
    """The Python of ``.venv-remote`` (or ``$MLIP_GLASS_REMOTE_PYTHON``); missing: skip, fail under CI."""
    python = Path(os.environ.get(REMOTE_PYTHON_ENV) or REPO / ".venv-remote" / "bin" / "python")
    if not python.exists():
        reason = f"no jobflow-remote venv at {python}: run `make remote-venv`"
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the jobflow-remote tests: {reason}")
        pytest.skip(reason)
    return python


def project_file(folder: Path, name: str, server_port: int, venv: Path, root: Path) -> Path:
    """The shipped project with its ``/path/to/...`` and ``dbhost`` replaced, and 1-s runner delays."""
    text = PROJECT_FILE.read_text()
    base = f"mongodb://127.0.0.1:{server_port}"
    for old, new in (("mongodb://dbhost:27017/mlip_glass_jfr", f"{base}/{name}_jfr?directConnection=true"),
                     ("mongodb://dbhost:27017/mlip_glass", f"{base}/{name}?directConnection=true"),
                     ("database: mlip_glass_jfr", f"database: {name}_jfr"),
                     ("database: mlip_glass\n", f"database: {name}\n"),
                     ("/path/to/mlip_glass/.venv-remote", str(venv)),
                     ("/path/to/jfr_frontend", str(root / "frontend")),
                     ("/path/to/shared/jfr_cluster", str(root / "cluster")),
                     ("/path/to/shared/mlip_glass_checkpoints", str(root / "checkpoints"))):
        assert old in text, f"{PROJECT_FILE.name} has no {old!r}"
        text = text.replace(old, new)
    config = yaml.safe_load(text)
    assert "/path/to/" not in str(config) and "dbhost" not in str(config)
    config["name"] = name
    config["runner"] = {"delay_checkout": 1, "delay_check_run_status": 1, "delay_advance_status": 1}
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def test_active_learning_campaign_completes_under_jobflow_remote_with_the_documents_of_run_locally(
        slurm_cluster, wire_server, remote_python, tmp_path):
    name = "jfr_al"
    project_file(tmp_path / "projects", name, wire_server.port, remote_python.parents[1], tmp_path)
    env = {**slurm_cluster.env, "JFREMOTE_PROJECTS_FOLDER": str(tmp_path / "projects")}
    before = set(sacct_states(slurm_cluster))
    done = subprocess.run([str(remote_python), str(REPO / "tests" / "jfr_driver.py"), name, TOY_CAMPAIGN, "jfr",
                           json.dumps(TOY_OPTIONS), "600"], env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-4000:]
    jobs = json.loads(done.stdout.strip().splitlines()[-1])
    print("\njobflow-remote jobs:", Counter((j["name"], j["worker"], j["state"]) for j in jobs))

    assert {j["state"] for j in jobs} == {"COMPLETED"} and len(jobs) == 15
    for job in jobs:
        reads_store = any(reader in job["name"] for reader in STORE_READERS)
        assert job["worker"] == ("frontend" if reads_store else "cluster_cpu"), job
    assert {j["name"] for j in jobs if j["worker"] == "frontend"} >= {"al step", "al select", "mlip feedback run"}
    sbatch_jobs = {k: v for k, v in sacct_states(slurm_cluster).items() if k not in before}
    assert len(sbatch_jobs) == sum(j["worker"] == "cluster_cpu" for j in jobs)
    assert set(sbatch_jobs.values()) == {"COMPLETED"}

    store = get_job_store(f"mongodb://127.0.0.1:{wire_server.port}/{name}?directConnection=true")
    assert campaign_documents(store, "jfr") == local_documents(TOY_CAMPAIGN, "jfr", TOY_OPTIONS, tmp_path / "local")
