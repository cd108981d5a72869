"""The numba swap Monte Carlo kernels (plain arrays in, plain arrays out; reduced units).

Moves (arXiv:2501.00589, Methods): a translation of a random particle by a vector uniform in a cube of
side ``delta``; a swap of the species of a random particle of the swap species (Al) and a random particle
of any other species (Zr <-> Al <-> Cu; Cu <-> Zr is never attempted). Metropolis acceptance. Both kernels
draw the same random numbers for the same decisions (site picked by ``randint(n)``, swap partners from
``swap_list``/``partner_list`` of *site* ids), so they sample the same Markov chain.

Bookkeeping: ``e_part[i]`` holds the pair energy of particle i with all others (sum over i = 2 E). A trial
costs ONE pass over the candidates for the new state only (the old state is ``e_part``; at T* = 0.5 only
~7 % of translations and ~1 % of swaps are accepted, so a fused old/new trial pass would double the work);
an accepted move makes one old/new difference pass into a scratch array and adds it to the candidates'
``e_part``. A swap trial is one pass with both new rows (one accumulator).

Two kernels:

- :func:`run_blocked` (small N, all pairs): particles are kept in *slots* blocked by type (type t owns slots
  ``block[t] .. block[t+1]-1``), so each inner loop sees constant pair parameters and vectorises (AVX2 /
  AVX-512: loops with one reduction, or writing a separate scratch array; numba/LLVM does not vectorise a
  loop with two reductions or a read-modify-write of ``e_part`` here). The loops index *views* of a type
  block from 0: with ``for k in range(block[t], block[t + 1])`` numba cannot prove k >= 0 and adds
  negative-index wraparound to every access, and LLVM then vectorises with gathers instead of contiguous
  loads (1.8x slower). A swap exchanges the two slots' positions (the same move as exchanging the species
  of two sites) and updates the site <-> slot maps.
- :func:`run_verlet` (large N): particles renumbered in space (cell order) by the wrapper, one Verlet list
  per particle (pairs with |ref_i - ref_k| < r_cut,max + skin, reference positions ``ref``). A trial
  position farther than skin/2 from its particle's reference *refreshes that particle only*
  (:func:`refresh_particle`: new reference, new list from a cell grid of references, itself inserted into /
  removed from the neighbours' lists), so no O(N) rebuild ever happens in a run and the cost per move does
  not grow with N. Lists hold neighbours in increasing index order and every sum runs in that order
  without reassociation, so an entry beyond the cutoff adds exactly +0.0: the result does not depend on
  the skin or on when lists were refreshed (tested bit-identical), and a checkpoint does not store lists.
  The list sum is one scalar pass in list order (LLVM does not vectorise the gathers through the pair
  table; a separate ordered-sum pass was a pure chain of dependent additions). Memory: a trial reads its
  own particle from two rows, ``p4[s]`` = (x, y, z, type) and ``r4[s]`` = (reference x, y, z, e_part), and
  the next trial's particle (found by replaying the generator on a copy of its state) is prefetched during
  the current trial: rows, count and the first cache lines of its list. The wrapper re-sorts the particles
  in space at fixed sweeps (``RESORT_EVERY_MOVES``), so a diffusing liquid keeps its locality.

Floating-point determinism: all random numbers come from :mod:`mlip_glass.surrogate.rng` (state in an
array), sums run in a fixed order, so a run restored from its checkpointed arrays continues
bit-identically.
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

from mlip_glass.surrogate.rng import randint, uniform

# fast-math without nnan/ninf: the self-pair lane (r = 0 -> inf) is masked by a select, never assumed away
FM = {"nsz", "arcp", "contract", "afn", "reassoc"}
#: no reassociation: sums in list order (Verlet kernel; entries beyond the cutoff add exactly +0.0)
FM_ORDERED = {"nsz", "arcp", "contract", "afn"}

STATUS_OK = 0


@njit(cache=True, error_model="numpy", fastmath=FM, inline="always")
def _u(r2, idx, sig2, eps4, rc2, shift):
    inv = sig2[idx] / r2
    sr6 = inv * inv * inv
    u = eps4[idx] * sr6 * (sr6 - 1.0) - shift[idx]
    return u if r2 < rc2[idx] else 0.0


@njit(cache=True, error_model="numpy", fastmath=FM, inline="always")
def _uc(r2, s2, e4, c2, sh):
    """Pair energy with the parameters of one type pair as scalars (sigma^2, 4 eps, r_c^2, shift)."""
    inv = s2 / r2
    sr6 = inv * inv * inv
    u = e4 * sr6 * (sr6 - 1.0) - sh
    return u if r2 < c2 else 0.0


@njit(cache=True, error_model="numpy", fastmath=FM, inline="always")
def _r2(dx, dy, dz, lx, ly, lz, ilx, ily, ilz):
    """Squared minimum-image length of the separation (dx, dy, dz) in an orthorhombic box."""
    dx -= lx * np.floor(dx * ilx + 0.5)
    dy -= ly * np.floor(dy * ily + 0.5)
    dz -= lz * np.floor(dz * ilz + 0.5)
    return dx * dx + dy * dy + dz * dz


@njit(cache=True, error_model="numpy", inline="always")
def _wrap(v, length):
    """A coordinate displaced by less than one box length, mapped back into [0, length)."""
    if v < 0.0:
        v += length
    elif v >= length:
        v -= length
    return 0.0 if v >= length else v


@njit(cache=True, error_model="numpy", inline="always")
def _temperature(sweep, n_sweeps_total, t_start, t_end):
    if n_sweeps_total > 1:
        return t_start + (t_end - t_start) * (sweep / (n_sweeps_total - 1.0))
    return t_start


# ---------------------------------------------------------------------------------------------------
# small N: all pairs, particles blocked by type
# ---------------------------------------------------------------------------------------------------
@njit(cache=True, error_model="numpy", fastmath=FM)
def _row_blocked(x, y, z, block, tp, px, py, pz, skip1, skip2, box, sig2, eps4, rc2, shift, nt):
    """sum over slots k != skip1, skip2 of u(type tp at p, k): one vectorised loop per type block."""
    lx, ly, lz = box[0], box[1], box[2]
    ilx, ily, ilz = 1.0 / lx, 1.0 / ly, 1.0 / lz
    acc = 0.0
    for t in range(nt):
        p = tp * nt + t
        s2, e4, c2, sh = sig2[p], eps4[p], rc2[p], shift[p]
        b0 = block[t]
        xs, ys, zs = x[b0:block[t + 1]], y[b0:block[t + 1]], z[b0:block[t + 1]]
        k1, k2 = skip1 - b0, skip2 - b0
        for q in range(xs.shape[0]):  # q >= 0 is known: contiguous vector loads, no wraparound gathers
            r2 = _r2(xs[q] - px, ys[q] - py, zs[q] - pz, lx, ly, lz, ilx, ily, ilz)
            u = _uc(r2, s2, e4, c2, sh)
            acc += u if ((q != k1) & (q != k2)) else 0.0
    return acc


@njit(cache=True, error_model="numpy", fastmath=FM)
def _swap_row_blocked(x, y, z, block, ta, sa, tb, sb, box, sig2, eps4, rc2, shift, nt):
    """One pass for a swap trial: sum over slots k != sa, sb of u(ta at sb's position, k) + u(tb at sa's
    position, k) (one accumulator: a loop with two reductions does not vectorise)."""
    lx, ly, lz = box[0], box[1], box[2]
    ilx, ily, ilz = 1.0 / lx, 1.0 / ly, 1.0 / lz
    xa, ya, za = x[sa], y[sa], z[sa]
    xb, yb, zb = x[sb], y[sb], z[sb]
    acc = 0.0
    for t in range(nt):
        pa = ta * nt + t
        pb = tb * nt + t
        s2a, e4a, c2a, sha = sig2[pa], eps4[pa], rc2[pa], shift[pa]
        s2b, e4b, c2b, shb = sig2[pb], eps4[pb], rc2[pb], shift[pb]
        b0 = block[t]
        xs, ys, zs = x[b0:block[t + 1]], y[b0:block[t + 1]], z[b0:block[t + 1]]
        k1, k2 = sa - b0, sb - b0
        for q in range(xs.shape[0]):
            r2a = _r2(xs[q] - xa, ys[q] - ya, zs[q] - za, lx, ly, lz, ilx, ily, ilz)
            r2b = _r2(xs[q] - xb, ys[q] - yb, zs[q] - zb, lx, ly, lz, ilx, ily, ilz)
            u = _uc(r2b, s2a, e4a, c2a, sha) + _uc(r2a, s2b, e4b, c2b, shb)
            acc += u if ((q != k1) & (q != k2)) else 0.0
    return acc


@njit(cache=True, error_model="numpy", fastmath=FM)
def _diff_blocked(x, y, z, block, tp, xo, yo, zo, tq, xn, yn, zn, skip1, skip2, box, sig2, eps4, rc2, shift,
                  nt, scratch):
    """scratch[k] += u(tq at new, k) - u(tp at old, k) for every slot k != skip1, skip2 (zero ``scratch``
    first; a separate array rather than e_part, so that the loop vectorises)."""
    lx, ly, lz = box[0], box[1], box[2]
    ilx, ily, ilz = 1.0 / lx, 1.0 / ly, 1.0 / lz
    for t in range(nt):
        po = tp * nt + t
        pn = tq * nt + t
        s2o, e4o, c2o, sho = sig2[po], eps4[po], rc2[po], shift[po]
        s2n, e4n, c2n, shn = sig2[pn], eps4[pn], rc2[pn], shift[pn]
        b0 = block[t]
        xs, ys, zs = x[b0:block[t + 1]], y[b0:block[t + 1]], z[b0:block[t + 1]]
        ss = scratch[b0:block[t + 1]]
        k1, k2 = skip1 - b0, skip2 - b0
        for q in range(xs.shape[0]):
            r2o = _r2(xs[q] - xo, ys[q] - yo, zs[q] - zo, lx, ly, lz, ilx, ily, ilz)
            r2n = _r2(xs[q] - xn, ys[q] - yn, zs[q] - zn, lx, ly, lz, ilx, ily, ilz)
            d = _uc(r2n, s2n, e4n, c2n, shn) - _uc(r2o, s2o, e4o, c2o, sho)
            ss[q] += d if ((q != k1) & (q != k2)) else 0.0


@njit(cache=True, error_model="numpy", fastmath=FM)
def _add(e_part, scratch):
    for k in range(e_part.shape[0]):
        e_part[k] += scratch[k]


@njit(cache=True, error_model="numpy", fastmath=FM)
def blocked_energies(x, y, z, block, slot_type, box, sig2, eps4, rc2, shift, nt):
    """e_part[s] = sum_k u(s, k) from scratch, slot order (same pair code as the kernel)."""
    n = x.shape[0]
    lx, ly, lz = box[0], box[1], box[2]
    ilx, ily, ilz = 1.0 / lx, 1.0 / ly, 1.0 / lz
    e = np.empty(n)
    for s in range(n):
        ts = slot_type[s]
        acc = 0.0
        for t in range(nt):
            p = ts * nt + t
            s2, e4, c2, sh = sig2[p], eps4[p], rc2[p], shift[p]
            for k in range(block[t], block[t + 1]):
                r2 = _r2(x[k] - x[s], y[k] - y[s], z[k] - z[s], lx, ly, lz, ilx, ily, ilz)
                u = _uc(r2, s2, e4, c2, sh)
                acc += u if k != s else 0.0
        e[s] = acc
    return e


@njit(cache=True, error_model="numpy", fastmath=FM)
def run_blocked(x, y, z, slot_type, block, slot_of_site, site_of_slot, box, e_part, etot, sig2, eps4, rc2,
                shift, nt, swap_list, partner_list, rng, sweep_start, sweep_stop, n_sweeps_total,
                t_start, t_end, delta, p_swap, trans_cnt, swap_att, swap_acc, trace_every, trace_e, trace_t):
    """Run sweeps ``sweep_start .. sweep_stop-1`` of an ``n_sweeps_total``-sweep schedule, in place.

    Slot arrays (``x, y, z, e_part``; ``slot_type`` fixed, blocked by ``block``) and the site <-> slot
    permutation are updated in place, as are ``etot[0]``, ``rng``, the counters and traces. T* of sweep s
    is linear from ``t_start`` (s = 0) to ``t_end`` (s = n_sweeps_total - 1). Returns STATUS_OK.
    """
    n = x.shape[0]
    lx, ly, lz = box[0], box[1], box[2]
    ilx, ily, ilz = 1.0 / lx, 1.0 / ly, 1.0 / lz
    n_s = swap_list.shape[0]
    n_p = partner_list.shape[0]
    ps = p_swap if (n_s > 0 and n_p > 0) else 0.0
    scratch = np.zeros(n)
    for sweep in range(sweep_start, sweep_stop):
        temp = _temperature(sweep, n_sweeps_total, t_start, t_end)
        beta = 1.0 / temp
        for _m in range(n):
            if uniform(rng) < ps:
                a = randint(rng, n_s)
                b = randint(rng, n_p)
                i = swap_list[a]
                j = partner_list[b]
                si = slot_of_site[i]
                sj = slot_of_site[j]
                ti = slot_type[si]
                tj = slot_type[sj]
                swap_att[ti, tj] += 1
                xa, ya, za = x[si], y[si], z[si]
                xb, yb, zb = x[sj], y[sj], z[sj]
                uij = _u(_r2(xb - xa, yb - ya, zb - za, lx, ly, lz, ilx, ily, ilz), ti * nt + tj, sig2, eps4,
                         rc2, shift)
                nab = _swap_row_blocked(x, y, z, block, ti, si, tj, sj, box, sig2, eps4, rc2, shift, nt)
                de = nab + 2.0 * uij - e_part[si] - e_part[sj]
                if de <= 0.0 or uniform(rng) < np.exp(-beta * de):
                    # slot si (species ti) moves to b, slot sj (species tj) to a
                    na = _row_blocked(x, y, z, block, ti, xb, yb, zb, si, sj, box, sig2, eps4, rc2, shift, nt)
                    nb = _row_blocked(x, y, z, block, tj, xa, ya, za, si, sj, box, sig2, eps4, rc2, shift, nt)
                    scratch[:] = 0.0
                    _diff_blocked(x, y, z, block, ti, xa, ya, za, ti, xb, yb, zb, si, sj, box, sig2, eps4, rc2,
                                  shift, nt, scratch)
                    _diff_blocked(x, y, z, block, tj, xb, yb, zb, tj, xa, ya, za, si, sj, box, sig2, eps4, rc2,
                                  shift, nt, scratch)
                    _add(e_part, scratch)
                    e_part[si] = na + uij
                    e_part[sj] = nb + uij
                    x[si], y[si], z[si] = xb, yb, zb
                    x[sj], y[sj], z[sj] = xa, ya, za
                    # slot si now sits on site j, slot sj on site i
                    site_of_slot[si] = j
                    site_of_slot[sj] = i
                    slot_of_site[i] = sj
                    slot_of_site[j] = si
                    swap_list[a] = j
                    partner_list[b] = i
                    etot[0] += de
                    swap_acc[ti, tj] += 1
            else:
                s = slot_of_site[randint(rng, n)]
                trans_cnt[0] += 1
                ts = slot_type[s]
                xo, yo, zo = x[s], y[s], z[s]
                xn = _wrap(xo + (uniform(rng) - 0.5) * delta, lx)
                yn = _wrap(yo + (uniform(rng) - 0.5) * delta, ly)
                zn = _wrap(zo + (uniform(rng) - 0.5) * delta, lz)
                ni = _row_blocked(x, y, z, block, ts, xn, yn, zn, s, -1, box, sig2, eps4, rc2, shift, nt)
                de = ni - e_part[s]
                if de <= 0.0 or uniform(rng) < np.exp(-beta * de):
                    scratch[:] = 0.0
                    _diff_blocked(x, y, z, block, ts, xo, yo, zo, ts, xn, yn, zn, s, -1, box, sig2, eps4, rc2,
                                  shift, nt, scratch)
                    _add(e_part, scratch)
                    e_part[s] = ni
                    x[s] = xn
                    y[s] = yn
                    z[s] = zn
                    etot[0] += de
                    trans_cnt[1] += 1
        if (sweep + 1) % trace_every == 0:
            k = (sweep + 1) // trace_every - 1
            if k < trace_e.shape[0]:
                trace_e[k] = etot[0]
                trace_t[k] = temp
    return STATUS_OK


# ---------------------------------------------------------------------------------------------------
# large N: Verlet lists with a skin
# ---------------------------------------------------------------------------------------------------
@njit(cache=True, error_model="numpy")
def grid_cells(x, y, z, box, ncell):
    """Cell index (x-major) of every particle on an ncell[0] x ncell[1] x ncell[2] grid."""
    n = x.shape[0]
    out = np.empty(n, dtype=np.int64)
    for i in range(n):
        cx = min(np.int64(x[i] / box[0] * ncell[0]), ncell[0] - 1)
        cy = min(np.int64(y[i] / box[1] * ncell[1]), ncell[1] - 1)
        cz = min(np.int64(z[i] / box[2] * ncell[2]), ncell[2] - 1)
        out[i] = (cx * ncell[1] + cy) * ncell[2] + cz
    return out


@njit(cache=True, error_model="numpy", fastmath=FM_ORDERED)
def build_verlet(x, y, z, box, r2_list, ncell, capacity):
    """Verlet lists: ``(nlist (N, cap) int32, ncount (N,))`` with every k within sqrt(r2_list) of i
    (minimum image) in ``nlist[i, :ncount[i]]``, in increasing index order. A cell grid (>= 3 cells per
    axis) makes it O(N), else all pairs. The capacity grows as needed."""
    n = x.shape[0]
    lx, ly, lz = box[0], box[1], box[2]
    ilx, ily, ilz = 1.0 / lx, 1.0 / ly, 1.0 / lz
    nx, ny, nz = ncell[0], ncell[1], ncell[2]
    use_grid = nx >= 3 and ny >= 3 and nz >= 3
    nc = nx * ny * nz if use_grid else 1
    cell = grid_cells(x, y, z, box, ncell) if use_grid else np.zeros(n, dtype=np.int64)
    start = np.zeros(nc + 1, dtype=np.int64)
    for i in range(n):
        start[cell[i] + 1] += 1
    for c in range(nc):
        start[c + 1] += start[c]
    fill = start[:-1].copy()
    members = np.empty(n, dtype=np.int64)
    for i in range(n):  # ascending i: each cell's members in increasing index order
        members[fill[cell[i]]] = i
        fill[cell[i]] += 1
    cap = max(capacity, 1)
    while True:
        nlist = np.empty((n, cap), dtype=np.int32)
        ncount = np.zeros(n, dtype=np.int64)
        # i ascending and "append i to k's list": every list comes out sorted
        for i in range(n):
            xi, yi, zi = x[i], y[i], z[i]
            if use_grid:
                c = cell[i]
                cx = c // (ny * nz)
                cy = (c // nz) % ny
                cz = c % nz
                n_nb = 27
            else:
                cx = cy = cz = 0
                n_nb = 1
            for m in range(n_nb):
                if use_grid:
                    ax = (cx + m // 9 - 1) % nx
                    ay = (cy + (m // 3) % 3 - 1) % ny
                    az = (cz + m % 3 - 1) % nz
                    cc = (ax * ny + ay) * nz + az
                else:
                    cc = 0
                for q in range(start[cc], start[cc + 1]):
                    k = members[q]
                    if k == i:
                        continue
                    r2 = _r2(x[k] - xi, y[k] - yi, z[k] - zi, lx, ly, lz, ilx, ily, ilz)
                    if r2 < r2_list:
                        c_k = ncount[k]
                        if c_k < cap:
                            nlist[k, c_k] = i
                        ncount[k] = c_k + 1
        most = ncount.max() if n > 0 else 0
        if most <= cap:
            return nlist, ncount
        cap = most + most // 4 + 8


@njit(cache=True, error_model="numpy")
def build_grid(x, y, z, box, ncell, capacity):
    """Cell grid of the reference positions: ``(gcount (nc,), gatoms (nc, cap), gcell (N,), gslot (N,))``;
    the capacity grows as needed."""
    n = x.shape[0]
    nc = ncell[0] * ncell[1] * ncell[2]
    gcell = grid_cells(x, y, z, box, ncell)
    gcount = np.zeros(nc, dtype=np.int64)
    for i in range(n):
        gcount[gcell[i]] += 1
    cap = max(capacity, gcount.max() + 4)
    gatoms = np.empty((nc, cap), dtype=np.int64)
    gslot = np.empty(n, dtype=np.int64)
    gcount[:] = 0
    for i in range(n):
        c = gcell[i]
        gatoms[c, gcount[c]] = i
        gslot[i] = gcount[c]
        gcount[c] += 1
    return gcount, gatoms, gcell, gslot


@njit(cache=True, error_model="numpy")
def refresh_particle(s, x, y, z, rx, ry, rz, box, r2_list, ncell, nlist, ncount, gcount, gatoms, gcell, gslot,
                     buf):
    """Local Verlet update: particle s gets its current position as reference, its list is recomputed from
    the reference grid and s is inserted into / removed from its neighbours' sorted lists, so the lists stay
    exactly {(i, k): |ref_i - ref_k| < r_list}. Returns False if a capacity is exceeded (then rebuild all)."""
    lx, ly, lz = box[0], box[1], box[2]
    ilx, ily, ilz = 1.0 / lx, 1.0 / ly, 1.0 / lz
    nx, ny, nz = ncell[0], ncell[1], ncell[2]
    cap = nlist.shape[1]
    xs, ys, zs = x[s], y[s], z[s]
    rx[s], ry[s], rz[s] = xs, ys, zs
    cx = min(np.int64(xs / lx * nx), nx - 1)
    cy = min(np.int64(ys / ly * ny), ny - 1)
    cz = min(np.int64(zs / lz * nz), nz - 1)
    c_new = (cx * ny + cy) * nz + cz
    c_old = gcell[s]
    if c_new != c_old:
        if gcount[c_new] >= gatoms.shape[1]:
            return False
        last = gatoms[c_old, gcount[c_old] - 1]
        gatoms[c_old, gslot[s]] = last
        gslot[last] = gslot[s]
        gcount[c_old] -= 1
        gatoms[c_new, gcount[c_new]] = s
        gslot[s] = gcount[c_new]
        gcount[c_new] += 1
        gcell[s] = c_new
    m = 0
    for q in range(27):
        ax = (cx + q // 9 - 1) % nx
        ay = (cy + (q // 3) % 3 - 1) % ny
        az = (cz + q % 3 - 1) % nz
        cc = (ax * ny + ay) * nz + az
        for w in range(gcount[cc]):
            k = gatoms[cc, w]
            if k == s:
                continue
            if _r2(rx[k] - xs, ry[k] - ys, rz[k] - zs, lx, ly, lz, ilx, ily, ilz) < r2_list:
                if m >= cap:
                    return False
                buf[m] = k
                m += 1
    buf[:m].sort()
    # merge the old and the new sorted lists of s: drop s from lost neighbours, insert it into new ones
    old = nlist[s]
    mo = ncount[s]
    a = 0
    b = 0
    while a < mo or b < m:
        if b >= m or (a < mo and old[a] < buf[b]):
            k = old[a]  # lost: remove s from k's list
            row = nlist[k]
            c = ncount[k]
            w = 0
            while row[w] != s:
                w += 1
            for v in range(w, c - 1):
                row[v] = row[v + 1]
            ncount[k] = c - 1
            a += 1
        elif a >= mo or buf[b] < old[a]:
            k = buf[b]  # new: insert s into k's list in order
            row = nlist[k]
            c = ncount[k]
            if c >= cap:
                return False
            w = c
            while w > 0 and row[w - 1] > s:
                row[w] = row[w - 1]
                w -= 1
            row[w] = s
            ncount[k] = c + 1
            b += 1
        else:
            a += 1
            b += 1
    for v in range(m):
        old[v] = buf[v]
    ncount[s] = m
    return True


@njit(cache=True, error_model="numpy", fastmath=FM_ORDERED)
def _list_sum(p4, nlist, row, m, tp, px, py, pz, skip, box, sig2, eps4, rc2, shift, nt):
    """sum of u(type tp at p, k) over k = nlist[row, q] != skip, q < m, in list order (no reassociation; one pass:
    the loop gathers rows of ``p4`` = (x, y, z, type), one cache line per neighbour, and is not vectorised,
    so the dependent additions overlap with the pair arithmetic instead of forming a second pass)."""
    lx, ly, lz = box[0], box[1], box[2]
    ilx, ily, ilz = 1.0 / lx, 1.0 / ly, 1.0 / lz
    base = tp * nt
    acc = 0.0
    for q in range(m):
        k = nlist[row, q]
        ku = np.uint64(k)  # unsigned index: no negative-index wraparound code
        r2 = _r2(p4[ku, 0] - px, p4[ku, 1] - py, p4[ku, 2] - pz, lx, ly, lz, ilx, ily, ilz)
        u = _u(r2, base + np.int64(p4[ku, 3]), sig2, eps4, rc2, shift)
        acc += u if k != skip else 0.0
    return acc


@njit(cache=True, error_model="numpy", fastmath=FM)
def _list_diff(p4, nlist, row, m, tp, xo, yo, zo, tq, xn, yn, zn, skip, box, sig2, eps4, rc2, shift, nt,
               scratch):
    """Accepted move: scratch[q] = u(tq at new, k) - u(tp at old, k) for k = nlist[row, q] != skip, q < m."""
    lx, ly, lz = box[0], box[1], box[2]
    ilx, ily, ilz = 1.0 / lx, 1.0 / ly, 1.0 / lz
    bo = tp * nt
    bn = tq * nt
    for q in range(m):
        k = nlist[row, q]
        ku = np.uint64(k)
        tk = np.int64(p4[ku, 3])
        xk, yk, zk = p4[ku, 0], p4[ku, 1], p4[ku, 2]
        r2o = _r2(xk - xo, yk - yo, zk - zo, lx, ly, lz, ilx, ily, ilz)
        r2n = _r2(xk - xn, yk - yn, zk - zn, lx, ly, lz, ilx, ily, ilz)
        d = _u(r2n, bn + tk, sig2, eps4, rc2, shift) - _u(r2o, bo + tk, sig2, eps4, rc2, shift)
        scratch[q] = d if k != skip else 0.0


@njit(cache=True, error_model="numpy")
def _scatter_add(r4, nlist, row, m, scratch):
    """r4[k, 3] (= e_part[k]) += scratch[q] for k = nlist[row, q], q < m."""
    for q in range(m):
        r4[np.uint64(nlist[row, q]), 3] += scratch[q]


@njit(cache=True, error_model="numpy", fastmath=FM_ORDERED)
def verlet_energies(x, y, z, types, box, sig2, eps4, rc2, shift, nt, nlist, ncount):
    """e_part[i] = sum over i's Verlet list of u(i, k), in list order (independent of the skin)."""
    n = x.shape[0]
    e = np.empty(n)
    lx, ly, lz = box[0], box[1], box[2]
    for i in range(n):
        m = ncount[i]
        acc = 0.0
        for q in range(m):
            k = nlist[i, q]
            r2 = _r2(x[k] - x[i], y[k] - y[i], z[k] - z[i], lx, ly, lz, 1.0 / lx, 1.0 / ly, 1.0 / lz)
            acc += _u(r2, types[i] * nt + types[k], sig2, eps4, rc2, shift)
        e[i] = acc
    return e


