"""NEP training backends: GPUMD's ``nep`` executable and the CPU trainer ``neppo``.

Both take the same run directory (``nep.in``, ``train.xyz``, ``test.xyz``) and leave the same outputs
(``nep.txt``, ``loss.out``, ``{energy,force,virial}_{train,test}.out``). Both run as subprocesses whose
output is streamed line by line to ``<run_dir>/training.log`` and to the ``mlip_glass.nep`` logger, stop
at a wall-time budget, and resume from their checkpoint when re-run in the same directory (GPUMD:
``nep.restart``; neppo: ``neppo.restart``, see :mod:`mlip_glass.nep.neppo_driver`).

How neppo differs from GPUMD's SNES: it computes gradients of the loss by automatic differentiation and
takes AdamW steps on mini-batches (``batch`` structures per step) with a cosine learning-rate schedule;
SNES evolves a population (``population``) of parameter vectors without gradients, one generation per
batch. A neppo "step" is one optimiser update, a GPUMD "generation" one SNES update; neppo's default loss
is the mean-square error scaled by fixed error scales (GPUMD: RMSE), and its regularisation is applied
only when ``lambda_1``/``lambda_2`` are given (we always write them).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from mlip_glass.errors import MLIPGlassError

logger = logging.getLogger("mlip_glass.nep")

#: environment variable naming the GPUMD ``nep`` executable
NEP_COMMAND_ENV = "MLIP_GLASS_NEP_CMD"
#: log file of a training run, inside the run directory
LOG_FILE = "training.log"
#: lines of the log quoted in a training error
LOG_TAIL_LINES = 40
#: OpenMP wait policy of the CPU trainer unless set by the user (see NeppoBackend.train)
OMP_WAIT_POLICY = "PASSIVE"
#: extra seconds a backend may take beyond the wall-time budget before it is killed
KILL_GRACE_S = 120.0


class NEPTrainingError(MLIPGlassError, RuntimeError):
    """The trainer process died or produced no model; ``log`` holds its output."""

    def __init__(self, message: str, log: str = "", directory: str | None = None):
        tail = "\n".join(log.splitlines()[-LOG_TAIL_LINES:])
        super().__init__(f"{message}\n--- last lines of the training log ---\n{tail}" if tail else message)
        self.log = log
        self.directory = directory


@dataclass
class TrainingResult:
    """What a backend reports after a run (files stay in ``directory``)."""

    directory: str
    backend: str
    version: str
    wall_time_s: float
    n_steps: int
    stop_reason: str
    log: str = ""
    extra: dict = field(default_factory=dict)


def _die_with_parent() -> None:
    """In the child: get SIGTERM when the parent dies (Linux), so a killed job leaves no orphan trainer."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:  # pragma: no cover - not Linux
        pass


def _stream(command: list[str], cwd: Path, log_path: Path, env: dict | None = None,
            kill_after: float | None = None, terminate_after: float | None = None) -> tuple[int, str, bool]:
    """Run ``command`` in ``cwd``; stream output to ``log_path`` (appended) and the logger.

    ``terminate_after`` seconds → SIGTERM (the budget), ``kill_after`` → SIGKILL. Returns
    (return code, log text of this run, whether it was stopped by the budget).
    """
    import threading

    lines: list[str] = []
    start = time.monotonic()
    stopped = False
    with open(log_path, "a") as log:
        log.write(f"$ {' '.join(command)}\n")
        process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   text=True, env=env, preexec_fn=_die_with_parent)

        def watchdog() -> None:
            nonlocal stopped
            while process.poll() is None:
                elapsed = time.monotonic() - start
                if terminate_after is not None and elapsed > terminate_after and not stopped:
                    stopped = True
                    process.send_signal(signal.SIGTERM)
                if kill_after is not None and elapsed > kill_after:
                    process.kill()
                    return
                time.sleep(0.5)

        thread = threading.Thread(target=watchdog, daemon=True)
        thread.start()
        assert process.stdout is not None
        for line in process.stdout:
            log.write(line)
            log.flush()
            lines.append(line)
            logger.info("[%s] %s", Path(command[0]).name, line.rstrip())
        code = process.wait()
        thread.join(timeout=2)
    return code, "".join(lines), stopped


class Backend:
    """Interface: ``name``, :meth:`available`, :meth:`version`, :meth:`train`."""

    name = "base"
    #: whether nep.in carries the CPU trainer keywords
    uses_cpu_settings = False

    def available(self) -> bool:
        raise NotImplementedError

    def version(self) -> str:
        raise NotImplementedError

    def train(self, directory: str | Path, wall_time: float | None = None, warm_start: str | Path | None = None,
              threads: int = 1, adapt_threads: bool = False) -> TrainingResult:
        raise NotImplementedError


