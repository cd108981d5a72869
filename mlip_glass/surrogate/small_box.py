"""Swap Monte Carlo in cells shorter than twice the LJ cutoff: DFT-size surrogate glasses (e.g. N = 24).

The main kernel (:func:`~mlip_glass.surrogate.swap_mc.swap_mc`) uses the minimum image, which needs every box
edge ≥ 2 r_cut,max (N ≥ 112 at the paper's ρ* = 1.75); it refuses smaller boxes. A first-principles code
affords only small cells, so the surrogate states it labels must be sampled *at that cell*: here every
periodic image within the cutoff is summed. The moves, the temperature ramp and the acceptance rule are the
paper's and the main kernel's (80 % translations in a cube of side ``delta_r_max``, 20 % swaps of a random
Al with a random Cu or Zr, Metropolis, T* linear in sweeps from ``t_start`` at sweep 0 to ``t_end`` at the last),
so only the energy sum differs. Cost per move ∝ N × images (24 atoms: ~1e6 moves/s), no checkpoints: a
1e5-sweep glass of 24 atoms takes seconds.
"""

from __future__ import annotations

import time

import numpy as np
from numba import njit

from mlip_glass.surrogate import constants as C
from mlip_glass.surrogate.mc_common import (
    DEFAULT_TRACE_POINTS,
    SwapMCResult,
    acceptance_summary,
    pair_tables,
    swap_partners,
    trace_schedule,
    validate_run,
)
from mlip_glass.surrogate.model import LJModel
from mlip_glass.surrogate.state import from_reduced, to_reduced


def image_shifts(box: np.ndarray, rcut: float) -> np.ndarray:
    """Lattice translations (M, 3) (reduced lengths) that can bring a minimum-image pair within ``rcut``: a
    minimum-image vector lies within half the box diagonal, so only shifts shorter than ``rcut`` + that count."""
    reach = [int(np.ceil((rcut + 0.5 * length) / length)) for length in box]
    grid = np.array(np.meshgrid(*[np.arange(-k, k + 1) for k in reach], indexing="ij")).reshape(3, -1).T
    shifts = grid * box[None, :]
    keep = np.linalg.norm(shifts, axis=1) < rcut + 0.5 * float(np.linalg.norm(box)) + 1e-12
    return np.ascontiguousarray(shifts[keep], dtype=float)


@njit(cache=True)
def _pair_sum(i, ti, xi, yi, zi, pos, types, box, shifts, sig2, eps4, rc2, shift, nt, skip):
    """Energy of a particle of type ``ti`` at (xi, yi, zi) with every other particle except ``i`` and ``skip``
    and all their periodic images within the cutoff (reduced units)."""
    e = 0.0
    for j in range(pos.shape[0]):
        if j == i or j == skip:
            continue
        k = ti * nt + types[j]
        dx = pos[j, 0] - xi
        dy = pos[j, 1] - yi
        dz = pos[j, 2] - zi
        dx -= box[0] * np.round(dx / box[0])
        dy -= box[1] * np.round(dy / box[1])
        dz -= box[2] * np.round(dz / box[2])
        for s in range(shifts.shape[0]):
            rx = dx + shifts[s, 0]
            ry = dy + shifts[s, 1]
            rz = dz + shifts[s, 2]
            r2 = rx * rx + ry * ry + rz * rz
            if r2 < rc2[k]:
                sr6 = (sig2[k] / r2) ** 3
                e += eps4[k] * (sr6 * sr6 - sr6) - shift[k]
    return e


@njit(cache=True)
def _self_images(ti, shifts, sig2, eps4, rc2, shift, nt):
    """Half the energy of a particle with its own periodic images (constant under translations; a swap
    exchanges it between the two particles, so it never changes the total)."""
    e = 0.0
    k = ti * nt + ti
    for s in range(shifts.shape[0]):
        r2 = shifts[s, 0] ** 2 + shifts[s, 1] ** 2 + shifts[s, 2] ** 2
        if 0.0 < r2 < rc2[k]:
            sr6 = (sig2[k] / r2) ** 3
            e += 0.5 * (eps4[k] * (sr6 * sr6 - sr6) - shift[k])
    return e


@njit(cache=True)
def total_energy(pos, types, box, shifts, sig2, eps4, rc2, shift, nt):
    """Total energy (reduced) with every periodic image within the cutoff."""
    e = 0.0
    for i in range(pos.shape[0]):
        e += 0.5 * _pair_sum(i, types[i], pos[i, 0], pos[i, 1], pos[i, 2], pos, types, box, shifts, sig2, eps4,
                             rc2, shift, nt, -1)
        e += _self_images(types[i], shifts, sig2, eps4, rc2, shift, nt)
    return e


