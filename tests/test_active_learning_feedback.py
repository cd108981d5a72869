"""MLIP feedback runs with a real NEP (calorine CPUNEP in LAMMPS fix external): seeded and
reproducible, composition conserved, the thermostat ramp cools the system, and the Maker fetches the
model (nep.txt from the data store) by uuid."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from ase.build import bulk
from jobflow import job, run_locally
from pymatgen.io.ase import AseAtomsAdaptor

from mlip_glass.active_learning.feedback import choose_start_structures, equilibrate_and_quench
from mlip_glass.active_learning.jobs import FeedbackMaker
from mlip_glass.active_learning.protocols import FeedbackMDProtocol
from mlip_glass.properties.potentials import NEPPotential
from mlip_glass.provenance import structure_hash
from mlip_glass.store import memory_job_store

NEP_TINY = Path(__file__).parent / "data" / "nep_cuzral_tiny.txt"
SHORT = dict(t_equil_k=1000.0, equil_steps=50, quench_steps=200, pressure_gpa=None)


@pytest.fixture(scope="module")
def cell():
    atoms = bulk("Zr", "bcc", a=3.3, cubic=True).repeat(3)
    rng = np.random.default_rng(0)
    atoms.set_chemical_symbols(list(rng.permutation(["Cu"] * 25 + ["Zr"] * 25 + ["Al"] * 4)))
    return atoms


@pytest.fixture(scope="module")
def potential():
    return NEPPotential.from_file(NEP_TINY)


def test_same_seed_same_quench_other_seed_other_structure(cell, potential):
    to_300 = FeedbackMDProtocol(t_final_k=300.0, **SHORT)
    a, sa = equilibrate_and_quench(cell, potential, seed=7, protocol=to_300)
    b, _ = equilibrate_and_quench(cell, potential, seed=7, protocol=to_300)
    c, _ = equilibrate_and_quench(cell, potential, seed=8, protocol=to_300)
    assert np.array_equal(a.positions, b.positions)
    assert structure_hash(a) != structure_hash(c)
    assert sorted(a.get_chemical_symbols()) == sorted(cell.get_chemical_symbols())
    assert a.get_volume() == pytest.approx(cell.get_volume())  # NVT keeps the cell
    held, sh = equilibrate_and_quench(cell, potential, seed=7, protocol=FeedbackMDProtocol(t_final_k=1000.0, **SHORT))
    assert sa["temperature_K"] < sh["temperature_K"]  # the ramp to 300 K removed kinetic energy
    assert sa["quench_rate_K_per_ps"] == pytest.approx(700.0 / 0.2)


def test_bad_protocol_input_names_the_field(cell, potential):
    with pytest.raises(ValueError, match="t_final"):
        equilibrate_and_quench(cell, potential, seed=1, protocol=FeedbackMDProtocol(t_final_k=-5.0))
    with pytest.raises(ValueError, match="tdamp_fs"):
        equilibrate_and_quench(cell, potential, seed=1, tdamp_fs=0.0)
    with pytest.raises(ValueError, match="seed"):
        equilibrate_and_quench(cell, potential, seed=0)


def test_start_structures_span_all_cooling_lengths():
    docs = [{"structure_hash": f"h{i}", "cooling_length": 10.0 ** (4 + i % 3)} for i in range(9)]
    chosen = choose_start_structures(docs, 3, seed=1)
    assert sorted(d["cooling_length"] for d in chosen) == [1e4, 1e5, 1e6]
    assert choose_start_structures(docs, 3, seed=1) == chosen
    with pytest.raises(ValueError, match="no surrogate structures"):
        choose_start_structures([], 2, seed=1)


@job(data=["nep_txt"])
def _model_doc(nep_txt: str, model_hash: str) -> dict:
    return {"nep_txt": nep_txt, "model_hash": model_hash, "status": "completed"}


def test_feedback_job_reads_the_model_from_the_store(cell, potential):
    store = memory_job_store()
    model = _model_doc(potential.nep_txt, potential.model_hash)
    run_locally(model, store=store, ensure_success=True, log=False)
    structure = AseAtomsAdaptor.get_structure(cell)
    start = {"structure": structure.as_dict(), "structure_hash": structure_hash(structure), "method": "swap_mc",
             "cooling_length": 1e5, "seed": 3}
    protocol = FeedbackMDProtocol(equil_steps=20, quench_steps=20, pressure_gpa=None)
    run = FeedbackMaker(protocol=protocol).make(model.uuid, start, seed=4)
    run_locally(run, store=store, ensure_success=True, log=False)
    out = store.get_output(run.uuid)
    assert out["model_hash"] == potential.model_hash and out["parent_hash"] == start["structure_hash"]
    from pymatgen.core import Structure

    assert out["structure_hash"] == structure_hash(Structure.from_dict(out["structure"]))
    assert out["surrogate"]["cooling_length"] == 1e5


def test_feedback_protocol_is_passed_whole_and_none_pressure_means_nvt():
    """FeedbackMDProtocol carries the stage's defaults (NPT at 0 GPa); ``pressure_gpa=None`` means NVT; a dict
    (a deserialised Maker, a command-line option) gives the same protocol."""
    import dataclasses

    assert FeedbackMaker().protocol == FeedbackMDProtocol() and FeedbackMDProtocol().pressure_gpa == 0.0
    protocol = FeedbackMDProtocol(t_equil_k=1500.0, equil_steps=20, quench_steps=20, pressure_gpa=None)
    maker = FeedbackMaker(protocol={"t_equil_k": 1500.0, "equil_steps": 20, "quench_steps": 20, "pressure_gpa": None})
    assert maker.protocol == protocol
    assert maker.protocol.t_equil_k == 1500.0 and maker.protocol.pressure_gpa is None
    assert dataclasses.replace(maker, snapshot_every=5).protocol == protocol  # a copy keeps the protocol
    with pytest.raises(ValueError, match="quench_steps"):
        FeedbackMDProtocol(quench_steps=0)
