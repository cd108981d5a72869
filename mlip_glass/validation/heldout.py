"""Held-out frames made by the reference engine itself: the judge of a campaign's NEP (never trained on).

When the reference engine is a classical potential (the Cheng–Ma–Sheng EAM on machines without VASP), the
campaign can check its NEP end to end on states of its own making that no training subset contains:

    random liquid → NPT melt at 2000 K → NPT cooling 2000 → 1200 → 700 → 300 K (frames at each plateau)
    → box-relaxed glasses (LAMMPS minimize + box/relax) → those glasses with every lattice vector × 0.97 / 1.03

Every frame is re-labelled by a single point of the engine (energy, forces, virial only — no kinetic part).
``config_type`` names the category (``md_2000K``, ``md_1200K``, ``md_700K``, ``md_300K``, ``relaxed``,
``scaled_0.97``, ``scaled_1.03``), so :func:`mlip_glass.nep.evaluate.error_table` reports each.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass

import numpy as np
from ase import Atoms

from mlip_glass.errors import ProtocolError
from mlip_glass.reference.protocols import ProtocolBase
from mlip_glass.utils.atoms import labelled_atoms

logger = logging.getLogger(__name__)

#: plateau temperatures of the held-out NPT melt–quench (K): hot liquid, supercooled, glass
HELDOUT_TEMPERATURES_K = (2000.0, 1200.0, 700.0, 300.0)
#: lattice-vector scale factors applied to the relaxed held-out glasses
HELDOUT_SCALE_FACTORS = (0.97, 1.03)


@dataclass(frozen=True)
class HeldOutProtocol(ProtocolBase):
    """The reference-engine MD protocol of the held-out set (metal units: K, fs, ps, GPa).

    Parameters
    ----------
    n_runs
        Independent melt–quench runs (seeds ``seed``, ``seed + 1``, ...).
    n_atoms
        Atoms per cell (composition Cu0.46 Zr0.46 Al0.08).
    temperatures_k
        Plateau temperatures (K), from hot to cold; the first is the melt.
    frames_per_plateau
        Frames taken per plateau and run, ``sample_every_ps`` apart.
    melt_ps, cool_ps, plateau_ps
        Melt equilibration, each linear cooling ramp, and equilibration before sampling on a plateau (ps).
    sample_every_ps
        Time between frames on a plateau (ps).
    timestep_fs
        MD time step (fs).
    scale_factors
        Lattice scale factors of the relaxed glasses.
    relax_fmax
        Force tolerance of the box relaxation (eV/Å).
    inherent_every
        Every k-th frame of each plateau above the last is also box-relaxed (category ``is_<T>K``): inherent
        structures of hot, supercooled and glassy states, an energy range for the energy parity (0: none).
    deep_glasses
        Extra held-out swap-MC glasses (surrogate cooling of ``deep_sweeps`` sweeps from random liquids with seeds
        no campaign uses), box-relaxed with the engine: category ``swap_mc_deep``, test split. They judge how well
        a model knows deep glasses (the paper's thesis); 0: none.
    deep_sweeps
        Swap-MC cooling length of those glasses (sweeps).
    seed
        Base seed.
    """

    n_runs: int = 2
    n_atoms: int = 150
    temperatures_k: tuple[float, ...] = HELDOUT_TEMPERATURES_K
    frames_per_plateau: int = 8
    melt_ps: float = 10.0
    cool_ps: float = 5.0
    plateau_ps: float = 2.0
    sample_every_ps: float = 0.5
    timestep_fs: float = 2.0
    scale_factors: tuple[float, ...] = HELDOUT_SCALE_FACTORS
    relax_fmax: float = 1e-3
    inherent_every: int = 5
    deep_glasses: int = 0
    deep_sweeps: int = 100_000
    seed: int = 9001

    def __post_init__(self) -> None:
        for name in ("n_runs", "n_atoms", "frames_per_plateau"):
            if int(getattr(self, name)) < 1:
                raise ProtocolError(f"HeldOutProtocol.{name} must be >= 1, got {getattr(self, name)}")
        for name in ("melt_ps", "cool_ps", "plateau_ps", "sample_every_ps", "timestep_fs", "relax_fmax"):
            if not float(getattr(self, name)) > 0:
                raise ProtocolError(f"HeldOutProtocol.{name} must be > 0, got {getattr(self, name)}")
        if not self.temperatures_k or any(t <= 0 for t in self.temperatures_k):
            raise ProtocolError(f"HeldOutProtocol.temperatures_k must be positive, got {self.temperatures_k}")
        # frozen: the tuples are normalised once, here
        object.__setattr__(self, "temperatures_k", tuple(float(t) for t in self.temperatures_k))
        object.__setattr__(self, "scale_factors", tuple(float(s) for s in self.scale_factors))

    def as_dict(self) -> dict:
        return asdict(self)


def category_of_temperature(t_k: float) -> str:
    """``config_type`` of an MD plateau frame."""
    return f"md_{t_k:.0f}K"


def _steps(ps: float, timestep_fs: float) -> int:
    return max(1, int(round(ps * 1000.0 / timestep_fs)))


def _label(engine, atoms: Atoms, category: str, run: int) -> Atoms:
    energy, forces, stress = engine.compute(atoms)
    return labelled_atoms(atoms, energy, forces, stress, config_type=category, heldout_run=run)


def _start_structure(n_atoms: int, seed: int):
    """A random 150-atom liquid of the paper's composition (the surrogate's random insertion)."""
    from mlip_glass.surrogate.state import random_liquid

    return random_liquid(n=n_atoms, seed=seed)


def melt_quench_frames(engine, protocol: HeldOutProtocol, run: int) -> list[Atoms]:
    """One NPT melt–quench run of ``engine`` (needs ``engine.potential.setup_lammps``): labelled frames of every
    plateau, of the box-relaxed glasses and of their scaled copies."""
    from mlip_glass.utils.lammps_session import LammpsSession

    potential = getattr(engine, "potential", None)
    if potential is None or not hasattr(potential, "setup_lammps"):
        raise ValueError(
            f"held-out MD needs a LAMMPS potential engine (e.g. 'eam'); engine {getattr(engine, 'name', engine)!r} "
            "has none"
        )
    p = protocol
    seed = int(p.seed) + run
    dt_ps = p.timestep_fs * 1e-3
    tdamp, pdamp = 100 * dt_ps, 1000 * dt_ps
    frames: list[Atoms] = []
    glasses: list[Atoms] = []
    plateau: list[tuple[float, Atoms]] = []
    with LammpsSession(_start_structure(p.n_atoms, seed), potential) as session:
        session.minimize(fmax=0.1, relax_cell=True, max_iterations=500)
        t_hot = p.temperatures_k[0]
        session.commands([
            f"timestep {dt_ps!r}",
            f"velocity all create {t_hot!r} {seed % 900_000 + 1} dist gaussian mom yes rot yes",
            f"fix mlg_md all npt temp {t_hot!r} {t_hot!r} {tdamp!r} iso 0.0 0.0 {pdamp!r}",
            f"run {_steps(p.melt_ps, p.timestep_fs)}",
            "unfix mlg_md",
        ])
        t_prev = t_hot
        for t_k in p.temperatures_k:
            if t_k != t_prev:
                session.commands([
                    f"fix mlg_md all npt temp {t_prev!r} {t_k!r} {tdamp!r} iso 0.0 0.0 {pdamp!r}",
                    f"run {_steps(p.cool_ps, p.timestep_fs)}",
                    "unfix mlg_md",
                ])
            session.commands([
                f"fix mlg_md all npt temp {t_k!r} {t_k!r} {tdamp!r} iso 0.0 0.0 {pdamp!r}",
                f"run {_steps(p.plateau_ps, p.timestep_fs)}",
            ])
            for _ in range(int(p.frames_per_plateau)):
                session.command(f"run {_steps(p.sample_every_ps, p.timestep_fs)}")
                snapshot = session.current_atoms()
                frames.append(_label(engine, snapshot, category_of_temperature(t_k), run))
                if t_k == p.temperatures_k[-1]:
                    glasses.append(snapshot)
                else:
                    plateau.append((t_k, snapshot))
            session.command("unfix mlg_md")
            t_prev = t_k
    for glass in glasses:
        relaxed = _box_relaxed(potential, glass, p.relax_fmax)
        frames.append(_label(engine, relaxed, "relaxed", run))
        for factor in p.scale_factors:
            scaled = relaxed.copy()
            scaled.set_cell(relaxed.cell.array * factor, scale_atoms=True)
            frames.append(_label(engine, scaled, f"scaled_{factor:g}", run))
    if int(p.inherent_every) > 0:
        for t_k, snapshot in plateau[:: int(p.inherent_every)]:
            frames.append(_label(engine, _box_relaxed(potential, snapshot, p.relax_fmax), f"is_{t_k:.0f}K", run))
    logger.info("held-out run %d: %d frames", run, len(frames))
    return frames


def _box_relaxed(potential, atoms: Atoms, fmax: float) -> Atoms:
    from mlip_glass.properties.relax import relax

    relaxed, _ = relax(atoms, potential, fmax=fmax, relax_cell=True)
    return relaxed


#: seed offset of the held-out deep glasses (far from any campaign's surrogate seeds)
DEEP_GLASS_SEED_OFFSET = 700_000


def deep_glass_frames(engine, protocol: HeldOutProtocol) -> list[Atoms]:
    """``protocol.deep_glasses`` swap-MC glasses cooled over ``deep_sweeps`` sweeps, box-relaxed by ``engine``
    (its LAMMPS potential) and labelled: category ``swap_mc_deep``, run index ``n_runs`` (test split)."""
    from mlip_glass.surrogate.swap_mc import swap_mc
    from mlip_glass.utils.atoms import to_atoms

    frames = []
    for i in range(int(protocol.deep_glasses)):
        seed = int(protocol.seed) + DEEP_GLASS_SEED_OFFSET + i
        glass = swap_mc(_start_structure(protocol.n_atoms, seed), n_sweeps=int(protocol.deep_sweeps), seed=seed)
        relaxed = _box_relaxed(engine.potential, to_atoms(glass.structure), protocol.relax_fmax)
        frames.append(_label(engine, relaxed, "swap_mc_deep", int(protocol.n_runs)))
    return frames


def heldout_frames(engine="eam", protocol: HeldOutProtocol | None = None) -> list[Atoms]:
    """Every held-out frame of ``protocol`` (default :class:`HeldOutProtocol`) labelled by ``engine``."""
    from mlip_glass.reference.engines import get_engine

    engine = get_engine(engine)
    protocol = protocol or HeldOutProtocol()
    frames: list[Atoms] = []
    for run in range(int(protocol.n_runs)):
        frames += melt_quench_frames(engine, protocol, run)
    return frames + deep_glass_frames(engine, protocol)


def category_counts(frames) -> dict[str, int]:
    """Frames per ``config_type``."""
    counts: dict[str, int] = {}
    for frame in frames:
        key = str(frame.info.get("config_type"))
        counts[key] = counts.get(key, 0) + 1
    return counts


def mean_volume_per_atom(frames, category: str) -> float:
    """Mean volume per atom (Å^3) of the frames of ``category``."""
    values = [f.get_volume() / len(f) for f in frames if f.info.get("config_type") == category]
    if not values:
        raise ValueError(f"no held-out frames of category {category!r}")
    return float(np.mean(values))


__all__ = ["HeldOutProtocol", "heldout_frames", "melt_quench_frames", "category_counts", "mean_volume_per_atom",
           "HELDOUT_TEMPERATURES_K", "HELDOUT_SCALE_FACTORS"]
