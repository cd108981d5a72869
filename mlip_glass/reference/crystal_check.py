"""Does a reference engine (or a potential) get the crystals right? Equations of state against published values.

:func:`equation_of_state` fits a Birch–Murnaghan E(V) to single points of a crystal scaled isotropically
(cell shape and c/a kept) and returns the equilibrium lattice constant and bulk modulus. It takes any
:class:`~mlip_glass.reference.base.ReferenceEngine` (CP2K, the EAM, a NEP through ``ASECalculatorEngine``),
so the same check judges the DFT settings and the potentials trained on their labels.

:data:`PBE_REFERENCES`: all-electron PBE equations of state of the elements (WIEN2k, the Delta test:
Lejaeghere et al., Science 351, aad3000 (2016); values as shipped in ``ase.collections.dcdft``), and the
experimental lattice constant of B2 CuZr (no all-electron PBE value is shipped; PBE typically overestimates
lattice constants of 4d/3d metals by ~0.5–1 %).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from ase import Atoms
from ase.build import bulk

from mlip_glass.errors import MLIPGlassError
from mlip_glass.units import EV_PER_A3_TO_GPA

#: lattice-constant scale factors of the equation of state (±3 %: ±9 % in volume)
EOS_SCALES = (0.97, 0.98, 0.99, 1.0, 1.01, 1.02, 1.03)


@dataclass(frozen=True)
class CrystalReference:
    """A published equation of state: lattice constant ``a_a`` (Å), bulk modulus ``bulk_modulus_gpa``
    (None: not published in the cited source), the source, and how the test cell is built."""

    name: str
    a_a: float
    bulk_modulus_gpa: float | None
    source: str


def _fcc_a(volume_per_atom: float) -> float:
    return float((4 * volume_per_atom) ** (1 / 3))


#: hcp Zr c/a of the Delta-test structure (5.1895 / 3.236 Å; the cell is scaled isotropically)
ZR_C_OVER_A = 5.1895 / 3.236
#: Delta test (WIEN2k, PBE): V0 (Å³/atom) and B0 (GPa) of Cu, Al, Zr — Lejaeghere et al., Science 351, aad3000 (2016)
_DELTA = {"Cu": (11.9511, 141.335), "Al": (16.4796, 78.077), "Zr": (23.385, 93.684)}
_DELTA_SOURCE = "all-electron PBE (WIEN2k), Delta test: Lejaeghere et al., Science 351, aad3000 (2016)"

PBE_REFERENCES = {
    "fcc Cu": CrystalReference("fcc Cu", _fcc_a(_DELTA["Cu"][0]), _DELTA["Cu"][1], _DELTA_SOURCE),
    "fcc Al": CrystalReference("fcc Al", _fcc_a(_DELTA["Al"][0]), _DELTA["Al"][1], _DELTA_SOURCE),
    # hcp: V = (√3/2) a² c per 2 atoms = (√3/4) a³ (c/a) per atom
    "hcp Zr": CrystalReference(
        "hcp Zr", float((4 * _DELTA["Zr"][0] / (np.sqrt(3) * ZR_C_OVER_A)) ** (1 / 3)), _DELTA["Zr"][1], _DELTA_SOURCE
    ),
    "B2 CuZr": CrystalReference(
        "B2 CuZr", 3.262, None, "experiment (B2 CuZr at high temperature; mlip_glass/data/crystals/README.md)"
    ),
}


def reference_crystal(name: str, a: float | None = None) -> Atoms:
    """The primitive cell of one of :data:`PBE_REFERENCES` at lattice constant ``a`` (Å; default: the reference)."""
    if name not in PBE_REFERENCES:
        raise MLIPGlassError(f"crystal name must be one of {sorted(PBE_REFERENCES)}, got {name!r}")
    a = PBE_REFERENCES[name].a_a if a is None else a
    if name == "hcp Zr":
        return bulk("Zr", "hcp", a=a, c=a * ZR_C_OVER_A)
    if name == "B2 CuZr":
        return bulk("CuZr", "cesiumchloride", a=a)
    return bulk(name.split()[1], "fcc", a=a)


@dataclass(frozen=True)
class EquationOfState:
    """Birch–Murnaghan fit: ``a_a`` (Å, the cell's first lattice constant at V0), ``volume_a3_per_atom``,
    ``bulk_modulus_gpa``, ``energy_ev_per_atom`` at V0, and the points (V Å³/atom, E eV/atom)."""

    a_a: float
    volume_a3_per_atom: float
    bulk_modulus_gpa: float
    energy_ev_per_atom: float
    volumes: tuple[float, ...]
    energies: tuple[float, ...]


def equation_of_state(engine, atoms: Atoms, scales: Sequence[float] = EOS_SCALES) -> EquationOfState:
    """Single points of ``atoms`` with its cell scaled by ``scales`` (shape kept) and a Birch–Murnaghan fit.

    ``engine``: a :class:`~mlip_glass.reference.base.ReferenceEngine` (its ``static`` is called). A rejected
    single point (e.g. SCF not converged) is left out; fewer than 5 points raise :class:`MLIPGlassError`."""
    from ase.eos import EquationOfState as AseEOS

    n = len(atoms)
    volumes, energies = [], []
    for s in scales:
        scaled = atoms.copy()
        scaled.set_cell(atoms.cell * s, scale_atoms=True)
        frame = engine.static(scaled)
        if frame.rejected or frame.energy is None:
            continue
        volumes.append(scaled.get_volume() / n)
        energies.append(frame.energy / n)
    if len(volumes) < 5:
        raise MLIPGlassError(f"equation of state needs >= 5 converged points, got {len(volumes)} of {len(scales)}")
    eos = AseEOS(volumes, energies, eos="birchmurnaghan")
    v0, e0, b0 = eos.fit()
    if not min(volumes) <= v0 <= max(volumes):
        raise MLIPGlassError(f"equilibrium volume {v0:.3f} Å³/atom outside the sampled range "
                             f"[{min(volumes):.3f}, {max(volumes):.3f}]: widen `scales`")
    a0 = float(np.linalg.norm(atoms.cell[0]) * (v0 / (atoms.get_volume() / n)) ** (1 / 3))
    return EquationOfState(a0, float(v0), float(b0 * EV_PER_A3_TO_GPA), float(e0), tuple(volumes), tuple(energies))


def lattice_constant_of(name: str, eos: EquationOfState) -> float:
    """The conventional lattice constant (Å) of ``name`` from the fitted primitive cell: fcc primitive vectors
    are a/√2 long, hcp and B2 ones are a."""
    return eos.a_a * np.sqrt(2) if name.startswith("fcc") else eos.a_a


def crystal_table(engine, names: Sequence[str] = tuple(PBE_REFERENCES), scales: Sequence[float] = EOS_SCALES):
    """Rows (name, a, reference a, deviation %, B, reference B, source) of ``engine``'s equations of state.

    ``engine``: an engine, or a function ``engine(atoms)`` returning the engine for one crystal's cell (e.g. a
    DFT engine with that cell's k-point grid, kept for every volume of its equation of state)."""
    rows = []
    for name in names:
        ref = PBE_REFERENCES[name]
        atoms = reference_crystal(name)
        crystal_engine = engine(atoms) if callable(engine) and not hasattr(engine, "static") else engine
        eos = equation_of_state(crystal_engine, atoms, scales)
        a = lattice_constant_of(name, eos)
        rows.append({
            "crystal": name, "a_A": a, "a_ref_A": ref.a_a, "a_dev_percent": 100 * (a / ref.a_a - 1),
            "B_GPa": eos.bulk_modulus_gpa, "B_ref_GPa": ref.bulk_modulus_gpa, "source": ref.source,
            "volumes_A3_per_atom": list(eos.volumes), "energies_eV_per_atom": list(eos.energies),
        })
    return rows
