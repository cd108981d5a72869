"""Assembly: dedupe, stratified seeded 80/20 split, active-learning re-split, GPUMD extxyz content."""

from __future__ import annotations

import io
import re
import warnings

import ase.io
import numpy as np
import pytest

from mlip_glass.datasets.assembly import assemble_dataset, write_dataset
from mlip_glass.datasets.extxyz import read_extxyz
from mlip_glass.reference.engines import EAMEngine
from mlip_glass.reference.schemas import SubsetDocument
from mlip_glass.testing.structures import random_cuzral

warnings.filterwarnings("ignore")
SMALL = {"Cu": 7, "Zr": 7, "Al": 2}


@pytest.fixture(scope="module")
def frames():
    eam = EAMEngine()
    out = []
    plan = {"surrogate": 20, "expanded_compressed": 10, "distorted": 5, "crystal": 1}
    seed = 0
    for subset, n in plan.items():
        for _ in range(n):
            out.append(eam.static(random_cuzral(counts=SMALL, box=6.6, seed=seed, dmin=2.0), subset=subset))
            seed += 1
    return out


def test_split_is_80_20_per_subset_and_each_subset_is_in_both(frames):
    ds = assemble_dataset(frames, seed=1)
    assert ds.counts["surrogate"]["train"] == 16 and ds.counts["surrogate"]["test"] == 4
    assert ds.counts["expanded_compressed"] == {"train": 8, "test": 2, "total": 10, "rejected": 0, "duplicates": 0}
    assert ds.counts["distorted"]["train"] == 4 and ds.counts["distorted"]["test"] == 1
    assert ds.counts["crystal"]["train"] == 1 and ds.counts["crystal"]["test"] == 0
    assert set(ds.frame_hashes_train).isdisjoint(ds.frame_hashes_test)
    assert ds.species == ["Cu", "Zr", "Al"] and ds.engines == ["eam"]


def test_split_is_seeded_and_independent_of_frame_order(frames):
    a = assemble_dataset(frames, seed=4)
    b = assemble_dataset(list(reversed(frames)), seed=4)
    c = assemble_dataset(frames, seed=5)
    assert a.frame_hashes_test == b.frame_hashes_test and a.dataset_hash == b.dataset_hash
    assert set(a.frame_hashes_test) != set(c.frame_hashes_test)


def test_duplicates_are_kept_once_and_rejected_frames_never_enter(frames):
    broken = frames[0].reject("test rejection")
    ds = assemble_dataset([*frames, frames[3], SubsetDocument.from_frames("surrogate", [frames[5]]), broken])
    assert ds.counts["surrogate"]["duplicates"] == 2
    assert ds.counts["surrogate"]["rejected"] == 1
    assert ds.rejected[0]["reason"] == "test rejection"
    assert ds.n_train + ds.n_test == len(frames)
    with pytest.raises(ValueError, match="rejected"):
        assemble_dataset([broken])


def test_active_learning_resplit_keeps_earlier_membership(frames):
    first = assemble_dataset(frames[:25], seed=2)
    eam = EAMEngine()
    new = [eam.static(random_cuzral(counts=SMALL, box=6.6, seed=100 + i, dmin=2.0), subset="mlip_feedback")
           for i in range(10)]
    extra_surrogate = [eam.static(random_cuzral(counts=SMALL, box=6.6, seed=200 + i, dmin=2.0)) for i in range(5)]
    second = assemble_dataset([*frames[:25], *new, *extra_surrogate], seed=99, previous=first)
    assert set(first.frame_hashes_test) <= set(second.frame_hashes_test)
    assert set(first.frame_hashes_train) <= set(second.frame_hashes_train)
    assert second.previous_dataset_hash == first.dataset_hash
    assert second.counts["mlip_feedback"]["test"] == 2 and second.counts["mlip_feedback"]["train"] == 8
    assert second.counts["surrogate"]["test"] == 5  # 20 % of 25 surrogate frames overall


def test_extxyz_holds_energy_forces_virial_and_config_type_for_gpumd(frames, tmp_path):
    ds = assemble_dataset(frames, seed=0)
    paths = write_dataset(ds, tmp_path)
    train = read_extxyz(paths["train"])
    assert len(train) == ds.n_train
    by_hash = {f.structure_hash: f for f in frames}
    header = ds.train_xyz.splitlines()[1]
    assert "energy=" in header and "virial=" in header and "config_type=" in header
    assert re.search(r"Properties=species:S:1:pos:R:3:forces:R:3", header)
    for atoms, h in zip(train, ds.frame_hashes_train):
        f = by_hash[h]
        assert atoms.info["energy"] == pytest.approx(f.energy, abs=1e-8)
        np.testing.assert_allclose(atoms.arrays["forces"], f.forces_array(), atol=1e-8)
        # virial = -stress * V (eV), the GPUMD convention
        np.testing.assert_allclose(atoms.info["virial"], -f.stress_array_ev_a3() * atoms.get_volume(), atol=1e-7)
        assert atoms.info["config_type"] == f.subset
    # plain ASE (what calorine and neppo use) reads the text as stored in the data store
    again = ase.io.read(io.StringIO(ds.test_xyz), index=":", format="extxyz")
    assert len(again) == ds.n_test


def test_cpu_nep_trainer_reads_the_written_training_set(frames):
    """neppo (the CPU trainer the NEP stage uses) builds its container from the text: energies, forces and
    virials as labelled."""
    from pathlib import Path

    neppo_io = pytest.importorskip("neppo.io")
    from neppo.structure_container import StructureContainer

    ds = assemble_dataset(frames, seed=0)
    model = neppo_io.read_model(Path(__file__).parent / "data" / "nep_cuzral_tiny.txt")
    atoms = ase.io.read(io.StringIO(ds.train_xyz), index=":", format="extxyz")
    container = StructureContainer(model, atoms)
    assert len(container) == ds.n_train
    by_hash = {f.structure_hash: f for f in frames}
    for k, h in enumerate(ds.frame_hashes_train[:3]):
        data = container._structures[k]
        assert data.energy == pytest.approx(by_hash[h].energy, abs=1e-8)
        np.testing.assert_allclose(np.asarray(data.virial).reshape(3, 3), by_hash[h].virial, atol=1e-7)
