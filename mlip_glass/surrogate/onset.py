"""Equilibrium runs that locate the onset of supercooling (T_on, e_IS,on) for the time-scale map."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

import numpy as np

from mlip_glass.surrogate import constants as C
from mlip_glass.surrogate.lammps_md import PREMINIMIZE, inherent_structure, lammps_for
from mlip_glass.surrogate.model import LJModel, SurrogateInputError
from mlip_glass.surrogate.state import random_liquid, to_reduced
from mlip_glass.surrogate.swap_mc import swap_mc

logger = logging.getLogger(__name__)

#: defaults of the onset runs (sweeps / reduced times); small enough for N = 150 in seconds
ONSET_EQUIL_SWEEPS = 2000
ONSET_SAMPLES = 4
ONSET_SAMPLE_EVERY = 500
#: temperatures (reduced) of the Arrhenius analysis: high-T liquid down to below the paper's T_on
ARRHENIUS_TEMPERATURES = (10.0, 8.0, 6.5, 5.5, 4.5, 4.0, 3.5, 3.0, 2.5, 2.2, 2.0)


def onset_is_energy(
    model: LJModel | None = None,
    t_on: float = C.PAPER_T_ONSET,
    n_atoms: int = C.PAPER_N_ATOMS,
    density: float = C.PAPER_DENSITY,
    composition: Mapping[str, float] | None = None,
    seed: int = 0,
    n_equil: int = ONSET_EQUIL_SWEEPS,
    n_samples: int = ONSET_SAMPLES,
    sample_every: int = ONSET_SAMPLE_EVERY,
) -> dict:
    """Mean IS energy per atom (reduced) of the equilibrium liquid at ``t_on``, sampled with swap-MC.

    Swap-MC equilibrates at ``t_on`` far faster than MD; ``n_samples`` configurations separated by
    ``sample_every`` sweeps (after ``n_equil`` sweeps) are minimised. Returns
    ``{"e_is_on", "stderr", "samples", "t_on"}`` (reduced energies per atom).
    """
    model = model or LJModel.paper()
    if not t_on > 0:
        raise SurrogateInputError(f"t_on must be > 0 (reduced temperature), got {t_on}")
    if n_samples < 1:
        raise SurrogateInputError(f"n_samples must be >= 1, got {n_samples}")
    s = random_liquid(n_atoms, density, composition, seed=seed, model=model)
    res = swap_mc(s, model, C.T_HIGH, t_on, n_equil // 2 or 1, seed=seed)
    res = swap_mc(res.structure, model, t_on, t_on, n_equil - n_equil // 2 or 1, seed=seed + 1)
    samples = []
    for k in range(n_samples):
        res = swap_mc(res.structure, model, t_on, t_on, sample_every, seed=seed + 2 + k)
        samples.append(inherent_structure(res.structure, model).energy_per_atom_reduced)
    arr = np.asarray(samples)
    err = float(arr.std(ddof=1) / np.sqrt(arr.size)) if arr.size > 1 else float("nan")
    return {"e_is_on": float(arr.mean()), "stderr": err, "samples": samples, "t_on": float(t_on)}


def diffusion_relaxation_times(
    model: LJModel | None = None,
    temperatures: Sequence[float] = ARRHENIUS_TEMPERATURES,
    n_atoms: int = C.PAPER_N_ATOMS,
    density: float = C.PAPER_DENSITY,
    seed: int = 0,
    t_equil: float = 10.0,
    t_run: float = 20.0,
    timestep: float = C.MD_TIMESTEP,
) -> dict:
    """Equilibrium NVT MD at each temperature; relaxation time tau = sigma^2 / D from the mean-squared
    displacement (D = MSD / 6t over ``t_run`` after ``t_equil``). Returns temperatures, D, tau (reduced)."""
    model = model or LJModel.paper()
    out_d = []
    for k, temp in enumerate(temperatures):
        if not temp > 0:
            raise SurrogateInputError(f"temperatures must be > 0, got {temp}")
        state = to_reduced(random_liquid(n_atoms, density, seed=seed + k, model=model), model)
        lmp = lammps_for(state, model)
        try:
            etol, ftol, mi, me = PREMINIMIZE
            lmp.command(f"minimize {etol} {ftol} {mi} {me}")
            lmp.command(f"velocity all create {temp} {seed + k + 1} dist gaussian mom yes rot no loop geom")
            lmp.command(f"timestep {timestep}")
            lmp.command(f"fix eq all nvt temp {temp} {temp} {C.MD_TDAMP}")
            lmp.command(f"run {int(round(t_equil / timestep))}")
            lmp.command("compute msd all msd com yes")
            lmp.command("thermo_style custom step temp c_msd[4]")
            lmp.command(f"run {int(round(t_run / timestep))}")
            msd = float(lmp.extract_compute("msd", 0, 1)[3])
        finally:
            lmp.close()
        out_d.append(msd / (6.0 * t_run))
        logger.info("T* = %.3f: D = %.4g", temp, out_d[-1])
    d = np.asarray(out_d)
    return {"temperatures": list(map(float, temperatures)), "diffusion": d.tolist(), "tau": (1.0 / d).tolist()}
