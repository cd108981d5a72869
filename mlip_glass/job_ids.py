"""Job uuids derived from a job's identity instead of drawn at random.

jobflow gives every job a random uuid when a flow is built. :func:`deterministic_flow` derives each job's uuid
from a salt (e.g. the campaign and iteration) and the job's identity — its name, function (with the Maker's
settings), static inputs and the identities of the jobs it takes outputs from (plus an ordinal among identical
twins) — so that building the same flow twice gives the same uuids. :func:`deterministic_replacement` does the
same for the jobs a running job creates (``Response.replace``), from the running job's uuid: every manager
(``run_locally``, :class:`mlip_glass.campaign.CampaignRunner`, FireWorks, jobflow-remote) then writes the same
documents under the same uuids.
"""

from __future__ import annotations

import json
import re
import uuid as uuid_lib
from collections import Counter
from collections.abc import Iterable
from hashlib import sha256

#: namespace of the deterministic job uuids (uuid5)
JOB_NAMESPACE = uuid_lib.UUID("5d9f3a52-6c1e-4b7a-9a51-2f0c7b0e4d11")
_UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
#: parts of a job's dict that are not its identity (random ids, provenance stamps, run-time config)
_VOLATILE = ("uuid", "index", "hosts", "metadata", "metadata_updates", "config", "config_updates",
             "name_updates", "@version")


def _strip_versions(obj):
    if isinstance(obj, dict):
        return {k: _strip_versions(v) for k, v in obj.items() if k != "@version"}
    if isinstance(obj, list):
        return [_strip_versions(v) for v in obj]
    return obj


def _flows_of(flow) -> Iterable:
    from jobflow import Flow

    yield flow
    for item in flow.jobs:
        if isinstance(item, Flow):
            yield from _flows_of(item)


def _declared_jobs(flow) -> list:
    from jobflow import Flow

    jobs = []
    for item in flow.jobs:
        jobs.extend(_declared_jobs(item) if isinstance(item, Flow) else [item])
    return jobs


def ordered_jobs(flow) -> list[tuple]:
    """``(job, parents)`` in dependency order, ties broken by the order jobs were added to the flow
    (jobflow's own order of independent jobs is random)."""
    items = {job.uuid: (job, parents) for job, parents in flow.iterflow()}
    declared = [j.uuid for j in _declared_jobs(flow) if j.uuid in items]
    declared += [u for u in items if u not in set(declared)]
    emitted: set[str] = set()
    order: list[tuple] = []
    while len(order) < len(declared):
        for uid in declared:
            if uid in emitted:
                continue
            job, parents = items[uid]
            if all(p in emitted or p not in items for p in parents):
                order.append((job, parents))
                emitted.add(uid)
                break
        else:  # a cycle cannot happen in a valid flow; keep jobflow's order for the rest
            order += [items[u] for u in declared if u not in emitted]
            break
    return order


def deterministic_flow(flow, salt: str, keep: Iterable[str] = ()):
    """A copy of ``flow`` whose job and flow uuids derive from ``salt`` and each job's identity.

    ``keep``: uuids left unchanged (e.g. the parent's uuid that a replacing flow inherits).
    Returns ``(flow, identities)`` with ``identities[uuid]`` the hex identity hash of each job.
    """
    from jobflow import Flow
    from monty.json import MontyDecoder, MontyEncoder

    flow = flow if isinstance(flow, Flow) else Flow(flow)
    keep = set(keep)
    mapping: dict[str, str] = {}
    identities: dict[str, str] = {}
    twins: Counter = Counter()

    def sub(text: str) -> str:
        return _UUID_RE.sub(lambda m: mapping.get(m.group(0), m.group(0)), text)

    for job, _ in ordered_jobs(flow):
        if job.uuid in keep or job.uuid in mapping:
            continue
        data = {k: v for k, v in job.as_dict().items() if k not in _VOLATILE}
        text = sub(json.dumps(_strip_versions(json.loads(json.dumps(data, cls=MontyEncoder))), sort_keys=True))
        digest = sha256(f"{salt}\n{text}".encode()).hexdigest()
        twins[digest] += 1
        identity = f"{digest}#{twins[digest]}"
        mapping[job.uuid] = str(uuid_lib.uuid5(JOB_NAMESPACE, identity))
        identities[mapping[job.uuid]] = identity
    for k, sub_flow in enumerate(_flows_of(flow)):
        if sub_flow.uuid not in keep:
            mapping[sub_flow.uuid] = str(uuid_lib.uuid5(JOB_NAMESPACE, f"{salt}/flow/{k}"))
    new = MontyDecoder().decode(sub(json.dumps(flow.as_dict(), cls=MontyEncoder)))
    return new, identities


def deterministic_replacement(new, k: int = 0):
    """``new`` (a Flow returned in a ``Response`` by the running job) with uuids derived from the running job's
    uuid and index, so that every manager (``run_locally``, FireWorks, jobflow-remote, a rerun) creates the
    same dynamic jobs. ``k``: 0 replace, 1 detour, 2 addition. A single Job or no running job: unchanged."""
    from jobflow import CURRENT_JOB, Flow

    job = CURRENT_JOB.job
    if job is None or not isinstance(new, Flow):
        return new
    flow, _ = deterministic_flow(new, salt=f"{job.uuid}/{job.index}/{k}", keep={job.uuid})
    return flow
