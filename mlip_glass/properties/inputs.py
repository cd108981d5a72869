"""Accepting what other stages hand over: structures (pymatgen, ASE, ``LabelledFrame`` documents or
their dicts) and potentials (specs, NEP model documents, dicts); the provenance record of a potential."""

from __future__ import annotations

from typing import Any

from ase import Atoms
from pymatgen.core import Structure

from mlip_glass.properties.potentials import (
    EAMPotential,
    LammpsPairPotential,
    NEPPotential,
)

POTENTIAL_TYPES = (EAMPotential, NEPPotential, LammpsPairPotential)


def as_structure(item: Any, field: str = "structure") -> Structure:
    """A pymatgen Structure from a Structure, ASE Atoms, a ``LabelledFrame`` (or any object with a
    ``structure`` attribute) or the dict of one of these. ``TypeError`` names ``field`` otherwise."""
    if isinstance(item, Structure):
        return item
    if isinstance(item, Atoms):
        from pymatgen.io.ase import AseAtomsAdaptor

        return AseAtomsAdaptor.get_structure(item)
    if isinstance(item, dict):
        if "structure" in item:
            return as_structure(item["structure"], field)
        if item.get("@class") == "Structure" or "lattice" in item:
            return Structure.from_dict(item)
    elif hasattr(item, "structure"):
        return as_structure(item.structure, field)
    raise TypeError(
        f"{field}: expected a pymatgen Structure, ASE Atoms or LabelledFrame, got {type(item).__name__}"
    )


def reference_energy_per_atom(item: Any) -> float | None:
    """Reference energy per atom (eV/atom) of a ``LabelledFrame`` (or dict with ``energy``), else None."""
    energy = item.get("energy") if isinstance(item, dict) else getattr(item, "energy", None)
    if energy is None:
        return None
    return float(energy) / len(as_structure(item))


def as_potential(item: Any, field: str = "potential"):
    """A potential spec from a spec, a NEP model document (``nep_txt``), an MSON dict or a path to a
    ``nep.txt`` / ``*.eam.alloy`` file."""
    if isinstance(item, POTENTIAL_TYPES):
        return item
    if isinstance(item, dict):
        if "@class" in item and item.get("@class") in {t.__name__ for t in POTENTIAL_TYPES}:
            from monty.json import MontyDecoder

            return MontyDecoder().process_decoded(item)
        if "nep_txt" in item:
            return NEPPotential.from_document(item)
    elif hasattr(item, "nep_txt"):
        return NEPPotential.from_document(item)
    elif isinstance(item, str) or hasattr(item, "__fspath__"):
        path = str(item)
        if path.endswith((".eam.alloy", ".eam.fs", ".setfl")):
            return EAMPotential(path=path)
        return NEPPotential.from_file(path)
    raise TypeError(
        f"{field}: expected EAMPotential, NEPPotential, LammpsPairPotential, a NEP model document "
        f"(with nep_txt) or a potential file path, got {type(item).__name__}"
    )


def potential_info(potential) -> dict[str, Any]:
    """What property documents record about a potential (name, kind, id, species, file)."""
    info: dict[str, Any] = {
        "name": getattr(potential, "name", type(potential).__name__),
        "kind": type(potential).__name__,
        "species": list(potential.species),
    }
    if isinstance(potential, NEPPotential):
        info["model_hash"] = potential.model_hash
        info["model_uuid"] = potential.model_uuid
        info["potential_id"] = potential.model_hash
    elif isinstance(potential, EAMPotential):
        info["path"] = potential.path
        info["potential_id"] = _file_hash(str(potential.path))
    else:
        info["potential_id"] = getattr(potential, "name", None)
    return info


def _file_hash(path: str) -> str:
    import hashlib

    with open(path, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()

