"""Which feedback candidates to label: all, committee disagreement, or a MaxVol extrapolation grade.

Pure functions on numpy arrays (no jobflow). Three rules, one classification:

- ``all`` (the paper): every new candidate is labelled.
- ``committee`` (DP-GEN): a committee of NEPs trained with different seeds predicts forces; the
  structure's score is the maximum over atoms of the force standard deviation
  ``eps = max_i sqrt(<|F_i - <F_i>|^2>)`` (eV/Å). ``eps < trust_lo`` → *accurate*,
  ``trust_lo <= eps < trust_hi`` → *candidate* (labelled), ``eps >= trust_hi`` → *rejected*.
- ``maxvol`` (D-optimality, as in MTP and GPUMD's NEP active learning): the per-atom NEP descriptors
  of the training set are reduced per species to the ``d`` rows spanning the largest volume (MaxVol);
  the extrapolation grade of an atom with descriptor ``x`` is ``gamma = max_j |x A^-1|_j`` (gamma <= 1
  is interpolation) and a structure's grade is the maximum over its atoms. Needs no committee.

A candidate whose structure hash was labelled before is never labelled again (:func:`new_hashes_only`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np

from mlip_glass.active_learning.constants import CLASSES, MAXVOL_MAX_ITER, MAXVOL_TOL


def committee_force_deviation(forces: np.ndarray) -> float:
    """Max over atoms of the committee force standard deviation (eV/Å).

    Parameters
    ----------
    forces
        ``(n_models, n_atoms, 3)`` forces of one structure predicted by each committee member (eV/Å).
    """
    forces = np.asarray(forces, dtype=float)
    if forces.ndim != 3 or forces.shape[2] != 3 or forces.shape[0] < 2:
        raise ValueError(f"forces must have shape (n_models >= 2, n_atoms, 3), got {forces.shape}")
    mean = forces.mean(axis=0)
    per_atom = np.sqrt(((forces - mean) ** 2).sum(axis=2).mean(axis=0))
    return float(per_atom.max())


def classify(scores: Sequence[float], lo: float, hi: float) -> list[str]:
    """``accurate`` (score < lo), ``candidate`` (lo <= score < hi) or ``rejected`` (score >= hi or NaN)."""
    if not (np.isfinite(lo) and np.isfinite(hi)) or lo < 0 or hi <= lo:
        raise ValueError(f"trust bounds must satisfy 0 <= lo < hi, got lo={lo}, hi={hi}")
    out = []
    for s in scores:
        s = float(s)
        if not np.isfinite(s) or s >= hi:
            out.append("rejected")
        elif s < lo:
            out.append("accurate")
        else:
            out.append("candidate")
    return out


def class_fractions(classes: Iterable[str]) -> dict[str, float]:
    """Fraction of candidates per class (accurate, candidate, rejected); zeros for an empty input."""
    counts = Counter(classes)
    unknown = set(counts) - set(CLASSES)
    if unknown:
        raise ValueError(f"unknown classes {sorted(unknown)}; accepted {CLASSES}")
    total = sum(counts.values())
    return {c: (counts[c] / total if total else 0.0) for c in CLASSES}


def new_hashes_only(hashes: Sequence[str], known: Iterable[str]) -> list[int]:
    """Indices of ``hashes`` not in ``known`` and not repeated earlier in ``hashes`` (first kept)."""
    seen = set(known)
    keep = []
    for i, h in enumerate(hashes):
        if h not in seen:
            keep.append(i)
            seen.add(h)
    return keep


# -- MaxVol / D-optimality -----------------------------------------------------------------------------
def maxvol(matrix: np.ndarray, tol: float = MAXVOL_TOL, max_iter: int = MAXVOL_MAX_ITER) -> np.ndarray:
    """Row indices of a ``d x d`` submatrix of ``matrix`` (``n x d``, ``n >= d``) of locally maximal volume.

    Goreinov–Tyrtyshnikov MaxVol: start from the rows chosen by a pivoted QR of ``matrix.T``, then
    swap in the row with the largest coefficient ``|B_ij|`` of ``B = matrix @ inv(A)`` while it exceeds
    ``1 + tol``. On return every row of ``matrix`` is a combination of the chosen rows with coefficients
    ``<= 1 + tol`` in magnitude.
    """
    from scipy.linalg import qr

    a = np.asarray(matrix, dtype=float)
    n, d = a.shape
    if n < d:
        raise ValueError(f"maxvol needs at least as many rows as columns, got {a.shape}")
    _, _, pivots = qr(a.T, pivoting=True, mode="economic")
    rows = np.array(pivots[:d])
    for _ in range(max_iter):
        b = a @ np.linalg.pinv(a[rows])
        i, j = np.unravel_index(np.argmax(np.abs(b)), b.shape)
        if abs(b[i, j]) <= 1.0 + tol:
            break
        rows[j] = i
    return rows


class ActiveSet:
    """Per-species MaxVol active sets of per-atom descriptors and the extrapolation grade they define.

    Parameters
    ----------
    descriptors
        List of ``(n_atoms, d)`` per-atom descriptor arrays of the training structures.
    species
        List of per-atom chemical-symbol lists, matching ``descriptors``.
    """

    def __init__(self, descriptors: Sequence[np.ndarray], species: Sequence[Sequence[str]]):
        if len(descriptors) != len(species) or not descriptors:
            raise ValueError("descriptors and species must be non-empty lists of equal length")
        by_species: dict[str, list[np.ndarray]] = {}
        for desc, symbols in zip(descriptors, species):
            desc = np.asarray(desc, dtype=float)
            if desc.ndim != 2 or desc.shape[0] != len(symbols):
                raise ValueError(f"descriptor array {desc.shape} does not match {len(symbols)} atoms")
            for symbol in set(symbols):
                mask = np.array([s == symbol for s in symbols])
                by_species.setdefault(symbol, []).append(desc[mask])
        self.inverse: dict[str, np.ndarray] = {}
        self.size: dict[str, int] = {}
        for symbol, blocks in by_species.items():
            rows = np.vstack(blocks)
            if rows.shape[0] >= rows.shape[1]:
                chosen = rows[maxvol(rows)]
            else:  # fewer atoms than descriptor components: all rows, pseudo-inverse
                chosen = rows
            self.inverse[symbol] = np.linalg.pinv(chosen)
            self.size[symbol] = chosen.shape[0]

    def atom_grades(self, descriptors: np.ndarray, species: Sequence[str]) -> np.ndarray:
        """Per-atom extrapolation grade gamma (inf for a species absent from the training set)."""
        desc = np.asarray(descriptors, dtype=float)
        grades = np.full(len(species), np.inf)
        for symbol in set(species):
            if symbol not in self.inverse:
                continue
            mask = np.array([s == symbol for s in species])
            grades[mask] = np.abs(desc[mask] @ self.inverse[symbol]).max(axis=1)
        return grades

    def grade(self, descriptors: np.ndarray, species: Sequence[str]) -> float:
        """Structure extrapolation grade: the maximum per-atom gamma."""
        return float(self.atom_grades(descriptors, species).max())


def nep_descriptors(atoms_list, nep_txt_path: str) -> list[np.ndarray]:
    """Per-atom NEP descriptors ``(n_atoms, d)`` of each ASE Atoms from calorine (model file path)."""
    from calorine.nep import get_descriptors

    return [np.asarray(get_descriptors(atoms, model_filename=nep_txt_path)) for atoms in atoms_list]


def nep_forces(atoms_list, nep_txt_path: str) -> list[np.ndarray]:
    """Forces (eV/Å) of each ASE Atoms predicted by one NEP model (calorine CPUNEP)."""
    from calorine.calculators import CPUNEP

    calc = CPUNEP(nep_txt_path)
    out = []
    for atoms in atoms_list:
        atoms = atoms.copy()
        atoms.calc = calc
        out.append(np.asarray(atoms.get_forces()))
    return out
