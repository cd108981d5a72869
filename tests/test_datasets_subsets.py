"""Subset generators: lattice scaling, strain components, seeded selection, crystals, provenance."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from mlip_glass.datasets.crystals import load_crystal_records, load_crystals
from mlip_glass.datasets.subsets import (
    crystal_frames,
    distorted_frames,
    distorted_structures,
    expanded_compressed_frames,
    scaled_structures,
    select_structures,
    surrogate_frames,
)
from mlip_glass.reference.engines import EAMEngine
from mlip_glass.testing.structures import random_cuzral, surrogate_like_documents

warnings.filterwarnings("ignore")


@pytest.fixture(scope="module")
def docs():
    return surrogate_like_documents(3, seed=10, counts={"Cu": 23, "Zr": 23, "Al": 4}, box=9.0)


@pytest.fixture(scope="module")
def eam():
    return EAMEngine()


def test_surrogate_frames_record_the_surrogate_provenance(docs, eam):
    frames = surrogate_frames(docs, eam)
    assert len(frames) == 3
    for doc, frame in zip(docs, frames):
        assert frame.subset == "surrogate" and frame.parent_hash == doc["structure_hash"]
        assert frame.structure_hash == doc["structure_hash"]  # labelled at the surrogate's own cell (paper)
        assert frame.source.method == "swap_mc" and frame.source.seed == doc["seed"]
        assert frame.source.energy_per_atom_lj == pytest.approx(doc["energy_per_atom"])
        assert frame.source.cooling_length == doc["cooling_length"]


def test_expanded_compressed_scales_every_lattice_vector(docs, eam):
    s = docs[0]["structure"]
    for factor, scaled in scaled_structures(s):
        np.testing.assert_allclose(scaled.lattice.matrix, s.lattice.matrix * factor)
        np.testing.assert_allclose(scaled.frac_coords, s.frac_coords)
        assert scaled.volume == pytest.approx(s.volume * factor**3)
    frames = expanded_compressed_frames(docs, eam, n_select=2, seed=1)
    assert len(frames) == 2 * 6
    # compression raises the pressure monotonically (positive bulk modulus)
    by_parent = {}
    for f in frames:
        by_parent.setdefault(f.parent_hash, []).append((float(f.source.transformation.split()[1]), f.pressure))
    for rows in by_parent.values():
        pressures = [p for _, p in sorted(rows)]
        assert all(a > b for a, b in zip(pressures, pressures[1:]))


def test_distorted_structures_carry_exactly_the_requested_strain_components():
    s = random_cuzral(counts={"Cu": 10, "Zr": 10, "Al": 2}, box=8.0, seed=2, dmin=2.0, tilt=(0.3, 0.1, -0.2))
    out = distorted_structures(s, (-0.008, -0.004, 0.004, 0.008))
    assert len(out) == 24
    index = {"xx": (0, 0), "yy": (1, 1), "zz": (2, 2), "xy": (0, 1), "xz": (0, 2), "yz": (1, 2)}
    for component, amount, deformed in out:
        # Green-Lagrange strain recovered from the two lattices, independently of pymatgen's bookkeeping
        F = np.linalg.solve(s.lattice.matrix, deformed.lattice.matrix).T
        eps = 0.5 * (F.T @ F - np.eye(3))
        want = np.zeros((3, 3))
        i, j = index[component]
        want[i, j] = want[j, i] = amount
        np.testing.assert_allclose(eps, want, atol=1e-12)


def test_distorted_frames_give_six_components_times_four_strains_per_parent(docs, eam):
    frames = distorted_frames(docs, eam, n_select=1, seed=0)
    assert len(frames) == 24 and {f.subset for f in frames} == {"distorted"}
    assert len({f.structure_hash for f in frames}) == 24
    with pytest.raises(ValueError, match="strains"):
        distorted_structures(docs[0]["structure"], (0.0, 0.004))


def test_selection_is_seeded_and_independent_of_input_order(docs):
    a = [x.parent_hash for x in select_structures(docs, 2, seed=3)]
    b = [x.parent_hash for x in select_structures(list(reversed(docs)), 2, seed=3)]
    assert a == b and len(set(a)) == 2
    all_ = {x.parent_hash for s in range(20) for x in select_structures(docs, 2, seed=s)}
    assert len(all_) == 3  # different seeds reach every structure


def test_shipped_crystals_have_their_stated_formula_and_space_group():
    from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

    records = load_crystal_records()
    assert {r["name"] for r in records} >= {"Cu", "Al", "Zr", "CuZr-B2", "CuZr2"}
    ids = {r["name"]: r["material_id"] for r in records}
    assert ids["Cu"] == "mp-30" and ids["Al"] == "mp-134" and ids["Zr"] == "mp-131"
    for r in records:
        s = r["structure"]
        assert s.composition.reduced_formula == __import__("pymatgen.core", fromlist=["Composition"]).Composition(
            r["formula"]
        ).reduced_formula
        assert SpacegroupAnalyzer(s, symprec=1e-3).get_space_group_symbol() == r["spacegroup"]
        assert set(s.composition.chemical_system.split("-")) <= {"Cu", "Zr", "Al"}


def test_crystal_frames_are_relaxed_phases_with_sensible_lattice_constants(eam):
    frames = crystal_frames(engine=eam, names=["Cu", "CuZr-B2"])
    assert len(frames) == 2 and all(f.subset == "crystal" and not f.rejected for f in frames)
    by_name = {f.source.extra["name"]: f for f in frames}
    cu = by_name["Cu"]
    assert cu.source.extra["material_id"] == "mp-30"
    # Cheng-Ma-Sheng EAM fcc Cu: a ≈ 3.61-3.64 Å, cohesive energy ≈ -3.5 eV/atom
    assert cu.structure.lattice.a == pytest.approx(3.62, abs=0.03)
    assert cu.energy_per_atom == pytest.approx(-3.54, abs=0.1)
    assert abs(cu.pressure) < 0.05
    with pytest.raises(ValueError, match="unknown crystal"):
        load_crystals(names=["unobtainium"])


def test_materials_project_refresh_needs_a_key_and_is_never_required(monkeypatch, tmp_path):
    from mlip_glass.datasets.crystals import refresh_from_materials_project

    monkeypatch.delenv("MP_API_KEY", raising=False)
    with pytest.raises(RuntimeError, match="API key"):
        refresh_from_materials_project(tmp_path / "mp.json")
    assert len(load_crystals()) >= 8  # the shipped file works offline
