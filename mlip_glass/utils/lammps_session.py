"""One LAMMPS instance holding one periodic structure in ``metal`` units, for any potential.

Geometry goes through ASE's :class:`~ase.calculators.lammps.Prism`: a general cell is rotated to
LAMMPS' lower-triangular form; forces, stresses and cells are rotated back, so results are in the
frame of the input structure.
"""

from __future__ import annotations

import numpy as np
from ase import Atoms
from ase.calculators.lammps import Prism
from ase.data import atomic_masses, atomic_numbers

from mlip_glass.units import EV_A3_PER_BAR
from mlip_glass.utils.atoms import to_atoms
from mlip_glass.utils.lammps import new_lammps


class LammpsSession:
    """A LAMMPS instance with ``atoms`` and ``potential`` loaded (context manager; ``close()`` when done).

    Parameters
    ----------
    atoms
        Periodic structure (ASE Atoms or pymatgen Structure), Å.
    potential
        Object with ``species`` (type order) and ``setup_lammps(lmp)``
        (see :mod:`mlip_glass.properties.potentials`).
    log_file
        LAMMPS log path; None for no log.
    extra_args
        LAMMPS command-line arguments (e.g. OpenMP suffix).
    """

    def __init__(self, atoms, potential, log_file: str | None = None, extra_args=None):
        self.atoms = to_atoms(atoms)
        self.potential = potential
        species = list(potential.species)
        unknown = sorted(set(self.atoms.get_chemical_symbols()) - set(species))
        if unknown:
            raise ValueError(
                f"structure species {unknown} are not covered by potential "
                f"{getattr(potential, 'name', potential)!r} (species {species})"
            )
        self.species = species
        self.prism = Prism(np.asarray(self.atoms.cell.array), reduce_cell=True)
        self.lmp = new_lammps(extra_args=extra_args, log_file=log_file)
        self._setup()

    # -- set-up ---------------------------------------------------------------------------------------
    def _setup(self) -> None:
        lmp, atoms = self.lmp, self.atoms
        xhi, yhi, zhi, xy, xz, yz = (float(v) for v in self.prism.get_lammps_prism())
        for line in (
            "units metal",
            "atom_style atomic",
            "atom_modify map array sort 0 0.0",
            "boundary p p p",
            f"region box prism 0 {xhi!r} 0 {yhi!r} 0 {zhi!r} {xy!r} {xz!r} {yz!r} units box",
            f"create_box {len(self.species)} box",
        ):
            lmp.command(line)
        for index, symbol in enumerate(self.species, start=1):
            lmp.command(f"mass {index} {float(atomic_masses[atomic_numbers[symbol]])!r}")
        types = [self.species.index(s) + 1 for s in atoms.get_chemical_symbols()]
        positions = self.prism.vector_to_lammps(atoms.positions, wrap=True)
        n = len(atoms)
        lmp.create_atoms(n, list(range(1, n + 1)), types, positions.reshape(-1).tolist())
        self.potential.setup_lammps(lmp)
        lmp.command("thermo_style custom step pe ke press pxx pyy pzz pxy pxz pyz vol temp")
        lmp.command("thermo_modify norm no flush yes")
        lmp.command("run 0 post no")

    def command(self, line: str) -> None:
        """Issue one LAMMPS command."""
        self.lmp.command(line)

    def commands(self, lines) -> None:
        """Issue several LAMMPS commands."""
        for line in lines:
            self.lmp.command(line)

    # -- results --------------------------------------------------------------------------------------
    def energy(self) -> float:
        """Potential energy (eV) of the current state (after a ``run 0`` or minimisation)."""
        return float(self.lmp.get_thermo("pe"))

    def _per_atom(self, name: str) -> np.ndarray:
        return np.ctypeslib.as_array(self.lmp.gather_atoms(name, 1, 3)).reshape(-1, 3).copy()

    def forces(self) -> np.ndarray:
        """(N, 3) forces (eV/Å) in the input frame, ordered as the input atoms."""
        return self._per_atom("f") @ self.prism.rot_mat.T

    def stress(self) -> np.ndarray:
        """3x3 stress (eV/Å^3, ASE sign: positive = tensile) in the input frame."""
        g = self.lmp.get_thermo
        pxx, pyy, pzz, pxy, pxz, pyz = (g(k) for k in ("pxx", "pyy", "pzz", "pxy", "pxz", "pyz"))
        pressure = np.array([[pxx, pxy, pxz], [pxy, pyy, pyz], [pxz, pyz, pzz]])
        return self.prism.tensor2_to_ase(-pressure * EV_A3_PER_BAR)

    def pressure_gpa(self) -> float:
        """Hydrostatic pressure (GPa)."""
        return float(self.lmp.get_thermo("press")) * 1e-4

    def current_atoms(self) -> Atoms:
        """The current structure (positions and cell) in the input frame, as ASE Atoms."""
        boxlo, boxhi, xy, yz, xz, _, _ = self.lmp.extract_box()
        lengths = np.array(boxhi) - np.array(boxlo)
        lammps_cell = np.array(
            [[lengths[0], 0, 0], [xy, lengths[1], 0], [xz, yz, lengths[2]]], dtype=float
        )
        cell = self.prism.update_cell(lammps_cell)
        positions = (self._per_atom("x") - np.array(boxlo)) @ self.prism.rot_mat.T
        atoms = Atoms(self.atoms.get_chemical_symbols(), positions=positions, cell=cell, pbc=True)
        atoms.wrap()
        return atoms

    # -- protocols ------------------------------------------------------------------------------------
    def minimize(
        self,
        fmax: float = 1e-2,
        relax_cell: bool = False,
        pressure_gpa: float = 0.0,
        max_iterations: int = 10000,
        min_style: str = "cg",
        vmax: float = 0.001,
    ) -> dict:
        """Minimise energy to a max force component ``fmax`` (eV/Å), optionally relaxing the cell
        (all six components, ``fix box/relax tri``, at most ``vmax`` fractional volume change per
        iteration) to ``pressure_gpa``. Returns a summary dict."""
        lmp = self.lmp
        if relax_cell:
            lmp.command(
                f"fix mlg_relax all box/relax tri {pressure_gpa * 1e4!r} vmax {vmax!r} nreset 50"
            )
        step0 = int(lmp.get_thermo("step"))
        lmp.command(f"min_style {min_style}")
        lmp.command("min_modify line quadratic")
        lmp.command(f"minimize 0.0 {fmax!r} {max_iterations} {10 * max_iterations}")
        if relax_cell:
            lmp.command("unfix mlg_relax")
        lmp.command("run 0 post no")
        max_force = float(np.abs(self.forces()).max()) if len(self.atoms) else 0.0
        return {
            "energy": self.energy(),
            "max_force": max_force,
            "iterations": int(lmp.get_thermo("step")) - step0,
            "converged": max_force <= fmax * (1 + 1e-6),
        }

    # -- lifetime -------------------------------------------------------------------------------------
    def close(self) -> None:
        """Release the LAMMPS instance."""
        if self.lmp is not None:
            self.lmp.close()
            self.lmp = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
