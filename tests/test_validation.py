"""Closed-loop validation: held-out frames are the reference engine's own single points, hot states are less
dense, a collapsing MLIP run keeps the states before it broke, the best model is kept when a later one is worse,
and the report's "NEP vs reference" numbers are what they claim to be."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
from jobflow import Flow, run_locally

from mlip_glass import queries
from mlip_glass.active_learning.feedback import COLLAPSE_DISTANCE_A, feedback_trajectory, min_pair_distance
from mlip_glass.active_learning.protocols import FeedbackMDProtocol
from mlip_glass.properties.potentials import LammpsPairPotential
from mlip_glass.provenance import stamp
from mlip_glass.reference.engines import get_engine
from mlip_glass.report.closed_loop import closed_loop_table, rdf_mae, relative_difference
from mlip_glass.store import memory_job_store
from mlip_glass.surrogate.state import random_liquid
from mlip_glass.properties.potentials import nep_model_hash
from mlip_glass.stage import stage_job
from mlip_glass.validation.checks import selection_score
from mlip_glass.validation.heldout import HeldOutProtocol, category_counts, heldout_frames, mean_volume_per_atom
from mlip_glass.validation.jobs import HeldOutSetMaker, ModelValidationMaker

warnings.filterwarnings("ignore")
TINY_NEP = Path(__file__).parent / "data" / "nep_cuzral_tiny.txt"
#: a few-second protocol: 60 atoms, short plateaus
TINY = dict(n_runs=2, n_atoms=60, frames_per_plateau=2, melt_ps=2.0, cool_ps=0.5, plateau_ps=0.5,
            sample_every_ps=0.2, relax_fmax=1e-3, inherent_every=3)


@pytest.fixture(scope="module")
def frames():
    return heldout_frames("eam", HeldOutProtocol(**TINY))


def test_heldout_frames_are_single_points_of_the_reference_engine(frames):
    engine = get_engine("eam")
    counts = category_counts(frames)
    assert counts == {**{c: 4 for c in ("md_2000K", "md_1200K", "md_700K", "md_300K", "relaxed",
                                         "scaled_0.97", "scaled_1.03")}, "is_2000K": 2, "is_1200K": 2}
    for frame in frames[::5]:
        energy, forces, _ = engine.compute(frame)
        assert frame.info["energy"] == pytest.approx(energy, abs=1e-8)
        assert np.allclose(frame.arrays["forces"], forces, atol=1e-8)
    relaxed = [f for f in frames if f.info["config_type"] in ("relaxed", "is_2000K", "is_1200K")]
    for frame in relaxed:  # minimised: forces below the tolerance, zero pressure (virial only, no kinetic part)
        assert np.abs(frame.arrays["forces"]).max() < 2e-3
        virial = np.asarray(frame.info["virial"], float).reshape(3, 3)
        assert abs(np.trace(virial)) / 3 / frame.get_volume() * 160.2 < 0.05  # GPa


def test_hot_liquid_is_less_dense_than_the_glass_and_scaling_is_exact(frames):
    assert mean_volume_per_atom(frames, "md_2000K") > 1.03 * mean_volume_per_atom(frames, "md_300K")
    relaxed = mean_volume_per_atom(frames, "relaxed")
    assert mean_volume_per_atom(frames, "scaled_0.97") == pytest.approx(relaxed * 0.97**3, rel=1e-9)
    assert mean_volume_per_atom(frames, "scaled_1.03") == pytest.approx(relaxed * 1.03**3, rel=1e-9)


def test_a_collapsing_mlip_run_keeps_the_states_before_it_broke():
    # Buckingham-like collapse: an attractive pair potential without a repulsive core (LJ, tiny sigma)
    collapsing = LammpsPairPotential(pair_style="lj/cut 6.0", pair_coeff=["* * 0.5 0.9"], name="collapsing")
    start = random_liquid(n=60, seed=3)
    start.scale_lattice(60 * 17.3)
    protocol = FeedbackMDProtocol(equil_steps=2000, quench_steps=1000)
    snapshots, summary = feedback_trajectory(start, collapsing, seed=5, protocol=protocol, snapshot_every=20)
    assert summary["failed"] is not None and summary["steps_done"] < 3000
    assert "collapsed" in summary["failed"] or "volume" in summary["failed"] or "non-finite" in summary["failed"]
    assert snapshots, "states before the collapse are kept"
    assert [s[0] for s in snapshots] == list(range(20, summary["steps_done"] + 1, 20))
    assert all(min_pair_distance(a) >= COLLAPSE_DISTANCE_A for _, _, a in snapshots)


def _perturbed_nep(tmp_path) -> Path:
    """The tiny NEP with its network weights scaled: same species and cutoffs, worse energies."""
    lines = TINY_NEP.read_text().splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("ANN")) + 1
    out = lines[:header] + [f"{float(v) * 1.5:.8e}" if v.strip() else v for v in lines[header:]]
    path = tmp_path / "nep_worse.txt"
    path.write_text("\n".join(out) + "\n")
    return path


@stage_job("nep", data=["nep_txt"])
def stored_model(path: str) -> dict:
    """A NEP model document of a nep.txt file, as the NEP stage stores it."""
    text = Path(path).read_text()
    return {"status": "completed", "nep_txt": text, "model_hash": nep_model_hash(text)}


def test_the_best_model_is_kept_when_a_later_iteration_is_worse(tmp_path):
    heldout = HeldOutSetMaker(protocol=HeldOutProtocol(**TINY)).make()
    fit0 = stored_model(str(TINY_NEP))
    fit1 = stored_model(str(_perturbed_nep(tmp_path)))
    fit1.update_metadata({"iteration": 1}, dynamic=False)
    v0 = ModelValidationMaker().make(fit0.output, model_uuid=fit0.uuid, iteration=0, after=heldout.output)
    v1 = ModelValidationMaker().make(fit1.output, model_uuid=fit1.uuid, iteration=1, after=heldout.output)
    final = ModelValidationMaker(physical_checks=True, n_stability_runs=1, n_relax_checks=1).make(after=v1.output)
    flow = stamp(Flow([heldout, fit0, fit1, v0, v1, final]), campaign="val")
    for job in (fit1, v1):
        job.update_metadata({"iteration": 1}, dynamic=False)
    store = memory_job_store()
    run_locally(flow, store=store, ensure_success=True, log=False)
    scores = {d["output"]["iteration"]: d["output"]["selection_score"] for d in queries.model_validations(store, "val")
              if not d["output"]["physical_checks"]}
    assert scores[1] > scores[0]  # the perturbed model is worse on the validation split
    assert queries.best_model(store, "val")["uuid"] == fit0.uuid  # ... so model 0 is kept
    final_doc = store.get_output(final.uuid)
    assert final_doc["model_uuid"] == fit0.uuid and final_doc["physical_checks"]
    assert final_doc["relaxation"] is not None and final_doc["stability"] is not None
    # the score is the documented combination of the validation errors
    v0_doc = store.get_output(v0.uuid)
    assert v0_doc["selection_score"] == pytest.approx(selection_score(v0_doc["validation_errors"]))
    validations = [d["output"] for d in queries.model_validations(store, "val")]
    rows = closed_loop_table({"validations": validations, "final_validation": final_doc,
                              "best_model_uuid": fit0.uuid, "properties": {}})
    kept = [r for r in rows if r["quantity"].startswith("iteration")]
    assert len(kept) == 2 and "kept (best)" in kept[0]["note"] and "kept" not in kept[1]["note"]
    assert any(r["quantity"].startswith("held-out md_2000K") for r in rows)


def test_rdf_mae_and_relative_difference_are_what_they_say():
    r = np.linspace(0.0, 12.0, 1201)
    g = 1 + np.sin(r)
    ref = {"curves": {"r": r.tolist(), "g_weighted": {"xray": g.tolist()}}}
    same = {"curves": {"r": r[::2].tolist(), "g_weighted": {"xray": g[::2].tolist()}}}
    shifted = {"curves": {"r": r.tolist(), "g_weighted": {"xray": (g + 0.05).tolist()}}}
    assert rdf_mae(same, ref) < 1e-4  # the same curve on a coarser grid
    assert rdf_mae(shifted, ref) == pytest.approx(0.05, abs=1e-12)
    assert relative_difference(110.0, 100.0) == pytest.approx(10.0)
    assert relative_difference(1.0, 0.0) is None


def test_elastic_rows_compare_only_structures_where_both_potentials_stayed_linear():
    from mlip_glass.report.closed_loop import property_rows

    symmetric = np.diag([150.0, 150, 150, 25, 25, 25]).tolist()
    skewed = (np.diag([150.0, 150, 150, 25, 25, 25]) + np.triu(np.full((6, 6), 30.0), 1)).tolist()

    def doc(name, samples):
        return {"potential": {"name": name, "kind": "nep" if name == "NEP" else "eam"},
                "samples": [{"structure_hash": h, "G": g, "B": 100.0, "E": 60.0, "nu": 0.4, "C": c}
                            for h, g, c in samples]}

    nep = doc("NEP", [("a", 20.0, symmetric), ("b", 24.0, symmetric), ("c", 50.0, skewed)])
    ref = doc("EAM", [("a", 20.0, symmetric), ("b", 20.0, symmetric), ("c", 20.0, symmetric)])
    rows = {r["quantity"]: r for r in property_rows({"elastic": [ref, nep]}, "EAM")}
    g_row = rows["shear modulus G (GPa)"]
    assert g_row["nep"] == "22" and g_row["reference"] == "20" and g_row["value"] == "10 %"  # structure c left out
    assert "same 2 minimised structures" in g_row["note"] and "with the NEP on 1, with the reference on 0" in g_row["note"]


def test_rdf_noise_mae_predicts_the_mae_of_two_noisy_estimates_of_one_curve():
    from mlip_glass.report.closed_loop import rdf_noise_mae

    rng = np.random.default_rng(3)
    r = np.linspace(0.0, 10.0, 2001)
    g = 1 + np.sin(3 * r) * np.exp(-r / 4)
    sigma_a, sigma_b = 0.02 + 0.01 * np.cos(r) ** 2, 0.03 * np.ones_like(r)

    def doc(sigma):
        noisy = g + rng.normal(0.0, sigma)
        return {"curves": {"r": r.tolist(), "g_weighted": {"xray": noisy.tolist()}, "g_total_err": sigma.tolist()}}

    a, b = doc(sigma_a), doc(sigma_b)
    # Monte-Carlo MAE of two independent noisy estimates vs the Gaussian formula (1540 bins in 2.3–10 Å: ~2 % scatter)
    assert rdf_mae(a, b) == pytest.approx(rdf_noise_mae(a, b), rel=0.06)
    assert rdf_noise_mae(a, b) == pytest.approx(
        np.sqrt(2 / np.pi) * np.mean(np.sqrt(sigma_a ** 2 + sigma_b ** 2)[(r >= 2.3) & (r <= 10.0)]), rel=1e-12)
    assert rdf_noise_mae({"curves": {"r": [1.0]}}, b) is None


def test_ablation_table_puts_each_campaigns_kept_model_side_by_side():
    from mlip_glass.report.closed_loop import ablation_table

    store = memory_job_store()
    store.connect()
    docs = []
    for campaign, deep_force in (("with", 90.0), ("without", 140.0)):
        errors = {"swap_mc_deep": {"rmse_energy_meV_per_atom": 3.0, "rmse_force_meV_per_A": deep_force},
                  "all": {"rmse_energy_meV_per_atom": 9.0, "rmse_force_meV_per_A": 120.0}}
        docs.append({"uuid": f"v-{campaign}", "index": 1, "name": queries.MODEL_VALIDATION_JOB_NAME,
                     "metadata": {"campaign": campaign, "stage": "validation"},
                     "output": {"iteration": 1, "model_uuid": f"m-{campaign}", "physical_checks": True,
                                "selection_score": 1.0, "heldout_errors": errors}})
        docs.append({"uuid": f"m-{campaign}", "index": 1, "name": "nep fit",
                     "metadata": {"campaign": campaign, "stage": "fit"},
                     "output": {"n_train": 80 if campaign == "with" else 96, "n_test": 20}})
        for name, g in (("NEP x", 20.0 if campaign == "with" else 30.0), ("EAM", 25.0)):
            docs.append({"uuid": f"a-{campaign}-{name}", "index": 1, "name": "aqs",
                         "metadata": {"campaign": campaign, "stage": "properties"},
                         "output": {"property": "aqs_shear", "potential": {"name": name},
                                    "samples": [{"G": g, "energy_per_atom": -4.9}]}})
    store.docs_store.update(docs, key=["uuid", "index"])
    rows = {r["quantity"]: r for r in ablation_table(store, "with", "without")}
    deep = rows["held-out swap_mc_deep: E / F RMSE (meV/atom, meV/Å)"]
    assert (deep["with"], deep["without"]) == ("3 / 90", "3 / 140")
    aqs = rows["NEP vs reference: AQS shear modulus G (GPa)"]
    assert (aqs["with"], aqs["without"]) == ("-20 %", "20 %")
    sizes = rows["kept model's dataset: train / test frames"]
    assert (sizes["with"], sizes["without"]) == ("80 / 20", "96 / 20")
