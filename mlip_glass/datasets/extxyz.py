"""GPUMD-ready extended XYZ: energy (eV), per-atom forces (eV/Å), virial (eV), config_type (subset).

GPUMD's ``nep`` wants the virial, not the stress: ``virial = -stress * volume`` (eV), 9 components,
row-major (xx xy xz yx yy yz zx zy zz). Stress here follows ASE's sign convention (positive = tensile,
eV/Å^3), so a compressed cell has negative stress and positive virial diagonal.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, Sequence

import ase.io
import numpy as np
from ase import Atoms

from mlip_glass.units import EV_PER_A3_TO_GPA  # noqa: F401  (re-exported: old import path)


def stress_to_virial(stress: np.ndarray, volume: float) -> np.ndarray:
    """Virial (eV, 3x3) from stress (eV/Å^3, 3x3 or Voigt-6 xx yy zz yz xz xy): ``-stress * volume``."""
    stress = np.asarray(stress, dtype=float)
    if stress.shape == (6,):
        xx, yy, zz, yz, xz, xy = stress
        stress = np.array([[xx, xy, xz], [xy, yy, yz], [xz, yz, zz]])
    if stress.shape != (3, 3):
        raise ValueError(f"stress must have shape (3, 3) or (6,), got {stress.shape}")
    return -stress * float(volume)


def virial_to_stress(virial: np.ndarray, volume: float) -> np.ndarray:
    """Stress (eV/Å^3, 3x3) from a virial (eV, 9 components or 3x3)."""
    return -np.asarray(virial, dtype=float).reshape(3, 3) / float(volume)


def labelled_atoms(
    atoms: Atoms,
    energy: float,
    forces: np.ndarray,
    stress: np.ndarray | None = None,
    config_type: str | None = None,
    **info,
) -> Atoms:
    """A copy of ``atoms`` carrying GPUMD labels.

    Parameters
    ----------
    energy
        Total energy (eV).
    forces
        (N, 3) forces (eV/Å).
    stress
        Stress (eV/Å^3, ASE sign), 3x3 or Voigt-6; stored as the 9-component virial (eV). None: no virial.
    config_type
        Subset name written as ``config_type``.
    info
        Extra scalar/string fields for the comment line (e.g. ``structure_hash``).
    """
    labelled = Atoms(atoms.get_chemical_symbols(), positions=atoms.positions, cell=atoms.cell, pbc=True)
    forces = np.asarray(forces, dtype=float)
    if forces.shape != (len(atoms), 3):
        raise ValueError(f"forces must have shape ({len(atoms)}, 3), got {forces.shape}")
    if not np.isfinite(energy) or not np.all(np.isfinite(forces)):
        raise ValueError("energy and forces must be finite (NaN/inf label)")
    labelled.info["energy"] = float(energy)
    labelled.arrays["forces"] = forces
    if stress is not None:
        virial = stress_to_virial(stress, atoms.get_volume())
        if not np.all(np.isfinite(virial)):
            raise ValueError("stress must be finite (NaN/inf label)")
        labelled.info["virial"] = virial.reshape(9)
    if config_type is not None:
        labelled.info["config_type"] = str(config_type)
    labelled.info.update(info)
    return labelled


def write_extxyz(frames: Iterable[Atoms], path: str | Path) -> Path:
    """Write labelled frames (see :func:`labelled_atoms`) as GPUMD extxyz; returns the path."""
    path = Path(path)
    frames = list(frames)
    for i, frame in enumerate(frames):
        if "energy" not in frame.info or "forces" not in frame.arrays:
            raise ValueError(f"frame {i} lacks 'energy' info or 'forces' array")
    ase.io.write(path, frames, format="extxyz")
    return path


def read_extxyz(path: str | Path) -> list[Atoms]:
    """Read GPUMD extxyz; labels end up in ``atoms.info['energy']``, ``info['virial']`` (3x3, eV) and
    ``arrays['forces']`` regardless of how ASE attached them."""
    return [_normalise(frame) for frame in ase.io.read(path, index=":", format="extxyz")]


def frames_from_text(text: str) -> list[Atoms]:
    """Parse extxyz text (as stored in the data store) into labelled frames."""
    import io

    frames = ase.io.read(io.StringIO(text), index=":", format="extxyz")
    return [_normalise(frame) for frame in frames]


def _normalise(frame: Atoms) -> Atoms:
    calc = frame.calc
    if calc is not None:
        for key in ("energy",):
            if key in calc.results:
                frame.info[key] = float(calc.results[key])
        if "forces" in calc.results:
            frame.arrays["forces"] = np.asarray(calc.results["forces"])
        frame.calc = None
    if "virial" in frame.info:
        frame.info["virial"] = np.asarray(frame.info["virial"], dtype=float).reshape(3, 3)
    return frame


def frames_to_text(frames: Sequence[Atoms]) -> str:
    """Serialise labelled frames to extxyz text (for the data store)."""
    import io

    buffer = io.StringIO()
    ase.io.write(buffer, list(frames), format="extxyz")
    return buffer.getvalue()
