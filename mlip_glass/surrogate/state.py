"""Conversion between pymatgen/ASE structures (Å) and the kernels' reduced arrays; initial liquids."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from pymatgen.core import Lattice, Structure

from mlip_glass.surrogate import constants as C
from mlip_glass.surrogate.kernel import min_distance_ratio, random_positions
from mlip_glass.surrogate.model import (
    LJModel,
    SurrogateInputError,
    _cell_positions,
    _symbols,
    composition_counts,
)
from mlip_glass.surrogate.rng import seed_state

#: atoms closer than this fraction of sigma_ab count as overlapping (bad input)
OVERLAP_RATIO = 0.5
#: minimum distance (fraction of sigma_ab) used by :func:`random_liquid`'s random insertion
RANDOM_LIQUID_MIN_RATIO = 0.75


@dataclass
class ReducedState:
    """Positions (N, 3) in [0, L), orthorhombic box (3,), type indices (N,), all in reduced units."""

    positions: np.ndarray
    box: np.ndarray
    types: np.ndarray

    @property
    def n_atoms(self) -> int:
        return len(self.types)

    @property
    def density(self) -> float:
        return self.n_atoms / float(np.prod(self.box))


def to_reduced(structure, model: LJModel, check_overlap: bool = True) -> ReducedState:
    """Reduced state of an orthorhombic periodic Structure/Atoms; names the offending field on bad input."""
    cell, pos = _cell_positions(structure)
    if len(pos) == 0:
        raise SurrogateInputError("structure has no atoms")
    off = cell - np.diag(np.diag(cell))
    if np.any(np.abs(off) > 1e-8 * np.abs(cell).max()) or np.any(np.diag(cell) <= 0):
        raise SurrogateInputError(
            "structure.lattice must be orthorhombic with the vectors along x, y, z (got "
            f"{cell.tolist()}); the swap-MC and LAMMPS drivers take rectangular periodic boxes"
        )
    types = model.types_of(structure)
    box = np.diag(cell) / model.length_unit
    red = np.mod(pos / model.length_unit, box)
    red[red >= box] = 0.0
    state = ReducedState(np.ascontiguousarray(red), box.copy(), types)
    if check_overlap and state.n_atoms > 1:
        sig = model.pair_tables()["sigma"].ravel()
        ratio = min_distance_ratio(red[:, 0].copy(), red[:, 1].copy(), red[:, 2].copy(), types, box, sig,
                                   model.n_types)
        if ratio < OVERLAP_RATIO:
            raise SurrogateInputError(
                f"structure has overlapping atoms: min r_ij/sigma_ij = {ratio:.3f} < {OVERLAP_RATIO}"
            )
    return state


def from_reduced(state: ReducedState, model: LJModel) -> Structure:
    """pymatgen Structure (Å) of a reduced state; species from the model's type indices."""
    lat = Lattice(np.diag(state.box * model.length_unit))
    species = [model.species[t] for t in state.types]
    return Structure(lat, species, state.positions * model.length_unit, coords_are_cartesian=True)


def check_composition(structure, model: LJModel, composition: Mapping[str, float] | None = None,
                      tol: float = 0.02) -> None:
    """Raise if the structure holds species unknown to the model or (optionally) deviates from a composition."""
    symbols = _symbols(structure)
    for s in set(symbols):
        model.type_index(s)
    if composition:
        n = len(symbols)
        tot = sum(composition.values())
        for s, x in composition.items():
            got = symbols.count(s) / n
            if abs(got - x / tot) > tol:
                raise SurrogateInputError(
                    f"composition of structure ({s}: {got:.3f}) does not match composition[{s!r}] = "
                    f"{x / tot:.3f} (tolerance {tol})"
                )


def random_liquid(
    n: int = C.PAPER_N_ATOMS,
    density: float = C.PAPER_DENSITY,
    composition: Mapping[str, float] | None = None,
    seed: int = 0,
    model: LJModel | None = None,
    min_ratio: float = RANDOM_LIQUID_MIN_RATIO,
) -> Structure:
    """Random periodic cubic liquid-like configuration (Å) at reduced number density ``density``.

    Atoms are inserted one by one at uniform random positions, rejecting any closer than
    ``min_ratio * sigma_ab`` to an earlier atom (no overlaps); species are assigned in blocks
    (sorted by the model's species order) with counts from ``composition`` (largest remainder).

    Parameters
    ----------
    n
        Number of atoms (>= 1).
    density
        Reduced number density rho* = N / L^3 (> 0; the paper's 1.75 gives L = 12.93 Å for N = 150).
    composition
        Atom fractions per species (default Cu0.46 Zr0.46 Al0.08); species must belong to ``model``.
    seed
        Seed of the insertion (same seed, same structure).
    model
        LJ model (default :meth:`LJModel.paper`).
    min_ratio
        Minimum distance as a fraction of sigma_ab, in (0, 1].
    """
    model = model or LJModel.paper()
    composition = dict(composition or C.PAPER_COMPOSITION)
    if not density > 0:
        raise SurrogateInputError(f"density must be > 0 (reduced number density), got {density}")
    if not 0 < min_ratio <= 1:
        raise SurrogateInputError(f"min_ratio must be in (0, 1], got {min_ratio}")
    counts = composition_counts(n, composition, model.species)
    types = np.concatenate(
        [np.full(counts.get(s, 0), model.species.index(s), dtype=np.int64) for s in model.species]
    )
    side = (n / density) ** (1.0 / 3.0)
    box = np.full(3, side)
    dmin2 = ((min_ratio * model.pair_tables()["sigma"]) ** 2).ravel()
    pos, failed = random_positions(n, box, types, dmin2, model.n_types, seed_state(seed), 100000)
    if failed >= 0:
        raise SurrogateInputError(
            f"random_liquid could not place atom {failed} of {n} at density {density} with min_ratio "
            f"{min_ratio}; lower density or min_ratio"
        )
    return from_reduced(ReducedState(pos, box, types), model)
