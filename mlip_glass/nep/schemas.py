"""The NEP model document (output of :class:`mlip_glass.nep.jobs.NEPFitMaker`) and :func:`load_nep`."""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from mlip_glass.errors import MLIPGlassError


class NEPModelError(MLIPGlassError, ValueError):
    """A nep.txt whose header cannot be read; the message names the line and the bad value."""


def parse_nep_header(nep_txt: str) -> dict:
    """Species and cutoffs from the header of a nep.txt (``nep4 3 Cu Zr Al`` / ``cutoff 6.5 4 ...``)."""
    lines = [line.split() for line in nep_txt.strip().splitlines()[:6] if line.strip()]
    if not lines or not lines[0][0].startswith("nep"):
        raise NEPModelError("nep_txt does not start with a 'nepN n_types species...' header line")
    header = " ".join(lines[0])
    try:
        n_types = int(lines[0][1])
    except (IndexError, ValueError):
        raise NEPModelError(
            f"nep.txt header {header!r}: the number of types must be an integer (e.g. 'nep4 3 Cu Zr Al')"
        ) from None
    species = tuple(lines[0][2 : 2 + n_types])
    if n_types < 1 or len(species) != n_types:
        raise NEPModelError(f"nep.txt header {header!r}: {n_types} types but species {list(species)}")
    cutoffs = None
    for fields in lines[1:]:
        if fields[0] == "cutoff":
            try:
                cutoffs = [float(v) for v in fields[1:3]]
            except ValueError:
                raise NEPModelError(f"nep.txt line {' '.join(fields)!r}: cutoffs must be numbers (Å)") from None
            if len(cutoffs) < 2:
                raise NEPModelError(f"nep.txt line {' '.join(fields)!r}: needs radial and angular cutoffs (Å)")
            break
    if cutoffs is None:
        raise NEPModelError("nep_txt header has no 'cutoff' line")
    return {"version": lines[0][0], "species": species, "rc_radial": cutoffs[0], "rc_angular": cutoffs[1]}


#: fields of :class:`NEPModelDocument` routed to the JobStore's ``data`` store
DATA_FIELDS = ["nep_txt", "loss_curve", "parity", "log"]


def model_hash(nep_txt: str) -> str:
    """SHA-256 hex digest of the nep.txt text."""
    return hashlib.sha256(nep_txt.encode()).hexdigest()


class NEPModelDocument(BaseModel):
    """A trained NEP model with the settings, trainer, timings and errors that produced it."""

    status: str = Field("completed", description="'completed' or 'failed'")
    error: str | None = Field(None, description="error message of a failed training")
    nep_txt: str | None = Field(None, description="the model file text (nep.txt), in the data store")
    model_hash: str | None = Field(None, description="sha256 of nep_txt")
    nep_in: str = Field(..., description="text of the nep.in used by the trainer (every keyword explicit)")
    settings: dict[str, Any] = Field(..., description="NEPSettings (GPUMD keywords; cutoffs Å)")
    cpu_settings: dict[str, Any] | None = Field(None, description="CPUTrainerSettings for the neppo backend")
    backend: dict[str, str] = Field(..., description="trainer name and version")
    species: list[str] = Field(..., description="element symbols in type order")
    wall_time_s: float | None = Field(None, description="training wall time (s), summed over restarts")
    wall_time_budget_s: float | None = Field(None, description="requested wall-time budget (s)")
    n_steps: int | None = Field(None, description="optimiser steps (neppo) or generations (GPUMD) taken")
    stop_reason: str | None = Field(None, description="'steps' or 'wall_time'")
    final_losses: dict[str, float] = Field(
        default_factory=dict, description="last loss.out row: total, L1, L2 and RMSE_E/F/V (eV/atom, eV/Å, eV/atom)"
    )
    rmse: dict[str, Any] = Field(
        default_factory=dict,
        description="calorine errors {split: {'all'|config_type: {rmse_/mae_ energy meV/atom, force meV/Å, "
        "virial meV/atom}}}",
    )
    trainer_rmse: dict[str, Any] = Field(
        default_factory=dict, description="same table computed from the trainer's own parity files"
    )
    loss_curve: dict[str, list[float]] | None = Field(None, description="loss.out columns (data store)")
    parity: dict[str, Any] | None = Field(
        None, description="{split: {energy/force/virial: {pred, ref}, config_type}} in eV/atom, eV/Å, eV/atom"
    )
    log: str | None = Field(None, description="trainer output (data store)")
    dataset_uuid: str | None = Field(None, description="uuid of the input dataset document")
    dataset_hash: str | None = Field(None, description="hash of the input dataset")
    n_train: int = Field(0, description="training structures")
    n_test: int = Field(0, description="test structures")
    warm_start_hash: str | None = Field(None, description="model_hash of the warm-start model, if any")
    dir_name: str | None = Field(None, description="run directory (host-local, informational)")


def _get(obj: Any, key: str, default: Any = None) -> Any:
    if isinstance(obj, dict):
        return obj.get(key, default)
    return getattr(obj, key, default)


def nep_text(model: Any, store: Any = None) -> str:
    """The nep.txt text of a model document / dict / path / text; resolves a data-store blob with ``store``."""
    if isinstance(model, (str, Path)):
        text = str(model)
        if "\n" in text:
            return text
        path = Path(text)
        if not path.exists():
            raise FileNotFoundError(f"NEP model file {path} not found")
        return path.read_text()
    text = _get(model, "nep_txt")
    if isinstance(text, dict) and "blob_uuid" in text:
        if store is None:
            raise ValueError("nep_txt is a data-store reference; pass store= (the JobStore) or load the document")
        data_store = store.additional_stores["data"] if hasattr(store, "additional_stores") else store
        blob = data_store.query_one({"blob_uuid": text["blob_uuid"]})
        if blob is None:
            raise ValueError(f"blob {text['blob_uuid']} not found in the data store")
        text = blob["data"]
    if not isinstance(text, str) or not text.strip():
        status = _get(model, "status")
        raise ValueError(f"model document has no nep_txt (status {status!r}, error {_get(model, 'error')!r})")
    return text


def checked_nep_text(model: Any, store: Any = None) -> str:
    """The model's nep.txt text (:func:`nep_text`), checked against the document's ``model_hash`` when it carries
    one (``ValueError`` if they differ)."""
    text = nep_text(model, store=store)
    expected = None if isinstance(model, (str, Path)) else _get(model, "model_hash")
    if expected and model_hash(text) != expected:
        raise ValueError("NEP model document: nep_txt does not match model_hash (corrupted or mismatched model)")
    return text


def load_nep(model: Any, directory: str | Path | None = None, store: Any = None) -> Path:
    """Write the model's nep.txt to a file and return its path (ready for calorine ``CPUNEP``).

    ``model``: a :class:`NEPModelDocument`, its dict (e.g. a job output fetched from the store), a path
    to a nep.txt, or the nep.txt text. ``directory``: where to write (default: a new temporary directory).
    The hash is checked when the document carries ``model_hash``.
    """
    text = checked_nep_text(model, store=store)
    directory = Path(directory) if directory is not None else Path(tempfile.mkdtemp(prefix="mlip_glass_nep_"))
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"nep_{model_hash(text)[:12]}.txt"
    path.write_text(text)
    return path
