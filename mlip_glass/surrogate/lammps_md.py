"""The LJ surrogate in LAMMPS (``units lj``): energies, NVT MD cooling, inherent structures (minimisation).

The model is written as ``pair_style lj/cut`` with one ``pair_coeff`` per type pair (eps_ab, sigma_ab,
r_c,ab = 2 sigma_ab, reduced) and ``pair_modify shift yes``; atom types 1, 2, ... follow ``model.species``;
unit mass. Positions go in and come out through :func:`to_reduced` / :func:`from_reduced` (Å outside).
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from pymatgen.core import Structure

from mlip_glass.surrogate import constants as C
from mlip_glass.surrogate.model import LJModel, SurrogateInputError
from mlip_glass.surrogate.state import ReducedState, from_reduced, to_reduced
from mlip_glass.utils.lammps import new_lammps

logger = logging.getLogger(__name__)

#: neighbour-list skin (reduced length)
NEIGHBOR_SKIN = 0.3
#: pre-minimisation before MD (removes the large forces of random insertions): etol ftol maxiter maxeval
PREMINIMIZE = (1e-4, 1e-4, 200, 2000)


def define_model(lmp, model: LJModel) -> None:
    """Issue ``mass``/``pair_style``/``pair_coeff``/``pair_modify`` for ``model`` (reduced units)."""
    tab = model.pair_tables()
    nt = model.n_types
    lmp.command("mass * 1.0")
    lmp.command(f"pair_style lj/cut {tab['rcut'].max():.16g}")
    for a in range(nt):
        for b in range(a, nt):
            lmp.command(
                f"pair_coeff {a + 1} {b + 1} {tab['epsilon'][a, b]:.16g} {tab['sigma'][a, b]:.16g} "
                f"{tab['rcut'][a, b]:.16g}"
            )
    lmp.command("pair_modify shift yes")
    lmp.command(f"neighbor {NEIGHBOR_SKIN} bin")
    lmp.command("neigh_modify every 1 delay 0 check yes")
    lmp.command("thermo_style custom step temp pe ke etotal press")
    lmp.command("thermo_modify norm no")
    lmp.command("compute_modify thermo_temp dynamic/dof no")


def lammps_for(state: ReducedState, model: LJModel, log_file: str | None = None, extra_args=None):
    """A LAMMPS instance holding ``state`` with ``model`` defined (atom ids = 1 + index)."""
    lmp = new_lammps(extra_args=extra_args, log_file=log_file)
    lmp.command("units lj")
    lmp.command("atom_style atomic")
    lmp.command("atom_modify map array sort 0 0.0")
    lmp.command("boundary p p p")
    lx, ly, lz = state.box
    lmp.command(f"region box block 0 {lx:.17g} 0 {ly:.17g} 0 {lz:.17g}")
    lmp.command(f"create_box {model.n_types} box")
    n = state.n_atoms
    created = lmp.create_atoms(n, list(range(1, n + 1)), [int(t) + 1 for t in state.types],
                               state.positions.ravel().tolist())
    if created != n:
        lmp.close()
        raise RuntimeError(f"LAMMPS created {created} of {n} atoms")
    define_model(lmp, model)
    return lmp


def _gather_state(lmp, box: np.ndarray) -> ReducedState:
    n = lmp.get_natoms()
    x = np.array(lmp.gather_atoms("x", 1, 3), dtype=float).reshape(n, 3)
    t = np.array(lmp.gather_atoms("type", 0, 1), dtype=np.int64) - 1
    x = np.mod(x, box)
    x[x >= box] = 0.0
    return ReducedState(x, box.copy(), t)


def _pe(lmp) -> float:
    """Total potential energy (reduced) of the current configuration."""
    return float(lmp.extract_compute("thermo_pe", 0, 0))


def lammps_energy(structure, model: LJModel | None = None) -> float:
    """Total potential energy (eV) computed by LAMMPS (independent check of :meth:`LJModel.energy`)."""
    model = model or LJModel.paper()
    state = to_reduced(structure, model, check_overlap=False)
    lmp = lammps_for(state, model)
    try:
        lmp.command("run 0 post no")
        return float(model.from_reduced_energy(_pe(lmp)))
    finally:
        lmp.close()


# ------------------------------------------------------------------------------------------------------
@dataclass
class InherentStructure:
    """A local energy minimum (inherent structure) of the LJ surrogate."""

    structure: Structure  #: minimised configuration (Å)
    energy: float  #: total energy (eV)
    energy_per_atom: float  #: eV/atom
    energy_per_atom_reduced: float  #: eps_ref/atom
    force_norm_reduced: float  #: final 2-norm of the global force vector (reduced)
    n_iterations: int


def _minimize(lmp, ftol: float, max_iter: int) -> int:
    lmp.command("variable fn equal fnorm")
    step0 = int(lmp.extract_global("ntimestep"))
    for style in ("cg", "fire"):
        lmp.command(f"min_style {style}")
        lmp.command(f"minimize 0.0 {ftol:.3g} {int(max_iter)} {10 * int(max_iter)}")
    return int(lmp.extract_global("ntimestep")) - step0


def inherent_structure(
    structure,
    model: LJModel | None = None,
    ftol: float = C.IS_FORCE_TOL,
    max_iter: int = C.IS_MAX_ITER,
) -> InherentStructure:
    """Minimise the LJ energy of ``structure`` at fixed cell (LAMMPS CG, then FIRE, to ``ftol``).

    Parameters
    ----------
    structure
        Configuration (Å, orthorhombic periodic cell).
    model
        LJ model (default paper).
    ftol
        Force tolerance: 2-norm of the global force vector, reduced units (> 0).
    max_iter
        Maximum iterations per minimiser stage (>= 1).
    """
    model = model or LJModel.paper()
    if not ftol > 0:
        raise SurrogateInputError(f"ftol must be > 0 (reduced force), got {ftol}")
    if int(max_iter) < 1:
        raise SurrogateInputError(f"max_iter must be >= 1, got {max_iter}")
    state = to_reduced(structure, model)
    lmp = lammps_for(state, model)
    try:
        niter = _minimize(lmp, ftol, max_iter)
        lmp.command("run 0 post no")
        e = _pe(lmp)
        fn = float(lmp.extract_variable("fn"))
        final = _gather_state(lmp, state.box)
    finally:
        lmp.close()
    n = state.n_atoms
    e_ev = float(model.from_reduced_energy(e))
    return InherentStructure(from_reduced(final, model), e_ev, e_ev / n, e / n, fn, niter)


# ------------------------------------------------------------------------------------------------------
@dataclass
class MDResult:
    """Outcome of :func:`md_cooling` (same fields as the swap-MC result where they apply)."""

    structure: Structure
    energy: float  #: eV (total potential energy)
    energy_reduced: float
    duration: float  #: t* (reduced time)
    n_steps: int
    timestep: float
    t_start: float
    t_end: float
    seed: int
    trace_time: np.ndarray  #: reduced time of each trace point
    trace_energy_per_atom: np.ndarray  #: reduced potential energy per atom
    trace_temperature: np.ndarray  #: instantaneous reduced kinetic temperature
    wall_time_s: float
    completed: bool = True
    settings: dict = field(default_factory=dict)


def _write_checkpoint(lmp, ckpt: Path, meta_path: Path, settings, done, tr_t, tr_e, tr_T) -> None:
    """Atomic LAMMPS restart file + JSON sidecar (settings, steps done, traces)."""
    lmp.command(f"write_restart {ckpt}.tmp")
    os.replace(f"{ckpt}.tmp", ckpt)
    meta_path.write_text(json.dumps({"settings": settings, "steps_done": done, "trace_time": tr_t,
                                     "trace_energy": tr_e, "trace_temperature": tr_T}))


def md_cooling(  # noqa: PLR0913, PLR0915 - the cooling schedule's parameters and its checkpointed LAMMPS run
    structure,
    model: LJModel | None = None,
    t_start: float = C.T_HIGH,
    t_end: float = C.T_LOW,
    duration: float = 100.0,
    seed: int = 0,
    *,
    timestep: float = C.MD_TIMESTEP,
    tdamp: float = C.MD_TDAMP,
    n_trace: int = 200,
    preminimize: bool = True,
    checkpoint_path: str | os.PathLike | None = None,
    checkpoint_every: int | None = None,
    stop_after: int | None = None,
    progress_every_s: float = 30.0,
) -> MDResult:
    """NVT (Nose-Hoover) MD of the LJ surrogate in LAMMPS, T* ramped linearly ``t_start`` -> ``t_end``.

    Parameters
    ----------
    structure
        Initial configuration (Å, orthorhombic periodic).
    model
        LJ model (default paper).
    t_start, t_end
        Reduced temperatures (> 0) at the start and end; equal values give an equilibrium run.
    duration
        Cooling time t* (reduced time sigma sqrt(m/eps), > 0); steps = round(duration / timestep).
    seed
        Seed of the initial Gaussian velocities (1 + seed is passed to LAMMPS).
    timestep
        MD time step (reduced; <= 0.002 for unbiased energies at T* ~ 4).
    tdamp
        Thermostat damping time (reduced).
    n_trace
        Number of trace points (energy, temperature) along the run.
    preminimize
        Short minimisation before MD (removes overlaps of random insertions).
    checkpoint_path
        LAMMPS restart file (a ``.json`` sidecar holds progress and traces); resumes if present.
    checkpoint_every
        Steps between checkpoints (default 10 % of the run), rounded down to whole trace intervals.
    stop_after
        Stop (after checkpointing) once this many steps were run in this call.
    """
    model = model or LJModel.paper()
    for name, v in (("t_start", t_start), ("t_end", t_end), ("duration", duration), ("timestep", timestep),
                    ("tdamp", tdamp)):
        if not (np.isfinite(v) and v > 0):
            raise SurrogateInputError(f"{name} must be a finite positive reduced quantity, got {v}")
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise SurrogateInputError(f"seed must be an integer >= 0, got {seed!r}")
    n_steps = max(1, int(round(duration / timestep)))
    n_trace = max(1, min(int(n_trace), n_steps))
    every = max(1, n_steps // n_trace)
    checkpoint_every = int(checkpoint_every or max(every, n_steps // 10))
    checkpoint_every = max(every, checkpoint_every // every * every)  # checkpoints fall on trace steps
    state = to_reduced(structure, model)
    ckpt = Path(checkpoint_path) if checkpoint_path else None
    meta_path = ckpt.with_name(ckpt.name + ".json") if ckpt else None
    settings = {"timestep": timestep, "tdamp": tdamp, "n_steps": n_steps, "seed": int(seed),
                "t_start": t_start, "t_end": t_end, "preminimize": preminimize}

    tr_t: list[float] = []
    tr_e: list[float] = []
    tr_T: list[float] = []
    if ckpt is not None and meta_path is not None and ckpt.exists() and meta_path.exists():
        meta = json.loads(meta_path.read_text())
        if meta["settings"] != json.loads(json.dumps(settings)):
            raise SurrogateInputError(f"checkpoint {ckpt} belongs to a different MD run; delete it")
        lmp = new_lammps()
        lmp.command("units lj")
        lmp.command("atom_style atomic")
        lmp.command("atom_modify map array sort 0 0.0")
        lmp.command(f"read_restart {ckpt}")
        define_model(lmp, model)
        done = int(meta["steps_done"])
        tr_t, tr_e, tr_T = meta["trace_time"], meta["trace_energy"], meta["trace_temperature"]
        logger.info("MD resumed from %s at step %d / %d", ckpt, done, n_steps)
    else:
        lmp = lammps_for(state, model)
        if preminimize:
            etol, ftol, mi, me = PREMINIMIZE
            lmp.command(f"minimize {etol} {ftol} {mi} {me}")
            lmp.command("reset_timestep 0")
        lmp.command(f"velocity all create {t_start:.16g} {int(seed) + 1} dist gaussian mom yes rot no loop geom")
        done = 0
    n = state.n_atoms
    lmp.command(f"timestep {timestep:.16g}")
    # a fresh fix ID: Nose-Hoover chain variables restart from zero on resume (restoring them mid-ramp
    # from the restart file was seen to leave the system far above the target temperature)
    lmp.command(f"fix cool_{done} all nvt temp {t_start:.16g} {t_end:.16g} {tdamp:.16g}")
    t0 = time.perf_counter()
    last = t0
    start = done
    try:
        while done < n_steps:
            nxt = min(n_steps, (done // every + 1) * every)
            if stop_after is not None and nxt > start + int(stop_after):
                break
            lmp.command(f"run {nxt - done} start 0 stop {n_steps} pre {'yes' if done == start else 'no'} post no")
            done = nxt
            tr_t.append(done * timestep)
            tr_e.append(_pe(lmp) / n)
            tr_T.append(float(lmp.get_thermo("temp")))
            if ckpt is not None and meta_path is not None and (done % checkpoint_every == 0 or done == n_steps):
                _write_checkpoint(lmp, ckpt, meta_path, settings, done, tr_t, tr_e, tr_T)
            now = time.perf_counter()
            if now - last > progress_every_s:
                logger.info("MD step %d / %d (%.1f %%), T* = %.3f, E/N = %.4f", done, n_steps,
                            100.0 * done / n_steps, tr_T[-1], tr_e[-1])
                last = now
        if ckpt is not None and meta_path is not None and done < n_steps:
            _write_checkpoint(lmp, ckpt, meta_path, settings, done, tr_t, tr_e, tr_T)
        lmp.command("run 0 post no")
        e = _pe(lmp)
        final = _gather_state(lmp, state.box)
    finally:
        lmp.close()
    return MDResult(
        structure=from_reduced(final, model),
        energy=float(model.from_reduced_energy(e)),
        energy_reduced=e,
        duration=float(duration),
        n_steps=n_steps,
        timestep=float(timestep),
        t_start=float(t_start),
        t_end=float(t_end),
        seed=int(seed),
        trace_time=np.asarray(tr_t),
        trace_energy_per_atom=np.asarray(tr_e),
        trace_temperature=np.asarray(tr_T),
        wall_time_s=time.perf_counter() - t0,
        completed=done >= n_steps,
        settings=settings,
    )
