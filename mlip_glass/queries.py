"""Provenance queries on a JobStore (MongoDB, embedded or memory): what the active-learning loop reads
and what a user asks afterwards.

Every job document carries ``metadata = {campaign, stage, iteration, ...}`` (see
:mod:`mlip_glass.provenance`). The queries here filter on those fields (indexed by
:func:`mlip_glass.store.ensure_indexes`) and on the structure hashes inside outputs:

- :func:`model_of_iteration` — the NEP model of iteration k with its dataset and error metrics;
- :func:`frames_of_subset` — every labelled frame of a subset with its producing job and engine;
- :func:`lineage` — a frame back through feedback runs to the surrogate run (method, cooling length, seed);
- :func:`learning_curve` — test/train errors and dataset sizes per iteration.

The functions take any maggma-like store with ``query``/``query_one`` (a jobflow
``JobStore`` in practice). Output documents may be pydantic dumps or plain dicts.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from typing import Any

from mlip_glass.errors import MLIPGlassError

#: stages whose outputs hold labelled frames / surrogate states / datasets / models
REFERENCE_STAGE = "reference"
SURROGATE_STAGE = "surrogate"
DATASET_STAGE = "dataset"
NEP_STAGE = "nep"
AL_STAGE = "active_learning"
VALIDATION_STAGE = "validation"
#: job names of the validation stage
HELDOUT_JOB_NAME = "held-out reference frames"
MODEL_VALIDATION_JOB_NAME = "model validation"
#: name of the per-iteration summary job of the active-learning loop
SUMMARY_JOB_NAME = "al iteration summary"
#: name of the MLIP feedback-run jobs
FEEDBACK_JOB_NAME = "mlip feedback run"


class ProvenanceError(MLIPGlassError, LookupError, ValueError):
    """A document the query needs is not in the store (names campaign/iteration/hash)."""


def criteria(campaign: str | None, stage: str | None = None, iteration: int | None = None, at_most: bool = False,
             **extra) -> dict:
    """The ``metadata.*`` criteria of job documents: ``campaign``, ``stage``, ``iteration`` (``at_most``:
    every iteration up to it), plus any ``extra`` ``field: condition`` pairs."""
    crit: dict[str, Any] = {}
    if campaign is not None:
        crit["metadata.campaign"] = campaign
    if stage is not None:
        crit["metadata.stage"] = stage
    if iteration is not None:
        crit["metadata.iteration"] = {"$lte": int(iteration)} if at_most else int(iteration)
    crit.update(extra)
    return crit


_criteria = criteria


def _recency(doc: dict) -> tuple:
    return str(doc.get("completed_at") or ""), doc.get("index", 1)


def latest(docs: Iterable[dict]) -> dict | None:
    """The most recently completed of ``docs`` (by ``completed_at``, then ``index``), or None."""
    docs = list(docs)
    return max(docs, key=_recency) if docs else None


def _connect(store) -> None:
    try:  # JobStore.connect is idempotent for Mongo/Memory; harmless when already connected
        if getattr(store, "_coll", None) is None and getattr(getattr(store, "docs_store", None), "_coll", None) is None:
            store.connect()
    except Exception:
        store.connect()


# -- models and datasets --------------------------------------------------------------------------------
def _is_main_model(doc: dict) -> bool:
    meta = doc.get("metadata") or {}
    out = doc.get("output") or {}
    return int(meta.get("committee_member") or 0) == 0 and (out.get("status") or "completed") == "completed"


#: fields of model documents :func:`model_of_iteration` / :func:`learning_curve` read
MODEL_FIELDS = ["uuid", "index", "completed_at", "metadata", "output.status", "output.model_hash",
                "output.dataset_hash", "output.rmse", "output.n_train", "output.n_test"]
#: fields of dataset documents they read
DATASET_FIELDS = ["uuid", "index", "completed_at", "metadata", "output.dataset_hash", "output.previous_dataset_hash",
                  "output.counts", "output.frame_hashes_train", "output.frame_hashes_test"]
#: fields of active-learning summary documents they read
SUMMARY_FIELDS = ["uuid", "index", "completed_at", "metadata", "output"]
#: what :func:`latest` and :func:`_is_main_model` read (added to any projection of model documents)
_SELECTION_FIELDS = ["uuid", "index", "completed_at", "metadata", "output.status"]


def _with_selection_fields(properties: list[str] | None) -> list[str] | None:
    """``properties`` plus :data:`_SELECTION_FIELDS`, without paths inside another one (MongoDB refuses
    ``{"output": 1, "output.status": 1}``)."""
    if properties is None:
        return None
    fields = list(dict.fromkeys([*_SELECTION_FIELDS, *properties]))
    return [f for f in fields if not any(f.startswith(other + ".") for other in fields)]


def find_model(store, campaign: str, iteration: int, load: bool = False, committee: bool = False,
               properties: list[str] | None = None):
    """The completed NEP model document of ``campaign`` at ``iteration`` (latest if several).

    With ``committee=True`` a list of every completed model of the iteration (main model first).
    ``load=True`` fetches ``nep_txt`` and other blobs from the data store. ``properties``: only these fields
    (e.g. :data:`MODEL_FIELDS`; None: whole documents).
    """
    _connect(store)
    crit = _criteria(campaign, NEP_STAGE, iteration)
    docs = list(store.query(crit, properties=_with_selection_fields(properties), load=load))
    docs = [d for d in docs if ((d.get("output") or {}).get("status") or "completed") == "completed"]
    if committee:
        docs.sort(key=lambda d: int((d.get("metadata") or {}).get("committee_member") or 0))
        return docs
    return latest(d for d in docs if _is_main_model(d))


#: only DatasetDocuments carry this field (the dataset stage also stores Fig. 2b / cost-ledger reports)
IS_DATASET: dict[str, Any] = {"output.dataset_hash": {"$exists": True}}


def find_dataset(store, campaign: str, iteration: int, load: bool = False,
                 properties: list[str] | None = None) -> dict | None:
    """The dataset document of ``campaign`` at ``iteration`` (latest if several); ``properties``: only these
    fields (e.g. :data:`DATASET_FIELDS`; None: whole documents)."""
    _connect(store)
    crit = _criteria(campaign, DATASET_STAGE, iteration, **IS_DATASET)
    return latest(store.query(crit, properties=_with_selection_fields(properties), load=load))


def heldout_set(store, campaign: str, load: bool = False) -> dict | None:
    """The campaign's held-out set document (reference-engine frames never trained on), latest if several."""
    _connect(store)
    crit = _criteria(campaign, VALIDATION_STAGE, name=HELDOUT_JOB_NAME)
    return latest(d for d in store.query(crit, load=load) if (d.get("output") or {}).get("heldout_xyz"))


