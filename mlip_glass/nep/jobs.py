"""jobflow Makers of the NEP stage."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from jobflow import Maker, Response

from mlip_glass.campaign import job_checkpoint_dir
from mlip_glass.nep.fit import dataset_field, dataset_hash, fit_nep
from mlip_glass.nep.schemas import DATA_FIELDS, NEPModelDocument
from mlip_glass.nep.settings import CPUTrainerSettings, NEPInputError, NEPSettings
from mlip_glass.stage import stage_job

#: the NEP stage's job decorator: nep.txt, loss curves, parity data and logs go to the data store
nep_job = stage_job("nep", data=DATA_FIELDS, output_schema=NEPModelDocument)


@dataclass
class NEPFitMaker(Maker):
    """Train a NEP potential on a dataset document (SPEC §6) and store the model.

    Parameters
    ----------
    name
        Job name.
    settings
        :class:`~mlip_glass.nep.settings.NEPSettings` (or its dict): the nep.in keywords, defaulting to the
        paper's (NEP4, ZBL 1.8 Å, cutoffs 6.5/4 Å, basis 8/8, 30 neurons, 1e5 generations). ``species`` is
        taken from the dataset.
    cpu_settings
        :class:`~mlip_glass.nep.settings.CPUTrainerSettings` (or dict) for the neppo backend: mini-batch,
        learning rate, seed, threads.
    backend
        ``"auto"`` (GPUMD ``nep`` when found, else the CPU trainer), ``"gpumd"`` or ``"neppo"``.
    steps
        Optimiser steps / generations; ``None`` = ``settings.generation``.
    wall_time
        Wall-time budget of the training (s); training stops at ``steps`` or the budget, whichever first.
    nep_command
        GPUMD ``nep`` executable (default ``$MLIP_GLASS_NEP_CMD`` or ``nep`` on PATH).
    warm_start_learning_rate
        (start, end) learning rate of a warm-started fit (None: ``cpu_settings.learning_rate``). A warm start
        continues an annealed model: restarting its cosine schedule at the cold-start rate (1e-2) first undoes
        part of the earlier fit, so the demo continues at the rate the previous schedule had reached.
    run_dir
        Parent directory of the run directories (default: the job's checkpoint folder
        ``$MLIP_GLASS_CHECKPOINT_DIR/<campaign>/<job uuid>``, else its working directory). The run directory
        is ``<run_dir>/nep_fit_<hash of dataset + settings>``, so re-running the same job after a kill (a
        FireWorks rerun in a new launcher folder too) resumes from its checkpoint there.
    """

    name: str = "nep fit"
    settings: NEPSettings = field(default_factory=NEPSettings)
    cpu_settings: CPUTrainerSettings = field(default_factory=CPUTrainerSettings)
    backend: str = "auto"
    steps: int | None = None
    wall_time: float | None = None
    nep_command: str | None = None
    warm_start_learning_rate: tuple[float, float] | None = None
    run_dir: str | None = None

    def __post_init__(self) -> None:
        settings: Any = self.settings  # a dict too: a deserialised Maker, or written by hand
        if isinstance(settings, dict):
            self.settings = NEPSettings.from_dict({k: v for k, v in settings.items() if not k.startswith("@")})
        cpu_settings: Any = self.cpu_settings
        if isinstance(cpu_settings, dict):
            self.cpu_settings = CPUTrainerSettings(**{k: v for k, v in cpu_settings.items() if not k.startswith("@")})
        if self.backend not in ("auto", "gpumd", "neppo"):
            raise NEPInputError(f"backend must be 'auto', 'gpumd' or 'neppo', got {self.backend!r}")
        if self.steps is not None and int(self.steps) < 1:
            raise NEPInputError(f"steps must be >= 1, got {self.steps}")
        if self.wall_time is not None and not float(self.wall_time) > 0:
            raise NEPInputError(f"wall_time must be > 0 s, got {self.wall_time}")
        if self.warm_start_learning_rate is not None:
            # floats of any length here; CPUTrainerSettings names a wrong length
            self.warm_start_learning_rate = cast(tuple[float, float],
                                                 tuple(float(x) for x in self.warm_start_learning_rate))
            CPUTrainerSettings(learning_rate=self.warm_start_learning_rate)  # validates (names the field)

    def trainer_settings(self, warm_start: Any = None) -> CPUTrainerSettings:
        """The CPU trainer settings of a fit (the warm-start learning rate when warm starting)."""
        if warm_start is None or self.warm_start_learning_rate is None:
            return self.cpu_settings
        return CPUTrainerSettings(**{**self.cpu_settings.as_dict(), "learning_rate": self.warm_start_learning_rate})

    def run_directory(self, dataset: Any, warm_start: Any = None) -> Path:
        """The run directory of ``dataset`` with these settings (stable across re-runs)."""
        key = json.dumps(
            [dataset_hash(dataset), self.settings.as_dict(), self.trainer_settings(warm_start).as_dict(), self.backend,
             self.steps,
             self.wall_time, dataset_field(warm_start, "model_hash") if warm_start is not None else None],
            sort_keys=True, default=str,
        )
        digest = hashlib.sha256(key.encode()).hexdigest()[:12]
        return (Path(self.run_dir) if self.run_dir else job_checkpoint_dir()) / f"nep_fit_{digest}"

    @nep_job
    def make(self, dataset: Any, warm_start: Any = None):
        """Train on ``dataset`` (document or dict with train_xyz/test_xyz/species); optional ``warm_start``
        model document from a previous iteration. Returns a :class:`NEPModelDocument`; a failed training
        returns a document with ``status="failed"`` and its log, and stops the flow."""
        doc = fit_nep(
            dataset,
            self.run_directory(dataset, warm_start),
            settings=self.settings,
            cpu_settings=self.trainer_settings(warm_start),
            backend=self.backend,
            steps=self.steps,
            wall_time=self.wall_time,
            warm_start=warm_start,
            nep_command=self.nep_command,
        )
        if doc.status != "completed":
            return Response(output=doc, stop_jobflow=True)
        return doc
