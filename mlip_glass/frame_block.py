"""Labelled frames stored as one compact block (one blob per labelling job / dataset).

A list of :class:`~mlip_glass.reference.schemas.LabelledFrame` documents written frame by frame (a pymatgen
Structure dict per frame: one sub-document per site, forces as nested lists) is ~30 kB of small BSON/JSON
items per 150-atom frame; decoding a few hundred of them dominated the demo's store reads. A *frame block*
keeps the same content as a few packed arrays plus one small provenance dict per frame:

``{"format": "mlip_glass/frame-block/1", "n_frames", "species", "n_atoms", "types", "lattice",
"frac_coords", "energy", "forces", "has_forces", "stress", "has_stress", "virial", "has_virial", "frames"}``

- arrays are little-endian float64 / int32 bytes in base64 strings (``{"dtype", "shape", "b64"}``): exact,
  and the same text in BSON (embedded store, MongoDB) and in JSON (GridFS);
- ``frames[i]`` holds every other field of frame i (structure_hash, subset, engine, parent_hash, source,
  engine_settings, pressure, cpu_time_s, rejected, rejection_reason) as plain values: readable in Mongo.
  A structure the packed form cannot hold exactly (partial occupancies, oxidation states, site properties,
  labels, non-periodic axes) is kept whole in ``frames[i]["structure"]``.

:func:`decode_frames` / :func:`frame_dicts` also accept the old list-of-frames form, so stores written
before blocks existed read unchanged.
"""

from __future__ import annotations

import base64
from typing import Any

import numpy as np

from mlip_glass.errors import MLIPGlassError

#: the ``format`` tag of a block (bump the version for an incompatible layout)
BLOCK_FORMAT = "mlip_glass/frame-block/1"
#: formats :func:`decode_frames` reads
READABLE_FORMATS = (BLOCK_FORMAT,)
#: LabelledFrame fields held as packed arrays (the rest go to ``frames[i]`` as they are)
_PACKED = ("structure", "energy", "forces", "stress", "virial")


class FrameBlockError(MLIPGlassError, ValueError):
    """A stored frame block this version cannot read (names the format and what to do)."""


def is_frame_block(value: Any) -> bool:
    """True for a dict written by :func:`encode_frames` (any version)."""
    return isinstance(value, dict) and str(value.get("format", "")).startswith("mlip_glass/frame-block/")


def _pack(array: np.ndarray, dtype: str) -> dict:
    array = np.ascontiguousarray(array, dtype=dtype)
    return {"dtype": dtype, "shape": list(array.shape), "b64": base64.b64encode(array.tobytes()).decode("ascii")}


def _unpack(packed: dict) -> np.ndarray:
    data = base64.b64decode(packed["b64"])
    return np.frombuffer(data, dtype=np.dtype(packed["dtype"])).reshape(packed["shape"])


def _packable(structure) -> bool:
    """True if lattice matrix + element symbols + fractional coordinates rebuild ``structure`` exactly."""
    from pymatgen.core import Element

    if structure.properties or getattr(structure, "_charge", None) not in (None, 0, 0.0):
        return False
    if tuple(bool(p) for p in structure.lattice.pbc) != (True, True, True):
        return False
    for site in structure:
        species = site.species
        if len(species) != 1:
            return False
        (sp, occu), = species.items()
        if type(sp) is not Element or occu != 1 or site.properties or site.label != sp.symbol:
            return False
    return True


def encode_frames(frames) -> dict:
    """One block dict (BSON- and JSON-safe) holding ``frames`` (LabelledFrames) exactly."""
    species: dict[str, int] = {}
    n_atoms: list[int] = []
    types: list[int] = []
    energy: list[float | None] = []
    has_forces: list[bool] = []
    has_stress: list[bool] = []
    has_virial: list[bool] = []
    lattice: list[np.ndarray] = []
    frac: list[np.ndarray] = []
    forces: list[np.ndarray] = []
    stress: list[np.ndarray] = []
    virial: list[np.ndarray] = []
    rest: list[dict] = []
    for frame in frames:
        s = frame.structure
        meta = frame.model_dump(exclude=set(_PACKED), mode="json")
        if _packable(s):
            n_atoms.append(len(s))
            types.extend(species.setdefault(site.specie.symbol, len(species)) for site in s)
            lattice.append(s.lattice.matrix)
            frac.append(s.frac_coords.reshape(-1, 3))
        else:
            n_atoms.append(-1)  # the structure is kept whole in frames[i]["structure"]
            meta["structure"] = s.as_dict()
        energy.append(frame.energy)
        has_forces.append(frame.forces is not None)
        if frame.forces is not None:
            forces.append(np.asarray(frame.forces, dtype=float).reshape(-1, 3))
        has_stress.append(frame.stress is not None)
        if frame.stress is not None:
            stress.append(np.asarray(frame.stress, dtype=float).reshape(3, 3))
        has_virial.append(frame.virial is not None)
        if frame.virial is not None:
            virial.append(np.asarray(frame.virial, dtype=float).reshape(3, 3))
        rest.append(meta)

    def stack(parts, shape):
        return np.concatenate(parts) if parts else np.zeros(shape)

    return {
        "format": BLOCK_FORMAT,
        "n_frames": len(frames),
        "species": list(species),
        "n_atoms": n_atoms,
        "types": _pack(np.asarray(types, dtype=np.int32), "<i4"),
        "lattice": _pack(np.asarray(lattice).reshape(-1, 3, 3), "<f8"),
        "frac_coords": _pack(stack(frac, (0, 3)), "<f8"),
        "energy": energy,
        "forces": _pack(stack(forces, (0, 3)), "<f8"),
        "has_forces": has_forces,
        "stress": _pack(np.asarray(stress).reshape(-1, 3, 3), "<f8"),
        "has_stress": has_stress,
        "virial": _pack(np.asarray(virial).reshape(-1, 3, 3), "<f8"),
        "has_virial": has_virial,
        "frames": rest,
    }


