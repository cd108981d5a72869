"""Swap Monte Carlo cooling of the LJ surrogate: Python wrapper around :func:`kernel.run_sweeps`.

Checks inputs, converts Å <-> reduced units, seeds the xoshiro256** RNG, runs the kernel in chunks,
reports progress (logging) and writes an atomic checkpoint (``.npz``) every ``checkpoint_every`` sweeps.
A run started again with the same arguments and checkpoint path resumes from the checkpoint and ends in
the bit-identical state of an uninterrupted run.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mlip_glass.surrogate import constants as C
from mlip_glass.surrogate.kernel import (
    STATUS_OK,
    blocked_energies,
    build_grid,
    build_verlet,
    grid_cells,
    run_blocked,
    run_verlet,
    verlet_energies,
)
from mlip_glass.surrogate.mc_common import (
    DEFAULT_TRACE_POINTS,
    SwapMCResult,
    acceptance_summary,
    pair_tables,
    swap_partners,
    trace_schedule,
    validate_run,
)
from mlip_glass.surrogate.model import LJModel, SurrogateInputError
from mlip_glass.surrogate.rng import seed_state
from mlip_glass.surrogate.state import ReducedState, from_reduced, to_reduced

logger = logging.getLogger(__name__)

#: from this many atoms on the kernel uses Verlet lists (cost per move independent of N); below, all pairs
NEIGHBOUR_LIST_MIN_ATOMS = 1000
#: Verlet skin (reduced length): lists hold pairs within r_cut,max + skin; a rebuild happens when a trial
#: position is farther than skin / 2 from its reference position. It only changes the speed, never the
#: result (sums in index order; see kernel). Must exceed the largest trial displacement, delta * sqrt(3).
VERLET_SKIN = 0.3
#: with Verlet lists, particles are re-sorted in space (cell order) every this many attempted moves (rounded
#: to whole sweeps, at fixed sweep numbers: a resumed run re-sorts at the same sweeps), so that a diffusing
#: liquid keeps its memory locality; O(N log N) + a list rebuild, ~1e-3 of the moves' time
RESORT_EVERY_MOVES = 10_000_000
#: checkpoint format version (refuse foreign files); 2 = type-blocked / Verlet kernels (issue 15)
CHECKPOINT_VERSION = 2


@dataclass
class _Arrays:
    """Kernel state. Particle arrays are in kernel order (type blocks, or space-sorted for Verlet lists);
    ``site_of_slot``/``slot_of_site`` map to/from the input's site order."""

    x: np.ndarray
    y: np.ndarray
    z: np.ndarray
    types: np.ndarray
    box: np.ndarray
    e_part: np.ndarray
    etot: np.ndarray
    rng: np.ndarray
    swap_list: np.ndarray
    partner_list: np.ndarray
    trans_cnt: np.ndarray
    swap_att: np.ndarray
    swap_acc: np.ndarray
    trace_e: np.ndarray
    trace_t: np.ndarray
    site_of_slot: np.ndarray
    slot_of_site: np.ndarray
    block: np.ndarray  #: type blocks (blocked kernel); unused with Verlet lists
    neighbour_lists: bool
    sweep: int = 0
    # Verlet lists (derived data: rebuilt on load)
    skin: float = VERLET_SKIN
    r2_list: float = 0.0
    ncell: np.ndarray | None = None
    rx: np.ndarray | None = None
    ry: np.ndarray | None = None
    rz: np.ndarray | None = None
    nlist: np.ndarray | None = None
    ncount: np.ndarray | None = None
    grid: tuple = ()  #: (gcount, gatoms, gcell, gslot) of the reference positions
    sort_cells: np.ndarray | None = None  #: grid of the spatial sort (cells of side >= r_cut,max)
    n_rebuild: np.ndarray = field(default_factory=lambda: np.zeros(2, dtype=np.int64))

    _SAVED = ("x", "y", "z", "types", "box", "e_part", "etot", "rng", "swap_list", "partner_list",
              "trans_cnt", "swap_att", "swap_acc", "trace_e", "trace_t", "site_of_slot", "slot_of_site", "block")

    def rebuild_lists(self) -> None:
        """Verlet lists around the current positions (the reference positions become these)."""
        cap = self.nlist.shape[1] if self.nlist is not None else 64
        self.nlist, self.ncount = build_verlet(self.x, self.y, self.z, self.box, self.r2_list, self.ncell, cap)
        self.rx, self.ry, self.rz = self.x.copy(), self.y.copy(), self.z.copy()
        self.grid = build_grid(self.rx, self.ry, self.rz, self.box, self.ncell, 8)

    def resort(self) -> None:
        """Renumber the particles in cell order of their current positions (stable: deterministic) and
        rebuild the lists. Only the slot order changes (sites, species, energies are permuted with it)."""
        order = np.argsort(grid_cells(self.x, self.y, self.z, self.box, self.sort_cells), kind="stable")
        for k in ("x", "y", "z", "types", "e_part", "site_of_slot"):
            setattr(self, k, np.ascontiguousarray(getattr(self, k)[order]))
        self.slot_of_site[self.site_of_slot] = np.arange(len(self.x))
        self.rebuild_lists()

    def site_state(self) -> ReducedState:
        """Positions and types in the input's site order."""
        pos = np.empty((len(self.x), 3))
        pos[self.site_of_slot] = np.stack([self.x, self.y, self.z], axis=1)
        types = np.empty(len(self.x), dtype=np.int64)
        types[self.site_of_slot] = self.types
        return ReducedState(pos, self.box, types)


