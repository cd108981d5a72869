"""Energetics: energy per atom of given (reference-minimised) structures with a potential, and the
parity statistics against reference energies (Fig. 5b)."""

from __future__ import annotations

import numpy as np

from mlip_glass.properties.relax import relax
from mlip_glass.utils.lammps_session import LammpsSession


def energy_per_atom(structure, potential, relax_first: bool = False, fmax: float = 1e-2) -> float:
    """Potential energy per atom (eV/atom) of ``structure`` (single point, or after ions+cell
    relaxation with the potential if ``relax_first``)."""
    if relax_first:
        atoms, summary = relax(structure, potential, fmax=fmax, relax_cell=True)
        return summary["energy"] / len(atoms)
    with LammpsSession(structure, potential) as session:
        return session.energy() / len(session.atoms)


def energy_parity(e_reference, e_potential) -> dict[str, float]:
    """Parity statistics of potential vs reference energies per atom (eV/atom):
    ``slope``/``intercept`` of the ordinary least-squares line e_pot = a e_ref + b, ``slope_origin``
    of the line through the origin, ``r2``, ``rmse`` and ``mae`` of e_pot - e_ref, and
    ``rmse_shifted`` after removing the mean offset (energies of different codes have different zeros)."""
    x, y = np.asarray(e_reference, float), np.asarray(e_potential, float)
    if x.shape != y.shape or x.size < 2:
        raise ValueError(f"need >= 2 paired energies, got {x.size} and {y.size}")
    if np.ptp(x) == 0:
        raise ValueError("reference energies are all equal: the slope is undefined")
    slope, intercept = np.polyfit(x, y, 1)
    residual = y - (slope * x + intercept)
    diff = y - x
    return {
        "slope": float(slope),
        "intercept": float(intercept),
        "slope_origin": float(np.dot(x, y) / np.dot(x, x)),
        "r2": float(1 - residual.var() / y.var()) if y.var() > 0 else 1.0,
        "rmse": float(np.sqrt(np.mean(diff**2))),
        "mae": float(np.mean(np.abs(diff))),
        "rmse_shifted": float(np.sqrt(np.mean((diff - diff.mean()) ** 2))),
        "n": int(x.size),
    }
