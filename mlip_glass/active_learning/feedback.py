"""MLIP feedback runs: equilibrate a structure hot with the current potential, quench it fast.

SPEC.md §5 item 7: "138 equilibration + fast-quench runs with the trained MLIP, final structures
labelled single point". The run is potential-agnostic (any object with ``species`` and
``setup_lammps(lmp)``, e.g. :class:`mlip_glass.properties.potentials.NEPPotential`) and uses
:class:`mlip_glass.utils.lammps_session.LammpsSession` (metal units: K, ps, bar inside LAMMPS).
"""

from __future__ import annotations

import logging

import numpy as np

from mlip_glass.active_learning.constants import FEEDBACK_PDAMP_FS, FEEDBACK_TDAMP_FS
from mlip_glass.active_learning.protocols import FeedbackMDProtocol
from mlip_glass.errors import ProtocolError

logger = logging.getLogger(__name__)


def _check_positive(name: str, value: float) -> None:
    if not np.isfinite(value) or value <= 0:
        raise ProtocolError(f"{name} must be a positive finite number, got {value!r}")


#: a pair closer than this (Å) means the MLIP run has collapsed (the ZBL outer cutoff of the paper's NEP)
COLLAPSE_DISTANCE_A = 1.8
#: a volume change by more than this factor (either way) means the MLIP run has exploded
EXPLOSION_VOLUME_FACTOR = 1.5


def min_pair_distance(atoms) -> float:
    """Smallest interatomic distance (Å) under periodic boundary conditions (inf for < 2 atoms)."""
    from ase.neighborlist import neighbor_list

    if len(atoms) < 2:
        return float("inf")
    distances = neighbor_list("d", atoms, COLLAPSE_DISTANCE_A * 1.5)
    return float(distances.min()) if len(distances) else float("inf")


def unphysical_reason(atoms, energy_ev: float, volume0: float) -> str | None:
    """Why a snapshot of an MLIP run is unphysical (None if it is fine): non-finite energy or positions,
    a pair closer than :data:`COLLAPSE_DISTANCE_A`, or a volume change beyond :data:`EXPLOSION_VOLUME_FACTOR`."""
    if not np.isfinite(energy_ev) or not np.all(np.isfinite(atoms.positions)):
        return f"non-finite energy ({energy_ev})"
    factor = atoms.get_volume() / volume0
    if not 1 / EXPLOSION_VOLUME_FACTOR <= factor <= EXPLOSION_VOLUME_FACTOR:
        return f"volume changed by a factor {factor:.3g}"
    dmin = min_pair_distance(atoms)
    if dmin < COLLAPSE_DISTANCE_A:
        return f"atoms collapsed (closest pair {dmin:.2f} Å < {COLLAPSE_DISTANCE_A} Å)"
    return None


