"""atomate2 VASP input-set generators carrying the paper's settings (SPEC.md §4).

- :class:`PaperStaticSetGenerator`: single point (NSW 0), stress and forces written (ISIF 2).
- :class:`PaperRelaxSetGenerator`: ions + volume + shape (ISIF 3), forces to 0.01 eV/Å (EDIFFG -0.01).
- :class:`PaperMDSetGenerator`: NPT Langevin (MDALGO 3, ISIF 3), POTIM 1 fs, 60 steps heating
  TEBEG → TEEND = 2000 K, LANGEVIN_GAMMA 20 ps^-1 for every species, LANGEVIN_GAMMA_L 5 ps^-1, PMASS.

atomate2's generic defaults that conflict (PBEsol ``GGA = PS`` of its base set, ``ISMEAR -5`` of its static
set, ``ENCUT 520`` / ``LANGEVIN_GAMMA 10`` / ``PMASS 10`` of its MD set, ...) are overridden; the user can
still override any key through ``user_incar_settings`` (``None`` removes a key).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from atomate2.vasp.sets.core import MDSetGenerator, RelaxSetGenerator, StaticSetGenerator

from mlip_glass.reference.constants import (
    EDIFF_EV,
    EDIFFG_EV_PER_A,
    ENCUT_EV,
    ISIF_FULL_RELAX,
    ISMEAR_METAL,
    KSPACING_PER_A,
    SIGMA_METAL_EV,
)
from mlip_glass.reference.protocols import VASP_MD_FIELDS, AIMDProtocol

#: the paper's AIMD protocol, whose fields are the MD set's defaults
_PAPER_AIMD = AIMDProtocol()

#: INCAR keys common to every calculation of the paper
PAPER_COMMON_INCAR = {
    "GGA": "Pe",  # PBE (atomate2's base set is PBEsol, "PS")
    "ENCUT": ENCUT_EV,
    "KSPACING": KSPACING_PER_A,
    "KGAMMA": False,  # Monkhorst–Pack mesh, as in the paper
    "EDIFF": EDIFF_EV,
    "ISMEAR": ISMEAR_METAL,
    "SIGMA": SIGMA_METAL_EV,
    "ISPIN": 1,
}

#: extra INCAR keys of each calculation type
#: (static: VASP's defaults for NSW = 0 are IBRION = -1 and ISIF = 2, i.e. forces and stress are computed;
#: pymatgen drops explicit IBRION/ISIF from a NSW = 0 INCAR)
PAPER_STATIC_INCAR = {"NSW": 0}
PAPER_RELAX_INCAR = {"NSW": 200, "IBRION": 2, "ISIF": ISIF_FULL_RELAX, "EDIFFG": EDIFFG_EV_PER_A}


#: atomate2 defaults that only write large extra files; switched off (not part of the paper's protocol)
TRIM_OUTPUTS_INCAR = {
    "LAECHG": False, "LVTOT": False, "LELF": False, "LORBIT": None, "LWAVE": False, "LCHARG": False,
}


def paper_md_incar(n_species: int, protocol: AIMDProtocol | dict | None = None, **md_kwargs) -> dict:
    """The paper's AIMD INCAR keys (NPT Langevin heating) for a structure with ``n_species`` species.

    ``protocol``: an :class:`AIMDProtocol` (default: the paper's); ``md_kwargs`` (``nsteps``,
    ``start_temp``, ``end_temp``, ``time_step``, ``gamma``, ``gamma_lattice``, ``pmass``, ``pressure_gpa``)
    override its fields."""
    return AIMDProtocol.from_any(protocol, **md_kwargs).vasp_incar(n_species)


def paper_incar(kind: str, structure=None, **md_kwargs) -> dict:
    """The INCAR the paper implies for ``kind`` in ``{"static", "relax", "md"}`` (independent of atomate2)."""
    if kind == "static":
        return {**PAPER_COMMON_INCAR, **PAPER_STATIC_INCAR}
    if kind == "relax":
        return {**PAPER_COMMON_INCAR, **PAPER_RELAX_INCAR}
    if kind == "md":
        n_species = 1 if structure is None else len(structure.composition.elements)
        return {**PAPER_COMMON_INCAR, **paper_md_incar(n_species, **md_kwargs)}
    raise ValueError(f"kind must be 'static', 'relax' or 'md', got {kind!r}")


def paper_updates(base_updates: dict, kind: str, structure=None, **md_kwargs) -> dict:
    """atomate2's INCAR updates of a set, with extra output files switched off and the paper's keys on top."""
    updates = dict(base_updates)
    updates.update(TRIM_OUTPUTS_INCAR)
    updates.update(paper_incar(kind, structure, **md_kwargs))
    return updates


@dataclass
class PaperStaticSetGenerator(StaticSetGenerator):
    """atomate2 static set with the paper's single-point settings (forces and stress written)."""

    auto_ispin: bool = False
    auto_kspacing: bool = False

    @property
    def incar_updates(self) -> dict:
        return paper_updates(super().incar_updates, "static")


