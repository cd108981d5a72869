"""Cell formatting and potential names shared by the report's tables."""

from __future__ import annotations

import math

import numpy as np


def fmt(value, digits: int = 3) -> str:
    """A table cell: "—" for missing/non-finite values, integers as they are, floats to ``digits`` significant."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    return f"{float(value):.{digits}g}"


def potential_name(doc: dict) -> str:
    """Name of the potential of a property document."""
    return str((doc.get("potential") or {}).get("name", "?"))


def is_nep(doc: dict) -> bool:
    """Whether a property document was computed with a NEP model."""
    return "nep" in potential_name(doc).lower() or (doc.get("potential") or {}).get("kind") == "nep"
