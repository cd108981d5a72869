"""Property-engine benchmarks: atom-steps/s of EAM and NEP (calorine CPUNEP directly and through LAMMPS
``fix external``), the callback overhead, parallel speed-up of suites, and the wall time of each property
at demo scale with an extrapolation to the paper's scale.

    .venv/bin/python benchmarks/properties.py            # N = 1500 throughput + demo-scale properties
    .venv/bin/python benchmarks/properties.py --quick    # smaller (N = 500, shorter runs)

The NEP used is paper-sized (NEP4, cutoffs 6.5/4 Å, basis 8/8, 30 neurons, ZBL 1.8 Å; SPEC §6) but
trained for only 2 steps on a few EAM-labelled cells: speed does not depend on the fit quality.
Ratios are against baselines measured in the same run. Single-threaded rates use the process CPU time
(robust on a shared machine: other users' load does not count); the OpenMP rate and the property wall
times use wall-clock time and do depend on the load.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from ase.build import bulk

sys.path.insert(0, str(Path(__file__).resolve().parent))  # benchmarks/baseline

from mlip_glass.datasets.extxyz import write_extxyz
from mlip_glass.properties import constants as C
from mlip_glass.properties.jobs import ElasticMaker, RDFMaker
from mlip_glass.properties.potentials import NEPPotential, cheng_ma_sheng
from mlip_glass.properties.protocols import AQSProtocol, RDFProtocol
from mlip_glass.properties.rdf import melt_quench, random_alloy
from mlip_glass.properties.runners import compute_aqs, compute_elastic, compute_energetics, compute_rdf
from mlip_glass.utils.atoms import labelled_atoms
from mlip_glass.utils.lammps_session import LammpsSession

PAPER_NEP_IN = """\
version 4
type 3 Cu Zr Al
zbl 1.8
cutoff 6.5 4.0
n_max 4 4
basis_size 8 8
l_max 4 2 0
neuron 30
batch 4
generation 2
"""


def paper_sized_nep() -> NEPPotential:
    """A paper-sized NEP4 model trained for 2 steps on 4 EAM-labelled cells (for timing only)."""
    rng = np.random.default_rng(0)
    frames = []
    for _ in range(4):
        atoms = bulk("Cu", "bcc", a=3.2, cubic=True).repeat((3, 3, 3))
        symbols = np.array(["Cu"] * 25 + ["Zr"] * 25 + ["Al"] * 4)
        rng.shuffle(symbols)
        atoms.set_chemical_symbols(list(symbols))
        atoms.positions += rng.normal(0, 0.1, atoms.positions.shape)
        with LammpsSession(atoms, cheng_ma_sheng()) as s:
            frames.append(labelled_atoms(atoms, s.energy(), s.forces(), s.stress()))
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "nep.in").write_text(PAPER_NEP_IN)
        write_extxyz(frames, Path(tmp) / "train.xyz")
        subprocess.run([str(Path(sys.executable).with_name("neppo")), "train", tmp, "--device", "cpu"],
                       check=True, capture_output=True)
        return NEPPotential((Path(tmp) / "nep.txt").read_text(), name="NEP (paper-sized)")


def glass(n_atoms: int, seed: int = 0):
    """A quickly EAM-quenched Cu46Zr46Al8 cell (stand-in for a reference-minimised structure)."""
    protocol = RDFProtocol(cooling_rate_k_per_ns=1e5, equilibration_ps=2, sample_ps=0.2, sample_frames=1, r_max=5.0,
                           n_bins=10)
    res = melt_quench(random_alloy(n_atoms, seed=seed), cheng_ma_sheng(), protocol, seed=seed)
    return res["final_structure"]


def md_rate(atoms, potential, n_steps: int, extra_args=None, ensemble: str = "nvt",
            clock=time.process_time, overhead: list | None = None) -> float:
    """atom-steps/s of 2 fs MD at 300 K (NVT, or NPT: the cell changes every step). For a NEP, the
    fraction of the time spent outside calorine's NEPY call is appended to ``overhead``."""
    with LammpsSession(atoms, potential, extra_args=extra_args) as s:
        fix = "nvt temp 300 300 0.1" if ensemble == "nvt" else "npt temp 300 300 0.1 iso 0 0 1.0"
        s.commands(["timestep 0.002", "velocity all create 300 1", f"fix b all {fix}", "run 2"])
        callback = getattr(s.lmp, "mlg_nep_callback", None)
        nep0 = callback.nep_cpu_s if callback else 0.0
        start = clock()
        s.command(f"run {n_steps}")
        elapsed = clock() - start
        if callback is not None and overhead is not None:
            nep = callback.nep_cpu_s - nep0
            overhead.append((elapsed - nep) / nep)
        return len(atoms) * n_steps / elapsed