def model_validations(store, campaign: str) -> list[dict]:
    """Every model-validation document of ``campaign`` (outputs with iteration, model_uuid, score), by iteration."""
    _connect(store)
    crit = _criteria(campaign, VALIDATION_STAGE, name=MODEL_VALIDATION_JOB_NAME)
    docs = [d for d in store.query(crit, properties=["output", "metadata", "uuid", "completed_at", "index"])
            if isinstance(d.get("output"), dict) and d["output"].get("model_uuid")]
    return sorted(docs, key=lambda d: (int(d["output"].get("iteration") or 0), str(d.get("completed_at") or "")))


def best_model(store, campaign: str, load: bool = False) -> dict | None:
    """The completed main NEP model with the lowest validation score (the model active learning keeps); without
    validation documents, the model of the last finished iteration."""
    scored = [d["output"] for d in model_validations(store, campaign)
              if d["output"].get("selection_score") is not None]
    if scored:
        best = min(scored, key=lambda o: (float(o["selection_score"]), int(o.get("iteration") or 0)))
        _connect(store)
        return store.query_one({"uuid": best["model_uuid"]}, load=load)
    done = last_finished_iteration(store, campaign)
    return None if done is None else find_model(store, campaign, done, load=load)


def finished_iterations(store, campaign: str) -> list[int]:
    """Iterations with both a dataset and a completed main model in the store, ascending."""
    _connect(store)
    props = ["metadata", "output.status", "completed_at", "index"]
    with_model = {
        int(d["metadata"]["iteration"])
        for d in store.query(_criteria(campaign, NEP_STAGE), properties=props)
        if _is_main_model(d)
    }
    with_data = {
        int(d["metadata"]["iteration"])
        for d in store.query(_criteria(campaign, DATASET_STAGE, **IS_DATASET), properties=["metadata"])
    }
    return sorted(with_model & with_data)


def last_finished_iteration(store, campaign: str) -> int | None:
    """Highest finished iteration of ``campaign`` (see :func:`finished_iterations`), or None."""
    done = finished_iterations(store, campaign)
    return done[-1] if done else None


