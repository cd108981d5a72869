"""Deprecated alias of :mod:`mlip_glass.utils.lammps_session` (shared by the reference, properties and AL stages)."""

import warnings

from mlip_glass.utils.lammps_session import EV_A3_PER_BAR, LammpsSession, to_atoms  # noqa: F401

warnings.warn("mlip_glass.properties.lammps_session moved to mlip_glass.utils.lammps_session", DeprecationWarning,
              stacklevel=2)
