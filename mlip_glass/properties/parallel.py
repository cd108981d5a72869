"""Independent runs in parallel processes, each failure isolated and named, with optional checkpoints.

Tasks are ``func(**kwargs)`` run by at most ``n_workers`` long-lived worker processes (``python -m
mlip_glass.properties.parallel --serve DIR``: fresh interpreters, since LAMMPS/MPI are not fork-safe, and
unlike ``multiprocessing`` spawn they never re-import the caller's ``__main__``). A worker pays its
start-up (imports, ~1-2 s) once and then takes task after task. Every thread pool in a worker is pinned to
one thread (OpenMP for LAMMPS, OpenBLAS/MKL, numba, torch; :data:`SINGLE_THREAD_ENV`): k workers on k
cores never over-subscribe them. A task that raises, or whose worker dies (e.g. a segfault in LAMMPS),
becomes a :class:`TaskOutcome` with its ``error`` (the label names the run); a dead worker is replaced
and the other results are kept.

With ``checkpoint_dir`` each finished result is written as JSON (numbers, strings, lists, dicts, numpy
arrays, ASE ``Atoms``; see :func:`to_json`) under a key of the function and its arguments, and a restarted
call skips finished tasks. Checkpoint files are data only: loading one never runs code (no pickle).
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import pickle
import selectors
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np

from mlip_glass.errors import MLIPGlassError

logger = logging.getLogger(__name__)

#: environment of the worker processes: one thread per worker in every thread pool
SINGLE_THREAD_ENV = {
    "OMP_NUM_THREADS": "1",  # LAMMPS OPENMP package, torch, calorine builds with OpenMP
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "NUMEXPR_NUM_THREADS": "1",
    "VECLIB_MAXIMUM_THREADS": "1",
    "NUMBA_NUM_THREADS": "1",
}
#: checkpoint format version
CHECKPOINT_FORMAT = "mlip_glass.task_outcome/1"


class CheckpointFormatError(MLIPGlassError, ValueError):
    """A task checkpoint file is not a task outcome of this format (the message names the file)."""


@dataclass
class TaskOutcome:
    """Result or error of one task; times in s."""

    label: str
    result: Any = None
    error: str | None = None
    wall_time_s: float = 0.0
    cpu_time_s: float = 0.0  #: process CPU time of the task in its worker, s

    @property
    def ok(self) -> bool:
        return self.error is None


def _call(func: Callable, kwargs: dict, label: str) -> TaskOutcome:
    start, cpu = time.perf_counter(), time.process_time()
    try:
        result = func(**kwargs)
    except Exception as exc:  # noqa: BLE001 - every failure is reported, none is fatal
        logger.warning("%s failed: %s", label, exc)
        return TaskOutcome(label, None, f"{label}: {type(exc).__name__}: {exc}",
                           time.perf_counter() - start, time.process_time() - cpu)
    return TaskOutcome(label, result, None, time.perf_counter() - start, time.process_time() - cpu)


# --- safe checkpoint format ------------------------------------------------------------------------------
def to_json(obj: Any) -> Any:
    """JSON-able form of plain data, numpy arrays/scalars and ASE ``Atoms`` (tagged dicts); TypeError else."""
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return float(obj)
    if isinstance(obj, np.ndarray):
        if obj.dtype.kind not in "biuf":
            raise TypeError(f"cannot checkpoint an array of dtype {obj.dtype}")
        arr = np.ascontiguousarray(obj)
        return {"__ndarray__": base64.b64encode(arr.tobytes()).decode("ascii"), "dtype": arr.dtype.str,
                "shape": list(arr.shape)}
    if isinstance(obj, dict):
        if not all(isinstance(k, str) for k in obj):
            raise TypeError("cannot checkpoint a dict with non-string keys")
        return {k: to_json(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_json(v) for v in obj]
    from ase import Atoms

    if isinstance(obj, Atoms):
        return {"__atoms__": {"numbers": to_json(obj.numbers), "positions": to_json(obj.positions),
                              "cell": to_json(np.asarray(obj.cell)), "pbc": [bool(p) for p in obj.pbc],
                              "info": to_json(dict(obj.info))}}
    raise TypeError(f"cannot checkpoint an object of type {type(obj).__name__}")


def from_json(obj: Any) -> Any:
    """Inverse of :func:`to_json` (builds only plain data, numpy arrays and ASE ``Atoms``)."""
    if isinstance(obj, list):
        return [from_json(v) for v in obj]
    if not isinstance(obj, dict):
        return obj
    if "__ndarray__" in obj:
        dtype = np.dtype(obj["dtype"])
        if dtype.kind not in "biuf":
            raise CheckpointFormatError(f"array of dtype {dtype} in a checkpoint")
        return np.frombuffer(base64.b64decode(obj["__ndarray__"]), dtype=dtype).reshape(obj["shape"]).copy()
    if "__atoms__" in obj:
        from ase import Atoms

        a = {k: from_json(v) for k, v in obj["__atoms__"].items()}
        return Atoms(numbers=a["numbers"], positions=a["positions"], cell=a["cell"], pbc=a["pbc"],
                     info=a.get("info") or {})
    return {k: from_json(v) for k, v in obj.items()}


def save_outcome(path: Path, outcome: TaskOutcome) -> bool:
    """Write an outcome atomically as JSON; False (nothing written) if its result is not checkpointable."""
    try:
        text = json.dumps({"format": CHECKPOINT_FORMAT, "label": outcome.label, "result": to_json(outcome.result),
                           "error": outcome.error, "wall_time_s": outcome.wall_time_s,
                           "cpu_time_s": outcome.cpu_time_s})
    except TypeError as exc:
        logger.warning("%s: result not checkpointed (%s)", outcome.label, exc)
        return False
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    tmp.replace(path)
    return True


def load_outcome(path: Path) -> TaskOutcome:
    """Read a checkpointed outcome (JSON data only; never executes code from the file)."""
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise CheckpointFormatError(f"checkpoint {path} is not readable JSON: {exc}") from exc
    if not isinstance(data, dict) or data.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointFormatError(f"checkpoint {path} is not a {CHECKPOINT_FORMAT} file")
    return TaskOutcome(str(data["label"]), from_json(data["result"]), data.get("error"),
                       float(data.get("wall_time_s", 0.0)), float(data.get("cpu_time_s", 0.0)))


def _checkpoint_path(directory: Path, func: Callable, kwargs: dict) -> Path:
    digest = hashlib.sha256(pickle.dumps((func.__module__, func.__qualname__, sorted(kwargs.items()))))
    return directory / f"{func.__name__}_{digest.hexdigest()[:20]}.json"


# --- worker pool ----------------------------------------------------------------------------------------
class _Worker:
    """One long-lived worker process; protocol: task index on stdin, the same index back when done."""

    def __init__(self, tmp: Path, env: dict, number: int):
        self.stderr_path = tmp / f"worker{number}.err"
        self._stderr = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "mlip_glass.properties.parallel", "--serve", str(tmp)],
            env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr,
        )
        if self.proc.stdin is None or self.proc.stdout is None:  # opened above (PIPE)
            raise RuntimeError("worker pipes were not opened")
        self.stdin, self.stdout = self.proc.stdin, self.proc.stdout
        self.task: int | None = None
        self.started = 0.0

    def submit(self, i: int) -> None:
        self.task, self.started = i, time.perf_counter()
        self.stdin.write(f"{i}\n".encode())
        self.stdin.flush()

    def stderr_tail(self) -> str:
        try:
            return self.stderr_path.read_bytes()[-2000:].decode(errors="replace").strip()
        except OSError:
            return ""

    def close(self) -> None:
        try:
            self.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._stderr.close()


def worker_env() -> dict:
    """Environment of a worker: the caller's, its import path, one thread per thread pool."""
    return {**os.environ, **SINGLE_THREAD_ENV, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}


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
            path = paths[i] = _checkpoint_path(directory, func, task)
            if path.is_file():
                outcomes[i] = load_outcome(path)
                logger.info("%s: loaded from checkpoint %s", labels[i], path)
    pending = [i for i in range(len(tasks)) if outcomes[i] is None]

    def finish(i: int, outcome: TaskOutcome) -> None:
        outcomes[i] = outcome
        done = sum(o is not None for o in outcomes)
        logger.info("%s done in %.1f s (%d/%d)%s", labels[i], outcome.wall_time_s, done, len(tasks),
                    "" if outcome.ok else " FAILED")
        path = paths[i]
        if path is not None and outcome.ok:
            save_outcome(path, outcome)

    if n_workers <= 1 or len(pending) <= 1:
        for i in pending:
            finish(i, _call(func, tasks[i], labels[i]))
    else:
        _run_in_workers(func, tasks, labels, pending, n_workers, finish)
    return cast(list[TaskOutcome], outcomes)  # every task has its outcome now


