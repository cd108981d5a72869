"""Drive the CPU NEP trainer ``neppo`` on a GPUMD run directory, with a wall-time budget and restarts.

Run as a subprocess by :class:`mlip_glass.nep.backends.NeppoBackend`::

    python -m mlip_glass.nep.neppo_driver RUN_DIR [--wall-time S] [--threads N] [--warm-start nep.txt]

It reads ``nep.in``/``train.xyz``/``test.xyz`` with neppo's own readers (so the nep.in keywords mean what
neppo says they mean) and trains with neppo's :class:`~neppo.Trainer` (AdamW on mini-batches, gradient
descent instead of GPUMD's SNES). What this driver adds to ``neppo train``:

- **wall-time budget**: training stops at ``generation`` steps *or* ``--wall-time`` seconds, whichever
  comes first; the cosine learning-rate schedule runs on ``progress = max(step / steps, elapsed /
  wall_time)``, so the rate anneals to its final value by the budget even if the steps are not reached;
- **checkpoint/restart**: at every report (``output_interval`` steps) it writes ``neppo.restart``
  (model + AdamW state, step, elapsed time, batch order, history); a re-run in the same directory
  continues from it (the analogue of GPUMD's ``nep.restart``);
- **thread choice** (``--adapt-threads``): times steps with 1 and ``--threads`` torch threads and keeps the
  faster, re-checked every few hundred steps (:mod:`mlip_glass.nep.threads`);
- **warm start**: ``--warm-start nep.txt`` starts from an earlier model (e.g. the previous active-learning
  iteration), keeping its descriptor scaling;
- a final report that writes ``nep.txt``, ``loss.out`` and the parity files ``{energy,force,virial,
  stress}_{train,test}.out`` of the final model, and ``neppo_status.json`` (steps, wall time, reason).
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import sys
import time
from pathlib import Path

#: checkpoint file written at every report
RESTART_FILE = "neppo.restart"
#: status file written at the end of a training run
STATUS_FILE = "neppo_status.json"

logger = logging.getLogger("mlip_glass.nep.neppo_driver")


def _cosine(start: float, stop: float, progress: float) -> float:
    progress = min(max(progress, 0.0), 1.0)
    return stop + 0.5 * (start - stop) * (1 + math.cos(math.pi * progress))


def _plain(value):
    """JSON fallback for numpy scalars/arrays and pandas objects in the checkpoint's plain-data part."""
    if hasattr(value, "tolist"):
        return value.tolist()
    if hasattr(value, "to_dict"):
        return value.to_dict()
    return float(value)


def _truncate_loss_out(path: Path, last_step: int) -> None:
    """Drop loss.out rows written after the checkpoint step (a kill between report and checkpoint)."""
    if not path.exists():
        return
    kept = []
    for line in path.read_text().splitlines(keepends=True):
        fields = line.split()
        if fields and not line.startswith("#") and int(float(fields[0])) > last_step:
            continue
        kept.append(line)
    path.write_text("".join(kept))


