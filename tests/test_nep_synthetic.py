"""EAM labels for NEP datasets: forces and GPUMD virials are the strain/position derivatives of the energy."""

import numpy as np
import pytest

from mlip_glass.datasets.extxyz import frames_from_text, frames_to_text
from mlip_glass.testing.synthetic import eam_dataset_frames, eam_label, random_cell
from mlip_glass.utils.atoms import virial_to_stress


@pytest.fixture(scope="module")
def tilted_frame():
    rng = np.random.default_rng(3)
    atoms = random_cell(24, rng)
    atoms.set_cell(atoms.cell.array @ np.array([[1.0, 0.08, 0.03], [0.0, 1.01, 0.05], [0.02, 0.0, 0.98]]),
                   scale_atoms=True)
    atoms.rattle(0.1, seed=1)
    return atoms


def _energy(atoms):
    return eam_label([atoms])[0].info["energy"]


def test_virial_is_minus_strain_derivative_of_energy(tilted_frame):
    """GPUMD's virial W = -stress * V = -dE/d(strain): checked by central differences on a triclinic cell."""
    h = 1e-5
    numeric = np.zeros((3, 3))
    for i in range(3):
        for j in range(3):
            energies = []
            for sign in (1, -1):
                eps = np.zeros((3, 3))
                eps[i, j] += sign * h / 2
                eps[j, i] += sign * h / 2
                strained = tilted_frame.copy()
                strained.set_cell(tilted_frame.cell.array @ (np.eye(3) + eps), scale_atoms=True)
                energies.append(_energy(strained))
            numeric[i, j] = -(energies[0] - energies[1]) / (2 * h)
    virial = eam_label([tilted_frame])[0].info["virial"].reshape(3, 3)
    assert np.abs(numeric).max() > 1.0  # a non-trivial virial
    np.testing.assert_allclose(virial, numeric, atol=1e-3 * np.abs(numeric).max())


def test_forces_are_minus_position_gradient(tilted_frame):
    h = 1e-5
    labelled = eam_label([tilted_frame])[0]
    for atom, axis in ((0, 0), (5, 2), (17, 1)):
        energies = []
        for sign in (1, -1):
            moved = tilted_frame.copy()
            moved.positions[atom, axis] += sign * h
            energies.append(_energy(moved))
        assert labelled.arrays["forces"][atom, axis] == pytest.approx(-(energies[0] - energies[1]) / (2 * h), abs=1e-4)


def test_virial_survives_extxyz_and_neppo_reads_it_as_minus_stress_times_volume(tilted_frame):
    from neppo.structure_container import _get_virial

    labelled = eam_label([tilted_frame])[0]
    back = frames_from_text(frames_to_text([labelled]))[0]
    np.testing.assert_allclose(back.info["virial"].reshape(3, 3), labelled.info["virial"].reshape(3, 3), rtol=1e-7)
    # compressed cell -> pressure > 0 -> virial trace > 0 (ASE stress negative)
    stress = virial_to_stress(labelled.info["virial"], labelled.get_volume())
    np.testing.assert_allclose(-stress * labelled.get_volume(), labelled.info["virial"].reshape(3, 3))
    import ase.io
    import io

    read_by_ase = ase.io.read(io.StringIO(frames_to_text([labelled])), format="extxyz")
    np.testing.assert_allclose(_get_virial(read_by_ase), labelled.info["virial"].reshape(3, 3), rtol=1e-7)


def test_dataset_frames_are_deterministic_and_labelled():
    a = eam_dataset_frames(n_frames=4, n_atoms=16, seed=5, quench_steps=200)
    b = eam_dataset_frames(n_frames=4, n_atoms=16, seed=5, quench_steps=200)
    assert len(a) == 4
    for x, y in zip(a, b):
        np.testing.assert_allclose(x.positions, y.positions)
        assert x.info["energy"] == y.info["energy"]
        assert x.info["config_type"] in ("quench", "strained")
        assert np.all(np.isfinite(x.arrays["forces"]))
        assert set(x.get_chemical_symbols()) <= {"Cu", "Zr", "Al"}
