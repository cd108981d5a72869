"""Reference engines: EAM through LAMMPS vs an independent LAMMPS run, relax/AIMD protocols, ASE plug-in,
bad input."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from ase.calculators.lj import LennardJones
from pymatgen.core import Lattice, Structure

from mlip_glass.data import cheng_ma_sheng_eam
from mlip_glass.properties.potentials import LammpsPairPotential
from mlip_glass.reference.base import EngineInputError
from mlip_glass.reference.engines import ASECalculatorEngine, EAMEngine, get_engine
from mlip_glass.reference.labelling import label_structures
from mlip_glass.testing.structures import random_cuzral
from mlip_glass.units import EV_PER_A3_TO_GPA

warnings.filterwarnings("ignore", message="Significant simulation cell changes")


@pytest.fixture(scope="module")
def glass():
    return random_cuzral(seed=1, tilt=(0.4, -0.3, 0.25))


@pytest.fixture(scope="module")
def eam():
    return EAMEngine()


def _independent_lammps(structure):
    """Energy, forces, pressure tensor of the CMS EAM from a fresh LAMMPS fed with ASE's data file."""
    import os
    import tempfile

    from ase.calculators.lammps import Prism
    from ase.io import write
    from pymatgen.io.ase import AseAtomsAdaptor

    from mlip_glass.utils.lammps import new_lammps

    atoms = AseAtomsAdaptor.get_atoms(structure)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "data.lmp")
        write(path, atoms, format="lammps-data", specorder=["Cu", "Zr", "Al"], masses=True)
        lmp = new_lammps()
        lmp.commands_list(
            [
                "units metal",
                "atom_style atomic",
                "atom_modify map array",
                f"read_data {path}",
                "pair_style eam/alloy",
                f"pair_coeff * * {cheng_ma_sheng_eam()} Cu Zr Al",
                "thermo_style custom pe pxx pyy pzz",
                "run 0",
            ]
        )
        energy = lmp.get_thermo("pe")
        f = np.ctypeslib.as_array(lmp.gather_atoms("f", 1, 3)).reshape(-1, 3).copy()
        pdiag = np.array([lmp.get_thermo(k) for k in ("pxx", "pyy", "pzz")])
        lmp.close()
    rot = Prism(atoms.cell.array).rot_mat
    return energy, f @ rot.T, pdiag


def test_eam_static_matches_independent_lammps_on_triclinic_cell(glass, eam):
    frame = eam.static(glass)
    energy, forces, pdiag = _independent_lammps(glass)
    assert frame.engine == "eam" and not frame.rejected
    assert frame.energy == pytest.approx(energy, abs=1e-8)
    np.testing.assert_allclose(frame.forces_array(), forces, atol=1e-8)
    # pressure: -tr(stress)/3 (GPa) equals LAMMPS' mean normal pressure (bar → GPa; trace is rotation invariant)
    assert frame.pressure == pytest.approx(pdiag.mean() * 1e-4, abs=1e-8)
    virial = np.asarray(frame.virial)
    np.testing.assert_allclose(virial, -np.asarray(frame.stress) / EV_PER_A3_TO_GPA * glass.volume, atol=1e-10)


def test_eam_relax_reaches_force_tolerance_and_zero_pressure(glass, eam):
    frames = eam.relax(glass, fmax=0.01, keep="last")
    last = frames[-1]
    assert len(frames) == 1 and last.subset == "relaxed" and not last.rejected
    assert np.abs(last.forces_array()).max() <= 0.01 * (1 + 1e-6)
    assert abs(last.pressure) < 0.05  # box/relax to 0 GPa
    assert last.energy < eam.static(glass).energy
    assert last.parent_hash != last.structure_hash
    # the stored labels are the EAM's for the stored geometry, every stress component relaxed (shear too)
    again = eam.static(last.structure)
    assert last.energy == pytest.approx(again.energy, abs=1e-8)
    np.testing.assert_allclose(np.asarray(again.stress), 0.0, atol=0.011)  # GPa


@pytest.mark.parametrize("seed,tilt", [(7, (0.4, -0.3, 0.25)), (13, (-0.4, 0.3, 0.1)), (2, (0, 0, 0))])
def test_eam_relax_converges_well_within_the_default_budget(eam, seed, tilt):
    """Strained random cells (box/relax CG alone needed up to 9,913 of the 10,000 allowed iterations)."""
    last = eam.relax(random_cuzral(seed=seed, tilt=tilt), fmax=0.01, keep="last")[-1]
    assert not last.rejected and np.abs(last.forces_array()).max() <= 0.01 * (1 + 1e-6)
    assert abs(last.pressure) < 0.011
    # a 1 GPa target compresses the relaxed glass and is reached too
    squeezed = eam.relax(last.structure, fmax=0.01, pressure_gpa=1.0, keep="last")[-1]
    assert not squeezed.rejected and squeezed.pressure == pytest.approx(1.0, abs=0.011)
    assert squeezed.structure.volume < last.structure.volume


