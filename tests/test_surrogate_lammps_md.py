"""LAMMPS side of the surrogate: inherent structures are minima, MD follows its temperature ramp, restarts."""

import numpy as np
import pytest

from mlip_glass.surrogate.lammps_md import inherent_structure, md_cooling
from mlip_glass.surrogate.model import LJModel, SurrogateInputError
from mlip_glass.surrogate.state import random_liquid
from mlip_glass.surrogate.swap_mc import swap_mc


@pytest.fixture(scope="module")
def model():
    return LJModel.paper()


@pytest.fixture(scope="module")
def hot(model):
    return swap_mc(random_liquid(150, seed=3), model, 4.0, 4.0, 300, seed=1).structure


def test_inherent_structure_is_a_local_minimum(model, hot):
    inh = inherent_structure(hot, model)
    e, f, _ = model.energy_forces_stress(inh.structure)
    assert e == pytest.approx(inh.energy, rel=1e-10)  # LAMMPS and the model agree on the minimum
    assert np.abs(f).max() < 1e-6 * model.energy_unit / model.length_unit * 10
    assert inh.energy < model.energy(hot)
    # random small displacements raise the energy (a minimum, not a saddle along them)
    rng = np.random.default_rng(0)
    for _ in range(3):
        s = inh.structure.copy()
        for i in range(len(s)):
            s.translate_sites([i], rng.normal(0, 1e-3, 3), frac_coords=False, to_unit_cell=False)
        assert model.energy(s) > inh.energy
    assert inh.energy_per_atom_reduced == pytest.approx(inh.energy / 150 / 0.409)


def test_md_cooling_follows_the_linear_temperature_ramp(model, hot):
    res = md_cooling(hot, model, 6.0, 1.0, 10.0, seed=2, n_trace=50)
    assert res.n_steps == 5000
    target = 6.0 + (1.0 - 6.0) * res.trace_time / 10.0
    late = res.trace_time > 2.0
    assert np.mean(np.abs(res.trace_temperature[late] - target[late])) < 0.4
    assert res.energy == pytest.approx(model.energy(res.structure), rel=1e-9)
    assert res.structure.composition == hot.composition


def test_md_cooling_is_reproducible_and_resumes_from_checkpoint(model, hot, tmp_path):
    a = md_cooling(hot, model, 3.0, 2.0, 2.0, seed=5, n_trace=10)
    b = md_cooling(hot, model, 3.0, 2.0, 2.0, seed=5, n_trace=10)
    assert a.energy == b.energy
    ck = tmp_path / "md.restart"
    part = md_cooling(hot, model, 3.0, 2.0, 2.0, seed=5, n_trace=10, checkpoint_path=ck, checkpoint_every=100,
                      stop_after=400)
    assert not part.completed and ck.exists()
    rest = md_cooling(hot, model, 3.0, 2.0, 2.0, seed=5, n_trace=10, checkpoint_path=ck, checkpoint_every=100)
    assert rest.completed and len(rest.trace_time) == 10
    assert rest.trace_time[-1] == pytest.approx(2.0)
    # the thermostat ramp continues where it stopped: final temperatures agree statistically
    assert rest.trace_temperature[-3:].mean() == pytest.approx(2.0, abs=0.6)


def test_md_checkpoints_fall_on_trace_steps_whatever_the_interval_asked(model, hot, tmp_path, monkeypatch):
    # 1000 steps, a trace point every 100: an interval of 250 steps becomes 200 (it used to be written only at
    # the multiples of 250 that are trace steps, every 500: a job killed before then kept nothing)
    from mlip_glass.surrogate import lammps_md

    written = []
    monkeypatch.setattr(lammps_md, "_write_checkpoint",
                        lambda lmp, ck, meta, settings, done, *rest: written.append(done))
    md_cooling(hot, model, 3.0, 2.0, 2.0, seed=5, n_trace=10, checkpoint_path=tmp_path / "md.ckpt",
               checkpoint_every=250)
    assert written == [200, 400, 600, 800, 1000]


@pytest.mark.parametrize("kwargs, field", [({"duration": 0.0}, "duration"), ({"t_start": -1.0}, "t_start"),
                                           ({"timestep": 0.0}, "timestep"), ({"seed": -1}, "seed")])
def test_md_bad_input_is_named(model, hot, kwargs, field):
    with pytest.raises(SurrogateInputError, match=field):
        md_cooling(hot, model, **{"duration": 1.0, **kwargs})


def test_inherent_structure_bad_tolerance(model, hot):
    with pytest.raises(SurrogateInputError, match="ftol"):
        inherent_structure(hot, model, ftol=0.0)
