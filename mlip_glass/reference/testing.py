"""Deprecated alias of :mod:`mlip_glass.testing.structures` (test doubles live under :mod:`mlip_glass.testing`)."""

import warnings

from mlip_glass.testing.structures import *  # noqa: F403

warnings.warn("mlip_glass.reference.testing moved to mlip_glass.testing.structures", DeprecationWarning, stacklevel=2)
