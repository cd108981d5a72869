"""Every number of the paper's reference (DFT) protocol, in one place (SPEC.md §4, arXiv:2501.00589 Methods).

All are defaults: Makers and functions take them as overridable parameters.
"""

from __future__ import annotations

from mlip_glass.surrogate.constants import PAPER_DENSITY, PAPER_SIGMA_A, REFERENCE_SPECIES

# -- electronic structure (VASP 6.3.2, PAW-PBE) ----------------------------------------------------------
#: plane-wave cutoff (eV)
ENCUT_EV = 450.0
#: k-point spacing (Å^-1, VASP KSPACING incl. 2π): 3x3x3 for the 12.9 Å cubic cell
KSPACING_PER_A = 0.162
#: electronic convergence (eV)
EDIFF_EV = 1e-6
#: ionic convergence: forces below 0.01 eV/Å (negative EDIFFG = force criterion)
EDIFFG_EV_PER_A = -0.01
#: metal smearing: first-order Methfessel–Paxton, width (eV). The paper says "smearing suitable for
#: metals"; ISMEAR 1 / SIGMA 0.1 is the usual VASP choice for metals (not stated numerically in the paper)
ISMEAR_METAL = 1
SIGMA_METAL_EV = 0.1
#: relaxations move ions, volume and shape
ISIF_FULL_RELAX = 3

# -- AIMD (NPT Langevin, Parrinello–Rahman lattice) -----------------------------------------------------
#: time step (fs)
AIMD_TIMESTEP_FS = 1.0
#: number of MD steps ("approximately 60 timesteps per thermalization")
AIMD_STEPS = 60
#: start temperature (K): the paper heats from 0 K; VASP needs TEBEG > 0, so a few K
AIMD_T_START_K = 5.0
#: end temperature (K)
AIMD_T_END_K = 2000.0
#: friction of every atomic species (ps^-1)
AIMD_LANGEVIN_GAMMA_PER_PS = 20.0
#: friction of the lattice degrees of freedom (ps^-1)
AIMD_LANGEVIN_GAMMA_L_PER_PS = 5.0
#: fictitious lattice mass (amu). Not given in the paper; 1000 amu is VASP's own default for PMASS and
#: gives lattice motion on the ~100 fs scale for a 150-atom cell. atomate2's MD default (10) is overridden.
AIMD_PMASS_AMU = 1000.0
#: target pressure (GPa) of NPT runs
AIMD_PRESSURE_GPA = 0.0

# -- relaxations (local engines; VASP uses EDIFFG above and the relax set's NSW) ----------------------------
#: default force tolerance of relaxations (eV/Å), = |EDIFFG| of the paper
RELAX_FMAX_EV_PER_A = 0.01
#: default cap on relaxation steps
RELAX_MAX_STEPS = 10000

# -- reference costs (SPEC.md §4, per 150-atom cell, CPU-hours) ---------------------------------------
VASP_COST_CPU_H = {"single_point": 113.0, "relax": 2621.0, "aimd": 5506.0}

# -- training database (SPEC.md §5) -------------------------------------------------------------------
#: subset names (config_type in the extxyz), in Fig. 3a order
SUBSETS = (
    "surrogate",
    "relaxed",
    "expanded_compressed",
    "distorted",
    "aimd",
    "crystal",
    "mlip_feedback",
)
#: lattice-vector scale factors of the expanded/compressed subset
VOLUME_SCALE_FACTORS = (0.90, 0.95, 0.99, 1.01, 1.05, 1.10)
#: strain magnitudes of the distorted subset (applied to each of the six independent components)
DISTORTION_STRAINS = (-0.008, -0.004, 0.004, 0.008)
#: train fraction of the 80/20 split
TRAIN_FRACTION = 0.8
#: paper's labelling cell: rho* = 1.75 in sigma_ZrZr units (L = 12.93 Å for 150 atoms), in atoms/Å^3
PAPER_NUMBER_DENSITY_PER_A3 = PAPER_DENSITY / PAPER_SIGMA_A[REFERENCE_SPECIES] ** 3

# -- subset sizes (the paper's text gives no per-subset numbers; Fig. 3a shows them graphically) --------
#: DFT-minimised structures: the paper's elastic/energetics analysis uses 85 of them
N_RELAXED = 85
#: surrogate structures expanded/compressed (each gives len(VOLUME_SCALE_FACTORS) frames)
N_EXPANDED_COMPRESSED = 10
#: structures distorted (each gives 6 components x len(DISTORTION_STRAINS) frames)
N_DISTORTED = 10
#: AIMD trajectories ("few")
N_AIMD = 3
