"""BASELINE COPY (benchmarks only) of mlip_glass.properties.parallel before issue 15; do not edit.

Independent runs in parallel processes, each failure isolated and named, with optional checkpoints.

Every task is ``func(**kwargs)`` in its own fresh Python process (``python -m
mlip_glass.properties.parallel IN OUT``: LAMMPS/MPI are not fork-safe, and unlike ``multiprocessing``
spawn this never re-imports the caller's ``__main__``), one thread each (``OMP_NUM_THREADS=1``), at most
``n_workers`` at a time, so that many cores are busy. A task that raises, or whose process dies (e.g. a
segfault in LAMMPS), becomes a :class:`TaskOutcome` with its ``error`` (the label names the run); the
others' results are kept. With ``checkpoint_dir`` each finished result is pickled under a key of the
function and its arguments, and a restarted call skips finished tasks.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

logger = logging.getLogger(__name__)


@dataclass
class TaskOutcome:
    """Result or error of one task."""

    label: str
    result: Any = None
    error: str | None = None
    wall_time_s: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None


def _call(func: Callable, kwargs: dict, label: str) -> TaskOutcome:
    start = time.perf_counter()
    try:
        result = func(**kwargs)
    except Exception as exc:  # noqa: BLE001 - every failure is reported, none is fatal
        logger.warning("%s failed: %s", label, exc)
        return TaskOutcome(label, None, f"{label}: {type(exc).__name__}: {exc}",
                           time.perf_counter() - start)
    return TaskOutcome(label, result, None, time.perf_counter() - start)


def _checkpoint_path(directory: Path, func: Callable, kwargs: dict) -> Path:
    digest = hashlib.sha256(pickle.dumps((func.__module__, func.__qualname__, sorted(kwargs.items()))))
    return directory / f"{func.__name__}_{digest.hexdigest()[:20]}.pkl"


def run_tasks(
    func: Callable,
    tasks: list[dict],
    labels: list[str] | None = None,
    n_workers: int = 2,
    checkpoint_dir: str | Path | None = None,
) -> list[TaskOutcome]:
    """Run ``func(**task)`` for every task; outcomes in task order.

    ``n_workers <= 1`` or a single task runs in this process (no start-up cost)."""
    labels = labels or [f"task {i}" for i in range(len(tasks))]
    if len(labels) != len(tasks):
        raise ValueError("labels and tasks differ in length")
    outcomes: list[TaskOutcome | None] = [None] * len(tasks)
    paths: list[Path | None] = [None] * len(tasks)
    if checkpoint_dir is not None:
        directory = Path(checkpoint_dir)
        directory.mkdir(parents=True, exist_ok=True)
        for i, task in enumerate(tasks):
            paths[i] = _checkpoint_path(directory, func, task)
            if paths[i].is_file():
                with open(paths[i], "rb") as handle:
                    outcomes[i] = pickle.load(handle)
                logger.info("%s: loaded from checkpoint %s", labels[i], paths[i])
    pending = [i for i in range(len(tasks)) if outcomes[i] is None]

    def finish(i: int, outcome: TaskOutcome) -> None:
        outcomes[i] = outcome
        done = sum(o is not None for o in outcomes)
        logger.info("%s done in %.1f s (%d/%d)%s", labels[i], outcome.wall_time_s, done, len(tasks),
                    "" if outcome.ok else " FAILED")
        if paths[i] is not None and outcome.ok:
            tmp = paths[i].with_suffix(".tmp")
            with open(tmp, "wb") as handle:
                pickle.dump(outcome, handle)
            tmp.replace(paths[i])

    if n_workers <= 1 or len(pending) <= 1:
        for i in pending:
            finish(i, _call(func, tasks[i], labels[i]))
        return outcomes  # type: ignore[return-value]

    import subprocess
    import sys
    import tempfile

    with tempfile.TemporaryDirectory(prefix="mlip_glass_tasks_") as tmp:
        # workers see the caller's import path (task functions must be importable, as for FireWorks)
        env = {**os.environ, "OMP_NUM_THREADS": "1",
               "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
        queue, running = list(pending), {}
        while queue or running:
            while queue and len(running) < n_workers:
                i = queue.pop(0)
                path_in, path_out = Path(tmp) / f"{i}.in.pkl", Path(tmp) / f"{i}.out.pkl"
                with open(path_in, "wb") as handle:
                    pickle.dump((func, tasks[i], labels[i]), handle)
                proc = subprocess.Popen(
                    [sys.executable, "-m", "baseline.parallel", str(path_in), str(path_out)],
                    env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                )
                running[i] = (proc, path_out, time.perf_counter())
            time.sleep(0.05)
            for i, (proc, path_out, started) in list(running.items()):
                if proc.poll() is None:
                    continue
                del running[i]
                stderr = proc.stderr.read().decode(errors="replace")[-2000:] if proc.stderr else ""
                if proc.returncode == 0 and path_out.is_file():
                    with open(path_out, "rb") as handle:
                        outcome = pickle.load(handle)
                else:
                    outcome = TaskOutcome(labels[i], None, f"{labels[i]}: worker process died "
                                          f"(exit code {proc.returncode}): {stderr.strip()}",
                                          time.perf_counter() - started)
                finish(i, outcome)
    return outcomes  # type: ignore[return-value]


def _die_with_parent() -> None:
    """Linux: the worker gets SIGKILL when the process that started it dies (no orphaned runs)."""
    parent = os.getppid()
    try:
        import ctypes
        import signal

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: nothing to do
        return
    if os.getppid() != parent or parent == 1:  # the parent died before prctl took effect
        os._exit(1)


def _worker_main(path_in: str, path_out: str) -> None:
    _die_with_parent()
    with open(path_in, "rb") as handle:
        func, kwargs, label = pickle.load(handle)
    outcome = _call(func, kwargs, label)
    with open(path_out, "wb") as handle:
        pickle.dump(outcome, handle)


if __name__ == "__main__":
    import sys

    from baseline import parallel  # the importable module, so outcomes unpickle anywhere

    parallel._worker_main(sys.argv[1], sys.argv[2])
