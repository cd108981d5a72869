"""NEP through LAMMPS ``fix external`` equals calorine CPUNEP directly; potential specs fail early."""

from pathlib import Path

import numpy as np
import pytest
from ase.build import bulk
from monty.json import MontyDecoder

from mlip_glass.utils.lammps_session import LammpsSession
from mlip_glass.properties.potentials import EAMPotential, NEPPotential, cheng_ma_sheng

NEP_FIXTURE = Path(__file__).parent / "data" / "nep_cuzral_tiny.txt"


@pytest.fixture(scope="module")
def nep():
    return NEPPotential.from_file(NEP_FIXTURE)


@pytest.fixture
def triclinic_cuzral():
    rng = np.random.default_rng(7)
    atoms = bulk("Cu", "bcc", a=3.2, cubic=True).repeat((3, 3, 3))
    symbols = np.array(["Cu"] * 25 + ["Zr"] * 25 + ["Al"] * 4)
    rng.shuffle(symbols)
    atoms.set_chemical_symbols(list(symbols))
    atoms.positions += rng.normal(0, 0.1, atoms.positions.shape)
    cell = atoms.cell.array.copy()
    cell[1, 0] += 1.0
    cell[2, 1] += 0.7
    cell[2, 0] -= 0.4
    atoms.set_cell(cell, scale_atoms=True)
    atoms.rotate(20, "z", rotate_cell=True)  # not LAMMPS' lower-triangular frame
    return atoms


def test_nep_fix_external_equals_calorine_energy_forces_virial(nep, triclinic_cuzral):
    ref = triclinic_cuzral.copy()
    ref.calc = nep.calculator()
    e0, f0, s0 = ref.get_potential_energy(), ref.get_forces(), ref.get_stress(voigt=False)
    with LammpsSession(triclinic_cuzral, nep) as session:
        assert session.energy() == pytest.approx(e0, abs=1e-9)
        np.testing.assert_allclose(session.forces(), f0, atol=1e-10)
        # virial -> pressure tensor -> stress; LAMMPS' bar<->eV/Å^3 constant differs at 1e-7
        np.testing.assert_allclose(session.stress(), s0, atol=1e-6 * np.abs(s0).max())


def test_nep_minimisation_with_cell_relaxation_reaches_zero_stress_by_calorine(nep, triclinic_cuzral):
    with LammpsSession(triclinic_cuzral, nep) as session:
        session.minimize(fmax=1e-3, relax_cell=True)
        session.minimize(fmax=1e-3, relax_cell=True)  # box/relax restarts help the line search
        result = session.minimize(fmax=1e-3)
        atoms = session.current_atoms()
        energy = session.energy()
    assert result["converged"], result
    atoms.calc = nep.calculator()
    # the relaxed state is a stationary point of calorine's own energy: energy enters minimisation
    # (fix_modify energy yes) and the virial enters box/relax (fix_modify virial yes)
    assert atoms.get_potential_energy() == pytest.approx(energy, abs=1e-8)
    assert np.abs(atoms.get_forces()).max() < 1.5e-3
    assert np.abs(atoms.get_stress()).max() * 160.21766 < 0.05  # GPa (GPa-scale before)


def test_nep_potential_round_trips_and_is_identified_by_hash(nep):
    clone = MontyDecoder().process_decoded(nep.as_dict())
    assert clone.model_hash == nep.model_hash and clone.species == ("Cu", "Zr", "Al")
    doc = {"nep_txt": NEP_FIXTURE.read_text(), "uuid": "abc", "name": "trained"}
    from_doc = NEPPotential.from_document(doc)
    assert from_doc.model_hash == nep.model_hash and from_doc.model_uuid == "abc"


def test_bad_potential_input_is_named():
    with pytest.raises(FileNotFoundError, match="missing.txt"):
        NEPPotential.from_file("missing.txt")
    with pytest.raises(FileNotFoundError, match="nope.eam"):
        EAMPotential(path="nope.eam")
    with pytest.raises(ValueError, match="Ni"):
        NEPPotential.from_file(NEP_FIXTURE, species=("Cu", "Ni"))
    with pytest.raises(ValueError, match="not covered"):
        LammpsSession(bulk("Ni", "fcc", a=3.52), cheng_ma_sheng())


def test_nep_nve_through_fix_external_conserves_total_energy(nep, triclinic_cuzral):
    # forces are the gradient of the energy LAMMPS adds to pe (fix_modify energy yes): E_tot is conserved
    with LammpsSession(triclinic_cuzral, nep) as session:
        session.minimize(fmax=0.05)
        session.commands(["timestep 0.001", "velocity all create 600 5", "fix nve all nve",
                          "thermo_style custom step pe ke etotal", "run 0"])
        e0, ke0 = session.lmp.get_thermo("etotal"), session.lmp.get_thermo("ke")
        session.command("run 300")
        e1, ke1 = session.lmp.get_thermo("etotal"), session.lmp.get_thermo("ke")
    assert abs(ke1 - ke0) > 0.1 * ke0  # energy really moved between kinetic and potential
    assert abs(e1 - e0) < 2e-3 * ke0  # drift << kinetic energy
