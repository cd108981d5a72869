"""Objects named by an import path ``"package.module:attribute"`` (engines, assembly functions, flows)."""

from __future__ import annotations

import importlib
from typing import Any


def import_object(path: str) -> Any:
    """``"package.module:attribute"`` → the attribute; ``ValueError`` naming the path if it is malformed."""
    if not isinstance(path, str) or ":" not in path:
        raise ValueError(f"expected an import path 'package.module:name', got {path!r}")
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)