def _setup(state: ReducedState, model: LJModel, seed: int, swap_species: str | None, n_trace: int,
           neighbour_lists: bool | None, skin: float) -> _Arrays:
    sig2, eps4, rc2, shift, rcmax = pair_tables(model)
    n, nt = state.n_atoms, model.n_types
    box = state.box.astype(float).copy()
    if box.min() < 2 * rcmax:  # the kernel uses the minimum image: one image of each pair within r_cut
        raise SurrogateInputError(
            f"box edge {box.min():.3f} (reduced) is shorter than twice the largest LJ cutoff ({2 * rcmax:.3f}): "
            f"this kernel (minimum image) would miss periodic images; swap_mc() routes such boxes to "
            f"mlip_glass.surrogate.small_box.small_box_swap_mc (n_atoms = {n}; N >= 112 at the paper's rho* = 1.75)"
        )
    site_types = state.types.astype(np.int64)
    if neighbour_lists is None:
        neighbour_lists = n >= NEIGHBOUR_LIST_MIN_ATOMS
    pos = state.positions
    ncell = np.maximum(np.floor(box / (rcmax + skin)).astype(np.int64), 1)
    if neighbour_lists:  # space-sorted (cells of side >= r_cut,max, not skin-dependent) for memory locality
        sort_cells = np.maximum(np.floor(box / rcmax).astype(np.int64), 1)
        px, py, pz = (np.ascontiguousarray(pos[:, k]) for k in range(3))
        cells = grid_cells(px, py, pz, box, sort_cells)
        order = np.argsort(cells, kind="stable")
    else:  # blocked by type
        order = np.argsort(site_types, kind="stable")
    slot_of_site = np.empty(n, dtype=np.int64)
    slot_of_site[order] = np.arange(n)
    x, y, z = (np.ascontiguousarray(pos[order, k]) for k in range(3))
    types = site_types[order].copy()
    block = np.searchsorted(types, np.arange(nt + 1)).astype(np.int64) if not neighbour_lists else \
        np.zeros(nt + 1, dtype=np.int64)
    swap_list, partner_list = swap_partners(site_types, model, swap_species)
    arr = _Arrays(
        x, y, z, types, box, np.zeros(n), np.zeros(1), seed_state(int(seed)), swap_list, partner_list,
        np.zeros(2, dtype=np.int64), np.zeros((nt, nt), dtype=np.int64), np.zeros((nt, nt), dtype=np.int64),
        np.full(n_trace, np.nan), np.full(n_trace, np.nan), order.astype(np.int64), slot_of_site, block,
        bool(neighbour_lists), skin=float(skin), r2_list=float((rcmax + skin) ** 2), ncell=ncell,
        sort_cells=np.maximum(np.floor(box / rcmax).astype(np.int64), 1),
    )
    _derived(arr)
    if arr.neighbour_lists:
        arr.e_part = verlet_energies(x, y, z, types, box, sig2, eps4, rc2, shift, nt, arr.nlist, arr.ncount)
    else:
        arr.e_part = blocked_energies(x, y, z, block, types, box, sig2, eps4, rc2, shift, nt)
    arr.etot[0] = 0.5 * arr.e_part.sum()
    return arr


