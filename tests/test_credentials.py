"""Store credentials: masked in every error, ``${VAR}`` in URIs / launchpad.yaml / jobflow.yaml, no literal
password in what FireWorks stores; against a wire-protocol server that requires SCRAM authentication."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest
from monty.json import MontyDecoder, jsanitize

from mlip_glass.credentials import PASSWORD_ENV, redact
from mlip_glass.store import (
    StoreConfigError,
    check_mongo,
    fireworks_job_store,
    get_job_store,
    get_launchpad,
)
from wire_server import find_wire_python, free_port

REPO_ROOT = Path(__file__).resolve().parents[1]

USER, SECRET = "alice", "s3cret-Pw"
LAUNCHER = """
import asyncio, signal, sys
from mongoeco.wire import AsyncMongoEcoProxyServer
from mongoeco.wire.auth import WireAuthUser
async def serve(port):
    users = (WireAuthUser(sys.argv[2], sys.argv[3], roles=({"role": "root", "db": "admin"},)),)
    server = AsyncMongoEcoProxyServer(host="127.0.0.1", port=port, auth_users=users)
    await server.start()
    print("READY", flush=True)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    await stop.wait()
    await server.close()
asyncio.run(serve(int(sys.argv[1])))
"""
OPTS = "directConnection=true&authSource=admin&authMechanism=SCRAM-SHA-256"


@pytest.fixture(scope="module")
def auth_port(tmp_path_factory):
    """A mongoeco wire server on 127.0.0.1 with one SCRAM user (alice / SECRET)."""
    python = find_wire_python(REPO_ROOT)
    if python is None:
        if os.environ.get("MLIP_GLASS_SKIP_WIRE") == "1":
            pytest.skip("wire server disabled by MLIP_GLASS_SKIP_WIRE=1")
        pytest.fail("no wire-server python: run `make wire-venv` or set MLIP_GLASS_WIRE_PYTHON")
    script = tmp_path_factory.mktemp("auth") / "launch.py"
    script.write_text(LAUNCHER)
    port = free_port()
    proc = subprocess.Popen([str(python), str(script), str(port), USER, SECRET], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not proc.stdout.readline().startswith("READY"):
        if proc.poll() is not None:
            pytest.fail("auth wire server did not start")
    yield port
    proc.terminate()
    proc.wait(10)


def _uri(port, password, db="creds"):
    return f"mongodb://{USER}:{password}@127.0.0.1:{port}/{db}?{OPTS}"


def test_redact_masks_uri_user_info_and_password_fields():
    assert redact("at mongodb://bob:p@ss@h:1/db x") == "at mongodb://bob:***@h:1/db x"
    assert redact("mongodb+srv://bob:pw@h/db?password=zz&w=1") == "mongodb+srv://bob:***@h/db?password=***&w=1"
    assert redact("{'password': 'hunter2'}") == "{'password': '***'}"
    assert redact("mongodb://h:27017/db") == "mongodb://h:27017/db"


def test_unreachable_and_malformed_uris_do_not_print_the_password():
    closed = free_port()
    with pytest.raises(StoreConfigError) as err:
        check_mongo(f"mongodb://{USER}:{SECRET}@127.0.0.1:{closed}/db", timeout_ms=300)
    assert SECRET not in str(err.value) and f"{USER}:***@127.0.0.1:{closed}" in str(err.value)
    assert "not reachable" in str(err.value)
    with pytest.raises(StoreConfigError) as err:
        get_job_store(f"mongodb://{USER}:{SECRET}@127.0.0.1:notaport/db")
    assert SECRET not in str(err.value) and "malformed MongoDB URI" in str(err.value)
    with pytest.raises(StoreConfigError, match=r"\$\{MLIP_GLASS_NOT_SET_PW\}.*not set"):
        get_job_store("mongodb://bob:${MLIP_GLASS_NOT_SET_PW}@127.0.0.1:1/db")


def test_wrong_password_is_one_clear_line_and_env_reference_connects(auth_port, monkeypatch):
    with pytest.raises(StoreConfigError) as err:
        get_job_store(_uri(auth_port, "wrong-guess"))
    text = str(err.value)
    assert "refused" in text and "password" in text and "wrong-guess" not in text and "\n" not in text
    monkeypatch.setenv("MLIP_GLASS_TEST_PW", SECRET)
    store = get_job_store(_uri(auth_port, "${MLIP_GLASS_TEST_PW}"))
    store.connect()
    store.docs_store.update([{"uuid": "u1", "index": 1, "v": 7}], key=["uuid", "index"])
    assert store.query_one({"uuid": "u1"})["v"] == 7
    dumped = json.dumps(jsanitize(store.as_dict(), strict=True))
    assert SECRET not in dumped and "${MLIP_GLASS_TEST_PW}" in dumped
    assert SECRET not in store.docs_store.name


def test_fireworks_get_a_store_without_the_password_and_workers_use_their_env(auth_port, monkeypatch):
    from jobflow import Flow, job
    from jobflow.managers.fireworks import flow_to_workflow

    store, needed = fireworks_job_store(_uri(auth_port, SECRET, db="fw"))
    assert needed == [PASSWORD_ENV]

    @job
    def twice(x):
        return 2 * x

    workflow = flow_to_workflow(Flow([twice(3)]), store=store)
    dumped = json.dumps(jsanitize(workflow.to_dict(), strict=True, enum_values=True))
    assert SECRET not in dumped and "${" + PASSWORD_ENV + "}" in dumped  # what add_wf and FW.json hold
    # a worker: deserialises the store from the Firework spec and connects with its own environment
    spec = workflow.fws[0].tasks[0]["store"]
    worker_store = MontyDecoder().process_decoded(json.loads(json.dumps(jsanitize(spec, strict=True))))
    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    with pytest.raises(StoreConfigError, match=PASSWORD_ENV):
        worker_store.connect()
    monkeypatch.setenv(PASSWORD_ENV, SECRET)
    worker_store.connect()
    worker_store.docs_store.update([{"uuid": "w", "index": 1}], key=["uuid", "index"])
    assert worker_store.count({"uuid": "w"}) == 1


def test_launchpad_yaml_with_env_password_and_wrong_password(auth_port, tmp_path, monkeypatch):
    def write(password):
        path = tmp_path / "launchpad.yaml"
        path.write_text(
            f"host: 127.0.0.1\nport: {auth_port}\nname: fw_creds\nusername: {USER}\npassword: '{password}'\n"
            "authsource: admin\nmongoclient_kwargs:\n  authMechanism: SCRAM-SHA-256\n  directConnection: true\n"
        )
        return str(path)

    monkeypatch.setenv("MLIP_GLASS_LPAD_PW", SECRET)
    lpad = get_launchpad(write("${MLIP_GLASS_LPAD_PW}"))
    assert lpad.fireworks.count_documents({}) == 0
    with pytest.raises(StoreConfigError) as err:  # the check uses the file's credentials
        get_launchpad(write("not-it"))
    assert "refused" in str(err.value) and "not-it" not in str(err.value) and "\n" not in str(err.value)
    monkeypatch.delenv("MLIP_GLASS_LPAD_PW")
    with pytest.raises(StoreConfigError, match="MLIP_GLASS_LPAD_PW"):
        get_launchpad(write("${MLIP_GLASS_LPAD_PW}"))


def test_jobflow_yaml_with_env_password(auth_port, tmp_path, monkeypatch):
    config = tmp_path / "jobflow.yaml"
    monkeypatch.setenv("JOBFLOW_CONFIG_FILE", str(config))
    with pytest.raises(StoreConfigError, match="needs jobflow's configuration file"):
        get_job_store("jobflow")
    common = (f"database: jf\n    host: 127.0.0.1\n    port: {auth_port}\n    username: {USER}\n"
              "    password: ${MLIP_GLASS_JF_PW}\n    auth_source: admin\n"
              "    mongoclient_kwargs: {authMechanism: SCRAM-SHA-256, directConnection: true}\n")
    config.write_text(f"JOB_STORE:\n  docs_store:\n    type: MongoStore\n    collection_name: outputs\n    {common}"
                      f"  additional_stores:\n    data:\n      type: GridFSStore\n      collection_name: blobs\n"
                      f"      {common.replace(chr(10) + '    ', chr(10) + '      ')}")
    monkeypatch.setenv("MLIP_GLASS_JF_PW", SECRET)
    store = get_job_store("jobflow")
    store.connect()
    store.docs_store.update([{"uuid": "j", "index": 1}], key=["uuid", "index"])
    assert store.count({"uuid": "j"}) == 1
    assert SECRET not in json.dumps(jsanitize(store.as_dict(), strict=True))
    config.write_text("JOB_STORE: [unclosed\n")
    with pytest.raises(StoreConfigError, match="malformed jobflow config"):
        get_job_store("jobflow")
