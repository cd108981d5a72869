"""Neighbour graphs of the CPU trainer: a vectorised builder and a cache by structure across fits.

neppo builds every training structure's neighbour graph with ASE's ``neighbor_list`` (≈ 90–100 ms per 150-atom
frame here) at the start of *every* fit, although the graph depends only on the structure and the cutoffs. An
active-learning refit re-reads all frames of the previous dataset, so most of its set-up repeats earlier work.

:func:`cached_structure_graph` has neppo's ``get_structure_graph`` signature: it builds the graph with
:func:`neighbour_pairs` (numpy over the periodic images the cutoff needs, a few ms per frame) and keeps it in an
``.npz`` cache keyed by a hash of species, positions, cell, pbc, model types and cutoffs
(``$MLIP_GLASS_GRAPH_CACHE``, default ``~/.cache/mlip_glass/neighbour_graphs``). :func:`install` makes neppo use it.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

logger = logging.getLogger(__name__)

#: environment variable naming the graph cache directory
GRAPH_CACHE_ENV = "MLIP_GLASS_GRAPH_CACHE"
#: cache format version (part of every key)
GRAPH_CACHE_VERSION = 1


def cache_dir() -> Path:
    """The graph cache directory (created on first use)."""
    base = os.environ.get(GRAPH_CACHE_ENV) or Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / \
        "mlip_glass" / "neighbour_graphs"
    return Path(base)


def neighbour_pairs(positions: np.ndarray, cell: np.ndarray, cutoff: float) -> tuple[np.ndarray, ...]:
    """Every ordered pair (i, j, image) with 0 < |r_j + image − r_i| < ``cutoff`` (Å) in a fully periodic cell.

    Returns ``(i, j, vectors)`` with the separation vectors ``r_j + n·cell − r_i`` (Å), sorted by ``i`` then ``j``
    — the same set of edges as ASE's ``neighbor_list('ijD', atoms, cutoff)``."""
    positions = np.asarray(positions, float)
    cell = np.asarray(cell, float)
    # images needed per lattice direction: cutoff / (spacing of the lattice planes of that direction)
    spacing = 1.0 / np.linalg.norm(np.linalg.inv(cell).T, axis=1)
    reach = np.ceil(cutoff / spacing).astype(int)
    frac = np.linalg.solve(cell.T, positions.T).T
    wrapped = (frac - np.floor(frac)) @ cell  # the separation vectors do not depend on which image is stored
    ranges = [np.arange(-r, r + 1) for r in reach]
    images = np.array(np.meshgrid(*ranges, indexing="ij")).reshape(3, -1).T @ cell
    n = len(positions)
    i_all, j_all, v_all = [], [], []
    for image in images:
        d = wrapped[None, :, :] + image[None, None, :] - wrapped[:, None, :]
        dist2 = np.einsum("ijk,ijk->ij", d, d)
        i, j = np.nonzero((dist2 < cutoff * cutoff) & (dist2 > 1e-20))
        i_all.append(i)
        j_all.append(j)
        v_all.append(d[i, j])
    i = np.concatenate(i_all)
    j = np.concatenate(j_all)
    vectors = np.concatenate(v_all)
    order = np.lexsort((j, i))
    if n == 0:
        return i, j, vectors
    return i[order], j[order], vectors[order]


def graph_key(structure, types: Sequence[str], radial: Sequence[float], angular: Sequence[float]) -> str:
    """Cache key of a structure's graph for a model's types and cutoffs."""
    h = hashlib.sha256()
    h.update(f"v{GRAPH_CACHE_VERSION}|{','.join(types)}|{list(map(float, radial))}|{list(map(float, angular))}"
             .encode())
    for array in (structure.numbers, structure.positions, structure.cell.array, structure.pbc):
        h.update(np.ascontiguousarray(array).tobytes())
    return h.hexdigest()


def build_structure_graph(structure, types, radial_cutoffs, angular_cutoffs):
    """neppo's ``StructureGraph`` of a fully periodic structure (no long-range data), built by
    :func:`neighbour_pairs` with neppo's rules: pair cutoff = mean of the two species' cutoffs, angular edges first."""
    from neppo.graph import StructureGraph

    type_index = {symbol: k for k, symbol in enumerate(types)}
    symbols = structure.get_chemical_symbols()
    unknown = sorted(set(symbols) - set(type_index))
    if unknown:
        raise ValueError(f"Species not among the model types {list(types)}: {unknown}")
    species = np.array([type_index[s] for s in symbols])
    radial = np.asarray(radial_cutoffs, float)
    angular = np.asarray(angular_cutoffs, float)
    i, j, vectors = neighbour_pairs(structure.positions, structure.cell.array, float(radial.max()))
    distances = np.linalg.norm(vectors, axis=1)
    keep = distances < 0.5 * (radial[species[i]] + radial[species[j]])
    i, j, vectors, distances = i[keep], j[keep], vectors[keep], distances[keep]
    is_angular = distances < 0.5 * (angular[species[i]] + angular[species[j]])
    order = np.argsort(~is_angular, kind="stable")
    return StructureGraph(species=species, edge_index=np.stack([i[order], j[order]]), edge_vectors=vectors[order],
                          n_angular_edges=int(is_angular.sum()))


def cached_structure_graph(structure, types, radial_cutoffs, angular_cutoffs, ewald_alpha=None):
    """Drop-in for ``neppo.graph.get_structure_graph``: cached and vectorised for fully periodic structures without
    long-range terms; anything else goes to neppo's own builder."""
    from neppo.graph import StructureGraph, get_structure_graph

    if ewald_alpha is not None or len(structure) == 0 or not all(structure.pbc):
        return get_structure_graph(structure, types, radial_cutoffs, angular_cutoffs, ewald_alpha)
    path = cache_dir() / f"{graph_key(structure, types, radial_cutoffs, angular_cutoffs)}.npz"
    if path.exists():
        try:
            with np.load(path, allow_pickle=False) as data:
                return StructureGraph(species=data["species"], edge_index=data["edge_index"],
                                      edge_vectors=data["edge_vectors"], n_angular_edges=int(data["n_angular_edges"]))
        except (OSError, ValueError, KeyError):  # a corrupt or partial file is rebuilt below
            logger.warning("graph cache file %s unreadable; rebuilding", path)
    graph = build_structure_graph(structure, types, radial_cutoffs, angular_cutoffs)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp.npz")
        np.savez(tmp, species=graph.species, edge_index=graph.edge_index, edge_vectors=graph.edge_vectors,
                 n_angular_edges=graph.n_angular_edges)
        os.replace(tmp, path)
    except OSError as exc:  # a read-only cache still trains, only without reuse
        logger.info("graph cache not written (%s)", exc)
    return graph


def install() -> bool:
    """Make neppo's NEP models build their graphs with :func:`cached_structure_graph` (not when
    ``$MLIP_GLASS_GRAPH_CACHE`` is ``off``); returns whether it did."""
    import neppo.models.nep as nep_module

    if os.environ.get(GRAPH_CACHE_ENV, "").lower() == "off":
        return False
    nep_module.get_structure_graph = cached_structure_graph
    return True
