"""The protocol every reference engine follows: ``static`` / ``relax`` / ``aimd`` → :class:`LabelledFrame`.

:class:`ReferenceEngine` implements the protocol (input checks, frames, the default ASE relax and NPT
heating) on top of one method, ``compute``; the engines themselves live in :mod:`mlip_glass.reference.engines`
and :mod:`mlip_glass.reference.vasp`.
"""

from __future__ import annotations

import contextlib
import resource
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

import numpy as np
from ase import Atoms
from monty.json import MSONable

from mlip_glass.errors import MLIPGlassError
from mlip_glass.provenance import structure_hash
from mlip_glass.reference.protocols import AIMDProtocol, RelaxProtocol, parse_keep
from mlip_glass.reference.schemas import FrameSource, LabelledFrame
from mlip_glass.units import EV_PER_A3_TO_GPA
from mlip_glass.utils.atoms import to_atoms, to_structure

#: smallest interatomic distance accepted in an input structure (Å); closer pairs mean a broken cell
MIN_DISTANCE_A = 0.5


class EngineInputError(MLIPGlassError, ValueError):
    """A structure that the engine cannot label (unknown species, bad cell, overlapping atoms)."""


class ReferenceCalculationError(MLIPGlassError, RuntimeError):
    """A calculation that ran and gave no usable labels (SCF not converged, crash, time limit).

    An outcome, not a crash: :meth:`ReferenceEngine.static` / ``relax`` / ``aimd`` turn it into a rejected
    frame carrying the reason and the CPU time spent. ``cpu_time_s`` (s) is what the failed run cost;
    ``partial`` holds the (step, atoms, labels) a trajectory had finished before it.
    """

    cpu_time_s: float = 0.0
    #: CPU time (s) of the failed run that finished child processes do not show (children never reaped)
    unreaped_cpu_s: float = 0.0
    partial: tuple = ()


