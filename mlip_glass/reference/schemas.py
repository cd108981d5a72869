"""One labelled-frame document for every reference engine (VASP, EAM, any ASE calculator, NEP)."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_serializer, field_validator
from pymatgen.core import Structure

from mlip_glass.provenance import structure_hash
from mlip_glass.reference.constants import SUBSETS
from mlip_glass.units import EV_PER_A3_TO_GPA
from mlip_glass.utils.atoms import labelled_atoms, to_atoms, to_structure

Subset = Literal[SUBSETS]  # type: ignore[valid-type]  # a Literal of the SUBSETS tuple, built at run time


class FrameSource(BaseModel):
    """Where a frame came from: the producing job and, when known, the surrogate run."""

    job_uuid: str | None = Field(None, description="uuid of the jobflow job that produced the frame")
    method: str | None = Field(None, description="surrogate method: 'swap_mc' or 'md'")
    cooling_length: float | None = Field(
        None, description="surrogate cooling length (MC sweeps or reduced MD time)"
    )
    seed: int | None = Field(None, description="seed of the surrogate run")
    energy_per_atom_lj: float | None = Field(
        None, description="surrogate (LJ) energy per atom of the parent structure (eV)"
    )
    step: int | None = Field(None, description="ionic/MD step index within a relax or AIMD run")
    transformation: str | None = Field(
        None, description="how the structure was derived from its parent (e.g. 'scale 0.95')"
    )
    extra: dict[str, Any] = Field(default_factory=dict, description="any further provenance")


class LabelledFrame(BaseModel):
    """One structure with reference labels (energy, forces, stress) and its provenance."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    structure: Structure = Field(description="labelled structure (Å)")
    energy: float | None = Field(None, description="total potential energy (eV)")
    forces: list[list[float]] | None = Field(None, description="(N, 3) forces (eV/Å)")
    stress: list[list[float]] | None = Field(
        None, description="3x3 stress (GPa), ASE sign convention: positive = tensile"
    )
    virial: list[list[float]] | None = Field(
        None, description="3x3 virial (eV) = -stress * volume, as GPUMD wants it"
    )
    pressure: float | None = Field(None, description="hydrostatic pressure -tr(stress)/3 (GPa)")
    engine: str = Field(description="engine that produced the labels: 'vasp', 'eam', 'ase:<name>', 'nep'")
    engine_settings: dict[str, Any] = Field(
        default_factory=dict, description="engine settings (INCAR, potential file, ...)"
    )
    subset: Subset = Field(description=f"training-database subset, one of {SUBSETS}")
    structure_hash: str = Field(description="stable hash of this structure (provenance.structure_hash)")
    parent_hash: str | None = Field(None, description="hash of the structure this one was derived from")
    source: FrameSource = Field(default_factory=FrameSource, description="provenance of the frame")
    cpu_time_s: float = Field(0.0, description="CPU time spent labelling this frame (s)")
    rejected: bool = Field(False, description="True if the labels must not be used for training")
    rejection_reason: str | None = Field(None, description="why the frame was rejected")

    @field_validator("structure", mode="before")
    @classmethod
    def _structure(cls, value):
        if isinstance(value, dict):
            return Structure.from_dict(value)
        return value

    @property
    def n_atoms(self) -> int:
        return len(self.structure)

    @property
    def energy_per_atom(self) -> float | None:
        """Energy per atom (eV/atom)."""
        return None if self.energy is None else self.energy / len(self.structure)

    def forces_array(self) -> np.ndarray:
        """(N, 3) forces (eV/Å) as an array."""
        return np.asarray(self.forces, dtype=float)

    def stress_array_ev_a3(self) -> np.ndarray:
        """3x3 stress in eV/Å^3 (ASE sign)."""
        return np.asarray(self.stress, dtype=float) / EV_PER_A3_TO_GPA

    def to_atoms(self):
        """ASE Atoms with GPUMD labels (energy, forces, virial, config_type = subset)."""
        atoms = to_atoms(self.structure)
        stress = None if self.stress is None else self.stress_array_ev_a3()
        return labelled_atoms(
            atoms,
            self.energy,
            self.forces_array(),
            stress=stress,
            config_type=self.subset,
            structure_hash=self.structure_hash,
            engine=self.engine,
        )

    @classmethod
    def from_labels(
        cls,
        structure,
        energy: float,
        forces,
        stress_ev_a3=None,
        *,
        engine: str,
        subset: str,
        engine_settings: dict | None = None,
        parent_hash: str | None = None,
        source: FrameSource | dict | None = None,
        cpu_time_s: float = 0.0,
    ) -> LabelledFrame:
        """Build a frame from raw labels (energy eV, forces eV/Å, stress eV/Å^3 ASE sign).

        Labels that are NaN/inf or of the wrong shape give a frame with ``rejected=True`` and the reason,
        never a silently kept frame.
        """
        structure = to_structure(structure)
        n = len(structure)
        reasons = []
        forces_arr = None if forces is None else np.asarray(forces, dtype=float)
        if energy is None or not np.isfinite(energy):
            reasons.append(f"energy is not finite ({energy!r})")
        if forces_arr is None or forces_arr.shape != (n, 3):
            shape = None if forces_arr is None else forces_arr.shape
            reasons.append(f"forces must have shape ({n}, 3), got {shape}")
        elif not np.all(np.isfinite(forces_arr)):
            reasons.append("forces contain NaN/inf")
        stress_gpa = virial = pressure = None
        if stress_ev_a3 is not None:
            s = np.asarray(stress_ev_a3, dtype=float)
            if s.shape == (6,):
                xx, yy, zz, yz, xz, xy = s
                s = np.array([[xx, xy, xz], [xy, yy, yz], [xz, yz, zz]])
            if s.shape != (3, 3):
                reasons.append(f"stress must be 3x3 or Voigt-6, got shape {s.shape}")
            elif not np.all(np.isfinite(s)):
                reasons.append("stress contains NaN/inf")
            else:
                stress_gpa = (s * EV_PER_A3_TO_GPA).tolist()
                virial = (-s * structure.volume).tolist()
                pressure = float(-np.trace(s) / 3 * EV_PER_A3_TO_GPA)
        if isinstance(source, dict):
            source = FrameSource(**source)
        clean = not reasons
        return cls(
            structure=structure,
            energy=float(energy) if clean else (None if energy is None or not np.isfinite(energy) else float(energy)),
            forces=forces_arr.tolist() if clean and forces_arr is not None else None,
            stress=stress_gpa,
            virial=virial,
            pressure=pressure,
            engine=engine,
            engine_settings=dict(engine_settings or {}),
            subset=subset,
            structure_hash=structure_hash(structure),
            parent_hash=parent_hash,
            source=source or FrameSource(),
            cpu_time_s=float(cpu_time_s),
            rejected=not clean,
            rejection_reason="; ".join(reasons) or None,
        )

    def reject(self, reason: str) -> LabelledFrame:
        """A copy marked as rejected (reasons accumulate)."""
        previous = self.rejection_reason
        return self.model_copy(
            update={"rejected": True, "rejection_reason": f"{previous}; {reason}" if previous else reason}
        )


