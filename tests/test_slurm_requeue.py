"""Wall time is not a failure: on a real SLURM, ``mlip-glass queue`` re-queues a swap-MC Firework whose job hit
its 1-minute ``--time`` (TIMEOUT), was ``scancel``led, or had its processes ``kill -9``ed, without a human, and
each next job continues from the last checkpoint (less than one checkpoint interval lost); every job writes
one document."""

from __future__ import annotations

import json
import time

import pytest
from campaign_docs import campaign_documents
from fireworks_queue import states
from requeue_scenario import INTERRUPTIONS, SWAP_MC, run_interrupted

from mlip_glass.store import get_job_store

pytestmark = [pytest.mark.slurm, pytest.mark.wire]

#: seconds of swap-MC work in the interrupted Firework (twice the 60-s wall time of its jobs: a machine faster
#: than at the calibration still reaches the time limit)
SWAP_WORK_S = 120.0
#: seconds of swap-MC work between two checkpoints
CHECKPOINT_INTERVAL_S = 3.0


def swap_sweeps_per_s() -> float:
    """Swap-MC sweeps per second of N = 150 atoms here, measured now (the machine is shared)."""
    from mlip_glass.surrogate.model import LJModel
    from mlip_glass.surrogate.state import random_liquid
    from mlip_glass.surrogate.swap_mc import swap_mc

    model = LJModel.paper()
    liquid = random_liquid(150, seed=1, model=model)
    swap_mc(liquid, model, 10.0, 0.01, 200, seed=1)  # compile
    start = time.perf_counter()
    swap_mc(liquid, model, 10.0, 0.01, 20_000, seed=1)
    return 20_000 / (time.perf_counter() - start)


def test_timeout_scancel_and_kill9_are_requeued_and_resume_from_the_checkpoint(slurm_cluster, mongo_uri, tmp_path):
    rate = swap_sweeps_per_s()
    every = max(100, int(rate * CHECKPOINT_INTERVAL_S) // 100 * 100)
    sweeps = int(rate * SWAP_WORK_S) // every * every
    lpad, seen, out = run_interrupted(slurm_cluster, tmp_path, mongo_uri, SWAP_MC,
                                      {"sweeps": sweeps, "checkpoint_every": every})
    print(f"\nswap-MC of {sweeps} sweeps, a checkpoint every {every}:", json.dumps(seen.as_dict(), indent=1), out,
          sep="\n")

    assert states(lpad) == {"COMPLETED": 1}  # nobody ran detect_lostruns
    first = seen.interruptions[:len(INTERRUPTIONS)]
    assert [i.kind for i in first] == list(INTERRUPTIONS)
    assert first[0].slurm_state == "TIMEOUT" and first[1].slurm_state.startswith("CANCELLED")
    assert first[2].slurm_state not in ("COMPLETED", "RUNNING", "")  # its processes were killed
    for interruption in seen.interruptions:
        assert interruption.interval == every
        assert interruption.resumed, interruption  # the next job went on from the last checkpoint
    assert "lost runs put back to READY" in out
    assert lpad.launches.count_documents({}) == len(seen.jobs)  # one launch per queue job that ran it

    docs = campaign_documents(get_job_store(mongo_uri), "requeue")  # asserts nothing written twice
    assert len(docs) == 1
    store = get_job_store(mongo_uri)
    store.connect()
    output = store.query_one({"metadata.campaign": "requeue"}, properties=["output"])["output"]
    assert output["cooling_length"] == sweeps and output["completed"]
