"""The alloy of arXiv:2501.00589 (SPEC §1): species order and composition, in one place."""

from __future__ import annotations

#: species order used throughout mlip_glass: LAMMPS types 1, 2, 3, NEP type order, EAM pair_coeff order
SPECIES: tuple[str, ...] = ("Cu", "Zr", "Al")
#: composition Cu0.46 Zr0.46 Al0.08 (atom fractions)
PAPER_COMPOSITION: dict[str, float] = {"Cu": 0.46, "Zr": 0.46, "Al": 0.08}
#: number of atoms of the paper's cells
PAPER_N_ATOMS: int = 150
#: atoms per species of the paper's 150-atom cell
PAPER_COUNTS: dict[str, int] = {"Cu": 69, "Zr": 69, "Al": 12}
