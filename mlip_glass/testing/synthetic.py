"""Small EAM-labelled CuZrAl datasets for tests, benchmarks and demos of the NEP stage.

The Cheng-Ma-Sheng EAM (shipped with the package) plays the role of the reference engine: LAMMPS
computes energy (eV), forces (eV/Å) and the virial part of the stress tensor, stored as the GPUMD
virial (eV) through :func:`mlip_glass.utils.atoms.labelled_atoms`. Structures are liquid /
glass-like snapshots of an MD quench (LAMMPS, NVT) plus strained and rattled copies, i.e. the kind of
configurations of the paper's database (SPEC §5), just far fewer and far cheaper.
"""

from __future__ import annotations

import logging

import numpy as np
from ase import Atoms

from mlip_glass.composition import PAPER_COMPOSITION, SPECIES
from mlip_glass.data import cheng_ma_sheng_eam
from mlip_glass.units import BAR_TO_GPA, EV_PER_A3_TO_GPA
from mlip_glass.utils.atoms import labelled_atoms
from mlip_glass.utils.lammps import new_lammps

logger = logging.getLogger(__name__)

#: LAMMPS type order used by :func:`eam_label` (``pair_coeff * * FILE Cu Zr Al``)
EAM_SPECIES = SPECIES
#: paper composition Cu0.46 Zr0.46 Al0.08 (SPEC §1)
DEFAULT_COMPOSITION = PAPER_COMPOSITION
#: number density of the CMS EAM glass at ~300 K (atoms/Å^3), ≈ 150 atoms in a 13.1 Å cube
DEFAULT_NUMBER_DENSITY = 0.0655


def _lower_triangular(atoms: Atoms) -> tuple[np.ndarray, np.ndarray]:
    """Rotate ``atoms`` so that its cell is lower-triangular (LAMMPS convention); returns (cell, pos)."""
    cell = np.asarray(atoms.cell.array, dtype=float)
    a, b, c = cell
    ax = np.linalg.norm(a)
    ahat = a / ax
    bx = b @ ahat
    by = np.linalg.norm(b - bx * ahat)
    cx = c @ ahat
    normal = np.cross(a, b)
    volume = abs(np.linalg.det(cell))
    cz = volume / (ax * by)
    cy = (b @ c - bx * cx) / by
    new = np.array([[ax, 0, 0], [bx, by, 0], [cx, cy, cz]])
    frac = np.linalg.solve(cell.T, atoms.positions.T).T
    if normal @ c < 0:
        raise ValueError("cell must be right-handed")
    return new, frac @ new


def eam_label(
    frames: list[Atoms], config_type: str | None = None, potential: str | None = None
) -> list[Atoms]:
    """Label ``frames`` with the CMS EAM through LAMMPS: energy (eV), forces (eV/Å), virial (eV).

    Each frame is evaluated in its own (lower-triangular, rotated if needed) cell; forces and virial
    are rotated back. ``config_type`` (or ``frame.info['config_type']``) becomes the subset name.
    """
    potential = str(potential or cheng_ma_sheng_eam())
    labelled = []
    for frame in frames:
        symbols = frame.get_chemical_symbols()
        unknown = sorted(set(symbols) - set(EAM_SPECIES))
        if unknown:
            raise ValueError(f"species {unknown} not in the EAM ({EAM_SPECIES})")
        cell, positions = _lower_triangular(frame)
        rotation = np.linalg.solve(np.asarray(frame.cell.array, float), cell)  # old cell @ R = new
        lmp = new_lammps()
        try:
            (ax, _, _), (bx, by, _), (cx, cy, cz) = cell
            lmp.commands_list(
                [
                    "units metal",
                    "atom_style atomic",
                    "boundary p p p",
                    "atom_modify map array sort 0 0",
                    f"region box prism 0 {ax} 0 {by} 0 {cz} {bx} {cx} {cy} units box",
                    "create_box 3 box",
                    *[f"mass {i + 1} 1.0" for i in range(3)],
                    "pair_style eam/alloy",
                    f"pair_coeff * * {potential} {' '.join(EAM_SPECIES)}",
                ]
            )
            types = [EAM_SPECIES.index(s) + 1 for s in symbols]
            lmp.create_atoms(len(frame), list(range(1, len(frame) + 1)), types, positions.ravel().tolist())
            lmp.commands_list(
                ["compute pv all pressure NULL virial", "thermo_style custom pe c_pv[*]", "run 0"]
            )
            energy = float(lmp.get_thermo("pe"))
            pv = np.array(lmp.numpy.extract_compute("pv", 0, 1), dtype=float)  # xx yy zz xy xz yz (bar)
            forces = np.array(lmp.numpy.extract_atom("f")[: len(frame)], dtype=float)
        finally:
            lmp.close()
        xx, yy, zz, xy, xz, yz = pv
        pressure = np.array([[xx, xy, xz], [xy, yy, yz], [xz, yz, zz]])
        stress_rot = -pressure * BAR_TO_GPA / EV_PER_A3_TO_GPA  # ASE sign, eV/Å^3, rotated frame
        # rotated quantities v' = v @ R, so back-rotation uses R^-1 (R is orthogonal)
        rinv = np.linalg.inv(rotation)
        forces = forces @ rinv
        stress = rinv.T @ stress_rot @ rinv
        ctype = config_type or frame.info.get("config_type")
        labelled.append(labelled_atoms(frame, energy, forces, stress, config_type=ctype))
    return labelled


