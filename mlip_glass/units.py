"""Unit conversions used at the package boundary (Å, eV, GPa, bar), in one place.

The values are ASE's (``ase.units``, CODATA 2014): ``EV_PER_A3_TO_GPA == 1 / ase.units.GPa``.
"""

from __future__ import annotations

#: GPa per eV/Å^3 (1 / ase.units.GPa)
EV_PER_A3_TO_GPA = 160.21766208
#: kbar per eV/Å^3 (VASP stresses are in kbar)
KBAR_PER_EV_A3 = EV_PER_A3_TO_GPA * 10.0
#: GPa per bar (LAMMPS ``metal`` pressures are in bar)
BAR_TO_GPA = 1e-4
#: eV/Å^3 per bar
EV_A3_PER_BAR = BAR_TO_GPA / EV_PER_A3_TO_GPA
