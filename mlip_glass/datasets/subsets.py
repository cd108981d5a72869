"""The subsets of the training database (SPEC.md §5, Fig. 3a), as plain functions → LabelledFrames.

Every function takes the parent structures (surrogate documents, Structures or Atoms), an engine and the
paper's defaults (from :mod:`mlip_glass.reference.constants`, all overridable), and records the parent hash
and the transformation in each frame.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np

from mlip_glass.datasets.crystals import load_crystals
from mlip_glass.errors import ProtocolError
from mlip_glass.provenance import structure_hash
from mlip_glass.reference.constants import (
    DISTORTION_STRAINS,
    VOLUME_SCALE_FACTORS,
)
from mlip_glass.reference.engines import get_engine
from mlip_glass.reference.labelling import StructureInput, as_inputs, label_structures
from mlip_glass.reference.protocols import AIMDProtocol, RelaxProtocol
from mlip_glass.reference.schemas import LabelledFrame

logger = logging.getLogger(__name__)


def select_structures(structures, n_select: int | None, seed: int) -> list[StructureInput]:
    """A seeded random subset of ``n_select`` structures (all if None or ≥ available), independent of the
    input order (sorted by structure hash before drawing)."""
    inputs = as_inputs(structures)
    if n_select is None or n_select >= len(inputs):
        return inputs
    if n_select < 0:
        raise ProtocolError(f"n_select must be >= 0, got {n_select}")
    keyed = sorted(inputs, key=lambda item: item.parent_hash or structure_hash(item.structure))
    rng = np.random.default_rng(seed)
    chosen = sorted(rng.choice(len(keyed), size=n_select, replace=False))
    return [keyed[i] for i in chosen]


def _derived(item: StructureInput, structure, transformation: str) -> StructureInput:
    parent = item.parent_hash or structure_hash(item.structure)
    return StructureInput(structure, item.source.model_copy(update={"transformation": transformation}), parent)


def surrogate_frames(structures, engine="eam", rescale: str = "none", **kwargs) -> list[LabelledFrame]:
    """Single points of every surrogate structure (subset "surrogate")."""
    return label_structures(structures, engine, "surrogate", "static", rescale=rescale, **kwargs)


def spread_frames(frames: Sequence[LabelledFrame], max_frames: int | None) -> list[LabelledFrame]:
    """At most ``max_frames`` frames of each run (same ``parent_hash``), evenly spread over its steps, always
    keeping the first and the last step (None: all). Consecutive relaxation steps are strongly correlated: a few
    frames per relaxation carry nearly all of its information at a fraction of the training cost."""
    if max_frames is None:
        return list(frames)
    if int(max_frames) < 2:
        raise ProtocolError(f"max_frames must be >= 2 (first and last step) or None, got {max_frames}")
    runs: dict = {}
    for frame in frames:
        runs.setdefault(frame.parent_hash or frame.structure_hash, []).append(frame)
    kept = []
    for run in runs.values():
        run = sorted(run, key=lambda f: f.source.step if f.source.step is not None else -1)
        index = np.unique(np.round(np.linspace(0, len(run) - 1, min(int(max_frames), len(run)))).astype(int))
        kept += [run[i] for i in index]
    return kept


def _frame_field(frame, key: str):
    return frame.get(key) if isinstance(frame, dict) else getattr(frame, key)


def _frame_step(frame) -> int | None:
    source = _frame_field(frame, "source")
    if source is None:
        return None
    return source.get("step") if isinstance(source, dict) else source.step


def final_relaxed(frames: Sequence) -> list:
    """The reference-minimised structures: the last ionic step (highest ``source.step``) of each relaxation (one
    frame per ``parent_hash``), accepted frames only; frames without a step (single points) pass unchanged.
    Order: first appearance of each run. Takes LabelledFrames or their dicts and returns the same."""
    last: dict = {}
    for frame in frames:
        if _frame_field(frame, "rejected"):
            continue
        step = _frame_step(frame)
        own = _frame_field(frame, "structure_hash")
        key = ((_frame_field(frame, "parent_hash") or own, "run") if step is not None else (own, "single"))
        previous = _frame_step(last[key]) if key in last else None
        if key not in last or (step is not None and step > (-1 if previous is None else previous)):
            last[key] = frame
    return list(last.values())


def relaxed_frames(
    structures,
    engine="eam",
    n_select: int | None = None,
    seed: int = 0,
    keep=None,
    fmax: float | None = None,
    max_steps: int | None = None,
    max_frames: int | None = None,
    protocol: RelaxProtocol | dict | None = None,
    **kwargs,
) -> list[LabelledFrame]:
    """Full relaxations (ions + cell) of a random subset with a :class:`RelaxProtocol` (default: the paper's;
    ``keep`` = "last" / "all" / every k-th step, ``fmax``, ``max_steps`` override its fields), then at most
    ``max_frames`` per relaxation (:func:`spread_frames`)."""
    p = RelaxProtocol.from_any(protocol, keep=keep, fmax=fmax, max_steps=max_steps)
    chosen = select_structures(structures, n_select, seed)
    frames = label_structures(chosen, engine, "relaxed", "relax", **p.engine_kwargs(), **kwargs)
    return spread_frames(frames, max_frames)


def rescale_to_density(structures, volume_per_atom: float) -> list[StructureInput]:
    """Every structure scaled isotropically to ``volume_per_atom`` (Å^3/atom), fractional coordinates kept, the
    transformation recorded (the surrogate's parent hash stays the frame's parent)."""
    if not volume_per_atom > 0:
        raise ProtocolError(f"volume_per_atom must be > 0 Å^3, got {volume_per_atom}")
    out = []
    for item in as_inputs(structures):
        scaled = item.structure.copy()
        scaled.scale_lattice(len(scaled) * float(volume_per_atom))
        out.append(_derived(item, scaled, f"rescale:density {float(volume_per_atom):.3f} A3/atom"))
    return out


def mean_volume_per_atom(frames: Sequence[LabelledFrame]) -> float:
    """Mean volume per atom (Å^3) of accepted frames."""
    volumes = [f.structure.volume / len(f.structure) for f in frames if not f.rejected]
    if not volumes:
        raise ValueError("no accepted frames to take a density from")
    return float(np.mean(volumes))


def scaled_structures(structure, factors: Sequence[float] = VOLUME_SCALE_FACTORS) -> list[tuple[float, object]]:
    """``structure`` with all lattice vectors multiplied by each factor (fractional coordinates kept)."""
    from pymatgen.core import Lattice

    out = []
    for factor in factors:
        if not 0.5 < factor < 2.0:
            raise ProtocolError(f"lattice scale factors must be in (0.5, 2.0), got {factor}")
        scaled = structure.copy()
        scaled.lattice = Lattice(structure.lattice.matrix * factor)
        out.append((float(factor), scaled))
    return out


def expanded_compressed_inputs(structures, factors=VOLUME_SCALE_FACTORS, n_select=None, seed=0):
    """The scaled structures (with parent and transformation) of the expanded/compressed subset."""
    return [
        _derived(item, scaled, f"scale {factor}")
        for item in select_structures(structures, n_select, seed)
        for factor, scaled in scaled_structures(item.structure, factors)
    ]


def expanded_compressed_frames(
    structures,
    engine="eam",
    factors: Sequence[float] = VOLUME_SCALE_FACTORS,
    n_select: int | None = None,
    seed: int = 0,
    **kwargs,
) -> list[LabelledFrame]:
    """Single points of the selected structures with every lattice vector scaled by each factor."""
    derived = expanded_compressed_inputs(structures, factors, n_select, seed)
    return label_structures(derived, engine, "expanded_compressed", "static", **kwargs)


def distorted_structures(structure, strains: Sequence[float] = DISTORTION_STRAINS):
    """[(voigt index, strain, deformed structure)] from pymatgen's ``DeformedStructureSet``: each of the six
    independent (tensor) strain components at each magnitude."""
    from pymatgen.analysis.elasticity.strain import DeformedStructureSet

    strains = [float(s) for s in strains]
    if any(abs(s) >= 0.2 or s == 0 for s in strains):
        raise ProtocolError(f"strains must be non-zero with |strain| < 0.2, got {strains}")
    dss = DeformedStructureSet(structure, norm_strains=strains, shear_strains=strains, symmetry=False)
    out = []
    for k, deformed in enumerate(dss):
        component = k // len(strains)
        out.append((("xx", "yy", "zz", "xy", "xz", "yz")[component], strains[k % len(strains)], deformed))
    return out


def distorted_inputs(structures, strains=DISTORTION_STRAINS, n_select=None, seed=0):
    """The strained structures (with parent and transformation) of the distorted subset."""
    return [
        _derived(item, deformed, f"strain {component} {strain:+g}")
        for item in select_structures(structures, n_select, seed)
        for component, strain, deformed in distorted_structures(item.structure, strains)
    ]


def distorted_frames(
    structures,
    engine="eam",
    strains: Sequence[float] = DISTORTION_STRAINS,
    n_select: int | None = None,
    seed: int = 0,
    **kwargs,
) -> list[LabelledFrame]:
    """Single points of the selected structures under each of the six strain components at each magnitude."""
    derived = distorted_inputs(structures, strains, n_select, seed)
    return label_structures(derived, engine, "distorted", "static", **kwargs)


def aimd_frames(
    structures,
    engine="eam",
    n_select: int | None = None,
    seed: int = 0,
    nsteps: int | None = None,
    t_start_k: float | None = None,
    t_end_k: float | None = None,
    timestep_fs: float | None = None,
    protocol: AIMDProtocol | dict | None = None,
    **kwargs,
) -> list[LabelledFrame]:
    """NPT Langevin heating runs of the selected structures with an :class:`AIMDProtocol` (default: the
    paper's; its field names as keywords override it); every step is a frame. Run i uses seed+i."""
    fields = {k: kwargs.pop(k) for k in list(kwargs) if k in AIMDProtocol.__dataclass_fields__}
    p = AIMDProtocol.from_any(
        protocol, nsteps=nsteps, t_start_k=t_start_k, t_end_k=t_end_k, timestep_fs=timestep_fs, **fields
    )
    engine = get_engine(engine)
    frames = []
    for i, item in enumerate(select_structures(structures, n_select, seed)):
        frames += label_structures([item], engine, "aimd", "aimd", **p.engine_kwargs(), seed=seed + i, **kwargs)
    return frames


def crystal_frames(
    crystals=None,
    engine="eam",
    keep=None,
    fmax: float | None = None,
    max_steps: int | None = None,
    names=None,
    protocol: RelaxProtocol | dict | None = None,
    **kwargs,
) -> list[LabelledFrame]:
    """Fully relaxed crystal phases (default: the shipped Cu–Zr–Al phases) → subset "crystal"; the
    :class:`RelaxProtocol` as in :func:`relaxed_frames`."""
    p = RelaxProtocol.from_any(protocol, keep=keep, fmax=fmax, max_steps=max_steps)
    if crystals is None:
        crystals = load_crystals(names=names)
    return label_structures(crystals, engine, "crystal", "relax", **p.engine_kwargs(), **kwargs)


def mlip_feedback_frames(structures, engine="eam", **kwargs) -> list[LabelledFrame]:
    """Single points of MLIP-feedback candidates (subset "mlip_feedback")."""
    return label_structures(structures, engine, "mlip_feedback", "static", **kwargs)


#: subset name → function
SUBSET_FUNCTIONS = {
    "surrogate": surrogate_frames,
    "relaxed": relaxed_frames,
    "expanded_compressed": expanded_compressed_frames,
    "distorted": distorted_frames,
    "aimd": aimd_frames,
    "crystal": crystal_frames,
    "mlip_feedback": mlip_feedback_frames,
}


def subset_plan(subset: str, structures, params: dict) -> tuple[list[StructureInput], str, dict]:
    """What a subset labels, without labelling it: (inputs, protocol, protocol arguments).

    Used to hand a subset to an external engine's own jobs (e.g. one VASP job per structure)."""
    p = dict(params)
    if subset in ("surrogate", "mlip_feedback"):
        return as_inputs(structures), "static", {}
    if subset == "relaxed":
        chosen = select_structures(structures, p.get("n_select"), p.get("seed", 0))
        return chosen, "relax", _protocol_kwargs(RelaxProtocol, p)
    if subset == "expanded_compressed":
        return expanded_compressed_inputs(
            structures, p.get("factors", VOLUME_SCALE_FACTORS), p.get("n_select"), p.get("seed", 0)
        ), "static", {}
    if subset == "distorted":
        return distorted_inputs(
            structures, p.get("strains", DISTORTION_STRAINS), p.get("n_select"), p.get("seed", 0)
        ), "static", {}
    if subset == "aimd":
        chosen = select_structures(structures, p.get("n_select"), p.get("seed", 0))
        return chosen, "aimd", _protocol_kwargs(AIMDProtocol, p)
    if subset == "crystal":
        crystals = structures if structures is not None else load_crystals(names=p.get("names"))
        return as_inputs(crystals), "relax", _protocol_kwargs(RelaxProtocol, p)
    raise ProtocolError(f"unknown subset {subset!r}")


def _protocol_kwargs(protocol_class, params: dict) -> dict:
    """The protocol fields given in ``params`` (those not given keep the engine's own defaults)."""
    return {k: params[k] for k in protocol_class.__dataclass_fields__ if k in params}
