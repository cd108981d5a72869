"""Random dense Cu–Zr–Al packings: a structure without the surrogate (demos, INCAR previews, tests)."""

from __future__ import annotations

import numpy as np
from pymatgen.core import Lattice, Structure

from mlip_glass.composition import PAPER_COUNTS


def random_cuzral(
    counts: dict[str, int] | None = None,
    box: float = 12.93,
    seed: int = 0,
    dmin: float = 1.9,
    tilt: tuple[float, float, float] = (0.0, 0.0, 0.0),
    max_tries: int = 200000,
) -> Structure:
    """Random sequential packing of ``counts`` atoms (default 69 Cu, 69 Zr, 12 Al) in a box of side ``box`` Å
    (optionally tilted: xy, xz, yz Å) with no pair closer than ``dmin`` Å."""
    counts = counts or PAPER_COUNTS
    species = [s for s, n in counts.items() for _ in range(n)]
    xy, xz, yz = tilt
    lattice = Lattice([[box, 0, 0], [xy, box, 0], [xz, yz, box]])
    rng = np.random.default_rng(seed)
    rng.shuffle(species)
    frac: list[np.ndarray] = []
    tries = 0
    while len(frac) < len(species):
        tries += 1
        if tries > max_tries:
            raise RuntimeError(f"could not pack {len(species)} atoms with dmin {dmin} Å in {box} Å box")
        trial = rng.random(3)
        if frac:
            d = np.asarray(frac) - trial
            d -= np.round(d)
            cart = d @ lattice.matrix
            if np.min(np.einsum("ij,ij->i", cart, cart)) < dmin**2:
                continue
        frac.append(trial)
    return Structure(lattice, species, np.asarray(frac))
