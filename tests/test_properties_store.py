"""Property inputs fetched from the store: only reference-minimised structures (last relax step)."""

from mlip_glass.properties.store import final_frames


def _frame(h, parent=None, step=None):
    return {"structure_hash": h, "parent_hash": parent, "source": {"step": step}, "subset": "relaxed"}


def test_final_frames_keep_the_last_ionic_step_of_each_relaxation():
    frames = [_frame("a0", "A", 0), _frame("a5", "A", 5), _frame("b3", "B", 3), _frame("a9", "A", 9),
              _frame("b1", "B", 1), _frame("single")]
    assert [f["structure_hash"] for f in final_frames(frames)] == ["a9", "b3", "single"]


def test_final_frames_is_the_datasets_final_relaxed_for_frames_and_their_dicts():
    """One function for the reference-minimised structures: LabelledFrames and their dicts give the same
    selection, rejected frames are left out."""
    from pymatgen.core import Lattice, Structure

    from mlip_glass.datasets.subsets import final_relaxed
    from mlip_glass.reference.schemas import FrameSource, LabelledFrame

    cell = Structure(Lattice.cubic(3.0), ["Cu"], [[0, 0, 0]])
    frames = [LabelledFrame(structure=cell, engine="eam", subset="relaxed", structure_hash=f"{p}{k}", parent_hash=p,
                            source=FrameSource(step=k), rejected=(p == "A" and k == 9))
              for p, k in (("A", 0), ("A", 5), ("B", 3), ("A", 9), ("B", 1))]
    objects = [f.structure_hash for f in final_relaxed(frames)]
    dicts = [f["structure_hash"] for f in final_frames([f.model_dump() for f in frames])]
    assert final_frames is final_relaxed and objects == dicts == ["A5", "B3"]


def test_a_cell_relaxation_that_explodes_is_an_error_naming_the_potential():
    """A pair potential that is purely repulsive has no minimum: the cell grows without bound."""
    import pytest
    from ase.build import bulk

    from mlip_glass.properties.potentials import LammpsPairPotential
    from mlip_glass.properties.relax import RelaxationExplodedError, relax

    repulsive = LammpsPairPotential("soft 4.0", ["* * 5.0"], species=("Cu",), name="soft repulsion")
    atoms = bulk("Cu", "fcc", a=3.6, cubic=True) * (2, 2, 2)
    atoms.rattle(0.05, seed=1)
    with pytest.raises(RelaxationExplodedError, match="soft repulsion"):
        relax(atoms, repulsive, fmax=1e-3, relax_cell=True)