def decode_frames(value) -> list[LabelledFrame]:
    """LabelledFrames from a frame block (:mod:`mlip_glass.frame_block`), a list of frames or frame
    dicts (stores written before blocks), or ``None`` (no frames)."""
    from mlip_glass.frame_block import frame_fields, is_frame_block

    if value is None:
        return []
    if not is_frame_block(value):
        return [f if isinstance(f, LabelledFrame) else LabelledFrame.model_validate(f) for f in value]
    defaults = {name: f.get_default(call_default_factory=True) for name, f in LabelledFrame.model_fields.items()
                if not f.is_required()}
    frames = []
    for fields in frame_fields(value):  # written from validated frames: no second validation of the arrays
        fields["source"] = FrameSource.model_validate(fields.get("source") or {})
        frames.append(LabelledFrame.model_construct(**{**defaults, **fields}))
    return frames


class SubsetDocument(BaseModel):
    """Output of a subset Maker: the labelled frames of one subset and their counts."""

    subset: str = Field(description="subset name (config_type), e.g. 'distorted'")
    engine: str | None = Field(None, description="engine that labelled the frames")
    frames: list[LabelledFrame] = Field(default_factory=list, description="labelled frames (data store)")
    frame_hashes: list[str] = Field(
        default_factory=list, description="structure hashes of the frames (kept in the job document: queryable "
                                          "without loading the frames)")
    counts: dict[str, int] = Field(
        default_factory=dict, description="n_frames, n_accepted, n_rejected, n_parents"
    )
    cpu_time_s: float = Field(0.0, description="CPU time of the labelling (s)")
    parameters: dict[str, Any] = Field(default_factory=dict, description="subset parameters (seeds, strains, ...)")

    @field_validator("frames", mode="before")
    @classmethod
    def _frames(cls, value):
        """Frames from a stored frame block (:mod:`mlip_glass.frame_block`) or a list (old stores)."""
        from mlip_glass.frame_block import is_frame_block

        return decode_frames(value) if is_frame_block(value) else value

    @field_serializer("frames")
    def _frames_block(self, frames: list[LabelledFrame]) -> dict:
        """Serialised as one compact frame block (one blob in the data store, exact round trip)."""
        from mlip_glass.frame_block import encode_frames

        return encode_frames(frames)

    @classmethod
    def from_frames(cls, subset: str, frames: list[LabelledFrame], parameters: dict | None = None):
        engines = sorted({f.engine for f in frames})
        return cls(
            subset=subset,
            engine=",".join(engines) if engines else None,
            frames=frames,
            frame_hashes=[f.structure_hash for f in frames],
            counts={
                "n_frames": len(frames),
                "n_accepted": sum(not f.rejected for f in frames),
                "n_rejected": sum(f.rejected for f in frames),
                "n_parents": len({f.parent_hash or f.structure_hash for f in frames}),
            },
            cpu_time_s=float(sum(f.cpu_time_s for f in frames)),
            parameters=dict(parameters or {}),
        )
