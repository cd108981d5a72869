"""Cu–Zr–Al crystal phases for the "crystal" subset, shipped offline (``mlip_glass/data/crystals``).

Optionally refreshed from the Materials Project (``mp-api`` installed and ``MP_API_KEY`` set); never required.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from pymatgen.core import Structure

from mlip_glass.composition import SPECIES
from mlip_glass.data import data_path
from mlip_glass.provenance import structure_hash

logger = logging.getLogger(__name__)

#: the shipped crystal file
CRYSTALS_FILE = ("crystals", "cuzral_crystals.json")
#: chemical system queried when refreshing from the Materials Project
CHEMSYS = SPECIES
#: energy above hull (eV/atom) below which MP phases count as stable when refreshing
MP_E_ABOVE_HULL_MAX = 0.0


def crystals_path() -> Path:
    return data_path(*CRYSTALS_FILE)


def load_crystal_records(path: str | Path | None = None) -> list[dict]:
    """The crystal records (name, formula, material_id, prototype, ..., structure as a Structure)."""
    path = Path(path or crystals_path())
    with open(path) as handle:
        payload = json.load(handle)
    records = []
    for record in payload["phases"]:
        record = dict(record)
        record["structure"] = Structure.from_dict(record["structure"])
        records.append(record)
    return records


def load_crystals(path: str | Path | None = None, names=None, max_atoms: int | None = None) -> list[dict]:
    """Crystal phases as surrogate-like documents (``structure``, ``structure_hash``, ``name``,
    ``material_id``), optionally only ``names`` and cells of at most ``max_atoms`` atoms."""
    records = load_crystal_records(path)
    if names is not None:
        unknown = set(names) - {r["name"] for r in records}
        if unknown:
            raise ValueError(f"unknown crystal names {sorted(unknown)}; available: {[r['name'] for r in records]}")
        records = [r for r in records if r["name"] in set(names)]
    if max_atoms is not None:
        records = [r for r in records if len(r["structure"]) <= max_atoms]
    return [
        {
            "structure": r["structure"],
            "structure_hash": structure_hash(r["structure"]),
            "name": r["name"],
            "material_id": r.get("material_id"),
            "method": "crystal",
        }
        for r in records
    ]


def refresh_from_materials_project(
    path: str | Path | None = None, api_key: str | None = None, e_above_hull_max: float = MP_E_ABOVE_HULL_MAX
) -> Path:
    """Query the Materials Project for stable Cu–Zr–Al phases and write them in the shipped layout.

    Needs ``mp-api`` and an API key (argument or ``MP_API_KEY``); raises ``RuntimeError`` otherwise.
    Returns the written path (default: a ``cuzral_crystals_mp.json`` next to the shipped file).
    """
    api_key = api_key or os.environ.get("MP_API_KEY")
    if not api_key:
        raise RuntimeError("no Materials Project API key (argument api_key or $MP_API_KEY)")
    try:
        from mp_api.client import MPRester
    except ImportError as exc:  # pragma: no cover - optional dependency
        raise RuntimeError("refreshing from the Materials Project needs `pip install mp-api`") from exc
    out = Path(path or crystals_path().with_name("cuzral_crystals_mp.json"))
    phases = []
    with MPRester(api_key) as mpr:  # pragma: no cover - network
        docs = mpr.materials.summary.search(
            chemsys=["-".join(sorted(c)) for c in _subsystems(CHEMSYS)],
            energy_above_hull=(0, e_above_hull_max),
            fields=["material_id", "formula_pretty", "structure", "symmetry", "energy_above_hull"],
        )
        for doc in docs:
            phases.append(
                {
                    "name": f"{doc.formula_pretty}-{doc.material_id}",
                    "formula": doc.formula_pretty,
                    "prototype": None,
                    "spacegroup": doc.symmetry.symbol,
                    "material_id": str(doc.material_id),
                    "stability": f"e_above_hull = {doc.energy_above_hull} eV/atom",
                    "ref": "Materials Project",
                    "n_atoms": len(doc.structure),
                    "structure": doc.structure.as_dict(),
                }
            )
    with open(out, "w") as handle:
        json.dump({"description": "Cu-Zr-Al phases from the Materials Project", "phases": phases}, handle, indent=1)
    logger.info("wrote %d Materials Project phases to %s", len(phases), out)
    return out


def _subsystems(elements):
    from itertools import combinations

    for n in range(1, len(elements) + 1):
        yield from combinations(elements, n)
