"""Initial states: random liquids at rho* = 1.75 with the paper's composition and no overlaps."""

import numpy as np
import pytest
from pymatgen.core import Lattice, Structure

from mlip_glass.provenance import structure_hash
from mlip_glass.surrogate.model import LJModel, SurrogateInputError
from mlip_glass.surrogate.state import check_composition, from_reduced, random_liquid, to_reduced


def test_random_liquid_has_paper_density_composition_and_no_overlaps():
    model = LJModel.paper()
    s = random_liquid(150, 1.75, seed=4)
    assert s.composition.as_dict() == {"Cu": 69, "Zr": 69, "Al": 12}
    assert s.lattice.abc[0] == pytest.approx(12.93, abs=0.005)  # L = 4.41 sigma_ZrZr
    st = to_reduced(s, model)
    assert st.density == pytest.approx(1.75)
    sig = model.pair_tables()["sigma"]
    d = s.distance_matrix + np.eye(len(s)) * 100
    ratio = d / (model.length_unit * sig[np.ix_(st.types, st.types)])
    assert ratio.min() >= 0.75 - 1e-9


def test_random_liquid_is_reproducible_by_seed():
    assert structure_hash(random_liquid(40, seed=1)) == structure_hash(random_liquid(40, seed=1))
    assert structure_hash(random_liquid(40, seed=1)) != structure_hash(random_liquid(40, seed=2))


def test_reduced_roundtrip_preserves_structure():
    model = LJModel.paper()
    s = random_liquid(30, seed=9)
    back = from_reduced(to_reduced(s, model), model)
    assert structure_hash(back) == structure_hash(s)


@pytest.mark.parametrize("kwargs, field", [({"density": 0.0}, "density"), ({"density": -1.0}, "density"),
                                           ({"n": 0}, "n must"), ({"composition": {"Ni": 1.0}}, "Ni")])
def test_random_liquid_bad_input_is_named(kwargs, field):
    with pytest.raises(SurrogateInputError, match=field):
        random_liquid(**{"n": 20, **kwargs})


def test_overlapping_atoms_and_wrong_composition_are_rejected():
    model = LJModel.paper()
    s = Structure(Lattice.cubic(10), ["Cu", "Zr"], [[0, 0, 0], [0.5, 0, 0]], coords_are_cartesian=True)
    with pytest.raises(SurrogateInputError, match="overlapping"):
        to_reduced(s, model)
    with pytest.raises(SurrogateInputError, match="composition"):
        check_composition(random_liquid(50, seed=0), model, {"Cu": 0.2, "Zr": 0.7, "Al": 0.1})
    tric = Structure(Lattice.from_parameters(10, 10, 10, 80, 90, 90), ["Cu"], [[0, 0, 0]])
    with pytest.raises(SurrogateInputError, match="orthorhombic"):
        to_reduced(tric, model)
