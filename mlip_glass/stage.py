"""The per-stage job decorator, after atomate2's ``forcefield_job``.

``surrogate_job = stage_job("surrogate", data=["energy_trace", Trajectory])`` declares once, for every
job of a stage, its ``metadata["stage"]`` and which output fields/classes go to the JobStore's
additional ``data`` store (big arrays never sit in job documents).
"""

from __future__ import annotations

from typing import Any, Callable

from jobflow import job

from mlip_glass.provenance import STAGES

#: name of the JobStore additional store that receives big arrays and files
DATA_STORE = "data"


def stage_job(stage: str, data: list | bool | None = None, **job_kwargs: Any) -> Callable:
    """Return a decorator turning a Maker's ``make`` into a jobflow job of ``stage``.

    Parameters
    ----------
    stage
        One of :data:`mlip_glass.provenance.STAGES`; written to ``metadata["stage"]``.
    data
        Output field names or classes routed to the ``data`` additional store (jobflow semantics).
    job_kwargs
        Passed to :func:`jobflow.job` (e.g. ``output_schema``).
    """
    if stage not in STAGES:
        raise ValueError(f"stage must be one of {STAGES}, got {stage!r}")
    kwargs: dict[str, Any] = {"metadata": {"stage": stage}, **job_kwargs}
    if data:
        kwargs[DATA_STORE] = data

    def decorator(method: Callable) -> Callable:
        # jobflow deep-copies these kwargs for every Job, so metadata dicts are never shared
        return job(method, **kwargs)

    return decorator
