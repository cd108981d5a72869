"""Benchmark: CPU NEP training (neppo) on EAM-labelled CuZrAl frames, our settings vs the baseline.

Baseline (measured in the same run unless --skip-baseline): the paper's nep.in with full batch
(``batch 1000`` ≥ all frames) for ``--baseline-steps`` AdamW steps, neppo's default learning rate.
A re-run in the same --workdir resumes/reuses finished runs (same inputs), so the baseline can be added
later without retraining ours. Ours: the same nep.in model, mini-batches of ``--batch`` frames, cosine learning rate annealed on the
wall-time budget, stopped at ``--wall-time`` seconds.

Prints wall time, steps, test RMSE of E (meV/atom), F (meV/Å), virial (meV/atom) from calorine, the
agreement of calorine with the trainer's parity files, ratios ours/baseline, and the load average
(other processes share the cores: a load above the thread count means the timing is contended).

Examples (the numbers in docs/nep.md)::

    python benchmarks/nep_fit.py --wall-time 600 --skip-baseline                    # defaults: 1 thread
    python benchmarks/nep_fit.py --wall-time 600 --threads 2 --interval 200 --baseline-wall-time 600
    python benchmarks/nep_fit.py --frames 125 --wall-time 90 --skip-baseline --interval 50 \
        --workdir /tmp/nep_demo                                                     # the demo budget
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

from mlip_glass.datasets.extxyz import frames_to_text, read_extxyz, write_extxyz
from mlip_glass.nep.figures import nep_figures
from mlip_glass.nep.fit import compare_with_parity, fit_nep
from mlip_glass.nep.settings import CPUTrainerSettings, NEPSettings
from mlip_glass.testing.synthetic import eam_dataset_frames


def build_dataset(workdir: Path, n_frames: int, n_atoms: int, seed: int, train_fraction: float) -> dict:
    train_path, test_path = workdir / "dataset_train.xyz", workdir / "dataset_test.xyz"
    if train_path.exists() and test_path.exists():
        train, test = read_extxyz(train_path), read_extxyz(test_path)
        print(f"dataset: reused {len(train)} train / {len(test)} test frames from {workdir}")
    else:
        start = time.perf_counter()
        frames = eam_dataset_frames(n_frames=n_frames, n_atoms=n_atoms, seed=seed, quench_steps=9000,
                                    n_quenches=max(1, n_frames // 45))
        order = np.random.default_rng(seed).permutation(len(frames))
        n_train = int(round(train_fraction * len(frames)))
        train = [frames[i] for i in order[:n_train]]
        test = [frames[i] for i in order[n_train:]]
        write_extxyz(train, train_path)
        write_extxyz(test, test_path)
        print(f"dataset: {len(train)} train / {len(test)} test EAM frames of {n_atoms} atoms built in "
              f"{time.perf_counter() - start:.1f} s")
    return {"train_xyz": frames_to_text(train), "test_xyz": frames_to_text(test), "species": ["Cu", "Zr", "Al"],
            "_train": train, "_test": test}


def run(label: str, dataset: dict, directory: Path, cpu: CPUTrainerSettings, steps: int, wall_time: float | None,
        warm_start=None) -> dict:
    load_before = os.getloadavg()[0]
    start = time.perf_counter()
    doc = fit_nep({k: v for k, v in dataset.items() if not k.startswith("_")}, directory, settings=NEPSettings(),
                  cpu_settings=cpu, backend="neppo", steps=steps, wall_time=wall_time, warm_start=warm_start)
    total = time.perf_counter() - start
    if doc.status != "completed":
        raise RuntimeError(f"{label} failed: {doc.error}")
    test = doc.rmse["test"]["all"]
    agreement = compare_with_parity(directory / "nep.txt", directory, "test", dataset["_test"])
    result = {
        "label": label, "wall_time_training_s": doc.wall_time_s, "wall_time_total_s": total, "n_steps": doc.n_steps,
        "stop_reason": doc.stop_reason, "batch": cpu.batch, "learning_rate": list(cpu.learning_rate),
        "test": test, "train": doc.rmse["train"]["all"], "test_by_subset": doc.rmse["test"],
        "calorine_vs_parity_max_abs": agreement, "load_average_before": load_before,
        "load_average_after": os.getloadavg()[0],
    }
    nep_figures(doc, directory / "figures")
    print(f"[{label}] {doc.n_steps} steps (stopped by {doc.stop_reason}), training {doc.wall_time_s:.0f} s, "
          f"total {total:.0f} s | test RMSE E {test['rmse_energy_meV_per_atom']:.2f} meV/atom, "
          f"F {test['rmse_force_meV_per_A']:.1f} meV/Å, V {test['rmse_virial_meV_per_atom']:.1f} meV/atom | "
          f"train F {doc.rmse['train']['all']['rmse_force_meV_per_A']:.1f} meV/Å | calorine-parity max |dE| "
          f"{agreement['energy']:.1e} eV/atom |dF| {agreement['force']:.1e} eV/Å | load {load_before:.1f}->"
          f"{result['load_average_after']:.1f}", flush=True)
    return result | {"_doc": doc}


def compare_setup(args) -> None:
    """Set-up (s), steps/s and frames/s of the driver with and without the neighbour-graph cache, same data."""
    import shutil

    from mlip_glass.nep.graphs import GRAPH_CACHE_ENV

    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    dataset = build_dataset(workdir, args.frames, args.atoms, args.seed, args.train_fraction)
    n_frames = len(dataset["_train"]) + len(dataset["_test"])
    cache = workdir / "graph_cache"
    shutil.rmtree(cache, ignore_errors=True)
    cpu = CPUTrainerSettings(batch=args.batch, output_interval=max(args.compare_setup, 1), threads=args.threads)
    rows = []
    for label, env in (("current (ASE graphs)", "off"), ("new, cold cache", str(cache)),
                       ("new, warm cache", str(cache))):
        os.environ[GRAPH_CACHE_ENV] = env
        directory = workdir / f"setup_{label.split()[0]}_{label.split()[-2]}"
        shutil.rmtree(directory, ignore_errors=True)
        load = os.getloadavg()[0]
        doc = fit_nep({k: v for k, v in dataset.items() if not k.startswith("_")}, directory, settings=NEPSettings(),
                      cpu_settings=cpu, backend="neppo", steps=args.compare_setup, wall_time=None)
        status = json.loads((directory / "neppo_status.json").read_text())
        train_s = status["wall_time_s"] - status["setup_s"]
        rows.append((label, status["setup_s"], doc.n_steps / train_s, doc.n_steps * args.batch / train_s, load))
    print(f"{n_frames} frames of {args.atoms} atoms, {args.compare_setup} steps of {args.batch} frames, "
          f"{args.threads} thread(s)")
    print(f"{'driver':24s} {'set-up s':>9s} {'steps/s':>8s} {'frames/s':>9s} {'load':>5s}")
    for label, setup, steps, frames, load in rows:
        print(f"{label:24s} {setup:9.1f} {steps:8.2f} {frames:9.1f} {load:5.1f}")
    print(f"set-up ratios new/current: cold {rows[1][1] / rows[0][1]:.2f}, warm {rows[2][1] / rows[0][1]:.2f}")


def compare_threads(args) -> None:
    """Steps/s of the driver with 1 thread, 2 fixed threads (OMP_WAIT_POLICY=PASSIVE, the fixed-thread
    default) and adaptive threads (up to 2; the runtime's wait policy), same data, interleaved runs."""
    import shutil

    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    dataset = build_dataset(workdir, args.frames, args.atoms, args.seed, args.train_fraction)
    variants = (("1 thread", 1, False), ("2 threads, passive", 2, False), ("adaptive, up to 2", 2, True))
    rows: dict[str, list] = {label: [] for label, _, _ in variants}
    for repeat in range(args.repeats):
        for label, threads, adapt in variants:
            directory = workdir / f"threads_{threads}_{adapt}"
            shutil.rmtree(directory, ignore_errors=True)
            load = os.getloadavg()[0]
            cpu = CPUTrainerSettings(batch=args.batch, output_interval=args.compare_threads, threads=threads,
                                     adapt_threads=adapt)
            fit_nep({k: v for k, v in dataset.items() if not k.startswith("_")}, directory, settings=NEPSettings(),
                    cpu_settings=cpu, backend="neppo", steps=args.compare_threads, wall_time=None)
            status = json.loads((directory / "neppo_status.json").read_text())
            rate = status["n_steps"] / (status["wall_time_s"] - status["setup_s"])
            chosen = [c["threads"] for c in status.get("thread_choices") or []]
            rows[label].append((rate, load, chosen))
            print(f"run {repeat}: {label:20s} {rate:6.2f} steps/s  load {load:4.1f}  choices {chosen}", flush=True)
    from statistics import median

    base = median(r[0] for r in rows["1 thread"])
    print(f"{args.compare_threads} steps of {args.batch} frames of {args.atoms} atoms, median of {args.repeats}")
    print(f"{'variant':22s} {'steps/s':>8s} {'ratio to 1 thread':>18s}")
    for label, values in rows.items():
        rate = median(v[0] for v in values)
        print(f"{label:22s} {rate:8.2f} {rate / base:18.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=225, help="EAM frames (train + test)")
    parser.add_argument("--atoms", type=int, default=150, help="atoms per frame")
    parser.add_argument("--train-fraction", type=float, default=0.8)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--wall-time", type=float, default=600.0, help="budget of our run (s)")
    parser.add_argument("--batch", type=int, default=8, help="frames per step (ours)")
    parser.add_argument("--lr", type=float, nargs=2, default=(1e-2, 1e-4), help="learning rate start stop (ours)")
    parser.add_argument("--interval", type=int, default=400, help="steps between reports/checkpoints (ours)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--baseline-steps", type=int, default=150)
    parser.add_argument("--baseline-wall-time", type=float, default=None,
                        help="cap the baseline at this budget (s); on contended cores use --wall-time's value "
                             "for a same-budget comparison")
    parser.add_argument("--skip-baseline", action="store_true")
    parser.add_argument("--warm-start-budget", type=float, default=0.0,
                        help="if > 0: a second fit warm-started from ours with this budget (s), as in the next "
                             "active-learning iteration")
    parser.add_argument("--workdir", default="/tmp/mlip_glass_nep_bench")
    parser.add_argument("--compare-setup", type=int, default=0, metavar="STEPS",
                        help="only compare set-up time and throughput of the current driver (ASE neighbour graphs, "
                             "MLIP_GLASS_GRAPH_CACHE=off) and the new one (vectorised graphs, cold then warm cache), "
                             "each training STEPS steps on the same data")
    parser.add_argument("--compare-threads", type=int, default=0, metavar="STEPS",
                        help="only compare steps/s with 1 thread, 2 passive threads and adaptive threads")
    parser.add_argument("--repeats", type=int, default=3, help="interleaved repeats of --compare-threads")
    args = parser.parse_args()
    if args.compare_threads:
        compare_threads(args)
        return
    if args.compare_setup:
        compare_setup(args)
        return

    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    print(f"cores: {os.cpu_count()}, threads: {args.threads}, load average at start: {os.getloadavg()}")
    dataset = build_dataset(workdir, args.frames, args.atoms, args.seed, args.train_fraction)
    results = {}
    ours = run("ours", dataset, workdir / "ours",
               CPUTrainerSettings(batch=args.batch, learning_rate=tuple(args.lr), output_interval=args.interval,
                                  threads=args.threads), steps=1_000_000, wall_time=args.wall_time)
    results["ours"] = ours
    if args.warm_start_budget > 0:
        results["warm"] = run("warm start", dataset, workdir / "warm",
                              CPUTrainerSettings(batch=args.batch, learning_rate=(args.lr[0] / 3, args.lr[1]),
                                                 output_interval=args.interval, threads=args.threads),
                              steps=1_000_000, wall_time=args.warm_start_budget, warm_start=ours["_doc"])
    if not args.skip_baseline:
        base = run("baseline", dataset, workdir / "baseline",
                   CPUTrainerSettings(batch=1000, output_interval=10, threads=args.threads),
                   steps=args.baseline_steps, wall_time=args.baseline_wall_time)
        results["baseline"] = base
        print("ratios ours/baseline: wall time {:.2f}, test RMSE E {:.2f}, F {:.2f}, V {:.2f}".format(
            ours["wall_time_training_s"] / base["wall_time_training_s"],
            *[ours["test"][k] / base["test"][k] for k in
              ("rmse_energy_meV_per_atom", "rmse_force_meV_per_A", "rmse_virial_meV_per_atom")]))
    goal = ours["test"]["rmse_force_meV_per_A"] <= 100 and ours["test"]["rmse_energy_meV_per_atom"] <= 5
    print(f"goal (test F <= 100 meV/Å and E <= 5 meV/atom within {args.wall_time:.0f} s): "
          f"{'reached' if goal else 'NOT reached'}")
    for r in results.values():
        r.pop("_doc", None)
    (workdir / "results.json").write_text(json.dumps(results, indent=1))
    print(f"results: {workdir / 'results.json'}; figures in {workdir}/*/figures")


if __name__ == "__main__":
    main()
