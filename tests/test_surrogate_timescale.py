"""Time-scale mapping: the logarithmic fit, its inversion, the onset from Arrhenius departure, Fig. 2a."""

import numpy as np
import pytest

from mlip_glass.surrogate.model import SurrogateInputError
from mlip_glass.surrogate.timescale import (
    build_map,
    fit_log_cooling,
    onset_temperature,
    plot_timescale_map,
)


def test_fit_recovers_known_logarithmic_law():
    tau = np.array([1e2, 3e2, 1e3, 1e4, 4e4])
    e = -3.5 - 0.07 * np.log10(tau / 500.0)
    slope, intercept, s_err, _ = fit_log_cooling(tau, e)
    assert slope == pytest.approx(-0.07, rel=1e-10)
    assert intercept == pytest.approx(-3.5 + 0.07 * np.log10(500.0), rel=1e-10)
    assert s_err < 1e-10


def test_onset_point_lies_on_the_line_and_inversion_is_exact():
    tau = np.array([10.0, 100.0, 1000.0])
    e = -3.2 - 0.1 * np.log10(tau)
    tmap = build_map(tau, e, e_is_on=-3.35, t_on=2.09)
    assert tmap.tau_on == pytest.approx(10 ** 1.5)
    assert tmap.e_is(tmap.tau_on) == pytest.approx(-3.35)
    # swap-MC states below the MD range land at longer effective times (extrapolation)
    assert tmap.tau_eff(-3.7) == pytest.approx(10 ** 5)
    assert np.allclose(tmap.e_is(tmap.tau_eff(np.array([-3.3, -3.9]))), [-3.3, -3.9])
    fallback = build_map(tau, e)
    assert fallback.tau_on == pytest.approx(10.0)


def test_map_rejects_non_decreasing_md_energies():
    with pytest.raises(SurrogateInputError, match="slope"):
        build_map([10, 100], [-3.3, -3.1])
    with pytest.raises(SurrogateInputError, match="distinct"):
        fit_log_cooling([10, 10], [-3.3, -3.1])


def test_onset_temperature_from_departure_from_arrhenius():
    """Arrhenius above T = 2.5, super-Arrhenius (VFT-like) below: the departure is found near 2.5."""
    T = np.array([10, 8, 6, 5, 4, 3.5, 3.0, 2.7, 2.5, 2.3, 2.1, 2.0])
    ln_tau = 0.5 + 3.0 / T
    extra = np.where(T < 2.5, 4.0 * (2.5 - T), 0.0)
    t_on = onset_temperature(T, np.exp(ln_tau + extra), n_high=4, threshold=0.1)
    assert 2.45 < t_on < 2.5
    with pytest.raises(SurrogateInputError, match="Arrhenius"):
        onset_temperature(T, np.exp(ln_tau), n_high=4)


def test_fig2a_png_is_written(tmp_path):
    tmap = build_map([10, 100, 1000], [-3.3, -3.4, -3.5], e_is_on=-3.35)
    path = plot_timescale_map(tmp_path / "f.png", [10, 100, 1000], [-3.3, -3.4, -3.5], [1e5], [-3.7], tmap,
                              mc_labels=["1e4"])
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000