@intrinsic
def _prefetch(typingctx, arr, idx):
    """Software prefetch (llvm.prefetch: read, keep in all cache levels) of element ``idx`` of the flat
    data of a C-contiguous array; no effect on results."""
    if not isinstance(arr, types.Array) or not isinstance(idx, types.Integer):
        return None

    def codegen(context, builder, signature, args):
        ary = context.make_array(signature.args[0])(context, builder, args[0])
        i = context.cast(builder, args[1], signature.args[1], types.intp)
        ptr = builder.bitcast(builder.gep(ary.data, [i]), ir.IntType(8).as_pointer())
        i32 = ir.IntType(32)
        fnty = ir.FunctionType(ir.VoidType(), [ptr.type, i32, i32, i32])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.prefetch.p0")
        builder.call(fn, [ptr, i32(0), i32(3), i32(1)])
        return context.get_dummy_value()

    return types.void(arr, idx), codegen


#: int32 entries of a Verlet row prefetched for an upcoming trial (7 cache lines; lists hold ~90 entries)
PREFETCH_ROW = 112


@njit(cache=True, error_model="numpy", inline="always")
def _prefetch_particle(s, p4, nlist, ncount, r4):
    """Prefetch what a trial of particle s reads first: its p4 and r4 rows, Verlet row and count."""
    _prefetch(p4, 4 * s)
    _prefetch(r4, 4 * s)
    _prefetch(ncount, s)
    base = s * nlist.shape[1]
    for w in range(0, min(PREFETCH_ROW, nlist.shape[1]), 16):
        _prefetch(nlist, base + w)


