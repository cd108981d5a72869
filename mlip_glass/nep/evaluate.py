"""Evaluate a nep.txt with calorine's ``CPUNEP`` and tabulate errors; read the trainers' output files.

Error conventions (those of GPUMD's ``loss.out`` and parity files, so the numbers are comparable):

- energy: per-structure energy per atom, E_pred/N - E_ref/N; reported in meV/atom;
- force: every Cartesian component of every atom; meV/Å;
- virial: per-structure virial per atom, 6 components (xx yy zz xy yz zx), virial = -stress * V;
  meV/atom. Structures without a virial label are skipped.

RMSE and MAE are given for each split (train/test), overall (``"all"``) and per subset
(``config_type``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
from ase import Atoms

from mlip_glass.nep.schemas import parse_nep_header

#: GPUMD marks a missing virial target with this value in virial_*.out
MISSING_TARGET = -1e6
#: Voigt order of GPUMD's virial parity files
VIRIAL_COMPONENTS = ((0, 0), (1, 1), (2, 2), (0, 1), (1, 2), (2, 0))
#: parity file names
PARITY_QUANTITIES = ("energy", "force", "virial")


def _voigt(tensor: np.ndarray) -> np.ndarray:
    tensor = np.asarray(tensor, dtype=float).reshape(3, 3)
    return np.array([tensor[i, j] for i, j in VIRIAL_COMPONENTS])


def check_nep_file(path: str | Path) -> dict:
    """The header of the nep.txt at ``path`` (species, cutoffs in Å); ``NEPModelError`` names a bad header
    line (e.g. ``nep4 x``) and ``FileNotFoundError`` a missing file, before calorine reads it."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"nep.txt {path} does not exist")
    return parse_nep_header(path.read_text())


def predict(nep_txt: str | Path, frames: Sequence[Atoms]) -> dict[str, np.ndarray]:
    """Predict with calorine ``CPUNEP``: energy per atom (eV/atom, (n,)), forces (eV/Å, (sum N, 3)),
    virial per atom (eV/atom, (n, 6) GPUMD Voigt order)."""
    from calorine.calculators import CPUNEP

    check_nep_file(nep_txt)
    calc = CPUNEP(str(nep_txt))
    energy, forces, virial = [], [], []
    for frame in frames:
        atoms = Atoms(frame.get_chemical_symbols(), positions=frame.positions, cell=frame.cell, pbc=True)
        atoms.calc = calc
        n = len(atoms)
        energy.append(atoms.get_potential_energy() / n)
        forces.append(atoms.get_forces())
        stress = atoms.get_stress(voigt=False)
        virial.append(_voigt(-stress * atoms.get_volume()) / n)
    return {
        "energy": np.asarray(energy),
        "force": np.concatenate(forces) if forces else np.zeros((0, 3)),
        "virial": np.asarray(virial).reshape(-1, 6),
    }


def reference(frames: Sequence[Atoms]) -> dict[str, np.ndarray]:
    """The labels of ``frames`` in the units/layout of :func:`predict` (NaN rows for missing virials)."""
    energy, forces, virial = [], [], []
    for frame in frames:
        n = len(frame)
        energy.append(float(frame.info["energy"]) / n)
        forces.append(np.asarray(frame.arrays["forces"], dtype=float))
        if "virial" in frame.info:
            virial.append(_voigt(frame.info["virial"]) / n)
        else:
            virial.append(np.full(6, np.nan))
    return {
        "energy": np.asarray(energy),
        "force": np.concatenate(forces) if forces else np.zeros((0, 3)),
        "virial": np.asarray(virial).reshape(-1, 6),
    }


def error_metrics(pred: dict[str, np.ndarray], ref: dict[str, np.ndarray]) -> dict[str, float]:
    """RMSE/MAE of energy (meV/atom), force (meV/Å), virial (meV/atom), and the counts."""
    out: dict[str, float] = {}
    units = {"energy": "meV_per_atom", "force": "meV_per_A", "virial": "meV_per_atom"}
    for key, unit in units.items():
        diff = (np.asarray(pred[key]) - np.asarray(ref[key])).ravel()
        diff = diff[np.isfinite(diff)]
        out[f"rmse_{key}_{unit}"] = float(np.sqrt(np.mean(diff**2)) * 1e3) if diff.size else float("nan")
        out[f"mae_{key}_{unit}"] = float(np.mean(np.abs(diff)) * 1e3) if diff.size else float("nan")
    out["n_structures"] = int(len(ref["energy"]))
    out["n_atoms"] = int(len(ref["force"]))
    return out


