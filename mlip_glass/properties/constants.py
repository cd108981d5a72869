"""Every number of the paper's property protocols (arXiv:2501.00589, SPEC §7), in one place.

Makers and functions take these as defaults; every one is overridable. Paper results are kept here too
(``PAPER_*``) so reports can print them next to what was measured.
"""

from __future__ import annotations

from mlip_glass.composition import PAPER_COMPOSITION  # not via mlip_glass.surrogate: that package imports numba

# -- RDF (Fig. 4a) ---------------------------------------------------------------------------------------
#: atoms per melt-quench run
RDF_N_ATOMS = 1500
#: composition of the melt-quench cells (fractions): the paper's Cu0.46 Zr0.46 Al0.08
RDF_COMPOSITION = dict(PAPER_COMPOSITION)
#: NPT melt temperature (K)
RDF_T_HIGH_K = 2000.0
#: final temperature (K) at which g(r) is sampled
RDF_T_LOW_K = 300.0
#: cooling rate (K/ns): 2000 K -> 300 K takes 17 ns
RDF_COOLING_RATE_K_PER_NS = 100.0
#: independent melt-quench runs averaged
RDF_N_RUNS = 80
#: MD time step (fs) (not stated in the paper; a common choice for Cu-Zr metallic glasses)
RDF_TIMESTEP_FS = 2.0
#: equilibration at T_high before cooling (ps) (not stated in the paper)
RDF_EQUILIBRATION_PS = 100.0
#: sampling at T_low after cooling (ps) and frames taken in that window (not stated in the paper)
RDF_SAMPLE_PS = 20.0
RDF_SAMPLE_FRAMES = 20
#: pressure (GPa) of the NPT runs
RDF_PRESSURE_GPA = 0.0
#: Nose-Hoover damping times (ps), thermostat and barostat
RDF_TDAMP_PS = 0.1
RDF_PDAMP_PS = 1.0
#: g(r) range (Å) and bins
RDF_R_MAX = 10.0
RDF_N_BINS = 200
#: initial number density (1/Å^3) of random starting cells (Cu46Zr46Al8 glass ~7 g/cm^3)
RDF_INITIAL_DENSITY = 0.0575
#: minimum distance (Å) between atoms of random starting cells
RDF_MIN_DISTANCE = 2.0
#: r window (Å) of the comparison to experiment
RDF_COMPARE_RANGE = (2.3, 10.0)
#: paper: mean absolute error of g(r) vs experiment over 2.3-10 Å
PAPER_RDF_MAE = {"MLIP": 0.090, "EAM": 0.084}

# -- elastic constants at 0 K (Fig. 4b) ------------------------------------------------------------------
#: normal and shear strain magnitudes of the deformation set (the +-0.4 %, +-0.8 % "distorted" subset)
ELASTIC_NORM_STRAINS = (-0.008, -0.004, 0.004, 0.008)
ELASTIC_SHEAR_STRAINS = (-0.008, -0.004, 0.004, 0.008)
#: DFT-minimised samples in the paper
ELASTIC_N_SAMPLES = 85
#: force tolerance (eV/Å) of the ionic relaxations (SPEC §4: EDIFFG = -0.01)
RELAX_FMAX = 1e-2
#: force tolerance (eV/Å) of the ionic relaxation of each deformed cell (tighter: stresses are small)
ELASTIC_FMAX = 1e-3
#: largest ||C − Cᵀ|| / ||C|| (Frobenius) of a sample in the linear elastic regime. A stiffness fitted from small
#: ± strains is symmetric unless a strain triggered an irreversible rearrangement (a plastic event in a small
#: glass); measured: 0.000–0.02 for 10 EAM/NEP samples, 0.39 for one NEP sample with such an event
ELASTIC_MAX_ASYMMETRY = 0.1

# -- AQS simple shear (Fig. 5a) --------------------------------------------------------------------------
#: maximum shear strain
AQS_MAX_STRAIN = 0.01
#: strain increment per step (not stated in the paper)
AQS_STRAIN_STEP = 1e-4
#: strain window (gamma) of the linear fit giving G
AQS_FIT_RANGE = (0.004, 0.006)
#: shear plane (LAMMPS tilt factor): xy = displacement along x, growing with y
AQS_PLANE = "xy"
#: force tolerance (eV/Å) of the minimisation at each strain step
AQS_FMAX = 1e-3

# -- energetics (Fig. 5b) --------------------------------------------------------------------------------
#: paper: least-squares slope of e(potential) vs e(DFT) on DFT-minimised structures
PAPER_ENERGY_SLOPE = {"MLIP": 1.013, "EAM": 1.282}

# -- execution -------------------------------------------------------------------------------------------
#: worker processes for independent runs (both cores of the development machine)
N_WORKERS = 2
