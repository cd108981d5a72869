"""Training backends: step and wall-time stops, restart after a kill, GPUMD subprocess handling."""

import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from mlip_glass.datasets.extxyz import write_extxyz
from mlip_glass.nep.backends import GPUMDBackend, NEPTrainingError, NeppoBackend, get_backend
from mlip_glass.nep.evaluate import read_loss_curve
from mlip_glass.nep.settings import CPUTrainerSettings, NEPSettings, write_nep_in
from mlip_glass.testing.synthetic import eam_dataset_frames

SMALL = dict(species=["Cu", "Zr", "Al"], neuron=8, n_max=(3, 3), basis_size=(4, 4))


@pytest.fixture(scope="module")
def frames():
    return eam_dataset_frames(n_frames=12, n_atoms=20, seed=21, quench_steps=600)


def _run_dir(path, frames, steps, interval=5, batch=4):
    path.mkdir(parents=True, exist_ok=True)
    write_extxyz(frames[:10], path / "train.xyz")
    write_extxyz(frames[10:], path / "test.xyz")
    text = write_nep_in(NEPSettings(**SMALL), CPUTrainerSettings(batch=batch, output_interval=interval), generation=steps)
    (path / "nep.in").write_text(text)
    return path


def test_neppo_stops_at_step_count_and_writes_gpumd_outputs(tmp_path, frames):
    run = _run_dir(tmp_path / "run", frames, steps=12)
    result = NeppoBackend().train(run, threads=1)
    assert result.stop_reason == "steps" and result.n_steps == 12
    for name in ("nep.txt", "loss.out", "energy_train.out", "force_test.out", "virial_test.out", "training.log"):
        assert (run / name).exists(), name
    curve = read_loss_curve(run)
    assert curve["step"] == [5, 10, 12]
    assert "step" in (run / "training.log").read_text()  # streamed progress


def test_neppo_stops_at_wall_time_budget_with_usable_model(tmp_path, frames):
    run = _run_dir(tmp_path / "run", frames, steps=1_000_000, interval=20)
    result = NeppoBackend().train(run, wall_time=10.0, threads=1)
    assert result.stop_reason == "wall_time"
    assert 0 < result.n_steps < 1_000_000
    assert (run / "nep.txt").exists() and (run / "energy_train.out").exists()
    log = (run / "training.log").read_text()
    assert "stopped by wall_time" in log
    # the cosine learning rate is annealed on the budget (past half-way from 1e-2 to 1e-4 at the end)
    status = json.loads((run / "neppo_status.json").read_text())
    rates = status["history"]["learning_rate"]
    assert rates[-1] < 0.5 * 1e-2 and rates == sorted(rates, reverse=True)


def test_killed_training_resumes_from_checkpoint(tmp_path, frames):
    run = _run_dir(tmp_path / "run", frames, steps=60, interval=5)
    process = subprocess.Popen([sys.executable, "-m", "mlip_glass.nep.neppo_driver", str(run), "--threads", "1"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while not (run / "neppo.restart").exists() and time.time() < deadline and process.poll() is None:
        time.sleep(0.2)
    assert process.poll() is None, "training finished before it could be killed"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert not (run / "neppo_status.json").exists()
    result = NeppoBackend().train(run, threads=1)
    log = (run / "training.log").read_text()
    assert "resumed from" in log
    assert result.n_steps == 60
    steps = read_loss_curve(run)["step"]
    assert steps == sorted(set(steps)) and steps[-1] == 60 and steps[0] == 5  # one continuous curve


def _fake_nep(tmp_path, source, mode):
    """A stand-in for GPUMD's nep: 'fail' exits 3; 'ok' copies a finished run's outputs; 'hang' copies
    nep.txt/loss.out then loops until killed, and answers a prediction run with the parity files."""
    script = tmp_path / f"nep_{mode}"
    script.write_text(textwrap.dedent(f"""\
        #!{sys.executable}
        import shutil, sys, time, pathlib
        src = pathlib.Path({str(source)!r})
        print("GPUMD 4.0 (fake)", flush=True)
        if {mode!r} == "fail":
            print("CUDA Error: no device", flush=True)
            sys.exit(3)
        if "prediction 1" in open("nep.in").read():
            for q in ("energy", "force", "virial", "stress"):
                for s in ("train", "test"):
                    shutil.copy(src / f"{{q}}_{{s}}.out", ".")
            print("prediction done", flush=True)
            sys.exit(0)
        shutil.copy(src / "nep.txt", "."); shutil.copy(src / "loss.out", ".")
        if {mode!r} == "hang":
            while True:
                print("generation ...", flush=True)
                time.sleep(0.2)
        for q in ("energy", "force", "virial", "stress"):
            for s in ("train", "test"):
                shutil.copy(src / f"{{q}}_{{s}}.out", ".")
        """))
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return str(script)


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory, frames):
    run = _run_dir(tmp_path_factory.mktemp("finished") / "run", frames, steps=5)
    NeppoBackend().train(run, threads=1)
    return run


def test_dead_nep_process_raises_with_its_log(tmp_path, frames, finished_run):
    run = _run_dir(tmp_path / "run", frames, steps=5)
    backend = GPUMDBackend(_fake_nep(tmp_path, finished_run, "fail"))
    with pytest.raises(NEPTrainingError, match="exit code 3") as info:
        backend.train(run)
    assert "CUDA Error: no device" in info.value.log
    assert "CUDA Error: no device" in (run / "training.log").read_text()


def test_gpumd_backend_streams_log_and_collects_outputs(tmp_path, frames, finished_run):
    run = _run_dir(tmp_path / "run", frames, steps=5)
    backend = GPUMDBackend(_fake_nep(tmp_path, finished_run, "ok"))
    result = backend.train(run)
    assert result.stop_reason == "steps" and result.n_steps == 5
    assert "GPUMD 4.0" in result.version
    assert (run / "nep.txt").read_text() == (finished_run / "nep.txt").read_text()


def test_gpumd_backend_terminates_at_budget_then_predicts(tmp_path, frames, finished_run):
    run = _run_dir(tmp_path / "run", frames, steps=5)
    original = (run / "nep.in").read_text()
    result = GPUMDBackend(_fake_nep(tmp_path, finished_run, "hang")).train(run, wall_time=1.5)
    assert result.stop_reason == "wall_time"
    assert "prediction done" in (run / "training.log").read_text()
    np.testing.assert_allclose(np.loadtxt(run / "energy_test.out"), np.loadtxt(finished_run / "energy_test.out"))
    assert (run / "nep.in").read_text() == original  # training nep.in restored after the prediction run


def test_backend_selection(tmp_path):
    assert isinstance(get_backend("auto", nep_command=str(tmp_path / "no_such_nep")), NeppoBackend)
    assert isinstance(get_backend("neppo"), NeppoBackend)
    with pytest.raises(ValueError, match="backend must be one of"):
        get_backend("lammps")
    with pytest.raises(NEPTrainingError, match="not found"):
        get_backend("gpumd", nep_command=str(tmp_path / "no_such_nep")).train(tmp_path)
