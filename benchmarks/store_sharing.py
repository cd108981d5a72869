"""Benchmark: processes sharing one embedded (montydb/sqlite) project store, ours vs maggma's MontyStore.

Three scenarios per store kind, each on a fresh directory, every loop bounded in time:
- ``opens``: ``--procs`` processes open the store, count documents and close it, over and over for
  ``--seconds`` (the issue's "491 of 1116 opens failed");
- ``read-while-write``: one process writes documents while ``--procs - 1`` processes query them;
- ``fresh-dir writers``: ``--procs`` processes write to a directory that does not exist yet.
Prints attempts, failures and the first error of each kind. Baseline = maggma ``MontyStore`` as used
before issue 13 (config rewritten at every open, no writer lock).

    python benchmarks/store_sharing.py --procs 2 --seconds 3
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import tempfile
import time
from collections import Counter


def _store(kind, path):
    from jobflow import JobStore
    from maggma.stores import MontyStore

    from mlip_glass.store import embedded_job_store

    if kind == "ours":
        return embedded_job_store(path)
    store_dir = os.path.join(path, "store")
    os.makedirs(path, exist_ok=True)
    kw = {"database_path": store_dir, "database_name": "mlip_glass", "storage": "sqlite"}
    return JobStore(MontyStore("outputs", **kw), additional_stores={"data": MontyStore("outputs_blobs", **kw)})


def _opener(kind, path, seconds, queue):
    ok, errors = 0, Counter()
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            store = _store(kind, path)
            store.connect()
            store.count({})
            store.close()
            ok += 1
        except Exception as exc:  # noqa: BLE001 - counting every failure is the point
            errors[f"{type(exc).__name__}: {str(exc)[:80]}"] += 1
    queue.put((ok, errors))


def _writer(kind, path, seconds, tag, queue):
    ok, errors = 0, Counter()
    end = time.monotonic() + seconds
    store = _store(kind, path)
    i = 0
    while time.monotonic() < end:
        try:
            store.connect()
            store.docs_store.update([{"uuid": f"{tag}-{i}", "index": 1, "x": i}], key=["uuid", "index"])
            ok += 1
        except Exception as exc:  # noqa: BLE001
            errors[f"{type(exc).__name__}: {str(exc)[:80]}"] += 1
            if "in use by" in str(exc):  # refused: a clean stop, nothing written
                break
        i += 1
    queue.put((ok, errors))


def _run(targets):
    queue = mp.Queue()
    procs = [mp.Process(target=t, args=(*a, queue)) for t, a in targets]
    for p in procs:
        p.start()
    results = [queue.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=30)
    ok = sum(r[0] for r in results)
    errors = sum((r[1] for r in results), Counter())
    return ok, errors


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--procs", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    for kind in ("baseline", "ours"):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "opens")
            _writer(kind, path, 0.2, "seed", mp.Queue())  # an existing store with a document
            ok, errors = _run([(_opener, (kind, path, args.seconds))] * args.procs)
            print(f"{kind:8} opens: {ok + sum(errors.values())} attempts, {sum(errors.values())} failed",
                  dict(errors.most_common(2)))
            path = os.path.join(tmp, "rw")
            _writer(kind, path, 0.2, "seed", mp.Queue())
            ok, errors = _run([(_writer, (kind, path, args.seconds, "w"))]
                              + [(_opener, (kind, path, args.seconds))] * (args.procs - 1))
            print(f"{kind:8} read-while-write: {ok + sum(errors.values())} operations, "
                  f"{sum(errors.values())} failed", dict(errors.most_common(2)))
            fails = refused = 0
            for rep in range(5):
                path = os.path.join(tmp, f"fresh{rep}")
                ok, errors = _run([(_writer, (kind, path, 0.5, f"p{i}")) for i in range(args.procs)])
                refused += sum(n for e, n in errors.items() if "in use by" in e)
                fails += sum(n for e, n in errors.items() if "in use by" not in e)
            print(f"{kind:8} fresh-dir writers (5 x {args.procs} processes): {fails} failed writes, "
                  f"{refused} clean 'in use by PID' refusals")


if __name__ == "__main__":
    main()
