"""Relaxation with a potential before a 0 K protocol (ions, optionally cell, to zero pressure)."""

from __future__ import annotations

from ase import Atoms

from mlip_glass.properties import constants as C
from mlip_glass.properties.lammps_session import LammpsSession

#: box/relax restarts: fix box/relax line searches stop early; a few restarts reach fmax reliably
RELAX_CELL_CYCLES = 3


def relax(
    structure,
    potential,
    fmax: float = C.RELAX_FMAX,
    relax_cell: bool = True,
    pressure_gpa: float = 0.0,
    max_iterations: int = 10000,
) -> tuple[Atoms, dict]:
    """Minimise ``structure`` with ``potential``: ``RELAX_CELL_CYCLES`` cell+ions minimisations to
    ``pressure_gpa`` (if ``relax_cell``), then ions at fixed cell to ``fmax`` (eV/Å).
    Returns the relaxed Atoms (input frame) and ``{"energy", "max_force", "iterations", "converged",
    "pressure_gpa"}``."""
    with LammpsSession(structure, potential) as session:
        iterations = 0
        if relax_cell:
            for _ in range(RELAX_CELL_CYCLES):
                iterations += session.minimize(
                    fmax, relax_cell=True, pressure_gpa=pressure_gpa, max_iterations=max_iterations
                )["iterations"]
        summary = session.minimize(fmax, max_iterations=max_iterations)
        summary["iterations"] += iterations
        summary["pressure_gpa"] = session.pressure_gpa()
        return session.current_atoms(), summary
