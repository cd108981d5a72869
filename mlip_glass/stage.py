"""The per-stage job decorator, after atomate2's ``forcefield_job``, and :func:`current_job`.

``surrogate_job = stage_job("surrogate", data=["energy_trace", Trajectory])`` declares once, for every
job of a stage, its ``metadata["stage"]`` and which output fields/classes go to the JobStore's
additional ``data`` store (big arrays never sit in job documents). Structures may be given as ASE ``Atoms``:
they become pymatgen Structures at the Maker boundary.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps
from typing import Any

from jobflow import CURRENT_JOB, job
from monty.json import jsanitize

from mlip_glass.provenance import STAGES
from mlip_glass.store import DATA_STORE, query_store_override


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
        make_job = job(method, **kwargs)

        @wraps(make_job)  # keeps jobflow's ``original`` attribute
        def make_job_from_atoms(*args: Any, **kwargs_: Any):
            return make_job(*(_from_ase(a) for a in args), **{k: _from_ase(v) for k, v in kwargs_.items()})

        return make_job_from_atoms

    return decorator


def _from_ase(value: Any) -> Any:
    """ASE ``Atoms`` (or a list/tuple of them) as pymatgen Structures, which jobs can serialise."""
    from ase import Atoms

    if isinstance(value, Atoms):
        from pymatgen.io.ase import AseAtomsAdaptor

        return AseAtomsAdaptor.get_structure(value)
    if isinstance(value, (list, tuple)) and any(isinstance(v, Atoms) for v in value):
        return type(value)(_from_ase(v) for v in value)
    return value


#: what :meth:`RunningJob.require_store` says when the job has no store
NO_STORE_MESSAGE = "this job needs the JobStore (JobConfig(expose_store=True))"


@dataclass(frozen=True)
class RunningJob:
    """The job jobflow is running: its uuid, metadata (campaign, stage, iteration) and exposed JobStore."""

    uuid: str | None = None
    metadata: dict = field(default_factory=dict)
    store: Any = None

    @property
    def campaign(self) -> str | None:
        return self.metadata.get("campaign")

    def require_store(self, message: str = NO_STORE_MESSAGE) -> Any:
        """The JobStore; ``RuntimeError(message)`` if the job does not see one."""
        if self.store is None:
            raise RuntimeError(message)
        return self.store


def current_job() -> RunningJob:
    """The running job (uuid and metadata empty outside jobflow). Its store is the one the manager exposes, or
    the campaign store named by ``$MLIP_GLASS_QUERY_STORE`` (:func:`mlip_glass.store.query_store_override`: for
    jobflow-remote, whose jobs see a store of their own outputs only)."""
    running, store = CURRENT_JOB.job, CURRENT_JOB.store
    if store is not None:
        store = query_store_override() or store
    if running is None:
        return RunningJob(store=store)
    return RunningJob(uuid=running.uuid, metadata=running.metadata, store=store)


def plain_output(doc: Any) -> Any:
    """A job output (a pydantic document, possibly holding pymatgen objects) as plain JSON data, without the
    ``@module``/``@class`` keys at its top: a reference to it resolves to a dict, not to the document class."""
    return jsanitize(doc.model_dump() if hasattr(doc, "model_dump") else doc, strict=True, enum_values=True)
