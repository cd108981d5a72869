"""Reference engines behind one protocol: ``static`` / ``relax`` / ``aimd`` → list of :class:`LabelledFrame`.

- :class:`EAMEngine`: the Cheng–Ma–Sheng CuZrAl EAM (or any LAMMPS potential) through
  :class:`~mlip_glass.utils.lammps_session.LammpsSession` (static, ions+cell relax, NPT-Langevin heating).
- :class:`ASECalculatorEngine`: any ASE calculator (an atomate2 force field's ASE calculator, a NEP through
  calorine's ``CPUNEP``, ...): static, FIRE relax on a ``FrechetCellFilter``, NPT ``LangevinBAOAB`` heating.
- :class:`~mlip_glass.reference.vasp.VaspEngine`: VASP through atomate2's input sets, ``run_vasp`` and
  ``TaskDoc`` (the paper's engine).

Every frame records the engine that produced it (``engine = "eam" | "ase:<name>" | "vasp" | "nep"``),
so nothing pretends to be DFT. Frames whose labels are NaN/inf are returned with ``rejected=True``.
"""

from __future__ import annotations

import logging
import os
import tempfile
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
from ase import Atoms

from mlip_glass.reference.base import (
    ReferenceEngine,
    _labels,
)
from mlip_glass.units import EV_PER_A3_TO_GPA
from mlip_glass.utils.imports import import_object
from mlip_glass.utils.lammps_session import LammpsSession
from mlip_glass.utils.potentials import cheng_ma_sheng

logger = logging.getLogger(__name__)

#: LAMMPS minimisations are restarted every this many steps (box/relax CG stalls otherwise)
RELAX_CHUNK_STEPS = 1000
#: largest fractional volume change per CG iteration in the EAM cell relaxation (``box/relax vmax``)
RELAX_BOX_VMAX = 0.01
#: cell relaxations also need every stress component within this of the target (GPa)
RELAX_STRESS_TOL_GPA = 0.01


# ------------------------------------------------------------------------------------------------------
@dataclass
class ASECalculatorEngine(ReferenceEngine):
    """Any ASE calculator as a reference engine (``engine = "ase:<label>"``).

    Parameters
    ----------
    calculator
        An ASE calculator, or a zero-argument factory returning one (kept picklable for FireWorks).
    label
        Name recorded as ``ase:<label>``.
    allowed_species
        Species the calculator covers (None: any).
    """

    calculator: Any = None
    label: str = "calculator"
    allowed_species: tuple[str, ...] | None = None
    name: str = ""

    def __post_init__(self):
        if self.calculator is None:
            raise ValueError("calculator must be an ASE calculator or a factory returning one")
        if not self.name:
            self.name = f"ase:{self.label}"
        self._calc = None

    @property
    def species(self):
        return None if self.allowed_species is None else tuple(self.allowed_species)

    def settings(self):
        return {"calculator": type(self._get_calc()).__name__, "label": self.label}

    def _get_calc(self):
        if self._calc is None:
            calc = self.calculator
            self._calc = calc() if callable(calc) and not hasattr(calc, "get_potential_energy") else calc
        return self._calc

    def ase_calculator(self):
        return self._get_calc()

    def compute(self, atoms):
        atoms = atoms.copy()
        atoms.calc = self._get_calc()
        return _labels(atoms)