def train(directory: str | Path, wall_time: float | None = None, threads: int = 1,  # noqa: C901, PLR0915 - one loop over neppo 1.0 internals (resume, thread tuning, reports, checkpoints)
          warm_start: str | Path | None = None, device: str = "cpu", adapt_threads: bool = False) -> dict:
    """Train (or resume) in ``directory``; returns the status dictionary also written to
    :data:`STATUS_FILE`.

    ``adapt_threads``: ``threads`` is the maximum; :class:`~mlip_glass.nep.threads.ThreadTuner` times steps
    with 1 and ``threads`` torch threads and keeps the faster (re-checked during the fit).

    ``wall_time`` (s) budgets the whole call: set-up (imports, reading the structures), the steps and the
    final report; on resume the time spent before the checkpoint counts too.
    """
    # the budget covers the whole run: imports, reading the structures, training and the final report
    begin = time.perf_counter()
    import numpy as np
    import pandas as pd
    import torch
    from neppo import __version__ as neppo_version
    from neppo.io import read_model
    from neppo.nep_in import _read_structures, get_loss, get_model, get_stages, read_nep_in
    from neppo.output import write_loss_header, write_predictions
    from neppo.trainer import Trainer

    from mlip_glass.nep.graphs import install as install_graph_cache
    from mlip_glass.nep.threads import ThreadTuner

    torch.set_num_threads(int(threads))
    tuner = ThreadTuner(int(threads), torch.set_num_threads) if adapt_threads else None
    cached_graphs = install_graph_cache()
    directory = Path(directory)
    settings = read_nep_in(directory / "nep.in")
    stages = get_stages(settings)
    if len(stages) != 1:
        raise ValueError("the driver supports one training stage (one 'generation' value)")
    stage = stages[0]
    seed = int(settings.get("seed", ["42"])[0])
    torch.manual_seed(seed)
    steps = int(stage["generation"][0])
    report_interval = int(settings.get("output_interval", ["100"])[0])
    rates = tuple(float(v) for v in stage["learning_rate"])
    restart = directory / RESTART_FILE
    if warm_start is not None and not restart.exists():
        model = read_model(warm_start)
        wanted = tuple(settings["type"][1:])
        if tuple(model.types) != wanted:
            raise ValueError(f"warm-start model species {model.types} differ from nep.in type {wanted}")
        shapes = {k: tuple(v.shape) for k, v in get_model(settings, directory).state_dict().items()}
        if shapes != {k: tuple(v.shape) for k, v in model.state_dict().items()}:
            raise ValueError("warm-start model has other hyperparameters (cutoffs, n_max, basis, neurons) than nep.in")
        logger.info("warm start from %s", warm_start)
    else:
        model = get_model(settings, directory)
    labels = ["train"] + (["test"] if (directory / "test.xyz").exists() else [])
    containers = {label: _read_structures(model, directory, label) for label in labels}
    loss = get_loss(stage, has_bec=False)
    trainer = Trainer(model, loss, containers["train"], test=containers.get("test"),
                      batch_size=int(settings.get("batch", ["32"])[0]), learning_rate=rates,
                      weight_decay=float(stage["weight_decay"][0]), device=device, seed=seed,
                      output_directory=directory)
    trainer._set_model_options()
    trainer._loss_settings = trainer._get_loss_settings()
    k0, elapsed0 = 0, 0.0
    if restart.exists():
        # weights_only: the checkpoint holds tensors and plain Python values only; nothing is unpickled
        state = torch.load(restart, weights_only=True)
        model.load_state_dict(state["model"])
        trainer.optimizer.load_state_dict(state["optimizer"])
        trainer._step = k0 = int(state["step"])
        elapsed0 = float(state["elapsed"])
        trainer._rng.bit_generator.state = state["rng"]
        trainer._order = list(state["order"])
        trainer.history = pd.DataFrame(state["history"])
        trainer._best_loss = float(state["best_loss"])
        trainer._best_row = state["best_row"]
        trainer._previous_report_step = k0
        _truncate_loss_out(directory / "loss.out", k0)
        logger.info("resumed from %s at step %d (%.1f s already spent)", restart, k0, elapsed0)
    else:
        trainer._reset_optimizer_state()
        (directory / "loss.out").unlink(missing_ok=True)
        write_loss_header(directory, report_interval, trainer._get_loss_columns())
    trainer._log_settings(steps)
    setup = time.perf_counter() - begin
    logger.info("set-up (imports, structures, descriptor scaling) took %.1f s (neighbour-graph cache %s)", setup,
                "on" if cached_graphs else "off")
    t0 = begin - elapsed0
    trainer._start_time = t0

    def save_checkpoint(elapsed: float) -> None:
        plain = lambda value: json.loads(json.dumps(value, default=_plain))  # noqa: E731 - numpy → Python
        state = {"model": model.state_dict(), "optimizer": trainer.optimizer.state_dict(),
                 "step": trainer._step, "elapsed": elapsed, "rng": plain(trainer._rng.bit_generator.state),
                 "order": [int(i) for i in trainer._order], "history": plain(trainer.history.to_dict("list")),
                 "best_loss": float(trainer._best_loss), "best_row": plain(trainer._best_row)}
        tmp = restart.with_suffix(".tmp")
        torch.save(state, tmp)
        os.replace(tmp, restart)

    totals, n_acc, reason = None, 0, "steps"
    report_cost = step_cost = 0.0
    rate = rates[0]
    last_report = k0 if k0 else -1
    k = k0
    while True:
        elapsed = time.perf_counter() - t0
        if k >= steps:
            reason = "steps"
            break
        # stop early enough for the final report (evaluation + files) to end within the budget; at least
        # one step is taken so that a model always comes out
        if wall_time is not None and k > 0 and elapsed + step_cost + report_cost >= wall_time:
            reason = "wall_time"
            break
        progress = k / max(steps - 1, 1)
        if wall_time:
            progress = max(progress, elapsed / wall_time)
        rate = _cosine(rates[0], rates[1], progress)
        trainer._set_learning_rate(rate)
        index = trainer._next_batch()
        if tuner is not None:
            tuner.threads_for_next_step()
        before = time.perf_counter()
        values = trainer._take_step(*trainer._batches[index], trainer._batch_has_bec[index])
        step_cost = time.perf_counter() - before
        if tuner is not None:
            tuner.record(step_cost)
        if not torch.isfinite(values[0]):
            raise FloatingPointError(f"loss became {float(values[0])} at step {trainer._step}")
        totals = values if totals is None else totals + values
        n_acc += 1
        k += 1
        if k % report_interval == 0:
            before = time.perf_counter()
            trainer._report(rate, totals / n_acc, is_last_step=False)
            totals, n_acc, last_report = None, 0, k
            save_checkpoint(time.perf_counter() - t0)
            report_cost = time.perf_counter() - before
    if n_acc and totals is not None:  # totals is set whenever a step was accumulated
        trainer._report(rate, totals / n_acc, is_last_step=True)
        save_checkpoint(time.perf_counter() - t0)
    elif last_report == k and k > 0:
        for label, container in containers.items():
            write_predictions(model, container, directory, label)
    if not (directory / "nep.txt").exists():
        model.write(directory / "nep.txt")
    wall = time.perf_counter() - t0
    status = {"status": "done", "reason": reason, "n_steps": int(trainer._step), "wall_time_s": wall,
              "setup_s": setup, "graph_cache": cached_graphs,
              "steps_requested": steps, "wall_time_budget_s": wall_time, "trainer": "neppo",
              "trainer_version": neppo_version, "threads": int(threads), "device": str(device),
              "thread_choices": tuner.history if tuner is not None else None,
              "warm_start": str(warm_start) if warm_start else None,
              "history": trainer.history.replace({np.nan: None}).to_dict("list")}
    (directory / STATUS_FILE).write_text(json.dumps(status))
    logger.info("training finished: %d steps in %.1f s (stopped by %s)", trainer._step, wall, reason)
    return status


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("directory")
    parser.add_argument("--wall-time", type=float, default=None, help="budget in seconds")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (the maximum with --adapt-threads)")
    parser.add_argument("--adapt-threads", action="store_true",
                        help="time steps with 1 and --threads threads and keep the faster (re-checked)")
    parser.add_argument("--warm-start", default=None)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args(argv)
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("%(message)s"))
    for name in ("neppo", "mlip_glass"):
        log = logging.getLogger(name)
        log.addHandler(handler)
        log.setLevel(logging.INFO)
    import warnings

    warnings.simplefilter("ignore")
    train(args.directory, wall_time=args.wall_time, threads=args.threads, warm_start=args.warm_start,
          device=args.device, adapt_threads=args.adapt_threads)


if __name__ == "__main__":
    main()
