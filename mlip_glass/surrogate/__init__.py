"""LJ surrogate of Cu0.46Zr0.46Al0.08 (arXiv:2501.00589): model, swap Monte Carlo, MD cooling, inherent
structures and the time-scale mapping of Fig. 2a. Makers live in :mod:`mlip_glass.surrogate.jobs`."""

from mlip_glass.surrogate.lammps_md import InherentStructure, MDResult, inherent_structure, lammps_energy, md_cooling
from mlip_glass.surrogate.mc_common import SwapMCResult
from mlip_glass.surrogate.model import LJModel, SurrogateInputError
from mlip_glass.surrogate.state import random_liquid
from mlip_glass.surrogate.swap_mc import swap_mc
from mlip_glass.surrogate.timescale import TimescaleMap, build_map, plot_timescale_map

__all__ = [
    "LJModel",
    "SurrogateInputError",
    "random_liquid",
    "swap_mc",
    "SwapMCResult",
    "md_cooling",
    "MDResult",
    "inherent_structure",
    "InherentStructure",
    "lammps_energy",
    "TimescaleMap",
    "build_map",
    "plot_timescale_map",
]
