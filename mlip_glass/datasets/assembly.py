"""Assemble labelled frames into a split, GPUMD-ready training database.

- rejected frames are left out (and listed); duplicates (same structure hash) are kept once;
- the split is seeded and stratified by subset (each subset with ≥ 2 frames is in both train and test);
- with ``previous`` (active learning) every frame already in the previous train (test) set stays in train
  (test), and only new frames are drawn, so test frames never leak into training.
"""

from __future__ import annotations

import hashlib
import logging
import zlib
from collections.abc import Iterable

import numpy as np

from mlip_glass.composition import SPECIES
from mlip_glass.datasets.extxyz import frames_to_text
from mlip_glass.datasets.schemas import DatasetDocument
from mlip_glass.reference.constants import SUBSETS, TRAIN_FRACTION
from mlip_glass.reference.schemas import LabelledFrame

logger = logging.getLogger(__name__)

#: species order of NEP types when the data are Cu-Zr-Al (others follow alphabetically)
SPECIES_ORDER = SPECIES


def labelled_frames(frames) -> list[LabelledFrame]:
    """The LabelledFrames of a job input: a frame block, a SubsetDocument (object or dict), LabelledFrames or their
    dicts, or (nested) lists of these; None gives []. ``TypeError`` for anything else. (Job documents read from the
    store, as plain dicts and leniently: :func:`mlip_glass.queries.frames_in_output`.)"""
    from mlip_glass.frame_block import is_frame_block
    from mlip_glass.reference.schemas import decode_frames

    if frames is None:
        return []
    if is_frame_block(frames):
        return decode_frames(frames)
    if isinstance(frames, dict) and "frames" in frames:
        return labelled_frames(frames["frames"])
    if hasattr(frames, "frames"):
        return labelled_frames(frames.frames)
    out = []
    for item in frames:
        if isinstance(item, LabelledFrame):
            out.append(item)
        elif isinstance(item, (list, tuple)) or hasattr(item, "frames") or isinstance(item, dict) and "frames" in item:
            out.extend(labelled_frames(item))
        elif isinstance(item, dict):
            out.append(LabelledFrame(**item))
        else:
            raise TypeError(f"cannot read labelled frames from {type(item).__name__}")
    return out


def species_order(frames: Iterable[LabelledFrame]) -> list[str]:
    """Species present, Cu, Zr, Al first (NEP type order), others alphabetically."""
    present = {site.specie.symbol for f in frames for site in f.structure}
    return [s for s in SPECIES_ORDER if s in present] + sorted(present - set(SPECIES_ORDER))


def split_subset(hashes: list[str], n_test_wanted: int, seed: int, subset: str) -> set[str]:
    """The hashes put in test: a seeded draw of ``n_test_wanted`` from ``hashes`` (order-independent)."""
    hashes = sorted(hashes)
    rng = np.random.default_rng([int(seed), zlib.crc32(subset.encode())])
    order = rng.permutation(len(hashes))
    return {hashes[i] for i in order[:n_test_wanted]}


def split_test_hashes(unique: dict[str, LabelledFrame], previous: DatasetDocument | None, train_fraction: float,
               seed: int) -> set[str]:
    """The structure hashes of ``unique`` (hash → frame) put in test: per subset ``1 - train_fraction`` of its
    frames (at least one in each split when it has two), the previous dataset's test frames kept in test and its
    train frames in train, the new ones drawn with ``seed``."""
    prev_train = set(previous.frame_hashes_train) if previous else set()
    prev_test = set(previous.frame_hashes_test) if previous else set()
    test_hashes: set[str] = set()
    by_subset: dict[str, list[str]] = {}
    for h, f in unique.items():
        by_subset.setdefault(f.subset, []).append(h)
    for subset, hashes in by_subset.items():
        old_test = [h for h in hashes if h in prev_test]
        new = [h for h in hashes if h not in prev_test and h not in prev_train]
        total = len(hashes)
        wanted = int(round((1 - train_fraction) * total))
        if total >= 2:
            wanted = min(max(wanted, 1), total - 1)  # both train and test hold the subset
        n_new_test = int(np.clip(wanted - len(old_test), 0, len(new)))
        test_hashes |= set(old_test) | split_subset(new, n_new_test, seed, subset)
    return test_hashes


