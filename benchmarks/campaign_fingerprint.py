"""Fingerprint of a fixed-step toy campaign: one line per job (name, uuid, index, hash of its output).

    python benchmarks/campaign_fingerprint.py > fingerprint.txt     # then diff two such files

"Same seeds → same documents" across a refactoring is checked by diffing the output of two commits. The campaign
runs with ``run_locally`` on an in-memory store and touches every stage that takes a protocol or a Maker option:

- surrogate: two swap-MC glasses (40 atoms, 50 sweeps, seeds 0 and 1);
- reference + datasets: the demo preset's database Maker (``GlassMLIPFlowMaker.demo().database``: EAM, every
  subset, relaxed-density rescaling, AIMD from the relaxed minima) on those glasses;
- properties: the demo elastic and AQS Makers (EAM) on the first glass, a tiny RDF melt-quench (40 atoms, 1 run);
- active learning: :func:`mlip_glass.testing.al_standins.toy_campaign_flow` (one iteration, two feedback runs).

jobflow draws job uuids from :func:`uuid.uuid4`; the script replaces it by a seeded generator, so uuids (and the
uuids that outputs record, e.g. a frame's ``job_uuid``) are reproducible too as long as jobs are created in the
same order; it also runs with ``PYTHONHASHSEED=0`` (re-executing itself), so set iteration order is fixed. Output
hashes leave out wall/CPU times and dates (keys in :data:`VOLATILE_KEYS`) and the checkout's path.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import sys
import uuid
import warnings

#: output keys whose values are measured times or dates, not results
VOLATILE_KEYS = ("time", "wall", "cpu", "date", "created", "completed", "elapsed", "duration_s", "seconds")


def seeded_uuids(seed: int = 0) -> None:
    """Make :func:`uuid.uuid4` (used by jobflow's ``suid``) deterministic."""
    rng = random.Random(seed)
    uuid.uuid4 = lambda: uuid.UUID(int=rng.getrandbits(128), version=4)


def _volatile(key: str) -> bool:
    return any(word in key.lower() for word in VOLATILE_KEYS)


def normalise(value):
    """``value`` with times/dates dropped, floats rounded to 10 significant digits, dict keys sorted."""
    if isinstance(value, dict):
        return {str(k): normalise(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))
                if not _volatile(str(k))}
    if isinstance(value, (list, tuple)):
        return [normalise(v) for v in value]
    if isinstance(value, float):
        return float(f"{value:.10g}")
    return value


def output_hash(output) -> str:
    """sha256 (12 hex digits) of the normalised JSON of a job output."""
    from monty.json import jsanitize

    import mlip_glass

    text = json.dumps(normalise(jsanitize(output, strict=False, enum_values=True, allow_bson=False)), sort_keys=True,
                      default=str)
    text = text.replace(os.path.dirname(os.path.dirname(mlip_glass.__file__)), "<checkout>")
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def toy_campaign():
    """The flow described in the module docstring (fixed steps and seeds)."""
    from jobflow import Flow

    from mlip_glass.flows import GlassMLIPFlowMaker
    from mlip_glass.properties.jobs import AQSShearMaker, ElasticMaker, RDFMaker
    from mlip_glass.properties.potentials import EAMPotential
    from mlip_glass.provenance import stamp
    from mlip_glass.surrogate.jobs import SwapMCCoolingMaker
    from mlip_glass.testing.al_standins import toy_campaign_flow

    glasses = [SwapMCCoolingMaker(n_sweeps=50, n_atoms=40, equilibration_sweeps=20).make(seed=k) for k in (0, 1)]
    structures = [job.output for job in glasses]
    database = GlassMLIPFlowMaker.demo().database.make(structures)
    first = [glasses[0].output.structure]
    elastic = ElasticMaker.demo().make(EAMPotential(), first)
    aqs = AQSShearMaker.demo().make(EAMPotential(), first)
    rdf = RDFMaker(n_runs=1, n_atoms=40, equilibration_ps=0.2, cooling_rate_k_per_ns=2e6, sample_ps=0.1,
                   sample_frames=2, n_bins=40, r_max=6.0, n_workers=1).make(EAMPotential())
    flow = stamp(Flow([*glasses, database, elastic, aqs, rdf], name="fingerprint glasses"), campaign="fingerprint")
    loop = toy_campaign_flow("fingerprint-al", max_iterations=1, n_feedback_runs=2)
    return Flow([flow, loop], name="fingerprint campaign")


def main() -> int:
    if os.environ.get("PYTHONHASHSEED") != "0":
        os.execve(sys.executable, [sys.executable, *sys.argv], {**os.environ, "PYTHONHASHSEED": "0"})
    warnings.filterwarnings("ignore")
    seeded_uuids(0)
    from jobflow import run_locally

    from mlip_glass.store import memory_job_store

    store = memory_job_store()
    run_locally(toy_campaign(), store=store, ensure_success=True, log=False)
    docs = store.query({}, properties=["uuid", "index", "name", "output"], load=True)
    # sorted by name and (seeded) uuid: run_locally may finish independent jobs in either order
    for n, doc in enumerate(sorted(docs, key=lambda d: (d["name"], d["uuid"], d["index"]))):
        print(f"{n:3d} {doc['name'][:40]:40s} {doc['uuid']} {doc['index']} {output_hash(doc['output'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
