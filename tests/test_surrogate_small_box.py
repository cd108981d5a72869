"""Swap-MC with every periodic image: the DFT-size cells (N = 24) the main kernel refuses."""

from __future__ import annotations

import numpy as np
import pytest

from mlip_glass.surrogate.model import LJModel
from mlip_glass.surrogate.small_box import image_shifts, small_box_swap_mc
from mlip_glass.surrogate.state import random_liquid


@pytest.fixture(scope="module")
def model():
    return LJModel.paper()


def test_running_energy_equals_the_full_periodic_sum_at_n24(model):
    """After 48,000 moves the kernel's running energy equals LJModel.energy (ASE neighbour list, independent)."""
    result = small_box_swap_mc(random_liquid(24, seed=1), model, 2.0, 2.0, 2000, seed=1)
    assert result.energy == pytest.approx(model.energy(result.structure), abs=1e-8)
    # the minimum image alone misses pairs at this box (7.0 Å < 2 r_cut = 11.7 Å): the 6 face and 12 edge
    # neighbour cells can hold pairs within the cutoff of a minimum-image vector (|s| < r_cut + L√3/2)
    assert len(image_shifts(np.array([2.394] * 3), 2.0)) == 19


def test_swaps_conserve_composition_and_never_exchange_cu_with_zr(model):
    start = random_liquid(24, seed=5)
    result = small_box_swap_mc(start, model, 1.0, 1.0, 3000, seed=3)
    assert result.structure.composition == start.composition  # Cu11 Zr11 Al2
    swaps = {k for k in result.acceptance if k.startswith("swap_")}
    assert swaps == {"swap_Al-Cu", "swap_Al-Zr"}
    assert result.acceptance["swap"]["accepted"] > 0 and result.acceptance["translation"]["accepted"] > 0


def test_cooling_gives_a_glass_below_the_liquid_and_is_reproducible(model):
    start = random_liquid(24, seed=7)
    liquid = small_box_swap_mc(start, model, 2.0, 2.0, 2000, seed=2)
    glass = small_box_swap_mc(start, model, 10.01, 0.01, 20000, seed=2)
    again = small_box_swap_mc(start, model, 10.01, 0.01, 20000, seed=2)
    assert glass.energy_reduced / 24 < liquid.energy_reduced / 24 - 1.0
    assert glass.energy == again.energy
    assert glass.trace_temperature[-1] == pytest.approx(0.01, abs=1e-3)


def test_agrees_with_the_main_kernel_where_both_apply(model):
    """N = 150 (box > 2 r_cut): both chains sample the same Hamiltonian; their energies are the periodic sum."""
    result = small_box_swap_mc(random_liquid(150, seed=3), model, 1.0, 1.0, 100, seed=4)
    assert result.energy == pytest.approx(model.energy(result.structure), rel=1e-10)


def test_swap_mc_maker_cools_a_24_atom_cell(model):
    """The Maker path (random liquid, its equilibration, cooling, inherent structure) at a DFT-size cell."""
    from jobflow import run_locally

    from mlip_glass.store import memory_job_store
    from mlip_glass.surrogate.jobs import SwapMCCoolingMaker

    store = memory_job_store()
    job = SwapMCCoolingMaker(n_atoms=24, n_sweeps=2000, equilibration_sweeps=200).make()
    run_locally(job, store=store, ensure_success=True)
    from pymatgen.core import Structure

    doc = store.get_output(job.uuid)
    assert doc["n_atoms"] == 24 and doc["settings"]["kernel"] == "small_box"
    structure = Structure.from_dict(doc["structure"])
    assert doc["energy_per_atom"] == pytest.approx(model.energy(structure) / 24, abs=1e-9)
    assert doc["e_is_per_atom_reduced"] <= doc["energy_per_atom_reduced"] + 1e-9  # minimisation lowers the energy
