"""Inputs of the properties stage from the JobStore: NEP models and reference-labelled frames of a
campaign/iteration (queried by job metadata, never from local files)."""

from __future__ import annotations

from typing import Any

from mlip_glass.properties.potentials import NEPPotential


def _criteria(campaign: str, stage: str, iteration: int | None, at_most: bool = False) -> dict:
    criteria: dict[str, Any] = {"metadata.campaign": campaign, "metadata.stage": stage}
    if iteration is not None:
        criteria["metadata.iteration"] = {"$lte": int(iteration)} if at_most else int(iteration)
    return criteria


def fetch_nep_potentials(store, campaign: str, iteration: int | str | None = None, latest_only: bool = True
                         ) -> list[NEPPotential]:
    """NEP models (completed ``nep``-stage job outputs with ``nep_txt``) of ``campaign`` at ``iteration``
    (None: the highest iteration present; ``"best"``: the model with the best validation score,
    :func:`mlip_glass.queries.best_model`), newest first; ``latest_only`` keeps one."""
    if iteration == "best":
        from mlip_glass import queries

        best = queries.best_model(store, campaign, load=True)
        if best is None:
            raise ValueError(f"no completed NEP model in the store for campaign {campaign!r}")
        it = (best.get("metadata") or {}).get("iteration", 0)
        return [NEPPotential.from_document(best["output"], model_uuid=best["uuid"],
                                           name=f"NEP {campaign} iteration {it} (best)")]
    docs = list(store.query(_criteria(campaign, "nep", iteration), load=True,
                            sort={"completed_at": -1}))
    models = [d for d in docs if isinstance(d.get("output"), dict) and d["output"].get("nep_txt")
              and d["output"].get("status", "completed") == "completed"]
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


def _frames_in(obj: Any):
    """Yield every LabelledFrame-like dict (with structure, subset, structure_hash) inside ``obj`` (frame blocks
    of :mod:`mlip_glass.frame_block` included)."""
    from mlip_glass.frame_block import frame_dicts, is_frame_block

    if is_frame_block(obj):
        yield from frame_dicts(obj)
        return
    if isinstance(obj, dict):
        if "structure" in obj and "subset" in obj and "structure_hash" in obj:
            yield obj
            return
        for value in obj.values():
            yield from _frames_in(value)
    elif isinstance(obj, (list, tuple)):
        for value in obj:
            yield from _frames_in(value)


def final_frames(frames: list[dict]) -> list[dict]:
    """Only the last ionic step of each relaxation (highest ``source.step`` per ``parent_hash``); frames
    without a step (single points) pass unchanged. Order: first appearance of each run."""
    last: dict[Any, dict] = {}
    order: list[Any] = []
    for frame in frames:
        step = (frame.get("source") or {}).get("step")
        key = (frame.get("parent_hash"), "run") if step is not None else (frame["structure_hash"], "single")
        if key not in last:
            order.append(key)
            last[key] = frame
        elif step > (last[key].get("source") or {}).get("step", -1):
            last[key] = frame
    return [last[key] for key in order]


def fetch_reference_frames(store, campaign: str, subset: str = "relaxed", iteration: int | None = None,
                           limit: int | None = None, engine: str | None = None,
                           final_only: bool = True) -> list[dict]:
    """Accepted reference-labelled frames (``LabelledFrame`` dicts) of ``subset`` from ``reference``-stage
    jobs of ``campaign`` up to ``iteration``, deduplicated by structure hash, in store order. With
    ``final_only`` a relaxation contributes only its last ionic step (the reference-minimised structure
    the paper's property protocols start from), even when its intermediate steps were kept as frames."""
    frames, seen = [], set()
    for d in store.query(_criteria(campaign, "reference", iteration, at_most=True), load=True,
                         sort={"completed_at": 1}):
        for frame in _frames_in(d.get("output")):
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
