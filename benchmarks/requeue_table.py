"""Benchmark: what a TIMEOUT, an ``scancel`` and a ``kill -9`` cost a long job under ``mlip-glass queue`` on a real
SLURM (the table of docs/hpc.md).

Starts a single-node SLURM (``tests/slurm_cluster.py``: root, Debian ``slurm-wlm`` + ``munge``; KillWait 5 s) and
the Mongo wire server (``tests/wire_server.py``: ``make wire-venv``), submits one long job per kind through
``mlip-glass submit`` with the shipped SLURM queue adapter (1-minute ``--time``, paths edited), runs
``mlip-glass queue`` and interrupts the job's queue jobs in turn: TIMEOUT (nothing done: the job reaches its time
limit), ``scancel``, ``kill -9`` of every process of the job (a dead node). Nobody runs ``detect_lostruns``.
Work lost = progress made after the last checkpoint (its age when the job died x the measured rate); "resumed" =
the next job's first checkpoint is exactly one interval after the last one.

    python benchmarks/requeue_table.py                       # swap-MC and MD cooling, ~100 s of work each
    python benchmarks/requeue_table.py --kinds swap-MC --work 100 --interval 5
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from campaign_docs import campaign_documents  # noqa: E402
from requeue_scenario import MD_COOLING, SWAP_MC, run_interrupted  # noqa: E402
from slurm_cluster import start_cluster, unavailable_reason  # noqa: E402
from wire_server import find_wire_python, start_wire_server  # noqa: E402

KINDS = {SWAP_MC.name: SWAP_MC, MD_COOLING.name: MD_COOLING}


def swap_options(work_s: float, interval_s: float) -> dict:
    """Sweeps of ``work_s`` seconds here, a checkpoint every ``interval_s`` seconds (rate measured now)."""
    from mlip_glass.surrogate.model import LJModel
    from mlip_glass.surrogate.state import random_liquid
    from mlip_glass.surrogate.swap_mc import swap_mc

    model = LJModel.paper()
    liquid = random_liquid(150, seed=1, model=model)
    swap_mc(liquid, model, 10.0, 0.01, 200, seed=1)
    start = time.perf_counter()
    swap_mc(liquid, model, 10.0, 0.01, 20_000, seed=1)
    rate = 20_000 / (time.perf_counter() - start)
    every = max(100, int(rate * interval_s) // 100 * 100)
    return {"sweeps": int(rate * work_s) // every * every, "checkpoint_every": every}


def md_options(work_s: float, interval_s: float) -> dict:
    """An MD cooling of ``work_s`` seconds here, a checkpoint every ``interval_s`` seconds (rate measured now)."""
    from mlip_glass.surrogate.constants import MD_TIMESTEP
    from mlip_glass.surrogate.lammps_md import md_cooling
    from mlip_glass.surrogate.model import LJModel
    from mlip_glass.surrogate.state import random_liquid

    model = LJModel.paper()
    liquid = random_liquid(150, seed=1, model=model)
    start = time.perf_counter()
    md_cooling(liquid, model, duration=20.0, seed=1)
    steps_per_s = (20.0 / MD_TIMESTEP) / (time.perf_counter() - start)
    return {"md_duration": round(steps_per_s * work_s * MD_TIMESTEP, 1),
            "checkpoint_every": max(1, int(steps_per_s * interval_s))}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kinds", nargs="+", default=list(KINDS), choices=list(KINDS))
    parser.add_argument("--work", type=float, default=100.0, help="seconds of work of each long job")
    parser.add_argument("--interval", type=float, default=5.0, help="seconds of work between checkpoints")
    args = parser.parse_args()
    reason = unavailable_reason()
    python = find_wire_python(ROOT)
    if reason or python is None:
        print(f"cannot run: {reason or 'no wire-server python (make wire-venv)'}")
        return 2
    rows = []
    with tempfile.TemporaryDirectory(prefix="requeue_") as tmp:
        cluster = start_cluster(Path(tmp) / "slurm")
        server = start_wire_server(python)
        try:
            for n, name in enumerate(args.kinds):
                kind = KINDS[name]
                make_options = swap_options if kind is SWAP_MC else md_options
                options = make_options(args.work, args.interval)
                workdir = Path(tmp) / f"run{n}"
                workdir.mkdir()
                uri = f"mongodb://127.0.0.1:{server.port}/requeue{n}?directConnection=true"
                start = time.perf_counter()
                lpad, seen, _ = run_interrupted(cluster, workdir, uri, kind, options)
                from mlip_glass.store import get_job_store

                try:
                    docs, duplicates = len(campaign_documents(get_job_store(uri), "requeue")), 0
                except AssertionError:
                    docs, duplicates = -1, 1
                state = next(iter({fw["state"] for fw in lpad.fireworks.find({}, {"state": 1})}))
                print(f"{name}: {options}; {len(seen.jobs)} queue jobs, Firework {state}, "
                      f"{time.perf_counter() - start:.0f} s; checkpoints (time, progress, job):", flush=True)
                print("   ", [(round(t - seen.checkpoints[0][0], 1), p, j) for t, p, j in seen.checkpoints])
                for i in seen.interruptions:
                    rows.append((name, i.kind, i.slurm_state, f"{i.interval} {kind.unit}",
                                 f"{i.work_lost} {kind.unit} ({i.checkpoint_age_s} s)",
                                 "yes" if i.resumed else "NO", f"{docs} ({state})", str(duplicates)))
        finally:
            server.stop()
            cluster.stop()
    header = ("job kind", "interruption", "SLURM state", "checkpoint interval", "work lost", "resumed from last "
              "checkpoint", "documents (Firework)", "duplicates")
    widths = [max(len(h), *(len(r[k]) for r in rows)) for k, h in enumerate(header)]
    print("| " + " | ".join(h.ljust(w) for h, w in zip(header, widths)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths)) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