def model_of_iteration(store, campaign: str, iteration: int) -> dict:
    """The model of ``iteration`` with its dataset and metrics.

    Returns ``{"iteration", "model": {uuid, model_hash, dataset_hash, rmse, n_train, n_test},
    "dataset": {uuid, dataset_hash, previous_dataset_hash, counts, n_train, n_test}, "summary": ...}``
    (summary = the active-learning summary of the iteration, None for iteration 0). Reads only the fields it
    returns (:data:`MODEL_FIELDS`, :data:`DATASET_FIELDS`, :data:`SUMMARY_FIELDS`).
    """
    model = find_model(store, campaign, iteration, properties=MODEL_FIELDS)
    if model is None:
        raise ProvenanceError(f"no completed NEP model for campaign {campaign!r}, iteration {iteration}")
    dataset = find_dataset(store, campaign, iteration, properties=DATASET_FIELDS)
    crit = _criteria(campaign, AL_STAGE, iteration, name=SUMMARY_JOB_NAME)
    summary = latest(store.query(crit, properties=SUMMARY_FIELDS))
    return _model_entry(iteration, model, dataset, summary)


def _model_entry(iteration: int, model: dict, dataset: dict | None, summary: dict | None) -> dict:
    out = model["output"]
    result = {
        "iteration": int(iteration),
        "model": {
            "uuid": model["uuid"],
            "model_hash": out.get("model_hash"),
            "dataset_hash": out.get("dataset_hash"),
            "rmse": out.get("rmse"),
            "n_train": out.get("n_train"),
            "n_test": out.get("n_test"),
        },
        "dataset": None,
        "summary": None,
    }
    if dataset is not None:
        d = dataset["output"]
        result["dataset"] = {
            "uuid": dataset["uuid"],
            "dataset_hash": d.get("dataset_hash"),
            "previous_dataset_hash": d.get("previous_dataset_hash"),
            "counts": d.get("counts"),
            "n_train": len(d.get("frame_hashes_train") or []),
            "n_test": len(d.get("frame_hashes_test") or []),
        }
    if summary is not None:
        result["summary"] = summary["output"]
    return result


def _latest_by_iteration(docs: Iterable[dict]) -> dict[int, dict]:
    """The latest of ``docs`` (:func:`latest`) per ``metadata.iteration`` (documents without one left out)."""
    groups: dict[int, list[dict]] = {}
    for doc in docs:
        iteration = (doc.get("metadata") or {}).get("iteration")
        if iteration is not None:
            groups.setdefault(int(iteration), []).append(doc)
    return {k: max(group, key=_recency) for k, group in groups.items()}


def metric(rmse: dict | None, path: Iterable[str]) -> float | None:
    """A number from a nested rmse table (``("test", "all", "rmse_force_meV_per_A")``), None if absent."""
    value: Any = rmse
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return None if value is None else float(value)


def learning_curve(store, campaign: str) -> list[dict]:
    """Errors per finished iteration (:func:`finished_iterations`): ``[{iteration, model_hash, n_train, n_test,
    rmse: {split: {...}}, n_new_frames, fractions}]``; three projected queries (models, datasets, summaries)."""
    _connect(store)
    models = _latest_by_iteration(
        d for d in store.query(_criteria(campaign, NEP_STAGE), properties=MODEL_FIELDS) if _is_main_model(d))
    datasets = _latest_by_iteration(
        store.query(_criteria(campaign, DATASET_STAGE, **IS_DATASET), properties=DATASET_FIELDS))
    summaries = _latest_by_iteration(
        store.query(_criteria(campaign, AL_STAGE, name=SUMMARY_JOB_NAME), properties=SUMMARY_FIELDS))
    rows = []
    for k in sorted(set(models) & set(datasets)):
        entry = _model_entry(k, models[k], datasets[k], summaries.get(k))
        summary = entry["summary"] or {}
        rows.append({
            "iteration": k,
            "model_hash": entry["model"]["model_hash"],
            "n_train": (entry["dataset"] or {}).get("n_train"),
            "n_test": (entry["dataset"] or {}).get("n_test"),
            "rmse": entry["model"]["rmse"],
            "n_new_frames": summary.get("n_new_frames"),
            "fractions": summary.get("fractions"),
        })
    return rows