def test_eam_relax_keeps_every_kth_step_with_exact_labels(eam):
    structure = random_cuzral(seed=5)
    frames = eam.relax(structure, keep=25, max_steps=200, fmax=1e-4)
    steps = [f.source.step for f in frames]
    assert steps[0] == 0 and all(s % 25 == 0 for s in steps[:-1]) and steps == sorted(set(steps))
    # intermediate frames carry the labels of their own configuration
    mid = frames[len(frames) // 2]
    again = eam.static(mid.structure)
    assert mid.energy == pytest.approx(again.energy, abs=1e-8)
    np.testing.assert_allclose(mid.forces_array(), again.forces_array(), atol=1e-8)
    # energy goes down along the relaxation; unconverged run → last frame rejected with the reason
    energies = [f.energy for f in frames]
    assert energies[-1] < energies[0]
    assert frames[-1].rejected and "not converged" in frames[-1].rejection_reason
    assert not any(f.rejected for f in frames[:-1])


def test_eam_aimd_heats_in_npt_and_every_step_is_a_frame(eam):
    start = eam.relax(random_cuzral(seed=2), keep="last")[-1].structure
    frames = eam.aimd(start, nsteps=30, t_start_k=5.0, t_end_k=2000.0, seed=3)
    assert [f.source.step for f in frames] == list(range(1, 31))
    assert all(f.subset == "aimd" and f.engine == "eam" for f in frames)
    # heating raises the potential energy (Langevin damping 50 fs: the atoms lag the 5 → 2000 K ramp)
    e = np.array([f.energy_per_atom for f in frames])
    assert e[-1] - e[0] > 0.005 and np.polyfit(np.arange(len(e)), e, 1)[0] > 0
    # NPT: the cell moves
    assert frames[-1].structure.volume != pytest.approx(start.volume, rel=1e-6)
    # same seed → same trajectory
    again = eam.aimd(start, nsteps=30, t_start_k=5.0, t_end_k=2000.0, seed=3)
    assert [f.energy for f in again] == pytest.approx([f.energy for f in frames], abs=1e-9)


def _lj_pair(rc=6.0, sigma=2.5, epsilon=0.05):
    return LammpsPairPotential(
        pair_style=f"lj/cut {rc}", pair_coeff=[f"* * {epsilon} {sigma}"], extra_commands=["pair_modify shift yes"],
        name="lj",
    )


def test_ase_calculator_engine_equals_lammps_for_the_same_lj_potential():
    structure = random_cuzral(seed=3, box=13.5)
    lammps_engine = EAMEngine(potential=_lj_pair(), name="lj-lammps")
    ase_engine = ASECalculatorEngine(calculator=LennardJones(sigma=2.5, epsilon=0.05, rc=6.0), label="lj")
    a, b = lammps_engine.static(structure), ase_engine.static(structure)
    assert b.engine == "ase:lj"
    assert a.energy == pytest.approx(b.energy, abs=1e-8)
    np.testing.assert_allclose(a.forces_array(), b.forces_array(), atol=1e-8)
    np.testing.assert_allclose(a.stress, b.stress, atol=1e-7)


def test_ase_engine_relax_and_aimd_follow_the_protocol():
    fcc = Structure.from_spacegroup("Fm-3m", Lattice.cubic(3.95), ["Cu"], [[0, 0, 0]]) * (2, 2, 2)
    shift = np.random.default_rng(0).normal(0, 0.03, (len(fcc), 3))
    structure = Structure(fcc.lattice, fcc.species, fcc.cart_coords + shift, coords_are_cartesian=True)
    engine = get_engine(LennardJones(sigma=2.5, epsilon=0.05, rc=6.0))
    relaxed = engine.relax(structure, fmax=0.01, keep="last", max_steps=1000)[-1]
    assert not relaxed.rejected and np.abs(relaxed.forces_array()).max() <= 0.01 * (1 + 1e-6)
    # LJ fcc crystal at zero pressure: nearest neighbours at 1.0903 sigma for an infinite cutoff (lattice sums),
    # slightly further out when truncated at 2.4 sigma (less attraction); below the pair minimum 2^(1/6) sigma
    d_nn = relaxed.structure.lattice.a / 2 / np.sqrt(2) / 2.5
    assert 1.0903 < d_nn < 1.10
    frames = engine.aimd(relaxed.structure, nsteps=3, seed=1)
    assert len(frames) == 3 and all(np.isfinite(f.energy) for f in frames)


def test_species_outside_engine_is_a_clear_error(eam):
    bad = Structure(Lattice.cubic(4.0), ["Cu", "Ni"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    with pytest.raises(EngineInputError, match=r"\['Ni'\].*accepted species"):
        eam.static(bad)
    with pytest.raises(EngineInputError, match="structure 1"):
        label_structures([random_cuzral(seed=1), bad], eam)
    frames = label_structures([bad], eam, on_error="reject")
    assert frames[0].rejected and "Ni" in frames[0].rejection_reason and frames[0].energy is None


def test_overlapping_atoms_and_degenerate_cell_are_rejected_early(eam):
    overlap = Structure(Lattice.cubic(5.0), ["Cu", "Zr"], [[0, 0, 0], [0.02, 0, 0]])
    with pytest.raises(EngineInputError, match="closer than"):
        eam.static(overlap)
    flat = Structure(Lattice([[5, 0, 0], [0, 5, 0], [0, 0, 1e-6]]), ["Cu"], [[0, 0, 0]])
    with pytest.raises(EngineInputError, match="degenerate"):
        eam.static(flat)


def test_nan_labels_give_a_rejected_frame_never_a_kept_one():
    class Broken(ASECalculatorEngine):
        def compute(self, atoms):
            e, f, s = super().compute(atoms)
            f[0, 0] = np.nan
            return e, f, s

    engine = Broken(calculator=LennardJones(sigma=2.5, epsilon=0.05, rc=6.0), label="broken")
    frame = engine.static(random_cuzral(seed=1))
    assert frame.rejected and "NaN" in frame.rejection_reason and frame.forces is None
    with pytest.raises(ValueError):
        frame.to_atoms()


def test_bad_protocol_arguments_name_the_field(eam, glass):
    with pytest.raises(ValueError, match="keep"):
        eam.relax(glass, keep=0)
    with pytest.raises(ValueError, match="timestep_fs"):
        eam.aimd(glass, timestep_fs=50)
    with pytest.raises(ValueError, match="subset"):
        label_structures([glass], eam, subset="weird")
