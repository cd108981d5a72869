"""Makers of the active-learning stage: MLIP feedback runs, candidate selection, labelling, dataset
assembly and the dynamic loop over iterations.

The loop (:class:`ActiveLearningMaker`) is a chain of ``al step`` jobs. The step of iteration ``k + 1``
runs with the JobStore exposed (``CURRENT_JOB.store``), finds the campaign's dataset ``k`` and model ``k``
*in the store* (never in local files), checks the stop criteria and, unless it stops, replaces itself
(jobflow ``Response(replace=...)``) by the jobs of the iteration::

    feedback runs (M) → select (dedupe by structure hash, classify) → label (reference engine)
      → assemble dataset k+1 (previous frames + new; earlier test frames stay in test)
      → NEP fit(s) (committee members with other seeds if selection == "committee")
      → iteration summary → al step k+2

Every job is stamped with ``metadata = {campaign, iteration: k+1, stage}``. Re-running the loop after a
crash (a new ``ActiveLearningMaker().make(campaign)``) starts from the last iteration that has a dataset
and a model in the store; frames labelled by the crashed iteration are reused, not labelled again.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
from jobflow import CURRENT_JOB, Flow, JobConfig, Maker, OutputReference, Response

from mlip_glass import queries
from mlip_glass.active_learning.constants import (
    DEFAULT_MAX_ITERATIONS,
    DEFAULT_RMSE_TOL,
    FEEDBACK_SUBSET,
    GAMMA_HI,
    GAMMA_LO,
    SELECTION_METHODS,
    STOP_METRIC,
    TRUST_HI_EV_A,
    TRUST_LO_EV_A,
)
from mlip_glass.active_learning.protocols import FeedbackMDProtocol
from mlip_glass.active_learning.resources import ASSEMBLE, LABEL
from mlip_glass.datasets.jobs import AssembleDatasetMaker, labelled_frames
from mlip_glass.errors import MakerInputError
from mlip_glass.job_ids import deterministic_replacement
from mlip_glass.provenance import stamp, structure_hash
from mlip_glass.reference.jobs import LabelMaker as ReferenceLabelMaker
from mlip_glass.stage import current_job, plain_output, stage_job

logger = logging.getLogger(__name__)

#: jobs that read the store while they run; feedback snapshots and the selection's structures (to label, reused
#: frames) go to the data store
al_job = stage_job("active_learning", data=["snapshots", "to_label", "reused_frames"],
                   config=JobConfig(expose_store=True))
al_summary_job = stage_job("active_learning", name=queries.SUMMARY_JOB_NAME)


# -- feedback runs ------------------------------------------------------------------------------------
@dataclass
class FeedbackMaker(Maker):
    """One MLIP feedback run: equilibrate hot and quench fast with the NEP model of the iteration.

    Parameters
    ----------
    name
        Job name (queries find feedback runs by it).
    snapshot_every
        Keep a snapshot every this many MD steps as a candidate (None: only the final structure, the paper's
        choice). A run that turns unphysical keeps the snapshots taken before it broke.
    protocol
        :class:`~mlip_glass.active_learning.protocols.FeedbackMDProtocol` (default: 2000 K for 2000 steps, linear
        quench to 300 K over 2000 steps of 1 fs, NPT at 0 GPa).
    """

    name: str = queries.FEEDBACK_JOB_NAME
    snapshot_every: int | None = None
    protocol: FeedbackMDProtocol = field(default_factory=FeedbackMDProtocol)

    def __post_init__(self):
        self.protocol = FeedbackMDProtocol.from_any(self.protocol)

    @al_job
    def make(self, model_uuid: str, start: dict, seed: int):
        """Run from ``start`` (surrogate document: structure, structure_hash, method, cooling_length, seed)
        with the model document ``model_uuid``, fetched with its nep.txt from the store.

        Output: ``structure`` (final state, None if the run broke), ``snapshots`` (``structure``,
        ``structure_hash``, ``step``, ``temperature_K`` of each kept state), ``failed``/``error``, provenance."""
        model = current_job().require_store().query_one({"uuid": model_uuid}, load=True)
        if model is None:
            raise queries.ProvenanceError(f"model document {model_uuid} not found in the store")
        base = {"parent_hash": start["structure_hash"], "model_hash": model["output"].get("model_hash"),
                "model_uuid": model_uuid, "seed": int(seed),
                "surrogate": {k: start.get(k) for k in ("method", "cooling_length", "seed", "job_uuid")}}
        try:
            snapshots, summary = self.run(model["output"], start, seed)
        except Exception as exc:  # noqa: BLE001 - an unstable MLIP run is an outcome, not a crash of the loop
            logger.warning("feedback run from %s failed: %s", start["structure_hash"][:12], exc)
            return {**base, "structure": None, "structure_hash": None, "snapshots": [], "failed": True,
                    "error": f"{type(exc).__name__}: {exc}"}
        kept = [{"structure": s.as_dict(), "structure_hash": structure_hash(s), "step": int(step),
                 "temperature_K": float(t)} for step, t, s in snapshots]
        complete = not summary.get("failed") and bool(kept)
        return {**base, "structure": kept[-1]["structure"] if complete else None,
                "structure_hash": kept[-1]["structure_hash"] if complete else None,
                "snapshots": kept if self.snapshot_every else ([] if complete else kept),
                "failed": not complete, "error": summary.get("failed"), "summary": summary}

    def run(self, model: dict, start: dict, seed: int):
        """``([(step, temperature_K, pymatgen Structure)], summary)`` of one run; subclasses may swap the engine."""
        from pymatgen.io.ase import AseAtomsAdaptor

        from mlip_glass.active_learning.feedback import feedback_trajectory
        from mlip_glass.properties.potentials import NEPPotential

        structure = _structure(start["structure"])
        snapshots, summary = feedback_trajectory(structure, NEPPotential.from_document(model), seed, self.protocol,
                                                 snapshot_every=self.snapshot_every)
        return [(step, t, AseAtomsAdaptor.get_structure(a)) for step, t, a in snapshots], summary


def feedback_candidates(runs: list[dict]) -> list[dict]:
    """Candidate structures of feedback-run outputs: every kept snapshot (or the final state), each with its
    run's provenance (start structure as parent, feedback job uuid)."""
    out = []
    for run in runs:
        states = run.get("snapshots") or ([{"structure": run["structure"], "structure_hash": run["structure_hash"]}]
                                          if run.get("structure") is not None else [])
        for state in states:
            out.append({"structure": state["structure"], "structure_hash": state["structure_hash"],
                        "parent_hash": run.get("parent_hash"), "surrogate": run.get("surrogate"),
                        "job_uuid": run.get("job_uuid"), "step": state.get("step"),
                        "temperature_K": state.get("temperature_K")})
    return out