# -- frames -----------------------------------------------------------------------------------------------
def frames_in_output(output: Any) -> list[dict]:
    """Labelled frames (dicts) held by a reference job output: a list of frames or ``{"frames": ...}`` with a
    frame block (:mod:`mlip_glass.frame_block`) or a list of frames (stores written before blocks)."""
    from mlip_glass.frame_block import frame_dicts, is_frame_block

    if is_frame_block(output):
        return frame_dicts(output)
    if isinstance(output, list):
        return [f for f in output if isinstance(f, dict) and "structure_hash" in f and "subset" in f]
    if isinstance(output, dict):
        if isinstance(output.get("frames"), list) or is_frame_block(output.get("frames")):
            return frames_in_output(output["frames"])
        if "structure_hash" in output and "subset" in output and "engine" in output:
            return [output]
    return []


def iter_frames(store, campaign: str | None = None, iteration: int | None = None,
                subset: str | None = None) -> Iterator[tuple[dict, dict]]:
    """``(frame, job document)`` for every labelled frame of the campaign's reference jobs (of ``subset`` only:
    jobs whose output names another subset are not loaded)."""
    _connect(store)
    props = ["uuid", "index", "name", "metadata", "output", "completed_at"]
    crit = _criteria(campaign, REFERENCE_STAGE, iteration)
    if subset is not None:  # a SubsetDocument's frames are all of its subset; other outputs are looked into
        crit["$or"] = [{"output.subset": subset}, {"output.subset": {"$exists": False}}]
    # load=True: the datasets stage's subset documents keep their frames in the data store
    for doc in store.query(crit, properties=props, load=True):
        for frame in frames_in_output(doc.get("output")):
            if subset is None or frame.get("subset") == subset:
                yield frame, doc


def labelled_hashes(store, campaign: str) -> set[str]:
    """Structure hashes already labelled in ``campaign`` (rejected frames included: never relabel).

    Read from the job documents' ``output.frame_hashes`` (no frame is loaded); only reference jobs written
    without that list (older stores, bare frame lists) have their frames loaded."""
    _connect(store)
    hashes: set[str] = set()
    legacy = False
    for doc in store.query(_criteria(campaign, REFERENCE_STAGE), properties=["output.frame_hashes"], load=False):
        listed = (doc.get("output") or {}).get("frame_hashes") if isinstance(doc.get("output"), dict) else None
        if isinstance(listed, list):
            hashes.update(listed)
        else:
            legacy = True
    if legacy:
        crit = {**_criteria(campaign, REFERENCE_STAGE), "output.frame_hashes": {"$exists": False}}
        hashes.update(frame["structure_hash"] for frame, _ in _frames_of_docs(store, crit))
    return hashes


def _frames_of_docs(store, crit: dict, sort: dict | None = None) -> Iterator[tuple[dict, dict]]:
    props = ["uuid", "index", "name", "metadata", "output", "completed_at"]
    for doc in store.query(crit, properties=props, load=True, sort=sort):
        for frame in frames_in_output(doc.get("output")):
            yield frame, doc


def reference_frames(store, campaign: str, iteration: int | None = None, sort: dict | None = None) -> list[dict]:
    """Every labelled frame of the campaign's reference jobs of iterations up to ``iteration`` (None: all), in
    store order or by ``sort`` (e.g. ``{"completed_at": 1}``)."""
    _connect(store)
    crit = _criteria(campaign, REFERENCE_STAGE, iteration, True)
    return [frame for frame, _ in _frames_of_docs(store, crit, sort)]


def frames_by_hash(store, campaign: str | None, hashes: Iterable[str]) -> dict[str, dict]:
    """Labelled frames of ``campaign`` whose structure hash is in ``hashes`` (latest job wins). Only jobs whose
    ``output.frame_hashes`` list one of them are loaded (plus older jobs without that list)."""
    return {h: frame for h, (frame, _) in _frames_and_jobs_by_hash(store, campaign, hashes).items()}


def _frames_and_jobs_by_hash(store, campaign: str | None, hashes: Iterable[str]) -> dict[str, tuple[dict, dict]]:
    """:func:`frames_by_hash` with each frame's job document: ``{hash: (frame, job document)}``."""
    wanted = set(hashes)
    if not wanted:
        return {}
    _connect(store)
    matching = {**_criteria(campaign, REFERENCE_STAGE), "output.frame_hashes": {"$in": sorted(wanted)}}
    legacy = {**_criteria(campaign, REFERENCE_STAGE), "output.frame_hashes": {"$exists": False}}
    found: dict[str, tuple[str, dict, dict]] = {}
    for frame, doc in itertools.chain(_frames_of_docs(store, matching), _frames_of_docs(store, legacy)):
        h = frame["structure_hash"]
        if h in wanted and (h not in found or str(doc.get("completed_at")) >= found[h][0]):
            found[h] = (str(doc.get("completed_at")), frame, doc)
    return {h: (frame, doc) for h, (_, frame, doc) in found.items()}