def _subset(values: dict[str, np.ndarray], mask: np.ndarray, atom_mask: np.ndarray) -> dict[str, np.ndarray]:
    return {"energy": values["energy"][mask], "virial": values["virial"][mask], "force": values["force"][atom_mask]}


def split_table(pred: dict[str, np.ndarray], ref: dict[str, np.ndarray],
                config_types: Sequence[str], n_atoms: Sequence[int]) -> dict[str, dict[str, float]]:
    """``{"all": metrics, <config_type>: metrics, ...}`` for one split."""
    table = {"all": error_metrics(pred, ref)}
    frame_types = np.asarray([str(c) for c in config_types])
    atom_types = np.repeat(frame_types, np.asarray(n_atoms, dtype=int))
    for ctype in sorted(set(frame_types)):
        frame_mask, atom_mask = np.asarray(frame_types == ctype), np.asarray(atom_types == ctype)
        table[ctype] = error_metrics(_subset(pred, frame_mask, atom_mask), _subset(ref, frame_mask, atom_mask))
    return table


def config_types(frames: Iterable[Atoms]) -> list[str]:
    return [str(f.info.get("config_type", "unlabelled")) for f in frames]


def error_table(nep_txt: str | Path, splits: dict[str, Sequence[Atoms]]) -> dict[str, dict[str, dict[str, float]]]:
    """RMSE/MAE of a model on each split (e.g. ``{"train": frames, "test": frames}``), overall and per
    subset, computed with calorine ``CPUNEP``."""
    table = {}
    for name, frames in splits.items():
        if not frames:
            continue
        table[name] = split_table(predict(nep_txt, frames), reference(frames), config_types(frames),
                                  [len(f) for f in frames])
    return table


# --- trainer output files ------------------------------------------------------------------------
def read_parity(directory: str | Path, split: str) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Read ``{energy,force,virial}_<split>.out`` (GPUMD/neppo format) into
    ``{"energy": (pred, target), ...}`` arrays in eV/atom, eV/Å, eV/atom; missing virial targets → NaN."""
    directory = Path(directory)
    out = {}
    for quantity, width in (("energy", 1), ("force", 3), ("virial", 6)):
        path = directory / f"{quantity}_{split}.out"
        if not path.exists():
            raise FileNotFoundError(f"trainer parity file {path} is missing")
        data = np.loadtxt(path, ndmin=2)
        if data.shape[1] != 2 * width:
            raise ValueError(f"{path}: expected {2 * width} columns, found {data.shape[1]}")
        pred, target = data[:, :width], data[:, width:]
        if quantity == "virial":
            target = np.where(target <= MISSING_TARGET / 2, np.nan, target)
        if quantity == "energy":
            pred, target = pred[:, 0], target[:, 0]
        out[quantity] = (pred, target)
    return out


def parity_table(
    directory: str | Path, split: str, frames: Sequence[Atoms] | None = None
) -> dict[str, dict[str, float]]:
    """Errors computed from the trainer's own parity files (per subset if ``frames`` give config_types)."""
    parity = read_parity(directory, split)
    pred = {k: v[0] for k, v in parity.items()}
    ref = {k: v[1] for k, v in parity.items()}
    if frames is None:
        return {"all": error_metrics(pred, ref)}
    return split_table(pred, ref, config_types(frames), [len(f) for f in frames])


def read_loss_curve(directory: str | Path) -> dict[str, list[float]]:
    """``loss.out`` as columns (calorine names: total_loss, L1, L2, RMSE_E_train, RMSE_F_train, ...)
    with the step/generation index under ``"step"``; RMSE columns in eV/atom, eV/Å, eV/atom."""
    from calorine.nep import read_loss

    frame = read_loss(str(Path(directory) / "loss.out"))
    curve: dict[str, list[float]] = {"step": [int(i) for i in frame.index]}
    for column in frame.columns:
        curve[str(column)] = [float(x) for x in frame[column]]
    return curve
