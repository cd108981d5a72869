"""0 K elastic constants: fcc Cu with the shipped EAM against an independent raw-LAMMPS strain-stress
calculation; isotropic VRH formulas on a known isotropic tensor."""

import numpy as np
import pytest
from ase.build import bulk

from mlip_glass.data import cheng_ma_sheng_eam
from mlip_glass.properties.elastic import elastic_tensor, in_linear_regime, isotropic_moduli, stiffness_asymmetry
from mlip_glass.properties.potentials import cheng_ma_sheng
from mlip_glass.utils.lammps import new_lammps

A_CU = 3.615


def independent_lammps_cubic_constants(strain=1e-3):
    """C11, C12, C44 (GPa) of fcc Cu from central differences of LAMMPS' own pressure tensor, with a
    LAMMPS-built lattice, box/relax to zero pressure and change_box strains (no mlip_glass code)."""
    lmp = new_lammps()
    lmp.commands_string(f"""
        units metal
        boundary p p p
        lattice fcc {A_CU}
        region box prism 0 4 0 4 0 4 0 0 0
        create_box 1 box
        create_atoms 1 box
        mass 1 63.546
        pair_style eam/alloy
        pair_coeff * * {cheng_ma_sheng_eam()} Cu
        fix r all box/relax aniso 0.0
        minimize 0 1e-10 1000 10000
        unfix r
        run 0
    """)
    lx = lmp.get_thermo("lx")
    lz = lmp.get_thermo("lz")

    def stress_after(command):  # tensile-positive stress in GPa
        lmp.command(command)
        lmp.command("minimize 0 1e-10 1000 10000")
        return {k: -lmp.get_thermo(k) * 1e-4 for k in ("pxx", "pyy", "pxy", "pxz", "pyz")}

    plus = stress_after(f"change_box all x final 0 {lx * (1 + strain)!r} remap units box")
    minus = stress_after(f"change_box all x final 0 {lx * (1 - strain)!r} remap units box")
    lmp.command(f"change_box all x final 0 {lx!r} remap units box")
    splus = stress_after(f"change_box all xz final {strain * lz!r} remap units box")
    sminus = stress_after(f"change_box all xz final {-strain * lz!r} remap units box")
    lmp.close()
    c11 = (plus["pxx"] - minus["pxx"]) / (2 * strain)
    c12 = (plus["pyy"] - minus["pyy"]) / (2 * strain)
    c44 = (splus["pxz"] - sminus["pxz"]) / (2 * strain)
    return c11, c12, c44


@pytest.fixture(scope="module")
def cu_result():
    atoms = bulk("Cu", "fcc", a=A_CU, cubic=True).repeat((3, 3, 3))
    return elastic_tensor(atoms, cheng_ma_sheng())


def test_fcc_cu_elastic_constants_match_independent_lammps_strain_stress(cu_result):
    c11, c12, c44 = independent_lammps_cubic_constants()
    c = cu_result["C"]
    for i in range(3):
        assert c[i, i] == pytest.approx(c11, rel=0.01)
        assert c[3 + i, 3 + i] == pytest.approx(c44, rel=0.01)
    for i, j in ((0, 1), (0, 2), (1, 2)):
        assert c[i, j] == pytest.approx(c12, rel=0.01)
    # cubic symmetry: no normal-shear coupling
    assert np.abs(c[:3, 3:]).max() < 0.01 * c11
    # a reversible (elastic) response has C_ij = d2E/de_i de_j: symmetric
    assert cu_result["asymmetry"] == pytest.approx(stiffness_asymmetry(c)) and cu_result["asymmetry"] < 1e-3


