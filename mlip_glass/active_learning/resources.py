"""Per-Maker compute resources on FireWorks: worker category, pinned worker, queue settings.

jobflow passes ``JobConfig.manager_config`` into the Firework spec (``flow_to_workflow``). FireWorks reads

- ``_category``: only workers whose ``my_fworker.yaml`` has this ``category`` pull the Firework
  (e.g. ``cpu`` for labelling/feedback, ``nep`` for GPU training, ``vasp`` for DFT);
- ``_fworker``: only the worker of that name;
- ``_queueadapter``: per-Firework overrides of ``my_qadapter.yaml`` (``ntasks``, ``walltime``,
  ``queue``, ...), honoured by ``qlaunch -r`` (reservation mode), where one queue job is written per
  Firework.

Updates are dynamic: set on the loop's entry job, they reach the jobs every later iteration creates
(matched by job name, as :meth:`jobflow.Job.update_config` does: ``name_filter`` is a substring).
"""

from __future__ import annotations

from typing import Any

from mlip_glass.errors import MakerInputError

#: job names of the active-learning stage (substrings work as filters)
FEEDBACK = "mlip feedback run"
LABEL = "al label"
ASSEMBLE = "al assemble dataset"
FIT = "nep fit"


def manager_config(category: str | None = None, fworker: str | None = None, cores: int | None = None,
                   walltime: str | None = None, **queue: Any) -> dict:
    """The FireWorks ``manager_config`` of a job.

    Parameters
    ----------
    category
        Worker category (``my_fworker.yaml: category``).
    fworker
        Name of the one worker allowed to run the job.
    cores
        MPI tasks of the queue job (``ntasks``).
    walltime
        Queue wall time ``HH:MM:SS``.
    queue
        Any further ``my_qadapter.yaml`` keys (``queue``, ``account``, ``gres``, ``nodes``, ...).
    """
    if cores is not None and int(cores) < 1:
        raise MakerInputError(f"cores must be >= 1, got {cores}")
    if walltime is not None:
        parts = str(walltime).split(":")
        if len(parts) != 3 or not all(p.isdigit() for p in parts):
            raise MakerInputError(f"walltime must be 'HH:MM:SS', got {walltime!r}")
    qadapter = dict(queue)
    if cores is not None:
        qadapter["ntasks"] = int(cores)
    if walltime is not None:
        qadapter["walltime"] = str(walltime)
    config: dict[str, Any] = {}
    if category:
        config["_category"] = category
    if fworker:
        config["_fworker"] = fworker
    if qadapter:
        config["_queueadapter"] = qadapter
    return config


def set_resources(flow_or_job, name_filter: str | None = None, **resources: Any):
    """Set :func:`manager_config` (``category``, ``fworker``, ``cores``, ``walltime``, queue keys) on every
    job of ``flow_or_job`` whose name contains ``name_filter`` (all jobs if None), now and in jobs
    created dynamically later. A later call replaces the manager config of the jobs it matches.
    Returns ``flow_or_job``."""
    flow_or_job.update_config({"manager_config": manager_config(**resources)}, name_filter=name_filter,
                              dynamic=True)
    return flow_or_job
