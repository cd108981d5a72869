"""The Makers end to end on a memory JobStore: every subset at demo size on a 150-atom cell with the EAM,
assembly, report; data-store routing; gathering by campaign; the LabelMaker used for MLIP feedback."""

from __future__ import annotations

import warnings

import pytest
from jobflow import Flow, OutputReference, run_locally
from store_checks import assert_in_data_store

from mlip_glass.datasets.demo import demo_database_maker
from mlip_glass.datasets.extxyz import frames_from_text
from mlip_glass.datasets.jobs import (
    AIMDSubsetMaker,
    AssembleDatasetMaker,
    CrystalSubsetMaker,
    DistortedMaker,
    ExpandedCompressedMaker,
    ReferenceDatabaseMaker,
    relaxed_finals,
    rescaled_parents,
)
from mlip_glass.datasets.schemas import DatasetDocument
from mlip_glass.provenance import stamp
from mlip_glass.reference.jobs import LabelMaker
from mlip_glass.reference.protocols import AIMDProtocol, RelaxProtocol
from mlip_glass.reference.schemas import SubsetDocument
from mlip_glass.store import memory_job_store
from mlip_glass.testing.structures import surrogate_like_documents

warnings.filterwarnings("ignore")


def _doc(out, cls):
    return out if isinstance(out, cls) else cls.model_validate(out)


def demo_maker(png_path=None):
    """All subsets at demo size (every count settable; defaults are the paper's); assembly seed 3."""
    maker = demo_database_maker(png_path, relax_keep=200, aimd_steps=10, strains=(-0.004, 0.004),
                                crystal_names=["Cu", "CuZr-B2", "CuZr2"])
    maker.assemble.seed = 3
    return maker


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    docs = surrogate_like_documents(3, seed=20)  # three 150-atom Cu69 Zr69 Al12 cells at the paper's 12.93 Å
    flow = stamp(demo_maker(str(tmp_path_factory.mktemp("fig") / "fig2b.png")).make(docs), campaign="demo")
    store = memory_job_store()
    run_locally(flow, store=store, ensure_success=True)
    return flow, store


def test_demo_database_has_every_subset_in_train_and_the_expected_counts(demo_run):
    flow, store = demo_run
    ds = _doc(store.get_output(flow.output.uuid, load=True), DatasetDocument)
    counts = ds.counts
    assert counts["surrogate"]["total"] == 3
    assert counts["expanded_compressed"]["total"] == 6
    assert counts["distorted"]["total"] == 12
    assert counts["aimd"]["total"] == 10
    assert counts["crystal"]["total"] == 3
    assert counts["relaxed"]["total"] >= 2  # every 200th ionic step + the last
    for subset, row in counts.items():
        assert row["train"] >= 1, subset
        if row["total"] >= 2:
            assert row["test"] >= 1, subset
    assert ds.species == ["Cu", "Zr", "Al"]
    assert len(ds.train_xyz.splitlines()) > 150


def test_big_outputs_live_in_the_data_store_and_jobs_carry_the_stage(demo_run):
    flow, store = demo_run
    docs = list(store.docs_store.query({"metadata.campaign": "demo"}))
    stages = {d["metadata"].get("stage") for d in docs}
    assert {"reference", "dataset"} <= stages
    for d in docs:
        out = d["output"]
        if isinstance(out, dict) and "frames" in out:
            assert out["frames"].get("@class") == "OutputReference" or "blob_uuid" in out["frames"]
        if isinstance(out, dict) and "train_xyz" in out:
            assert "blob_uuid" in out["train_xyz"]
    assert store.additional_stores["data"].count() >= 7


def test_rescaled_parents_and_relaxed_finals_keep_their_structures_in_the_data_store(demo_run):
    _, store = demo_run
    relaxed = OutputReference(store.query_one({"name": "relaxed subset"}, properties=["uuid"])["uuid"])
    scaled = rescaled_parents(surrogate_like_documents(3, seed=20), relaxed)
    finals = relaxed_finals(relaxed)
    responses = run_locally(Flow([scaled, finals]), store=store, ensure_success=True, allow_external_references=True)
    out = assert_in_data_store(store, responses, scaled.uuid, "structures")
    assert len(out["structures"]) == 3 and out["volume_per_atom"] > 0
    assert assert_in_data_store(store, responses, finals.uuid, None)  # the whole list


def test_report_has_fig2b_fit_and_cost_ledger(demo_run):
    flow, store = demo_run
    report_job = flow.jobs[-1]
    report = store.get_output(report_job.uuid, load=True)
    ledger = report["cost_ledger"]
    assert ledger["subsets"]["aimd"]["n_runs"] == 1
    assert ledger["totals"]["vasp_cpu_h"] > 5506  # at least the AIMD trajectory in VASP terms
    assert report["fig2b"]["fit"]["n"] == 3


def test_assembly_gathers_frames_of_a_campaign_from_the_store(demo_run):
    flow, store = demo_run
    ds_direct = _doc(store.get_output(flow.output.uuid, load=True), DatasetDocument)
    job = AssembleDatasetMaker(seed=3, campaign="demo").make([])
    run_locally(job, store=store, ensure_success=True)
    gathered = _doc(store.get_output(job.uuid, load=True), DatasetDocument)
    assert sorted(gathered.frame_hashes_train + gathered.frame_hashes_test) == sorted(
        ds_direct.frame_hashes_train + ds_direct.frame_hashes_test
    )


