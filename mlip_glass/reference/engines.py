"""Reference engines behind one protocol: ``static`` / ``relax`` / ``aimd`` → list of :class:`LabelledFrame`.

- :class:`EAMEngine`: the Cheng–Ma–Sheng CuZrAl EAM (or any LAMMPS potential) through
  :class:`~mlip_glass.properties.lammps_session.LammpsSession` (static, ions+cell relax, NPT-Langevin heating).
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
import time
import warnings
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from ase import Atoms
from monty.json import MSONable

from mlip_glass.errors import MLIPGlassError
from mlip_glass.provenance import structure_hash
from mlip_glass.reference.constants import (
    AIMD_LANGEVIN_GAMMA_L_PER_PS,
    AIMD_LANGEVIN_GAMMA_PER_PS,
    AIMD_PRESSURE_GPA,
    AIMD_STEPS,
    AIMD_T_END_K,
    AIMD_T_START_K,
    AIMD_TIMESTEP_FS,
)
from mlip_glass.reference.schemas import FrameSource, LabelledFrame
from mlip_glass.units import EV_PER_A3_TO_GPA

logger = logging.getLogger(__name__)

#: default force tolerance of relaxations (eV/Å), = |EDIFFG| of the paper
RELAX_FMAX_EV_PER_A = 0.01
#: default cap on relaxation steps
RELAX_MAX_STEPS = 10000
#: LAMMPS minimisations are restarted every this many steps (box/relax CG stalls otherwise)
RELAX_CHUNK_STEPS = 1000
#: largest fractional volume change per CG iteration in the EAM cell relaxation (``box/relax vmax``)
RELAX_BOX_VMAX = 0.01
#: cell relaxations also need every stress component within this of the target (GPa)
RELAX_STRESS_TOL_GPA = 0.01
#: smallest interatomic distance accepted in an input structure (Å); closer pairs mean a broken cell
MIN_DISTANCE_A = 0.5


class EngineInputError(MLIPGlassError, ValueError):
    """A structure that the engine cannot label (unknown species, bad cell, overlapping atoms)."""


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


def parse_keep(keep) -> int | None:
    """Normalise a relax ``keep`` option: ``"last"`` → None, ``"all"`` → 1, int k ≥ 1 → k (every k-th step)."""
    if keep in (None, "last"):
        return None
    if keep == "all":
        return 1
    if isinstance(keep, (int, np.integer)) and not isinstance(keep, bool) and keep >= 1:
        return int(keep)
    raise ValueError(f"keep must be 'last', 'all' or an integer >= 1 (every k-th step), got {keep!r}")


@dataclass
class ReferenceEngine(MSONable, ABC):
    """The protocol of every reference engine.

    Subclasses implement :meth:`compute` (single point) and may override :meth:`relax_trajectory` /
    :meth:`aimd_trajectory` (default: ASE optimiser / ASE NPT Langevin on :meth:`ase_calculator`).
    """

    #: engine tag written to every frame
    name: str = "engine"

    # -- to implement ------------------------------------------------------------------------------
    @property
    def species(self) -> tuple[str, ...] | None:
        """Chemical symbols the engine can label (None: any)."""
        return None

    def settings(self) -> dict[str, Any]:
        """Engine settings recorded in every frame (potential, INCAR, ...)."""
        return {}

    @abstractmethod
    def compute(self, atoms: Atoms) -> tuple[float, np.ndarray, np.ndarray]:
        """(energy eV, forces (N,3) eV/Å, stress 3x3 eV/Å^3 ASE sign) of one configuration."""

    # -- input checks ------------------------------------------------------------------------------
    def check_structure(self, structure) -> Atoms:
        """Atoms from ``structure`` after checking species, cell and overlaps; raises EngineInputError."""
        atoms = to_atoms(structure)
        if len(atoms) == 0:
            raise EngineInputError("structure has no atoms")
        symbols = set(atoms.get_chemical_symbols())
        if self.species is not None and not symbols <= set(self.species):
            raise EngineInputError(
                f"structure species {sorted(symbols - set(self.species))} are outside engine "
                f"{self.name!r} (accepted species: {list(self.species)})"
            )
        cell = np.asarray(atoms.cell.array, dtype=float)
        if not np.all(np.isfinite(cell)) or not np.all(np.isfinite(atoms.positions)):
            raise EngineInputError("structure cell/positions contain NaN/inf")
        volume = abs(np.linalg.det(cell))
        if volume < 1e-3 * len(atoms):
            raise EngineInputError(
                f"structure cell volume {volume:.3g} Å^3 is degenerate (need > 0.001 Å^3/atom; "
                "a periodic 3D cell is required)"
            )
        if len(atoms) > 1:
            from ase.geometry import get_distances

            _, dist = get_distances(atoms.positions, cell=atoms.cell, pbc=True)
            np.fill_diagonal(dist, np.inf)
            if dist.min() < MIN_DISTANCE_A:
                raise EngineInputError(
                    f"atoms closer than {MIN_DISTANCE_A} Å (min distance {dist.min():.3f} Å): "
                    "overlapping atoms or wrong cell"
                )
        return atoms

    # -- protocol ----------------------------------------------------------------------------------
    def frame(self, atoms, energy, forces, stress, *, subset, parent_hash=None, source=None, cpu_time_s=0.0):
        """Wrap raw labels into a :class:`LabelledFrame` (rejected if not finite)."""
        return LabelledFrame.from_labels(
            to_structure(atoms),
            energy,
            forces,
            stress,
            engine=self.name,
            subset=subset,
            engine_settings=self.settings(),
            parent_hash=parent_hash,
            source=source,
            cpu_time_s=cpu_time_s,
        )

    def static(self, structure, subset: str = "surrogate", parent_hash=None, source=None) -> LabelledFrame:
        """Single-point labels of ``structure``."""
        atoms = self.check_structure(structure)
        t0 = time.process_time()
        energy, forces, stress = self.compute(atoms)
        return self.frame(
            atoms, energy, forces, stress, subset=subset, parent_hash=parent_hash, source=source,
            cpu_time_s=time.process_time() - t0,
        )

    def relax(
        self,
        structure,
        subset: str = "relaxed",
        fmax: float = RELAX_FMAX_EV_PER_A,
        max_steps: int = RELAX_MAX_STEPS,
        keep="last",
        relax_cell: bool = True,
        pressure_gpa: float = 0.0,
        source=None,
    ) -> list[LabelledFrame]:
        """Relax ions (+ cell) to max force ``fmax`` (eV/Å); frames of the last step or every k-th step.

        ``keep``: ``"last"``, ``"all"`` or an int k (every k-th ionic step plus the last). The last frame
        is rejected (``rejection_reason``) if the force tolerance was not reached in ``max_steps``.
        """
        every = parse_keep(keep)
        if fmax <= 0:
            raise ValueError(f"fmax must be > 0 eV/Å, got {fmax}")
        if max_steps < 1:
            raise ValueError(f"max_steps must be >= 1, got {max_steps}")
        atoms = self.check_structure(structure)
        parent = structure_hash(atoms)
        t0 = time.process_time()
        steps, converged = self.relax_trajectory(atoms, fmax, max_steps, every, relax_cell, pressure_gpa)
        cpu = time.process_time() - t0
        frames = []
        for i, (step, snapshot, labels) in enumerate(steps):
            src = _source(source, step=step, transformation="relax")
            frame = self.frame(
                snapshot, *labels, subset=subset, parent_hash=parent, source=src,
                cpu_time_s=cpu / len(steps),
            )
            if i == len(steps) - 1 and not converged:
                frame = frame.reject(f"relaxation not converged to fmax={fmax} eV/Å in {max_steps} steps")
            frames.append(frame)
        return frames

    def aimd(
        self,
        structure,
        subset: str = "aimd",
        nsteps: int = AIMD_STEPS,
        t_start_k: float = AIMD_T_START_K,
        t_end_k: float = AIMD_T_END_K,
        timestep_fs: float = AIMD_TIMESTEP_FS,
        gamma_per_ps: float = AIMD_LANGEVIN_GAMMA_PER_PS,
        gamma_lattice_per_ps: float = AIMD_LANGEVIN_GAMMA_L_PER_PS,
        pressure_gpa: float = AIMD_PRESSURE_GPA,
        seed: int = 1,
        source=None,
    ) -> list[LabelledFrame]:
        """NPT Langevin heating ``t_start_k`` → ``t_end_k`` in ``nsteps`` steps of ``timestep_fs``; every
        step is a frame (labels: potential energy, forces, virial stress of that configuration)."""
        if nsteps < 1:
            raise ValueError(f"nsteps must be >= 1, got {nsteps}")
        if not (0 < t_start_k and 0 < t_end_k <= 1e5):
            raise ValueError(f"temperatures must be in (0, 1e5] K, got {t_start_k}, {t_end_k}")
        if not 0 < timestep_fs <= 10:
            raise ValueError(f"timestep_fs must be in (0, 10] fs, got {timestep_fs}")
        if gamma_per_ps <= 0 or gamma_lattice_per_ps <= 0:
            raise ValueError("Langevin frictions must be > 0 ps^-1")
        atoms = self.check_structure(structure)
        parent = structure_hash(atoms)
        t0 = time.process_time()
        steps = self.aimd_trajectory(
            atoms, nsteps, t_start_k, t_end_k, timestep_fs, gamma_per_ps, gamma_lattice_per_ps,
            pressure_gpa, int(seed),
        )
        cpu = time.process_time() - t0
        frames = []
        for step, snapshot, labels in steps:
            src = _source(source, step=step, transformation="aimd", extra={"aimd_seed": int(seed)})
            frames.append(
                self.frame(snapshot, *labels, subset=subset, parent_hash=parent, source=src,
                           cpu_time_s=cpu / len(steps))
            )
        return frames

    # -- default trajectories through ASE ----------------------------------------------------------
    def ase_calculator(self):
        """An ASE calculator for this engine (used by the default relax/aimd)."""
        return _EngineCalculator(self)

    def relax_trajectory(self, atoms, fmax, max_steps, every, relax_cell, pressure_gpa):
        """[(step, atoms, (energy, forces, stress))], converged — default: ASE FIRE (+ FrechetCellFilter)."""
        from ase.filters import FrechetCellFilter
        from ase.optimize import FIRE


        atoms = atoms.copy()
        atoms.calc = self.ase_calculator()
        target = FrechetCellFilter(atoms, scalar_pressure=pressure_gpa / EV_PER_A3_TO_GPA) if relax_cell else atoms
        opt = FIRE(target, logfile=None)
        kept = []

        def record():
            kept.append((opt.nsteps, atoms.copy(), _labels(atoms)))

        if every is not None:
            opt.attach(record, interval=every)
        with _single_thread_blas():  # 3x3 cell algebra: BLAS threads only contend (100x slower seen)
            converged = bool(opt.run(fmax=fmax, steps=max_steps))
        if not kept or kept[-1][0] != opt.nsteps:
            record()
        return kept, converged

    def aimd_trajectory(self, atoms, nsteps, t_start, t_end, dt_fs, gamma, gamma_l, pressure_gpa, seed):
        """[(step, atoms, labels)] — default: ASE ``LangevinBAOAB`` (NPT, Langevin cell), linear T ramp."""
        from ase import units
        from ase.md.langevinbaoab import LangevinBAOAB
        from ase.md.velocitydistribution import MaxwellBoltzmannDistribution


        atoms = atoms.copy()
        atoms.calc = self.ase_calculator()
        rng = np.random.default_rng(seed)
        MaxwellBoltzmannDistribution(atoms, temperature_K=t_start, rng=rng)
        dyn = LangevinBAOAB(
            atoms, dt_fs * units.fs, temperature_K=t_start,
            externalstress=pressure_gpa / EV_PER_A3_TO_GPA, hydrostatic=False,
            T_tau=1000.0 / gamma * units.fs, P_tau=1000.0 / gamma_l * units.fs, rng=rng,
        )
        frames = []
        with _single_thread_blas():
            for step in range(1, nsteps + 1):
                dyn.set_temperature(t_start + (t_end - t_start) * step / nsteps)
                dyn.run(1)
                frames.append((step, atoms.copy(), _labels(atoms)))
        return frames


def _single_thread_blas():
    """Context limiting BLAS to one thread (no-op without threadpoolctl)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover
        import contextlib

        return contextlib.nullcontext()
    return threadpool_limits(1)


