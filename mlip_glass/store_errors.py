"""The store's configuration error, below :mod:`mlip_glass.store` and its helpers (credentials, embedded store)."""

from __future__ import annotations

from mlip_glass.errors import MLIPGlassError


class StoreConfigError(MLIPGlassError, ValueError):
    """A store URI, project directory or LaunchPad file that cannot be used."""
