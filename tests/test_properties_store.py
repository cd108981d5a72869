"""Property inputs fetched from the store: only reference-minimised structures (last relax step)."""

from mlip_glass.properties.store import final_frames


def _frame(h, parent=None, step=None):
    return {"structure_hash": h, "parent_hash": parent, "source": {"step": step}, "subset": "relaxed"}


def test_final_frames_keep_the_last_ionic_step_of_each_relaxation():
    frames = [_frame("a0", "A", 0), _frame("a5", "A", 5), _frame("b3", "B", 3), _frame("a9", "A", 9),
              _frame("b1", "B", 1), _frame("single")]
    assert [f["structure_hash"] for f in final_frames(frames)] == ["a9", "b3", "single"]


def test_a_cell_relaxation_that_explodes_is_an_error_naming_the_potential():
    """A pair potential that is purely repulsive has no minimum: the cell grows without bound."""
    import pytest
    from ase.build import bulk

    from mlip_glass.properties.potentials import LammpsPairPotential
    from mlip_glass.properties.relax import RelaxationExploded, relax

    repulsive = LammpsPairPotential("soft 4.0", ["* * 5.0"], species=("Cu",), name="soft repulsion")
    atoms = bulk("Cu", "fcc", a=3.6, cubic=True) * (2, 2, 2)
    atoms.rattle(0.05, seed=1)
    with pytest.raises(RelaxationExploded, match="soft repulsion"):
        relax(atoms, repulsive, fmax=1e-3, relax_cell=True)
