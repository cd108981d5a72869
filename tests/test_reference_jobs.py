"""The one labelling Maker (``reference.jobs.LabelMaker``): engines from ``"module:factory"``, the loop's settings,
the documents it stores."""

from __future__ import annotations

import json

import pytest
from jobflow import run_locally

from mlip_glass import queries
from mlip_glass.active_learning.jobs import feedback_label_maker
from mlip_glass.provenance import structure_hash
from mlip_glass.reference.engines import ASECalculatorEngine, get_engine
from mlip_glass.reference.jobs import LabelMaker
from mlip_glass.store import memory_job_store
from mlip_glass.testing.al_standins import TOY_ENGINE, random_cell


def _candidates(n: int = 3) -> dict:
    """A selection output: feedback candidates with their run's uuid (as SelectCandidatesMaker gives them)."""
    items = []
    for i in range(n):
        s = random_cell(200 + i)
        items.append({"structure": s.as_dict(), "structure_hash": structure_hash(s), "method": "swap_mc",
                      "cooling_length": 1e4, "seed": i, "feedback_job_uuid": f"feedback-{i}",
                      "extra": {"step": 1}})
    return {"to_label": items}


def _stored(maker, structures) -> tuple[dict, dict]:
    """(job document with the job's uuid blanked, output with blobs loaded) of one labelling job."""
    store = memory_job_store()
    job = maker.make(structures)
    run_locally(job, store=store, ensure_success=True)
    raw = store.docs_store.query_one({"uuid": job.uuid}, properties=["name", "metadata", "output"])
    raw.pop("_id", None)
    loaded = store.get_output(job.uuid, load=True)

    def blank(doc):
        text = json.dumps(doc, default=str, sort_keys=True).replace(job.uuid, "JOB")
        return json.loads(text)

    def no_timing(doc):
        if isinstance(doc, dict):
            return {k: no_timing(v) for k, v in doc.items() if k not in ("cpu_time_s", "blob_uuid")}
        if isinstance(doc, list):
            return [no_timing(v) for v in doc]
        return doc

    return no_timing(blank(raw)), no_timing(blank(loaded if isinstance(loaded, dict) else loaded.model_dump()))


def test_engine_from_an_import_path_is_called_with_its_kwargs():
    engine = get_engine(TOY_ENGINE)
    assert isinstance(engine, ASECalculatorEngine) and engine.name == "ase:LennardJones"
    with pytest.raises(ValueError, match="module:factory"):
        get_engine("no-such-engine")


def test_loop_labels_are_a_plain_dict_with_frames_in_the_data_store_and_their_feedback_run():
    doc, output = _stored(feedback_label_maker(TOY_ENGINE), _candidates())
    assert doc["name"] == "al label" and doc["metadata"]["stage"] == "reference"
    assert doc["output"]["frames"]["store"] == "data" and "@class" not in doc["output"]  # a reference to the blob
    frames = queries.frames_in_output(output)
    assert "@class" not in output
    assert [f["subset"] for f in frames] == ["mlip_feedback"] * 3
    assert [f["source"]["extra"]["feedback_job_uuid"] for f in frames] == [f"feedback-{i}" for i in range(3)]
    assert all(f["source"]["job_uuid"] == "JOB" for f in frames)
    assert doc["output"]["parameters"]["engine"] == TOY_ENGINE


def test_default_label_maker_sends_frames_to_the_data_store():
    doc, output = _stored(LabelMaker(engine=TOY_ENGINE, subset="mlip_feedback"), _candidates(2))
    assert doc["name"] == "label" and doc["output"]["frames"]["store"] == "data"  # a reference to the blob
    assert output["counts"]["n_frames"] == 2