def _derived(arr: _Arrays) -> None:
    """Data derived from the saved state: the Verlet lists."""
    if arr.neighbour_lists:
        arr.rebuild_lists()


def _fingerprint(model, state_n, t_start, t_end, n_sweeps, seed, delta, p_swap, swap_species, trace_every,  # noqa: PLR0913 - every parameter that changes the trajectory identifies a checkpoint
                 neighbour_lists):
    return repr((CHECKPOINT_VERSION, model.as_dict_params(), int(state_n), float(t_start), float(t_end),
                 int(n_sweeps), int(seed), float(delta), float(p_swap), swap_species, int(trace_every),
                 bool(neighbour_lists)))


def _save_checkpoint(path: Path, arr: _Arrays, fingerprint: str) -> None:
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez(tmp, fingerprint=np.array(fingerprint), sweep=np.array(arr.sweep),
             **{k: getattr(arr, k) for k in _Arrays._SAVED})
    os.replace(tmp, path)


def _load_checkpoint(path: Path, arr: _Arrays, fingerprint: str) -> bool:
    with np.load(path, allow_pickle=False) as f:
        if "fingerprint" not in f or str(f["fingerprint"]) != fingerprint:
            raise SurrogateInputError(
                f"checkpoint {path} belongs to a different run (model/temperatures/sweeps/seed/kernel or "
                "checkpoint version differ); delete it or use another checkpoint_path"
            )
        for k in _Arrays._SAVED:
            setattr(arr, k, np.array(f[k]))
        arr.sweep = int(f["sweep"])
    _derived(arr)
    return True


