"""Athermal quasi-static (AQS) simple shear: small tilt increments (LAMMPS ``change_box ... remap``),
energy minimisation at every step, stress–strain curve, shear modulus from a linear fit."""

from __future__ import annotations

import numpy as np

from mlip_glass.errors import ProtocolError
from mlip_glass.properties import constants as C
from mlip_glass.properties.relax import relax
from mlip_glass.utils.lammps_session import LammpsSession, to_atoms

#: LAMMPS tilt factor -> (pressure component, box length dividing the tilt)
SHEAR_PLANES = {"xy": ("pxy", 1), "xz": ("pxz", 2), "yz": ("pyz", 2)}


def fit_shear_modulus(strain, stress, fit_range=C.AQS_FIT_RANGE) -> float:
    """Slope (GPa) of a least-squares line through the (strain, stress) points in ``fit_range``."""
    strain, stress = np.asarray(strain), np.asarray(stress)
    lo, hi = fit_range
    mask = (strain >= lo - 1e-12) & (strain <= hi + 1e-12)
    if mask.sum() < 2:
        raise ValueError(f"fit_range {fit_range} holds {mask.sum()} strain points; need >= 2 "
                         "(decrease strain_step or widen the range)")
    return float(np.polyfit(strain[mask], stress[mask], 1)[0])


def aqs_shear(
    structure,
    potential,
    max_strain: float = C.AQS_MAX_STRAIN,
    strain_step: float = C.AQS_STRAIN_STEP,
    fit_range=C.AQS_FIT_RANGE,
    plane: str = C.AQS_PLANE,
    fmax: float = C.AQS_FMAX,
    relax_first: bool = True,
    relax_fmax: float = C.RELAX_FMAX,
    max_iterations: int = 10000,
) -> dict:
    """AQS simple shear of one structure in LAMMPS' frame (engineering strain gamma = tilt change /
    box length normal to the shear plane; stress sigma = -P_plane, GPa).

    Returns ``strain``, ``stress`` (GPa), ``energy`` (eV) per step, ``G`` (GPa, fit on
    ``fit_range``), ``energy_per_atom`` (eV, unstrained, relaxed) and ``relaxed_structure``."""
    if plane not in SHEAR_PLANES:
        raise ProtocolError(f"plane must be one of {sorted(SHEAR_PLANES)}, got {plane!r}")
    if not 0 < strain_step <= max_strain <= 0.5:
        raise ProtocolError(f"need 0 < strain_step <= max_strain <= 0.5, got {strain_step}, {max_strain}")
    if not 0 <= fit_range[0] < fit_range[1] <= max_strain + 1e-12:
        raise ProtocolError(f"fit_range must lie in [0, max_strain={max_strain}], got {fit_range}")
    atoms = to_atoms(structure)
    if relax_first:
        atoms, _ = relax(atoms, potential, fmax=relax_fmax, relax_cell=True)
    component, length_index = SHEAR_PLANES[plane]
    n_steps = int(round(max_strain / strain_step))
    strains, stresses, energies = [], [], []
    with LammpsSession(atoms, potential) as session:
        session.minimize(fmax, max_iterations=max_iterations)
        boxlo, boxhi, *_ = session.lmp.extract_box()
        length = boxhi[length_index] - boxlo[length_index]
        energy0 = session.energy()
        for step in range(n_steps + 1):
            if step:
                session.command(f"change_box all {plane} delta {strain_step * length!r} remap units box")
                session.minimize(fmax, max_iterations=max_iterations)
            strains.append(step * strain_step)
            stresses.append(-float(session.lmp.get_thermo(component)) * 1e-4)
            energies.append(session.energy())
    strain, stress = np.array(strains), np.array(stresses)
    return {
        "strain": strain,
        "stress": stress,
        "energy": np.array(energies),
        "G": fit_shear_modulus(strain, stress, fit_range),
        "energy_per_atom": energy0 / len(atoms),
        "relaxed_structure": atoms,
    }
