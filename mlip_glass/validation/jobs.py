"""Makers of the validation stage: the campaign's held-out set and the closed-loop check of each NEP model.

- :class:`HeldOutSetMaker` runs the reference engine's own melt–quench (:mod:`mlip_glass.validation.heldout`)
  and stores the frames (extxyz text in the data store). Runs ``< validation_runs`` form the *validation* split
  (used to keep the best model across active-learning iterations), the others the *test* split (reported,
  never used for any decision). None of them is ever trained on.
- :class:`ModelValidationMaker` evaluates one NEP model on both splits (E/F RMSE per category), optionally with
  the MD-stability and box-relaxation checks, and records a selection score.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

from jobflow import CURRENT_JOB, JobConfig, Maker

from mlip_glass import queries
from mlip_glass.errors import MakerInputError
from mlip_glass.nep.fit import dataset_field
from mlip_glass.stage import stage_job
from mlip_glass.validation import checks
from mlip_glass.validation.heldout import HeldOutProtocol

logger = logging.getLogger(__name__)

#: validation jobs read the store while they run; held-out frames go to the data store
heldout_job = stage_job("validation", data=["heldout_xyz"], name=queries.HELDOUT_JOB_NAME)
validation_job = stage_job("validation", name=queries.MODEL_VALIDATION_JOB_NAME,
                           config=JobConfig(expose_store=True))


def split_frames(frames, validation_runs: int) -> dict[str, list]:
    """``{"validation": frames of runs < validation_runs, "test": the others}`` (by ``info['heldout_run']``)."""
    out: dict[str, list] = {"validation": [], "test": []}
    for frame in frames:
        out["validation" if int(frame.info.get("heldout_run", 0)) < validation_runs else "test"].append(frame)
    return out


@dataclass
class HeldOutSetMaker(Maker):
    """Held-out frames of the reference engine: NPT melt–quench 2000 → 300 K, relaxed and ±3 % scaled glasses.

    Parameters
    ----------
    engine
        Reference engine (``"eam"`` or an engine with a LAMMPS ``potential``); other engines (VASP) give an
        empty set with ``skipped`` set: reference MD is the expensive part there and not the paper's method.
    protocol
        :class:`~mlip_glass.validation.heldout.HeldOutProtocol` (a dict is turned into one).
    validation_runs
        The first ``validation_runs`` melt–quench runs are the validation split (model selection); the rest the
        test split (reported only). Must be < ``protocol.n_runs``.
    """

    name: str = queries.HELDOUT_JOB_NAME
    engine: Any = "eam"
    protocol: HeldOutProtocol = field(default_factory=HeldOutProtocol)
    validation_runs: int = 1

    def __post_init__(self):
        self.protocol = HeldOutProtocol.from_any(self.protocol)
        if not 0 <= int(self.validation_runs) < int(self.protocol.n_runs):
            raise MakerInputError(f"HeldOutSetMaker.validation_runs must be in [0, protocol.n_runs = "
                                  f"{self.protocol.n_runs}), got {self.validation_runs}")

    @heldout_job
    def make(self) -> dict:
        """The held-out set document: ``heldout_xyz`` (data store), counts per split and category, settings."""
        from mlip_glass.datasets.extxyz import frames_to_text
        from mlip_glass.reference.engines import get_engine
        from mlip_glass.validation.heldout import category_counts, heldout_frames

        engine = get_engine(self.engine)
        base = {"engine": engine.name, "protocol": self.protocol.as_dict(),
                "validation_runs": int(self.validation_runs)}
        if not hasattr(getattr(engine, "potential", None), "setup_lammps"):
            reason = f"engine {engine.name!r} has no LAMMPS potential: no held-out reference MD"
            logger.info(reason)
            return {**base, "heldout_xyz": "", "skipped": reason, "n_frames": 0, "counts": {}}
        start = time.process_time()
        frames = heldout_frames(engine, self.protocol)
        splits = split_frames(frames, int(self.validation_runs))
        return {**base, "heldout_xyz": frames_to_text(frames), "skipped": None, "n_frames": len(frames),
                "counts": {name: category_counts(part) for name, part in splits.items()},
                "cpu_time_s": time.process_time() - start}


def load_heldout(store, campaign: str) -> tuple[dict, dict[str, list]]:
    """(held-out document, ``{"validation": [...], "test": [...]}`` frames) of ``campaign`` from ``store``."""
    from mlip_glass.datasets.extxyz import frames_from_text

    doc = queries.heldout_set(store, campaign, load=True)
    if doc is None:
        raise queries.ProvenanceError(f"campaign {campaign!r} has no held-out set in the store")
    output = doc["output"]
    return output, split_frames(frames_from_text(output["heldout_xyz"]), int(output.get("validation_runs", 1)))


@dataclass
class ModelValidationMaker(Maker):
    """Evaluate a NEP model on the campaign's held-out set (read from the store) → validation document.

    Parameters
    ----------
    physical_checks
        Also run the NVT stability check at 1200 K and the box-relaxation check on test-split frames.
    n_stability_runs, n_relax_checks
        Frames used by those checks.
    """

    name: str = queries.MODEL_VALIDATION_JOB_NAME
    physical_checks: bool = False
    n_stability_runs: int = checks.N_STABILITY_RUNS
    n_relax_checks: int = checks.N_RELAX_CHECKS

    @validation_job
    def make(self, model: Any = None, model_uuid: str | None = None, iteration: int | None = None,
             campaign: str | None = None, after: Any = None) -> dict:
        """``model``: the NEP model document (its output reference) and ``model_uuid`` its job uuid; both None:
        the campaign's best model in the store (:func:`mlip_glass.queries.best_model`). ``after``: only orders
        this job (e.g. after the held-out set job)."""
        from mlip_glass.nep.schemas import load_nep
        from mlip_glass.properties.potentials import NEPPotential

        store = CURRENT_JOB.store
        campaign = campaign or CURRENT_JOB.job.metadata.get("campaign")
        if not campaign:
            raise queries.ProvenanceError("model validation needs a campaign (argument or the job's metadata)")
        if model is None:
            best = queries.best_model(store, campaign, load=True)
            if best is None:
                raise queries.ProvenanceError(f"campaign {campaign!r} has no completed NEP model to validate")
            model, model_uuid = best["output"], best["uuid"]
            iteration = int((best.get("metadata") or {}).get("iteration", 0))
        heldout, splits = load_heldout(store, campaign)
        out: dict[str, Any] = {"iteration": int(iteration or 0), "model_uuid": model_uuid,
                               "physical_checks": bool(self.physical_checks),
                               "model_hash": dataset_field(model, "model_hash"), "selection_score": None,
                               "validation_errors": None, "heldout_errors": None, "stability": None,
                               "relaxation": None, "energy_parity": None}
        if dataset_field(model, "status", "completed") != "completed" or not splits["validation"] + splits["test"]:
            out["skipped"] = heldout.get("skipped") or "model did not complete"
            return out
        nep_txt = str(load_nep(model, store=store))
        judged = {name: [f for f in part if not _is_inherent(f)] for name, part in splits.items()}
        if judged["validation"]:
            out["validation_errors"] = checks.heldout_errors(nep_txt, judged["validation"])
            out["selection_score"] = checks.selection_score(out["validation_errors"])
        if judged["test"]:
            out["heldout_errors"] = checks.heldout_errors(nep_txt, judged["test"])
            minima = [f for f in splits["test"] if str(f.info.get("config_type")).startswith(("relaxed", "is_"))]
            if len(minima) >= 2:
                out["energy_parity"] = checks.energy_parity(nep_txt, minima)
        if self.physical_checks and splits["test"]:
            potential = NEPPotential.from_file(nep_txt, name=f"NEP iteration {iteration}")
            hot = [f for f in splits["test"] if f.info.get("config_type") == "md_1200K"]
            relaxed = [f for f in splits["test"] if f.info.get("config_type") == "relaxed"]
            out["stability"] = checks.md_stability(potential, _spread(hot, self.n_stability_runs))
            out["relaxation"] = checks.relaxation_volume_change(potential, _spread(relaxed, self.n_relax_checks))
        return out


def _is_inherent(frame) -> bool:
    """Inherent structures of hot states serve the energy parity only; the errors are judged on the other
    categories (the states a user simulates)."""
    return str(frame.info.get("config_type")).startswith("is_")


def _spread(frames: list, n: int) -> list:
    """``n`` frames evenly spread over ``frames`` (runs and times differ)."""
    if n >= len(frames):
        return list(frames)
    step = len(frames) / n
    return [frames[int(i * step)] for i in range(n)]