def random_cell(
    n_atoms: int,
    rng: np.random.Generator,
    composition: dict[str, float] | None = None,
    density: float = DEFAULT_NUMBER_DENSITY,
) -> Atoms:
    """A cubic cell with ``n_atoms`` on a jittered simple-cubic grid and random species order."""
    composition = composition or DEFAULT_COMPOSITION
    counts = {s: int(round(f * n_atoms)) for s, f in composition.items()}
    first = next(iter(counts))
    counts[first] += n_atoms - sum(counts.values())
    symbols = [s for s, c in counts.items() for _ in range(c)]
    rng.shuffle(symbols)
    length = (n_atoms / density) ** (1 / 3)
    m = int(np.ceil(n_atoms ** (1 / 3)))
    grid = np.array([(i, j, k) for i in range(m) for j in range(m) for k in range(m)], dtype=float)
    grid = grid[rng.choice(len(grid), n_atoms, replace=False)]
    positions = (grid + 0.5 + rng.uniform(-0.15, 0.15, grid.shape)) * length / m
    return Atoms(symbols, positions=positions, cell=[length] * 3, pbc=True)


def quench_snapshots(
    atoms: Atoms,
    n_snapshots: int,
    seed: int,
    t_start: float = 2500.0,
    t_stop: float = 300.0,
    steps: int = 6000,
    timestep_fs: float = 2.0,
) -> list[Atoms]:
    """Snapshots of a linear NVT quench ``t_start`` → ``t_stop`` (K) with the CMS EAM (LAMMPS)."""
    lmp = new_lammps()
    symbols = atoms.get_chemical_symbols()
    try:
        length = atoms.cell.lengths()
        lmp.commands_list(
            [
                "units metal",
                "atom_style atomic",
                "atom_modify map array sort 0 0",
                f"region box block 0 {length[0]} 0 {length[1]} 0 {length[2]} units box",
                "create_box 3 box",
                "mass 1 63.546",
                "mass 2 91.224",
                "mass 3 26.982",
                "pair_style eam/alloy",
                f"pair_coeff * * {cheng_ma_sheng_eam()} {' '.join(EAM_SPECIES)}",
            ]
        )
        types = [EAM_SPECIES.index(s) + 1 for s in symbols]
        lmp.create_atoms(len(atoms), list(range(1, len(atoms) + 1)), types, atoms.positions.ravel().tolist())
        lmp.commands_list(
            [
                "minimize 1e-4 1e-4 200 1000",
                f"timestep {timestep_fs / 1000}",
                f"velocity all create {t_start} {seed % 900000 + 1} mom yes dist gaussian",
                "fix nvt all nvt temp 1 1 0.1",
            ]
        )
        snapshots = []
        chunk = max(steps // n_snapshots, 1)
        for i in range(n_snapshots):
            t0 = t_start + (t_stop - t_start) * i / n_snapshots
            t1 = t_start + (t_stop - t_start) * (i + 1) / n_snapshots
            lmp.commands_list(["unfix nvt", f"fix nvt all nvt temp {t0} {t1} 0.1", f"run {chunk}"])
            x = np.array(lmp.numpy.extract_atom("x")[: len(atoms)], dtype=float)
            snap = Atoms(symbols, positions=x, cell=atoms.cell, pbc=True)
            snap.wrap()
            snap.info["temperature"] = float(t1)
            snapshots.append(snap)
    finally:
        lmp.close()
    return snapshots


def eam_dataset_frames(
    n_frames: int = 40,
    n_atoms: int = 32,
    seed: int = 0,
    strain_fraction: float = 0.3,
    max_strain: float = 0.04,
    quench_steps: int = 3000,
    n_quenches: int = 2,
) -> list[Atoms]:
    """EAM-labelled CuZrAl frames with ``config_type`` ``quench`` (MD snapshots) or ``strained``.

    ``n_quenches`` independent quenches supply ``n_frames`` snapshots; a fraction ``strain_fraction``
    of them gets a random symmetric strain (components up to ``max_strain``) and a 0.05 Å rattle.
    Deterministic for a given ``seed``.
    """
    if n_frames < 1 or n_atoms < 2:
        raise ValueError(f"n_frames must be >= 1 and n_atoms >= 2, got {n_frames}, {n_atoms}")
    rng = np.random.default_rng(seed)
    per_quench = int(np.ceil(n_frames / n_quenches))
    snapshots: list[Atoms] = []
    for q in range(n_quenches):
        start = random_cell(n_atoms, rng)
        snapshots += quench_snapshots(start, per_quench, seed=seed * 1000 + q, steps=quench_steps)
        logger.info("quench %d/%d done (%d snapshots)", q + 1, n_quenches, len(snapshots))
    snapshots = snapshots[:n_frames]
    frames = []
    for snap in snapshots:
        if rng.random() < strain_fraction:
            eps = rng.uniform(-max_strain, max_strain, (3, 3))
            eps = 0.5 * (eps + eps.T)
            strained = snap.copy()
            strained.set_cell(snap.cell.array @ (np.eye(3) + eps), scale_atoms=True)
            strained.positions += rng.normal(0.0, 0.05, strained.positions.shape)
            strained.info["config_type"] = "strained"
            frames.append(strained)
        else:
            snap.info["config_type"] = "quench"
            frames.append(snap)
    return [eam_label([f])[0] for f in frames]