# ------------------------------------------------------------------------------------------------------
@dataclass
class EAMEngine(ReferenceEngine):
    """A LAMMPS potential (default: the shipped Cheng–Ma–Sheng CuZrAl EAM) as a reference engine.

    Parameters
    ----------
    potential
        Object with ``species`` and ``setup_lammps(lmp)`` (see :mod:`mlip_glass.utils.potentials`);
        default :func:`~mlip_glass.utils.potentials.cheng_ma_sheng`.
    name
        Engine tag (``"eam"``).
    """

    potential: Any = None
    name: str = "eam"

    def __post_init__(self):
        if self.potential is None:
            self.potential = cheng_ma_sheng()

    @property
    def species(self):
        return tuple(self.potential.species)

    def settings(self):
        pot = self.potential
        out = {"potential": getattr(pot, "name", type(pot).__name__), "species": list(pot.species)}
        for key in ("path", "pair_style", "pair_coeff"):
            if hasattr(pot, key):
                value = getattr(pot, key)
                out[key] = os.path.basename(value) if key == "path" else value
        return out

    def _session(self, atoms):
        return LammpsSession(atoms, self.potential)

    def compute(self, atoms):
        with self._session(atoms) as session:
            return session.energy(), session.forces(), session.stress()

    def relax_trajectory(self, atoms, fmax, max_steps, every, relax_cell, pressure_gpa):
        """LAMMPS ``minimize`` (CG): fixed-cell stages alternating with ``fix box/relax tri`` stages;
        every k-th iteration is dumped and re-labelled exactly. ``max_steps`` counts CG iterations."""
        with tempfile.TemporaryDirectory(prefix="mlg_relax_") as tmp:
            dump = os.path.join(tmp, "relax.dump")
            with self._session(atoms) as session:
                if every is not None:
                    session.command(f"dump mlg_d all custom {every} {dump} id x y z")
                    session.command("dump_modify mlg_d sort id format float %.12g")
                done, converged, max_force = _minimize_alternating(
                    session, fmax, max_steps, relax_cell, pressure_gpa
                )
                if every is not None:
                    session.command("undump mlg_d")
                final = session.current_atoms()
                final_labels = (session.energy(), session.forces(), session.stress())
                prism = session.prism
            kept = []
            if every is not None:
                seen = set()
                for step, snapshot in _read_dump(dump, atoms, prism):
                    if step < done and step not in seen:  # a stage boundary can repeat a step
                        seen.add(step)
                        kept.append((step, snapshot, self.compute(snapshot)))
        kept.append((done, final, final_labels))
        logger.info("EAM relax: %d CG iterations, max force %.4g eV/Å", done, max_force)
        return kept, converged

    def aimd_trajectory(self, atoms, nsteps, t_start, t_end, dt_fs, gamma, gamma_l, pressure_gpa, seed):
        """NPT: ``fix langevin`` (damp = 1/gamma) on atoms + ``fix nph tri`` (Pdamp = 1/gamma_L) on the cell;
        every step dumped, then re-labelled statically (potential energy, forces, virial stress)."""
        dt_ps = dt_fs * 1e-3
        lmp_seed = int(seed) % 900_000_000 + 1  # LAMMPS wants positive seeds; any int seed maps to one
        with tempfile.TemporaryDirectory(prefix="mlg_aimd_") as tmp:
            dump = os.path.join(tmp, "aimd.dump")
            with self._session(atoms) as session:
                p_bar = pressure_gpa * 1e4
                session.commands(
                    [
                        f"timestep {dt_ps!r}",
                        f"velocity all create {t_start!r} {lmp_seed} dist gaussian mom yes rot no",
                        f"fix mlg_nph all nph tri {p_bar!r} {p_bar!r} {1.0 / gamma_l!r}",
                        f"fix mlg_lgv all langevin {t_start!r} {t_end!r} {1.0 / gamma!r} {lmp_seed + 7919}",
                        f"dump mlg_d all custom 1 {dump} id x y z",
                        "dump_modify mlg_d sort id format float %.12g",
                        f"run {nsteps}",
                        "undump mlg_d",
                    ]
                )
                prism = session.prism
            snapshots = [(s, a) for s, a in _read_dump(dump, atoms, prism) if s >= 1]
        return [(step, snap, self.compute(snap)) for step, snap in snapshots]


