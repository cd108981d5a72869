"""Structure hash stability and provenance metadata."""

import numpy as np
import pytest
from ase.build import bulk
from jobflow import Flow
from pymatgen.io.ase import AseAtomsAdaptor

from mlip_glass.provenance import provenance_metadata, stamp, structure_hash
from mlip_glass.testing.toy_jobs import three_job_flow


@pytest.fixture
def cell():
    atoms = bulk("Cu", "fcc", a=3.6, cubic=True) * (2, 2, 2)
    atoms.symbols[[0, 5]] = ["Zr", "Al"]
    atoms.rattle(0.1, seed=3)
    return atoms


def test_hash_is_same_for_ase_and_pymatgen_and_wrapping(cell):
    structure = AseAtomsAdaptor.get_structure(cell)
    shifted = cell.copy()
    shifted.positions[2] += cell.cell[0]  # the same atom, one period away
    assert structure_hash(cell) == structure_hash(structure) == structure_hash(shifted)


def test_hash_ignores_float_noise_but_sees_real_changes(cell):
    noisy = cell.copy()
    noisy.positions += 1e-9
    moved = cell.copy()
    moved.positions[3] += [0.01, 0, 0]
    swapped = cell.copy()
    swapped.symbols[[0, 1]] = [cell.symbols[1], cell.symbols[0]]
    strained = cell.copy()
    strained.set_cell(cell.cell.array * 1.001, scale_atoms=True)
    h = structure_hash(cell)
    assert structure_hash(noisy) == h
    assert len({h, structure_hash(moved), structure_hash(swapped), structure_hash(strained)}) == 4


def test_stamp_sets_campaign_on_every_job_and_keeps_stage():
    flow = three_job_flow()
    flow.jobs[0].metadata["stage"] = "surrogate"
    stamp(flow, campaign="cz1", iteration=2)
    for job in flow.jobs:
        assert job.metadata["campaign"] == "cz1" and job.metadata["iteration"] == 2
        assert "mlip_glass_version" in job.metadata
    assert flow.jobs[0].metadata["stage"] == "surrogate"
    assert "stage" not in flow.jobs[1].metadata


@pytest.mark.parametrize(
    "kwargs, field",
    [({"campaign": ""}, "campaign"), ({"campaign": "a", "stage": "x"}, "stage"),
     ({"campaign": "a", "iteration": -1}, "iteration")],
)
def test_bad_metadata_names_the_field(kwargs, field):
    with pytest.raises(ValueError, match=field):
        provenance_metadata(**kwargs)
