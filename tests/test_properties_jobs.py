"""Property Makers and the suite: documents with provenance in the store, curves in the data store,
split jobs equal one job, failed runs named while the others are kept, worker crashes isolated,
checkpoints reused, inputs fetched from the store by campaign."""

import ctypes
import textwrap
import secrets
from pathlib import Path

import numpy as np
import pytest
from ase.build import bulk
from jobflow import Flow, job, run_locally
from pymatgen.io.ase import AseAtomsAdaptor

from mlip_glass.properties.protocols import AQSProtocol, RDFProtocol
from mlip_glass.properties.jobs import (
    AQSShearMaker,
    ElasticMaker,
    EnergeticsMaker,
    PropertySuiteMaker,
    RDFMaker,
)
from mlip_glass.properties.parallel import run_tasks
from mlip_glass.properties.potentials import NEPPotential, cheng_ma_sheng
from mlip_glass.properties.rdf import random_alloy
from mlip_glass.properties.runners import compute_rdf
from mlip_glass.properties.store import fetch_nep_potentials, fetch_reference_frames
from mlip_glass.provenance import stamp, structure_hash
from mlip_glass.store import memory_job_store

NEP_FIXTURE = Path(__file__).parent / "data" / "nep_cuzral_tiny.txt"
TINY_RDF = dict(n_atoms=60, equilibration_ps=0.2, cooling_rate_k_per_ns=1e7, sample_ps=0.1,
                sample_frames=2, n_bins=40, r_max=6.0, n_workers=1)


def _frames(n=4):
    frames = []
    for i, a in enumerate([3.55, 3.60, 3.65, 3.70][:n]):
        s = AseAtomsAdaptor.get_structure(bulk("Cu", "fcc", a=a, cubic=True))
        frames.append({"structure": s.as_dict(), "energy": 4 * (-5.0 - 0.1 * i), "engine": "vasp",
                       "subset": "relaxed", "structure_hash": structure_hash(s)})
    return frames


def test_suite_documents_record_provenance_and_route_curves_to_data_store():
    frames = _frames()
    suite = PropertySuiteMaker(
        rdf_maker=RDFMaker(n_runs=1, **TINY_RDF),
        elastic_maker=ElasticMaker(n_workers=1),
        aqs_maker=AQSShearMaker(protocol=AQSProtocol(strain_step=1e-3), n_workers=1),
        energetics_maker=EnergeticsMaker(n_workers=1),
    )
    flow = suite.make([cheng_ma_sheng()], structures=frames[:1], energetics_structures=frames)
    stamp(flow, campaign="test", iteration=2)
    store = memory_job_store()
    out = run_locally(flow, store=store, ensure_success=True)
    rows = {r["property"]: r for r in out[flow.output.uuid][1].output["rows"]}
    assert set(rows) == {"rdf", "elastic", "aqs_shear", "energetics"}
    docs = {d["output"]["property"]: d for d in store.query({"metadata.stage": "properties",
                                                            "output.property": {"$exists": True}})}
    eam_file_hash = docs["elastic"]["output"]["potential"]["potential_id"]
    assert len(eam_file_hash) == 64 and all(d["metadata"]["iteration"] == 2 for d in docs.values())
    assert docs["elastic"]["output"]["structure_hashes"] == [frames[0]["structure_hash"]]
    # curves sit in the data store, referenced from the job document
    assert "blob_uuid" in docs["aqs_shear"]["output"]["curves"]
    assert store.additional_stores["data"].count() == 3  # rdf, elastic, aqs curves
    loaded = store.get_output(docs["aqs_shear"]["uuid"], load=True)
    assert len(loaded["curves"]["stress"][0]) == 11
    # AQS G of fcc Cu equals its C66 from the elastic job (same potential, independent protocol)
    c66 = docs["elastic"]["output"]["samples"][0]["C"][5][5]
    assert rows["aqs_shear"]["G"] == pytest.approx(c66, rel=0.02)
    # energetics against reference energies of the LabelledFrames
    assert rows["energetics"]["n"] == 4 and docs["energetics"]["output"]["samples"][0]["reference_engine"] == "vasp"
    # Figs. 4a, 4b, 5a, 5b render from the stored documents
    from mlip_glass.properties import plots

    full = {k: store.get_output(d["uuid"], load=True) for k, d in docs.items()}
    full = {k: v if isinstance(v, dict) else v.model_dump() for k, v in full.items()}
    for func, key in ((plots.plot_rdf, "rdf"), (plots.plot_moduli, "elastic"),
                      (plots.plot_shear_vs_energy, "aqs_shear"), (plots.plot_energy_parity, "energetics")):
        fig = func([full[key]])
        assert fig.axes[0].lines or fig.axes[0].patches


