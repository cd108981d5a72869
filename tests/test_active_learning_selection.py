"""Candidate selection: committee force deviation (DP-GEN), trust-level classes, MaxVol extrapolation
grade on NEP descriptors, hash deduplication."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
from ase.build import bulk

from mlip_glass.active_learning.selection import (
    ActiveSet,
    class_fractions,
    classify,
    committee_force_deviation,
    maxvol,
    nep_descriptors,
    new_hashes_only,
)

NEP_TINY = str(Path(__file__).parent / "data" / "nep_cuzral_tiny.txt")


def test_committee_deviation_is_zero_for_identical_members_and_matches_hand_value():
    rng = np.random.default_rng(0)
    f = rng.normal(size=(5, 3))
    assert committee_force_deviation(np.stack([f, f, f])) == pytest.approx(0.0, abs=1e-14)
    # two members disagreeing by ±1 eV/Å on one atom: std = sqrt(((1)^2 + (1)^2) / 2) = 1 on that atom
    a, b = np.zeros((4, 3)), np.zeros((4, 3))
    a[2, 0], b[2, 0] = 1.0, -1.0
    assert committee_force_deviation(np.stack([a, b])) == pytest.approx(1.0)


def test_committee_deviation_rejects_a_single_member():
    with pytest.raises(ValueError, match="n_models >= 2"):
        committee_force_deviation(np.zeros((1, 4, 3)))


def test_trust_levels_split_scores_into_three_classes():
    classes = classify([0.01, 0.1, 0.2, 0.35, 5.0, np.nan], lo=0.1, hi=0.35)
    assert classes == ["accurate", "candidate", "candidate", "rejected", "rejected", "rejected"]
    fr = class_fractions(classes)
    assert fr == pytest.approx({"accurate": 1 / 6, "candidate": 2 / 6, "rejected": 3 / 6})
    assert sum(fr.values()) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="lo < hi"):
        classify([0.1], lo=0.3, hi=0.2)


def test_already_labelled_hashes_are_never_selected_again():
    assert new_hashes_only(["a", "b", "a", "c", "d"], known={"c"}) == [0, 1, 4]


def test_maxvol_rows_bound_every_coefficient_and_beat_random_subsets():
    rng = np.random.default_rng(3)
    a = rng.normal(size=(60, 5))
    rows = maxvol(a, tol=1e-3)
    assert len(set(rows.tolist())) == 5
    coeff = a @ np.linalg.inv(a[rows])
    assert np.abs(coeff).max() <= 1.0 + 1e-3
    vol = abs(np.linalg.det(a[rows]))
    random_vols = [abs(np.linalg.det(a[list(c)])) for c in itertools.islice(itertools.combinations(range(60), 5), 0, 3000, 7)]
    assert vol >= max(random_vols)


def _cell(seed: int, scale: float = 1.0):
    atoms = bulk("Zr", "bcc", a=3.3, cubic=True).repeat(3)
    rng = np.random.default_rng(seed)
    symbols = ["Cu"] * 25 + ["Zr"] * 25 + ["Al"] * 4
    atoms.set_chemical_symbols(list(rng.permutation(symbols)))
    atoms.positions += rng.normal(0, 0.1, atoms.positions.shape)
    atoms.set_cell(atoms.cell * scale, scale_atoms=True)
    return atoms


def test_maxvol_grade_interpolates_training_atoms_and_flags_compressed_cells():
    train = [_cell(s) for s in range(4)]
    active = ActiveSet(nep_descriptors(train, NEP_TINY), [a.get_chemical_symbols() for a in train])
    grades_train = [active.grade(d, a.get_chemical_symbols()) for d, a in zip(nep_descriptors(train, NEP_TINY), train)]
    assert max(grades_train) <= 1.0 + 1e-2 + 1e-9  # every training atom is inside the MaxVol hull
    similar = _cell(10)
    squeezed = _cell(11, scale=0.8)  # 20 % shorter bonds: outside the training descriptors
    g_similar = active.grade(nep_descriptors([similar], NEP_TINY)[0], similar.get_chemical_symbols())
    g_squeezed = active.grade(nep_descriptors([squeezed], NEP_TINY)[0], squeezed.get_chemical_symbols())
    assert g_squeezed > 1.0
    assert g_squeezed > g_similar