def assemble_dataset(
    frames,
    seed: int = 0,
    previous: DatasetDocument | dict | None = None,
    train_fraction: float = TRAIN_FRACTION,
) -> DatasetDocument:
    """Dedupe, split (stratified by subset) and serialise labelled frames.

    Parameters
    ----------
    frames
        LabelledFrames, SubsetDocuments (anything with ``frames``) or lists of them.
    seed
        Split seed (recorded).
    previous
        The previous dataset (active learning): its train/test membership is kept.
    train_fraction
        Target train fraction of every subset (paper: 0.8).
    """
    if not 0 < train_fraction < 1:
        raise ValueError(f"train_fraction must be in (0, 1), got {train_fraction}")
    if isinstance(previous, dict):
        previous = DatasetDocument(**previous)
    frames = labelled_frames(frames)
    if not frames:
        raise ValueError("no labelled frames to assemble")
    rejected = [f for f in frames if f.rejected]
    counts: dict[str, dict[str, int]] = {}

    def bump(subset, key, n=1):
        counts.setdefault(subset, {"train": 0, "test": 0, "total": 0, "rejected": 0, "duplicates": 0})
        counts[subset][key] += n

    for f in rejected:
        bump(f.subset, "rejected")
    unique: dict[str, LabelledFrame] = {}
    for f in frames:
        if f.rejected:
            continue
        if f.structure_hash in unique:
            bump(f.subset, "duplicates")
            continue
        unique[f.structure_hash] = f
    if not unique:
        raise ValueError(f"all {len(frames)} frames were rejected; nothing to assemble")

    test_hashes = split_test_hashes(unique, previous, train_fraction, seed)
    order = {s: i for i, s in enumerate(SUBSETS)}
    ordered = sorted(unique.values(), key=lambda f: (order.get(f.subset, 99), f.structure_hash))
    train = [f for f in ordered if f.structure_hash not in test_hashes]
    test = [f for f in ordered if f.structure_hash in test_hashes]
    for f in train:
        bump(f.subset, "train")
        bump(f.subset, "total")
    for f in test:
        bump(f.subset, "test")
        bump(f.subset, "total")
    train_xyz = frames_to_text([f.to_atoms() for f in train])
    test_xyz = frames_to_text([f.to_atoms() for f in test])
    digest = hashlib.sha256((train_xyz + "\n#test\n" + test_xyz).encode()).hexdigest()
    cpu: dict[str, float] = {}
    for f in frames:
        cpu[f.subset] = cpu.get(f.subset, 0.0) + f.cpu_time_s
    logger.info("dataset: %d train, %d test, %d rejected", len(train), len(test), len(rejected))
    counts = {k: counts[k] for k in sorted(counts, key=lambda name: order.get(name, 99))}
    return DatasetDocument(
        train_xyz=train_xyz,
        test_xyz=test_xyz,
        species=species_order(unique.values()),
        counts=counts,
        frame_hashes_train=[f.structure_hash for f in train],
        frame_hashes_test=[f.structure_hash for f in test],
        split_seed=int(seed),
        train_fraction=float(train_fraction),
        dataset_hash=digest,
        previous_dataset_hash=previous.dataset_hash if previous else None,
        engines=sorted({f.engine for f in unique.values()}),
        cpu_time_s=cpu,
        rejected=[
            {"structure_hash": f.structure_hash, "subset": f.subset, "reason": f.rejection_reason}
            for f in rejected
        ],
    )


def write_dataset(dataset: DatasetDocument, directory) -> dict:
    """Write ``train.xyz`` and ``test.xyz`` into ``directory``; returns their paths."""
    from pathlib import Path

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "train.xyz").write_text(dataset.train_xyz)
    (directory / "test.xyz").write_text(dataset.test_xyz)
    return {"train": directory / "train.xyz", "test": directory / "test.xyz"}