def _labels(atoms):
    return (
        float(atoms.get_potential_energy()),
        np.array(atoms.get_forces()),
        np.array(atoms.get_stress(voigt=False)),
    )


def _source(source, **update) -> FrameSource:
    if source is None:
        base = {}
    elif isinstance(source, FrameSource):
        base = source.model_dump()
    else:
        base = dict(source)
    extra = {**base.get("extra", {}), **update.pop("extra", {})}
    return FrameSource(**{**base, **update, "extra": extra})


class _EngineCalculator:
    """Minimal ASE calculator adaptor around :meth:`ReferenceEngine.compute`."""

    def __new__(cls, engine):
        from ase.calculators.calculator import Calculator, all_changes

        class EngineCalculator(Calculator):
            implemented_properties = ["energy", "free_energy", "forces", "stress"]

            def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
                super().calculate(atoms, properties, system_changes)
                energy, forces, stress = engine.compute(self.atoms)
                s = np.asarray(stress)
                self.results = {
                    "energy": energy,
                    "free_energy": energy,
                    "forces": np.asarray(forces),
                    "stress": np.array([s[0, 0], s[1, 1], s[2, 2], s[1, 2], s[0, 2], s[0, 1]]),
                }

        return EngineCalculator()


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
        Object with ``species`` and ``setup_lammps(lmp)`` (see :mod:`mlip_glass.properties.potentials`);
        default :func:`~mlip_glass.properties.potentials.cheng_ma_sheng`.
    name
        Engine tag (``"eam"``).
    """

    potential: Any = None
    name: str = "eam"

    def __post_init__(self):
        if self.potential is None:
            from mlip_glass.properties.potentials import cheng_ma_sheng

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
        from mlip_glass.properties.lammps_session import LammpsSession

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
    from mlip_glass.datasets.extxyz import EV_PER_A3_TO_GPA

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
    """An engine from a name (``"eam"``, ``"vasp"``) or an engine / ASE calculator instance."""
    if isinstance(engine, ReferenceEngine):
        return engine
    if engine == "eam":
        return EAMEngine(**kwargs)
    if engine == "vasp":
        from mlip_glass.reference.vasp import VaspEngine

        return VaspEngine(**kwargs)
    if hasattr(engine, "get_potential_energy") or hasattr(engine, "calculate"):
        return ASECalculatorEngine(calculator=engine, label=type(engine).__name__, **kwargs)
    raise ValueError(
        f"engine must be 'eam', 'vasp', a ReferenceEngine or an ASE calculator, got {engine!r}"
    )
