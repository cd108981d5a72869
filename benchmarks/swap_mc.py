"""Swap-MC throughput: numba kernel vs a straightforward numpy implementation and LAMMPS fix atom/swap.

Attempted moves per CPU-second (process time, so that other jobs sharing the core do not count) on one core, 80/20 translation/swap mix at constant T* = 0.5, for N = 150,
1500, 15000 (rho* = 1.75, Cu0.46 Zr0.46 Al0.08). Baselines are measured in the same run:

- numpy: the same moves with vectorised O(N) energy differences per move (both old and new sums);
- LAMMPS ``fix atom/swap`` (types Al<->Cu and Al<->Zr, ``ke no``) on the same model: swap attempts/s,
  compared with the kernel's swap-only rate (``swap_fraction = 1``).

Usage:  python benchmarks/swap_mc.py [--sizes 150 1500 15000] [--seconds 3] [--parallel 2]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import time

import numpy as np

from mlip_glass.surrogate.lammps_md import lammps_for
from mlip_glass.surrogate.model import LJModel
from mlip_glass.surrogate.state import random_liquid, to_reduced
from mlip_glass.surrogate.swap_mc import swap_mc

TEMPERATURE = 0.5


#: preparation of the measured state, identical for every N: sweeps at T* = 4 (liquid), a linear quench
#: to T* = 0.5 and ageing there. The measured runs then have the same length in sweeps for every N >= 1000
#: (MEASURE_SWEEPS, repeated from the same state): a quenched state ages, and its acceptance rate (hence
#: the cost of accepted moves) depends on how long it has aged, not on N.
PREP_LIQUID_SWEEPS = 30
PREP_QUENCH_SWEEPS = 30
PREP_AGE_SWEEPS = 20
MEASURE_SWEEPS = 20


def prepared_state(n: int, model: LJModel):
    """A random liquid relaxed at T* = 4 and quenched to T* = 0.5 by the same protocol for every N."""
    s = random_liquid(n, seed=1, model=model)
    s = swap_mc(s, model, 4.0, 4.0, PREP_LIQUID_SWEEPS, seed=2).structure
    s = swap_mc(s, model, 4.0, TEMPERATURE, PREP_QUENCH_SWEEPS, seed=3).structure
    return swap_mc(s, model, TEMPERATURE, TEMPERATURE, PREP_AGE_SWEEPS, seed=4).structure


def numba_rate(structure, model, sweeps, swap_fraction=0.2, seconds=0.0):
    """Attempted moves per CPU-second of the sweeps (set-up excluded); runs of ``sweeps`` from the same
    state are repeated until ``seconds`` of CPU time have accumulated."""
    swap_mc(structure, model, TEMPERATURE, TEMPERATURE, 1, seed=3, swap_fraction=swap_fraction)  # warm-up
    cpu, moves = 0.0, 0
    while True:
        res = swap_mc(structure, model, TEMPERATURE, TEMPERATURE, sweeps, seed=5, swap_fraction=swap_fraction)
        cpu += res.cpu_time_s
        moves += sweeps * len(structure)
        if cpu >= seconds:
            return moves / cpu, res


class NumpySwapMC:
    """Reference implementation: same moves, energy differences from full O(N) numpy sums each move."""

    def __init__(self, structure, model: LJModel, seed: int = 0):
        st = to_reduced(structure, model)
        t = model.pair_tables()
        self.pos, self.box, self.types = st.positions.copy(), st.box, st.types.copy()
        self.sig2, self.eps4, self.rc2, self.shift = t["sigma"] ** 2, 4 * t["epsilon"], t["rcut"] ** 2, t["shift"]
        self.rng = np.random.default_rng(seed)
        al = model.species.index("Al")
        self.al = al

    def _e(self, p, tp, skip):
        d = self.pos - p
        d -= self.box * np.round(d / self.box)
        r2 = np.einsum("ij,ij->i", d, d)
        r2[skip] = np.inf
        s2 = self.sig2[tp, self.types] / r2
        s6 = s2 ** 3
        u = np.where(r2 < self.rc2[tp, self.types], self.eps4[tp, self.types] * s6 * (s6 - 1) - self.shift[tp, self.types], 0.0)
        return u.sum()

    def run(self, n_moves, temperature):
        rng, n = self.rng, len(self.types)
        for _ in range(n_moves):
            if rng.random() < 0.2:
                ia = np.flatnonzero(self.types == self.al)
                io = np.flatnonzero(self.types != self.al)
                i, j = rng.choice(ia), rng.choice(io)
                ti, tj = self.types[i], self.types[j]
                old = self._e(self.pos[i], ti, [i, j]) + self._e(self.pos[j], tj, [i, j])
                new = self._e(self.pos[i], tj, [i, j]) + self._e(self.pos[j], ti, [i, j])
                de = new - old
                if de <= 0 or rng.random() < np.exp(-de / temperature):
                    self.types[i], self.types[j] = tj, ti
            else:
                i = rng.integers(n)
                new_p = np.mod(self.pos[i] + (rng.random(3) - 0.5) * 0.15, self.box)
                de = self._e(new_p, self.types[i], [i]) - self._e(self.pos[i], self.types[i], [i])
                if de <= 0 or rng.random() < np.exp(-de / temperature):
                    self.pos[i] = new_p


def numpy_rate(structure, model, seconds):
    mc = NumpySwapMC(structure, model)
    mc.run(20, TEMPERATURE)
    moves, t0 = 0, time.process_time()
    while time.process_time() - t0 < seconds:
        mc.run(50, TEMPERATURE)
        moves += 50
    return moves / (time.process_time() - t0)


def lammps_swap_rate(structure, model, seconds):
    """Swap attempts/s of LAMMPS fix atom/swap (no dynamics; each step performs the fixes' attempts)."""
    st = to_reduced(structure, model)
    lmp = lammps_for(st, model)
    try:
        per_step = 10
        lmp.command(f"fix s1 all atom/swap 1 {per_step} 101 {TEMPERATURE} ke no types 3 1")
        lmp.command(f"fix s2 all atom/swap 1 {per_step} 102 {TEMPERATURE} ke no types 3 2")
        lmp.command("run 1 post no")
        steps, t0 = 0, time.process_time()
        while time.process_time() - t0 < seconds:
            lmp.command("run 5 pre no post no")
            steps += 5
        dt = time.process_time() - t0
        return steps * 2 * per_step / dt
    finally:
        lmp.close()


def _one_chain(args):
    n, sweeps = args
    model = LJModel.paper()
    s = random_liquid(n, seed=5, model=model)
    res = swap_mc(s, model, TEMPERATURE, TEMPERATURE, sweeps, seed=6)
    return sweeps * n / res.wall_time_s, sweeps * n / res.cpu_time_s


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[150, 1500, 15000])
    ap.add_argument("--seconds", type=float, default=3.0, help="approximate time per measurement")
    ap.add_argument("--parallel", type=int, default=0, help="also run this many independent chains at once")
    args = ap.parse_args()
    model = LJModel.paper()
    rows = []
    for n in args.sizes:
        s = prepared_state(n, model)
        if n >= 1000:  # same sweeps for every large N (see MEASURE_SWEEPS)
            sweeps = MEASURE_SWEEPS
        else:  # small N: one run of ~args.seconds
            rate0, _ = numba_rate(s, model, max(1, int(2e5 / n)))
            sweeps = max(2, int(args.seconds * rate0 / n))
        rate, res = numba_rate(s, model, sweeps, seconds=args.seconds)
        swap_rate, _ = numba_rate(s, model, sweeps, swap_fraction=1.0, seconds=args.seconds / 2)
        np_rate = numpy_rate(s, model, args.seconds)
        lmp_rate = lammps_swap_rate(s, model, args.seconds)
        rows.append((n, rate, np_rate, swap_rate, lmp_rate, res.acceptance))
        print(f"N={n:6d}  numba {rate:10.3e} moves/s  (acc trans {res.acceptance['translation']['rate']:.3f}, "
              f"swap {res.acceptance['swap']['rate']:.4f}, cells {res.settings['use_cells']})")
        print(f"          numpy {np_rate:10.3e} moves/s   ratio numba/numpy = {rate / np_rate:8.1f}")
        print(f"          swap-only numba {swap_rate:10.3e}/s   LAMMPS fix atom/swap {lmp_rate:10.3e}/s   "
              f"ratio = {swap_rate / lmp_rate:8.1f}")
    by_n = {r[0]: r[1] for r in rows}
    if 1500 in by_n and 15000 in by_n:
        print(f"cost per move N=15000 / N=1500 = {by_n[1500] / by_n[15000]:.2f}  (flat within 2x: "
              f"{by_n[1500] / by_n[15000] < 2})")
    if 150 in by_n:
        secs = 1e9 * 150 / by_n[150]
        print(f"paper's longest run (1e9 sweeps, N = 150) at this speed: {secs / 3600:.1f} h on one core")
    if args.parallel > 1:
        n = args.sizes[0]
        sweeps = max(2, int(args.seconds * by_n[n] / n))
        t0 = time.perf_counter()
        with mp.get_context("spawn").Pool(args.parallel) as pool:
            per_chain = pool.map(_one_chain, [(n, sweeps)] * args.parallel)
        wall = time.perf_counter() - t0
        walls = [w for w, _ in per_chain]
        cpus = [c for _, c in per_chain]
        print(f"{args.parallel} independent chains at N={n} (one process each): per-chain "
              f"{[f'{c:.3g}' for c in cpus]} moves/CPU-s, aggregate wall-clock {sum(walls):.3e} moves/s "
              f"(wall incl. start-up {wall:.1f} s; other jobs on the machine share the cores)")


if __name__ == "__main__":
    main()
