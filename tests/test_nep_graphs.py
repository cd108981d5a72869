"""The trainer's vectorised, cached neighbour graphs equal neppo's own (ASE neighbor_list) graphs."""

import numpy as np
import pytest
from ase import Atoms

from mlip_glass.nep import graphs

TYPES = ("Cu", "Zr", "Al")
RADIAL, ANGULAR = (6.5, 6.5, 6.5), (4.0, 4.0, 4.0)


def _cells():
    rng = np.random.default_rng(4)
    out = []
    for shear in (0.0, 0.25):  # cubic and strongly tilted
        cell = 12.0 * (np.eye(3) + shear * np.triu(np.ones((3, 3)), 1))
        frac = rng.random((60, 3))
        symbols = list(rng.choice(TYPES, 60))
        atoms = Atoms(symbols, scaled_positions=frac, cell=cell, pbc=True)
        atoms.positions += rng.normal(0, 3.0, (60, 3))  # some atoms outside the cell: vectors must not care
        out.append(atoms)
    return out


def _edges(graph):
    key = np.lexsort((np.round(graph.edge_vectors[:, 2], 6), np.round(graph.edge_vectors[:, 1], 6),
                      np.round(graph.edge_vectors[:, 0], 6), graph.edge_index[1], graph.edge_index[0]))
    return graph.edge_index[:, key], graph.edge_vectors[key]


@pytest.mark.parametrize("index", [0, 1])
def test_vectorised_graph_equals_neppos_graph(index):
    from neppo.graph import get_structure_graph

    atoms = _cells()[index]
    ours = graphs.build_structure_graph(atoms, TYPES, RADIAL, ANGULAR)
    theirs = get_structure_graph(atoms, TYPES, RADIAL, ANGULAR)
    assert ours.n_angular_edges == theirs.n_angular_edges > 0
    (ia, va), (ib, vb) = _edges(ours), _edges(theirs)
    assert np.array_equal(ia, ib)
    assert np.allclose(va, vb, atol=1e-9)
    # angular edges first, each within its angular cutoff
    assert np.all(np.linalg.norm(ours.edge_vectors[: ours.n_angular_edges], axis=1) < 4.0)
    assert np.all(np.linalg.norm(ours.edge_vectors[ours.n_angular_edges:], axis=1) >= 4.0)


def test_cache_returns_the_stored_graph_and_survives_a_corrupt_file(tmp_path, monkeypatch):
    monkeypatch.setenv(graphs.GRAPH_CACHE_ENV, str(tmp_path))
    atoms = _cells()[1]
    first = graphs.cached_structure_graph(atoms, TYPES, RADIAL, ANGULAR)
    files = list(tmp_path.glob("*.npz"))
    assert len(files) == 1
    again = graphs.cached_structure_graph(atoms, TYPES, RADIAL, ANGULAR)
    assert np.array_equal(first.edge_index, again.edge_index) and np.array_equal(first.edge_vectors, again.edge_vectors)
    moved = atoms.copy()
    moved.positions[0] += 0.01  # another structure, another key
    graphs.cached_structure_graph(moved, TYPES, RADIAL, ANGULAR)
    assert len(list(tmp_path.glob("*.npz"))) == 2
    files[0].write_bytes(b"not an npz")
    rebuilt = graphs.cached_structure_graph(atoms, TYPES, RADIAL, ANGULAR)
    assert np.array_equal(rebuilt.edge_index, first.edge_index)
