"""Held-out structures of one engine, labels of another: DFT single points of the EAM's melt–quench frames.

A first-principles engine cannot run the held-out melt–quench itself (no long DFT MD, the paper's rule), so the
cheap engine makes the structures (hot liquid → glass → relaxed → scaled, :mod:`~mlip_glass.validation.heldout`)
and the expensive one labels them. A frame whose calculation fails (SCF not converged, crash, time limit) is
left out of the held-out set and listed with its reason and cost, never silently dropped.
"""

from __future__ import annotations

from collections.abc import Sequence

from ase import Atoms

from mlip_glass.reference.base import ReferenceEngine

#: frame metadata kept from the structure's own held-out frame (category, run, ...)
KEPT_INFO = ("config_type", "heldout_run")


def relabel(frames: Sequence[Atoms], engine: ReferenceEngine) -> tuple[list[Atoms], list[dict]]:
    """(``frames`` labelled by ``engine``'s single points, the failures as ``{index, config_type, reason,
    cpu_time_s}``). Categories and runs are kept; the labels record the new engine (``info["engine"]``)."""
    labelled: list[Atoms] = []
    failures: list[dict] = []
    for index, atoms in enumerate(frames):
        frame = engine.static(atoms, subset="surrogate")
        if frame.rejected:
            failures.append({"index": index, "config_type": atoms.info.get("config_type"),
                             "reason": frame.rejection_reason, "cpu_time_s": frame.cpu_time_s})
            continue
        out = frame.to_atoms()
        out.info.pop("config_type", None)
        out.info.update({key: atoms.info[key] for key in KEPT_INFO if key in atoms.info})
        out.info["cpu_time_s"] = frame.cpu_time_s
        labelled.append(out)
    return labelled, failures