def _run_in_workers(func: Callable, tasks: list[dict], labels: list[str], pending: list[int], n_workers: int,
                    finish: Callable[[int, TaskOutcome], None]) -> None:
    """Run the ``pending`` tasks in up to ``n_workers`` worker processes; ``finish(i, outcome)`` for each. A worker
    that dies fails its current task and is replaced."""
    with tempfile.TemporaryDirectory(prefix="mlip_glass_tasks_") as tmp_name:
        tmp = Path(tmp_name)
        for i in pending:  # private directory of this call: pickle is safe here
            with open(tmp / f"{i}.in.pkl", "wb") as handle:
                pickle.dump((func, tasks[i], labels[i]), handle)
        env = worker_env()
        queue = list(pending)
        workers: list[_Worker] = []
        sel = selectors.DefaultSelector()
        n_started = 0
        try:
            while queue or any(w.task is not None for w in workers):
                idle = [w for w in workers if w.task is None]
                while queue and (idle or len(workers) < min(n_workers, len(pending))):
                    if not idle:
                        new = _Worker(tmp, env, n_started)
                        n_started += 1
                        workers.append(new)
                        sel.register(new.stdout, selectors.EVENT_READ, new)
                        idle.append(new)
                    idle.pop(0).submit(queue.pop(0))
                for key, _ in sel.select(timeout=1.0):
                    w: _Worker = key.data
                    line = w.stdout.readline()
                    index = w.task
                    if index is not None and line.strip() == str(index).encode():
                        with open(tmp / f"{index}.out.pkl", "rb") as reply:
                            outcome = pickle.load(reply)
                        w.task = None
                        finish(index, outcome)
                        continue
                    # EOF or garbage: the worker died (its current task fails; a new worker takes over)
                    sel.unregister(w.stdout)
                    w.close()
                    workers.remove(w)
                    if index is not None:
                        error = (f"{labels[index]}: worker process died (exit code {w.proc.returncode}): "
                                 f"{w.stderr_tail()}")
                        finish(index, TaskOutcome(labels[index], None, error, time.perf_counter() - w.started))
        finally:
            for w in workers:
                w.close()


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


def _serve(directory: str) -> None:
    """Worker loop: run the tasks whose indices arrive on stdin; report each index on the protocol pipe.
    File descriptor 1 is redirected to stderr, so output of the tasks (LAMMPS prints there) cannot
    corrupt the protocol."""
    _die_with_parent()
    protocol = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    tmp = Path(directory)
    for line in sys.stdin:
        i = int(line)
        with open(tmp / f"{i}.in.pkl", "rb") as handle:
            func, kwargs, label = pickle.load(handle)
        outcome = _call(func, kwargs, label)
        with open(tmp / f"{i}.out.pkl.tmp", "wb") as handle:
            pickle.dump(outcome, handle)
        os.replace(tmp / f"{i}.out.pkl.tmp", tmp / f"{i}.out.pkl")
        protocol.write(f"{i}\n")
        protocol.flush()


if __name__ == "__main__":
    from mlip_glass.properties import parallel  # the importable module, so outcomes unpickle anywhere

    if len(sys.argv) == 3 and sys.argv[1] == "--serve":
        parallel._serve(sys.argv[2])
    else:
        sys.exit("usage: python -m mlip_glass.properties.parallel --serve DIR")