def _check_format(block: dict) -> None:
    if block.get("format") not in READABLE_FORMATS:
        raise FrameBlockError(
            f"frame block format {block.get('format')!r} is newer than this mlip_glass reads "
            f"({', '.join(READABLE_FORMATS)}): upgrade mlip_glass to read this store"
        )


def _iter_fields(block: dict):
    """Per frame: (structure parts or a whole structure dict, energy, forces, stress, virial, other fields)."""
    _check_format(block)
    species = block["species"]
    types = _unpack(block["types"])
    lattice = _unpack(block["lattice"])
    frac = _unpack(block["frac_coords"])
    forces = _unpack(block["forces"])
    stress = _unpack(block["stress"])
    virial = _unpack(block["virial"])
    atom = packed = f_at = s_i = v_i = 0
    for i, meta in enumerate(block["frames"]):
        n = block["n_atoms"][i]
        if n < 0:
            structure: Any = meta["structure"]  # a dict, or a Structure when monty's decoder went through the block
            n_forces = len(structure["sites"]) if isinstance(structure, dict) else len(structure)
        else:
            structure = (lattice[packed], [species[t] for t in types[atom:atom + n]], frac[atom:atom + n])
            atom += n
            packed += 1
            n_forces = n
        frame_forces = None
        if block["has_forces"][i]:
            frame_forces = forces[f_at:f_at + n_forces]
            f_at += n_forces
        frame_stress = frame_virial = None
        if block["has_stress"][i]:
            frame_stress = stress[s_i]
            s_i += 1
        if block["has_virial"][i]:
            frame_virial = virial[v_i]
            v_i += 1
        yield structure, block["energy"][i], frame_forces, frame_stress, frame_virial, meta


def _structure(parts):
    from pymatgen.core import Lattice, Structure

    if isinstance(parts, dict):
        return Structure.from_dict(parts)
    if isinstance(parts, Structure):
        return parts
    matrix, symbols, frac = parts
    return Structure(Lattice(np.array(matrix)), symbols, np.array(frac))


def _structure_dict(parts) -> dict:
    """The ``Structure.as_dict()`` of the packed parts, built without making the Structure."""
    if isinstance(parts, dict):
        return parts
    if not isinstance(parts, tuple):  # a Structure (monty's decoder went through the block)
        return parts.as_dict()
    from pymatgen.core import Lattice

    matrix, symbols, frac = parts
    lattice = Lattice(np.array(matrix))
    lattice_dict = lattice.as_dict(verbosity=1)
    del lattice_dict["@module"], lattice_dict["@class"]
    xyz = np.array([np.dot(f, lattice.matrix) for f in frac])  # per site, as PeriodicSite.coords computes it
    sites = [
        {"species": [{"element": sym, "occu": 1}], "abc": f, "properties": {}, "label": sym, "xyz": x}
        for sym, f, x in zip(symbols, frac.tolist(), xyz.tolist())
    ]
    return {"@module": "pymatgen.core.structure", "@class": "Structure", "charge": 0.0, "lattice": lattice_dict,
            "properties": {}, "sites": sites}


def _lists(array):
    return None if array is None else array.tolist()


def frame_fields(block: dict):
    """Per frame of a block: its LabelledFrame fields (structure as a pymatgen Structure, arrays as lists)."""
    for parts, energy, forces, stress, virial, meta in _iter_fields(block):
        fields = {k: v for k, v in meta.items() if k != "structure"}
        fields.update(structure=_structure(parts), energy=energy, forces=_lists(forces), stress=_lists(stress),
                      virial=_lists(virial))
        yield fields


def frame_dicts(value) -> list[dict]:
    """Frames as plain dicts (the ``LabelledFrame.model_dump()`` form, structure as a pymatgen dict) from a
    block or an old list of frame dicts, without building pymatgen objects for packed frames."""
    if value is None:
        return []
    if not is_frame_block(value):
        return [f if isinstance(f, dict) else f.model_dump() for f in value]
    out = []
    for parts, energy, forces, stress, virial, meta in _iter_fields(value):
        frame = {k: v for k, v in meta.items() if k != "structure"}
        frame.update(structure=_structure_dict(parts), energy=energy, forces=_lists(forces), stress=_lists(stress),
                     virial=_lists(virial))
        out.append(frame)
    return out
