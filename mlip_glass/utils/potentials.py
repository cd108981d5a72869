"""Classical LAMMPS potentials given by files or pair styles: the shipped Cheng–Ma–Sheng EAM and any pair style.

A potential knows its ``species`` (LAMMPS type order: type i+1 is ``species[i]``) and how to set itself
up in a LAMMPS instance (``setup_lammps``). Shared by the reference engines and the property engines;
the NEP potential (:class:`mlip_glass.properties.potentials.NEPPotential`) follows the same protocol.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from monty.json import MSONable

from mlip_glass.composition import SPECIES
from mlip_glass.data import cheng_ma_sheng_eam

#: species order (LAMMPS types 1, 2, 3) used throughout mlip_glass for CuZrAl
CUZRAL_SPECIES = SPECIES


@dataclass
class LammpsPairPotential(MSONable):
    """Any LAMMPS pair style given by its commands.

    Parameters
    ----------
    pair_style
        The ``pair_style`` arguments, e.g. ``"eam/alloy"`` or ``"lj/cut 5.0"``.
    pair_coeff
        ``pair_coeff`` argument lines, e.g. ``["* * file.eam.alloy Cu Zr Al"]``.
    species
        Chemical symbols of LAMMPS types 1..n, in order.
    files
        Files the commands need (checked to exist before LAMMPS starts).
    extra_commands
        Further commands after ``pair_coeff`` (e.g. ``pair_modify shift yes``).
    name
        A label stored in property documents.
    """

    pair_style: str
    pair_coeff: list[str]
    species: tuple[str, ...] = CUZRAL_SPECIES
    files: list[str] = field(default_factory=list)
    extra_commands: list[str] = field(default_factory=list)
    name: str = "lammps-pair"

    def __post_init__(self):
        self.species = tuple(self.species)
        if not self.species:
            raise ValueError("species must list the chemical symbol of every LAMMPS type")

    def check_files(self) -> None:
        """Raise ``FileNotFoundError`` naming any missing potential file."""
        for path in self.files:
            if not Path(path).is_file():
                raise FileNotFoundError(f"potential file not found: {path} (potential {self.name!r})")

    def setup_lammps(self, lmp) -> None:
        """Issue the pair commands in a LAMMPS instance whose box has ``len(species)`` types."""
        self.check_files()
        lmp.command(f"pair_style {self.pair_style}")
        for line in self.pair_coeff:
            lmp.command(f"pair_coeff {line}")
        for line in self.extra_commands:
            lmp.command(line)


@dataclass
class EAMPotential(MSONable):
    """An ``eam/alloy`` (setfl) potential.

    Parameters
    ----------
    path
        The setfl file. Default: the shipped Cheng–Ma–Sheng CuZrAl EAM (PRL 102, 245501 (2009)).
    species
        Chemical symbols of LAMMPS types 1..n (mapped by name onto the file's elements).
    pair_style
        ``eam/alloy`` or ``eam/fs``.
    name
        A label stored in property documents.
    """

    path: str | None = None
    species: tuple[str, ...] = CUZRAL_SPECIES
    pair_style: str = "eam/alloy"
    name: str = "EAM Cheng-Ma-Sheng 2009"

    def __post_init__(self):
        self.path = str(self.path or cheng_ma_sheng_eam())
        self.species = tuple(self.species)
        if not Path(self.path).is_file():
            raise FileNotFoundError(f"EAM potential file not found: {self.path}")
        file_elements = self.file_elements()
        missing = [s for s in self.species if s not in file_elements]
        if missing:
            raise ValueError(
                f"species {missing} are not in EAM file {self.path} (elements: {file_elements})"
            )

    def file_elements(self) -> list[str]:
        """Elements listed on line 4 of the setfl file."""
        with open(str(self.path)) as handle:
            lines = [next(handle) for _ in range(4)]
        return lines[3].split()[1:]

    def setup_lammps(self, lmp) -> None:
        """Issue ``pair_style``/``pair_coeff`` for this potential."""
        lmp.command(f"pair_style {self.pair_style}")
        lmp.command(f"pair_coeff * * {self.path} {' '.join(self.species)}")


def cheng_ma_sheng() -> EAMPotential:
    """The shipped Cheng–Ma–Sheng CuZrAl EAM, types Cu, Zr, Al."""
    return EAMPotential()
