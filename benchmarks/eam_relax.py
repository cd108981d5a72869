"""Benchmark: EAM ions+cell relaxation of strained random CuZrAl cells (150 atoms), ours vs the baseline.

Baseline (the engine before issue 13): LAMMPS CG with ``fix box/relax tri`` (vmax 0.001) on atoms and
cell together, restarted every 1,000 iterations until max force <= fmax. Ours:
:meth:`EAMEngine.relax` (fixed-cell CG stages alternating with box/relax stages, vmax 0.01).
Both in this process; prints CG iterations, wall time, final max force / max |stress| and the ratios.

    python benchmarks/eam_relax.py            # the numbers in docs/reference.md
"""

from __future__ import annotations

import argparse
import os
import time
import warnings

import numpy as np

from mlip_glass.reference.engines import EAMEngine
from mlip_glass.units import EV_PER_A3_TO_GPA
from mlip_glass.utils.structures import random_cuzral
from mlip_glass.utils.lammps_session import LammpsSession

CELLS = [(1, (0.4, -0.3, 0.25)), (2, (0, 0, 0)), (5, (0.2, 0.1, -0.3)), (7, (0.4, -0.3, 0.25)),
         (11, (0.4, 0.3, 0.25)), (12, (0, 0, 0)), (13, (-0.4, 0.3, 0.1))]


def baseline(engine, atoms, fmax, max_steps=40000, chunk=1000):
    """The previous scheme: box/relax CG in chunks. Returns (iterations, max force, max |stress| GPa)."""
    with LammpsSession(atoms, engine.potential) as session:
        done, summary = 0, {"converged": False}
        while done < max_steps and not summary["converged"]:
            summary = session.minimize(fmax=fmax, relax_cell=True, max_iterations=chunk, vmax=0.001)
            done += max(summary["iterations"], 1)
            if summary["iterations"] == 0 and not summary["converged"]:
                break
        stress = np.abs(session.stress() * EV_PER_A3_TO_GPA).max()
        return done, summary["max_force"], stress


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fmax", type=float, default=0.01, help="force tolerance (eV/Å)")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    engine = EAMEngine()
    engine.relax(random_cuzral(seed=3), keep="last")  # warm-up (imports, LAMMPS start)
    tot_old = tot_new = it_old = it_new = 0.0
    print(f"{'seed':>4} {'base it':>8} {'base s':>7} {'base |s|':>8} {'ours it':>8} {'ours s':>7} {'ours |s|':>8}")
    for seed, tilt in CELLS:
        atoms = random_cuzral(seed=seed, tilt=tilt)
        t0 = time.perf_counter()
        n_old, f_old, s_old = baseline(engine, atoms, args.fmax)
        t1 = time.perf_counter()
        last = engine.relax(atoms, fmax=args.fmax, keep="last")[-1]
        t2 = time.perf_counter()
        n_new, s_new = last.source.step, float(np.abs(last.stress).max())
        assert not last.rejected and np.abs(last.forces_array()).max() <= args.fmax * (1 + 1e-6)
        print(f"{seed:>4} {n_old:>8} {t1 - t0:>7.2f} {s_old:>8.4f} {n_new:>8} {t2 - t1:>7.2f} {s_new:>8.4f}")
        tot_old, tot_new = tot_old + t1 - t0, tot_new + t2 - t1
        it_old, it_new = it_old + n_old, it_new + n_new
    print(f"total: baseline {tot_old:.2f} s / {int(it_old)} it, ours {tot_new:.2f} s / {int(it_new)} it; "
          f"time ratio ours/baseline {tot_new / tot_old:.3f}, iterations {it_new / it_old:.3f}; "
          f"load average {os.getloadavg()[0]:.2f} (2 cores)")


if __name__ == "__main__":
    main()
