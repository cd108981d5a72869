"""GPUMD-ready extended XYZ: energy (eV), per-atom forces (eV/Å), virial (eV), config_type (subset).

GPUMD's ``nep`` wants the virial, not the stress: ``virial = -stress * volume`` (eV), 9 components,
row-major (xx xy xz yx yy yz zx zy zz). Stress here follows ASE's sign convention (positive = tensile,
eV/Å^3), so a compressed cell has negative stress and positive virial diagonal.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import ase.io
import numpy as np
from ase import Atoms


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