@dataclass
class PaperRelaxSetGenerator(RelaxSetGenerator):
    """atomate2 relax set with the paper's full relaxation (ions + volume + shape, 0.01 eV/Å)."""

    auto_ispin: bool = False
    auto_kspacing: bool = False

    @property
    def incar_updates(self) -> dict:
        return paper_updates(super().incar_updates, "relax")


@dataclass
class PaperMDSetGenerator(MDSetGenerator):
    """atomate2 MD set with the paper's NPT Langevin heating (MDALGO 3, ISIF 3).

    Parameters
    ----------
    ensemble
        Fixed to ``"npt"``.
    start_temp, end_temp
        TEBEG / TEEND (K). The paper heats from 0 K; VASP needs TEBEG > 0 (default 5 K).
    nsteps
        NSW (default 60).
    time_step
        POTIM (fs, default 1).
    langevin_gamma
        Friction of every species (ps^-1, default 20).
    langevin_gamma_l
        Lattice friction (ps^-1, default 5).
    pmass
        Lattice fictitious mass (amu, default 1000 = VASP's default; the paper does not state it).
    pressure_gpa
        External pressure (GPa) → PSTRESS (kbar).
    """

    ensemble: str = "npt"
    start_temp: float = _PAPER_AIMD.t_start_k
    end_temp: float = _PAPER_AIMD.t_end_k
    nsteps: int = _PAPER_AIMD.nsteps
    time_step: float = _PAPER_AIMD.timestep_fs
    langevin_gamma: float = _PAPER_AIMD.gamma_per_ps
    langevin_gamma_l: float = _PAPER_AIMD.gamma_lattice_per_ps
    pmass: float = _PAPER_AIMD.pmass_amu
    pressure_gpa: float = _PAPER_AIMD.pressure_gpa
    auto_ispin: bool = False
    auto_kspacing: bool = False

    @classmethod
    def from_protocol(cls, protocol: AIMDProtocol, **kwargs) -> PaperMDSetGenerator:
        """The set of an :class:`AIMDProtocol` (``kwargs``: other generator fields)."""
        return cls(**protocol.vasp_fields(), **kwargs)

    @property
    def protocol(self) -> AIMDProtocol:
        """This set's MD keys as an :class:`AIMDProtocol`."""
        return AIMDProtocol.from_any(None, **{k: getattr(self, k) for k in VASP_MD_FIELDS.values()})

    def with_protocol(self, protocol: AIMDProtocol) -> PaperMDSetGenerator:
        """A copy running ``protocol``."""
        return dataclasses.replace(self, **protocol.vasp_fields())

    @property
    def incar_updates(self) -> dict:
        # atomate2's MD defaults that the paper does not use are removed (None)
        base = {**super().incar_updates, "ENCUT": None, "PREC": None, "KBLOCK": None, "EDIFFG": None}
        return paper_updates(base, "md", self.structure, protocol=self.protocol)


def incar_diff(written: dict, paper: dict) -> dict:
    """``{key: (written, paper)}`` for every paper key whose written value differs (case-insensitive
    strings, float tolerance 1e-12); an empty dict means no difference."""
    diff = {}
    for key, want in paper.items():
        have = written.get(key)
        if not _same(have, want):
            diff[key] = (have, want)
    return diff


def _same(a, b) -> bool:
    if isinstance(a, str) or isinstance(b, str):
        return str(a).strip().lower() == str(b).strip().lower()
    if isinstance(a, (list, tuple)) or isinstance(b, (list, tuple)):
        return (
            isinstance(a, (list, tuple))
            and isinstance(b, (list, tuple))
            and len(a) == len(b)
            and all(_same(x, y) for x, y in zip(a, b))
        )
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b or a == b
    try:
        return abs(float(a) - float(b)) <= 1e-12 * max(1.0, abs(float(b)))
    except (TypeError, ValueError):
        return a == b
