"""MLIP feedback runs: equilibrate a structure hot with the current potential, quench it fast.

SPEC.md §5 item 7: "138 equilibration + fast-quench runs with the trained MLIP, final structures
labelled single point". The run is potential-agnostic (any object with ``species`` and
``setup_lammps(lmp)``, e.g. :class:`mlip_glass.properties.potentials.NEPPotential`) and uses
:class:`mlip_glass.properties.lammps_session.LammpsSession` (metal units: K, ps, bar inside LAMMPS).
"""

from __future__ import annotations

import logging

import numpy as np

from mlip_glass.active_learning.constants import (
    FEEDBACK_EQUIL_STEPS,
    FEEDBACK_PDAMP_FS,
    FEEDBACK_PRESSURE_GPA,
    FEEDBACK_QUENCH_STEPS,
    FEEDBACK_T_EQUIL_K,
    FEEDBACK_T_FINAL_K,
    FEEDBACK_TDAMP_FS,
    FEEDBACK_TIMESTEP_FS,
)

logger = logging.getLogger(__name__)


def _check_positive(name: str, value: float) -> None:
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")


def equilibrate_and_quench(
    structure,
    potential,
    seed: int,
    t_equil: float = FEEDBACK_T_EQUIL_K,
    t_final: float = FEEDBACK_T_FINAL_K,
    equil_steps: int = FEEDBACK_EQUIL_STEPS,
    quench_steps: int = FEEDBACK_QUENCH_STEPS,
    timestep_fs: float = FEEDBACK_TIMESTEP_FS,
    tdamp_fs: float = FEEDBACK_TDAMP_FS,
    pdamp_fs: float = FEEDBACK_PDAMP_FS,
    pressure_gpa: float | None = FEEDBACK_PRESSURE_GPA,
):
    """NPT (or NVT if ``pressure_gpa`` is None) equilibration at ``t_equil`` K for ``equil_steps``, then a
    linear quench to ``t_final`` K over ``quench_steps``; returns ``(final ASE Atoms, summary dict)``.

    Velocities are drawn from a Maxwell–Boltzmann distribution with ``seed`` (LAMMPS ``velocity create``),
    so the same seed gives the same trajectory. The summary holds the final temperature (K), potential
    energy (eV) and pressure (GPa) and the quench rate (K/ps).
    """
    from mlip_glass.properties.lammps_session import LammpsSession

    for name, value in (("t_equil", t_equil), ("t_final", t_final), ("timestep_fs", timestep_fs),
                        ("tdamp_fs", tdamp_fs), ("pdamp_fs", pdamp_fs)):
        _check_positive(name, value)
    if int(equil_steps) < 0 or int(quench_steps) < 1:
        raise ValueError(f"equil_steps must be >= 0 and quench_steps >= 1, got {equil_steps}, {quench_steps}")
    if not 1 <= int(seed) < 2**31:
        raise ValueError(f"seed must be in [1, 2^31), got {seed}")
    dt_ps = timestep_fs * 1e-3
    with LammpsSession(structure, potential) as session:
        ensemble = (
            f"npt temp {{t0!r}} {{t1!r}} {tdamp_fs * 1e-3!r} iso {pressure_gpa * 1e4!r} {pressure_gpa * 1e4!r} "
            f"{pdamp_fs * 1e-3!r}" if pressure_gpa is not None else f"nvt temp {{t0!r}} {{t1!r}} {tdamp_fs * 1e-3!r}"
        )
        session.commands([
            f"timestep {dt_ps!r}",
            f"velocity all create {t_equil!r} {int(seed)} dist gaussian mom yes rot yes",
        ])
        if int(equil_steps) > 0:
            session.commands([
                f"fix mlg_md all {ensemble.format(t0=t_equil, t1=t_equil)}",
                f"run {int(equil_steps)}",
                "unfix mlg_md",
            ])
        session.commands([
            f"fix mlg_md all {ensemble.format(t0=t_equil, t1=t_final)}",
            f"run {int(quench_steps)}",
            "unfix mlg_md",
        ])
        atoms = session.current_atoms()
        summary = {
            "temperature_K": float(session.lmp.get_thermo("temp")),
            "energy_eV": session.energy(),
            "pressure_GPa": session.pressure_gpa(),
            "quench_rate_K_per_ps": (t_equil - t_final) / (int(quench_steps) * dt_ps),
            "seed": int(seed),
        }
    logger.info("feedback run seed %d: T=%.0f K, E=%.3f eV", seed, summary["temperature_K"], summary["energy_eV"])
    return atoms, summary


def choose_start_structures(docs: list[dict], n: int, seed: int) -> list[dict]:
    """Pick ``n`` surrogate documents spread over cooling lengths (round-robin, seeded shuffle inside).

    ``docs`` are surrogate-state outputs with ``cooling_length`` and ``structure_hash``. Cooling lengths
    are visited in increasing order and one structure is taken from each in turn, so ``n`` smaller than
    the number of cooling lengths still spans slow and fast cooling. Repeats only if ``n > len(docs)``.
    """
    if n < 1:
        raise ValueError(f"n (number of feedback runs) must be >= 1, got {n}")
    if not docs:
        raise ValueError("no surrogate structures found to start feedback runs from")
    rng = np.random.default_rng(seed)
    groups: dict[float, list[dict]] = {}
    for doc in sorted(docs, key=lambda d: d["structure_hash"]):
        groups.setdefault(float(doc.get("cooling_length") or 0.0), []).append(doc)
    queues = []
    for length in sorted(groups):
        group = groups[length]
        queues.append([group[i] for i in rng.permutation(len(group))])
    chosen: list[dict] = []
    while len(chosen) < n:
        for queue in queues:
            if len(chosen) < n:
                chosen.append(queue[(len(chosen) // len(queues)) % len(queue)])
    return chosen
