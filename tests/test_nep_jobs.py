"""NEPFitMaker: model document in the store, nep.txt fetched back matches the trainer, bad input, failures."""

import math

import numpy as np
import pytest
from jobflow import Flow, job, run_locally

from mlip_glass.datasets.extxyz import frames_from_text, frames_to_text
from mlip_glass.nep.fit import NEPDatasetError, compare_with_parity, fit_nep, load_dataset
from mlip_glass.nep.jobs import NEPFitMaker
from mlip_glass.nep.schemas import NEPModelDocument, load_nep, model_hash
from mlip_glass.nep.settings import CPUTrainerSettings, NEPInputError, NEPSettings
from mlip_glass.testing.synthetic import eam_dataset_frames
from mlip_glass.store import memory_job_store

SMALL = NEPSettings(neuron=8, n_max=(3, 3), basis_size=(4, 4))
CPU = CPUTrainerSettings(batch=4, output_interval=5, threads=1)


@pytest.fixture(scope="module")
def dataset():
    frames = eam_dataset_frames(n_frames=14, n_atoms=20, seed=31, quench_steps=600)
    return {"train_xyz": frames_to_text(frames[:11]), "test_xyz": frames_to_text(frames[11:]),
            "species": ["Cu", "Zr", "Al"], "uuid": "dataset-uuid-1", "dataset_hash": "hash-1"}


@job(data=["train_xyz", "test_xyz"])
def dataset_job(dataset):
    """Stand-in for the datasets stage: its extxyz text goes to the data store."""
    return dataset


def test_maker_stores_model_that_fetched_back_matches_trainer_parity(dataset, tmp_path):
    source = dataset_job(dataset)
    maker = NEPFitMaker(settings=SMALL, cpu_settings=CPU, steps=10, wall_time=120, run_dir=str(tmp_path))
    fit = maker.make(source.output)
    store = memory_job_store()
    run_locally(Flow([source, fit]), store=store, ensure_success=True)

    raw = store.get_output(fit.uuid)  # what a later job sees without loading blobs
    for key in ("nep_txt", "loss_curve", "parity", "log"):
        assert "blob_uuid" in raw[key], f"{key} must live in the data store"
    assert raw["dataset_uuid"] == "dataset-uuid-1" and raw["dataset_hash"] == "hash-1"
    assert raw["backend"]["name"] == "neppo" and raw["backend"]["version"]
    assert raw["n_steps"] == 10 and raw["stop_reason"] == "steps"
    assert raw["species"] == ["Cu", "Zr", "Al"]
    assert "zbl" in raw["nep_in"] and raw["settings"]["zbl"] == 1.8
    assert set(raw["rmse"]) == {"train", "test"} and "all" in raw["rmse"]["test"]
    doc = store.query_one({"uuid": fit.uuid})
    assert doc["metadata"]["stage"] == "nep"

    # fetch the model from the store, not from the run directory
    path = load_nep(raw, store=store, directory=tmp_path / "fetched")
    assert model_hash(path.read_text()) == raw["model_hash"]
    run_dir = maker.run_directory(dataset)
    test_frames = frames_from_text(dataset["test_xyz"])
    diff = compare_with_parity(path, run_dir, "test", test_frames)
    assert diff["energy"] < 1e-5 and diff["force"] < 1e-5 * 10 and diff["virial"] < 1e-5 * 10
    loaded = store.get_output(fit.uuid, load=True)
    assert loaded["rmse"]["test"]["all"]["rmse_force_meV_per_A"] == pytest.approx(
        loaded["trainer_rmse"]["test"]["all"]["rmse_force_meV_per_A"], abs=0.01)


def test_rerun_in_same_directory_resumes_and_warm_start_starts_lower(dataset, tmp_path):
    first = fit_nep(dataset, tmp_path / "a", settings=SMALL, cpu_settings=CPU, backend="neppo", steps=10)
    again = fit_nep(dataset, tmp_path / "a", settings=SMALL, cpu_settings=CPU, backend="neppo", steps=10)
    assert "resumed from" in again.log and again.n_steps == 10
    assert again.model_hash == first.model_hash  # nothing left to do: same model
    cold_loss = first.loss_curve["total_loss"][0]
    warm = fit_nep(dataset, tmp_path / "b", settings=SMALL, cpu_settings=CPU, backend="neppo", steps=5,
                   warm_start=first)
    assert warm.warm_start_hash == first.model_hash
    assert warm.loss_curve["RMSE_F_train"][0] < first.loss_curve["RMSE_F_train"][0]
    assert math.isfinite(cold_loss)


