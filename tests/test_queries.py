"""Provenance queries on a finished stand-in campaign in the embedded (on-disk) store: model of an
iteration with its dataset and metrics, frames of a subset with job and engine, lineage back to the
surrogate run, learning curve, the CLI and the indexes; the same answers on the Mongo wire server."""

from __future__ import annotations

import json

import pytest
from jobflow import run_locally

from mlip_glass import queries
from mlip_glass.cli import main
from mlip_glass.store import get_job_store
from mlip_glass.testing.al_standins import toy_campaign_flow

CAMPAIGN = "q"


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    path = tmp_path_factory.mktemp("queries")
    run_locally(toy_campaign_flow(CAMPAIGN, max_iterations=2, n_feedback_runs=2),
                store=get_job_store("embedded", path), ensure_success=True, log=False)
    return path


@pytest.fixture
def store(project):
    s = get_job_store("embedded", project)
    s.connect()
    return s


def test_model_of_iteration_links_model_dataset_and_metrics(store):
    entry = queries.model_of_iteration(store, CAMPAIGN, 2)
    assert entry["model"]["dataset_hash"] == entry["dataset"]["dataset_hash"]
    assert entry["dataset"]["previous_dataset_hash"] == queries.model_of_iteration(store, CAMPAIGN, 1)["dataset"]["dataset_hash"]
    assert entry["dataset"]["n_train"] + entry["dataset"]["n_test"] == 3 + 2 + 2
    assert entry["model"]["rmse"]["train"]["all"]["rmse_force_meV_per_A"] > 0
    assert entry["summary"]["model_hash"] == entry["model"]["model_hash"]
    with pytest.raises(queries.ProvenanceError, match="iteration 7"):
        queries.model_of_iteration(store, CAMPAIGN, 7)


def test_frames_of_a_subset_name_their_producing_job_and_engine(store):
    rows = queries.frames_of_subset(store, CAMPAIGN, "surrogate")
    assert len(rows) == 3
    label_jobs = {d["uuid"] for d in store.query({"metadata.campaign": CAMPAIGN, "metadata.stage": "reference",
                                                  "metadata.iteration": 0})}
    assert {r["job_uuid"] for r in rows} == label_jobs and len(label_jobs) == 1
    assert {r["engine"] for r in rows} == {rows[0]["engine"]} and "LennardJones" in rows[0]["engine"]
    feedback = queries.frames_of_subset(store, CAMPAIGN, "mlip_feedback")
    assert sorted(r["iteration"] for r in feedback) == [1, 1, 2, 2]


def test_lineage_of_a_feedback_frame_reaches_the_surrogate_run(store):
    frame = queries.frames_of_subset(store, CAMPAIGN, "mlip_feedback", iteration=2)[0]
    chain = queries.lineage(store, CAMPAIGN, frame["structure_hash"])
    assert [step["kind"] for step in chain] == ["frame", "feedback", "surrogate"]
    feedback, surrogate = chain[1], chain[2]
    assert feedback["iteration"] == 2 and feedback["structure_hash"] == frame["structure_hash"]
    assert feedback["model_hash"] == queries.find_model(store, CAMPAIGN, 1)["output"]["model_hash"]
    assert surrogate["structure_hash"] == frame["parent_hash"]
    assert surrogate["seed"] in (11, 12, 13) and surrogate["cooling_length"] == 10.0 ** (4 + surrogate["seed"] - 11)
    assert surrogate["method"] == "swap_mc"
    surrogate_frame = queries.frames_of_subset(store, CAMPAIGN, "surrogate")[0]
    assert [s["kind"] for s in queries.lineage(store, CAMPAIGN, surrogate_frame["structure_hash"])] == ["frame", "surrogate"]
    with pytest.raises(queries.ProvenanceError, match="no labelled frame"):
        queries.lineage(store, CAMPAIGN, "0" * 64)


