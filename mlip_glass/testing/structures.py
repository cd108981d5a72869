"""Small structures for tests (no surrogate needed): random dense Cu–Zr–Al packings, surrogate-like documents."""

from __future__ import annotations

import numpy as np
from pymatgen.core import Structure

from mlip_glass.provenance import structure_hash
from mlip_glass.utils.structures import random_cuzral


def lj_energy_per_atom(structure: Structure) -> float:
    """Energy per atom (eV) of the paper's LJ surrogate (SPEC §1: LB mixing, truncated and shifted at
    2 sigma_ab), computed directly with pymatgen neighbour lists (independent of the surrogate package)."""
    sigma = {"Zr": 2.932, "Cu": 2.338, "Al": 2.620}
    eps = {"Zr": 0.409, "Cu": 0.739, "Al": 0.392}
    rmax = 2 * max(sigma.values())
    centers, points, _, dist = structure.get_neighbor_list(rmax)
    energy = 0.0
    for i, j, r in zip(centers, points, dist):
        a, b = structure[int(i)].specie.symbol, structure[int(j)].specie.symbol
        s = 0.5 * (sigma[a] + sigma[b])
        e = np.sqrt(eps[a] * eps[b])
        rc = 2 * s
        if r < rc:
            energy += 0.5 * (4 * e * ((s / r) ** 12 - (s / r) ** 6) - 4 * e * ((s / rc) ** 12 - (s / rc) ** 6))
    return float(energy / len(structure))


def surrogate_like_documents(n: int = 3, seed: int = 0, box: float = 12.93, counts=None) -> list[dict]:
    """Dicts shaped like the surrogate's documents (structure, structure_hash, method, cooling_length, seed,
    energy_per_atom in eV from the LJ model) built on random packings."""
    docs = []
    for k in range(n):
        s = random_cuzral(counts=counts, box=box, seed=seed + k)
        docs.append(
            {
                "structure": s,
                "structure_hash": structure_hash(s),
                "method": "swap_mc",
                "cooling_length": float(10 ** (2 + k)),
                "seed": seed + k,
                "energy_per_atom": lj_energy_per_atom(s),
            }
        )
    return docs