def _minimize_alternating(session, fmax, max_steps, relax_cell, pressure_gpa):
    """Relax a :class:`LammpsSession` in place; returns (CG iterations, converged, max force eV/Å).

    CG on the cell and the atoms together (``box/relax``) converges slowly from a strained random cell
    (6,000-10,000 iterations for 150 atoms); alternating a fixed-cell CG stage with a ``box/relax``
    stage (each at most :data:`RELAX_CHUNK_STEPS`) needs ~1,000 (benchmarks/eam_relax.py). Converged:
    max force component <= ``fmax`` and, with ``relax_cell``, every stress component within
    :data:`RELAX_STRESS_TOL_GPA` of ``-pressure_gpa`` (diagonal) / 0 (shear).
    """
    target = -pressure_gpa * np.eye(3)  # ASE sign: compressive pressure = negative stress

    def is_converged(max_force):
        if max_force > fmax * (1 + 1e-6):
            return False
        if not relax_cell:
            return True
        stress_gpa = session.stress() * EV_PER_A3_TO_GPA
        return float(np.abs(stress_gpa - target).max()) <= RELAX_STRESS_TOL_GPA

    stages = (False, True) if relax_cell else (False,)
    done, converged, max_force = 0, False, float("nan")
    while done < max_steps and not converged:
        progress = 0
        for cell_stage in stages:
            budget = min(RELAX_CHUNK_STEPS, max_steps - done)
            if budget <= 0:
                break
            summary = session.minimize(
                fmax=fmax, relax_cell=cell_stage, pressure_gpa=pressure_gpa, max_iterations=budget,
                vmax=RELAX_BOX_VMAX,
            )
            done += summary["iterations"]
            progress += summary["iterations"]
            max_force = summary["max_force"]
        converged = is_converged(max_force)
        if progress == 0:  # stuck: LAMMPS stops at once (line search cannot move)
            break
    return done, converged, max_force


def _read_dump(path, reference: Atoms, prism):
    """Parse a LAMMPS ``custom id x y z`` dump (sorted by id) into (step, Atoms) in the input frame."""
    if not os.path.exists(path):
        return []
    out = []
    symbols = reference.get_chemical_symbols()
    with open(path) as handle:
        lines = handle.read().splitlines()
    i = 0
    while i < len(lines):
        if lines[i].startswith("ITEM: TIMESTEP"):
            step = int(lines[i + 1])
            n = int(lines[i + 3])
            header = lines[i + 4]
            bounds = np.array([[float(v) for v in lines[i + 5 + k].split()] for k in range(3)])
            if "xy" in header:
                (xlob, xhib, xy), (ylob, yhib, xz), (zlo, zhi, yz) = bounds
                # LAMMPS docs: bounding box → box
                xlo = xlob - min(0.0, xy, xz, xy + xz)
                xhi = xhib - max(0.0, xy, xz, xy + xz)
                ylo = ylob - min(0.0, yz)
                yhi = yhib - max(0.0, yz)
            else:
                (xlo, xhi), (ylo, yhi), (zlo, zhi) = bounds[:, :2]
                xy = xz = yz = 0.0
            data = np.array([[float(v) for v in lines[i + 9 + k].split()] for k in range(n)])
            data = data[np.argsort(data[:, 0])]
            lammps_cell = np.array([[xhi - xlo, 0, 0], [xy, yhi - ylo, 0], [xz, yz, zhi - zlo]])
            with warnings.catch_warnings():  # ASE warns on large cell changes; the rotation is exact
                warnings.simplefilter("ignore")
                cell = prism.update_cell(lammps_cell)
            positions = (data[:, 1:4] - np.array([xlo, ylo, zlo])) @ prism.rot_mat.T
            atoms = Atoms(symbols, positions=positions, cell=cell, pbc=True)
            atoms.wrap()
            out.append((step, atoms))
            i += 9 + n
        else:
            i += 1
    return out


def get_engine(engine="eam", **kwargs) -> ReferenceEngine:
    """An engine from a name (``"eam"``, ``"cp2k"``, ``"vasp"``), an import path ``"module:factory"`` (called with
    ``kwargs``; it returns an engine or an ASE calculator) or an engine / ASE calculator instance."""
    if isinstance(engine, ReferenceEngine):
        return engine
    if isinstance(engine, str) and ":" in engine:
        return get_engine(import_object(engine)(**kwargs))
    if engine == "eam":
        return EAMEngine(**kwargs)
    if engine == "cp2k":
        from mlip_glass.reference.cp2k import CP2KEngine

        return CP2KEngine(**kwargs)
    if engine == "vasp":
        # imported on demand: the VASP engine pulls atomate2's VASP sets (+2.8 s, `python -X importtime`)
        from mlip_glass.reference.vasp import VaspEngine

        return VaspEngine(**kwargs)
    if hasattr(engine, "get_potential_energy") or hasattr(engine, "calculate"):
        return ASECalculatorEngine(calculator=engine, label=type(engine).__name__, **kwargs)
    raise ValueError(
        "engine must be 'eam', 'cp2k', 'vasp', 'module:factory', a ReferenceEngine or an ASE calculator, "
        f"got {engine!r}"
    )
