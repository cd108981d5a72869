"""The active-learning loop on stand-in stages: iterations read dataset k / model k from the store,
datasets only grow by new hashes, test frames never leak into train, a crashed iteration resumes from
the store without relabelling, stop criteria."""

from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path

import pytest
from jobflow import run_locally
from store_checks import assert_in_data_store

from mlip_glass import queries
from mlip_glass.provenance import stamp
from mlip_glass.store import memory_job_store
from mlip_glass.testing.al_standins import toy_campaign_flow, toy_loop_maker

CAMPAIGN = "al-test"


@pytest.fixture(scope="module")
def campaign_run():
    store = memory_job_store()
    responses = run_locally(toy_campaign_flow(CAMPAIGN, max_iterations=2, n_feedback_runs=2), store=store,
                            ensure_success=True, log=False)
    return store, responses


@pytest.fixture(scope="module")
def campaign_store(campaign_run):
    return campaign_run[0]


def test_feedback_snapshots_and_selected_structures_live_in_the_data_store(campaign_run):
    store, responses = campaign_run
    runs = list(store.query({"metadata.campaign": CAMPAIGN, "name": queries.FEEDBACK_JOB_NAME}, properties=["uuid"]))
    assert len(runs) == 4  # 2 iterations x 2 runs
    for run in runs:
        assert_in_data_store(store, responses, run["uuid"], "snapshots")
    n_to_label = 0
    for select in store.query({"metadata.campaign": CAMPAIGN, "name": "al select"}, properties=["uuid"]):
        assert_in_data_store(store, responses, select["uuid"], "reused_frames")
        out = assert_in_data_store(store, responses, select["uuid"], "to_label")
        assert len(out["to_label"]) == out["n_to_label"]
        n_to_label += out["n_to_label"]
    labelled = store.query({"metadata.campaign": CAMPAIGN, "metadata.iteration": {"$gte": 1}, "name": "al label"},
                           load=True)
    assert n_to_label > 0 and sum(len(queries.frames_in_output(d["output"])) for d in labelled) == n_to_label


def _dataset_hashes(store, k):
    d = queries.find_dataset(store, CAMPAIGN, k)["output"]
    return set(d["frame_hashes_train"]), set(d["frame_hashes_test"])


def test_each_iteration_adds_only_new_hashes_and_keeps_the_split(campaign_store):
    assert queries.finished_iterations(campaign_store, CAMPAIGN) == [0, 1, 2]
    for k in (1, 2):
        train_prev, test_prev = _dataset_hashes(campaign_store, k - 1)
        train, test = _dataset_hashes(campaign_store, k)
        assert train_prev <= train and test_prev <= test  # earlier frames kept, in the same split
        assert not (train & test)  # no leak between splits
        new = (train | test) - (train_prev | test_prev)
        feedback = {r["structure_hash"] for r in queries.frames_of_subset(campaign_store, CAMPAIGN, "mlip_feedback", k)}
        assert new == feedback and len(new) == 2
        d = queries.find_dataset(campaign_store, CAMPAIGN, k)["output"]
        assert d["previous_dataset_hash"] == queries.find_dataset(campaign_store, CAMPAIGN, k - 1)["output"]["dataset_hash"]


def test_feedback_runs_use_the_model_of_the_previous_iteration_from_the_store(campaign_store):
    for k in (1, 2):
        model_prev = queries.find_model(campaign_store, CAMPAIGN, k - 1)["output"]["model_hash"]
        runs = list(campaign_store.query({"metadata.campaign": CAMPAIGN, "metadata.iteration": k,
                                          "name": queries.FEEDBACK_JOB_NAME}))
        assert len(runs) == 2
        assert {r["output"]["model_hash"] for r in runs} == {model_prev}


def test_no_structure_is_labelled_twice(campaign_store):
    hashes = [f["structure_hash"] for f, _ in queries.iter_frames(campaign_store, CAMPAIGN)]
    assert len(hashes) == len(set(hashes)) == 3 + 2 + 2


def test_summary_reports_fractions_and_loop_stops_at_max_iterations(campaign_store):
    summary = queries.model_of_iteration(campaign_store, CAMPAIGN, 2)["summary"]
    assert summary["fractions"] == {"accurate": 0.0, "candidate": 1.0, "rejected": 0.0}
    assert summary["n_new_frames"] == 2
    last = [d for d in campaign_store.query({"metadata.campaign": CAMPAIGN, "name": "al step"})
            if d["output"].get("stopped")]
    assert len(last) == 1 and "max_iterations" in last[0]["output"]["reason"]
    assert last[0]["output"]["last_iteration"] == 2


def test_every_job_carries_campaign_stage_and_its_own_iteration(campaign_store):
    docs = list(campaign_store.query({}, properties=["metadata", "name"]))
    assert all(d["metadata"]["campaign"] == CAMPAIGN for d in docs)
    counts = Counter((d["metadata"]["stage"], d["metadata"]["iteration"]) for d in docs)
    for k in (1, 2):
        assert counts[("nep", k)] == 1 and counts[("dataset", k)] == 1 and counts[("reference", k)] == 1