def swap_mc(  # noqa: PLR0913, PLR0915 - the kernel's Python wrapper (STYLE.md Kernels): checks, RNG, checkpoints
    structure,
    model: LJModel | None = None,
    t_start: float = C.T_HIGH,
    t_end: float = C.T_LOW,
    n_sweeps: int = 10_000,
    seed: int = 0,
    *,
    delta_r_max: float = C.DELTA_R_MAX,
    swap_fraction: float = C.SWAP_FRACTION,
    swap_species: str | None = C.SWAP_SPECIES,
    n_trace: int = DEFAULT_TRACE_POINTS,
    checkpoint_path: str | os.PathLike | None = None,
    checkpoint_every: int | None = None,
    stop_after: int | None = None,
    neighbour_lists: bool | None = None,
    skin: float = VERLET_SKIN,
    progress_every_s: float = 30.0,
) -> SwapMCResult:
    """Swap Monte Carlo of the LJ surrogate, T* linear in sweeps from ``t_start`` to ``t_end``.

    Parameters
    ----------
    structure
        Initial configuration (pymatgen Structure or ASE Atoms, Å, orthorhombic periodic cell).
    model
        LJ model (default :meth:`LJModel.paper`).
    t_start, t_end
        Reduced temperatures (> 0) of the first and last sweep; equal values give constant-T sampling.
    n_sweeps
        Number of sweeps (one sweep = N attempted moves), >= 1.
    seed
        Seed of the xoshiro256** stream (recorded in the result).
    delta_r_max
        Side of the cube of trial displacements (reduced length).
    swap_fraction
        Fraction of attempts that are swaps (paper: 0.2); 0 gives translation-only MC.
    swap_species
        Species that exchanges with all others (paper: Al); ``None`` disables swaps.
    n_trace
        Number of energy-trace points (evenly spaced in sweeps).
    checkpoint_path
        ``.npz`` file; if it exists (from the same run) the run resumes from it.
    checkpoint_every
        Sweeps between checkpoints (default: about every 1 % of the run, at least 1).
    stop_after
        Stop (after checkpointing) once this many sweeps were run in this call — for wall-time-limited
        queue slots; the result then has ``completed = False``.
    neighbour_lists
        Force/forbid Verlet lists (default: on for N >= 1000); off = all pairs, particles blocked by type.
        Both give the same Markov chain (same random numbers, same moves); only the summation order differs.
    skin
        Verlet skin (reduced length, > delta_r_max * sqrt(3)); changes the speed, never the result.
    progress_every_s
        Seconds between progress log lines.
    """
    model = model or LJModel.paper()
    validate_run(model, t_start, t_end, n_sweeps, delta_r_max, swap_fraction, swap_species, seed)
    n_sweeps = int(n_sweeps)
    state = to_reduced(structure, model)
    if state.box.min() < 2 * pair_tables(model)[4]:  # the minimum image would miss periodic images: sum them all
        from mlip_glass.surrogate.small_box import small_box_swap_mc

        logger.info("swap-MC: box %.3f < 2 r_cut: every periodic image summed (small_box, no checkpoints)",
                    state.box.min())
        return small_box_swap_mc(structure, model, t_start, t_end, n_sweeps, seed, delta_r_max=delta_r_max,
                                 swap_fraction=swap_fraction, swap_species=swap_species, n_trace=n_trace)
    n_trace, trace_every = trace_schedule(n_trace, n_sweeps)
    checkpoint_every = int(checkpoint_every or max(1, n_sweeps // 100))
    if checkpoint_every < 1:
        raise SurrogateInputError(f"checkpoint_every must be >= 1 sweep, got {checkpoint_every}")

    if not skin > delta_r_max * np.sqrt(3.0):
        raise SurrogateInputError(f"skin must exceed delta_r_max * sqrt(3) = {delta_r_max * np.sqrt(3.0):.4f} "
                                  f"(reduced length), got {skin}")
    arr = _setup(state, model, seed, swap_species, n_trace, neighbour_lists, skin)
    fp = _fingerprint(model, state.n_atoms, t_start, t_end, n_sweeps, seed, delta_r_max, swap_fraction,
                      swap_species, trace_every, arr.neighbour_lists)
    ckpt = Path(checkpoint_path) if checkpoint_path else None
    if ckpt is not None and ckpt.exists():
        _load_checkpoint(ckpt, arr, fp)
        logger.info("swap-MC resumed from %s at sweep %d / %d", ckpt, arr.sweep, n_sweeps)
    sig2, eps4, rc2, shift, _ = pair_tables(model)
    nt = model.n_types

    t0 = time.perf_counter()
    c0 = time.process_time()
    last_log = t0
    start_sweep = arr.sweep
    # the kernel runs in chunks of ~2e6 moves (progress log) that also stop at every checkpoint boundary;
    # all state lives in the arrays, so the chunking never changes the result
    chunk = max(1, 2_000_000 // state.n_atoms)
    resort_every = max(1, RESORT_EVERY_MOVES // state.n_atoms)
    while arr.sweep < n_sweeps:
        if arr.neighbour_lists and arr.sweep > 0 and arr.sweep % resort_every == 0:
            arr.resort()  # every chunk boundary is visited once per run, also by a resumed run
        stop = min(n_sweeps, (arr.sweep // chunk + 1) * chunk,
                   (arr.sweep // checkpoint_every + 1) * checkpoint_every,
                   (arr.sweep // resort_every + 1) * resort_every if arr.neighbour_lists else n_sweeps)
        early = False
        if stop_after is not None and stop >= start_sweep + int(stop_after):
            stop, early = start_sweep + int(stop_after), True
            if stop <= arr.sweep:
                break
        common = (arr.box, arr.e_part, arr.etot, sig2, eps4, rc2, shift, nt, arr.swap_list, arr.partner_list,
                  arr.rng, arr.sweep, stop, n_sweeps, float(t_start), float(t_end), float(delta_r_max),
                  float(swap_fraction), arr.trans_cnt, arr.swap_att, arr.swap_acc, trace_every, arr.trace_e,
                  arr.trace_t)
        if arr.neighbour_lists:
            gcount, gatoms, gcell, gslot = arr.grid
            status, arr.nlist, arr.ncount, *grid = run_verlet(
                arr.x, arr.y, arr.z, arr.types, arr.slot_of_site, *common, arr.rx, arr.ry, arr.rz,
                0.25 * arr.skin ** 2, arr.r2_list, arr.ncell, arr.nlist, arr.ncount, gcount, gatoms, gcell, gslot,
                arr.n_rebuild)
            arr.grid = tuple(grid)
        else:
            status = run_blocked(arr.x, arr.y, arr.z, arr.types, arr.block, arr.slot_of_site, arr.site_of_slot,
                                 *common)
        if status != STATUS_OK:
            raise RuntimeError(f"swap-MC kernel returned status {status}")
        arr.sweep = stop
        if ckpt is not None and (stop % checkpoint_every == 0 or stop == n_sweeps or early):
            _save_checkpoint(ckpt, arr, fp)
        if early:
            break
        now = time.perf_counter()
        if now - last_log >= progress_every_s:
            rate = (arr.sweep - start_sweep) * state.n_atoms / (now - t0)
            logger.info("swap-MC sweep %d / %d (%.1f %%), E/N = %.5f eps, %.3g moves/s", arr.sweep, n_sweeps,
                        100.0 * arr.sweep / n_sweeps, arr.etot[0] / state.n_atoms, rate)
            last_log = now
    wall = time.perf_counter() - t0
    cpu = time.process_time() - c0

    final = arr.site_state()
    e_red = float(arr.etot[0])
    return SwapMCResult(
        structure=from_reduced(final, model),
        energy=float(model.from_reduced_energy(e_red)),
        energy_reduced=e_red,
        n_sweeps=n_sweeps,
        sweeps_done=int(arr.sweep),
        t_start=float(t_start),
        t_end=float(t_end),
        seed=int(seed),
        trace_sweeps=(np.arange(1, n_trace + 1) * trace_every),
        trace_energy_per_atom=arr.trace_e / state.n_atoms,
        trace_temperature=arr.trace_t.copy(),
        acceptance=acceptance_summary(arr.trans_cnt, arr.swap_att, arr.swap_acc, model.species),
        rng_state=[int(v) for v in arr.rng],
        wall_time_s=wall,
        completed=arr.sweep >= n_sweeps,
        settings={"delta_r_max": delta_r_max, "swap_fraction": swap_fraction, "swap_species": swap_species,
                  "trace_every": trace_every, "neighbour_lists": arr.neighbour_lists,
                  "checkpoint_every": checkpoint_every,
                  "skin": arr.skin if arr.neighbour_lists else None,
                  "neighbour_list_refreshes": int(arr.n_rebuild[0]) if arr.neighbour_lists else None,
                  "neighbour_list_rebuilds": int(arr.n_rebuild[1]) if arr.neighbour_lists else None},
        cpu_time_s=cpu,
    )