# -- selection ----------------------------------------------------------------------------------------
@dataclass
class SelectCandidatesMaker(Maker):
    """Drop already-labelled structures, then keep all / committee-uncertain / extrapolating candidates.

    Parameters
    ----------
    method
        ``"all"`` (paper), ``"committee"`` (max force deviation of the iteration's models) or ``"maxvol"``
        (extrapolation grade on NEP descriptors of dataset k's training structures).
    trust_lo, trust_hi
        Committee force-deviation bounds (eV/Å): below lo accurate, above hi rejected.
    gamma_lo, gamma_hi
        MaxVol extrapolation-grade bounds (dimensionless).
    """

    name: str = "al select"
    method: str = "all"
    trust_lo: float = TRUST_LO_EV_A
    trust_hi: float = TRUST_HI_EV_A
    gamma_lo: float = GAMMA_LO
    gamma_hi: float = GAMMA_HI

    def __post_init__(self):
        if self.method not in SELECTION_METHODS:
            raise MakerInputError(f"method must be one of {SELECTION_METHODS}, got {self.method!r}")

    @al_job
    def make(self, candidates: list[dict], model_uuids: list[str], dataset_uuid: str):
        """Classify feedback outputs ``candidates``; ``model_uuids``/``dataset_uuid`` of iteration k."""
        from mlip_glass.active_learning.selection import class_fractions, classify, new_hashes_only

        store, campaign = current_job().require_store(), current_job().campaign
        runs = candidates
        failed = [bool(r.get("failed")) or (r.get("structure") is None and not r.get("snapshots")) for r in runs]
        candidates = feedback_candidates(runs)  # snapshots of every run, also those kept before a blow-up
        hashes = [c["structure_hash"] for c in candidates]
        dataset = store.query_one({"uuid": dataset_uuid}, properties=["output"])["output"]
        in_dataset = set(dataset.get("frame_hashes_train") or []) | set(dataset.get("frame_hashes_test") or [])
        fresh = new_hashes_only(hashes, in_dataset)
        scores: list[float | None] = [None] * len(candidates)
        if self.method == "all" or not candidates:
            classes = ["candidate"] * len(candidates)
        else:
            values = self._scores(store, candidates, model_uuids, dataset_uuid)
            lo, hi = (self.trust_lo, self.trust_hi) if self.method == "committee" else (self.gamma_lo, self.gamma_hi)
            classes, scores = classify(values, lo, hi), [float(v) for v in values]
        chosen = [i for i in fresh if classes[i] == "candidate"]
        classes = classes + ["rejected"] * sum(failed)  # failed runs count as rejected (their snapshots are kept)
        scores = scores + [None] * sum(failed)
        # frames labelled earlier but never assembled (a crashed iteration) are reused, not relabelled
        reused = queries.frames_by_hash(store, cast(str, campaign), [hashes[i] for i in chosen])
        to_label = [candidates[i] for i in chosen if hashes[i] not in reused]
        return {
            "method": self.method,
            "n_runs": len(runs),
            "n_candidates": len(candidates) + sum(failed),
            "n_failed_runs": sum(failed),
            "n_duplicates": len(candidates) - len(fresh),  # among successful runs
            "classes": classes,
            "scores": scores,
            "fractions": class_fractions(classes),
            "to_label": [_label_input(c) for c in to_label],
            "reused_frames": list(reused.values()),
            "n_to_label": len(to_label),
            "n_reused": len(reused),
        }

    def _scores(self, store, candidates, model_uuids, dataset_uuid) -> list[float]:
        from pymatgen.io.ase import AseAtomsAdaptor

        from mlip_glass.active_learning import selection
        from mlip_glass.properties.potentials import NEPPotential

        atoms = [AseAtomsAdaptor.get_atoms(_structure(c["structure"])) for c in candidates]
        models = [store.query_one({"uuid": u}, load=True)["output"] for u in model_uuids]
        paths = [NEPPotential.from_document(m).model_path() for m in models]
        if self.method == "committee":
            if len(paths) < 2:
                raise MakerInputError(f"selection 'committee' needs >= 2 models, iteration has {len(paths)}")
            per_model = [selection.nep_forces(atoms, p) for p in paths]
            return [selection.committee_force_deviation(np.asarray([f[i] for f in per_model]))
                    for i in range(len(atoms))]
        from mlip_glass.datasets.extxyz import frames_from_text

        dataset = store.query_one({"uuid": dataset_uuid}, load=True)["output"]
        train = frames_from_text(dataset["train_xyz"])
        active = selection.ActiveSet(selection.nep_descriptors(train, paths[0]),
                                     [a.get_chemical_symbols() for a in train])
        descs = selection.nep_descriptors(atoms, paths[0])
        return [active.grade(d, a.get_chemical_symbols()) for d, a in zip(descs, atoms)]