def omp_rate(atoms, n_steps: int) -> float:
    """Wall-time atom-steps/s of the EAM with 2 OpenMP threads, in a separate process: the OpenMP
    thread pool keeps spinning after its run and would slow down everything after it."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "cell.extxyz"
        atoms.write(path)
        code = (
            "import time, sys; from ase.io import read; sys.path.insert(0, %r);"
            "from properties import md_rate; from mlip_glass.properties import cheng_ma_sheng;"
            "print(md_rate(read(%r), cheng_ma_sheng(), %d, extra_args=['-sf','omp','-pk','omp','2'],"
            " clock=time.perf_counter))" % (str(Path(__file__).parent), str(path), n_steps)
        )
        out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
        return float(out.stdout.strip().splitlines()[-1])


def nep_direct_rate(atoms, nep: NEPPotential, n_calls: int) -> tuple[float, float]:
    """atom-steps/s of calorine alone: (ASE CPUNEP energy+forces+stress, the NEPY call only)."""
    a = atoms.copy()
    a.calc = nep.calculator()
    a.get_forces()
    rng = np.random.default_rng(0)
    start = time.process_time()
    for _ in range(n_calls):
        a.positions += rng.normal(0, 1e-3, a.positions.shape)
        a.get_potential_energy(), a.get_forces(), a.get_stress()
    ase_rate = len(a) * n_calls / (time.process_time() - start)
    nepy = a.calc.nepy
    start = time.process_time()
    for _ in range(n_calls):
        a.positions += rng.normal(0, 1e-3, a.positions.shape)
        nepy.set_positions(a.positions.T.reshape(-1).tolist())
        nepy.get_potential_forces_and_virials()
    return ase_rate, len(a) * n_calls / (time.process_time() - start)


def _cpu() -> float:
    """CPU seconds (user + system) of this process and of its finished child processes."""
    import resource

    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _load() -> str:
    return "/".join(f"{v:.2f}" for v in os.getloadavg())


def _swap_mc_suite(n_tasks: int, sweeps: int, n_workers: int, runner) -> list:
    """``n_tasks`` independent swap-MC samples (N = 150, T* 2 -> 0.5) through ``runner``."""
    from mlip_glass.surrogate.state import random_liquid
    from mlip_glass.surrogate.swap_mc import swap_mc

    tasks = [dict(structure=random_liquid(150, seed=s), t_start=2.0, t_end=0.5, n_sweeps=sweeps, seed=s)
             for s in range(n_tasks)]
    return runner(swap_mc, tasks, n_workers=n_workers)


def parallel_suites(n_tasks: int = 4, repeats: int = 2, quick: bool = False) -> dict:
    """Wall time of suites of independent runs with 1 worker (in-process) and 2 workers (this code and
    the pre-issue-15 runner: one fresh process per task), alternating; medians. Speed-up = t1 / t2."""
    from baseline.parallel import run_tasks as old_run_tasks

    import mlip_glass.properties.runners as runners
    from mlip_glass.properties.parallel import run_tasks

    eam = cheng_ma_sheng()
    alloys = [random_alloy(150, seed=s) for s in range(n_tasks)]
    rdf_protocol = RDFProtocol(equilibration_ps=1.0, cooling_rate_k_per_ns=5e5 if quick else 1e5, sample_ps=1.0,
                               sample_frames=5, n_bins=60, r_max=6.0)
    sweeps = 4000 if quick else 60000  # ~3.5 s per sample at 2.5e6 moves/s: start-up (~2 s) is paid once

    def with_runner(runner, func, *args, **kwargs):  # the property runners call run_tasks of their module
        runners.run_tasks = runner
        try:
            return func(*args, **kwargs)
        finally:
            runners.run_tasks = run_tasks

    suites = {  # name -> f(n_workers, runner)
        "swap-MC samples (N=150)": lambda w, rt: _swap_mc_suite(n_tasks, sweeps, w, rt),
        "RDF runs (EAM, 200 atoms)": lambda w, rt: with_runner(rt, runners.compute_rdf, eam, n_runs=n_tasks,
                                                               n_atoms=200, protocol=rdf_protocol, n_workers=w),
        "AQS samples (EAM, 150 atoms)": lambda w, rt: with_runner(rt, runners.compute_aqs, eam, alloys,
                                                                  AQSProtocol(strain_step=2e-3 if quick else 5e-4),
                                                                  n_workers=w),
    }
    print(f"\n== parallel suites: {n_tasks} independent tasks, 1 vs 2 workers, {repeats} alternating repeats "
          f"(load at start {_load()}) ==", flush=True)
    print("  wall = wall-clock s; cpu = CPU s of this process and its workers (getrusage); idle-machine "
          "speed-up estimate = 2 x cpu(1 worker) / cpu(2 workers)")
    print(f"  {'suite':<30s} {'1 worker wall/cpu':>18s} {'2 workers wall/cpu':>19s} {'wall speed-up':>13s} "
          f"{'idle est.':>9s} {'old runner wall/cpu':>20s} {'old idle est.':>13s}  load")
    out = {}
    for name, run in suites.items():
        res = {key: ([], []) for key in ("one", "two", "old")}
        for _ in range(repeats):
            for key, runner, workers in (("one", run_tasks, 1), ("two", run_tasks, 2), ("old", old_run_tasks, 2)):
                start, cpu0 = time.perf_counter(), _cpu()
                run(workers, runner)
                res[key][0].append(time.perf_counter() - start)
                res[key][1].append(_cpu() - cpu0)
        (w1, c1), (w2, c2), (wo, co) = ((np.median(w), np.median(c)) for w, c in res.values())
        out[name] = dict(wall_1=w1, cpu_1=c1, wall_2=w2, cpu_2=c2, wall_old=wo, cpu_old=co)
        print(f"  {name:<30s} {w1:8.1f} / {c1:7.1f} {w2:9.1f} / {c2:7.1f} {w1 / w2:13.2f} {2 * c1 / c2:9.2f} "
              f"{wo:10.1f} / {co:7.1f} {2 * c1 / co:13.2f}  {_load()}", flush=True)
    print(f"  (target: >= 0.85 x 2 = 1.7 on an otherwise idle machine; load at end {_load()})")
    return out


def timed(label, func, *args, **kwargs):
    start = time.perf_counter()
    out = func(*args, **kwargs)
    wall = time.perf_counter() - start
    print(f"  {label:<46s} {wall:8.1f} s", flush=True)
    return out, wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n-atoms", type=int, default=1500, help="atoms of the throughput runs")
    parser.add_argument("--quick", action="store_true", help="N = 500 and shorter demo runs")
    parser.add_argument("--skip-properties", action="store_true", help="throughput only")
    parser.add_argument("--parallel-only", action="store_true",
                        help="only the 1 vs 2 worker comparison (swap-MC, RDF and AQS suites; with --quick: short)")
    parser.add_argument("--tasks", type=int, default=4,
                        help="independent tasks per suite of --parallel-only (few tasks: 2 workers idle at the end)")
    args = parser.parse_args()
    if args.parallel_only:
        parallel_suites(n_tasks=args.tasks, quick=args.quick)
        return
    n = 500 if args.quick else args.n_atoms

    print("== throughput (2 fs MD, 300 K, one thread unless stated) ==", flush=True)
    nep = paper_sized_nep()
    cell = glass(n, seed=1)
    eam = cheng_ma_sheng()
    eam_1 = md_rate(cell, eam, 400 if n <= 600 else 200)
    calls = max(10, 15000 // n)
    ase_rate, nepy_rate = nep_direct_rate(cell, nep, calls)
    overhead: list = []
    nep_nvt = md_rate(cell, nep, calls, overhead=overhead)
    nep_npt = md_rate(cell, nep, calls, ensemble="npt", overhead=overhead)
    eam_2 = omp_rate(cell, 400 if n <= 600 else 200)
    rows = [("EAM (LAMMPS eam/alloy)", eam_1), ("EAM, 2 OpenMP threads (wall)", eam_2),
            ("NEP calorine NEPY call only", nepy_rate), ("NEP calorine CPUNEP (ASE)", ase_rate),
            ("NEP in LAMMPS fix external, NVT", nep_nvt), ("NEP in LAMMPS fix external, NPT", nep_npt)]
    print(f"N = {n} atoms")
    print(f"  {'engine':<36s} {'atom-steps/s':>13s} {'vs EAM 1 thread':>16s}")
    for label, rate in rows:
        print(f"  {label:<36s} {rate:13.3g} {rate / eam_1:16.3g}")
    print(f"  fix-external overhead (CPU time outside the NEPY call / inside it, measured in the "
          f"callback): NVT {100 * overhead[0]:.1f} %, NPT {100 * overhead[1]:.1f} %")
    if args.skip_properties:
        return

    print("\n== properties at demo scale (wall time; 2 worker processes) ==", flush=True)
    structures = [glass(150, seed=s) for s in (11, 12, 13, 14, 15)]
    demo = RDFMaker.demo()
    rdf_kw = dict(n_runs=demo.n_runs, n_atoms=demo.n_atoms, protocol=demo.protocol())
    if args.quick:
        rdf_kw["protocol"] = dataclasses.replace(rdf_kw["protocol"], equilibration_ps=1.0, cooling_rate_k_per_ns=5e5,
                                                 sample_ps=0.5, sample_frames=5)
    per = {}
    for pot in (eam, nep):
        print(f" {pot.name}")
        _, per[pot.name, "rdf"] = timed("RDF (demo preset): 2 runs x 200 atoms", compute_rdf, pot, **rdf_kw)
        el_demo = ElasticMaker.demo()
        _, per[pot.name, "elastic"] = timed(
            "elastic (demo preset): 2 structures x 150", compute_elastic, pot, structures[:2], el_demo.protocol)
        if not args.quick and pot is eam:
            _, per[pot.name, "elastic_paper"] = timed("elastic (paper set): 2 structures x 150",
                                                      compute_elastic, pot, structures[:2])
        _, per[pot.name, "aqs"] = timed("AQS (demo preset): 2 structures x 150", compute_aqs, pot,
                                        structures[:2], AQSProtocol(strain_step=5e-4))
        _, per[pot.name, "energetics"] = timed("energetics: 5 structures", compute_energetics, pot, structures,
                                               reference_energies=[-5.0 - 0.01 * i for i in range(5)])
    parallel_suites(quick=args.quick)

    print("\n== paper scale, extrapolated from the rates above (2 cores) ==")
    dt_ps = C.RDF_TIMESTEP_FS * 1e-3
    steps = (C.RDF_EQUILIBRATION_PS + (C.RDF_T_HIGH_K - C.RDF_T_LOW_K) / C.RDF_COOLING_RATE_K_PER_NS * 1e3
             + C.RDF_SAMPLE_PS) / dt_ps
    for label, rate in (("EAM", eam_1), ("NEP", nep_npt)):
        run_h = steps * C.RDF_N_ATOMS / rate / 3600
        print(f"  RDF {label}: {steps:.3g} steps x {C.RDF_N_ATOMS} atoms = {run_h:.3g} h per run, "
              f"{run_h * C.RDF_N_RUNS / 2:.3g} h for {C.RDF_N_RUNS} runs on 2 cores")
    for pot in (eam, nep):
        # per structure, 2 running at a time; the demo elastic set has half the paper's cells
        el = per.get((pot.name, "elastic_paper"), 2 * per[pot.name, "elastic"]) / 2 * C.ELASTIC_N_SAMPLES / 2
        aqs = per[pot.name, "aqs"] / 2 * (5e-4 / C.AQS_STRAIN_STEP) * C.ELASTIC_N_SAMPLES / 2
        print(f"  {pot.name}: elastic {C.ELASTIC_N_SAMPLES} samples ~{el / 60:.3g} min, "
              f"AQS (step {C.AQS_STRAIN_STEP}) {C.ELASTIC_N_SAMPLES} samples ~{aqs / 60:.3g} min")


if __name__ == "__main__":
    main()
