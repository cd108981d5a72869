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

from dataclasses import dataclass

from atomate2.vasp.sets.core import MDSetGenerator, RelaxSetGenerator, StaticSetGenerator

from mlip_glass.reference.constants import (
    AIMD_LANGEVIN_GAMMA_L_PER_PS,
    AIMD_LANGEVIN_GAMMA_PER_PS,
    AIMD_PMASS_AMU,
    AIMD_PRESSURE_GPA,
    AIMD_STEPS,
    AIMD_T_END_K,
    AIMD_T_START_K,
    AIMD_TIMESTEP_FS,
    EDIFF_EV,
    EDIFFG_EV_PER_A,
    ENCUT_EV,
    ISIF_FULL_RELAX,
    ISMEAR_METAL,
    KSPACING_PER_A,
    SIGMA_METAL_EV,
)

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


def paper_md_incar(
    n_species: int,
    nsteps: int = AIMD_STEPS,
    start_temp: float = AIMD_T_START_K,
    end_temp: float = AIMD_T_END_K,
    time_step: float = AIMD_TIMESTEP_FS,
    gamma: float = AIMD_LANGEVIN_GAMMA_PER_PS,
    gamma_lattice: float = AIMD_LANGEVIN_GAMMA_L_PER_PS,
    pmass: float = AIMD_PMASS_AMU,
    pressure_gpa: float = AIMD_PRESSURE_GPA,
) -> dict:
    """The paper's AIMD INCAR keys (NPT Langevin heating) for a structure with ``n_species`` species."""
    return {
        "IBRION": 0,
        "MDALGO": 3,
        "ISIF": 3,
        "POTIM": time_step,
        "NSW": nsteps,
        "TEBEG": start_temp,
        "TEEND": end_temp,
        "LANGEVIN_GAMMA": [gamma] * n_species,
        "LANGEVIN_GAMMA_L": gamma_lattice,
        "PMASS": pmass,
        "PSTRESS": pressure_gpa * 10.0,  # kbar
        "ISYM": 0,
    }


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
    start_temp: float = AIMD_T_START_K
    end_temp: float = AIMD_T_END_K
    nsteps: int = AIMD_STEPS
    time_step: float = AIMD_TIMESTEP_FS
    langevin_gamma: float = AIMD_LANGEVIN_GAMMA_PER_PS
    langevin_gamma_l: float = AIMD_LANGEVIN_GAMMA_L_PER_PS
    pmass: float = AIMD_PMASS_AMU
    pressure_gpa: float = AIMD_PRESSURE_GPA
    auto_ispin: bool = False
    auto_kspacing: bool = False

    @property
    def incar_updates(self) -> dict:
        # atomate2's MD defaults that the paper does not use are removed (None)
        base = {**super().incar_updates, "ENCUT": None, "PREC": None, "KBLOCK": None, "EDIFFG": None}
        return paper_updates(
            base, "md", self.structure, nsteps=self.nsteps, start_temp=self.start_temp, end_temp=self.end_temp,
            time_step=self.time_step, gamma=self.langevin_gamma, gamma_lattice=self.langevin_gamma_l,
            pmass=self.pmass, pressure_gpa=self.pressure_gpa,
        )


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
