"""VASP path: INCAR = the paper's settings key by key; full Maker path (inputs → fake VASP → TaskDoc → frames)
with outputs written from EAM calculations, so energies, forces, stresses per ionic step are checked."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from jobflow import run_locally
from pymatgen.core import Lattice, Structure
from pymatgen.io.vasp import Incar

from mlip_glass.reference.engines import EAMEngine
from mlip_glass.testing.fake_vasp import fake_vasp_reference_dir, run_fake_vasp
from mlip_glass.testing.structures import random_cuzral
from mlip_glass.reference.vasp import VaspEngine
from mlip_glass.reference.vasp_sets import (
    PaperMDSetGenerator,
    PaperRelaxSetGenerator,
    PaperStaticSetGenerator,
    incar_diff,
    paper_incar,
)
from mlip_glass.store import memory_job_store

warnings.filterwarnings("ignore")

#: SPEC.md §4 written out independently of the package constants
SPEC_COMMON = {"GGA": "PE", "ENCUT": 450, "KSPACING": 0.162, "EDIFF": 1e-6, "ISPIN": 1, "ISMEAR": 1, "SIGMA": 0.1}
SPEC_RELAX = {"ISIF": 3, "EDIFFG": -0.01, "IBRION": 2}
SPEC_MD = {"IBRION": 0, "MDALGO": 3, "ISIF": 3, "POTIM": 1, "NSW": 60, "TEEND": 2000, "LANGEVIN_GAMMA": [20, 20, 20],
           "LANGEVIN_GAMMA_L": 5}


@pytest.fixture(scope="module")
def glass():
    return random_cuzral(seed=7)


def _written_incar(tmp_path, structure, generator):
    from atomate2.vasp.files import write_vasp_input_set

    write_vasp_input_set(structure, generator, directory=tmp_path, potcar_spec=True)
    return Incar.from_file(tmp_path / "INCAR"), tmp_path


def _check(incar, spec):
    for key, want in spec.items():
        have = incar.get(key)
        if isinstance(want, list):
            assert list(have) == pytest.approx(want), key
        elif isinstance(want, str):
            assert str(have).upper() == want, key
        else:
            assert have == pytest.approx(want), key


@pytest.mark.parametrize(
    "generator,spec",
    [(PaperStaticSetGenerator, {"NSW": 0}), (PaperRelaxSetGenerator, SPEC_RELAX), (PaperMDSetGenerator, SPEC_MD)],
    ids=["static", "relax", "md"],
)
def test_written_incar_equals_the_paper_key_by_key(tmp_path, glass, generator, spec):
    incar, directory = _written_incar(tmp_path, glass, generator())
    _check(incar, {**SPEC_COMMON, **spec})
    # k-points from KSPACING (no KPOINTS file): Monkhorst–Pack, ceil(|b_i| / KSPACING) = 3x3x3 for 12.93 Å
    assert not (directory / "KPOINTS").exists()
    assert incar.get("KGAMMA") is False
    mesh = [math.ceil(2 * math.pi / 12.93 / 0.162 - 1e-9)] * 3
    assert mesh == [3, 3, 3]
    # POTCAR via spec: PBE PAW of each species, no POTCAR file needed
    assert set((directory / "POTCAR.spec").read_text().split()) == {"Cu", "Zr", "Al"} or set(
        s.split("_")[0] for s in (directory / "POTCAR.spec").read_text().split()
    ) == {"Cu", "Zr", "Al"}
    # the package's own diff against its paper dict is empty
    kind = {PaperStaticSetGenerator: "static", PaperRelaxSetGenerator: "relax", PaperMDSetGenerator: "md"}[generator]
    assert incar_diff(dict(incar), paper_incar(kind, glass)) == {}
    # stress is written: static relies on VASP's ISIF default (2) for NSW = 0; relax/MD set ISIF 3
    assert incar.get("ISIF", 2) >= 2
    # POSCAR: the same cell and sites (atomate2 groups sites by species)
    from pymatgen.io.vasp import Poscar

    written = Poscar.from_file(directory / "POSCAR").structure
    np.testing.assert_allclose(written.lattice.matrix, glass.lattice.matrix, atol=1e-6)
    key = lambda st: sorted((site.specie.symbol, *np.round(site.frac_coords % 1, 5)) for site in st)  # noqa: E731
    assert key(written) == key(glass)


def test_atomate2_conflicting_defaults_are_overridden(tmp_path, glass):
    from atomate2.vasp.sets.core import MDSetGenerator, StaticSetGenerator

    base_md = MDSetGenerator(ensemble="npt").get_input_set(glass, potcar_spec=True).incar
    assert base_md["LANGEVIN_GAMMA"][0] == 10 and base_md["PMASS"] == 10 and base_md["ENCUT"] == 520
    md = PaperMDSetGenerator().get_input_set(glass, potcar_spec=True).incar
    assert md["LANGEVIN_GAMMA"] == [20.0] * 3 and md["LANGEVIN_GAMMA_L"] == 5 and md["PMASS"] == 1000
    assert md["ENCUT"] == 450 and "PREC" not in md
    base_static = StaticSetGenerator().get_input_set(glass, potcar_spec=True).incar
    assert base_static["ISMEAR"] != 1 and base_static["GGA"].upper() == "PS"  # not Methfessel-Paxton; PBEsol
    static = PaperStaticSetGenerator().get_input_set(glass, potcar_spec=True).incar
    assert static["ISMEAR"] == 1 and static["GGA"].upper() == "PE"


def test_user_can_override_any_incar_key(glass):
    gen = PaperRelaxSetGenerator(user_incar_settings={"ENCUT": 520, "EDIFFG": -0.02, "NCORE": 4})
    incar = gen.get_input_set(glass, potcar_spec=True).incar
    assert incar["ENCUT"] == 520 and incar["EDIFFG"] == -0.02 and incar["NCORE"] == 4
    assert set(incar_diff(dict(incar), paper_incar("relax"))) == {"ENCUT", "EDIFFG"}
    md = PaperMDSetGenerator(nsteps=10, end_temp=1500, langevin_gamma=15).get_input_set(glass, potcar_spec=True).incar
    assert md["NSW"] == 10 and md["TEEND"] == 1500 and md["LANGEVIN_GAMMA"] == [15] * 3


@pytest.fixture
def small():
    """16 atoms: B2 CuZr 2x2x2 with one Al, strained (a = 3.30 Å) and rattled (relaxes in ~100 CG steps)."""
    s = Structure(Lattice.cubic(3.30), ["Cu", "Zr"], [[0, 0, 0], [0.5, 0.5, 0.5]]) * (2, 2, 2)
    s.replace(0, "Al")
    rng = np.random.default_rng(0)
    return Structure(s.lattice, s.species, s.cart_coords + rng.normal(0, 0.05, (len(s), 3)),
                     coords_are_cartesian=True)


def test_vasp_maker_path_parses_energies_forces_stress_of_every_ionic_step(tmp_path, monkeypatch, small):
    """atomate2's own testing approach: monkeypatch_vasp checks the inputs against a reference directory
    and copies outputs; the reference outputs are EAM calculations written as vasprun.xml/OUTCAR/CONTCAR."""
    from atomate2.utils.testing.vasp import monkeypatch_vasp

    from mlip_glass.reference.vasp_jobs import PaperAIMDMaker, PaperRelaxMaker, PaperStaticMaker, VaspLabelMaker

    ref = tmp_path / "ref"
    fake_vasp_reference_dir(ref / "static", small, PaperStaticSetGenerator())
    fake_vasp_reference_dir(ref / "relax", small, PaperRelaxSetGenerator(user_incar_settings={"NSW": 300}))
    fake_vasp_reference_dir(ref / "aimd", small, PaperMDSetGenerator(nsteps=6), seed=1)
    eam = EAMEngine()
    gen = monkeypatch_vasp(monkeypatch, ref)
    mock = next(gen)
    try:
        mock({"label static 0": "static", "label relax 0": "relax", "label aimd 0": "aimd"})
        flows = {
            "static": VaspLabelMaker(name="label", protocol="static", static_maker=PaperStaticMaker()),
            "relax": VaspLabelMaker(
                name="label", subset="relaxed", protocol="relax", keep="all",
                relax_maker=PaperRelaxMaker(input_set_generator=PaperRelaxSetGenerator(user_incar_settings={"NSW": 300})),
            ),
            "aimd": VaspLabelMaker(
                name="label", subset="aimd", protocol="aimd",
                aimd_maker=PaperAIMDMaker(input_set_generator=PaperMDSetGenerator(nsteps=6)),
            ),
        }
        outputs = {}
        for key, maker in flows.items():
            job = maker.make([small])
            store = memory_job_store()
            responses = run_locally(job, store=store, create_folders=True, root_dir=tmp_path / key,
                                    ensure_success=True)
            outputs[key] = store.get_output(job.uuid, load=True)
    finally:
        next(gen, None)

    static = outputs["static"].frames
    assert len(static) == 1 and static[0].engine == "vasp"
    ref_frame = eam.static(small)
    assert static[0].energy == pytest.approx(ref_frame.energy, abs=1e-6)
    np.testing.assert_allclose(static[0].forces, ref_frame.forces_array(), atol=1e-6)
    # stress: VASP kbar (compressive positive) → GPa with ASE sign
    np.testing.assert_allclose(static[0].stress, ref_frame.stress, atol=1e-5)
    assert static[0].engine_settings["incar"]["ENCUT"] == 450

    relax = outputs["relax"].frames
    eam_relax = eam.relax(small, keep="all", max_steps=300)
    assert len(relax) == len(eam_relax) > 2
    for got, want in zip(relax, eam_relax):
        assert got.energy == pytest.approx(want.energy, abs=1e-6)
        np.testing.assert_allclose(got.forces, want.forces_array(), atol=1e-6)
        np.testing.assert_allclose(got.stress, want.stress, atol=1e-5)
    assert [f.source.step for f in relax] == list(range(len(relax)))

    aimd = outputs["aimd"].frames
    assert len(aimd) == 6 and all(f.subset == "aimd" for f in aimd)
    eam_aimd = eam.aimd(small, nsteps=6, seed=1)
    assert [f.energy for f in aimd] == pytest.approx([f.energy for f in eam_aimd], abs=1e-6)


def test_vasp_engine_protocol_with_a_fake_executable(monkeypatch, small):
    import atomate2.vasp.run as a2run

    monkeypatch.setattr(a2run, "run_vasp", run_fake_vasp)
    vasp = VaspEngine(write_input_set_kwargs={"potcar_spec": True})
    eam = EAMEngine()
    frame = vasp.static(small, subset="mlip_feedback")
    assert frame.engine == "vasp" and frame.subset == "mlip_feedback"
    assert frame.energy == pytest.approx(eam.static(small).energy, abs=1e-6)
    assert frame.cpu_time_s > 0
    frames = vasp.relax(small, keep=5)
    assert not frames[-1].rejected and np.abs(frames[-1].forces_array()).max() <= 0.01
    assert all(f.source.step % 5 == 0 for f in frames[:-1])
    md = vasp.aimd(small, nsteps=4)
    assert len(md) == 4


def test_relax_force_check_rejects_a_successful_looking_run_above_ediffg(tmp_path, small):
    import shutil

    from emmet.core.tasks import TaskDoc

    from mlip_glass.reference.vasp import frames_from_task_doc

    ref = fake_vasp_reference_dir(tmp_path / "ref", small, PaperStaticSetGenerator())
    for f in (ref / "inputs").iterdir():
        shutil.copy(f, ref / "outputs")
    doc = TaskDoc.from_directory(ref / "outputs")
    ok = frames_from_task_doc(doc, keep="last")
    assert not ok[-1].rejected
    bad = frames_from_task_doc(doc, keep="last", check_relax_forces=True, ediffg=-0.01)
    assert bad[-1].rejected and "not converged" in bad[-1].rejection_reason


def test_unconverged_or_failed_vasp_runs_give_rejected_frames(monkeypatch, small):
    import atomate2.vasp.run as a2run

    from mlip_glass.reference.vasp import frames_from_task_doc

    monkeypatch.setattr(a2run, "run_vasp", run_fake_vasp)
    vasp = VaspEngine(write_input_set_kwargs={"potcar_spec": True})
    frames = vasp.relax(small, keep="last", max_steps=2)  # NSW 2: cannot reach |EDIFFG|
    # emmet marks the task failed (forces above EDIFFG); the frame is kept as a rejected record
    assert frames[-1].rejected and "failed" in frames[-1].rejection_reason

    class FailedDoc:
        state = "failed"
        calcs_reversed = []
        input = None
        vasp_objects = {}

    with pytest.raises(ValueError, match="no ionic steps"):
        frames_from_task_doc(FailedDoc())