def feedback_trajectory(
    structure,
    potential,
    seed: int,
    protocol: FeedbackMDProtocol | None = None,
    snapshot_every: int | None = None,
    tdamp_fs: float = FEEDBACK_TDAMP_FS,
    pdamp_fs: float = FEEDBACK_PDAMP_FS,
):
    """The run of ``protocol`` (default :class:`FeedbackMDProtocol`): equilibrate at ``t_equil_k`` K for
    ``equil_steps``, quench linearly to ``t_final_k`` K over ``quench_steps`` (NPT at ``pressure_gpa``, NVT if
    None; thermostat/barostat damping ``tdamp_fs``/``pdamp_fs``), checking the state every ``snapshot_every`` steps.

    Returns ``(snapshots, summary)``: ``snapshots`` is a list of ``(step, temperature_K, Atoms)`` taken every
    ``snapshot_every`` steps (None: only the final state). A run that turns unphysical (see
    :func:`unphysical_reason`) or whose MD raises stops there: ``summary["failed"]`` names why and the snapshots
    taken *before* it are returned — they are the states the MLIP reached just before it broke, the
    candidates active learning needs most. Velocities come from ``seed`` (same seed, same trajectory).
    """
    from mlip_glass.utils.lammps_session import LammpsSession

    p = protocol or FeedbackMDProtocol()
    t_equil, t_final, equil_steps, quench_steps = p.t_equil_k, p.t_final_k, p.equil_steps, p.quench_steps
    timestep_fs, pressure_gpa = p.timestep_fs, p.pressure_gpa
    for name, value in (("t_equil_k", t_equil), ("t_final_k", t_final), ("timestep_fs", timestep_fs),
                        ("tdamp_fs", tdamp_fs), ("pdamp_fs", pdamp_fs)):
        _check_positive(name, value)
    if not 1 <= int(seed) < 2**31:
        raise ProtocolError(f"seed must be in [1, 2^31), got {seed}")
    if snapshot_every is not None and int(snapshot_every) < 1:
        raise ProtocolError(f"snapshot_every must be >= 1 step or None, got {snapshot_every}")
    dt_ps = timestep_fs * 1e-3
    total = int(equil_steps) + int(quench_steps)
    every = int(snapshot_every) if snapshot_every else total
    ensemble = (
        f"npt temp {{t0!r}} {{t1!r}} {tdamp_fs * 1e-3!r} iso {pressure_gpa * 1e4!r} {pressure_gpa * 1e4!r} "
        f"{pdamp_fs * 1e-3!r}" if pressure_gpa is not None else f"nvt temp {{t0!r}} {{t1!r}} {tdamp_fs * 1e-3!r}"
    )

    def temperature_at(step: int) -> float:
        if step <= int(equil_steps):
            return float(t_equil)
        return float(t_equil + (t_final - t_equil) * (step - int(equil_steps)) / int(quench_steps))

    snapshots: list = []
    failed = None
    step = 0
    with LammpsSession(structure, potential) as session:
        volume0 = session.atoms.get_volume()
        session.commands([f"timestep {dt_ps!r}",
                          f"velocity all create {t_equil!r} {int(seed)} dist gaussian mom yes rot yes"])
        while step < total and failed is None:
            stop = min(total, step + every)
            if step < int(equil_steps):  # never let one chunk straddle the start of the quench
                stop = min(stop, int(equil_steps))
            t0, t1 = temperature_at(step), temperature_at(stop)
            try:
                session.commands([f"fix mlg_md all {ensemble.format(t0=t0, t1=t1)}", f"run {stop - step}",
                                  "unfix mlg_md"])
                atoms = session.current_atoms()
                energy = session.energy()
            except Exception as exc:  # noqa: BLE001 - LAMMPS errors (lost atoms, bad box) end the run
                failed = f"{type(exc).__name__}: {exc}"
                break
            failed = unphysical_reason(atoms, energy, volume0)
            if failed is None:
                step = stop
                if snapshot_every or step == total:
                    snapshots.append((step, t1, atoms))
                last = {"temperature_K": float(session.lmp.get_thermo("temp")), "energy_eV": energy,
                        "pressure_GPa": session.pressure_gpa()}
    summary = {"steps_done": step, "steps_requested": total, "n_snapshots": len(snapshots),
               "quench_rate_K_per_ps": (t_equil - t_final) / (int(quench_steps) * dt_ps), "seed": int(seed),
               "failed": failed}
    if snapshots:
        summary.update(last)
    if failed:
        logger.warning("feedback run seed %d stopped at step %d/%d: %s (%d snapshots kept)", seed, step, total,
                       failed, len(snapshots))
    return snapshots, summary


def equilibrate_and_quench(structure, potential, seed: int, **kwargs):
    """One feedback run → ``(final ASE Atoms, summary)`` (see :func:`feedback_trajectory`); raises
    ``RuntimeError`` if the run turned unphysical before its end."""
    kwargs.pop("snapshot_every", None)
    snapshots, summary = feedback_trajectory(structure, potential, seed, **kwargs)
    if summary["failed"] or not snapshots:
        raise RuntimeError(f"feedback run failed: {summary['failed']}")
    logger.info("feedback run seed %d: T=%.0f K, E=%.3f eV", seed, summary["temperature_K"], summary["energy_eV"])
    return snapshots[-1][2], summary


def choose_start_structures(docs: list[dict], n: int, seed: int) -> list[dict]:
    """Pick ``n`` surrogate documents spread over cooling lengths (round-robin, seeded shuffle inside).

    ``docs`` are surrogate-state outputs with ``cooling_length`` and ``structure_hash``. Cooling lengths
    are visited in increasing order and one structure is taken from each in turn, so ``n`` smaller than
    the number of cooling lengths still spans slow and fast cooling. Repeats only if ``n > len(docs)``.
    """
    if n < 1:
        raise ProtocolError(f"n (number of feedback runs) must be >= 1, got {n}")
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
