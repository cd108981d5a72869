"""Fit a NEP to a dataset: validate, write the run directory, train, evaluate, collect a document.

Pure science code (no jobflow); :class:`mlip_glass.nep.jobs.NEPFitMaker` wraps :func:`fit_nep`.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from ase import Atoms

from mlip_glass.datasets.extxyz import frames_from_text, frames_to_text
from mlip_glass.errors import MLIPGlassError
from mlip_glass.nep.backends import LOG_FILE, NEPTrainingError, get_backend
from mlip_glass.nep.evaluate import (
    config_types,
    error_table,
    parity_table,
    predict,
    read_loss_curve,
    read_parity,
    reference,
)
from mlip_glass.nep.schemas import NEPModelDocument, load_nep, model_hash
from mlip_glass.nep.settings import CPUTrainerSettings, NEPSettings, write_nep_in

logger = logging.getLogger(__name__)

#: files that make up a run's inputs; a directory whose inputs differ is reset before training
INPUT_FILES = ("nep.in", "train.xyz", "test.xyz")
#: outputs/checkpoints removed when a directory is reused for different inputs
RUN_FILES = ("nep.txt", "nep_best.txt", "loss.out", "nep.restart", "neppo.restart", "neppo_status.json", LOG_FILE)


class NEPDatasetError(MLIPGlassError, ValueError):
    """A dataset that cannot be trained on (empty, species mismatch, NaN labels); names the field."""


def dataset_field(dataset: Any, key: str, default: Any = None) -> Any:
    """Field ``key`` of a dataset document (pydantic object) or dict."""
    if isinstance(dataset, dict):
        return dataset.get(key, default)
    return getattr(dataset, key, default)


def check_frames(frames: Sequence[Atoms], species: Sequence[str], split: str) -> None:
    """Fail early on frames a trainer would choke on: unknown species, missing or non-finite labels."""
    allowed = set(species)
    for i, frame in enumerate(frames):
        extra = set(frame.get_chemical_symbols()) - allowed
        if extra:
            raise NEPDatasetError(
                f"{split}_xyz frame {i}: species {sorted(extra)} not in dataset species {list(species)}"
            )
        if "energy" not in frame.info or "forces" not in frame.arrays:
            raise NEPDatasetError(f"{split}_xyz frame {i}: missing energy or forces label")
        if not np.isfinite(frame.info["energy"]):
            raise NEPDatasetError(f"{split}_xyz frame {i}: energy is {frame.info['energy']} (must be finite)")
        if not np.all(np.isfinite(frame.arrays["forces"])):
            raise NEPDatasetError(f"{split}_xyz frame {i}: forces contain NaN/inf (must be finite)")
        if "virial" in frame.info and not np.all(np.isfinite(np.asarray(frame.info["virial"], float))):
            raise NEPDatasetError(f"{split}_xyz frame {i}: virial contains NaN/inf (must be finite)")


def load_dataset(dataset: Any) -> tuple[list[Atoms], list[Atoms], list[str]]:
    """(train frames, test frames, species) of a dataset document/dict, validated."""
    if dataset is None:
        raise NEPDatasetError("dataset is None")
    train_text = dataset_field(dataset, "train_xyz")
    test_text = dataset_field(dataset, "test_xyz") or ""
    species = list(dataset_field(dataset, "species") or [])
    if not isinstance(train_text, str) or not train_text.strip():
        raise NEPDatasetError("dataset.train_xyz is empty: at least one labelled training frame is required")
    train = frames_from_text(train_text)
    test = frames_from_text(test_text) if test_text.strip() else []
    if not train:
        raise NEPDatasetError("dataset.train_xyz holds no frames")
    present = sorted({s for f in train for s in f.get_chemical_symbols()})
    if not species:
        species = present
    missing = [s for s in species if s not in present]
    if missing:
        raise NEPDatasetError(
            f"dataset.species {species}: {missing} never occur in the training set (every species needs training data)"
        )
    check_frames(train, species, "train")
    check_frames(test, species, "test")
    return train, test, species


def dataset_hash(dataset: Any) -> str:
    """The dataset's own ``dataset_hash`` or a sha256 of its train/test text."""
    given = dataset_field(dataset, "dataset_hash")
    if given:
        return str(given)
    digest = hashlib.sha256()
    digest.update((dataset_field(dataset, "train_xyz") or "").encode())
    digest.update((dataset_field(dataset, "test_xyz") or "").encode())
    return digest.hexdigest()


