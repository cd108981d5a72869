"""Properties stage: potential-agnostic LAMMPS engines for RDF, 0 K elastic constants, AQS shear and
energetics (SPEC §7, Figs. 4-5), NEP (calorine in ``fix external``) vs EAM vs any pair style.

Science: :mod:`.rdf`, :mod:`.elastic`, :mod:`.aqs`, :mod:`.energetics` (no jobflow);
potentials: :mod:`.potentials`; batch runners: :mod:`.runners`; Makers: :mod:`.jobs`;
paper numbers: :mod:`.constants`. See docs/properties.md.
"""

from mlip_glass.properties.potentials import (
    CUZRAL_SPECIES,
    EAMPotential,
    LammpsPairPotential,
    NEPPotential,
    cheng_ma_sheng,
)

__all__ = ["CUZRAL_SPECIES", "EAMPotential", "LammpsPairPotential", "NEPPotential", "cheng_ma_sheng"]
