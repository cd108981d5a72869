"""Fig. 2b with real DFT at a DFT-size cell: LJ energies of surrogate glasses (N = 24, small-box swap-MC over
three decades of cooling, two seeds each) against CP2K PBE single points at the surrogate cell.

    python benchmarks/dft_fig2b.py --out docs/data/dft_fig2b_n24.json

Prints one row per glass (LJ and DFT energy per atom, pressure, CPU time) and the least-squares slope and R².
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from mlip_glass.reference.cp2k import CP2KEngine
from mlip_glass.surrogate.model import LJModel
from mlip_glass.surrogate.small_box import small_box_swap_mc
from mlip_glass.surrogate.state import random_liquid

#: cooling lengths (sweeps), two glasses each
SWEEPS = (1e2, 1e2, 1e3, 1e3, 1e4, 1e4, 1e5, 1e5)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-atoms", type=int, default=24)
    parser.add_argument("--out", help="write the rows as JSON here")
    args = parser.parse_args(argv)
    model, engine, rows = LJModel.paper(), CP2KEngine(), []
    for i, sweeps in enumerate(SWEEPS):
        liquid = small_box_swap_mc(random_liquid(args.n_atoms, seed=100 + i), model, 10.01, 10.01, 2000,
                                   seed=200 + i).structure
        glass = small_box_swap_mc(liquid, model, 10.01, 0.01, int(sweeps), seed=300 + i)
        t0 = time.perf_counter()
        frame = engine.static(glass.structure)
        rows.append({"sweeps": sweeps, "e_lj_eV_per_atom": glass.energy / args.n_atoms,
                     "e_dft_eV_per_atom": None if frame.rejected else frame.energy / args.n_atoms,
                     "pressure_GPa": frame.pressure, "cpu_s": frame.cpu_time_s,
                     "wall_s": time.perf_counter() - t0, "rejected": frame.rejection_reason})
        print(rows[-1], flush=True)
        if args.out:
            with open(args.out, "w") as handle:
                json.dump(rows, handle, indent=1)
    ok = [r for r in rows if r["e_dft_eV_per_atom"] is not None]
    x = np.array([r["e_lj_eV_per_atom"] for r in ok])
    y = np.array([r["e_dft_eV_per_atom"] for r in ok])
    slope, _ = np.polyfit(x, y, 1)
    print(f"slope {slope:.4f}, R² {np.corrcoef(x, y)[0, 1] ** 2:.4f}, {len(ok)} of {len(rows)} labelled")


if __name__ == "__main__":
    main()
