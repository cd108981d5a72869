"""Provenance: stable structure hashes and the metadata stamped on every job of a campaign.

Every job document carries ``metadata = {campaign, stage, iteration, structure_hash?, mlip_glass_version,
git_commit?}`` so that the store can be queried by campaign / stage / iteration and so that the
active-learning loop never labels the same structure twice.
"""

from __future__ import annotations

import hashlib
import subprocess
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from mlip_glass import __version__

#: decimals kept in fractional coordinates and lattice (Å) before hashing
HASH_FRAC_DECIMALS = 6
HASH_LATTICE_DECIMALS = 4

STAGES = (
    "surrogate",
    "reference",
    "dataset",
    "nep",
    "properties",
    "active_learning",
    "validation",
    "report",
)


def _species_positions_lattice(structure) -> tuple[list[str], np.ndarray, np.ndarray]:
    """(species symbols, fractional coords, lattice matrix Å) of a pymatgen Structure or ASE Atoms."""
    if hasattr(structure, "get_chemical_symbols"):  # ASE Atoms
        return (
            list(structure.get_chemical_symbols()),
            np.asarray(structure.get_scaled_positions(wrap=True), dtype=float),
            np.asarray(structure.cell.array, dtype=float),
        )
    return (
        [site.specie.symbol for site in structure],
        np.asarray(structure.frac_coords, dtype=float) % 1.0,
        np.asarray(structure.lattice.matrix, dtype=float),
    )


def structure_hash(structure) -> str:
    """Stable SHA-256 hex digest of species + fractional coordinates (rounded, wrapped) + lattice.

    Invariant under wrapping atoms into the cell and under float noise below ``1e-6`` (fractional) /
    ``1e-4`` Å (lattice); atom order matters (same order as stored). Works for pymatgen ``Structure``
    and ASE ``Atoms``.
    """
    species, frac, lattice = _species_positions_lattice(structure)
    frac = np.round(frac, HASH_FRAC_DECIMALS) % 1.0
    frac = np.round(frac, HASH_FRAC_DECIMALS) + 0.0  # 1.0 -> 0.0 and -0.0 -> 0.0
    lat = np.round(lattice, HASH_LATTICE_DECIMALS) + 0.0
    digest = hashlib.sha256()
    digest.update(" ".join(species).encode())
    digest.update(np.ascontiguousarray(frac).tobytes())
    digest.update(np.ascontiguousarray(lat).tobytes())
    return digest.hexdigest()


@lru_cache(maxsize=1)
def git_commit() -> str | None:
    """The git commit of the installed package source tree, or None (e.g. a wheel install)."""
    here = Path(__file__).resolve().parent
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=5
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def version_info() -> dict[str, Any]:
    """Package version and git commit, recorded in every job's metadata."""
    return {"mlip_glass_version": __version__, "git_commit": git_commit()}


def provenance_metadata(
    campaign: str, stage: str | None = None, iteration: int = 0, **extra: Any
) -> dict[str, Any]:
    """The metadata dictionary of one job (campaign, stage, iteration, versions, extras)."""
    if not campaign or not isinstance(campaign, str):
        raise ValueError(f"campaign must be a non-empty string, got {campaign!r}")
    if stage is not None and stage not in STAGES:
        raise ValueError(f"stage must be one of {STAGES}, got {stage!r}")
    if int(iteration) < 0:
        raise ValueError(f"iteration must be >= 0, got {iteration!r}")
    meta = {"campaign": campaign, "iteration": int(iteration), **version_info(), **extra}
    if stage is not None:
        meta["stage"] = stage
    return meta


def _jobs_of(flow_or_job) -> list:
    return list(flow_or_job.iterflow()) if hasattr(flow_or_job, "iterflow") else [(flow_or_job, None)]


def stamp(flow_or_job, campaign: str, iteration: int = 0, stage: str | None = None, **extra: Any):
    """Stamp every job of ``flow_or_job`` (a jobflow Job or Flow) with campaign/iteration metadata.

    ``campaign``, the versions and ``extra`` also reach jobs created dynamically later (jobflow's
    ``dynamic=True``); ``iteration`` (and ``stage``, if given) are set on the jobs present now only, so that
    an active-learning step can stamp the jobs it creates with their own iteration without the parent's
    stamp overwriting it. Jobs that create new jobs call :func:`inherit_provenance` on them. A job's own
    ``stage`` (set by its stage decorator) is kept unless ``stage`` is given here. Returns the same object.
    """
    meta = provenance_metadata(campaign, stage, iteration, **extra)
    static = {"iteration": meta.pop("iteration")}
    if "stage" in meta:
        static["stage"] = meta.pop("stage")
    flow_or_job.update_metadata(meta, dynamic=True)
    for job, _ in _jobs_of(flow_or_job):
        job.metadata.update(static)
    return flow_or_job


def inherit_provenance(new_jobs, parent_metadata: dict | None = None):
    """Give jobs created inside a running job that job's campaign and iteration (call before returning
    them in a ``Response``); keeps the new jobs' own ``stage``. A new Flow also gets uuids derived from the
    running job's (:func:`mlip_glass.job_ids.deterministic_replacement`: the same under every manager).
    Without a current job, does nothing."""
    from mlip_glass.job_ids import deterministic_replacement

    if parent_metadata is None:
        from jobflow import CURRENT_JOB

        parent_metadata = CURRENT_JOB.job.metadata if CURRENT_JOB.job is not None else {}
    campaign = parent_metadata.get("campaign")
    if not campaign:
        return deterministic_replacement(new_jobs)
    extra = {k: v for k, v in parent_metadata.items() if k not in ("campaign", "iteration", "stage")}
    return deterministic_replacement(stamp(new_jobs, campaign, int(parent_metadata.get("iteration", 0)), **extra))