@njit(cache=True, error_model="numpy", inline="always")
def _prefetch_next(rng, peek, ps, n, n_s, n_p, swap_list, partner_list, slot_of_site, p4, nlist, ncount, r4):
    """Prefetch the particle(s) of the next trial without touching ``rng``: called after the current trial's
    last proposal draw, it replays the generator on a copy of its state (``peek``), skipping the one
    acceptance draw the current trial makes if dE > 0 (~95 % of trials at T* = 0.5; otherwise the prefetch
    is simply wasted). Prefetching both cases cost more than it saved. The chain is unchanged."""
    for w in range(4):
        peek[w] = rng[w]
    uniform(peek)
    if uniform(peek) < ps:
        a = randint(peek, n_s)
        b = randint(peek, n_p)
        _prefetch_particle(slot_of_site[swap_list[a]], p4, nlist, ncount, r4)
        _prefetch_particle(slot_of_site[partner_list[b]], p4, nlist, ncount, r4)
    else:
        _prefetch_particle(slot_of_site[randint(peek, n)], p4, nlist, ncount, r4)


@njit(cache=True, error_model="numpy", fastmath=FM_ORDERED)
def run_verlet(x, y, z, types, slot_of_site, box, e_part, etot, sig2, eps4, rc2, shift, nt,
               swap_list, partner_list, rng, sweep_start, sweep_stop, n_sweeps_total,
               t_start, t_end, delta, p_swap, trans_cnt, swap_att, swap_acc, trace_every, trace_e, trace_t,
               rx, ry, rz, half_skin2, r2_list, ncell, nlist, ncount, gcount, gatoms, gcell, gslot, n_rebuild):
    """As :func:`run_blocked`, with Verlet lists (``nlist``, ``ncount``, reference positions ``rx, ry, rz``
    and their cell grid ``gcount, gatoms, gcell, gslot``; see :func:`refresh_particle`).

    Particles are in the wrapper's spatial order (``slot_of_site`` maps site ids to it; species move on a
    swap, positions do not). A trial position farther than sqrt(half_skin2) from its particle's reference
    refreshes that particle (``n_rebuild[0]`` counts them; ``n_rebuild[1]`` the full rebuilds, when a
    capacity is exceeded or the box holds < 3 grid cells per axis). Returns ``(STATUS_OK, nlist, ncount,
    gcount, gatoms, gcell, gslot)``: arrays may have been reallocated with a larger capacity.
    """
    n = x.shape[0]
    lx, ly, lz = box[0], box[1], box[2]
    ilx, ily, ilz = 1.0 / lx, 1.0 / ly, 1.0 / lz
    n_s = swap_list.shape[0]
    n_p = partner_list.shape[0]
    ps = p_swap if (n_s > 0 and n_p > 0) else 0.0
    scratch = np.empty(nlist.shape[1])
    scratch_i = np.empty(nlist.shape[1], dtype=np.int32)
    use_grid = ncell[0] >= 3 and ncell[1] >= 3 and ncell[2] >= 3
    p4 = np.empty((n, 4))  # interleaved copy for the neighbour loops
    for k in range(n):
        p4[k, 0] = x[k]
        p4[k, 1] = y[k]
        p4[k, 2] = z[k]
        p4[k, 3] = types[k]
    # what a trial reads of its own particle in one cache line: reference position and e_part
    r4 = np.empty((n, 4))
    for k in range(n):
        r4[k, 0] = rx[k]
        r4[k, 1] = ry[k]
        r4[k, 2] = rz[k]
        r4[k, 3] = e_part[k]
    peek = np.empty_like(rng)
    for sweep in range(sweep_start, sweep_stop):
        temp = _temperature(sweep, n_sweeps_total, t_start, t_end)
        beta = 1.0 / temp
        for _m in range(n):
            if uniform(rng) < ps:
                a = randint(rng, n_s)
                b = randint(rng, n_p)
                i = swap_list[a]
                j = partner_list[b]
                si = slot_of_site[i]
                sj = slot_of_site[j]
                _prefetch_next(rng, peek, ps, n, n_s, n_p, swap_list, partner_list, slot_of_site, p4, nlist,
                               ncount, r4)
                ti = np.int64(p4[si, 3])
                tj = np.int64(p4[sj, 3])
                swap_att[ti, tj] += 1
                mi = ncount[si]
                mj = ncount[sj]
                xa, ya, za = p4[si, 0], p4[si, 1], p4[si, 2]
                xb, yb, zb = p4[sj, 0], p4[sj, 1], p4[sj, 2]
                uij = _u(_r2(xb - xa, yb - ya, zb - za, lx, ly, lz, ilx, ily, ilz), ti * nt + tj, sig2, eps4,
                         rc2, shift)
                na = _list_sum(p4, nlist, si, mi, tj, xa, ya, za, sj, box, sig2, eps4, rc2, shift, nt)
                nb = _list_sum(p4, nlist, sj, mj, ti, xb, yb, zb, si, box, sig2, eps4, rc2, shift, nt)
                de = na + nb + 2.0 * uij - r4[si, 3] - r4[sj, 3]
                if de <= 0.0 or uniform(rng) < np.exp(-beta * de):
                    _list_diff(p4, nlist, si, mi, ti, xa, ya, za, tj, xa, ya, za, sj, box, sig2, eps4,
                               rc2, shift, nt, scratch)
                    _scatter_add(r4, nlist, si, mi, scratch)
                    _list_diff(p4, nlist, sj, mj, tj, xb, yb, zb, ti, xb, yb, zb, si, box, sig2, eps4,
                               rc2, shift, nt, scratch)
                    _scatter_add(r4, nlist, sj, mj, scratch)
                    r4[si, 3] = na + uij
                    r4[sj, 3] = nb + uij
                    types[si] = tj
                    types[sj] = ti
                    p4[si, 3] = tj
                    p4[sj, 3] = ti
                    swap_list[a] = j
                    partner_list[b] = i
                    etot[0] += de
                    swap_acc[ti, tj] += 1
            else:
                s = slot_of_site[randint(rng, n)]
                trans_cnt[0] += 1
                ts = np.int64(p4[s, 3])
                xo, yo, zo = p4[s, 0], p4[s, 1], p4[s, 2]
                xn = _wrap(xo + (uniform(rng) - 0.5) * delta, lx)
                yn = _wrap(yo + (uniform(rng) - 0.5) * delta, ly)
                zn = _wrap(zo + (uniform(rng) - 0.5) * delta, lz)
                _prefetch_next(rng, peek, ps, n, n_s, n_p, swap_list, partner_list, slot_of_site, p4, nlist,
                               ncount, r4)
                if _r2(xn - r4[s, 0], yn - r4[s, 1], zn - r4[s, 2], lx, ly, lz, ilx, ily, ilz) > half_skin2:
                    # s would leave its sphere: s alone gets a new reference (all lists, if no grid or full)
                    n_rebuild[0] += 1
                    if not (use_grid and refresh_particle(s, x, y, z, rx, ry, rz, box, r2_list, ncell, nlist,
                                                          ncount, gcount, gatoms, gcell, gslot, scratch_i)):
                        nlist, ncount = build_verlet(x, y, z, box, r2_list, ncell,
                                                     nlist.shape[1] + (nlist.shape[1] // 4 if use_grid else 0))
                        rx[:] = x
                        ry[:] = y
                        rz[:] = z
                        if use_grid:
                            gcount, gatoms, gcell, gslot = build_grid(rx, ry, rz, box, ncell, gatoms.shape[1])
                        for k in range(n):
                            r4[k, 0] = rx[k]
                            r4[k, 1] = ry[k]
                            r4[k, 2] = rz[k]
                        n_rebuild[1] += 1
                        if scratch.shape[0] < nlist.shape[1]:
                            scratch = np.empty(nlist.shape[1])
                            scratch_i = np.empty(nlist.shape[1], dtype=np.int32)
                    r4[s, 0] = rx[s]
                    r4[s, 1] = ry[s]
                    r4[s, 2] = rz[s]
                m = ncount[s]
                ni = _list_sum(p4, nlist, s, m, ts, xn, yn, zn, -1, box, sig2, eps4, rc2, shift, nt)
                de = ni - r4[s, 3]
                if de <= 0.0 or uniform(rng) < np.exp(-beta * de):
                    _list_diff(p4, nlist, s, m, ts, xo, yo, zo, ts, xn, yn, zn, -1, box, sig2, eps4,
                               rc2, shift, nt, scratch)
                    _scatter_add(r4, nlist, s, m, scratch)
                    r4[s, 3] = ni
                    x[s] = xn
                    y[s] = yn
                    z[s] = zn
                    p4[s, 0] = xn
                    p4[s, 1] = yn
                    p4[s, 2] = zn
                    etot[0] += de
                    trans_cnt[1] += 1
        if (sweep + 1) % trace_every == 0:
            k = (sweep + 1) // trace_every - 1
            if k < trace_e.shape[0]:
                trace_e[k] = etot[0]
                trace_t[k] = temp
    for k in range(n):
        e_part[k] = r4[k, 3]
    return STATUS_OK, nlist, ncount, gcount, gatoms, gcell, gslot


# ---------------------------------------------------------------------------------------------------
# set-up helpers
# ---------------------------------------------------------------------------------------------------
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