def test_split_rdf_jobs_give_the_same_g_of_r_as_one_job():
    one = RDFMaker(n_runs=2, **TINY_RDF).make(cheng_ma_sheng())
    split = RDFMaker(n_runs=2, runs_per_job=1, **TINY_RDF).make(cheng_ma_sheng())
    flow = Flow([one, split])
    store = memory_job_store()
    out = run_locally(flow, store=store, ensure_success=True)
    a, b = (store.get_output(j.uuid, load=True) for j in (one, split))
    a, b = (d if isinstance(d, dict) else d.model_dump() for d in (a, b))
    assert a["seeds"] == sorted(b["seeds"]) == [0, 1]
    np.testing.assert_allclose(a["curves"]["g_total"], b["curves"]["g_total"], atol=1e-12)
    np.testing.assert_allclose(a["curves"]["g_total_err"], b["curves"]["g_total_err"], atol=1e-12)
    assert a["number_density"] == pytest.approx(b["number_density"])
    assert out  # ran


def test_a_run_with_uncovered_species_fails_by_name_and_other_runs_are_kept():
    good = random_alloy(60, seed=1)
    bad = bulk("Ni", "fcc", a=3.52, cubic=True).repeat((2, 2, 2))
    doc = compute_rdf(cheng_ma_sheng(), [good, bad], n_runs=2,
                      protocol=RDFProtocol(equilibration_ps=0.2, cooling_rate_k_per_ns=1e7, sample_ps=0.1,
                                           sample_frames=2, n_bins=40, r_max=6.0), n_workers=2)
    assert doc.n_ok == 1 and doc.seeds == [0]
    assert len(doc.failures) == 1 and "rdf run 1" in doc.failures[0].error and "Ni" in doc.failures[0].error
    assert doc.curves["g_total"]


def test_worker_crash_is_isolated_and_checkpoints_are_reused(tmp_path):
    tasks = [{"text": "  a\n  b"}, {"ptr": 0}]  # the second segfaults its worker
    outcomes = run_tasks(lambda_free_dispatch, [dict(kind="dedent", **tasks[0]), dict(kind="crash", **tasks[1])],
                         ["good", "crash"], n_workers=2)
    assert outcomes[0].ok and outcomes[0].result == "a\nb"
    assert not outcomes[1].ok and "crash" in outcomes[1].error and "died" in outcomes[1].error
    # token_hex differs at every call: equal results show the second call read the checkpoints
    tasks = [{"nbytes": 8}, {"nbytes": 9}]
    first = run_tasks(secrets.token_hex, tasks, n_workers=1, checkpoint_dir=tmp_path)
    again = run_tasks(secrets.token_hex, tasks, n_workers=2, checkpoint_dir=tmp_path)
    assert [o.result for o in first] == [o.result for o in again]
    assert first[0].result != first[1].result and secrets.token_hex(8) != first[0].result


def lambda_free_dispatch(kind, **kwargs):
    """Picklable by reference only if importable; run_tasks pickles the function itself, so use
    library functions inside."""
    return textwrap.dedent(kwargs["text"]) if kind == "dedent" else ctypes.string_at(kwargs["ptr"])


