"""Parallel task runner: long-lived single-threaded workers, isolated failures, JSON checkpoints."""

import os
import pickle

import numpy as np
import pytest
from ase.build import bulk

from mlip_glass.properties.parallel import (
    SINGLE_THREAD_ENV,
    CheckpointFormatError,
    TaskOutcome,
    _checkpoint_path,
    load_outcome,
    run_tasks,
    save_outcome,
)


def test_workers_run_every_thread_pool_with_one_thread_and_serve_several_tasks():
    keys = list(SINGLE_THREAD_ENV)
    out = run_tasks(os.getenv, [{"key": k} for k in keys], n_workers=2)
    assert [o.result for o in out] == ["1"] * len(keys)
    pids = run_tasks(os.getpid, [{}] * 6, n_workers=2)
    assert all(o.ok for o in pids) and len({o.result for o in pids}) <= 2  # start-up paid once per worker


def test_output_of_a_task_on_stdout_does_not_disturb_the_workers():
    out = run_tasks(print, [{"end": "7\n" * 5000}, {"end": "x"}, {"end": "y"}], n_workers=2)
    assert all(o.ok and o.result is None for o in out)


def test_checkpoint_round_trips_arrays_and_atoms_exactly(tmp_path):
    atoms = bulk("Cu", "fcc", a=3.61, cubic=True).repeat((2, 1, 1))
    atoms.positions += np.random.default_rng(0).normal(0, 0.01, atoms.positions.shape)
    result = {"r": np.linspace(0.1, 6.0, 7), "n": np.arange(3, dtype=np.int32), "G": np.float64(31.5),
              "partials": {"Cu-Cu": np.random.default_rng(1).random((2, 3))}, "relaxed_structure": atoms,
              "summary": {"steps": 12, "converged": True, "note": None}}
    path = tmp_path / "x.json"
    assert save_outcome(path, TaskOutcome("run", result, None, 1.5, 1.25))
    back = load_outcome(path)
    assert back.label == "run" and back.wall_time_s == 1.5 and back.cpu_time_s == 1.25
    r = back.result
    assert np.array_equal(r["r"], result["r"]) and r["n"].dtype == np.int32 and r["G"] == 31.5
    assert np.array_equal(r["partials"]["Cu-Cu"], result["partials"]["Cu-Cu"])
    assert np.array_equal(r["relaxed_structure"].positions, atoms.positions)
    assert r["relaxed_structure"].get_chemical_symbols() == atoms.get_chemical_symbols()
    assert np.array_equal(r["relaxed_structure"].cell.array, atoms.cell.array)
    assert r["summary"] == result["summary"]


def test_a_pickle_in_the_checkpoint_dir_is_refused_not_executed(tmp_path):
    marker = tmp_path / "executed"

    class Evil:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    path = _checkpoint_path(tmp_path, os.getenv, {"key": "HOME"})
    path.write_bytes(pickle.dumps(TaskOutcome("x", Evil())))
    with pytest.raises(CheckpointFormatError, match=path.name):
        run_tasks(os.getenv, [{"key": "HOME"}], n_workers=1, checkpoint_dir=tmp_path)
    assert not marker.exists()


def test_a_result_that_cannot_be_checkpointed_is_still_returned(tmp_path):
    out = run_tasks(complex, [{"real": 1.0, "imag": 2.0}], n_workers=1, checkpoint_dir=tmp_path)
    assert out[0].ok and out[0].result == 1 + 2j
    assert not list(tmp_path.glob("*.json"))
