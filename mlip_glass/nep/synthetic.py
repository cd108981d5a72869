"""Deprecated alias of :mod:`mlip_glass.testing.synthetic` (test doubles live under :mod:`mlip_glass.testing`)."""

import warnings

from mlip_glass.testing.synthetic import *  # noqa: F403

warnings.warn("mlip_glass.nep.synthetic moved to mlip_glass.testing.synthetic", DeprecationWarning, stacklevel=2)