def _structure(value):
    """A pymatgen Structure from a Structure or its dict (resolved references give either)."""
    from pymatgen.core import Structure

    return value if isinstance(value, Structure) else Structure.from_dict(value)


def _label_input(candidate: dict) -> dict:
    """A feedback output as a labelling input: its structure, parent = the run's start structure."""
    sur = candidate.get("surrogate") or {}
    return {
        "structure": candidate["structure"],
        "structure_hash": candidate["parent_hash"],  # becomes the frame's parent_hash
        "method": sur.get("method"),
        "cooling_length": sur.get("cooling_length"),
        "seed": sur.get("seed"),
        "feedback_job_uuid": candidate.get("job_uuid"),
        "extra": {k: candidate[k] for k in ("step", "temperature_K") if candidate.get(k) is not None},
    }


# -- labelling ----------------------------------------------------------------------------------------
def feedback_label_maker(engine: Any = "eam", **fields: Any) -> ReferenceLabelMaker:
    """The loop's labelling Maker: :class:`mlip_glass.reference.jobs.LabelMaker` on the feedback candidates
    (job ``"al label"``, subset ``"mlip_feedback"``, bad inputs rejected, frames kept in the job document);
    ``fields`` (e.g. ``engine_kwargs``, ``subset``) override these."""
    settings = {"name": LABEL, "subset": FEEDBACK_SUBSET, "on_error": "reject", "output_as_dict": True, **fields}
    return ReferenceLabelMaker(engine=engine, **settings)


# -- dataset ------------------------------------------------------------------------------------------
def loop_assemble_maker(seed: int = 0, **fields: Any) -> AssembleDatasetMaker:
    """The loop's assembly Maker: :class:`mlip_glass.datasets.jobs.AssembleDatasetMaker` making dataset k+1 from
    dataset k (given by its uuid) + new frames (job ``"al assemble dataset"``, a plain-dict document);
    ``fields`` (e.g. ``assemble``) override these."""
    return AssembleDatasetMaker(**{"name": ASSEMBLE, "seed": seed, "output_as_dict": True, **fields})