class NeppoBackend(Backend):
    """CPU training with ``neppo`` (PyPI), driven by :mod:`mlip_glass.nep.neppo_driver` in a subprocess."""

    name = "neppo"
    uses_cpu_settings = True

    def available(self) -> bool:
        import importlib.util

        return importlib.util.find_spec("neppo") is not None and importlib.util.find_spec("torch") is not None

    def version(self) -> str:
        from importlib.metadata import version

        return version("neppo")

    def train(self, directory, wall_time=None, warm_start=None, threads=1, adapt_threads=False) -> TrainingResult:
        if not self.available():
            raise NEPTrainingError('the CPU trainer is not installed: pip install "neppo" "torch"')
        directory = Path(directory)
        command = [sys.executable, "-m", "mlip_glass.nep.neppo_driver", str(directory), "--threads", str(threads)]
        if wall_time is not None:
            command += ["--wall-time", str(float(wall_time))]
        if warm_start is not None:
            command += ["--warm-start", str(warm_start)]
        adapt = bool(adapt_threads) and int(threads) > 1
        if adapt:
            command += ["--adapt-threads"]
        env = dict(os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads), PYTHONUNBUFFERED="1")
        if not adapt:
            # fixed threads: idle OpenMP threads sleep instead of spinning (on shared cores spinning made steps
            # 3-5x slower). Adapting: the runtime's default (spin briefly) makes 2 threads pay off on idle cores,
            # and the driver falls back to 1 thread when they do not.
            env.setdefault("OMP_WAIT_POLICY", OMP_WAIT_POLICY)
        kill_after = None if wall_time is None else float(wall_time) + max(KILL_GRACE_S, 0.5 * float(wall_time))
        status_path = directory / "neppo_status.json"
        status_path.unlink(missing_ok=True)
        start = time.perf_counter()
        code, log, _ = _stream(command, directory, directory / LOG_FILE, env=env, kill_after=kill_after)
        if code != 0 or not status_path.exists():
            raise NEPTrainingError(f"neppo training in {directory} failed (exit code {code})", log, str(directory))
        status = json.loads(status_path.read_text())
        return TrainingResult(str(directory), self.name, self.version(), status["wall_time_s"], status["n_steps"],
                              status["reason"], log, {"launch_wall_time_s": time.perf_counter() - start,
                                                      "setup_s": status.get("setup_s"),
                                                      "graph_cache": status.get("graph_cache")})


class GPUMDBackend(Backend):
    """GPUMD's ``nep`` executable (GPU). Found as ``command``, ``$MLIP_GLASS_NEP_CMD`` or ``nep`` on PATH.

    ``nep`` continues from ``nep.restart`` when that file is in the run directory (GPUMD behaviour), counting
    generations from zero again. At the wall-time budget the process gets SIGTERM; the last ``nep.txt``
    (written every 100 generations) is then evaluated in prediction mode (``prediction 1``) so that the
    parity files belong to the returned model.
    """

    name = "gpumd"

    def __init__(self, command: str | None = None):
        self.command = command or os.environ.get(NEP_COMMAND_ENV) or "nep"

    def executable(self) -> str | None:
        return shutil.which(self.command)

    def available(self) -> bool:
        return self.executable() is not None

    def version(self) -> str:
        log = Path(self._last_dir or ".") / LOG_FILE if getattr(self, "_last_dir", None) else None
        if log is not None and log.exists():
            for line in log.read_text().splitlines():
                if "GPUMD" in line and any(ch.isdigit() for ch in line):
                    return line.strip()
        return "unknown"

    _last_dir: str | None = None

    def train(self, directory, wall_time=None, warm_start=None, threads=1, adapt_threads=False) -> TrainingResult:
        exe = self.executable()
        if exe is None:
            raise NEPTrainingError(f"GPUMD nep executable {self.command!r} not found (set ${NEP_COMMAND_ENV})")
        directory = Path(directory)
        self._last_dir = str(directory)
        if warm_start is not None and not (directory / "nep.restart").exists():
            logger.warning("GPUMD cannot warm-start from a nep.txt; training from scratch")
        start = time.perf_counter()
        kill_after = None if wall_time is None else float(wall_time) + KILL_GRACE_S
        code, log, stopped = _stream([exe], directory, directory / LOG_FILE, terminate_after=wall_time,
                                     kill_after=kill_after)
        wall = time.perf_counter() - start
        if (code != 0 and not stopped) or not (directory / "nep.txt").exists():
            raise NEPTrainingError(f"GPUMD nep in {directory} failed (exit code {code})", log, str(directory))
        if stopped:
            self._predict(exe, directory)
        n_steps = _last_generation(directory / "loss.out")
        return TrainingResult(str(directory), self.name, self.version(), wall, n_steps,
                              "wall_time" if stopped else "steps", log)

    def _predict(self, exe: str, directory: Path) -> None:
        nep_in = directory / "nep.in"
        original = nep_in.read_text()
        lines = [ln for ln in original.splitlines() if not ln.split()[:1] == ["prediction"]]
        try:
            nep_in.write_text("\n".join(lines + ["prediction 1"]) + "\n")
            code, log, _ = _stream([exe], directory, directory / LOG_FILE)
            if code != 0:
                raise NEPTrainingError("GPUMD nep prediction run failed", log, str(directory))
        finally:
            nep_in.write_text(original)


def _last_generation(loss_out: Path) -> int:
    if not loss_out.exists():
        return 0
    rows = [ln.split() for ln in loss_out.read_text().splitlines() if ln.strip() and not ln.startswith("#")]
    return int(float(rows[-1][0])) if rows else 0


#: backend names accepted by :func:`get_backend`
BACKENDS = ("auto", "gpumd", "neppo")


def get_backend(name: str = "auto", nep_command: str | None = None) -> Backend:
    """``"gpumd"``, ``"neppo"`` or ``"auto"`` (GPUMD ``nep`` when found, else neppo)."""
    if name not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {name!r}")
    if name in ("auto", "gpumd"):
        gpumd = GPUMDBackend(nep_command)
        if gpumd.available() or name == "gpumd":
            return gpumd
    neppo = NeppoBackend()
    if not neppo.available():
        raise NEPTrainingError('no NEP trainer found: install GPUMD (nep on PATH) or pip install "neppo" "torch"')
    return neppo
