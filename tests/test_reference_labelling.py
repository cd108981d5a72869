"""label_structures: inputs from the surrogate, provenance, optional rescaling of the surrogate cell."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
from monty.json import jsanitize
from pymatgen.io.ase import AseAtomsAdaptor

from mlip_glass.provenance import structure_hash
from mlip_glass.reference.engines import EAMEngine
from mlip_glass.reference.labelling import as_inputs, label_structures, rescale_structure
from mlip_glass.reference.schemas import LabelledFrame
from mlip_glass.testing.structures import random_cuzral, surrogate_like_documents

warnings.filterwarnings("ignore")


@pytest.fixture(scope="module")
def eam():
    return EAMEngine()


def test_documents_structures_and_atoms_are_all_accepted(eam):
    docs = surrogate_like_documents(1, seed=3)
    s = docs[0]["structure"]
    atoms = AseAtomsAdaptor.get_atoms(s)

    class Doc:  # attribute-style document (e.g. the surrogate's pydantic model)
        structure = s
        structure_hash = docs[0]["structure_hash"]
        method = "md"
        cooling_length = 400.0
        seed = 9
        energy_per_atom = -1.0

    frames = label_structures([docs[0], s, atoms, Doc()], eam)
    assert len({round(f.energy, 8) for f in frames}) == 1
    assert frames[3].source.method == "md" and frames[3].source.seed == 9
    assert frames[1].source.method is None
    assert all(f.structure_hash == structure_hash(s) for f in frames)
    assert len(as_inputs(s)) == 1  # a single structure is a list of one


def test_rescaling_to_a_density_and_to_zero_reference_pressure(eam):
    s = random_cuzral(seed=6)  # 150 atoms at the paper's rho* = 1.75 cell (12.93 Å)
    assert rescale_structure(s, "none") is s
    dense = rescale_structure(s, "density", target_density=150 / 14.0**3)
    assert dense.lattice.a == pytest.approx(14.0) and dense.frac_coords == pytest.approx(s.frac_coords)
    p0 = eam.static(s).pressure
    zero = rescale_structure(s, "zero_pressure", engine=eam)
    assert abs(eam.static(zero).pressure) < 0.02 < abs(p0)
    frames = label_structures([s], eam, rescale="zero_pressure")
    assert frames[0].parent_hash == structure_hash(s) and frames[0].source.transformation == "rescale:zero_pressure"
    with pytest.raises(ValueError, match="rescale mode"):
        rescale_structure(s, "squash")


def test_every_frame_records_the_reference_pressure_of_the_paper_cell(eam):
    frames = label_structures(surrogate_like_documents(2, seed=8), eam)
    for f in frames:
        assert f.pressure == pytest.approx(-np.trace(np.asarray(f.stress)) / 3)


def test_labelled_frame_survives_json_round_trip(eam):
    frame = label_structures(random_cuzral(seed=2, counts={"Cu": 5, "Zr": 5}, box=6.0, dmin=2.0), eam)[0]
    data = json.loads(json.dumps(jsanitize(frame.model_dump(), strict=True, allow_bson=False)))
    again = LabelledFrame(**data)
    assert again.structure_hash == frame.structure_hash and again.energy == frame.energy
    np.testing.assert_allclose(again.forces_array(), frame.forces_array())


def test_checkpoint_lets_a_killed_labelling_resume_without_relabelling(tmp_path, eam):
    docs = surrogate_like_documents(3, seed=30, counts={"Cu": 8, "Zr": 8, "Al": 2}, box=7.0)
    path = tmp_path / "labels.jsonl"
    first = label_structures(docs[:2], eam, checkpoint=path)  # "killed" after two structures

    class Counting(EAMEngine):
        calls = 0

        def compute(self, atoms):
            Counting.calls += 1
            return super().compute(atoms)

    resumed = label_structures(docs, Counting(), checkpoint=path)
    assert Counting.calls == 1  # only the third structure is computed
    assert [f.energy for f in resumed[:2]] == pytest.approx([f.energy for f in first])
    assert resumed[2].energy == pytest.approx(eam.static(docs[2]["structure"]).energy)
    assert len(path.read_text().splitlines()) == 3