@njit(cache=True)
def _run(pos, types, box, shifts, sig2, eps4, rc2, shift, nt, swap_list, partner_list, n_sweeps, t_start, t_end,
         delta, p_swap, seed, trace_every, trace_e, trace_t, trans_cnt, swap_att, swap_acc):
    """The Markov chain; ``trans_cnt`` = [attempted, accepted] translations, ``swap_att``/``swap_acc`` per type
    pair (swap species, partner); returns the final total energy (reduced)."""
    np.random.seed(seed)
    n = pos.shape[0]
    energy = total_energy(pos, types, box, shifts, sig2, eps4, rc2, shift, nt)
    can_swap = swap_list.shape[0] > 0 and partner_list.shape[0] > 0
    for sweep in range(n_sweeps):
        temp = t_start + (t_end - t_start) * (sweep / (n_sweeps - 1.0)) if n_sweeps > 1 else t_start
        beta = 1.0 / temp
        for _ in range(n):
            if can_swap and np.random.random() < p_swap:
                a = np.random.randint(swap_list.shape[0])
                b = np.random.randint(partner_list.shape[0])
                i, k = swap_list[a], partner_list[b]
                ti, tk = types[i], types[k]
                old = (_pair_sum(i, ti, pos[i, 0], pos[i, 1], pos[i, 2], pos, types, box, shifts, sig2, eps4, rc2,
                                 shift, nt, k)
                       + _pair_sum(k, tk, pos[k, 0], pos[k, 1], pos[k, 2], pos, types, box, shifts, sig2, eps4,
                                   rc2, shift, nt, i))
                new = (_pair_sum(i, tk, pos[i, 0], pos[i, 1], pos[i, 2], pos, types, box, shifts, sig2, eps4, rc2,
                                 shift, nt, k)
                       + _pair_sum(k, ti, pos[k, 0], pos[k, 1], pos[k, 2], pos, types, box, shifts, sig2, eps4,
                                   rc2, shift, nt, i))
                d_e = new - old
                swap_att[ti, tk] += 1
                if d_e <= 0.0 or np.random.random() < np.exp(-beta * d_e):
                    types[i], types[k] = tk, ti  # particle k now carries the swap species
                    swap_list[a], partner_list[b] = k, i
                    energy += d_e
                    swap_acc[ti, tk] += 1
            else:
                i = np.random.randint(n)
                x = (pos[i, 0] + delta * (np.random.random() - 0.5)) % box[0]
                y = (pos[i, 1] + delta * (np.random.random() - 0.5)) % box[1]
                z = (pos[i, 2] + delta * (np.random.random() - 0.5)) % box[2]
                old = _pair_sum(i, types[i], pos[i, 0], pos[i, 1], pos[i, 2], pos, types, box, shifts, sig2, eps4,
                                rc2, shift, nt, -1)
                new = _pair_sum(i, types[i], x, y, z, pos, types, box, shifts, sig2, eps4, rc2, shift, nt, -1)
                d_e = new - old
                trans_cnt[0] += 1
                if d_e <= 0.0 or np.random.random() < np.exp(-beta * d_e):
                    pos[i, 0], pos[i, 1], pos[i, 2] = x, y, z
                    energy += d_e
                    trans_cnt[1] += 1
        if (sweep + 1) % trace_every == 0:
            slot = (sweep + 1) // trace_every - 1
            if slot < trace_e.shape[0]:
                trace_e[slot] = energy
                trace_t[slot] = temp
    return energy


def small_box_swap_mc(
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
) -> SwapMCResult:
    """Swap Monte Carlo of the LJ surrogate with every periodic image summed (any box size).

    Same parameters and result as :func:`~mlip_glass.surrogate.swap_mc.swap_mc` (no checkpoints: small cells
    run in seconds). The chain differs from the main kernel's (another random stream), not its statistics.
    """
    model = model or LJModel.paper()
    validate_run(model, t_start, t_end, n_sweeps, delta_r_max, swap_fraction, swap_species, seed)
    n_sweeps = int(n_sweeps)
    state = to_reduced(structure, model)
    sig2, eps4, rc2, shift, rcmax = pair_tables(model)
    box = state.box.astype(float)
    shifts = image_shifts(box, rcmax)
    pos = np.ascontiguousarray(state.positions, dtype=float).copy()
    types = state.types.astype(np.int64).copy()
    swap_list, partner_list = swap_partners(types, model, swap_species)
    n_trace, trace_every = trace_schedule(n_trace, n_sweeps)
    trace_e, trace_t = np.zeros(n_trace), np.zeros(n_trace)
    nt = model.n_types
    trans_cnt = np.zeros(2, dtype=np.int64)
    swap_att, swap_acc = np.zeros((nt, nt), dtype=np.int64), np.zeros((nt, nt), dtype=np.int64)
    t0, c0 = time.perf_counter(), time.process_time()
    energy = _run(pos, types, box, shifts, sig2, eps4, rc2, shift, nt, swap_list, partner_list, n_sweeps,
                  float(t_start), float(t_end), float(delta_r_max), float(swap_fraction), int(seed), trace_every,
                  trace_e, trace_t, trans_cnt, swap_att, swap_acc)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    final = state.__class__(positions=pos, box=box, types=types)
    return SwapMCResult(
        structure=from_reduced(final, model),
        energy=float(model.from_reduced_energy(energy)),
        energy_reduced=float(energy),
        n_sweeps=n_sweeps,
        sweeps_done=n_sweeps,
        t_start=float(t_start),
        t_end=float(t_end),
        seed=int(seed),
        trace_sweeps=np.arange(1, n_trace + 1) * trace_every,
        trace_energy_per_atom=trace_e / len(types),
        trace_temperature=trace_t,
        acceptance=acceptance_summary(trans_cnt, swap_att, swap_acc, model.species),
        rng_state=[],
        wall_time_s=wall,
        completed=True,
        settings={"delta_r_max": delta_r_max, "swap_fraction": swap_fraction, "swap_species": swap_species,
                  "trace_every": trace_every, "kernel": "small_box", "image_shifts": int(len(shifts))},
        cpu_time_s=cpu,
    )
