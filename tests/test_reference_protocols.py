"""Protocol objects: the paper's numbers as defaults, old keywords as overrides, one range check, round trips."""

import pytest
from monty.json import MontyDecoder, jsanitize

from mlip_glass.datasets.jobs import AIMDSubsetMaker, RelaxedSubsetMaker
from mlip_glass.reference import constants as C
from mlip_glass.reference.protocols import AIMDProtocol, RelaxProtocol
from mlip_glass.reference.vasp_sets import PaperMDSetGenerator, paper_md_incar


def test_aimd_protocol_defaults_are_the_papers_numbers():
    p = AIMDProtocol()
    assert (p.nsteps, p.t_start_k, p.t_end_k, p.timestep_fs) == (C.AIMD_STEPS, C.AIMD_T_START_K, C.AIMD_T_END_K,
                                                                  C.AIMD_TIMESTEP_FS)
    assert (p.gamma_per_ps, p.gamma_lattice_per_ps) == (20.0, 5.0)
    assert RelaxProtocol() == RelaxProtocol(fmax=0.01, max_steps=C.RELAX_MAX_STEPS, keep="last")


def test_old_keywords_and_vasp_names_override_the_protocol():
    base = AIMDProtocol(nsteps=10)
    p = AIMDProtocol.from_any(base, t_end_k=1500.0, start_temp=50.0, langevin_gamma=10.0, timestep_fs=None)
    assert (p.nsteps, p.t_start_k, p.t_end_k, p.gamma_per_ps, p.timestep_fs) == (10, 50.0, 1500.0, 10.0, 1.0)
    assert AIMDProtocol.from_any({"nsteps": 7}) == AIMDProtocol(nsteps=7)
    with pytest.raises(TypeError, match="no field"):
        AIMDProtocol.from_any(None, nstep=3)


@pytest.mark.parametrize("kwargs, message", [
    ({"nsteps": 0}, "nsteps must be >= 1"),
    ({"t_start_k": 0.0}, "temperatures must be in"),
    ({"timestep_fs": 20.0}, "timestep_fs must be in"),
    ({"gamma_lattice_per_ps": 0.0}, "Langevin frictions"),
])
def test_aimd_protocol_rejects_values_out_of_range(kwargs, message):
    with pytest.raises(ValueError, match=message):
        AIMDProtocol(**kwargs)


def test_relax_protocol_rejects_bad_keep_and_tolerance():
    with pytest.raises(ValueError, match="keep must be"):
        RelaxProtocol(keep="some")
    with pytest.raises(ValueError, match="fmax must be > 0"):
        RelaxProtocol(fmax=0.0)


def test_vasp_set_and_incar_follow_the_protocol():
    p = AIMDProtocol(nsteps=12, t_end_k=1000.0)
    generator = PaperMDSetGenerator.from_protocol(p)
    assert generator.protocol == p
    assert (generator.nsteps, generator.end_temp) == (12, 1000.0)
    assert PaperMDSetGenerator().protocol == AIMDProtocol()
    assert paper_md_incar(3, p) == p.vasp_incar(3)
    assert paper_md_incar(3, nsteps=12, end_temp=1000.0) == p.vasp_incar(3)
    assert paper_md_incar(2)["LANGEVIN_GAMMA"] == [20.0, 20.0]


def test_makers_take_a_protocol_or_its_dict_and_round_trip():
    new = AIMDSubsetMaker(n_select=1, protocol=AIMDProtocol(nsteps=20))
    from_dict = AIMDSubsetMaker(n_select=1, protocol={"nsteps": 20})
    assert from_dict.protocol == new.protocol == AIMDProtocol(nsteps=20)
    assert from_dict._params() == new._params() and new._params()["nsteps"] == 20
    back = MontyDecoder().process_decoded(jsanitize(new.as_dict(), strict=True))
    assert back.protocol == AIMDProtocol(nsteps=20)
    relaxed = RelaxedSubsetMaker(protocol=RelaxProtocol(keep=100))
    assert relaxed._params()["keep"] == 100
