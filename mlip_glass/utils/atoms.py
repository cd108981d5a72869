"""ASE Atoms helpers shared by every stage: conversions from/to pymatgen and GPUMD labels on Atoms.

GPUMD's ``nep`` wants the virial, not the stress: ``virial = -stress * volume`` (eV), 9 components,
row-major (xx xy xz yx yy yz zx zy zz). Stress here follows ASE's sign convention (positive = tensile,
eV/Å^3), so a compressed cell has negative stress and positive virial diagonal.
"""

from __future__ import annotations

import numpy as np
from ase import Atoms

# pymatgen is imported where a conversion needs it: ``pymatgen.io.ase`` pulls in ase.constraints and scipy
# (~0.5 s), which a property worker that only receives ASE Atoms never needs


def to_atoms(structure) -> Atoms:
    """ASE Atoms (copy) from a pymatgen Structure or Atoms."""
    if isinstance(structure, Atoms):
        return structure.copy()
    from pymatgen.io.ase import AseAtomsAdaptor

    return AseAtomsAdaptor.get_atoms(structure)


def to_structure(atoms):
    """pymatgen Structure from Atoms or Structure."""
    from pymatgen.core import Structure
    from pymatgen.io.ase import AseAtomsAdaptor

    if isinstance(atoms, Structure):
        return atoms
    return AseAtomsAdaptor.get_structure(atoms)


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
