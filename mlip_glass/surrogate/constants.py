"""Every number of the LJ surrogate method (arXiv:2501.00589, Methods; ``SPEC.md`` §1-3), in ONE place.

All values are defaults: each function/Maker that uses one takes it as an overridable parameter.
Reduced units: length sigma_ZrZr, energy (and k_B T) eps_ZrZr, time sigma_ZrZr sqrt(m/eps_ZrZr), unit mass.
"""

from __future__ import annotations

from mlip_glass import composition as _composition

# --- model (Methods, "Lennard-Jones surrogate model") ---------------------------------------------
#: species order of the model; LAMMPS atom types 1, 2, 3 (same order as the shipped EAM's pair_coeff)
PAPER_SPECIES: tuple[str, ...] = _composition.SPECIES
#: LJ sigma per species (Å)
PAPER_SIGMA_A: dict[str, float] = {"Zr": 2.932, "Cu": 2.338, "Al": 2.620}
#: LJ epsilon per species (eV)
PAPER_EPSILON_EV: dict[str, float] = {"Zr": 0.409, "Cu": 0.739, "Al": 0.392}
#: r_cut,ab = CUTOFF_FACTOR * sigma_ab; the potential is shifted to zero there
CUTOFF_FACTOR: float = 2.0
#: species whose sigma/epsilon define the reduced units
REFERENCE_SPECIES: str = "Zr"
#: composition Cu0.46 Zr0.46 Al0.08 (atom fractions)
PAPER_COMPOSITION: dict[str, float] = _composition.PAPER_COMPOSITION
#: number of atoms of the paper's cells (69 Cu, 69 Zr, 12 Al)
PAPER_N_ATOMS: int = _composition.PAPER_N_ATOMS
#: reduced number density rho* = N / L^3 (L = 4.41 sigma_ZrZr = 12.93 Å for N = 150)
PAPER_DENSITY: float = 1.75

# --- swap Monte Carlo -------------------------------------------------------------------------------
#: side of the cube of trial displacements (reduced length)
DELTA_R_MAX: float = 0.15
#: fraction of attempted moves that are swaps (the rest are translations)
SWAP_FRACTION: float = 0.20
#: the species that exchanges with any other species (Zr <-> Al <-> Cu; Cu <-> Zr never attempted)
SWAP_SPECIES: str = "Al"
#: cooling: T* linear in sweeps from T_HIGH to T_LOW (also used by MD cooling)
T_HIGH: float = 10.01
T_LOW: float = 0.01
#: the paper's cooling lengths (sweeps): "1e4 ... 1e9"; one per decade is our reading of that range
PAPER_SWAP_SWEEPS: tuple[float, ...] = (1e4, 1e5, 1e6, 1e7, 1e8, 1e9)
#: independent samples per cooling length in the paper preset (not stated in the paper; our choice)
PAPER_GRID_SAMPLES: int = 5

# --- MD cooling and time-scale mapping ---------------------------------------------------------------
#: the paper's MD cooling times t* (reduced): "1e2 ... 4e4" (Methods); one per decade plus the end point
PAPER_MD_TIMES: tuple[float, ...] = (1e2, 1e3, 1e4, 4e4)
#: MD time step (reduced); dt = 0.004 biases the mean energy at T* = 4 up by ~0.06 eps, 0.002 does not
MD_TIMESTEP: float = 0.002
#: Nose-Hoover damping time (reduced)
MD_TDAMP: float = 0.2
#: onset temperature of the supercooled regime (departure from Arrhenius), reduced
PAPER_T_ONSET: float = 2.09
#: energy-minimisation force tolerance (reduced force 2-norm, LAMMPS ``minimize`` ftol)
IS_FORCE_TOL: float = 1e-8
#: maximum minimiser iterations
IS_MAX_ITER: int = 100000

#: Boltzmann constant (eV/K), for converting T* to kelvin
K_B_EV: float = 8.617333262e-5
