"""Onset runs: equilibrium IS energies fall with temperature; diffusion slows on cooling."""

import pytest

from mlip_glass.surrogate.model import SurrogateInputError
from mlip_glass.surrogate.onset import diffusion_relaxation_times, onset_is_energy
from mlip_glass.surrogate.timescale import onset_temperature


def test_equilibrium_is_energy_is_lower_at_lower_temperature():
    kw = dict(n_equil=2000, n_samples=3, sample_every=200, seed=1)
    cold = onset_is_energy(t_on=2.09, **kw)
    hot = onset_is_energy(t_on=8.0, **kw)
    assert len(cold["samples"]) == 3 and cold["t_on"] == 2.09
    assert cold["e_is_on"] < hot["e_is_on"] - 0.1


def test_diffusion_slows_on_cooling_and_gives_relaxation_times():
    out = diffusion_relaxation_times(temperatures=(10.0, 6.0, 3.0), t_equil=2.0, t_run=6.0, seed=2)
    d = out["diffusion"]
    assert d[0] > d[1] > d[2] > 0
    assert out["tau"] == pytest.approx([1 / v for v in d])


@pytest.mark.slow
def test_onset_temperature_from_md_lies_between_liquid_and_glass():
    out = diffusion_relaxation_times(seed=3)
    t_on = onset_temperature(out["temperatures"], out["tau"])
    assert 2.0 < t_on < 8.0


def test_onset_bad_input():
    with pytest.raises(SurrogateInputError, match="t_on"):
        onset_is_energy(t_on=0.0)
    with pytest.raises(SurrogateInputError, match="temperatures"):
        diffusion_relaxation_times(temperatures=(4.0, -1.0), t_equil=0.1, t_run=0.1)
