"""Deprecated alias of :mod:`mlip_glass.testing.fake_vasp` (test doubles live under :mod:`mlip_glass.testing`)."""

import warnings

from mlip_glass.testing.fake_vasp import *  # noqa: F403

warnings.warn("mlip_glass.reference.fake_vasp moved to mlip_glass.testing.fake_vasp", DeprecationWarning, stacklevel=2)
