"""Swap Monte Carlo: energy bookkeeping, swap rules, restart bit-identity, equilibrium vs LAMMPS MD."""

import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from mlip_glass.surrogate.kernel import build_grid, build_verlet, refresh_particle
from mlip_glass.surrogate.lammps_md import md_cooling
from mlip_glass.surrogate.model import LJModel, SurrogateInputError
from mlip_glass.surrogate.state import random_liquid, to_reduced
from mlip_glass.surrogate.swap_mc import swap_mc


@pytest.fixture(scope="module")
def model():
    return LJModel.paper()


@pytest.fixture(scope="module")
def liquid():
    return random_liquid(150, seed=21)


def _positions(res, model):
    return to_reduced(res.structure, model, check_overlap=False)


@pytest.mark.parametrize("n_atoms, neighbour_lists", [(150, False), (1000, True)])
def test_running_energy_equals_recomputation_after_1e5_moves(model, n_atoms, neighbour_lists):
    """Incremental bookkeeping over >= 1e5 attempted moves vs an independent from-scratch sum (rel 1e-10)."""
    s = random_liquid(n_atoms, seed=2)
    sweeps = -(-100_000 // n_atoms) + 1
    res = swap_mc(s, model, 2.0, 0.5, sweeps, seed=5, neighbour_lists=neighbour_lists)
    assert res.settings["neighbour_lists"] is neighbour_lists
    assert res.acceptance["translation"]["attempted"] + res.acceptance["swap"]["attempted"] >= 100_000
    assert res.acceptance["translation"]["accepted"] > 1000  # the bookkeeping was exercised
    assert res.energy == pytest.approx(model.energy(res.structure), rel=1e-10)


def test_swaps_conserve_composition_and_never_exchange_cu_with_zr(model, liquid):
    res = swap_mc(liquid, model, 10.01, 1.0, 300, seed=7)
    assert res.structure.composition == liquid.composition
    acc = res.acceptance
    assert "swap_Cu-Zr" not in acc and "swap_Zr-Cu" not in acc
    assert acc["swap_Al-Cu"]["attempted"] > 0 and acc["swap_Al-Zr"]["attempted"] > 0
    assert acc["swap_Al-Cu"]["accepted"] > 0 and acc["swap_Al-Zr"]["accepted"] > 0
    # 80/20 mix of attempts
    total = acc["translation"]["attempted"] + acc["swap"]["attempted"]
    assert total == 300 * 150
    assert acc["swap"]["attempted"] / total == pytest.approx(0.2, abs=0.01)
    # the swap moved species: some site changed its species
    changed = sum(a.specie != b.specie for a, b in zip(liquid, res.structure))
    assert changed > 0


def test_translation_only_mc_moves_no_species(model, liquid):
    res = swap_mc(liquid, model, 4.0, 4.0, 50, seed=1, swap_fraction=0.0)
    assert res.acceptance["swap"]["attempted"] == 0
    assert [s.specie for s in res.structure] == [s.specie for s in liquid]


def test_same_seed_same_result_different_seed_different(model, liquid):
    a = swap_mc(liquid, model, 3.0, 1.0, 40, seed=3)
    b = swap_mc(liquid, model, 3.0, 1.0, 40, seed=3)
    c = swap_mc(liquid, model, 3.0, 1.0, 40, seed=4)
    assert a.energy_reduced == b.energy_reduced and a.rng_state == b.rng_state
    assert a.energy_reduced != c.energy_reduced


@pytest.mark.parametrize("n_atoms, neighbour_lists", [(150, False), (1000, True)])
def test_interrupted_and_resumed_run_is_bit_identical(model, tmp_path, n_atoms, neighbour_lists):
    s = random_liquid(n_atoms, seed=8)
    kw = dict(seed=11, neighbour_lists=neighbour_lists, n_trace=60)
    full = swap_mc(s, model, 6.0, 0.5, 60, **kw)
    ck = tmp_path / "run.npz"
    part = swap_mc(s, model, 6.0, 0.5, 60, checkpoint_path=ck, checkpoint_every=10, stop_after=27, **kw)
    assert not part.completed and part.sweeps_done == 27 and ck.exists()
    resumed = swap_mc(s, model, 6.0, 0.5, 60, checkpoint_path=ck, checkpoint_every=10, **kw)
    assert resumed.completed
    pa, pb = _positions(full, model), _positions(resumed, model)
    assert np.array_equal(pa.positions, pb.positions) and np.array_equal(pa.types, pb.types)
    assert full.energy_reduced == resumed.energy_reduced
    assert full.rng_state == resumed.rng_state
    assert np.array_equal(full.trace_energy_per_atom, resumed.trace_energy_per_atom)
    assert full.acceptance == resumed.acceptance


@pytest.mark.parametrize("stop_after", [21, 27])
def test_spatial_resorting_keeps_resume_bit_identical_and_the_chain(model, tmp_path, monkeypatch, stop_after):
    """Verlet runs re-sort particles in space at fixed sweeps (here every 7): a run interrupted on or off a
    re-sort sweep resumes bit-identically, and the re-sorting changes only the summation order."""
    smc = sys.modules[swap_mc.__module__]  # the module (the package exports the function under its name)
    s = random_liquid(1000, seed=8)
    kw = dict(seed=11, neighbour_lists=True, n_trace=40)
    unsorted = swap_mc(s, model, 6.0, 0.5, 40, **kw)
    monkeypatch.setattr(smc, "RESORT_EVERY_MOVES", 7 * 1000)
    sorts = []
    resort = smc._Arrays.resort
    monkeypatch.setattr(smc._Arrays, "resort", lambda self: (sorts.append(self.sweep), resort(self)))
    full = swap_mc(s, model, 6.0, 0.5, 40, **kw)
    assert sorts == [7, 14, 21, 28, 35]
    ck = tmp_path / "run.npz"
    part = swap_mc(s, model, 6.0, 0.5, 40, checkpoint_path=ck, checkpoint_every=10, stop_after=stop_after, **kw)
    assert not part.completed and part.sweeps_done == stop_after
    resumed = swap_mc(s, model, 6.0, 0.5, 40, checkpoint_path=ck, checkpoint_every=10, **kw)
    assert _same_final_state(full, resumed, model)
    assert np.array_equal(full.trace_energy_per_atom, resumed.trace_energy_per_atom)
    assert full.acceptance == resumed.acceptance
    assert full.rng_state == unsorted.rng_state and full.acceptance == unsorted.acceptance
    assert full.energy_reduced == pytest.approx(unsorted.energy_reduced, rel=1e-12)
    e_ref = model.energy(full.structure)
    assert full.energy == pytest.approx(e_ref, rel=1e-10)


def _same_final_state(a, b, model):
    pa, pb = _positions(a, model), _positions(b, model)
    return (np.array_equal(pa.positions, pb.positions) and np.array_equal(pa.types, pb.types)
            and a.energy_reduced == b.energy_reduced and a.rng_state == b.rng_state)


def test_verlet_result_is_bit_identical_for_any_skin(model):
    """The lists only select candidates (sums in index order; entries beyond the cutoff add +0.0): a skin
    that forces a refresh every few moves and one that almost never refreshes give the same bits."""
    s = random_liquid(1000, seed=3)
    runs = [swap_mc(s, model, 3.0, 0.5, 30, seed=4, neighbour_lists=True, skin=skin) for skin in (0.27, 0.9)]
    assert runs[0].settings["neighbour_list_refreshes"] > 10 * runs[1].settings["neighbour_list_refreshes"]
    assert _same_final_state(runs[0], runs[1], model)


def test_all_pairs_and_verlet_kernels_run_the_same_markov_chain(model):
    """Same random numbers, same moves, same decisions: only the summation order differs (rounding)."""
    s = random_liquid(1000, seed=6)
    a = swap_mc(s, model, 4.0, 0.5, 20, seed=8, neighbour_lists=False)
    b = swap_mc(s, model, 4.0, 0.5, 20, seed=8, neighbour_lists=True)
    assert a.rng_state == b.rng_state and a.acceptance == b.acceptance
    assert a.acceptance["swap"]["accepted"] > 0 and a.acceptance["translation"]["accepted"] > 1000
    assert b.energy_reduced == pytest.approx(a.energy_reduced, rel=1e-10)
    pa, pb = _positions(a, model), _positions(b, model)
    assert np.array_equal(pa.types, pb.types)
    assert np.allclose(pa.positions, pb.positions, rtol=0, atol=1e-9)


def _pairs_within(x, y, z, box, radius):
    d = np.stack([x, y, z], axis=1)
    diff = d[None, :, :] - d[:, None, :]
    diff -= box * np.round(diff / box)
    r2 = (diff ** 2).sum(-1)
    np.fill_diagonal(r2, np.inf)
    return [np.flatnonzero(row < radius ** 2) for row in r2]


def test_local_verlet_refresh_keeps_lists_equal_to_all_pairs_within_the_list_radius():
    """After particles move and are refreshed one at a time, every list is exactly the set of particles
    whose reference positions lie within r_list, in increasing index order."""
    rng = np.random.default_rng(0)
    n, box, radius = 800, np.full(3, 9.0), 2.3
    x, y, z = (rng.random(n) * 9.0 for _ in range(3))
    ncell = np.full(3, 3, dtype=np.int64)
    nlist, ncount = build_verlet(x, y, z, box, radius ** 2, ncell, 8)  # capacity grows from 8
    assert [list(nlist[i, :ncount[i]]) for i in range(n)] == [list(v) for v in _pairs_within(x, y, z, box, radius)]
    rx, ry, rz = x.copy(), y.copy(), z.copy()
    grid = build_grid(rx, ry, rz, box, ncell, 8)
    nlist = np.concatenate([nlist, np.empty((n, 40), dtype=np.int32)], axis=1)  # room to grow
    for s in rng.integers(0, n, 300):
        x[s] = (x[s] + rng.uniform(-1.5, 1.5)) % 9.0  # far enough to change cells and neighbours
        y[s] = (y[s] + rng.uniform(-1.5, 1.5)) % 9.0
        assert refresh_particle(s, x, y, z, rx, ry, rz, box, radius ** 2, ncell, nlist, ncount, *grid,
                                np.empty(nlist.shape[1], dtype=np.int32))
    expected = _pairs_within(rx, ry, rz, box, radius)
    assert all(list(nlist[i, :ncount[i]]) == list(expected[i]) for i in range(n))


def test_skin_not_covering_a_trial_move_is_a_named_error(model, liquid):
    with pytest.raises(SurrogateInputError, match="skin"):
        swap_mc(liquid, model, 2.0, 1.0, 5, seed=0, neighbour_lists=True, skin=0.2)


_KILL_SCRIPT = """
import sys
from mlip_glass.surrogate.state import random_liquid
from mlip_glass.surrogate.swap_mc import swap_mc
swap_mc(random_liquid(150, seed=8), None, 8.0, 0.5, 20000, seed=13, checkpoint_path=sys.argv[1],
        checkpoint_every=200)
"""


def test_killed_process_resumes_bit_identically(model, tmp_path):
    """SIGKILL a running swap-MC process after its first checkpoint, resume here, compare with a clean run."""
    ck = tmp_path / "killed.npz"
    proc = subprocess.Popen([sys.executable, "-c", _KILL_SCRIPT, str(ck)])
    try:
        deadline = time.time() + 120
        while not ck.exists() and proc.poll() is None and time.time() < deadline:
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
    with np.load(ck) as f:
        killed_at = int(f["sweep"])
    assert 0 < killed_at < 20000, killed_at  # it really was interrupted mid-run
    s = random_liquid(150, seed=8)
    resumed = swap_mc(s, model, 8.0, 0.5, 20000, seed=13, checkpoint_path=ck, checkpoint_every=200)
    clean = swap_mc(s, model, 8.0, 0.5, 20000, seed=13)
    assert resumed.energy_reduced == clean.energy_reduced and resumed.rng_state == clean.rng_state
    pa, pb = _positions(clean, model), _positions(resumed, model)
    assert np.array_equal(pa.positions, pb.positions) and np.array_equal(pa.types, pb.types)


def test_checkpoint_of_another_run_is_refused(model, liquid, tmp_path):
    ck = tmp_path / "run.npz"
    swap_mc(liquid, model, 5.0, 1.0, 20, seed=1, checkpoint_path=ck, stop_after=5)
    with pytest.raises(SurrogateInputError, match="different run"):
        swap_mc(liquid, model, 5.0, 1.0, 20, seed=2, checkpoint_path=ck)


def test_temperature_schedule_is_linear_in_sweeps(model, liquid):
    res = swap_mc(liquid, model, 10.01, 0.01, 101, seed=1, n_trace=101)
    assert res.trace_temperature[0] == pytest.approx(10.01)  # temperature of the first sweep
    assert res.trace_temperature[-1] == pytest.approx(0.01)
    assert np.allclose(np.diff(res.trace_temperature), -0.1)


@pytest.mark.parametrize("kwargs, field", [
    ({"t_start": 0.0}, "t_start"), ({"t_end": -1.0}, "t_end"), ({"n_sweeps": 0}, "n_sweeps"),
    ({"n_sweeps": 2.5}, "n_sweeps"), ({"delta_r_max": 0.0}, "delta_r_max"), ({"swap_fraction": 1.5}, "swap_fraction"),
    ({"swap_species": "Ni"}, "swap_species"), ({"seed": -3}, "seed"),
])
def test_bad_input_is_a_named_error(model, liquid, kwargs, field):
    args = {"t_start": 2.0, "t_end": 1.0, "n_sweeps": 10, "seed": 0, **kwargs}
    with pytest.raises(SurrogateInputError, match=field):
        swap_mc(liquid, model, **args)


def _block_mean(x, n_blocks=10):
    blocks = np.array([b.mean() for b in np.array_split(np.asarray(x), n_blocks)])
    return blocks.mean(), blocks.std(ddof=1) / np.sqrt(n_blocks)


def _equilibrium_energies(model, n_mc, t_md, seed=0):
    """Mean potential energy per atom at T* = 4 (equilibrium liquid) by swap-MC, translation MC, MD."""
    temp = 4.0
    eq = swap_mc(random_liquid(150, seed=30 + seed), model, temp, temp, 2000, seed=1 + seed)
    out = {}
    for name, frac in (("swap", 0.2), ("translation", 0.0)):
        r = swap_mc(eq.structure, model, temp, temp, n_mc, seed=2 + seed, n_trace=n_mc, swap_fraction=frac)
        out[name] = _block_mean(r.trace_energy_per_atom)
    pre = md_cooling(eq.structure, model, temp, temp, 10.0, seed=3 + seed, preminimize=False)
    md = md_cooling(pre.structure, model, temp, temp, t_md, seed=4 + seed, timestep=0.002,
                    n_trace=int(t_md * 20), preminimize=False)
    out["md"] = _block_mean(md.trace_energy_per_atom)
    out["md_temperature"] = float(md.trace_temperature.mean())
    return out


def _assert_agree(a, b, n_sigma=4.0):
    (ma, ea), (mb, eb) = a, b
    assert abs(ma - mb) < n_sigma * np.hypot(ea, eb), (a, b)


def test_swap_mc_mean_energy_matches_lammps_md_at_liquid_temperature(model):
    """N = 150, T* = 4: <E>/N from swap-MC, translation-only MC and LAMMPS NVT MD agree (block errors)."""
    e = _equilibrium_energies(model, n_mc=8000, t_md=40.0)
    for key in ("swap", "translation", "md"):
        assert e[key][1] < 0.1  # the comparison resolves differences of ~0.3 eps/atom or better
    _assert_agree(e["swap"], e["md"])
    _assert_agree(e["translation"], e["md"])
    _assert_agree(e["swap"], e["translation"])
    assert e["md_temperature"] == pytest.approx(4.0, abs=0.15)


@pytest.mark.slow
def test_swap_mc_mean_energy_matches_lammps_md_precisely(model):
    e = _equilibrium_energies(model, n_mc=80_000, t_md=400.0, seed=7)
    # energy fluctuations of N = 150 at rho* = 1.75 decorrelate slowly (translation-only MC: 4000-sweep
    # block means still scatter by ~0.1 eps/atom), so errors stay at a few 0.01 even for long runs
    for key in ("swap", "translation", "md"):
        assert e[key][1] < 0.05
    _assert_agree(e["swap"], e["md"], 3.0)
    _assert_agree(e["translation"], e["md"], 3.0)


def test_box_shorter_than_twice_the_cutoff_sums_every_image():
    """At N = 24 (L = 7.0 Å < 2 r_cut,ZrZr = 11.7 Å) the minimum image misses pairs (the kernel once gave 74.0 eV
    for a 24-atom liquid whose full periodic energy is 64.8 eV): swap_mc routes the run to the small-box kernel,
    whose energy is the periodic sum (LJModel.energy, ASE neighbour list)."""
    from mlip_glass.surrogate.model import LJModel
    from mlip_glass.surrogate.state import random_liquid
    from mlip_glass.surrogate.swap_mc import swap_mc

    model = LJModel.paper()
    result = swap_mc(random_liquid(24, seed=1), model, 2.0, 2.0, 50, seed=1)
    assert result.settings["kernel"] == "small_box"
    assert result.energy == pytest.approx(model.energy(result.structure), abs=1e-8)