def _with_nan(dataset):
    frames = frames_from_text(dataset["train_xyz"])
    frames[2].arrays["forces"][0, 1] = np.nan
    return {**dataset, "train_xyz": frames_to_text(frames)}


@pytest.mark.parametrize(
    "mutate, match",
    [
        (lambda d: {**d, "train_xyz": ""}, "train_xyz is empty"),
        (lambda d: {**d, "species": ["Cu", "Zr", "Al", "Ni"]}, r"\['Ni'\] never occur"),
        (lambda d: {**d, "species": ["Cu", "Zr"]}, r"species \['Al'\] not in dataset species"),
        (_with_nan, "frame 2: forces contain NaN"),
    ],
)
def test_bad_dataset_fails_early_naming_the_field(dataset, mutate, match):
    with pytest.raises(NEPDatasetError, match=match):
        load_dataset(mutate(dataset))


def test_bad_settings_fail_when_the_maker_is_built():
    with pytest.raises(NEPInputError, match="cutoff"):
        NEPFitMaker(settings={"cutoff": [4.0, 6.5]})
    with pytest.raises(ValueError, match="backend"):
        NEPFitMaker(backend="cuda")
    with pytest.raises(ValueError, match="wall_time"):
        NEPFitMaker(wall_time=0)


def test_failed_training_leaves_log_in_store_and_stops_flow(dataset, tmp_path):
    fake = tmp_path / "nep"
    fake.write_text("#!/bin/sh\necho 'GPUMD fake: out of GPU memory'\nexit 7\n")
    fake.chmod(0o755)
    source = dataset_job(dataset)
    fit = NEPFitMaker(backend="gpumd", nep_command=str(fake), run_dir=str(tmp_path)).make(source.output)
    store = memory_job_store()
    run_locally(Flow([source, fit]), store=store)
    out = store.get_output(fit.uuid, load=True)
    assert out["status"] == "failed" and "exit code 7" in out["error"]
    assert "out of GPU memory" in out["log"]
    assert out["nep_txt"] is None
    with pytest.raises(ValueError, match="no nep_txt"):
        load_nep(out)


def test_load_nep_accepts_document_dict_path_and_checks_hash(tmp_path):
    text = "nep4_zbl 1 Cu\n"
    doc = NEPModelDocument(nep_txt=text, model_hash=model_hash(text), nep_in="", settings={},
                           backend={"name": "x", "version": "0"}, species=["Cu"])
    assert load_nep(doc).read_text() == text
    assert load_nep(doc.model_dump()).read_text() == text
    path = tmp_path / "nep.txt"
    path.write_text(text)
    assert load_nep(str(path)).read_text() == text
    with pytest.raises(ValueError, match="model_hash"):
        load_nep({**doc.model_dump(), "model_hash": "0" * 64})


def test_missing_gpumd_executable_gives_failed_document(dataset, tmp_path):
    doc = fit_nep(dataset, tmp_path, backend="gpumd", nep_command=str(tmp_path / "missing_nep"))
    assert doc.status == "failed" and "not found" in doc.error


def test_maker_serialises_for_fireworks():
    import json

    from monty.json import MontyDecoder, jsanitize

    maker = NEPFitMaker(settings=NEPSettings(neuron=20), cpu_settings=CPUTrainerSettings(batch=16), wall_time=90)
    text = json.dumps(jsanitize(maker.as_dict(), strict=True, enum_values=True))
    back = MontyDecoder().process_decoded(json.loads(text))
    assert back == maker and isinstance(back.settings, NEPSettings) and back.settings.cutoff == (6.5, 4.0)


def test_dataset_document_object_is_accepted(dataset):
    from mlip_glass.datasets.schemas import DatasetDocument
    from mlip_glass.nep.fit import dataset_hash

    doc = DatasetDocument.model_construct(train_xyz=dataset["train_xyz"], test_xyz=dataset["test_xyz"],
                                          species=["Cu", "Zr", "Al"], dataset_hash="h-doc")
    train, test, species = load_dataset(doc)
    assert (len(train), len(test), species) == (11, 3, ["Cu", "Zr", "Al"])
    assert dataset_hash(doc) == "h-doc"
