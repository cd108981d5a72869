"""The paper's labelling protocols as objects passed whole (like :class:`~mlip_glass.nep.settings.NEPSettings`).

:class:`AIMDProtocol` (NPT Langevin heating, SPEC §4) and :class:`RelaxProtocol` (full relaxation) carry the
paper's numbers (:mod:`mlip_glass.reference.constants`) as defaults and check their ranges once. Makers take
one protocol; :meth:`~ProtocolBase.from_any` builds one from an instance, a dict or None with keyword overrides.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

import numpy as np

from mlip_glass.errors import ProtocolError
from mlip_glass.reference.constants import (
    AIMD_LANGEVIN_GAMMA_L_PER_PS,
    AIMD_LANGEVIN_GAMMA_PER_PS,
    AIMD_PMASS_AMU,
    AIMD_PRESSURE_GPA,
    AIMD_STEPS,
    AIMD_T_END_K,
    AIMD_T_START_K,
    AIMD_TIMESTEP_FS,
    RELAX_FMAX_EV_PER_A,
    RELAX_MAX_STEPS,
)

#: other names of the AIMD fields: atomate2's ``MDSetGenerator`` / :class:`PaperMDSetGenerator` and
#: :func:`~mlip_glass.reference.vasp_sets.paper_md_incar`
AIMD_ALIASES = {
    "start_temp": "t_start_k",
    "end_temp": "t_end_k",
    "time_step": "timestep_fs",
    "langevin_gamma": "gamma_per_ps",
    "gamma": "gamma_per_ps",
    "langevin_gamma_l": "gamma_lattice_per_ps",
    "gamma_lattice": "gamma_lattice_per_ps",
    "pmass": "pmass_amu",
}
#: AIMDProtocol field → the field of :class:`~mlip_glass.reference.vasp_sets.PaperMDSetGenerator`
VASP_MD_FIELDS = {
    "nsteps": "nsteps",
    "t_start_k": "start_temp",
    "t_end_k": "end_temp",
    "timestep_fs": "time_step",
    "gamma_per_ps": "langevin_gamma",
    "gamma_lattice_per_ps": "langevin_gamma_l",
    "pmass_amu": "pmass",
    "pressure_gpa": "pressure_gpa",
}


def parse_keep(keep) -> int | None:
    """Normalise a relax ``keep`` option: ``"last"`` → None, ``"all"`` → 1, int k ≥ 1 → k (every k-th step)."""
    if keep in (None, "last"):
        return None
    if keep == "all":
        return 1
    if isinstance(keep, (int, np.integer)) and not isinstance(keep, bool) and keep >= 1:
        return int(keep)
    raise ProtocolError(f"keep must be 'last', 'all' or an integer >= 1 (every k-th step), got {keep!r}")


def merge_protocol(cls, protocol, aliases: dict, overrides: dict):
    """``protocol`` (None, instance or dict) with the not-None ``overrides`` (any alias) on top."""
    if protocol is None:
        values: dict[str, Any] = {}
    elif isinstance(protocol, cls):
        values = dataclasses.asdict(protocol)
    elif isinstance(protocol, dict):
        values = {k: v for k, v in protocol.items() if not k.startswith("@")}
    else:
        raise TypeError(f"protocol must be a {cls.__name__}, a dict or None, got {type(protocol).__name__}")
    for key, value in overrides.items():
        if value is not None:
            values[aliases.get(key, key)] = value
    values = {aliases.get(k, k): v for k, v in values.items()}
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - names)
    if unknown:
        raise TypeError(f"{cls.__name__} has no field(s) {unknown}; fields: {sorted(names)}")
    return cls(**values)


_P = TypeVar("_P", bound="ProtocolBase")


class ProtocolBase:
    """What every protocol dataclass shares: :meth:`from_any` (an instance, a dict or None, with keyword overrides
    on top; the names in :attr:`ALIASES` accepted too)."""

    ALIASES: ClassVar[dict[str, str]] = {}

    @classmethod
    def from_any(cls: type[_P], protocol: Any = None, **overrides: Any) -> _P:
        """``protocol`` (instance, dict or None) with the not-None keyword ``overrides`` on top."""
        return merge_protocol(cls, protocol, cls.ALIASES, overrides)


@dataclass(frozen=True)
class AIMDProtocol(ProtocolBase):
    """NPT Langevin heating; every MD step is a training frame (SPEC §4).

    Parameters
    ----------
    nsteps
        MD steps (paper: ~60).
    t_start_k, t_end_k
        Linear temperature ramp (K); the paper heats from 0 K, VASP needs a start > 0 (5 K).
    timestep_fs
        Time step (fs).
    gamma_per_ps, gamma_lattice_per_ps
        Langevin friction of every species and of the lattice (ps^-1; paper 20 and 5).
    pressure_gpa
        Target pressure (GPa).
    pmass_amu
        Fictitious lattice mass (amu; VASP only, not stated in the paper).
    """

    nsteps: int = AIMD_STEPS
    t_start_k: float = AIMD_T_START_K
    t_end_k: float = AIMD_T_END_K
    timestep_fs: float = AIMD_TIMESTEP_FS
    gamma_per_ps: float = AIMD_LANGEVIN_GAMMA_PER_PS
    gamma_lattice_per_ps: float = AIMD_LANGEVIN_GAMMA_L_PER_PS
    pressure_gpa: float = AIMD_PRESSURE_GPA
    pmass_amu: float = AIMD_PMASS_AMU
    #: VASP names (``start_temp``, ``langevin_gamma``, ...) accepted by :meth:`from_any`
    ALIASES: ClassVar[dict[str, str]] = AIMD_ALIASES

    def __post_init__(self):
        if self.nsteps < 1:
            raise ProtocolError(f"nsteps must be >= 1, got {self.nsteps}")
        if not (0 < self.t_start_k and 0 < self.t_end_k <= 1e5):
            raise ProtocolError(f"temperatures must be in (0, 1e5] K, got {self.t_start_k}, {self.t_end_k}")
        if not 0 < self.timestep_fs <= 10:
            raise ProtocolError(f"timestep_fs must be in (0, 10] fs, got {self.timestep_fs}")
        if self.gamma_per_ps <= 0 or self.gamma_lattice_per_ps <= 0:
            raise ProtocolError("Langevin frictions must be > 0 ps^-1")

    def engine_kwargs(self) -> dict[str, Any]:
        """Keywords of :meth:`ReferenceEngine.aimd` (every field but the VASP-only ``pmass_amu``)."""
        return {k: v for k, v in dataclasses.asdict(self).items() if k != "pmass_amu"}

    def vasp_fields(self) -> dict[str, Any]:
        """The fields under their :class:`~mlip_glass.reference.vasp_sets.PaperMDSetGenerator` names."""
        return {VASP_MD_FIELDS[k]: v for k, v in dataclasses.asdict(self).items()}

    def vasp_incar(self, n_species: int) -> dict[str, Any]:
        """The paper's AIMD INCAR keys (VASP MDALGO 3 NPT Langevin heating) for ``n_species`` species."""
        return {
            "IBRION": 0,
            "MDALGO": 3,
            "ISIF": 3,
            "POTIM": self.timestep_fs,
            "NSW": self.nsteps,
            "TEBEG": self.t_start_k,
            "TEEND": self.t_end_k,
            "LANGEVIN_GAMMA": [self.gamma_per_ps] * n_species,
            "LANGEVIN_GAMMA_L": self.gamma_lattice_per_ps,
            "PMASS": self.pmass_amu,
            "PSTRESS": self.pressure_gpa * 10.0,  # kbar
            "ISYM": 0,
        }


@dataclass(frozen=True)
class RelaxProtocol(ProtocolBase):
    """Full relaxation (ions + cell) to a force tolerance.

    Parameters
    ----------
    fmax
        Force tolerance (eV/Å; paper |EDIFFG| = 0.01).
    max_steps
        Cap on ionic steps.
    keep
        Frames kept per relaxation: ``"last"``, ``"all"`` or every k-th ionic step (plus the last).
    """

    fmax: float = RELAX_FMAX_EV_PER_A
    max_steps: int = RELAX_MAX_STEPS
    keep: Any = "last"

    def __post_init__(self):
        parse_keep(self.keep)
        if self.fmax <= 0:
            raise ProtocolError(f"fmax must be > 0 eV/Å, got {self.fmax}")
        if self.max_steps < 1:
            raise ProtocolError(f"max_steps must be >= 1, got {self.max_steps}")

    def engine_kwargs(self) -> dict[str, Any]:
        """Keywords of :meth:`ReferenceEngine.relax`."""
        return dataclasses.asdict(self)

