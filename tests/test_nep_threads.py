"""ThreadTuner: the trainer keeps the thread count whose timed steps are faster, and re-checks."""

import json

from mlip_glass.datasets.extxyz import write_extxyz
from mlip_glass.nep.backends import NeppoBackend
from mlip_glass.nep.settings import CPUTrainerSettings, NEPSettings, write_nep_in
from mlip_glass.nep.threads import ThreadTuner
from mlip_glass.testing.synthetic import eam_dataset_frames


def _drive(tuner, step_seconds, n_steps):
    """Run ``n_steps`` fake steps whose wall time is ``step_seconds[threads]``; return the counts used."""
    applied, used = [], []
    tuner._set_threads = applied.append
    for _ in range(n_steps):
        threads = tuner.threads_for_next_step()
        used.append(threads)
        tuner.record(step_seconds[threads])
    return used, applied


def test_idle_cores_keep_two_threads_after_the_probe():
    tuner = ThreadTuner(2, set_threads=lambda n: None, probe_steps=3, recheck_every=50, warmup_steps=2)
    used, applied = _drive(tuner, {1: 0.12, 2: 0.08}, 40)
    # warm-up at 1 thread, 3 timed steps at 1, 3 at 2, then 2 threads for good
    assert used[:8] == [1, 1, 1, 1, 1, 2, 2, 2] and set(used[8:]) == {2}
    assert tuner.current == 2 and applied == [1, 2]
    assert tuner.history[0]["median_s"] == {"1": 0.12, "2": 0.08}


def test_a_slow_multi_thread_step_is_abandoned_and_one_thread_kept():
    tuner = ThreadTuner(2, set_threads=lambda n: None, probe_steps=4, recheck_every=1000, warmup_steps=0)
    used, _ = _drive(tuner, {1: 0.1, 2: 1.4}, 20)
    # 4 timed steps at 1 thread; the first 2-thread step is > 3x slower: the probe stops there
    assert used[:5] == [1, 1, 1, 1, 2] and set(used[5:]) == {1}
    assert tuner.current == 1


def test_the_choice_is_rechecked_when_the_load_changes():
    tuner = ThreadTuner(2, set_threads=lambda n: None, probe_steps=2, recheck_every=10, warmup_steps=0)
    _drive(tuner, {1: 0.1, 2: 0.3}, 12)  # loaded machine: one thread
    assert tuner.current == 1
    used, _ = _drive(tuner, {1: 0.1, 2: 0.05}, 20)  # the load went away: the next probe switches
    assert tuner.current == 2 and used[-1] == 2 and len(tuner.history) >= 2


def test_a_run_of_slow_steps_starts_a_probe_before_the_recheck():
    tuner = ThreadTuner(2, set_threads=lambda n: None, probe_steps=2, recheck_every=1000, warmup_steps=0)
    _drive(tuner, {1: 0.12, 2: 0.08}, 10)  # idle: two threads
    assert tuner.current == 2
    used, _ = _drive(tuner, {1: 0.15, 2: 0.7}, 12)  # a core is taken: 2 spinning threads become 9x slower
    # 3 slow steps make the median of the last 5 slow, then a probe (2 steps at 1 thread, the first 2-thread step
    # is > 3x slower and abandoned), then 1 thread
    assert used[:6] == [2, 2, 2, 1, 1, 2] and tuner.current == 1 and set(used[6:]) == {1}


def test_one_thread_never_probes():
    calls = []
    tuner = ThreadTuner(1, set_threads=calls.append)
    used, _ = _drive(tuner, {1: 0.1}, 30)
    assert set(used) == {1} and tuner.history == [] and not tuner.probing


def test_driver_records_its_thread_choices(tmp_path):
    frames = eam_dataset_frames(n_frames=12, n_atoms=20, seed=21, quench_steps=600)
    run = tmp_path / "run"
    run.mkdir()
    write_extxyz(frames[:10], run / "train.xyz")
    write_extxyz(frames[10:], run / "test.xyz")
    settings = NEPSettings(species=["Cu", "Zr", "Al"], neuron=8, n_max=(3, 3), basis_size=(4, 4))
    (run / "nep.in").write_text(write_nep_in(settings, CPUTrainerSettings(batch=4, output_interval=10), generation=30))
    result = NeppoBackend().train(run, threads=2, adapt_threads=True)
    assert result.n_steps == 30
    status = json.loads((run / "neppo_status.json").read_text())
    choices = status["thread_choices"]
    assert choices and choices[0]["threads"] in (1, 2) and set(choices[0]["median_s"]) == {"1", "2"}
