"""What every swap-MC kernel shares: the result document, the pair tables, the input checks and the
acceptance summary (:mod:`~mlip_glass.surrogate.swap_mc`, minimum image; :mod:`~mlip_glass.surrogate.small_box`,
every periodic image)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from pymatgen.core import Structure

from mlip_glass.surrogate.model import LJModel, SurrogateInputError

#: default number of energy-trace points per run
DEFAULT_TRACE_POINTS = 1000


@dataclass
class SwapMCResult:
    """Outcome of :func:`~mlip_glass.surrogate.swap_mc.swap_mc` (energies in reduced units and eV; structure in Å)."""

    structure: Structure
    energy: float  #: total potential energy, eV
    energy_reduced: float  #: total potential energy, eps_ref
    n_sweeps: int
    sweeps_done: int
    t_start: float
    t_end: float
    seed: int
    trace_sweeps: np.ndarray  #: sweep index (1-based count) of each trace point
    trace_energy_per_atom: np.ndarray  #: reduced energy per atom
    trace_temperature: np.ndarray  #: reduced temperature
    acceptance: dict  #: attempted/accepted per move type and rates
    rng_state: list
    wall_time_s: float  #: wall time of the sweeps (set-up excluded), s
    completed: bool = True
    settings: dict = field(default_factory=dict)
    cpu_time_s: float = float("nan")  #: process CPU time of the sweeps, s

    @property
    def n_atoms(self) -> int:
        return len(self.structure)


def pair_tables(model: LJModel):
    t = model.pair_tables()
    return (
        np.ascontiguousarray((t["sigma"] ** 2).ravel()),
        np.ascontiguousarray((4.0 * t["epsilon"]).ravel()),
        np.ascontiguousarray((t["rcut"] ** 2).ravel()),
        np.ascontiguousarray(t["shift"].ravel()),
        float(t["rcut"].max()),
    )


def validate_run(model: LJModel, t_start, t_end, n_sweeps, delta_r_max, swap_fraction, swap_species, seed):
    """SurrogateInputError naming the first swap-MC argument out of its range."""
    if swap_species is not None and swap_species not in model.species:
        raise SurrogateInputError(f"swap_species must be one of {model.species} or None, got {swap_species!r}")
    if not (np.isfinite(t_start) and t_start > 0):
        raise SurrogateInputError(f"t_start must be a finite reduced temperature > 0, got {t_start}")
    if not (np.isfinite(t_end) and t_end > 0):
        raise SurrogateInputError(f"t_end must be a finite reduced temperature > 0, got {t_end}")
    if int(n_sweeps) != n_sweeps or n_sweeps < 1:
        raise SurrogateInputError(f"n_sweeps must be an integer >= 1, got {n_sweeps}")
    if not delta_r_max > 0:
        raise SurrogateInputError(f"delta_r_max must be > 0 (reduced length), got {delta_r_max}")
    if not 0 <= swap_fraction <= 1:
        raise SurrogateInputError(f"swap_fraction must be in [0, 1], got {swap_fraction}")
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise SurrogateInputError(f"seed must be an integer >= 0, got {seed!r}")


def trace_schedule(n_trace: int, n_sweeps: int) -> tuple[int, int]:
    """(trace points, sweeps between them): at most ``n_trace`` points evenly spaced over ``n_sweeps``."""
    trace_every = max(1, n_sweeps // max(1, min(int(n_trace), n_sweeps)))
    return n_sweeps // trace_every, trace_every


def swap_partners(types: np.ndarray, model: LJModel, swap_species: str | None) -> tuple[np.ndarray, np.ndarray]:
    """(sites of the swap species, sites of every other species); both empty without swaps."""
    if swap_species is None:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty.copy()
    st = model.species.index(swap_species)
    return np.flatnonzero(types == st).astype(np.int64), np.flatnonzero(types != st).astype(np.int64)


def acceptance_summary(arr_trans, swap_att, swap_acc, species) -> dict:
    """{'translation': {attempted, accepted, rate}, 'swap_Al-Cu': {...}, ...} (only attempted swap pairs)."""
    out = {"translation": {"attempted": int(arr_trans[0]), "accepted": int(arr_trans[1]),
                           "rate": float(arr_trans[1] / arr_trans[0]) if arr_trans[0] else 0.0}}
    for a, sa in enumerate(species):
        for b, sb in enumerate(species):
            if swap_att[a, b]:
                out[f"swap_{sa}-{sb}"] = {"attempted": int(swap_att[a, b]), "accepted": int(swap_acc[a, b]),
                                          "rate": float(swap_acc[a, b] / swap_att[a, b])}
    tot_a, tot_c = int(swap_att.sum()), int(swap_acc.sum())
    out["swap"] = {"attempted": tot_a, "accepted": tot_c, "rate": tot_c / tot_a if tot_a else 0.0}
    return out