def test_label_maker_labels_mlip_feedback_candidates_with_provenance():
    docs = surrogate_like_documents(2, seed=40, counts={"Cu": 10, "Zr": 10, "Al": 2}, box=7.5)
    job = LabelMaker(subset="mlip_feedback").make(docs)
    store = memory_job_store()
    run_locally(job, store=store, ensure_success=True)
    out = _doc(store.get_output(job.uuid, load=True), SubsetDocument)
    assert out.counts["n_frames"] == 2 and all(f.subset == "mlip_feedback" for f in out.frames)
    assert all(f.source.job_uuid == job.uuid for f in out.frames)
    with pytest.raises(ValueError, match="subset"):
        LabelMaker(subset="nonsense")


def test_with_vasp_every_subset_becomes_one_atomate2_job_per_calculation(tmp_path, monkeypatch):
    """engine="vasp": subset jobs replace themselves by the paper's atomate2 Makers; VASP is replaced by a
    fake executable that labels the written POSCAR with the EAM following the INCAR."""
    import atomate2.vasp.jobs.base as a2base

    from mlip_glass.reference.engines import EAMEngine
    from mlip_glass.reference.vasp import VaspEngine
    from mlip_glass.testing.fake_vasp import run_fake_vasp

    monkeypatch.setattr(a2base, "run_vasp", run_fake_vasp)
    docs = surrogate_like_documents(2, seed=50, counts={"Cu": 7, "Zr": 7, "Al": 2}, box=6.8)
    vasp = VaspEngine(write_input_set_kwargs={"potcar_spec": True})
    maker = ReferenceDatabaseMaker(
        engine=vasp,
        relaxed=None,
        crystal=CrystalSubsetMaker(names=["CuZr-B2"], protocol=RelaxProtocol(max_steps=300)),
        expanded_compressed=ExpandedCompressedMaker(n_select=1, factors=(0.95, 1.05)),
        distorted=DistortedMaker(n_select=1, strains=(0.004,)),
        aimd=AIMDSubsetMaker(n_select=1, protocol=AIMDProtocol(nsteps=3)),
        report=None,
    )
    flow = maker.make(docs)
    store = memory_job_store()
    run_locally(flow, store=store, ensure_success=True, create_folders=True, root_dir=tmp_path)
    ds = _doc(store.get_output(flow.output.uuid, load=True), DatasetDocument)
    assert ds.engines == ["vasp"]
    totals = {k: v["total"] for k, v in ds.counts.items()}
    assert totals == {"surrogate": 2, "expanded_compressed": 2, "distorted": 6, "aimd": 3, "crystal": 1}
    # one VASP TaskDoc per calculation: 2 surrogate + 2 scaled + 6 strained single points, 1 AIMD, 1 crystal relax
    task_docs = list(store.docs_store.query({"output.calcs_reversed": {"$exists": True}}))
    assert len(task_docs) == 12
    # the labels are those of the engine behind the fake executable
    frames = frames_from_text(ds.train_xyz + ds.test_xyz)
    assert {a.info["engine"] for a in frames} == {"vasp"}
    surrogate_energy = EAMEngine().static(docs[0]["structure"]).energy
    assert min(abs(a.info["energy"] - surrogate_energy) for a in frames) < 1e-5


def test_loop_assembly_extends_the_previous_dataset_read_back_from_the_store_and_keeps_its_split():
    """Dataset k+1 from dataset k (by uuid, frames read back from the store) + new frames: the loop's
    AssembleDatasetMaker keeps dataset k's test frames in test and stores a plain dict."""
    from mlip_glass.active_learning.jobs import feedback_label_maker, loop_assemble_maker
    from mlip_glass.testing.al_standins import TOY_ENGINE, random_cell

    store = memory_job_store()
    first = feedback_label_maker(TOY_ENGINE, subset="surrogate").make([random_cell(300 + i) for i in range(4)])
    dataset0 = loop_assemble_maker(seed=1).make(first.output)
    second = feedback_label_maker(TOY_ENGINE).make([random_cell(400 + i) for i in range(3)])
    merged = loop_assemble_maker(seed=2).make(second.output, previous=dataset0.uuid, reused=[])
    flow = stamp(Flow([first, dataset0, second, merged]), campaign="assemble-loop")
    run_locally(flow, store=store, ensure_success=True)
    outputs = [store.get_output(job.uuid, load=True) for job in (dataset0, merged)]
    assert all(isinstance(out, dict) and "@class" not in out for out in outputs)
    ds0, merged_ds = outputs
    assert merged_ds["previous_dataset_hash"] == ds0["dataset_hash"]
    assert set(ds0["frame_hashes_test"]) <= set(merged_ds["frame_hashes_test"])  # the split of dataset 0 is kept
    assert merged_ds["counts"]["mlip_feedback"]["total"] == 3
    names = {d["name"] for d in store.docs_store.query({"metadata.stage": "dataset"}, properties=["name"])}
    assert names == {"al assemble dataset"}
