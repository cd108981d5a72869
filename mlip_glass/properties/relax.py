"""Relaxation with a potential before a 0 K protocol (ions, optionally cell, to zero pressure)."""

from __future__ import annotations

from ase import Atoms

from mlip_glass.errors import MLIPGlassError
from mlip_glass.properties import constants as C
from mlip_glass.utils.lammps_session import LammpsSession

#: box/relax restarts: fix box/relax line searches stop early; a few restarts reach fmax reliably
RELAX_CELL_CYCLES = 3
#: a cell relaxation that changes the volume by more than this factor (either way) has exploded or
#: collapsed: the potential has no sensible minimum there (e.g. an under-trained model)
MAX_VOLUME_FACTOR = 2.0


class RelaxationExplodedError(MLIPGlassError, RuntimeError):
    """The cell of a relaxation grew or shrank beyond :data:`MAX_VOLUME_FACTOR`."""


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
        relaxed = session.current_atoms()
    factor = relaxed.get_volume() / session.atoms.get_volume()
    if not 1 / MAX_VOLUME_FACTOR <= factor <= MAX_VOLUME_FACTOR:
        raise RelaxationExplodedError(
            f"cell relaxation with {getattr(potential, 'name', potential)!r} changed the volume by a factor "
            f"{factor:.3g} (allowed 1/{MAX_VOLUME_FACTOR:g}..{MAX_VOLUME_FACTOR:g}): the potential has no "
            "sensible minimum near this structure"
        )
    return relaxed, summary
