"""Closed-loop checks of a NEP against its reference engine on the campaign's held-out frames.

Three checks, each a plain function of a NEP potential and held-out frames (ASE Atoms with labels):

- :func:`heldout_errors` — E/F/virial RMSE per held-out category (calorine ``CPUNEP``);
- :func:`md_stability` — NVT MD at ``t_k`` from held-out frames: no pair closer than 1.8 Å, finite energy;
- :func:`relaxation_volume_change` — NEP box relaxation of the reference-relaxed glasses: volume change (%);
- :func:`energy_parity` — NEP vs reference energies of the reference-relaxed glasses: slope and RMSE.

:func:`selection_score` turns the errors into one number (lower is better) used to keep the best model.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence

import numpy as np
from ase import Atoms

logger = logging.getLogger(__name__)

#: goals of a usable model on held-out frames (issue 12): force RMSE (meV/Å) and energy RMSE (meV/atom)
GOAL_FORCE_RMSE_MEV_PER_A = 150.0
GOAL_ENERGY_RMSE_MEV_PER_ATOM = 15.0
#: a relaxed cell must keep its volume within this fraction of the reference-relaxed one
GOAL_RELAX_VOLUME_FRACTION = 0.03
#: temperature (K) and length (steps of 1 fs) of the MD stability check
STABILITY_T_K = 1200.0
STABILITY_STEPS = 2000
#: frames of each kind used by the MD and relaxation checks
N_STABILITY_RUNS = 2
N_RELAX_CHECKS = 2


def heldout_errors(nep_txt: str, frames: Sequence[Atoms]) -> dict[str, dict[str, float]]:
    """RMSE/MAE of the model (path to a nep.txt) per ``config_type`` and ``all``: energy (meV/atom), force
    (meV/Å), virial (meV/atom)."""
    from mlip_glass.nep.evaluate import error_table

    if not frames:
        raise ValueError("heldout_errors needs at least one held-out frame")
    return error_table(nep_txt, {"heldout": list(frames)})["heldout"]


def selection_score(errors: dict[str, dict[str, float]]) -> float:
    """One number per model, lower is better: F RMSE / 150 meV/Å + E RMSE / 15 meV/atom over all frames
    (each term is 1 at the usable-model goal)."""
    row = errors["all"]
    return float(row["rmse_force_meV_per_A"] / GOAL_FORCE_RMSE_MEV_PER_A
                 + row["rmse_energy_meV_per_atom"] / GOAL_ENERGY_RMSE_MEV_PER_ATOM)


def md_stability(potential, frames: Sequence[Atoms], t_k: float = STABILITY_T_K, steps: int = STABILITY_STEPS,
                 seed: int = 1, check_every: int = 100) -> dict:
    """NVT MD with ``potential`` at ``t_k`` K for ``steps`` × 1 fs from each frame; a run is stable if no pair comes
    closer than 1.8 Å, the energy stays finite and LAMMPS does not fail (checked every ``check_every`` steps)."""
    from mlip_glass.active_learning.feedback import feedback_trajectory, min_pair_distance
    from mlip_glass.active_learning.protocols import FeedbackMDProtocol

    nvt = FeedbackMDProtocol(t_equil_k=t_k, t_final_k=t_k, equil_steps=steps - 1, quench_steps=1, pressure_gpa=None)
    runs = []
    for i, frame in enumerate(frames):
        snapshots, summary = feedback_trajectory(frame, potential, seed + i, nvt, snapshot_every=check_every)
        dmin = min((min_pair_distance(a) for _, _, a in snapshots), default=float("nan"))
        runs.append({"stable": summary["failed"] is None, "failed": summary["failed"],
                     "steps_done": summary["steps_done"], "min_pair_distance_A": float(dmin)})
    return {"t_k": float(t_k), "steps": int(steps), "timestep_fs": 1.0, "runs": runs,
            "stable": bool(runs) and all(r["stable"] for r in runs)}


def relaxation_volume_change(potential, frames: Sequence[Atoms], fmax: float = 1e-2) -> dict:
    """Box-relax each reference-relaxed frame with ``potential``; relative volume change (%) of each."""
    from mlip_glass.properties.relax import relax

    changes, failures = [], []
    for frame in frames:
        try:
            relaxed, _ = relax(frame, potential, fmax=fmax, relax_cell=True)
            changes.append(float(100.0 * (relaxed.get_volume() / frame.get_volume() - 1.0)))
        except Exception as exc:  # noqa: BLE001 - an exploding relaxation is a result of the check
            failures.append(f"{type(exc).__name__}: {exc}")
            changes.append(float("nan"))
    finite = [abs(c) for c in changes if math.isfinite(c)]
    worst = max(finite) if len(finite) == len(changes) and finite else float("inf")
    return {"volume_change_percent": changes, "max_abs_volume_change_percent": worst, "failures": failures,
            "within_goal": bool(worst <= 100 * GOAL_RELAX_VOLUME_FRACTION)}


def energy_parity(nep_txt: str, frames: Sequence[Atoms]) -> dict:
    """Least-squares slope (through the mean) and RMSE (meV/atom) of e(NEP) vs e(reference) per atom."""
    from mlip_glass.nep.evaluate import predict, reference

    if len(frames) < 2:
        raise ValueError(f"energy_parity needs >= 2 frames, got {len(frames)}")
    pred, ref = predict(nep_txt, frames)["energy"], reference(frames)["energy"]
    dx = ref - ref.mean()
    slope = float((dx @ (pred - pred.mean())) / (dx @ dx)) if float(dx @ dx) > 0 else float("nan")
    rmse = float(np.sqrt(np.mean((pred - ref) ** 2)) * 1000.0)
    return {"n": int(len(frames)), "slope": slope, "rmse_meV_per_atom": rmse}
