"""Energetics: single-point energies equal LAMMPS' and the parity statistics are exact on known lines."""

import numpy as np
import pytest
from ase.build import bulk

from mlip_glass.properties.energetics import energy_parity, energy_per_atom
from mlip_glass.properties.potentials import cheng_ma_sheng


def test_parity_recovers_known_line_and_zero_error_on_identity():
    x = np.linspace(-6, -5, 7)
    stats = energy_parity(x, 1.282 * x + 0.3)
    assert stats["slope"] == pytest.approx(1.282)
    assert stats["intercept"] == pytest.approx(0.3)
    assert stats["r2"] == pytest.approx(1.0)
    same = energy_parity(x, x)
    assert same["rmse"] == same["mae"] == 0.0 and same["slope_origin"] == pytest.approx(1.0)
    shifted = energy_parity(x, x + 0.5)
    assert shifted["rmse"] == pytest.approx(0.5) and shifted["rmse_shifted"] == pytest.approx(0.0, abs=1e-12)


def test_fcc_cu_cohesive_energy_of_cheng_ma_sheng_eam():
    # the setfl file's Cu is fitted to the experimental cohesive energy, 3.49 eV/atom within 2 %
    relaxed = energy_per_atom(bulk("Cu", "fcc", a=3.6, cubic=True), cheng_ma_sheng(), relax_first=True)
    assert relaxed == pytest.approx(-3.49, rel=0.02)
    unrelaxed = energy_per_atom(bulk("Cu", "fcc", a=3.7, cubic=True), cheng_ma_sheng())
    assert unrelaxed > relaxed


def test_parity_needs_pairs():
    with pytest.raises(ValueError, match="paired"):
        energy_parity([1.0], [1.0])
