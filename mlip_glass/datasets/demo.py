"""Demo-size training database: surrogate swap-MC glasses (150 atoms) → every subset with the local EAM →
assembled 80/20 dataset, Fig. 2b and cost ledger; prints the paper-INCAR diff and the counts per subset.

    python -m mlip_glass.datasets.demo [--structures 3] [--sweeps 2000] [--out DIR]

Takes about a minute on two cores at the default size.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

# The package imports sit inside the functions: `--help` answers at once, while the Makers (atomate2's VASP
# jobs) take ~7 s to import (`python -X importtime -c "import mlip_glass.datasets.jobs"`).


def incar_diffs() -> dict:
    """Diff of the INCARs written by the paper's input sets against the paper's settings (expected: empty)."""
    from mlip_glass.reference.vasp_sets import (
        PaperMDSetGenerator,
        PaperRelaxSetGenerator,
        PaperStaticSetGenerator,
        incar_diff,
        paper_incar,
    )
    from mlip_glass.utils.structures import random_cuzral

    s = random_cuzral(seed=0)
    out = {}
    for kind, gen in (("static", PaperStaticSetGenerator()), ("relax", PaperRelaxSetGenerator()),
                      ("md", PaperMDSetGenerator())):
        incar = gen.get_input_set(s, potcar_spec=True).incar
        out[kind] = {"diff": incar_diff(dict(incar), paper_incar(kind, s)), "incar": dict(incar)}
    return out


def demo_database_maker(png_path=None, relax_keep=100, aimd_steps=20, strains=None, crystal_names=None):
    """Every subset at demo size with the EAM (one relaxation, one scaled and one strained parent, one short
    AIMD run); the defaults of the Makers themselves are the paper's."""
    from mlip_glass.datasets.jobs import (
        AIMDSubsetMaker,
        AssembleDatasetMaker,
        CrystalSubsetMaker,
        DatabaseReportMaker,
        DistortedMaker,
        ExpandedCompressedMaker,
        ReferenceDatabaseMaker,
        RelaxedSubsetMaker,
        SurrogateSubsetMaker,
    )
    from mlip_glass.reference.protocols import AIMDProtocol, RelaxProtocol

    distorted = DistortedMaker(n_select=1) if strains is None else DistortedMaker(n_select=1, strains=strains)
    return ReferenceDatabaseMaker(
        engine="eam",
        surrogate=SurrogateSubsetMaker(),
        relaxed=RelaxedSubsetMaker(n_select=1, protocol=RelaxProtocol(keep=relax_keep)),
        expanded_compressed=ExpandedCompressedMaker(n_select=1),
        distorted=distorted,
        aimd=AIMDSubsetMaker(n_select=1, protocol=AIMDProtocol(nsteps=aimd_steps)),
        crystal=CrystalSubsetMaker(names=crystal_names),
        assemble=AssembleDatasetMaker(seed=0),
        report=DatabaseReportMaker(png_path=png_path),
    )


def build_flow(n_structures: int = 3, n_sweeps: int = 2000, png_path: str | None = None):
    """Surrogate swap-MC jobs + the reference database at demo size."""
    from jobflow import Flow

    from mlip_glass.surrogate.jobs import SwapMCCoolingMaker

    cooling = [SwapMCCoolingMaker(n_sweeps=n_sweeps).make(seed=k) for k in range(n_structures)]
    database = demo_database_maker(png_path).make([job.output for job in cooling])
    return Flow([*cooling, database], output=database.output, name="demo database")


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--structures", type=int, default=3, help="surrogate glasses (150 atoms each)")
    parser.add_argument("--sweeps", type=int, default=2000, help="swap-MC sweeps per glass")
    parser.add_argument("--out", default="demo_database", help="output directory (train.xyz, test.xyz, fig2b.png)")
    args = parser.parse_args(argv)

    import warnings

    from jobflow import run_locally

    from mlip_glass.datasets.assembly import write_dataset
    from mlip_glass.datasets.schemas import DatasetDocument
    from mlip_glass.provenance import stamp
    from mlip_glass.store import memory_job_store

    warnings.filterwarnings("ignore")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    diffs = incar_diffs()
    print("INCAR diff vs the paper:", {k: v["diff"] for k, v in diffs.items()})
    t0 = time.time()
    flow = stamp(build_flow(args.structures, args.sweeps, str(out / "fig2b.png")), campaign="demo")
    store = memory_job_store()
    run_locally(flow, store=store, ensure_success=True, log=False)
    wall = time.time() - t0
    ds = store.get_output(flow.output.uuid, load=True)
    ds = ds if isinstance(ds, DatasetDocument) else DatasetDocument.model_validate(ds)
    write_dataset(ds, out)
    report_uuid = flow.jobs[-1].jobs[-1].uuid
    report = store.get_output(report_uuid, load=True)
    print(f"{'subset':22s} {'train':>6s} {'test':>6s} {'total':>6s} {'rejected':>8s}")
    for subset, row in ds.counts.items():
        print(f"{subset:22s} {row['train']:6d} {row['test']:6d} {row['total']:6d} {row['rejected']:8d}")
    fit = (report.get("fig2b") or {}).get("fit")
    print("Fig. 2b fit e(EAM) vs e(LJ):", fit)
    totals = report["cost_ledger"]["totals"]
    print(f"labelling CPU {totals['cpu_time_s']:.1f} s; same labels with VASP ≈ {totals['vasp_cpu_h']:.0f} CPU-h; "
          f"surrogate saved ≈ {totals['surrogate_saving_cpu_h']:.0f} CPU-h of relaxations")
    print(f"wall time {wall:.1f} s; files in {out}/")
    summary = {"counts": ds.counts, "fig2b_fit": fit, "cost_ledger": report["cost_ledger"], "wall_s": wall,
               "incar_diff": {k: v["diff"] for k, v in diffs.items()}, "dataset_hash": ds.dataset_hash}
    (out / "summary.json").write_text(json.dumps(summary, indent=1, default=str))
    return summary


if __name__ == "__main__":
    main()
