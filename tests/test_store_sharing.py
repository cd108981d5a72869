"""The embedded store shared between processes: concurrent opens, readers during a writer, one writer per
project ("in use by PID"), a fresh directory raced by several writers, read-only project directories."""

from __future__ import annotations

import multiprocessing as mp
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from mlip_glass.embedded_store import ProjectInUseError
from mlip_glass.store import embedded_job_store, get_job_store

CTX = mp.get_context("fork")


def _doc(uuid, x=0):
    return {"uuid": uuid, "index": 1, "x": x}


def _open_repeatedly(path, seconds, queue):
    ok, failed = 0, []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            store = get_job_store("embedded", path)
            store.connect()
            store.count({})
            store.close()
            ok += 1
        except Exception as exc:  # noqa: BLE001 - every failure counts
            failed.append(f"{type(exc).__name__}: {exc}")
    queue.put((ok, failed))


def _hold_writer(path, n_docs, ready, release):
    store = get_job_store("embedded", path, writer=True)
    store.connect()
    store.docs_store.update([_doc(f"w{i}", i) for i in range(n_docs)], key=["uuid", "index"])
    ready.set()
    release.wait(60)


def _race_writer(path, start, queue):
    start.wait(30)
    try:
        store = get_job_store("embedded", path)
        store.connect()
        store.docs_store.update([_doc(f"p{os.getpid()}-{i}") for i in range(3)], key=["uuid", "index"])
        queue.put(("ok", os.getpid()))
    except ProjectInUseError as exc:
        queue.put(("refused", str(exc)))
    except Exception as exc:  # noqa: BLE001
        queue.put(("error", f"{type(exc).__name__}: {exc}"))


def test_two_processes_open_the_store_repeatedly_without_failures(tmp_path):
    seed = embedded_job_store(tmp_path)
    seed.connect()
    seed.docs_store.update([_doc("a")], key=["uuid", "index"])
    seed.close()
    cfg = tmp_path / "store" / "monty.storage.cfg"
    before = (cfg.stat().st_mtime_ns, cfg.read_text())
    queue = CTX.Queue()
    procs = [CTX.Process(target=_open_repeatedly, args=(tmp_path, 1.5, queue)) for _ in range(2)]
    for p in procs:
        p.start()
    results = [queue.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(10)
    assert sum(ok for ok, _ in results) > 20
    assert [f for _, fs in results for f in fs] == []  # maggma's MontyStore: ~half of the opens failed
    assert (cfg.stat().st_mtime_ns, cfg.read_text()) == before  # opening never rewrites montydb's config


def test_second_writer_is_refused_with_the_pid_readers_work_and_kill_frees_the_lock(tmp_path):
    ready, release = CTX.Event(), CTX.Event()
    holder = CTX.Process(target=_hold_writer, args=(tmp_path, 5, ready, release))
    holder.start()
    try:
        assert ready.wait(60)
        reader = get_job_store("embedded", tmp_path)  # status/query/report during the run
        reader.connect()
        assert reader.count({}) == 5
        with pytest.raises(ProjectInUseError, match=rf"in use by PID {holder.pid} \(since "):
            get_job_store("embedded", tmp_path, writer=True)
        with pytest.raises(ProjectInUseError, match=f"PID {holder.pid}"):  # lazily, at the first write
            reader.docs_store.update([_doc("intruder")], key=["uuid", "index"])
        assert reader.count({"uuid": "intruder"}) == 0
    finally:
        os.kill(holder.pid, signal.SIGKILL)  # a crashed run leaves no stale lock
        holder.join(10)
    store = get_job_store("embedded", tmp_path, writer=True)
    store.connect()
    store.docs_store.update([_doc("after")], key=["uuid", "index"])
    assert store.count({}) == 6
    store.close()


def test_writers_racing_on_a_fresh_project_dir_one_wins_the_others_are_refused(tmp_path):
    path = tmp_path / "new" / "project"
    start, queue = CTX.Event(), CTX.Queue()
    procs = [CTX.Process(target=_race_writer, args=(path, start, queue)) for _ in range(3)]
    for p in procs:
        p.start()
    start.set()
    results = [queue.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(10)
    kinds = sorted(kind for kind, _ in results)
    assert "error" not in kinds, results  # no "no such table", "Empty module name", FileExistsError
    assert kinds.count("ok") >= 1 and all("in use by PID" in m for k, m in results if k == "refused")
    winners = [pid for kind, pid in results if kind == "ok"]
    store = get_job_store("embedded", path)
    store.connect()
    uuids = {d["uuid"] for d in store.query({}, properties=["uuid"])}
    assert uuids == {f"p{pid}-{i}" for pid in winners for i in range(3)}  # nothing partial from the losers


def _read_only_runner():
    """argv prefix running a command with /ro mounted read-only, or None where that cannot be arranged."""
    if os.geteuid() != 0:
        return "chmod"
    if shutil.which("unshare") is None:
        return None
    probe = subprocess.run(["unshare", "-m", "true"], capture_output=True)
    return "unshare" if probe.returncode == 0 else None


def test_read_only_project_dir_can_be_queried_and_refuses_writes(tmp_path):
    how = _read_only_runner()
    if how is None:
        pytest.skip("cannot make a read-only directory here (root without mount namespaces)")
    store = embedded_job_store(tmp_path)
    store.connect()
    store.docs_store.update([_doc("a", 1), _doc("b", 2)], key=["uuid", "index"])
    store.close()
    script = (
        "import sys\n"
        "from mlip_glass.store import get_job_store\n"
        "from mlip_glass.embedded_store import ProjectReadOnlyError\n"
        f"s = get_job_store('embedded', {str(tmp_path)!r}); s.connect()\n"
        "print('count', s.count({}), sorted(d['x'] for d in s.query({}, properties=['x'])))\n"
        "try:\n"
        "    s.docs_store.update([{'uuid': 'c', 'index': 1}], key=['uuid', 'index'])\n"
        "except ProjectReadOnlyError as exc:\n"
        "    print('refused', exc)\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    if how == "unshare":
        d = str(tmp_path)
        cmd = ["unshare", "-m", "sh", "-c",
               f'mount --bind "{d}" "{d}" && mount -o remount,ro,bind "{d}" && exec "$0" -c "$1"',
               sys.executable, script]
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env)
    else:
        for p in [tmp_path, *tmp_path.rglob("*")]:
            p.chmod(0o555 if p.is_dir() else 0o444)
        try:
            out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                                 env=env)
        finally:
            for p in [tmp_path, *tmp_path.rglob("*")]:
                p.chmod(0o755 if p.is_dir() else 0o644)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "count 2 [1, 2]" in out.stdout
    assert "refused project store" in out.stdout and "read-only" in out.stdout
