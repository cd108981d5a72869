"""AQS simple shear: the shear modulus of a crystal equals the elastic constant of the shear plane."""

import numpy as np
import pytest
from ase.build import bulk

from mlip_glass.properties.aqs import aqs_shear, fit_shear_modulus
from mlip_glass.properties.elastic import elastic_tensor
from mlip_glass.properties.potentials import cheng_ma_sheng


@pytest.mark.parametrize("plane, voigt", [("xy", 5), ("yz", 3)])
def test_aqs_shear_modulus_of_fcc_cu_equals_c44(plane, voigt):
    atoms = bulk("Cu", "fcc", a=3.615, cubic=True).repeat((3, 3, 3))
    potential = cheng_ma_sheng()
    c = elastic_tensor(atoms, potential)["C"]
    result = aqs_shear(atoms, potential, strain_step=5e-4, plane=plane)
    assert result["G"] == pytest.approx(c[voigt, voigt], rel=0.02)
    assert result["stress"][0] == pytest.approx(0.0, abs=0.05)  # relaxed start
    assert np.all(np.diff(result["energy"]) > 0)  # elastic loading stores energy


def test_fit_uses_only_the_window():
    strain = np.linspace(0, 0.01, 21)
    stress = np.where(strain <= 0.006, 30 * strain, 1e3)
    assert fit_shear_modulus(strain, stress, (0.004, 0.006)) == pytest.approx(30.0)
    with pytest.raises(ValueError, match="fit_range"):
        fit_shear_modulus(strain, stress, (0.0041, 0.0042))
