"""Elastic constants at 0 K by finite deformation with relaxed ions, and isotropic (VRH) moduli.

Deformations: pymatgen ``DeformedStructureSet`` with ``symmetry=False`` (amorphous cells have no
symmetry: all six independent strain components at every magnitude); fit: pymatgen
``ElasticTensor.from_independent_strains`` (finite differences per strain component). Stresses are
in GPa with the tensile-positive sign (pymatgen/ASE convention).
"""

from __future__ import annotations

import numpy as np

from mlip_glass.properties import constants as C
from mlip_glass.properties.relax import relax
from mlip_glass.units import EV_PER_A3_TO_GPA
from mlip_glass.utils.lammps_session import LammpsSession, to_atoms


def isotropic_moduli(c_voigt) -> dict[str, float]:
    """Voigt, Reuss and Hill bulk and shear moduli and Hill Young's modulus and Poisson ratio of a
    6x6 stiffness matrix (GPa): B_V, G_V, B_R, G_R, B, G, E = 9BG/(3B+G), nu = (3B-2G)/(2(3B+G))."""
    c = np.asarray(c_voigt, float)
    if c.shape != (6, 6):
        raise ValueError(f"c_voigt must be 6x6, got shape {c.shape}")
    s = np.linalg.inv(c)
    b_v = (c[0, 0] + c[1, 1] + c[2, 2] + 2 * (c[0, 1] + c[1, 2] + c[0, 2])) / 9
    g_v = (c[0, 0] + c[1, 1] + c[2, 2] - (c[0, 1] + c[1, 2] + c[0, 2]) + 3 * (c[3, 3] + c[4, 4] + c[5, 5])) / 15
    b_r = 1 / (s[0, 0] + s[1, 1] + s[2, 2] + 2 * (s[0, 1] + s[1, 2] + s[0, 2]))
    g_r = 15 / (
        4 * (s[0, 0] + s[1, 1] + s[2, 2]) - 4 * (s[0, 1] + s[1, 2] + s[0, 2]) + 3 * (s[3, 3] + s[4, 4] + s[5, 5])
    )
    b, g = (b_v + b_r) / 2, (g_v + g_r) / 2
    return {
        "B_voigt": b_v, "G_voigt": g_v, "B_reuss": b_r, "G_reuss": g_r,
        "B": b, "G": g, "E": 9 * b * g / (3 * b + g), "nu": (3 * b - 2 * g) / (2 * (3 * b + g)),
    }


def stiffness_asymmetry(c_voigt) -> float:
    """||C − Cᵀ||_F / ||C||_F of a fitted 6x6 stiffness (0 for an elastic, i.e. reversible, response)."""
    c = np.asarray(c_voigt, float)
    return float(np.linalg.norm(c - c.T) / np.linalg.norm(c))


def born_stable(c_voigt) -> bool:
    """Born stability: the symmetric part of the 6x6 stiffness is positive definite (a stable minimum; otherwise a
    soft mode makes the Reuss averages, and so G and ν, meaningless)."""
    c = np.asarray(c_voigt, float)
    return bool(np.linalg.eigvalsh((c + c.T) / 2).min() > 0)


def in_linear_regime(sample: dict, max_asymmetry: float = C.ELASTIC_MAX_ASYMMETRY) -> bool:
    """Whether an elastic sample (a document's ``samples`` entry: ``C`` and/or ``asymmetry``) measured elasticity
    at a stable minimum: its stiffness is symmetric to ``max_asymmetry`` and :func:`born_stable`. Samples without
    C count as linear."""
    c = sample.get("C")
    asymmetry = sample.get("asymmetry")
    if asymmetry is None and c is not None:
        asymmetry = stiffness_asymmetry(c)
    return (asymmetry is None or asymmetry <= max_asymmetry) and (c is None or born_stable(c))


def elastic_tensor(
    structure,
    potential,
    norm_strains=C.ELASTIC_NORM_STRAINS,
    shear_strains=C.ELASTIC_SHEAR_STRAINS,
    fmax: float = C.ELASTIC_FMAX,
    relax_first: bool = True,
    relax_fmax: float = C.RELAX_FMAX,
) -> dict:
    """0 K stiffness of one structure: (optionally) relax ions+cell with ``potential``, relax ions at
    fixed cell to ``fmax`` (eV/Å), apply every deformation of the set to that state, relax ions at
    fixed cell to ``fmax``, fit C_ij (the equilibrium stress enters the fit).

    Returns ``C`` (6x6 Voigt, GPa), its ``asymmetry`` (:func:`stiffness_asymmetry`), the VRH moduli
    (:func:`isotropic_moduli`), ``eq_stress`` (3x3
    GPa), ``strains``/``stresses`` (GPa) of every deformation, ``energy_per_atom`` (eV) and
    ``relaxed_structure`` (ASE Atoms)."""
    from pymatgen.analysis.elasticity import DeformedStructureSet, ElasticTensor
    from pymatgen.io.ase import AseAtomsAdaptor

    for name, values in (("norm_strains", norm_strains), ("shear_strains", shear_strains)):
        if not values or any(abs(v) > 0.05 or v == 0 for v in values):
            raise ValueError(f"{name} must be non-zero strains with |strain| <= 0.05, got {values}")
    atoms = to_atoms(structure)
    relax_summary = None
    if relax_first:
        atoms, relax_summary = relax(atoms, potential, fmax=relax_fmax, relax_cell=True)
    # ions are always relaxed at the (given or relaxed) cell first: every deformed cell then starts
    # next to its minimum, and all of them stay in the same basin as the reference state
    with LammpsSession(atoms, potential) as session:
        session.minimize(fmax)
        eq_stress = session.stress() * EV_PER_A3_TO_GPA
        energy = session.energy()
        atoms = session.current_atoms()
    relaxed = AseAtomsAdaptor.get_structure(atoms)
    deformed = DeformedStructureSet(
        relaxed, symmetry=False, norm_strains=list(norm_strains), shear_strains=list(shear_strains)
    )
    strains, stresses = [], []
    for deformation, dstructure in zip(deformed.deformations, deformed):
        with LammpsSession(dstructure, potential) as session:
            session.minimize(fmax)
            stresses.append(session.stress() * EV_PER_A3_TO_GPA)
        strains.append(np.asarray(deformation.green_lagrange_strain))
    tensor = ElasticTensor.from_independent_strains(strains, stresses, eq_stress=eq_stress)
    c = np.asarray(tensor.voigt)
    return {
        "C": c,
        "asymmetry": stiffness_asymmetry(c),
        **isotropic_moduli(c),
        "eq_stress": eq_stress,
        "strains": np.array(strains),
        "stresses": np.array(stresses),
        "energy_per_atom": energy / len(atoms),
        "relaxed_structure": atoms,
        "relax_summary": relax_summary,
    }
