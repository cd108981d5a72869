"""Documents of the training-database stage: subset outputs and the assembled dataset (Fig. 3a counts)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class DatasetDocument(BaseModel):
    """An assembled, split training database in GPUMD extxyz form."""

    train_xyz: str = Field(description="GPUMD extxyz text of the training frames (data store)")
    test_xyz: str = Field(description="GPUMD extxyz text of the test frames (data store)")
    species: list[str] = Field(description="chemical species, in NEP type order")
    counts: dict[str, dict[str, int]] = Field(
        description="per subset: train, test, total, rejected, duplicates (frames) — the numbers of Fig. 3a"
    )
    frame_hashes_train: list[str] = Field(description="structure hashes of the training frames")
    frame_hashes_test: list[str] = Field(description="structure hashes of the test frames")
    split_seed: int = Field(description="seed of the stratified train/test split")
    train_fraction: float = Field(0.8, description="target fraction of each subset in train")
    dataset_hash: str = Field(description="SHA-256 of train_xyz + test_xyz")
    previous_dataset_hash: str | None = Field(
        None, description="hash of the dataset this one extends (active learning)"
    )
    engines: list[str] = Field(default_factory=list, description="engines that produced the labels")
    cpu_time_s: dict[str, float] = Field(default_factory=dict, description="labelling CPU time per subset (s)")
    rejected: list[dict[str, Any]] = Field(
        default_factory=list, description="rejected frames: structure_hash, subset, reason"
    )

    @property
    def n_train(self) -> int:
        return len(self.frame_hashes_train)

    @property
    def n_test(self) -> int:
        return len(self.frame_hashes_test)