def cpu_seconds() -> float:
    """CPU time (s) of this process plus its finished child processes (an external code's MPI ranks)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


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

    def settings_for(self, atoms: Atoms) -> dict[str, Any]:
        """The settings recorded in the frame of ``atoms`` (default :meth:`settings`; e.g. its k-point grid)."""
        return self.settings()

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
            engine_settings=self.settings_for(atoms),
            parent_hash=parent_hash,
            source=source,
            cpu_time_s=cpu_time_s,
        )

    def static(self, structure, subset: str = "surrogate", parent_hash=None, source=None) -> LabelledFrame:
        """Single-point labels of ``structure``."""
        atoms = self.check_structure(structure)
        t0 = cpu_seconds()
        try:
            energy, forces, stress = self.compute(atoms)
        except ReferenceCalculationError as exc:
            return self.failed_frame(atoms, exc, subset=subset, parent_hash=parent_hash, source=source,
                                     cpu_time_s=cpu_seconds() - t0 + exc.unreaped_cpu_s)
        return self.frame(
            atoms, energy, forces, stress, subset=subset, parent_hash=parent_hash, source=source,
            cpu_time_s=cpu_seconds() - t0,
        )

    def failed_frame(self, atoms, error: Exception, *, subset, parent_hash=None, source=None, cpu_time_s=0.0):
        """A rejected frame of ``atoms`` recording why its calculation failed and what it cost (s)."""
        return LabelledFrame(
            structure=to_structure(atoms),
            engine=self.name,
            engine_settings=self.settings_for(atoms),
            subset=subset,
            structure_hash=structure_hash(atoms),
            parent_hash=parent_hash,
            source=FrameSource() if source is None else _source(source),
            cpu_time_s=float(cpu_time_s),
            rejected=True,
            rejection_reason=f"calculation failed: {error}",
        )

    def relax(
        self,
        structure,
        subset: str = "relaxed",
        fmax: float | None = None,
        max_steps: int | None = None,
        keep=None,
        relax_cell: bool = True,
        pressure_gpa: float = 0.0,
        source=None,
        protocol: RelaxProtocol | dict | None = None,
    ) -> list[LabelledFrame]:
        """Relax ions (+ cell) to max force ``fmax`` (eV/Å); frames of the last step or every k-th step.

        ``protocol``: a :class:`RelaxProtocol` (default: the paper's); ``fmax``, ``max_steps`` and ``keep``
        override its fields. ``keep``: ``"last"``, ``"all"`` or an int k (every k-th ionic step plus the
        last). The last frame is rejected (``rejection_reason``) if the force tolerance was not reached.
        """
        p = RelaxProtocol.from_any(protocol, fmax=fmax, max_steps=max_steps, keep=keep)
        fmax, max_steps, every = p.fmax, p.max_steps, parse_keep(p.keep)
        atoms = self.check_structure(structure)
        parent = structure_hash(atoms)
        t0 = cpu_seconds()
        failure = None
        try:
            steps, converged = self.relax_trajectory(atoms, fmax, max_steps, every, relax_cell, pressure_gpa)
        except ReferenceCalculationError as exc:  # frames finished before the failure are kept
            failure, steps, converged = exc, list(exc.partial), False
        cpu = cpu_seconds() - t0 + (failure.unreaped_cpu_s if failure is not None else 0.0)
        n_cost = len(steps) + (failure is not None)
        frames = []
        for i, (step, snapshot, labels) in enumerate(steps):
            src = _source(source, step=step, transformation="relax")
            frame = self.frame(
                snapshot, *labels, subset=subset, parent_hash=parent, source=src, cpu_time_s=cpu / n_cost,
            )
            if i == len(steps) - 1 and not converged and failure is None:
                frame = frame.reject(f"relaxation not converged to fmax={fmax} eV/Å in {max_steps} steps")
            frames.append(frame)
        if failure is not None:
            src = _source(source, transformation="relax")
            frames.append(self.failed_frame(atoms, failure, subset=subset, parent_hash=parent, source=src,
                                            cpu_time_s=cpu / n_cost))
        return frames

    def aimd(  # noqa: PLR0913 - AIMDProtocol's fields as overrides; every engine shares this signature
        self,
        structure,
        subset: str = "aimd",
        nsteps: int | None = None,
        t_start_k: float | None = None,
        t_end_k: float | None = None,
        timestep_fs: float | None = None,
        gamma_per_ps: float | None = None,
        gamma_lattice_per_ps: float | None = None,
        pressure_gpa: float | None = None,
        seed: int = 1,
        source=None,
        protocol: AIMDProtocol | dict | None = None,
    ) -> list[LabelledFrame]:
        """NPT Langevin heating of an :class:`AIMDProtocol` (default: the paper's; the keywords override
        its fields); every step is a frame (labels: potential energy, forces, virial stress of that
        configuration)."""
        p = AIMDProtocol.from_any(
            protocol, nsteps=nsteps, t_start_k=t_start_k, t_end_k=t_end_k, timestep_fs=timestep_fs,
            gamma_per_ps=gamma_per_ps, gamma_lattice_per_ps=gamma_lattice_per_ps, pressure_gpa=pressure_gpa,
        )
        atoms = self.check_structure(structure)
        parent = structure_hash(atoms)
        t0 = cpu_seconds()
        failure = None
        try:
            steps = self.aimd_trajectory(
                atoms, p.nsteps, p.t_start_k, p.t_end_k, p.timestep_fs, p.gamma_per_ps, p.gamma_lattice_per_ps,
                p.pressure_gpa, int(seed),
            )
        except ReferenceCalculationError as exc:  # the steps before the failure are kept
            failure, steps = exc, list(exc.partial)
        cpu = cpu_seconds() - t0 + (failure.unreaped_cpu_s if failure is not None else 0.0)
        n_cost = len(steps) + (failure is not None)
        frames = []
        for step, snapshot, labels in steps:
            src = _source(source, step=step, transformation="aimd", extra={"aimd_seed": int(seed)})
            frames.append(
                self.frame(snapshot, *labels, subset=subset, parent_hash=parent, source=src,
                           cpu_time_s=cpu / n_cost)
            )
        if failure is not None:
            src = _source(source, transformation="aimd", extra={"aimd_seed": int(seed)})
            frames.append(self.failed_frame(atoms, failure, subset=subset, parent_hash=parent, source=src,
                                            cpu_time_s=cpu / n_cost))
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
        with _single_thread_blas(), _keep_partial(kept):  # 3x3 cell algebra: BLAS threads only contend
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
        frames: list = []
        with _single_thread_blas(), _keep_partial(frames):
            for step in range(1, nsteps + 1):
                dyn.set_temperature(t_start + (t_end - t_start) * step / nsteps)
                dyn.run(1)
                frames.append((step, atoms.copy(), _labels(atoms)))
        return frames


@contextlib.contextmanager
def _keep_partial(steps: list):
    """A :class:`ReferenceCalculationError` raised inside carries the ``steps`` finished so far."""
    try:
        yield
    except ReferenceCalculationError as exc:
        exc.partial = tuple(steps)
        raise


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
