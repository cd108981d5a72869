"""Surrogate Makers: documents (Å/eV, hashes, acceptance), data-store routing, the grid flow and Fig. 2a."""

import logging

import numpy as np
import pytest
from jobflow import OutputReference, run_locally
from store_checks import assert_in_data_store

from mlip_glass.provenance import structure_hash
from mlip_glass.store import memory_job_store
from mlip_glass.surrogate.jobs import (
    InherentStructureMaker,
    MDCoolingMaker,
    SurrogateCoolingFlowMaker,
    SwapMCCoolingMaker,
    TimescaleMapMaker,
)
from mlip_glass.surrogate.model import LJModel, SurrogateInputError
from mlip_glass.surrogate.schemas import SurrogateStateDocument, TimescaleMapDocument
from mlip_glass.surrogate.state import random_liquid


def _run(flow_or_job, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    store = memory_job_store()
    run_locally(flow_or_job, store=store, ensure_success=True)
    return store


def test_swap_mc_maker_document_units_and_data_store(tmp_path, monkeypatch):
    job = SwapMCCoolingMaker(n_sweeps=200, seed=3, equilibration_sweeps=100).make()
    store = _run(job, tmp_path, monkeypatch)
    doc = job.output.resolve(store)
    assert isinstance(doc, SurrogateStateDocument)
    model = LJModel.paper()
    assert doc.method == "swap_mc" and doc.cooling_length == 200 and doc.n_atoms == 150 and doc.seed == 3
    assert doc.structure_hash == structure_hash(doc.structure)
    assert doc.energy == pytest.approx(model.energy(doc.structure), rel=1e-9)
    assert doc.energy_per_atom == pytest.approx(doc.energy_per_atom_reduced * 0.409)
    assert doc.e_is_per_atom < doc.energy_per_atom  # the minimum lies below the cooled state
    assert doc.e_is_per_atom == pytest.approx(model.energy(doc.is_structure) / 150, rel=1e-9)
    assert set(doc.acceptance) >= {"translation", "swap_Al-Cu", "swap_Al-Zr", "swap"}
    assert len(doc.energy_trace["x"]) == 200
    # the trace lives in the data store, not in the job document
    raw = store.query_one({"uuid": job.uuid}, load=False)
    assert "blob_uuid" in raw["output"]["energy_trace"]
    assert raw["metadata"]["stage"] == "surrogate"
    assert not list(tmp_path.glob("*.ckpt"))  # checkpoints removed after success


def test_md_and_inherent_structure_makers_share_the_document(tmp_path, monkeypatch):
    md = MDCoolingMaker(duration=2.0, seed=1, equilibration_sweeps=100, compute_inherent_structure=False).make()
    inh = InherentStructureMaker().make(md.output)
    store = _run([md, inh], tmp_path, monkeypatch)
    doc = inh.output.resolve(store)
    assert doc.method == "md" and doc.cooling_length == 2.0 and doc.tau_eff == 2.0
    assert doc.e_is_per_atom is not None and doc.is_structure_hash == structure_hash(doc.is_structure)


def test_grid_flow_maps_swap_mc_onto_md_time_axis(tmp_path, monkeypatch):
    maker = SurrogateCoolingFlowMaker(
        swap_sweeps=(100, 1000), md_times=(1.0, 40.0), n_samples=1,
        swap_maker=SwapMCCoolingMaker(equilibration_sweeps=200),
        md_maker=MDCoolingMaker(equilibration_sweeps=200),
    )
    flow = maker.make()
    monkeypatch.chdir(tmp_path)
    store = memory_job_store()
    responses = run_locally(flow, store=store, ensure_success=True)
    out = {k: v.resolve(store) if isinstance(v, OutputReference) else v for k, v in flow.output.items()}
    mapping = out["mapping"]
    assert isinstance(mapping, TimescaleMapDocument)
    states = out["states"]
    assert sorted((s.method, s.cooling_length) for s in states) == [
        ("md", 1.0), ("md", 40.0), ("swap_mc", 100.0), ("swap_mc", 1000.0)]
    for s in states:
        assert s.tau_eff is not None and s.tau_eff > 0
        # every point satisfies the fitted law (MD by construction of the axis, swap-MC by inversion)
        if s.method == "swap_mc":
            pred = mapping.e_is_on + mapping.slope_a * np.log10(s.tau_eff / mapping.tau_on)
            assert pred == pytest.approx(s.e_is_per_atom_reduced, rel=1e-9)
    assert mapping.t_on == 2.09 and mapping.t_on_source == "paper"
    assert mapping.slope_a < 0 and not mapping.warnings
    assert mapping.e_is_on_source.startswith("swap-MC equilibrium")
    assert (tmp_path / "fig2a_timescale_map.png").exists() or mapping.figure_path
    raw_map = store.query_one({"name": "time-scale map"}, load=False)
    assert "blob_uuid" in raw_map["output"]["figure_png"]  # the PNG sits in the data store
    assert_in_data_store(store, responses, raw_map["uuid"], "states")  # so do the states (structures)
    import base64
    assert base64.b64decode(mapping.figure_png)[:4] == b"\x89PNG"
    # the grid's jobs are queryable by method / cooling length / sample
    rows = list(store.query({"metadata.method": "swap_mc"}, properties=["metadata"]))
    assert sorted(r["metadata"]["cooling_length"] for r in rows) == [100.0, 1000.0]
    assert all(r["metadata"]["stage"] == "surrogate" and r["metadata"]["sample"] == 0 for r in rows)


def test_flow_maker_bad_grid_is_named():
    with pytest.raises(SurrogateInputError, match="md_times"):
        SurrogateCoolingFlowMaker(md_times=(10.0,))
    with pytest.raises(SurrogateInputError, match="swap_sweeps"):
        SurrogateCoolingFlowMaker(swap_sweeps=(0,))


def test_map_maker_needs_inherent_structures():
    s = random_liquid(20, seed=0)
    doc = SurrogateStateDocument(structure=s, structure_hash=structure_hash(s), method="md", cooling_length=1.0,
                                 t_start=10.01, t_end=0.01, n_atoms=20, seed=0, energy=0.0, energy_per_atom=0.0,
                                 energy_per_atom_reduced=0.0, model={}, length_unit_angstrom=2.932,
                                 energy_unit_ev=0.409)
    with pytest.raises(SurrogateInputError, match="inherent-structure"):
        TimescaleMapMaker().make.original(TimescaleMapMaker(), [doc, doc])


def test_checkpoint_names_identify_the_run(tmp_path):
    """A relaunched job finds its own checkpoint (same name) and never that of other parameters."""
    s = random_liquid(20, seed=0)
    a = SwapMCCoolingMaker(n_sweeps=100, checkpoint_dir=str(tmp_path))
    assert a._ckpt("swapmc", s, 1) == SwapMCCoolingMaker(n_sweeps=100, checkpoint_dir=str(tmp_path))._ckpt(
        "swapmc", s, 1)
    assert a._ckpt("swapmc", s, 1) != SwapMCCoolingMaker(n_sweeps=200, checkpoint_dir=str(tmp_path))._ckpt(
        "swapmc", s, 1)
    assert a._ckpt("swapmc", s, 1) != a._ckpt("swapmc", s, 2)
    assert a._ckpt("swapmc", s, 1).parent == tmp_path


def test_swap_mc_maker_resumes_from_its_checkpoint(tmp_path, monkeypatch, caplog):
    """A checkpoint left by an interrupted job is picked up: the job's result equals an uninterrupted run."""
    from mlip_glass.surrogate.jobs import LIQUID_SEED_OFFSET
    from mlip_glass.surrogate.swap_mc import swap_mc

    maker = SwapMCCoolingMaker(n_sweeps=300, seed=2, equilibration_sweeps=0, compute_inherent_structure=False,
                               checkpoint_dir=str(tmp_path / "ck"), checkpoint_every=50)
    initial = random_liquid(150, seed=2 + LIQUID_SEED_OFFSET)
    ck = maker._ckpt("swapmc", initial, 2)
    part = swap_mc(initial, None, maker.t_start, maker.t_end, 300, 2, checkpoint_path=ck, checkpoint_every=50,
                   stop_after=120)
    assert not part.completed
    job = maker.make()
    with caplog.at_level(logging.INFO, logger="mlip_glass.surrogate.swap_mc"):
        store = _run(job, tmp_path, monkeypatch)
    assert "resumed from" in caplog.text and "at sweep 120 / 300" in caplog.text
    doc = job.output.resolve(store)
    clean = swap_mc(initial, None, maker.t_start, maker.t_end, 300, 2)
    assert doc.energy_per_atom_reduced == clean.energy_reduced / 150
    assert doc.structure_hash == structure_hash(clean.structure)
    assert not ck.exists()
