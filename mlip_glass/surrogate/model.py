"""The multicomponent Lennard-Jones surrogate model (Lorentz-Berthelot, truncated and shifted at 2 sigma_ab).

Reduced units (sigma_ref, eps_ref of :data:`~mlip_glass.surrogate.constants.REFERENCE_SPECIES`) exist only
inside :mod:`mlip_glass.surrogate`; every public function takes/returns Å and eV.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from mlip_glass.errors import MLIPGlassError
from mlip_glass.surrogate import constants as C


class SurrogateInputError(MLIPGlassError, ValueError):
    """Bad input to the surrogate stage; the message names the field and the accepted range."""


def _symbols(structure) -> list[str]:
    if hasattr(structure, "get_chemical_symbols"):
        return list(structure.get_chemical_symbols())
    return [site.specie.symbol for site in structure]


def _cell_positions(structure) -> tuple[np.ndarray, np.ndarray]:
    """(cell matrix rows = lattice vectors, Å; Cartesian positions, Å)."""
    if hasattr(structure, "get_chemical_symbols"):
        return np.asarray(structure.cell.array, float), np.asarray(structure.get_positions(), float)
    return np.asarray(structure.lattice.matrix, float), np.asarray(structure.cart_coords, float)


@dataclass(frozen=True)
class LJModel:
    """Multicomponent LJ model, u_ab(r) = 4 eps_ab [(s_ab/r)^12 - (s_ab/r)^6] - u_ab(r_c,ab) for r < r_c,ab.

    Parameters
    ----------
    species
        Element symbols; their order defines the type indices (LAMMPS types 1, 2, ...).
    sigma
        sigma per species (Å), same order as ``species``.
    epsilon
        epsilon per species (eV), same order as ``species``.
    cutoff_factor
        r_c,ab = cutoff_factor * sigma_ab (dimensionless).
    reference_species
        Species whose sigma/epsilon are the reduced length/energy units.
    pair_sigma, pair_epsilon
        Optional explicit pair values {"A-B": value} (Å / eV) overriding Lorentz-Berthelot mixing.
    """

    species: tuple[str, ...]
    sigma: tuple[float, ...]
    epsilon: tuple[float, ...]
    cutoff_factor: float = C.CUTOFF_FACTOR
    reference_species: str = C.REFERENCE_SPECIES
    pair_sigma: Mapping[str, float] = field(default_factory=dict)
    pair_epsilon: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self):
        object.__setattr__(self, "species", tuple(self.species))
        object.__setattr__(self, "sigma", tuple(float(s) for s in self.sigma))
        object.__setattr__(self, "epsilon", tuple(float(e) for e in self.epsilon))
        n = len(self.species)
        if n == 0 or len(set(self.species)) != n:
            raise SurrogateInputError(f"species must be non-empty and unique, got {self.species}")
        if len(self.sigma) != n or len(self.epsilon) != n:
            raise SurrogateInputError("sigma and epsilon need one value per species")
        if min(self.sigma) <= 0 or min(self.epsilon) <= 0:
            raise SurrogateInputError("sigma (Å) and epsilon (eV) must be > 0")
        if not self.cutoff_factor > 1.0:
            raise SurrogateInputError(f"cutoff_factor must be > 1, got {self.cutoff_factor}")
        if self.reference_species not in self.species:
            raise SurrogateInputError(
                f"reference_species {self.reference_species!r} must be one of {self.species}"
            )

    # ----------------------------------------------------------------------------------------------
    @classmethod
    def paper(cls) -> LJModel:
        """The CuZrAl surrogate of arXiv:2501.00589 (species order Cu, Zr, Al)."""
        sp = C.PAPER_SPECIES
        return cls(sp, tuple(C.PAPER_SIGMA_A[s] for s in sp), tuple(C.PAPER_EPSILON_EV[s] for s in sp))

    @property
    def n_types(self) -> int:
        return len(self.species)

    @property
    def length_unit(self) -> float:
        """Reduced length unit sigma_ref (Å)."""
        return self.sigma[self.species.index(self.reference_species)]

    @property
    def energy_unit(self) -> float:
        """Reduced energy unit eps_ref (eV)."""
        return self.epsilon[self.species.index(self.reference_species)]

    @property
    def temperature_unit_kelvin(self) -> float:
        """k_B T* = eps_ref: one reduced temperature unit in K."""
        return self.energy_unit / C.K_B_EV

    def type_index(self, symbol: str) -> int:
        if symbol not in self.species:
            raise SurrogateInputError(f"unknown species {symbol!r}; the model has {self.species}")
        return self.species.index(symbol)

    def _pair(self, table: Mapping[str, float], a: int, b: int) -> float | None:
        sa, sb = self.species[a], self.species[b]
        for key in (f"{sa}-{sb}", f"{sb}-{sa}"):
            if key in table:
                return float(table[key])
        return None

    def pair_tables(self, reduced: bool = True) -> dict[str, np.ndarray]:
        """Per-type-pair (n_types x n_types) ``sigma``, ``epsilon``, ``rcut``, ``shift`` (reduced or Å/eV)."""
        n = self.n_types
        sig = np.empty((n, n))
        eps = np.empty((n, n))
        for a in range(n):
            for b in range(n):
                s = self._pair(self.pair_sigma, a, b)
                e = self._pair(self.pair_epsilon, a, b)
                sig[a, b] = s if s is not None else 0.5 * (self.sigma[a] + self.sigma[b])
                eps[a, b] = e if e is not None else np.sqrt(self.epsilon[a] * self.epsilon[b])
        if reduced:
            sig = sig / self.length_unit
            eps = eps / self.energy_unit
        rc = self.cutoff_factor * sig
        x6 = (1.0 / self.cutoff_factor) ** 6
        shift = 4.0 * eps * (x6 * x6 - x6)
        return {"sigma": sig, "epsilon": eps, "rcut": rc, "shift": shift}

    @property
    def max_cutoff(self) -> float:
        """Largest pair cutoff (Å)."""
        return float(self.pair_tables(reduced=False)["rcut"].max())

    # --- unit conversion ---------------------------------------------------------------------------
    def to_reduced_length(self, value_angstrom):
        return np.asarray(value_angstrom) / self.length_unit

    def from_reduced_length(self, value):
        return np.asarray(value) * self.length_unit

    def to_reduced_energy(self, value_ev):
        return np.asarray(value_ev) / self.energy_unit

    def from_reduced_energy(self, value):
        return np.asarray(value) * self.energy_unit

    def temperature_to_kelvin(self, t_reduced):
        return np.asarray(t_reduced) * self.temperature_unit_kelvin

    def types_of(self, structure) -> np.ndarray:
        """Type indices of the atoms of a Structure/Atoms; unknown species raise :class:`SurrogateInputError`."""
        return np.array([self.type_index(s) for s in _symbols(structure)], dtype=np.int64)

    # --- energy, forces, stress (any periodic cell; independent of the MC kernel) -------------------
    def _pairs(self, structure):
        from ase import Atoms
        from ase.neighborlist import neighbor_list

        cell, pos = _cell_positions(structure)
        types = self.types_of(structure)
        atoms = Atoms(numbers=np.ones(len(pos), int), positions=pos, cell=cell, pbc=True)
        i, j, d, D = neighbor_list("ijdD", atoms, self.max_cutoff)
        tab = self.pair_tables(reduced=False)
        ti, tj = types[i], types[j]
        keep = d < tab["rcut"][ti, tj]
        i, j, d, D, ti, tj = i[keep], j[keep], d[keep], D[keep], ti[keep], tj[keep]
        if np.any(d < 1e-8):
            raise SurrogateInputError("structure has overlapping atoms (distance < 1e-8 Å)")
        return atoms, i, j, d, D, tab["sigma"][ti, tj], tab["epsilon"][ti, tj], tab["shift"][ti, tj]

    def energy(self, structure) -> float:
        """Total potential energy (eV) of a periodic pymatgen ``Structure`` or ASE ``Atoms``."""
        _, _, _, d, _, sig, eps, shift = self._pairs(structure)
        sr6 = (sig / d) ** 6
        return float(0.5 * np.sum(4.0 * eps * (sr6 * sr6 - sr6) - shift))

    def energy_forces_stress(self, structure) -> tuple[float, np.ndarray, np.ndarray]:
        """(energy eV, forces (N, 3) eV/Å, stress 3x3 eV/Å^3 in ASE's sign convention: negative = compressed)."""
        atoms, i, j, d, D, sig, eps, shift = self._pairs(structure)
        sr6 = (sig / d) ** 6
        energy = 0.5 * np.sum(4.0 * eps * (sr6 * sr6 - sr6) - shift)
        dudr = 4.0 * eps * (-12.0 * sr6 * sr6 + 6.0 * sr6) / d  # du/dr
        fvec = (dudr / d)[:, None] * D  # D = r_j - r_i; force on i = +dudr * D/d
        forces = np.zeros((len(atoms), 3))
        np.add.at(forces, i, fvec)
        stress = 0.5 * np.einsum("p,pa,pb->ab", dudr / d, D, D) / atoms.get_volume()
        return float(energy), forces, stress

    def as_dict_params(self) -> dict:
        """Plain-dict description (for documents)."""
        return {
            "species": list(self.species),
            "sigma_A": list(self.sigma),
            "epsilon_eV": list(self.epsilon),
            "cutoff_factor": self.cutoff_factor,
            "reference_species": self.reference_species,
            "pair_sigma": dict(self.pair_sigma),
            "pair_epsilon": dict(self.pair_epsilon),
        }

    @classmethod
    def from_dict_params(cls, d: dict) -> LJModel:
        return cls(
            tuple(d["species"]),
            tuple(d["sigma_A"]),
            tuple(d["epsilon_eV"]),
            d.get("cutoff_factor", C.CUTOFF_FACTOR),
            d.get("reference_species", C.REFERENCE_SPECIES),
            d.get("pair_sigma", {}),
            d.get("pair_epsilon", {}),
        )


def composition_counts(n: int, composition: Mapping[str, float], species: Sequence[str]) -> dict[str, int]:
    """Integer atom counts for ``n`` atoms (largest-remainder rounding); e.g. 150 -> 69 Cu, 69 Zr, 12 Al."""
    if int(n) != n or n < 1:
        raise SurrogateInputError(f"n must be a positive integer, got {n!r}")
    for s, x in composition.items():
        if s not in species:
            raise SurrogateInputError(f"composition species {s!r} is not in the model species {tuple(species)}")
        if not x >= 0:
            raise SurrogateInputError(f"composition[{s!r}] must be >= 0, got {x}")
    total = float(sum(composition.values()))
    if total <= 0:
        raise SurrogateInputError("composition fractions must sum to > 0")
    frac = {s: composition[s] / total for s in composition}
    counts = {s: int(np.floor(frac[s] * n)) for s in frac}
    rest = n - sum(counts.values())
    order = sorted(frac, key=lambda s: (-(frac[s] * n - counts[s]), list(species).index(s)))
    for s in order[:rest]:
        counts[s] += 1
    return counts
