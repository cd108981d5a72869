"""g(r): ideal-lattice peaks and coordination, weighted totals, g/G/S conversions, comparison metrics,
a short melt-quench with the EAM, and an exploding run named in the error."""

import numpy as np
import pytest
from ase.build import bulk

from mlip_glass.properties.potentials import cheng_ma_sheng
from mlip_glass.properties.protocols import RDFProtocol
from mlip_glass.properties.rdf import (
    G_to_g,
    MeltQuenchError,
    S_to_g,
    average_runs,
    compare_rdf,
    composition_counts,
    faber_ziman_total,
    g_to_G,
    g_to_S,
    melt_quench,
    random_alloy,
    read_experimental_rdf,
    scattering_factors,
    structure_rdf,
    weighted_total,
)

A = 3.615


def test_ideal_fcc_peaks_sit_on_the_neighbour_shells_with_coordination_12():
    atoms = bulk("Cu", "fcc", a=A, cubic=True).repeat((3, 3, 3))  # 10.8 Å box, r_max 8 > half box
    res = structure_rdf(atoms, r_max=8.0, n_bins=800)
    r, g = res["r"], res["total"]
    width = r[1] - r[0]
    shells = A * np.sqrt(np.arange(1, 10) / 2)  # a sqrt(n/2): all fcc shells up to 7.67 Å
    occupied = r[g > 0]
    assert len(occupied) > 5
    assert np.all(np.min(np.abs(occupied[:, None] - shells[None, :]), axis=1) <= width)
    assert abs(occupied[0] - A / np.sqrt(2)) <= width
    first = r < 3.0
    coordination = np.sum(4 * np.pi * res["number_density"] * r[first] ** 2 * g[first]) * width
    assert coordination == pytest.approx(12.0, rel=0.01)


@pytest.fixture(scope="module")
def alloy_rdf():
    atoms = random_alloy(n_atoms=400, seed=3)
    return structure_rdf(atoms, r_max=6.0, n_bins=60)


def test_concentration_weighted_partials_give_the_total(alloy_rdf):
    total = weighted_total(alloy_rdf, "concentration")
    # LAMMPS normalises like pairs by N_i - 1 (no self pairs): relative difference ~ 1 / N_Al = 1/32
    np.testing.assert_allclose(total[20:], alloy_rdf["total"][20:], rtol=0.05)


def test_faber_ziman_weights_reduce_to_single_partial_when_one_species_scatters():
    partials = {"Cu-Cu": np.full(3, 2.0), "Cu-Zr": np.full(3, 5.0), "Zr-Zr": np.full(3, 7.0)}
    conc = {"Cu": 0.5, "Zr": 0.5}
    np.testing.assert_allclose(faber_ziman_total(partials, conc, {"Cu": 1.0, "Zr": 0.0}), 2.0)
    np.testing.assert_allclose(faber_ziman_total(partials, conc, {"Cu": 1.0, "Zr": 1.0}), 4.75)


def test_scattering_factors_from_tables():
    xray0 = scattering_factors(["Cu", "Zr", "Al"], "xray")
    assert xray0 == {"Cu": 29.0, "Zr": 40.0, "Al": 13.0}
    xray = scattering_factors(["Cu", "Zr"], "xray", q=2.7)
    assert 20 < xray["Cu"] < 29 and 25 < xray["Zr"] < 40  # form factors fall with q
    neutron = scattering_factors(["Cu", "Zr", "Al"], "neutron")
    assert neutron["Cu"] == pytest.approx(7.718) and neutron["Al"] == pytest.approx(3.449)
    with pytest.raises(ValueError, match="weighting"):
        scattering_factors(["Cu"], "electron")