# -- the loop -----------------------------------------------------------------------------------------
def _prepare_dynamic_jobs() -> None:
    """Before returning new jobs: keep their own ``iteration`` metadata (the running job's inherited
    ``iteration`` update would overwrite it) and their per-name resources (jobflow would otherwise copy
    the running job's ``manager_config`` onto every new job after the dynamic config updates)."""
    job = CURRENT_JOB.job
    for update in job.metadata_updates:
        if "iteration" in update.get("update", {}):
            update["update"] = {k: v for k, v in update["update"].items() if k != "iteration"}
    job.config.pass_manager_config = False


@dataclass
class ActiveLearningMaker(Maker):
    """The MLIP-feedback loop over iterations (SPEC §5 item 7, generalised to N iterations).

    Parameters
    ----------
    name
        Name of the step jobs.
    n_feedback_runs
        Feedback runs per iteration (paper: 138, :data:`~.constants.PAPER_N_FEEDBACK_RUNS`).
    max_iterations
        Stop after this iteration (the iteration-0 model comes from the main pipeline).
    rmse_tol
        Stop when |Δ| of the test force RMSE (meV/Å) between consecutive iterations is below this.
    seed
        Base seed: feedback-run seeds and start-structure choice derive from it and the iteration.
    warm_start
        Start each refit from the previous iteration's model (the fit Maker's ``make`` must accept
        ``warm_start``, as :class:`~mlip_glass.nep.jobs.NEPFitMaker` does); False trains from scratch.
    committee_size
        Models trained per iteration when ``select.method == "committee"`` (seeds seed, seed+1, ...).
    feedback, select, label, assemble
        Makers of the steps (``label`` may be any Maker whose ``make(structures)`` labels a list of
        documents; default :func:`feedback_label_maker`, a :class:`mlip_glass.reference.jobs.LabelMaker`).
    fit
        NEP training Maker, ``make(dataset)`` → NEPModelDocument (default
        :class:`mlip_glass.nep.jobs.NEPFitMaker`); committee members need a ``seed`` or ``cpu_settings.seed``.
    validation
        Maker ``make(model, model_uuid, iteration)`` scoring each new model on the campaign's held-out validation
        frames (:class:`mlip_glass.validation.jobs.ModelValidationMaker`); None: no scores. With scores, feedback
        runs and warm starts use the *best* model so far (:func:`mlip_glass.queries.best_model`), so a worse
        refit never replaces a better model, and the loop stops after ``patience`` iterations without a better one.
    patience
        Stop when the best validation score is this many iterations old (None: never on this criterion).
    feedback_density
        ``"surrogate"``: feedback runs start in the surrogate's cell (paper); ``"relaxed"``: scaled to the mean
        density of the campaign's reference-minimised structures first (NPT then starts near zero pressure).
    """

    name: str = "al step"
    n_feedback_runs: int = 4
    max_iterations: int = DEFAULT_MAX_ITERATIONS
    rmse_tol: float = DEFAULT_RMSE_TOL
    seed: int = 1
    committee_size: int = 1
    warm_start: bool = False
    feedback: Maker = field(default_factory=FeedbackMaker)
    select: Maker = field(default_factory=SelectCandidatesMaker)
    label: Maker = field(default_factory=feedback_label_maker)
    assemble: Maker = field(default_factory=loop_assemble_maker)
    fit: Maker | None = None
    validation: Maker | None = None
    patience: int | None = None
    feedback_density: str = "surrogate"

    def __post_init__(self):
        if self.feedback_density not in ("surrogate", "relaxed"):
            raise MakerInputError(f"feedback_density must be 'surrogate' or 'relaxed', got {self.feedback_density!r}")
        if self.patience is not None and int(self.patience) < 1:
            raise MakerInputError(f"patience must be >= 1 or None, got {self.patience}")
        if self.n_feedback_runs < 1:
            raise MakerInputError(f"n_feedback_runs must be >= 1, got {self.n_feedback_runs}")
        if self.max_iterations < 0:
            raise MakerInputError(f"max_iterations must be >= 0, got {self.max_iterations}")
        if self.committee_size < 1:
            raise MakerInputError(f"committee_size must be >= 1, got {self.committee_size}")
        if self.fit is None:
            from mlip_glass.nep.jobs import NEPFitMaker

            self.fit = NEPFitMaker()

    @al_job
    def make(self, campaign: str | None = None, iteration: int | None = None, after: Any = None):
        """Run iteration ``iteration`` (None: resume after the last finished iteration in the store).

        ``campaign`` defaults to the job's ``metadata["campaign"]`` (set by ``stamp``/``build_flow``);
        ``after`` only orders this job after another job's output."""
        campaign = campaign or current_job().campaign
        if not campaign:
            raise MakerInputError("campaign must be given or stamped into the job metadata (provenance.stamp)")
        store = current_job().require_store()
        done = queries.last_finished_iteration(store, campaign)
        if done is None:
            raise queries.ProvenanceError(
                f"campaign {campaign!r} has no dataset + model of any iteration in the store; "
                "run the main pipeline (iteration 0) first"
            )
        previous = done if iteration is None else int(iteration) - 1
        if previous > done:
            raise queries.ProvenanceError(f"iteration {previous} of campaign {campaign!r} is not finished")
        stop = self.stop_reason(store, campaign, previous)
        if stop:
            logger.info("active learning of %r stops after iteration %d: %s", campaign, previous, stop)
            return {"campaign": campaign, "stopped": True, "reason": stop, "last_iteration": previous}
        k = previous + 1
        model = queries.find_model(store, campaign, previous)
        if self.validation is not None:  # feedback and warm start from the best model so far
            model = queries.best_model(store, campaign) or model
        models = queries.find_model(store, campaign, previous, committee=True)
        dataset = queries.find_dataset(store, campaign, previous)
        if model is None or dataset is None:
            raise queries.ProvenanceError(f"iteration {previous} of campaign {campaign!r} has no model or dataset")
        flow = self.iteration_flow(store, campaign, k, model["uuid"], [m["uuid"] for m in models], dataset["uuid"])
        _prepare_dynamic_jobs()
        plan = {"campaign": campaign, "stopped": False, "iteration": k, "model_uuid": model["uuid"],
                "dataset_uuid": dataset["uuid"], "n_jobs": len(flow.jobs)}
        return Response(output=plan, replace=deterministic_replacement(flow))

    def stop_reason(self, store, campaign: str, k: int) -> str | None:
        """Why the loop stops after finished iteration ``k`` (None: continue)."""
        if k >= self.max_iterations:
            return f"reached max_iterations = {self.max_iterations}"
        if k == 0:
            return None
        summary = queries.model_of_iteration(store, campaign, k)["summary"] or {}
        if summary.get("n_new_frames") == 0:
            return "no new frames were labelled in the last iteration"
        now = queries.metric(queries.find_model(store, campaign, k)["output"].get("rmse"), STOP_METRIC)
        before = queries.metric(queries.find_model(store, campaign, k - 1)["output"].get("rmse"), STOP_METRIC)
        if now is not None and before is not None and abs(now - before) < self.rmse_tol:
            return f"|Δ {'/'.join(STOP_METRIC)}| = {abs(now - before):.3g} < rmse_tol = {self.rmse_tol}"
        if self.patience is not None:
            scores = [d["output"] for d in queries.model_validations(store, campaign)
                      if d["output"].get("selection_score") is not None]
            if scores:
                best = min(scores, key=lambda o: (o["selection_score"], o["iteration"]))["iteration"]
                if k - int(best) >= int(self.patience):
                    return f"no better validation score since iteration {best} (patience {self.patience})"
        return None

    def iteration_flow(self, store, campaign, k, model_uuid, model_uuids, dataset_uuid) -> Flow:
        """The jobs of iteration ``k`` (stamped with campaign and iteration)."""
        from mlip_glass.active_learning.feedback import choose_start_structures

        keep = ("structure", "structure_hash", "method", "cooling_length", "seed", "job_uuid")
        states = [{key: doc.get(key) for key in keep} for doc in queries.surrogate_states(store, campaign)]
        starts = choose_start_structures(states, self.n_feedback_runs, seed=self.seed * 1000 + k)
        if self.feedback_density == "relaxed":
            starts = _at_relaxed_density(store, campaign, starts)
        runs = []
        for i, start in enumerate(starts):
            run = self.feedback.make(model_uuid, start, seed=self.seed * 100000 + k * 1000 + i + 1)
            runs.append(run)
        candidates = [dict_with_uuid(run) for run in runs]
        select = self.select.make(candidates, model_uuids, dataset_uuid)
        label = self.label.make(select.output["to_label"])
        assemble = self.assemble.make(label.output, previous=dataset_uuid, reused=select.output["reused_frames"])
        fits = []
        for member in range(self.committee_size if getattr(self.select, "method", "all") == "committee" else 1):
            if self.warm_start:  # continue from model k-1 (read from the store when the fit runs)
                fit = self._member(member).make(assemble.output, warm_start=OutputReference(model_uuid))
            else:
                fit = self._member(member).make(assemble.output)
            if member:
                fit.update_metadata({"committee_member": member}, dynamic=False)
            fits.append(fit)
        checks = []
        if self.validation is not None:
            checks.append(self.validation.make(fits[0].output, model_uuid=fits[0].uuid, iteration=k))
        validation = checks[0].output if checks else None
        summary = iteration_summary(k, select.output, label.output, assemble.output, fits[0].output, validation)
        nxt = self.make(campaign, k + 1, after=summary.output["iteration"])
        # the flow's output is the next step's: whatever waits for this loop waits for its last iteration
        flow = Flow([*runs, select, label, assemble, *fits, *checks, summary, nxt], output=nxt.output,
                    name=f"active learning {k}")
        return stamp(flow, campaign=campaign, iteration=k)

    def _member(self, member: int) -> Maker:
        fit: Any = self.fit  # set in __post_init__
        if member == 0:
            return fit
        if hasattr(fit, "seed"):
            return dataclasses.replace(fit, seed=fit.seed + member)
        cpu = getattr(fit, "cpu_settings", None)
        if cpu is not None:
            cpu = dataclasses.asdict(cpu) if dataclasses.is_dataclass(cpu) and not isinstance(cpu, type) else dict(cpu)
            cpu["seed"] = int(cpu.get("seed") or 0) + member
            return dataclasses.replace(fit, cpu_settings=cpu)
        raise MakerInputError("committee members need a fit Maker with a 'seed' or 'cpu_settings.seed' field")