def prepare_run_directory(directory: str | Path, nep_in: str, train: Sequence[Atoms], test: Sequence[Atoms]) -> Path:
    """Write nep.in/train.xyz/test.xyz; keep checkpoints when the inputs are unchanged (resume), reset the
    directory's outputs when they differ."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    contents = {"nep.in": nep_in, "train.xyz": frames_to_text(train)}
    if test:
        contents["test.xyz"] = frames_to_text(test)
    same = all(
        (directory / name).exists() and (directory / name).read_text() == text for name, text in contents.items()
    )
    same = same and ((directory / "test.xyz").exists() == bool(test))
    if not same:
        for name in RUN_FILES + INPUT_FILES:
            (directory / name).unlink(missing_ok=True)
        for name, text in contents.items():
            (directory / name).write_text(text)
    else:
        logger.info("run directory %s holds the same inputs: resuming from its checkpoint if any", directory)
    return directory


def parity_data(directory: Path, split: str, frames: Sequence[Atoms]) -> dict[str, Any]:
    parity = read_parity(directory, split)
    out: dict[str, Any] = {q: {"pred": np.asarray(p).tolist(), "ref": np.asarray(r).tolist()}
                           for q, (p, r) in parity.items()}
    out["config_type"] = config_types(frames)
    out["n_atoms"] = [len(f) for f in frames]
    return out


def fit_nep(
    dataset: Any,
    directory: str | Path,
    settings: NEPSettings | None = None,
    cpu_settings: CPUTrainerSettings | None = None,
    backend: str = "auto",
    steps: int | None = None,
    wall_time: float | None = None,
    warm_start: Any = None,
    nep_command: str | None = None,
) -> NEPModelDocument:
    """Train a NEP on ``dataset`` in ``directory`` and return its :class:`NEPModelDocument`.

    Parameters
    ----------
    dataset
        Dataset document or dict with ``train_xyz``, ``test_xyz`` (GPUMD extxyz text), ``species``,
        optional ``uuid``/``dataset_hash``.
    directory
        Run directory; re-running with the same inputs resumes from the checkpoint there.
    settings
        nep.in settings (paper defaults); ``species`` is taken from the dataset.
    cpu_settings
        neppo settings (mini-batch, learning rate, seed, threads); used by the CPU backend only.
    backend
        ``auto`` (GPUMD ``nep`` if found, else neppo), ``gpumd`` or ``neppo``.
    steps
        Training steps/generations (overrides ``settings.generation``).
    wall_time
        Wall-time budget (s); training stops at ``steps`` or at the budget, whichever comes first.
    warm_start
        Previous model (document, dict, path or text) to start from (neppo backend).
    nep_command
        Path/name of GPUMD's ``nep``.

    A training failure (dead process, NaN loss) returns a document with ``status="failed"``, the error and
    the training log, so the failure is recorded; bad input raises :class:`NEPDatasetError` /
    :class:`~mlip_glass.nep.settings.NEPInputError` before anything runs.
    """
    train, test, species = load_dataset(dataset)
    settings = (settings or NEPSettings()).with_species(species)
    cpu_settings = cpu_settings or CPUTrainerSettings()
    if steps is not None and int(steps) < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    if wall_time is not None and not float(wall_time) > 0:
        raise ValueError(f"wall_time must be > 0 s, got {wall_time}")
    trainer = get_backend(backend, nep_command)
    nep_in = write_nep_in(settings, cpu_settings if trainer.uses_cpu_settings else None, generation=steps)
    directory = prepare_run_directory(directory, nep_in, train, test)
    warm_path, warm_hash = None, None
    if warm_start is not None:
        warm_path = load_nep(warm_start, directory=directory / "warm_start")
        warm_hash = model_hash(warm_path.read_text())
    common = dict(
        nep_in=nep_in,
        settings=settings.as_dict(),
        cpu_settings=cpu_settings.as_dict() if trainer.uses_cpu_settings else None,
        species=species,
        wall_time_budget_s=wall_time,
        dataset_uuid=dataset_field(dataset, "uuid"),
        dataset_hash=dataset_hash(dataset),
        n_train=len(train),
        n_test=len(test),
        warm_start_hash=warm_hash,
        dir_name=str(directory),
    )
    try:
        version = trainer.version()
    except Exception:  # noqa: BLE001 - version is informational
        version = "unknown"
    logger.info("training NEP with %s (%s) on %d train / %d test frames in %s", trainer.name, version, len(train),
                len(test), directory)
    try:
        result = trainer.train(directory, wall_time=wall_time, warm_start=warm_path, threads=cpu_settings.threads,
                               adapt_threads=cpu_settings.adapt_threads)
    except NEPTrainingError as exc:
        log = (directory / LOG_FILE).read_text() if (directory / LOG_FILE).exists() else exc.log
        return NEPModelDocument(status="failed", error=str(exc).splitlines()[0], log=log,
                                backend={"name": trainer.name, "version": version}, **common)
    nep_txt = (directory / "nep.txt").read_text()
    splits: dict[str, Sequence[Atoms]] = {"train": train, "test": test}
    rmse = error_table(directory / "nep.txt", splits)
    trainer_rmse = {s: parity_table(directory, s, f) for s, f in splits.items() if f}
    curve = read_loss_curve(directory)
    final = {k: v[-1] for k, v in curve.items() if k != "step" and v}
    return NEPModelDocument(
        nep_txt=nep_txt,
        model_hash=model_hash(nep_txt),
        backend={"name": result.backend, "version": result.version},
        wall_time_s=result.wall_time_s,
        n_steps=result.n_steps,
        stop_reason=result.stop_reason,
        final_losses=final,
        rmse=rmse,
        trainer_rmse=trainer_rmse,
        loss_curve=curve,
        parity={s: parity_data(directory, s, f) for s, f in splits.items() if f},
        log=(directory / LOG_FILE).read_text(),
        **common,
    )


def compare_with_parity(
    nep_txt: str | Path, directory: str | Path, split: str, frames: Sequence[Atoms]
) -> dict[str, float]:
    """Largest |calorine − trainer parity| of energy (eV/atom), force (eV/Å) and virial (eV/atom)."""
    pred = predict(nep_txt, frames)
    parity = read_parity(directory, split)
    ref = reference(frames)
    out = {}
    for q in ("energy", "force", "virial"):
        out[q] = float(np.nanmax(np.abs(np.asarray(pred[q]) - np.asarray(parity[q][0]))))
        out[f"{q}_target"] = float(np.nanmax(np.abs(np.asarray(ref[q]) - np.asarray(parity[q][1]))))
    return out