def test_a_rearrangement_under_one_strain_makes_c_asymmetric_and_the_sample_nonlinear():
    """Stresses of an isotropic solid (λ = 90, μ = 25 GPa) at ±0.2 % strains, fitted like elastic_tensor does; then
    the same with a stress drop of 0.3 GPa in every component after the +zz strain (an irreversible event)."""
    from pymatgen.analysis.elasticity import ElasticTensor
    from pymatgen.analysis.elasticity.strain import Strain

    lam, mu = 90.0, 25.0
    c_true = np.full((6, 6), 0.0)
    c_true[:3, :3] = lam
    c_true[np.arange(3), np.arange(3)] += 2 * mu
    c_true[np.arange(3, 6), np.arange(3, 6)] = mu
    true_tensor = ElasticTensor.from_voigt(c_true)

    def fitted(jump: float) -> np.ndarray:
        strains, stresses = [], []
        for component in range(6):
            for e in (-0.002, 0.002):
                strain = Strain.from_voigt(np.eye(6)[component] * e)
                stress = np.asarray(true_tensor.calculate_stress(strain))
                if component == 2 and e > 0:
                    stress = stress - jump
                strains.append(strain)
                stresses.append(stress)
        return np.asarray(ElasticTensor.from_independent_strains(strains, stresses, eq_stress=np.zeros((3, 3))).voigt)

    elastic, plastic = fitted(0.0), fitted(0.3)
    assert np.allclose(elastic, c_true, rtol=0.02, atol=0.5)
    assert stiffness_asymmetry(elastic) < 0.01 and in_linear_regime({"C": elastic.tolist()})
    assert stiffness_asymmetry(plastic) > 0.1 and not in_linear_regime({"C": plastic.tolist()})
    assert not in_linear_regime({"asymmetry": 0.39}) and in_linear_regime({"B": 100.0})  # stored value; no C
    # symmetric but with a soft mode (negative eigenvalue): not a stable minimum, not elastic
    soft = c_true.copy()
    soft[5, 5] = -5.0
    assert stiffness_asymmetry(soft) == 0 and not in_linear_regime({"C": soft.tolist()})


def test_fcc_cu_moduli_follow_from_cubic_constants(cu_result):
    c11, c12, c44 = cu_result["C"][0, 0], cu_result["C"][0, 1], cu_result["C"][3, 3]
    assert cu_result["B"] == pytest.approx((c11 + 2 * c12) / 3, rel=1e-3)  # Voigt = Reuss for cubic
    assert cu_result["G_voigt"] == pytest.approx((c11 - c12 + 3 * c44) / 5, rel=1e-3)
    assert cu_result["G_reuss"] == pytest.approx(
        5 * (c11 - c12) * c44 / (4 * c44 + 3 * (c11 - c12)), rel=1e-3
    )


def test_vrh_moduli_of_isotropic_tensor_are_lame_moduli():
    lam, mu = 80.0, 30.0
    c = np.zeros((6, 6))
    c[:3, :3] = lam
    c[np.arange(3), np.arange(3)] = lam + 2 * mu
    c[np.arange(3, 6), np.arange(3, 6)] = mu
    m = isotropic_moduli(c)
    assert m["B"] == pytest.approx(lam + 2 * mu / 3)
    assert m["G"] == pytest.approx(mu)
    assert m["E"] == pytest.approx(mu * (3 * lam + 2 * mu) / (lam + mu))
    assert m["nu"] == pytest.approx(lam / (2 * (lam + mu)))
    for key in ("B_voigt", "B_reuss"):
        assert m[key] == pytest.approx(m["B"])


def test_vrh_moduli_agree_with_pymatgen_on_anisotropic_tensor():
    from pymatgen.analysis.elasticity import ElasticTensor

    rng = np.random.default_rng(3)
    a = rng.normal(size=(6, 6))
    c = a @ a.T * 10 + np.eye(6) * 50
    m = isotropic_moduli(c)
    tensor = ElasticTensor.from_voigt(c)
    assert m["B"] == pytest.approx(tensor.k_vrh)
    assert m["G"] == pytest.approx(tensor.g_vrh)
    assert m["nu"] == pytest.approx(tensor.homogeneous_poisson)


def test_bad_strains_are_rejected():
    with pytest.raises(ValueError, match="norm_strains"):
        elastic_tensor(bulk("Cu", "fcc", a=A_CU, cubic=True), cheng_ma_sheng(), norm_strains=(0.0, 0.1))