def dataset_frames(store, campaign: str | None, dataset_uuid: str) -> tuple[dict, list[dict]]:
    """The output of the dataset document ``dataset_uuid`` and its frames (train and test), read back from the
    labelling jobs of ``campaign``; :class:`ProvenanceError` if any of them is not there."""
    _connect(store)
    dataset = store.query_one({"uuid": dataset_uuid}, properties=["output"], load=True)["output"]
    wanted = set(dataset.get("frame_hashes_train") or []) | set(dataset.get("frame_hashes_test") or [])
    found = frames_by_hash(store, campaign, wanted)
    if wanted - set(found):
        raise ProvenanceError(
            f"{len(wanted - set(found))} frames of dataset {dataset_uuid} are not in the labelling jobs "
            f"of campaign {campaign!r}"
        )
    return dataset, list(found.values())


def frames_of_subset(store, campaign: str, subset: str, iteration: int | None = None) -> list[dict]:
    """Every frame of ``subset`` with its producing job and engine.

    Rows: ``{structure_hash, parent_hash, subset, engine, rejected, energy_per_atom, job_uuid, job_name,
    iteration}``.
    """
    rows = []
    for frame, doc in iter_frames(store, campaign, iteration, subset):
        n_atoms = len((frame.get("structure") or {}).get("sites") or []) or None
        energy = frame.get("energy")
        rows.append({
            "structure_hash": frame["structure_hash"],
            "parent_hash": frame.get("parent_hash"),
            "subset": frame["subset"],
            "engine": frame.get("engine"),
            "rejected": bool(frame.get("rejected")),
            "energy_per_atom": energy / n_atoms if energy is not None and n_atoms else None,
            "job_uuid": doc["uuid"],
            "job_name": doc.get("name"),
            "iteration": (doc.get("metadata") or {}).get("iteration"),
        })
    return rows


def _find_by_structure_hash(store, campaign: str, stage: str, h: str) -> dict | None:
    return latest(store.query({**_criteria(campaign, stage), "output.structure_hash": h}))


def lineage(store, campaign: str, frame_hash: str, max_depth: int = 20) -> list[dict]:
    """The chain from a labelled frame back to the surrogate run that made its ancestor.

    Returns a list of steps, the frame first, the surrogate run last: ``{kind: "frame"|"feedback"|
    "surrogate", structure_hash, job_uuid, job_name, iteration, ...}``; the surrogate step carries
    ``method``, ``cooling_length`` and ``seed``. Raises :class:`ProvenanceError` if the frame is unknown.
    """
    frames = _frames_and_jobs_by_hash(store, campaign, [frame_hash])
    if frame_hash not in frames:
        raise ProvenanceError(f"no labelled frame with structure hash {frame_hash} in campaign {campaign!r}")
    chain: list[dict] = []
    frame, frame_doc = frames[frame_hash]
    source = frame.get("source") or {}
    chain.append({
        "kind": "frame", "structure_hash": frame_hash, "subset": frame.get("subset"), "engine": frame.get("engine"),
        "job_uuid": frame_doc["uuid"], "job_name": frame_doc.get("name"),
        "iteration": (frame_doc.get("metadata") or {}).get("iteration"), "parent_hash": frame.get("parent_hash"),
    })
    current, parent = frame_hash, frame.get("parent_hash")
    for _ in range(max_depth):
        feedback = _find_by_structure_hash(store, campaign, AL_STAGE, current)
        if feedback is not None:  # the structure is the end of an MLIP feedback run
            out = feedback["output"]
            chain.append({
                "kind": "feedback", "structure_hash": current, "job_uuid": feedback["uuid"],
                "job_name": feedback.get("name"), "iteration": (feedback.get("metadata") or {}).get("iteration"),
                "model_hash": out.get("model_hash"), "seed": out.get("seed"), "parent_hash": out.get("parent_hash"),
            })
            parent = out.get("parent_hash")
        else:
            surrogate = _find_by_structure_hash(store, campaign, SURROGATE_STAGE, current)
            if surrogate is not None:
                chain.append(_surrogate_step(surrogate))
                break
        if parent is None or parent == current:
            break
        current = parent
        parent = (frames_by_hash(store, campaign, [current]).get(current) or {}).get("parent_hash")
    if chain[-1]["kind"] != "surrogate" and source.get("method") is not None:
        chain.append({"kind": "surrogate", "structure_hash": None, "job_uuid": None, "method": source.get("method"),
                      "cooling_length": source.get("cooling_length"), "seed": source.get("seed")})
    return chain