def test_learning_curve_has_one_row_per_iteration_with_growing_training_set(store):
    curve = queries.learning_curve(store, CAMPAIGN)
    assert [r["iteration"] for r in curve] == [0, 1, 2]
    sizes = [r["n_train"] + r["n_test"] for r in curve]
    assert sizes == [3, 5, 7]
    assert curve[0]["fractions"] is None and curve[2]["fractions"]["candidate"] == 1.0


def test_cli_answers_the_provenance_questions(project, capsys):
    base = ["query", "--store", "embedded", "--project-dir", str(project), "--campaign", CAMPAIGN]
    assert main(base + ["--model", "1"]) == 0
    assert json.loads(capsys.readouterr().out)["iteration"] == 1
    assert main(base + ["--subset", "mlip_feedback"]) == 0
    assert "4 frames" in capsys.readouterr().out
    assert main(base + ["--learning-curve"]) == 0
    out = capsys.readouterr().out
    assert "force_rmse_test" in out and len(out.strip().splitlines()) == 1 + 3 + 1
    frame = queries.frames_of_subset(get_job_store("embedded", project), CAMPAIGN, "mlip_feedback")[0]
    assert main(base + ["--lineage", frame["structure_hash"], "--json"]) == 0
    assert [s["kind"] for s in json.loads(capsys.readouterr().out)][-1] == "surrogate"
    assert main(base + ["--model", "9"]) == 2  # unknown iteration: one-line error, status 2


def test_dataset_query_skips_other_dataset_stage_documents(tmp_path):
    """The dataset stage also stores reports (Fig. 2b, cost ledger); they are not datasets."""
    from jobflow import Flow, job

    from mlip_glass.provenance import stamp
    from mlip_glass.stage import stage_job

    @stage_job("dataset")
    def report():
        return {"cost_ledger": {"total": 1}}

    @stage_job("dataset")
    def dataset():
        return {"dataset_hash": "abc", "train_xyz": "", "test_xyz": ""}

    first, second = dataset(), report()  # the report finishes last, as in the real flow
    store = get_job_store("embedded", tmp_path)
    run_locally(stamp(Flow([first, second]), campaign="d"), store=store, ensure_success=True, log=False)
    store.connect()
    assert queries.find_dataset(store, "d", 0)["uuid"] == first.uuid


def test_criteria_are_built_in_one_place():
    from mlip_glass.queries import criteria

    assert criteria("c", "reference", 2) == {"metadata.campaign": "c", "metadata.stage": "reference",
                                             "metadata.iteration": 2}
    assert criteria("c", iteration=2, at_most=True) == {"metadata.campaign": "c", "metadata.iteration": {"$lte": 2}}
    assert criteria(None, name="al label") == {"name": "al label"}


@pytest.mark.wire
def test_queries_answer_the_same_on_the_mongo_wire_server(store, mongo_uri):
    """Projections on nested paths, the subset pre-filter and lineage as MongoDB evaluates them (same seeds: same
    frames and models; job uuids differ)."""
    from mlip_glass.store import mongo_job_store

    wire = mongo_job_store(mongo_uri)
    run_locally(toy_campaign_flow(CAMPAIGN, max_iterations=2, n_feedback_runs=2), store=wire, ensure_success=True,
                log=False)
    assert queries.learning_curve(wire, CAMPAIGN) == queries.learning_curve(store, CAMPAIGN)
    for k in (0, 2):
        ours, theirs = (queries.model_of_iteration(s, CAMPAIGN, k) for s in (wire, store))
        assert ours["model"]["model_hash"] == theirs["model"]["model_hash"]
        assert {**ours["dataset"], "uuid": None} == {**theirs["dataset"], "uuid": None}
    hashes = {s: sorted(r["structure_hash"] for r in queries.frames_of_subset(s, CAMPAIGN, "mlip_feedback"))
              for s in (wire, store)}
    assert hashes[wire] == hashes[store] and hashes[wire]
    chains = [[(step["kind"], step["structure_hash"]) for step in queries.lineage(s, CAMPAIGN, hashes[store][0])]
              for s in (wire, store)]
    assert chains[0] == chains[1] and chains[0][-1][0] == "surrogate"
