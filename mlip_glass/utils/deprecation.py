"""Deprecated aliases of Makers that moved or merged: the old name keeps working and warns once per instance."""

from __future__ import annotations

import warnings
from typing import ClassVar


class DeprecatedAlias:
    """Mixin (first base) of a Maker kept only under its old name: constructing it emits a DeprecationWarning
    naming :attr:`use_instead`, then runs the Maker's own ``__post_init__``."""

    use_instead: ClassVar[str] = ""

    def __post_init__(self) -> None:
        cls = type(self)
        warnings.warn(f"{cls.__module__}.{cls.__name__} is deprecated: use {cls.use_instead}", DeprecationWarning,
                      stacklevel=3)
        post_init = getattr(super(), "__post_init__", None)
        if post_init is not None:
            post_init()