def _surrogate_step(doc: dict) -> dict:
    out = doc["output"]
    return {
        "kind": "surrogate", "structure_hash": out.get("structure_hash"), "job_uuid": doc["uuid"],
        "job_name": doc.get("name"), "iteration": (doc.get("metadata") or {}).get("iteration"),
        "method": out.get("method"), "cooling_length": out.get("cooling_length"), "seed": out.get("seed"),
        "energy_per_atom": out.get("energy_per_atom"),
    }


def surrogate_states(store, campaign: str) -> list[dict]:
    """Surrogate-state outputs of ``campaign`` (structure, structure_hash, method, cooling_length, seed),
    each with the producing ``job_uuid``."""
    _connect(store)
    out = []
    for doc in store.query(_criteria(campaign, SURROGATE_STAGE), properties=["uuid", "output"]):
        o = doc.get("output")
        if isinstance(o, dict) and o.get("structure") is not None and o.get("structure_hash"):
            out.append({**o, "job_uuid": doc["uuid"]})
    return out


# -- job documents (``mlip-glass query`` / ``status``, the report) -----------------------------------------
#: fields of a job document that ``mlip-glass query`` lists
JOB_FIELDS = ["uuid", "index", "name", "metadata", "completed_at", "output"]


def job_documents(store, campaign: str | None = None, stage: str | None = None, iteration: int | None = None,
                  name: str | None = None, limit: int = 0, full: bool = True) -> list[dict]:
    """Job documents (:data:`JOB_FIELDS`, blobs not loaded) by campaign / stage / iteration / name regular
    expression, oldest first; ``limit`` 0 = all; ``full=False``: without outputs (a table needs none)."""
    crit = _criteria(campaign or None, stage or None, iteration)
    if name:
        crit["name"] = {"$regex": name}
    fields = JOB_FIELDS if full else [f for f in JOB_FIELDS if f != "output"]
    return list(store.query(crit, properties=fields, sort={"completed_at": 1}, limit=limit))


def stage_counts(store, campaign: str | None = None) -> dict[tuple[Any, Any], int]:
    """Completed jobs per ``(campaign, stage)`` (every campaign if None)."""
    counts: dict[tuple[Any, Any], int] = {}
    for d in store.query(_criteria(campaign or None), properties=["metadata"]):
        meta = d.get("metadata") or {}
        key = (meta.get("campaign"), meta.get("stage"))
        counts[key] = counts.get(key, 0) + 1
    return counts


def latest_output(store, crit: dict) -> dict | None:
    """Output (blobs loaded) of the most recent job matching ``crit``; only that one is loaded."""
    last = latest(store.query(crit, properties=["uuid", "index", "completed_at"]))
    if last is None:
        return None
    return store.query_one({"uuid": last["uuid"], "index": last["index"]}, load=True).get("output")


#: properties whose documents the report reads
PROPERTY_NAMES = ("rdf", "elastic", "aqs_shear", "energetics")


def property_outputs(store, campaign: str) -> dict[str, list[dict]]:
    """Outputs (blobs loaded) of the campaign's property jobs by property (:data:`PROPERTY_NAMES`), oldest first."""
    out: dict[str, list[dict]] = {name: [] for name in PROPERTY_NAMES}
    crit = {**_criteria(campaign, "properties"), "output.property": {"$exists": True}}
    for doc in store.query(crit, load=True, sort={"completed_at": 1}):
        output = doc.get("output") or {}
        if output.get("property") in out:
            out[output["property"]].append(output)
    return out


def nep_model_documents(store, campaign: str, iteration: int | None = None) -> list[dict]:
    """Completed NEP model documents with ``nep_txt`` (loaded) of ``campaign`` (at ``iteration``; None: all),
    newest first."""
    docs = store.query(_criteria(campaign, NEP_STAGE, iteration), load=True, sort={"completed_at": -1})
    return [d for d in docs if isinstance(d.get("output"), dict) and d["output"].get("nep_txt")
            and d["output"].get("status", "completed") == "completed"]
