"""BASELINE COPY (benchmarks only) of the swap-MC kernel before issue 15; do not edit. The numba swap Monte Carlo kernel (plain arrays in, plain arrays out; reduced units).

Moves (arXiv:2501.00589, Methods): a translation of a random particle by a vector uniform in a cube of
side ``delta``; a swap of the *types* of a random particle of the swap species (Al) and a random particle of
any other species (Zr <-> Al <-> Cu; Cu <-> Zr is never attempted). Metropolis acceptance. Swapping types
at fixed positions is the same move as exchanging the two particles' positions.

Bookkeeping: ``e_part[i]`` holds the pair energy of particle i with all others (sum over i = 2 E). A trial
move costs one O(neighbours) sum for the new state only (the old one is ``e_part``); the neighbours'
``e_part`` are updated only when the move is accepted. Candidate neighbours are all particles (small N,
one contiguous vectorised loop) or the 3x3x3 cells of a cell list (cell side >= the largest cutoff;
large N), so
the cost per move does not grow with N.

Floating-point determinism: the kernel draws all random numbers from :mod:`mlip_glass.surrogate.rng`
(state in an array) and every sum runs in a fixed order, so a run restored from the arrays it
checkpointed (positions, types, ``e_part``, running energy, RNG state, cell list) continues bit-identically.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from mlip_glass.surrogate.rng import randint, uniform

# fast-math without nnan/ninf: the self-pair lane (r = 0 -> inf) is masked by a select, never assumed away
FM = {"nsz", "arcp", "contract", "afn", "reassoc"}

STATUS_OK = 0
STATUS_CELL_OVERFLOW = 1


@njit(cache=True, error_model="numpy", fastmath=FM, inline="always")
def _u(r2, idx, sig2, eps4, rc2, shift):
    inv = sig2[idx] / r2
    sr6 = inv * inv * inv
    u = eps4[idx] * sr6 * (sr6 - 1.0) - shift[idx]
    return u if r2 < rc2[idx] else 0.0


@njit(cache=True, error_model="numpy", fastmath=FM, inline="always")
def _r2(dx, dy, dz, lx, ly, lz, ilx, ily, ilz):
    """Squared minimum-image length of the separation (dx, dy, dz) in an orthorhombic box."""
    dx -= lx * np.floor(dx * ilx + 0.5)
    dy -= ly * np.floor(dy * ily + 0.5)
    dz -= lz * np.floor(dz * ilz + 0.5)
    return dx * dx + dy * dy + dz * dz


@njit(cache=True, error_model="numpy", fastmath=FM)
def row_sum_all(x, y, z, types, px, py, pz, tp, skip1, skip2, box, sig2, eps4, rc2, shift, nt):
    """Sum over k of u(type tp at p, particle k), k != skip1, skip2 (all particles, minimum image)."""
    lx, ly, lz = box[0], box[1], box[2]
    ilx, ily, ilz = 1.0 / lx, 1.0 / ly, 1.0 / lz
    base = tp * nt
    s = 0.0
    for k in range(x.shape[0]):
        r2 = _r2(x[k] - px, y[k] - py, z[k] - pz, lx, ly, lz, ilx, ily, ilz)
        u = _u(r2, base + types[k], sig2, eps4, rc2, shift)
        s += u if (k != skip1 and k != skip2) else 0.0
    return s


@njit(cache=True, error_model="numpy", fastmath=FM)
def row_update_all(x, y, z, types, px, py, pz, t_old, qx, qy, qz, t_new, skip1, skip2, box,
                   sig2, eps4, rc2, shift, nt, e_part):
    """e_part[k] += u(t_new at q, k) - u(t_old at p, k) for all k != skip1, skip2."""
    lx, ly, lz = box[0], box[1], box[2]
    ilx, ily, ilz = 1.0 / lx, 1.0 / ly, 1.0 / lz
    bo = t_old * nt
    bn = t_new * nt
    for k in range(x.shape[0]):
        if k == skip1 or k == skip2:
            continue
        tk = types[k]
        r2 = _r2(x[k] - px, y[k] - py, z[k] - pz, lx, ly, lz, ilx, ily, ilz)
        uo = _u(r2, bo + tk, sig2, eps4, rc2, shift)
        r2 = _r2(x[k] - qx, y[k] - qy, z[k] - qz, lx, ly, lz, ilx, ily, ilz)
        un = _u(r2, bn + tk, sig2, eps4, rc2, shift)
        e_part[k] += un - uo


@njit(cache=True, error_model="numpy", inline="always")
def cell_of(px, py, pz, box, ncell):
    cx = min(np.int64(px / box[0] * ncell[0]), ncell[0] - 1)
    cy = min(np.int64(py / box[1] * ncell[1]), ncell[1] - 1)
    cz = min(np.int64(pz / box[2] * ncell[2]), ncell[2] - 1)
    return (cx * ncell[1] + cy) * ncell[2] + cz


@njit(cache=True, error_model="numpy")
def neighbour_cells(ncell, reach=1):
    """(n_cells, (2 reach + 1)^3) indices of each cell's periodic neighbourhood.

    With cells of side >= r_cut / reach, the neighbourhood holds every atom within r_cut; it needs
    >= 2 reach + 1 cells per axis (so no cell appears twice).
    """
    nx, ny, nz = ncell[0], ncell[1], ncell[2]
    width = 2 * reach + 1
    out = np.empty((nx * ny * nz, width ** 3), dtype=np.int64)
    for cx in range(nx):
        for cy in range(ny):
            for cz in range(nz):
                c = (cx * ny + cy) * nz + cz
                m = 0
                for ax in range(-reach, reach + 1):
                    for ay in range(-reach, reach + 1):
                        for az in range(-reach, reach + 1):
                            out[c, m] = (((cx + ax) % nx) * ny + (cy + ay) % ny) * nz + (cz + az) % nz
                            m += 1
    return out


@njit(cache=True, error_model="numpy")
def build_cells(x, y, z, types, box, ncell, capacity):
    """Cell list: count[c], atoms[c, slot] (ids), cpos[c, 3, slot] and ctyp[c, slot] (cell-ordered copies of
    positions and types, contiguous per cell so the neighbour loops vectorise), atom_cell, atom_slot.
    A count above ``capacity`` flags overflow."""
    nc = ncell[0] * ncell[1] * ncell[2]
    n = x.shape[0]
    count = np.zeros(nc, dtype=np.int64)
    atoms = np.full((nc, capacity), -1, dtype=np.int64)
    cpos = np.full((nc, 3, capacity), 1e30)
    ctyp = np.zeros((nc, capacity), dtype=np.int64)
    acell = np.empty(n, dtype=np.int64)
    aslot = np.empty(n, dtype=np.int64)
    for i in range(n):
        c = cell_of(x[i], y[i], z[i], box, ncell)
        sl = count[c]
        if sl < capacity:
            atoms[c, sl] = i
            cpos[c, 0, sl] = x[i]
            cpos[c, 1, sl] = y[i]
            cpos[c, 2, sl] = z[i]
            ctyp[c, sl] = types[i]
        acell[i] = c
        aslot[i] = sl
        count[c] += 1
    return count, atoms, cpos, ctyp, acell, aslot


@njit(cache=True, error_model="numpy", fastmath=FM)
def row_sum_cells(x, y, z, types, px, py, pz, tp, skip1, skip2, box, sig2, eps4, rc2, shift, nt,
                  ncell, count, atoms, cpos, ctyp, nbr):
    lx, ly, lz = box[0], box[1], box[2]
    ilx, ily, ilz = 1.0 / lx, 1.0 / ly, 1.0 / lz
    base = tp * nt
    c = cell_of(px, py, pz, box, ncell)
    s = 0.0
    for m in range(nbr.shape[1]):
        cc = nbr[c, m]
        for sl in range(count[cc]):
            k = atoms[cc, sl]
            r2 = _r2(cpos[cc, 0, sl] - px, cpos[cc, 1, sl] - py, cpos[cc, 2, sl] - pz, lx, ly, lz, ilx, ily, ilz)
            u = _u(r2, base + ctyp[cc, sl], sig2, eps4, rc2, shift)
            s += u if (k != skip1 and k != skip2) else 0.0
    return s


@njit(cache=True, error_model="numpy", fastmath=FM)
def row_add_cells(x, y, z, types, px, py, pz, tp, sign, skip1, skip2, box, sig2, eps4, rc2, shift, nt,
                  ncell, count, atoms, cpos, ctyp, nbr, e_part):
    """e_part[k] += sign * u(type tp at p, k) over the cell neighbourhood of p."""
    lx, ly, lz = box[0], box[1], box[2]
    ilx, ily, ilz = 1.0 / lx, 1.0 / ly, 1.0 / lz
    base = tp * nt
    c = cell_of(px, py, pz, box, ncell)
    for m in range(nbr.shape[1]):
        cc = nbr[c, m]
        for sl in range(count[cc]):
            k = atoms[cc, sl]
            if k == skip1 or k == skip2:
                continue
            r2 = _r2(cpos[cc, 0, sl] - px, cpos[cc, 1, sl] - py, cpos[cc, 2, sl] - pz, lx, ly, lz, ilx, ily, ilz)
            e_part[k] += sign * _u(r2, base + ctyp[cc, sl], sig2, eps4, rc2, shift)


@njit(cache=True, error_model="numpy")
def particle_energies(x, y, z, types, box, sig2, eps4, rc2, shift, nt, use_cells, ncell, count, atoms, cpos,
                      ctyp, nbr):
    """e_part[i] = sum_k u(i, k) from scratch (same code paths as the kernel)."""
    n = x.shape[0]
    e = np.empty(n)
    for i in range(n):
        if use_cells:
            e[i] = row_sum_cells(x, y, z, types, x[i], y[i], z[i], types[i], i, -1, box, sig2, eps4, rc2,
                                 shift, nt, ncell, count, atoms, cpos, ctyp, nbr)
        else:
            e[i] = row_sum_all(x, y, z, types, x[i], y[i], z[i], types[i], i, -1, box, sig2, eps4, rc2,
                               shift, nt)
    return e


@njit(cache=True, error_model="numpy")
def min_distance_ratio(x, y, z, types, box, sig, nt):
    """min over pairs of r_ij / sigma_ij (minimum image, O(N^2)); detects overlapping atoms."""
    n = x.shape[0]
    best = np.inf
    for i in range(n):
        for k in range(i + 1, n):
            r2 = _r2(x[k] - x[i], y[k] - y[i], z[k] - z[i], box[0], box[1], box[2], 1.0 / box[0], 1.0 / box[1],
                     1.0 / box[2])
            r = np.sqrt(r2) / sig[types[i] * nt + types[k]]
            if r < best:
                best = r
    return best


@njit(cache=True, error_model="numpy", fastmath=FM)
def run_sweeps(x, y, z, types, box, e_part, etot, sig2, eps4, rc2, shift, nt,
               swap_list, partner_list, rng, sweep_start, sweep_stop, n_sweeps_total,
               t_start, t_end, delta, p_swap, trans_cnt, swap_att, swap_acc,
               trace_every, trace_e, trace_t,
               use_cells, ncell, count, atoms, cpos, ctyp, atom_cell, atom_slot, nbr):
    """Run sweeps ``sweep_start .. sweep_stop-1`` of an ``n_sweeps_total``-sweep schedule, in place.

    T* of sweep s is linear from ``t_start`` (s = 0) to ``t_end`` (s = n_sweeps_total - 1). Every array
    argument is state that is updated in place (positions, types, e_part, etot[0], rng, counters, traces,
    cell list). Returns a status code (0 = ok, 1 = a cell exceeded its capacity).
    """
    n = x.shape[0]
    lx, ly, lz = box[0], box[1], box[2]
    n_s = swap_list.shape[0]
    n_p = partner_list.shape[0]
    ps = p_swap if (n_s > 0 and n_p > 0) else 0.0
    capacity = atoms.shape[1]
    for sweep in range(sweep_start, sweep_stop):
        if n_sweeps_total > 1:
            temp = t_start + (t_end - t_start) * (sweep / (n_sweeps_total - 1.0))
        else:
            temp = t_start
        beta = 1.0 / temp
        for _m in range(n):
            if uniform(rng) < ps:
                a = randint(rng, n_s)
                b = randint(rng, n_p)
                i = swap_list[a]
                j = partner_list[b]
                ti = types[i]
                tj = types[j]
                swap_att[ti, tj] += 1
                xi, yi, zi = x[i], y[i], z[i]
                xj, yj, zj = x[j], y[j], z[j]
                r2 = _r2(xj - xi, yj - yi, zj - zi, lx, ly, lz, 1.0 / lx, 1.0 / ly, 1.0 / lz)
                uij = _u(r2, ti * nt + tj, sig2, eps4, rc2, shift)
                if use_cells:
                    ni = row_sum_cells(x, y, z, types, xi, yi, zi, tj, i, j, box, sig2, eps4, rc2, shift, nt,
                                       ncell, count, atoms, cpos, ctyp, nbr)
                    nj = row_sum_cells(x, y, z, types, xj, yj, zj, ti, i, j, box, sig2, eps4, rc2, shift, nt,
                                       ncell, count, atoms, cpos, ctyp, nbr)
                else:
                    ni = row_sum_all(x, y, z, types, xi, yi, zi, tj, i, j, box, sig2, eps4, rc2, shift, nt)
                    nj = row_sum_all(x, y, z, types, xj, yj, zj, ti, i, j, box, sig2, eps4, rc2, shift, nt)
                de = ni + nj + 2.0 * uij - e_part[i] - e_part[j]
                if de <= 0.0 or uniform(rng) < np.exp(-beta * de):
                    if use_cells:
                        row_add_cells(x, y, z, types, xi, yi, zi, ti, -1.0, i, j, box, sig2, eps4, rc2, shift,
                                      nt, ncell, count, atoms, cpos, ctyp, nbr, e_part)
                        row_add_cells(x, y, z, types, xi, yi, zi, tj, 1.0, i, j, box, sig2, eps4, rc2, shift,
                                      nt, ncell, count, atoms, cpos, ctyp, nbr, e_part)
                        row_add_cells(x, y, z, types, xj, yj, zj, tj, -1.0, i, j, box, sig2, eps4, rc2, shift,
                                      nt, ncell, count, atoms, cpos, ctyp, nbr, e_part)
                        row_add_cells(x, y, z, types, xj, yj, zj, ti, 1.0, i, j, box, sig2, eps4, rc2, shift,
                                      nt, ncell, count, atoms, cpos, ctyp, nbr, e_part)
                    else:
                        row_update_all(x, y, z, types, xi, yi, zi, ti, xi, yi, zi, tj, i, j, box,
                                       sig2, eps4, rc2, shift, nt, e_part)
                        row_update_all(x, y, z, types, xj, yj, zj, tj, xj, yj, zj, ti, i, j, box,
                                       sig2, eps4, rc2, shift, nt, e_part)
                    e_part[i] = ni + uij
                    e_part[j] = nj + uij
                    types[i] = tj
                    types[j] = ti
                    if use_cells:
                        ctyp[atom_cell[i], atom_slot[i]] = tj
                        ctyp[atom_cell[j], atom_slot[j]] = ti
                    swap_list[a] = j
                    partner_list[b] = i
                    etot[0] += de
                    swap_acc[ti, tj] += 1
            else:
                i = randint(rng, n)
                trans_cnt[0] += 1
                ti = types[i]
                xo, yo, zo = x[i], y[i], z[i]
                xn = xo + (uniform(rng) - 0.5) * delta
                yn = yo + (uniform(rng) - 0.5) * delta
                zn = zo + (uniform(rng) - 0.5) * delta
                if xn < 0.0:
                    xn += lx
                elif xn >= lx:
                    xn -= lx
                if yn < 0.0:
                    yn += ly
                elif yn >= ly:
                    yn -= ly
                if zn < 0.0:
                    zn += lz
                elif zn >= lz:
                    zn -= lz
                if xn >= lx:
                    xn = 0.0
                if yn >= ly:
                    yn = 0.0
                if zn >= lz:
                    zn = 0.0
                if use_cells:
                    ni = row_sum_cells(x, y, z, types, xn, yn, zn, ti, i, -1, box, sig2, eps4, rc2, shift, nt,
                                       ncell, count, atoms, cpos, ctyp, nbr)
                else:
                    ni = row_sum_all(x, y, z, types, xn, yn, zn, ti, i, -1, box, sig2, eps4, rc2, shift, nt)
                de = ni - e_part[i]
                if de <= 0.0 or uniform(rng) < np.exp(-beta * de):
                    if use_cells:
                        row_add_cells(x, y, z, types, xo, yo, zo, ti, -1.0, i, -1, box, sig2, eps4, rc2, shift,
                                      nt, ncell, count, atoms, cpos, ctyp, nbr, e_part)
                        row_add_cells(x, y, z, types, xn, yn, zn, ti, 1.0, i, -1, box, sig2, eps4, rc2, shift,
                                      nt, ncell, count, atoms, cpos, ctyp, nbr, e_part)
                        cnew = cell_of(xn, yn, zn, box, ncell)
                        cold = atom_cell[i]
                        if cnew != cold:
                            if count[cnew] >= capacity:
                                return STATUS_CELL_OVERFLOW
                            lst = count[cold] - 1
                            last = atoms[cold, lst]
                            sl = atom_slot[i]
                            atoms[cold, sl] = last
                            cpos[cold, 0, sl] = cpos[cold, 0, lst]
                            cpos[cold, 1, sl] = cpos[cold, 1, lst]
                            cpos[cold, 2, sl] = cpos[cold, 2, lst]
                            ctyp[cold, sl] = ctyp[cold, lst]
                            atom_slot[last] = sl
                            atoms[cold, lst] = -1
                            cpos[cold, 0, lst] = 1e30
                            cpos[cold, 1, lst] = 1e30
                            cpos[cold, 2, lst] = 1e30
                            count[cold] -= 1
                            sl = count[cnew]
                            atoms[cnew, sl] = i
                            ctyp[cnew, sl] = ti
                            atom_slot[i] = sl
                            atom_cell[i] = cnew
                            count[cnew] += 1
                        cpos[cnew, 0, atom_slot[i]] = xn
                        cpos[cnew, 1, atom_slot[i]] = yn
                        cpos[cnew, 2, atom_slot[i]] = zn
                    else:
                        row_update_all(x, y, z, types, xo, yo, zo, ti, xn, yn, zn, ti, i, -1, box,
                                       sig2, eps4, rc2, shift, nt, e_part)
                    x[i] = xn
                    y[i] = yn
                    z[i] = zn
                    e_part[i] = ni
                    etot[0] += de
                    trans_cnt[1] += 1
        if (sweep + 1) % trace_every == 0:
            k = (sweep + 1) // trace_every - 1
            if k < trace_e.shape[0]:
                trace_e[k] = etot[0]
                trace_t[k] = temp
    return STATUS_OK


@njit(cache=True, error_model="numpy")
def random_positions(n, box, types, dmin2_table, nt, rng, max_tries):
    """Random sequential insertion with per-pair minimum distances (squared table); -1 on failure."""
    pos = np.empty((n, 3))
    for i in range(n):
        placed = False
        for _t in range(max_tries):
            px = uniform(rng) * box[0]
            py = uniform(rng) * box[1]
            pz = uniform(rng) * box[2]
            ok = True
            for k in range(i):
                r2 = _r2(pos[k, 0] - px, pos[k, 1] - py, pos[k, 2] - pz, box[0], box[1], box[2], 1.0 / box[0],
                         1.0 / box[1], 1.0 / box[2])
                if r2 < dmin2_table[types[i] * nt + types[k]]:
                    ok = False
                    break
            if ok:
                pos[i, 0] = px
                pos[i, 1] = py
                pos[i, 2] = pz
                placed = True
                break
        if not placed:
            return pos, i
    return pos, -1