def test_crashed_iteration_resumes_from_the_store_without_relabelling():
    store = memory_job_store()
    run_locally(toy_campaign_flow("resume", max_iterations=1), store=store, ensure_success=True, log=False)
    assert queries.last_finished_iteration(store, "resume") == 1
    crash = stamp(toy_loop_maker(max_iterations=2, fail_fit=True).make("resume"), "resume", 1)
    run_locally(crash, store=store, ensure_success=False, log=False)  # labels done, fit crashed
    assert queries.last_finished_iteration(store, "resume") == 1
    orphan = {r["structure_hash"] for r in queries.frames_of_subset(store, "resume", "mlip_feedback", 2)}
    assert len(orphan) == 2

    restart = stamp(toy_loop_maker(max_iterations=2).make("resume"), "resume", 1)
    run_locally(restart, store=store, ensure_success=True, log=False)
    assert queries.last_finished_iteration(store, "resume") == 2
    summary = queries.model_of_iteration(store, "resume", 2)["summary"]
    assert summary["n_labelled"] == 0 and summary["n_reused"] == 2
    train, test = (set(queries.find_dataset(store, "resume", 2)["output"][k])
                   for k in ("frame_hashes_train", "frame_hashes_test"))
    assert orphan <= train | test
    hashes = [f["structure_hash"] for f, _ in queries.iter_frames(store, "resume")]
    assert len(hashes) == len(set(hashes))


def test_loop_without_an_iteration_zero_model_names_the_campaign(caplog):
    caplog.set_level(logging.INFO)
    store = memory_job_store()
    flow = stamp(toy_loop_maker().make("empty"), "empty", 0)
    with pytest.raises(RuntimeError):
        run_locally(flow, store=store, ensure_success=True, log=False)
    assert "campaign 'empty' has no dataset + model" in caplog.text
    assert store.count({"metadata.campaign": "empty"}) == 0


NEP_TINY = str(Path(__file__).parent / "data" / "nep_cuzral_tiny.txt")


def test_identical_committee_finds_everything_accurate_and_the_loop_stops():
    store = memory_job_store()
    flow = toy_campaign_flow("committee", max_iterations=3, nep_txt_path=NEP_TINY, method="committee")
    run_locally(flow, store=store, ensure_success=True, log=False)
    assert len(queries.find_model(store, "committee", 1, committee=True)) == 3
    summary = queries.model_of_iteration(store, "committee", 1)["summary"]
    # members share one nep.txt: zero force deviation < trust_lo → accurate, nothing labelled
    assert summary["fractions"] == {"accurate": 1.0, "candidate": 0.0, "rejected": 0.0}
    assert summary["n_labelled"] == 0
    assert queries.finished_iterations(store, "committee") == [0, 1]
    stop = [d["output"] for d in store.query({"metadata.campaign": "committee", "name": "al step"})
            if d["output"].get("stopped")]
    assert len(stop) == 1 and "no new frames" in stop[0]["reason"]


def test_maxvol_selection_labels_exactly_the_candidates_between_the_bounds():
    store = memory_job_store()
    flow = toy_campaign_flow("maxvol", max_iterations=1, n_feedback_runs=3, nep_txt_path=NEP_TINY,
                             method="maxvol", gamma_lo=1.1, gamma_hi=1e9)
    run_locally(flow, store=store, ensure_success=True, log=False)
    select = next(store.query({"metadata.campaign": "maxvol", "name": "al select"}))["output"]
    scores = select["scores"]
    assert len(scores) == 3 and all(s > 0.9 for s in scores)  # jiggled training cells: gamma near 1
    assert select["classes"] == ["accurate" if s < 1.1 else "candidate" for s in scores]
    assert set(select["classes"]) == {"accurate", "candidate"}
    summary = queries.model_of_iteration(store, "maxvol", 1)["summary"]
    assert summary["n_labelled"] == select["classes"].count("candidate") - select["n_duplicates"]


def test_registry_flow_takes_its_campaign_from_the_stamped_metadata():
    from mlip_glass.active_learning.jobs import active_learning_flow

    store = memory_job_store()
    run_locally(toy_campaign_flow("stamped", max_iterations=0), store=store, ensure_success=True, log=False)
    loop = active_learning_flow(max_iterations=1, n_feedback_runs=1)
    maker = loop.jobs[0].function.__self__
    toy = toy_loop_maker(max_iterations=1, n_feedback_runs=1)
    for name in ("feedback", "select", "label", "assemble", "fit"):
        setattr(maker, name, getattr(toy, name))  # stand-in stages
    run_locally(stamp(loop, "stamped", 0), store=store, ensure_success=True, log=False)
    assert queries.finished_iterations(store, "stamped") == [0, 1]