def test_g_G_and_S_conversions_invert_and_match_gaussian_fourier_transform():
    rho, amp, s = 0.06, -0.5, 0.8
    r = np.linspace(1e-4, 12, 4001)
    g = 1 + amp * np.exp(-(r**2) / (2 * s**2))
    np.testing.assert_allclose(G_to_g(r, g_to_G(r, g, rho), rho), g, atol=1e-12)
    q = np.linspace(0.05, 25, 3000)
    S = g_to_S(r, g, rho, q)
    exact = 1 + rho * amp * (2 * np.pi * s**2) ** 1.5 * np.exp(-(q**2) * s**2 / 2)
    np.testing.assert_allclose(S, exact, atol=1e-6)
    back = S_to_g(q, S, rho, r[100:3000:50])
    np.testing.assert_allclose(back, g[100:3000:50], atol=1e-3)


def test_comparison_of_a_curve_with_itself_is_zero_and_grows_with_a_shift(tmp_path):
    r = np.linspace(0.5, 12, 500)
    g = 1 + np.exp(-((r - 2.7) ** 2) / 0.05) * 2 - 0.3 * np.exp(-((r - 4.0) ** 2))
    same = compare_rdf(r, g, r, g)
    assert same["mae"] == 0.0 and same["wasserstein"] == pytest.approx(0.0, abs=1e-12)
    assert same["r_range"] == (2.3, 10.0)
    shifted = compare_rdf(r, g, r + 0.1, g)
    assert shifted["mae"] > 0.01 and shifted["wasserstein"] > 0.001
    # an experimental file with G(r) and its density reads back as g(r)
    rho = 0.058
    path = tmp_path / "exp.dat"
    np.savetxt(path, np.c_[r, g_to_G(r, g, rho)], header="r G")
    exp = read_experimental_rdf(path, kind="G", number_density=rho)
    assert compare_rdf(r, g, exp["r"], exp["g"])["mae"] < 1e-10
    with pytest.raises(ValueError, match="number_density"):
        read_experimental_rdf(path, kind="G")


def test_composition_counts_and_random_alloy_density():
    assert composition_counts(150, {"Cu": 0.46, "Zr": 0.46, "Al": 0.08}) == {"Cu": 69, "Zr": 69, "Al": 12}
    atoms = random_alloy(150, seed=1, density=0.05)
    assert len(atoms) / atoms.get_volume() == pytest.approx(0.05)
    assert atoms.get_all_distances(mic=True)[np.triu_indices(150, 1)].min() >= 2.0


def test_short_eam_melt_quench_gives_a_liquid_like_g_of_r():
    atoms = random_alloy(n_atoms=120, seed=5)
    protocol = RDFProtocol(t_high=1500, t_low=300, cooling_rate_k_per_ns=4e5, equilibration_ps=1.0, sample_ps=0.4,
                           sample_frames=4, r_max=8.0, n_bins=80)
    res = melt_quench(atoms, cheng_ma_sheng(), protocol, seed=11)
    r, g = res["r"], res["total"]
    assert np.all(g[r < 1.8] == 0)  # no atoms closer than the EAM core
    assert 2.4 < r[np.argmax(g)] < 3.3  # first shell of Cu-Zr-Al
    assert np.mean(g[r > 6.5]) == pytest.approx(1.0, abs=0.15)
    assert 0.045 < res["number_density"] < 0.07
    assert res["temperature"] == pytest.approx(300, rel=0.5)
    avg = average_runs([res])
    assert avg["n_runs"] == 1 and np.all(avg["total_err"] >= 0)
    assert set(avg["partials"]) == {"Cu-Cu", "Cu-Zr", "Cu-Al", "Zr-Zr", "Zr-Al", "Al-Al"}


def test_exploding_quench_raises_an_error_naming_the_run():
    atoms = random_alloy(n_atoms=60, seed=2)
    with pytest.raises(MeltQuenchError, match="run 7"):
        melt_quench(atoms, cheng_ma_sheng(), RDFProtocol(t_high=2000, timestep_fs=40.0, equilibration_ps=20,
                                                         sample_frames=1), run_label="run 7")
