"""Inputs of the properties stage from the JobStore: NEP models and reference-labelled frames of a
campaign/iteration (queried by job metadata, never from local files)."""

from __future__ import annotations

from mlip_glass import queries
from mlip_glass.datasets.subsets import final_relaxed
from mlip_glass.properties.potentials import NEPPotential


def fetch_nep_potentials(store, campaign: str, iteration: int | str | None = None, latest_only: bool = True
                         ) -> list[NEPPotential]:
    """NEP models (completed ``nep``-stage job outputs with ``nep_txt``) of ``campaign`` at ``iteration``
    (None: the highest iteration present; ``"best"``: the model with the best validation score,
    :func:`mlip_glass.queries.best_model`), newest first; ``latest_only`` keeps one."""
    if iteration == "best":
        best = queries.best_model(store, campaign, load=True)
        if best is None:
            raise ValueError(f"no completed NEP model in the store for campaign {campaign!r}")
        it = (best.get("metadata") or {}).get("iteration", 0)
        return [NEPPotential.from_document(best["output"], model_uuid=best["uuid"],
                                           name=f"NEP {campaign} iteration {it} (best)")]
    models = queries.nep_model_documents(store, campaign, None if iteration is None else int(iteration))
    if not models:
        raise ValueError(f"no completed NEP model in the store for campaign {campaign!r}, iteration {iteration}")
    if iteration is None:
        top = max(d["metadata"].get("iteration", 0) for d in models)
        models = [d for d in models if d["metadata"].get("iteration", 0) == top]
    potentials = []
    for d in models[: 1 if latest_only else None]:
        it = d["metadata"].get("iteration", 0)
        potentials.append(NEPPotential.from_document(
            d["output"], model_uuid=d["uuid"], name=f"NEP {campaign} iteration {it}"))
    return potentials


#: the last ionic step of each relaxation; single points unchanged (one function with the datasets stage)
final_frames = final_relaxed


def fetch_reference_frames(store, campaign: str, subset: str = "relaxed", iteration: int | None = None,
                           limit: int | None = None, engine: str | None = None,
                           final_only: bool = True) -> list[dict]:
    """Accepted reference-labelled frames (``LabelledFrame`` dicts) of ``subset`` from ``reference``-stage
    jobs of ``campaign`` up to ``iteration``, deduplicated by structure hash, in store order. With
    ``final_only`` a relaxation contributes only its last ionic step (the reference-minimised structure
    the paper's property protocols start from), even when its intermediate steps were kept as frames."""
    frames, seen = [], set()
    for frame in queries.reference_frames(store, campaign, iteration, sort={"completed_at": 1}):
        if frame["subset"] != subset or frame.get("rejected") or frame.get("energy") is None:
            continue
        if engine is not None and frame.get("engine") != engine:
            continue
        if frame["structure_hash"] in seen:
            continue
        seen.add(frame["structure_hash"])
        frames.append(frame)
    if final_only:
        frames = final_frames(frames)
    return frames if limit is None else frames[:limit]
