"""Numbers of the MLIP-feedback / active-learning stage, each in one place (SPEC.md §5 item 7).

The paper (arXiv:2501.00589, training database subset 7) runs 138 equilibration + fast-quench MD runs
with the trained NEP, labels every final structure with a DFT single point and retrains once. The
remaining defaults generalise this to N automatic iterations and are *not* paper numbers; they are
chosen for demo-size campaigns and documented in docs/active_learning.md.
"""

#: number of MLIP feedback runs (equilibration + fast quench) per iteration in the paper
PAPER_N_FEEDBACK_RUNS = 138
#: subset name of the feedback frames in the training database
FEEDBACK_SUBSET = "mlip_feedback"

#: feedback MD defaults (not given numerically in the paper): equilibrate hot, then quench fast
FEEDBACK_T_EQUIL_K = 2000.0  #: equilibration temperature (K) — the paper's AIMD/RDF melt temperature
FEEDBACK_T_FINAL_K = 300.0  #: end temperature of the quench (K)
FEEDBACK_EQUIL_STEPS = 2000  #: equilibration steps at FEEDBACK_T_EQUIL_K
FEEDBACK_QUENCH_STEPS = 2000  #: steps of the linear quench (2 ps at 1 fs → ~8.5e14 K/s)
FEEDBACK_TIMESTEP_FS = 1.0  #: MD time step (fs), as in the paper's AIMD
FEEDBACK_TDAMP_FS = 100.0  #: Nosé–Hoover temperature damping (fs)
FEEDBACK_PDAMP_FS = 1000.0  #: Nosé–Hoover pressure damping (fs)
FEEDBACK_PRESSURE_GPA = 0.0  #: NPT target pressure (GPa)

#: DP-GEN style trust levels on the committee max force deviation (eV/Å)
TRUST_LO_EV_A = 0.10  #: below: "accurate" (model already right, not labelled)
TRUST_HI_EV_A = 0.35  #: above: "rejected" (unphysical, not labelled); between: "candidate"
#: MaxVol / D-optimality extrapolation-grade bounds (dimensionless, gamma <= 1 is interpolation)
GAMMA_LO = 1.0  #: below: "accurate"
GAMMA_HI = 10.0  #: above: "rejected" (far extrapolation, likely unphysical)
#: MaxVol iteration tolerance (stop when no element of the coefficient matrix exceeds 1 + tol)
MAXVOL_TOL = 1.0e-2
MAXVOL_MAX_ITER = 200

#: loop stop criteria
DEFAULT_MAX_ITERATIONS = 3  #: iterations of the loop (the paper did one)
DEFAULT_RMSE_TOL = 1.0  #: stop when |Δ test force RMSE| between iterations is below this (meV/Å)
#: learning-curve metric of the stop criterion: path in NEPModelDocument.rmse (split, config_type, key)
STOP_METRIC = ("test", "all", "rmse_force_meV_per_A")

SELECTION_METHODS = ("all", "committee", "maxvol")
CLASSES = ("accurate", "candidate", "rejected")