def dict_with_uuid(run) -> dict:
    """A feedback job's output reference plus its job uuid (kept in the labels' provenance)."""
    keys = ("structure", "structure_hash", "parent_hash", "surrogate", "snapshots", "failed")
    return {**{k: run.output[k] for k in keys}, "job_uuid": run.uuid}


def _at_relaxed_density(store, campaign: str, starts: list[dict]) -> list[dict]:
    """``starts`` scaled to the mean volume per atom of the campaign's reference-minimised structures."""
    from mlip_glass.datasets.subsets import mean_volume_per_atom, rescale_to_density
    from mlip_glass.properties.store import fetch_reference_frames

    finals = fetch_reference_frames(store, campaign, subset="relaxed")
    if not finals:
        return starts
    scaled = rescale_to_density([_structure(s["structure"]) for s in starts],
                                mean_volume_per_atom(labelled_frames(finals)))
    return [{**start, "structure": item.structure.as_dict()} for start, item in zip(starts, scaled)]


@al_summary_job
def iteration_summary(iteration: int, selection: dict, labelled: dict, dataset: dict, model: dict,
                      validation: dict | None = None) -> dict:
    """Per-iteration record: candidates, class fractions, new frames, dataset and model hashes, errors."""
    selection, labelled, dataset, model = (plain_output(x) for x in (selection, labelled, dataset, model))
    frames = queries.frames_in_output(labelled)
    return {
        "iteration": int(iteration),
        "method": selection["method"],
        "n_candidates": selection["n_candidates"],
        "n_duplicates": selection["n_duplicates"],
        "fractions": selection["fractions"],
        "n_labelled": len(frames),
        "n_rejected_labels": sum(bool(f.get("rejected")) for f in frames),
        "n_reused": selection["n_reused"],
        "n_new_frames": len(frames) + selection["n_reused"],
        "dataset_hash": dataset.get("dataset_hash"),
        "previous_dataset_hash": dataset.get("previous_dataset_hash"),
        "model_hash": model.get("model_hash"),
        "rmse": model.get("rmse"),
        "n_failed_runs": selection.get("n_failed_runs"),
        "selection_score": (validation or {}).get("selection_score"),
        "validation_errors": (validation or {}).get("validation_errors"),
    }


def active_learning_flow(**options) -> Flow:
    """The loop as a one-job flow for the named-flow registry (``mlip-glass submit active-learning
    --campaign C -o n_feedback_runs=138``); the campaign comes from the stamped metadata."""
    return Flow([ActiveLearningMaker(**options).make()], name="active learning")
