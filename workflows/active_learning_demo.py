"""Demo-size active-learning campaign with the real stages (runs on a laptop in minutes).

iteration 0: swap-MC surrogate cooling (150 atoms, a few cooling lengths) → EAM single points
(the local reference engine standing in for VASP) → dataset 0 (80/20) → NEP fit (CPU trainer, few steps)
then N iterations of: NEP equilibration + fast-quench feedback runs from surrogate structures of
different cooling lengths → selection → EAM labels → dataset k+1 → refit; finally the learning curve
and the lineage of one feedback frame, both read back from the store.

    .venv/bin/python workflows/active_learning_demo.py --iterations 2 --feedback-runs 3
    .venv/bin/python workflows/active_learning_demo.py --store mongodb://localhost:27017/mlip_glass

Numbers are NOT the paper's (which trains for 1e5 generations on ~thousands of DFT frames): every
size here is cut down so the whole loop finishes quickly; see docs/active_learning.md.
"""

from __future__ import annotations

import argparse
import json
import logging
import time

from jobflow import Flow, run_locally

from mlip_glass import queries
from mlip_glass.active_learning.jobs import (
    ActiveLearningMaker,
    FeedbackMaker,
    SelectCandidatesMaker,
    feedback_label_maker,
    loop_assemble_maker,
)
from mlip_glass.active_learning.protocols import FeedbackMDProtocol
from mlip_glass.provenance import stamp
from mlip_glass.store import ensure_indexes, get_job_store


def build(args) -> Flow:
    from mlip_glass.datasets.jobs import AssembleDatasetMaker, SurrogateSubsetMaker
    from mlip_glass.nep.jobs import NEPFitMaker
    from mlip_glass.nep.settings import CPUTrainerSettings, NEPSettings
    from mlip_glass.surrogate.jobs import SwapMCCoolingMaker

    surrogates = [
        SwapMCCoolingMaker(n_sweeps=int(n), seed=100 + i, equilibration_sweeps=200, n_trace=50).make()
        for i, n in enumerate(args.sweeps)
    ]
    labels = SurrogateSubsetMaker(engine="eam").make([s.output for s in surrogates])
    dataset = AssembleDatasetMaker(seed=args.seed).make([labels.output])
    fit = NEPFitMaker(settings=NEPSettings(neuron=10, n_max=(4, 4), basis_size=(6, 6)),
                      cpu_settings=CPUTrainerSettings(batch=8, output_interval=10, threads=1, seed=args.seed),
                      steps=args.fit_steps, wall_time=args.fit_wall_time)
    fit_job = fit.make(dataset.output)
    loop = ActiveLearningMaker(
        n_feedback_runs=args.feedback_runs, max_iterations=args.iterations, rmse_tol=args.rmse_tol, seed=args.seed,
        feedback=FeedbackMaker(protocol=FeedbackMDProtocol(t_equil_k=args.t_equil, equil_steps=args.md_steps,
                                                           quench_steps=args.md_steps)),
        select=SelectCandidatesMaker(method=args.selection, gamma_lo=1.0, gamma_hi=args.gamma_hi),
        label=feedback_label_maker("eam"), assemble=loop_assemble_maker(seed=args.seed), fit=fit,
    ).make(args.campaign, after=fit_job.output.model_hash)
    flow = Flow([*surrogates, labels, dataset, fit_job, loop], name=f"active learning demo {args.campaign}")
    return stamp(flow, campaign=args.campaign, iteration=0)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--store", default="memory", help="'memory', 'embedded' or a mongodb:// URI")
    p.add_argument("--project-dir", default=None)
    p.add_argument("--campaign", default="al-demo")
    p.add_argument("--iterations", type=int, default=2)
    p.add_argument("--feedback-runs", type=int, default=3, help="per iteration (paper: 138)")
    p.add_argument("--sweeps", type=float, nargs="+", default=[1e3, 3e3, 1e4], help="swap-MC cooling lengths")
    p.add_argument("--fit-steps", type=int, default=60, help="neppo optimiser steps per fit")
    p.add_argument("--fit-wall-time", type=float, default=300.0, help="s per fit")
    p.add_argument("--md-steps", type=int, default=300, help="equilibration and quench steps (1 fs)")
    p.add_argument("--t-equil", type=float, default=1500.0, help="K")
    p.add_argument("--selection", default="all", choices=["all", "maxvol"])
    p.add_argument("--gamma-hi", type=float, default=10.0, help="MaxVol grade above which a candidate is rejected")
    p.add_argument("--rmse-tol", type=float, default=0.0, help="meV/Å; 0 = run all iterations")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--verbose", action="store_true", help="jobflow log")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)

    store = get_job_store(args.store, args.project_dir)
    start = time.perf_counter()
    run_locally(build(args), store=store, ensure_success=True, log=args.verbose)
    wall = time.perf_counter() - start
    ensure_indexes(store)
    print(f"campaign {args.campaign!r}: {wall:.0f} s wall")
    print("iter  n_train  n_test  new  candidates  accurate  rejected  E_test(meV/at)  F_train(meV/Å)  F_test(meV/Å)")
    for row in queries.learning_curve(store, args.campaign):
        fr = row["fractions"] or {}
        m = row["rmse"]
        print(f"{row['iteration']:>4}  {row['n_train']:>7}  {row['n_test']:>6}  {row['n_new_frames'] or 0:>3}  "
              f"{fr.get('candidate', float('nan')):>10.2f}  {fr.get('accurate', float('nan')):>8.2f}  "
              f"{fr.get('rejected', float('nan')):>8.2f}  "
              f"{queries.metric(m, ('test', 'all', 'rmse_energy_meV_per_atom')) or float('nan'):>14.1f}  "
              f"{queries.metric(m, ('train', 'all', 'rmse_force_meV_per_A')) or float('nan'):>14.1f}  "
              f"{queries.metric(m, ('test', 'all', 'rmse_force_meV_per_A')) or float('nan'):>13.1f}")
    for doc in sorted(store.query({"metadata.campaign": args.campaign, "name": "al select"}),
                      key=lambda d: d["metadata"]["iteration"]):
        out = doc["output"]
        scores = ", ".join("-" if v is None else f"{v:.3g}" for v in out["scores"])
        print(f"iteration {doc['metadata']['iteration']} selection {out['method']}: classes {out['classes']} "
              f"scores [{scores}] failed runs {out.get('n_failed_runs', 0)}")
    feedback = queries.frames_of_subset(store, args.campaign, "mlip_feedback")
    if feedback:
        chain = queries.lineage(store, args.campaign, feedback[-1]["structure_hash"])
        print("lineage of one feedback frame:")
        print(json.dumps([{k: v for k, v in step.items() if v is not None} for step in chain], indent=1, default=str))


if __name__ == "__main__":
    main()