def test_nep_models_and_reference_frames_are_fetched_from_the_store_by_campaign():
    store = memory_job_store()
    nep_txt = NEP_FIXTURE.read_text()
    frames = _frames(2)
    train = fake_nep_job(nep_txt)
    train.update_metadata({"stage": "nep"})
    label = fake_reference_job(frames + [dict(frames[0])])  # a duplicate is dropped
    label.update_metadata({"stage": "reference"})
    flow = stamp(Flow([train, label]), campaign="cuzral", iteration=1)
    run_locally(flow, store=store, ensure_success=True)
    (nep,) = fetch_nep_potentials(store, "cuzral")
    assert isinstance(nep, NEPPotential) and nep.model_hash == NEPPotential(nep_txt).model_hash
    assert nep.model_uuid == train.uuid
    got = fetch_reference_frames(store, "cuzral", subset="relaxed", iteration=1)
    assert [f["structure_hash"] for f in got] == [f["structure_hash"] for f in frames]
    with pytest.raises(ValueError, match="no completed NEP"):
        fetch_nep_potentials(store, "other campaign")
    # the suite reads the same inputs at run time and compares the NEP with the EAM
    suite = PropertySuiteMaker(rdf_maker=None, elastic_maker=None, aqs_maker=None,
                               energetics_maker=EnergeticsMaker(n_workers=1)).from_store("cuzral")
    out = run_locally(suite, store=store, ensure_success=True)
    rows = next(r.output for r in (v[max(v)] for v in out.values()) if isinstance(r.output, dict)
                and "rows" in r.output)["rows"]
    assert {r["potential_id"] for r in rows} >= {nep.model_hash}
    assert {r["property"] for r in rows} == {"energetics"} and len(rows) == 2


@job
def fake_nep_job(nep_txt):
    return {"status": "completed", "nep_txt": nep_txt}


@job
def fake_reference_job(frames):
    return {"frames": frames}


def test_makers_default_to_the_papers_protocols():
    rdf = RDFMaker.paper()
    assert (rdf.n_atoms, rdf.t_high, rdf.t_low, rdf.cooling_rate_k_per_ns, rdf.n_runs) == (1500, 2000, 300, 100, 80)
    assert rdf.compare_range == (2.3, 10.0) and rdf.runs_per_job == 1
    # 17 ns of cooling at 2 fs plus equilibration and sampling, 1500 atoms
    assert rdf.atom_steps_per_run() == pytest.approx((100 + 17000 + 20) / 0.002 * 1500)
    aqs = AQSShearMaker().protocol
    assert (aqs.max_strain, tuple(aqs.fit_range)) == (0.01, (0.004, 0.006))
    elastic = ElasticMaker().protocol
    assert set(elastic.norm_strains) == set(elastic.shear_strains) == {-0.008, -0.004, 0.004, 0.008}


def test_energetics_keeps_energies_when_the_parity_is_undefined():
    from mlip_glass.properties.runners import compute_energetics

    frames = _frames(3)
    for f in frames:
        f["energy"] = -20.0  # all equal: no slope
    doc = compute_energetics(cheng_ma_sheng(), frames, n_workers=1)
    assert doc.n_ok == 3 and doc.parity is None
    assert "all equal" in doc.failures[0].error
    # energies per atom of the compressed/expanded fcc Cu cells: the minimum is near a = 3.615 Å
    e = [s.e_potential for s in doc.samples]
    assert e[1] < e[0] and e[1] < e[2]


def test_protocols_carry_the_paper_numbers_and_are_passed_whole():
    """ElasticProtocol / AQSProtocol are passed whole (or as their dict) and hold the paper's numbers."""
    from mlip_glass.properties.protocols import ElasticProtocol

    assert ElasticMaker().protocol == ElasticProtocol() and AQSShearMaker().protocol == AQSProtocol()
    assert ElasticProtocol().norm_strains == (-0.008, -0.004, 0.004, 0.008) and AQSProtocol().fit_range == (0.004, 0.006)
    from_dict = AQSShearMaker(protocol={"strain_step": 5e-4, "plane": "xz"})
    assert from_dict.protocol == AQSProtocol(strain_step=5e-4, plane="xz")
    assert AQSShearMaker.demo().protocol.strain_step == 5e-4 and ElasticMaker.demo().protocol.fmax == 1e-4
    with pytest.raises(ValueError, match="plane"):
        AQSProtocol(plane="xx")
    with pytest.raises(ValueError, match="norm_strains"):
        ElasticProtocol(norm_strains=(0.0, 0.004))
