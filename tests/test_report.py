"""The report is built from the store only: the same table after deleting the folder, one row per
iteration of the learning curve, and a clear error for an unknown campaign."""

import json
import shutil

import pytest
from jobflow import run_locally

from mlip_glass import queries
from mlip_glass.report import write_report
from mlip_glass.store import get_job_store
from mlip_glass.testing.al_standins import toy_campaign_flow

CAMPAIGN = "rep"


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    path = tmp_path_factory.mktemp("report")
    run_locally(toy_campaign_flow(CAMPAIGN, max_iterations=2, n_feedback_runs=2),
                store=get_job_store("embedded", path), ensure_success=True, log=False)
    store = get_job_store("embedded", path)
    store.connect()
    return store


def test_report_table_is_rebuilt_identically_from_the_store(store, tmp_path):
    folder = write_report(store, CAMPAIGN, tmp_path / "r")
    first = json.loads((folder / "summary.json").read_text())
    shutil.rmtree(folder)
    again = json.loads((write_report(store, CAMPAIGN, tmp_path / "r") / "summary.json").read_text())
    assert first == again
    assert (folder / "index.html").read_text().count("<tr>") == len(first["table"]) + 1


def test_report_rows_follow_the_learning_curve(store, tmp_path):
    rows = json.loads((write_report(store, CAMPAIGN, tmp_path / "r") / "summary.json").read_text())["table"]
    curve = queries.learning_curve(store, CAMPAIGN)
    assert [p["iteration"] for p in curve] == [0, 1, 2]
    learning = [r for r in rows if r["quantity"].startswith("learning curve")]
    assert len(learning) == 3
    for row, point in zip(learning, curve):
        force = point["rmse"]["test"]["all"]["rmse_force_meV_per_A"]
        assert row["campaign"] == f"{force:.3g}"
        assert row["note"].startswith(f"{point['n_train']} train / {point['n_test']} test")
    # the counts per subset are those of the last dataset in the store
    dataset = queries.find_dataset(store, CAMPAIGN, 2, load=True)["output"]
    surrogate = next(r for r in rows if r["quantity"].startswith("structures in subset surrogate"))
    assert surrogate["campaign"] == f"{dataset['counts']['surrogate']['train']}/{dataset['counts']['surrogate']['test']}"


def test_unknown_campaign_is_named(store, tmp_path):
    with pytest.raises(ValueError, match="'nope'"):
        write_report(store, "nope", tmp_path / "x")
