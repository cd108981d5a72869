"""The documents of a campaign as comparable fingerprints: ``(uuid, index) → (job name, output hash)``.

Used to show that a campaign run through a queue (FireWorks + SLURM, jobflow-remote) wrote the same documents
as the same campaign run with ``run_locally``: same job uuids, same outputs (blobs loaded from the data store,
whose own ids are random), nothing written twice.
"""

from __future__ import annotations

import hashlib
import json

from monty.json import jsanitize

#: output fields that measure the run, not its result (seconds of wall and CPU time, paths of the run folder)
VOLATILE_OUTPUT_KEYS = ("wall_time_s", "cpu_time_s", "elapsed_s", "figure_path", "run_dir", "wall_time")


def _strip(obj):
    if isinstance(obj, dict):
        return {k: _strip(v) for k, v in obj.items() if k not in VOLATILE_OUTPUT_KEYS and k != "@version"}
    if isinstance(obj, list):
        return [_strip(v) for v in obj]
    return obj


def output_hash(output) -> str:
    """SHA-256 of an output as jobflow stores it (JSON, sorted keys), run-measuring fields removed."""
    data = _strip(jsanitize(output, strict=True, enum_values=True, allow_bson=True))
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def campaign_documents(store, campaign: str) -> dict[tuple[str, int], tuple[str, str]]:
    """``(uuid, index) → (name, output hash)`` of every document of ``campaign``; asserts none is duplicated."""
    store.connect()
    docs = list(store.query({"metadata.campaign": campaign}, load=True))
    keys = [(d["uuid"], d["index"]) for d in docs]
    assert len(keys) == len(set(keys)), "a job document was written twice"
    return {(d["uuid"], d["index"]): (d["name"], output_hash(d["output"])) for d in docs}
