"""Crystal check of a reference engine: lattice constants and bulk moduli of fcc Cu, fcc Al, hcp Zr and B2 CuZr
from Birch–Murnaghan equations of state, against all-electron PBE (Delta test) and experiment (B2 CuZr).

    python benchmarks/dft_crystals.py                               # CP2K with the package's settings + k-points
    python benchmarks/dft_crystals.py --engine eam                  # the Cheng–Ma–Sheng EAM, for comparison
    python benchmarks/dft_crystals.py --kspacing 0.5 --scales 0.98 0.99 1 1.01 1.02 --out docs/data/dft_crystals.json

Prints one row per crystal and the CPU time; ``--out`` writes the rows (with the E(V) points) as JSON.
"""

from __future__ import annotations

import argparse
import json
import time

from mlip_glass.errors import MLIPGlassError
from mlip_glass.reference.base import cpu_seconds
from mlip_glass.reference.crystal_check import EOS_SCALES, PBE_REFERENCES, crystal_table
from mlip_glass.reference.engines import get_engine


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", default="cp2k", help="reference engine: cp2k (default), eam, module:factory")
    parser.add_argument("--kspacing", type=float, default=0.3,
                        help="CP2K Monkhorst–Pack spacing (Å⁻¹, VASP convention) of the crystal cells")
    parser.add_argument("--ranks", type=int, default=2, help="CP2K MPI ranks")
    parser.add_argument("--crystals", nargs="*", default=list(PBE_REFERENCES), help="subset of the crystals")
    parser.add_argument("--scales", nargs="*", type=float, default=list(EOS_SCALES),
                        help="lattice-constant scale factors of the equation of state")
    parser.add_argument("--out", help="write the rows as JSON here")
    args = parser.parse_args(argv)

    if args.engine == "cp2k":
        from mlip_glass.reference.cp2k import CP2KEngine, CP2KSettings

        base = CP2KSettings(mpi_ranks=args.ranks)

        def engine_for(atoms):  # one k-point grid (from the spacing at the reference cell) for every volume
            grid = base.replace(kpoint_spacing_per_a=args.kspacing).kpoint_grid(atoms.cell.array)
            return CP2KEngine(dft=base.replace(kpoints=grid))

        engine, run_engine = CP2KEngine(dft=base), engine_for
    else:
        engine = run_engine = get_engine(args.engine)
    t0, c0 = time.perf_counter(), cpu_seconds()
    rows = []
    print(f"{'crystal':9s} {'a (Å)':>8s} {'ref':>8s} {'dev %':>7s} {'B (GPa)':>8s} {'ref':>7s}  source")
    for name in args.crystals:
        try:
            row = crystal_table(run_engine, [name], args.scales)[0]
        except MLIPGlassError as exc:  # e.g. too few converged points: the other crystals still count
            print(f"{name:9s} failed: {exc}", flush=True)
            continue
        rows.append(row)
        if args.out:  # after every crystal: a killed run keeps what it finished
            _write(args.out, engine, rows, time.perf_counter() - t0, cpu_seconds() - c0)
        ref_b = "—" if row["B_ref_GPa"] is None else f"{row['B_ref_GPa']:.0f}"
        print(f"{name:9s} {row['a_A']:8.4f} {row['a_ref_A']:8.4f} {row['a_dev_percent']:+7.2f} "
              f"{row['B_GPa']:8.1f} {ref_b:>7s}  {row['source']}", flush=True)
    wall, cpu = time.perf_counter() - t0, cpu_seconds() - c0
    print(f"engine {engine.name} {engine.settings()}")
    print(f"wall {wall:.0f} s, CPU {cpu:.0f} s (child processes included)")
    if args.out:
        _write(args.out, engine, rows, wall, cpu)


def _write(path, engine, rows, wall, cpu):
    with open(path, "w") as handle:
        json.dump({"engine": engine.name, "settings": engine.settings(), "wall_s": wall, "cpu_s": cpu,
                   "rows": rows}, handle, indent=1, default=str)


if __name__ == "__main__":
    main()
