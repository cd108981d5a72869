"""Label structures with a reference engine: the surrogate → reference hand-off.

``label_structures(structures, engine, subset, protocol="static")`` accepts surrogate documents (objects or
dicts with ``structure``, ``structure_hash``, ``method``, ``cooling_length``, ``seed``, ``energy_per_atom``),
pymatgen Structures or ASE Atoms, and returns :class:`~mlip_glass.reference.schemas.LabelledFrame` s.
The active-learning stage reuses it with ``subset="mlip_feedback"``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from pymatgen.core import Structure

from mlip_glass.errors import ProtocolError
from mlip_glass.provenance import structure_hash
from mlip_glass.reference.base import EngineInputError
from mlip_glass.reference.constants import PAPER_NUMBER_DENSITY_PER_A3, SUBSETS
from mlip_glass.reference.engines import ReferenceEngine, get_engine
from mlip_glass.reference.schemas import FrameSource, LabelledFrame
from mlip_glass.utils.atoms import to_structure

logger = logging.getLogger(__name__)

PROTOCOLS = ("static", "relax", "aimd")
RESCALE_MODES = ("none", "density", "zero_pressure")
#: tolerance of the zero-pressure rescaling (GPa)
ZERO_PRESSURE_TOL_GPA = 0.02


def check_subset_protocol(subset: str, protocol: str) -> None:
    """``ValueError`` naming the field unless ``subset`` is one of SUBSETS and ``protocol`` one of PROTOCOLS."""
    if subset not in SUBSETS:
        raise ProtocolError(f"subset must be one of {SUBSETS}, got {subset!r}")
    if protocol not in PROTOCOLS:
        raise ProtocolError(f"protocol must be one of {PROTOCOLS}, got {protocol!r}")


@dataclass
class StructureInput:
    """One input structure with whatever surrogate provenance came with it."""

    structure: Structure
    source: FrameSource
    parent_hash: str | None = None


def _get(doc, key, default=None):
    if isinstance(doc, dict):
        return doc.get(key, default)
    return getattr(doc, key, default)


def input_document(item: StructureInput) -> dict:
    """A serialisable document of an input (structure, parent hash as ``structure_hash``, provenance) that
    :func:`as_inputs` reads back to the same input."""
    src = item.source
    return {
        "structure": item.structure,
        "structure_hash": item.parent_hash or structure_hash(item.structure),
        "method": src.method,
        "cooling_length": src.cooling_length,
        "seed": src.seed,
        "energy_per_atom": src.energy_per_atom_lj,
        "transformation": src.transformation,
        "extra": dict(src.extra),
    }


def as_inputs(structures) -> list[StructureInput]:
    """Normalise surrogate documents / Structures / Atoms (one or a list) into :class:`StructureInput`."""
    if isinstance(structures, (Structure, dict)) or hasattr(structures, "get_chemical_symbols"):
        structures = [structures]
    out = []
    for i, item in enumerate(structures):
        if isinstance(item, StructureInput):
            out.append(item)
            continue
        if isinstance(item, LabelledFrame):  # e.g. distorting relaxed frames: parent = that frame
            out.append(StructureInput(item.structure, item.source.model_copy(), item.structure_hash))
            continue
        if isinstance(item, Structure) or hasattr(item, "get_chemical_symbols"):
            out.append(StructureInput(to_structure(item), FrameSource()))
            continue
        raw = _get(item, "structure")
        if raw is None:
            raise EngineInputError(
                f"input {i}: expected a pymatgen Structure, ASE Atoms or a document with a 'structure' "
                f"field, got {type(item).__name__}"
            )
        if isinstance(raw, dict):
            raw = Structure.from_dict(raw)
        structure = to_structure(raw)
        energy = _get(item, "energy_per_atom")
        seed = _get(item, "seed")
        cooling = _get(item, "cooling_length")
        source = FrameSource(
            job_uuid=_get(item, "job_uuid") or _get(item, "uuid"),
            method=_get(item, "method"),
            cooling_length=None if cooling is None else float(cooling),
            seed=None if seed is None else int(seed),
            energy_per_atom_lj=None if energy is None else float(energy),
            transformation=_get(item, "transformation"),
            extra={
                **(_get(item, "extra") or {}),
                **{k: _get(item, k) for k in ("name", "material_id") if _get(item, k) is not None},
            },
        )
        out.append(StructureInput(structure, source, _get(item, "structure_hash")))
    return out


def rescale_structure(
    structure: Structure,
    mode: str = "none",
    target_density: float = PAPER_NUMBER_DENSITY_PER_A3,
    engine: ReferenceEngine | None = None,
    tol_gpa: float = ZERO_PRESSURE_TOL_GPA,
    max_iter: int = 20,
) -> Structure:
    """Optionally rescale a surrogate cell isotropically (fractional coordinates kept).

    Parameters
    ----------
    mode
        ``"none"`` (the paper: label at the surrogate's cell, rho* = 1.75, 12.93 Å for 150 atoms),
        ``"density"`` (to ``target_density`` atoms/Å^3), or ``"zero_pressure"`` (to zero reference pressure
        of ``engine``, secant search on the static pressure within ``tol_gpa``).
    """
    if mode not in RESCALE_MODES:
        raise ProtocolError(f"rescale mode must be one of {RESCALE_MODES}, got {mode!r}")
    if mode == "none":
        return structure
    if mode == "density":
        if not target_density > 0:
            raise ProtocolError(f"target_density must be > 0 atoms/Å^3, got {target_density}")
        scaled = structure.copy()
        scaled.scale_lattice(len(structure) / target_density)
        return scaled
    if engine is None:
        raise ProtocolError("rescale mode 'zero_pressure' needs an engine")

    def pressure(scale):
        trial = structure.copy()
        trial.scale_lattice(structure.volume * scale**3)
        return engine.static(trial).pressure, trial

    s0, s1 = 1.0, 1.02
    p0, trial = pressure(s0)
    if abs(p0) < tol_gpa:
        return trial
    p1, trial = pressure(s1)
    for _ in range(max_iter):
        if abs(p1) < tol_gpa:
            return trial
        if p1 == p0:
            break
        s0, s1, p0 = s1, s1 - p1 * (s1 - s0) / (p1 - p0), p1
        s1 = float(np.clip(s1, 0.8, 1.25))
        p1, trial = pressure(s1)
    if abs(p1) < tol_gpa:
        return trial
    raise RuntimeError(f"zero-pressure rescaling did not converge (last pressure {p1:.3f} GPa)")


def label_structures(
    structures,
    engine="eam",
    subset: str = "surrogate",
    protocol: str = "static",
    rescale: str = "none",
    target_density: float = PAPER_NUMBER_DENSITY_PER_A3,
    on_error: str = "raise",
    job_uuid: str | None = None,
    checkpoint: str | Path | None = None,
    **protocol_kwargs: Any,
) -> list[LabelledFrame]:
    """Label ``structures`` with ``engine``.

    Parameters
    ----------
    structures
        Surrogate documents, pymatgen Structures or ASE Atoms (one or a sequence).
    engine
        ``"eam"``, ``"vasp"``, a :class:`ReferenceEngine` or an ASE calculator.
    subset
        Subset recorded in every frame (one of :data:`~mlip_glass.reference.constants.SUBSETS`).
    protocol
        ``"static"`` (one frame per structure), ``"relax"`` or ``"aimd"`` (frames per ionic/MD step;
        ``protocol_kwargs`` go to :meth:`ReferenceEngine.relax` / :meth:`ReferenceEngine.aimd`).
    rescale
        Surrogate-cell rescaling before labelling: ``"none"`` (paper), ``"density"``, ``"zero_pressure"``.
    on_error
        ``"raise"``: a structure the engine cannot take (species, cell, overlaps) raises
        :class:`EngineInputError` naming its index; ``"reject"``: it is returned as a rejected frame.
    job_uuid
        Producing job's uuid, recorded in every frame's ``source``.
    checkpoint
        JSON-lines file: each labelled input is appended as it finishes; a rerun with the same file skips
        inputs already done (same subset, protocol, structure and protocol arguments), so a killed job resumes.
    """
    check_subset_protocol(subset, protocol)
    if on_error not in ("raise", "reject"):
        raise ProtocolError(f"on_error must be 'raise' or 'reject', got {on_error!r}")
    engine = get_engine(engine)
    inputs = as_inputs(structures)
    done = _read_checkpoint(checkpoint)
    frames: list[LabelledFrame] = []
    for i, item in enumerate(inputs):
        key = _checkpoint_key(item, engine, subset, protocol, rescale, protocol_kwargs)
        if key in done:
            frames.extend(done[key])
            continue
        source = item.source.model_copy(update={"job_uuid": job_uuid or item.source.job_uuid})
        parent = item.parent_hash or structure_hash(item.structure)
        try:
            engine.check_structure(item.structure)
            structure = rescale_structure(item.structure, rescale, target_density, engine)
            if rescale != "none":
                source = source.model_copy(update={"transformation": f"rescale:{rescale}"})
            if protocol == "static":
                new = [engine.static(structure, subset=subset, parent_hash=parent, source=source)]
            elif protocol == "relax":
                new = engine.relax(structure, subset=subset, source=source, **protocol_kwargs)
            else:
                new = engine.aimd(structure, subset=subset, source=source, **protocol_kwargs)
        except EngineInputError as exc:
            if on_error == "raise":
                raise EngineInputError(f"structure {i}: {exc}") from exc
            new = [_rejected_input(item.structure, engine, subset, parent, source, str(exc))]
        if protocol != "static":
            new = [f.model_copy(update={"parent_hash": parent}) for f in new]
        frames.extend(new)
        _append_checkpoint(checkpoint, key, new)
        logger.info("labelled %d/%d structures (%s, %s)", i + 1, len(inputs), subset, protocol)
    return frames


def _checkpoint_key(item, engine, subset, protocol, rescale, protocol_kwargs) -> str:
    import hashlib
    import json

    payload = json.dumps(
        [engine.name, subset, protocol, rescale, structure_hash(item.structure), item.parent_hash,
         sorted((k, repr(v)) for k, v in protocol_kwargs.items())]
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def _read_checkpoint(path) -> dict[str, list[LabelledFrame]]:
    import json

    if path is None or not Path(path).exists():
        return {}
    done = {}
    with open(path) as handle:
        for line in handle:
            line = line.strip()
            if not line:
                continue
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:  # a line cut by a kill: ignore, it is redone
                continue
            done[entry["key"]] = [LabelledFrame(**f) for f in entry["frames"]]
    logger.info("checkpoint %s: %d inputs already labelled", path, len(done))
    return done


def _append_checkpoint(path, key: str, frames: list[LabelledFrame]) -> None:
    import json

    from monty.json import jsanitize

    if path is None:
        return
    entry = {"key": key, "frames": [jsanitize(f.model_dump(), strict=True, allow_bson=False) for f in frames]}
    with open(path, "a") as handle:
        handle.write(json.dumps(entry) + "\n")


def _rejected_input(structure, engine, subset, parent, source, reason) -> LabelledFrame:
    return LabelledFrame(
        structure=structure,
        engine=engine.name,
        engine_settings=engine.settings(),
        subset=subset,
        structure_hash=structure_hash(structure),
        parent_hash=parent,
        source=source,
        rejected=True,
        rejection_reason=f"bad input: {reason}",
    )


def accepted(frames: Iterable[LabelledFrame]) -> list[LabelledFrame]:
    """Frames not rejected."""
    return [f for f in frames if not f.rejected]


def frames_summary(frames: Sequence[LabelledFrame]) -> dict:
    """Counts and CPU time of a list of frames."""
    return {
        "n_frames": len(frames),
        "n_accepted": sum(not f.rejected for f in frames),
        "n_rejected": sum(f.rejected for f in frames),
        "cpu_time_s": float(sum(f.cpu_time_s for f in frames)),
    }
