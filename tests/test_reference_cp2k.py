"""CP2K as a reference engine: input, parsing, and (marker ``dft``) real calculations checked against physics.

The real calculations use a 4-atom fcc Al cell at low cutoff (a few seconds each): what is checked does not
depend on the settings being production quality — forces are the derivative of the energy, the stress is the
derivative of the energy with strain, a stored label equals a direct call of CP2K with its stored settings,
and a non-converged SCF is a rejected frame that carries its reason and its CPU time.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from ase.build import bulk

from mlip_glass.datasets.analysis import cost_ledger
from mlip_glass.reference.cp2k import (
    CP2KEngine,
    CP2KError,
    CP2KSettings,
    SCFNotConvergedError,
    cp2k_command,
    cp2k_input,
    kpoint_grid,
    parse_cp2k_output,
)
from mlip_glass.reference.engines import get_engine
from mlip_glass.reference.labelling import label_structures
from mlip_glass.units import EV_PER_A3_TO_GPA

DATA = Path(__file__).parent / "data" / "cp2k"
#: cheap settings of the real-calculation tests (the physics checked holds at any cutoff)
TINY = dict(cutoff_ry=200.0, rel_cutoff_ry=30.0, electronic_temperature_k=2000.0, mpi_ranks=1)


def displaced_al4():
    atoms = bulk("Al", "fcc", a=4.05, cubic=True)
    atoms.positions[0] += [0.08, 0.03, -0.05]
    return atoms


@pytest.fixture(scope="module")
def cp2k():
    """CP2K on PATH, or skip (fail under CI=true: CI must run the ``dft`` tests, `make install-dft`)."""
    if shutil.which("cp2k.psmp") or shutil.which("cp2k.popt") or shutil.which("cp2k"):
        return True
    message = "CP2K is not installed (`make install-dft`)"
    if os.environ.get("CI"):
        pytest.fail(message + " — CI must run the dft tests")
    pytest.skip(message)


# -- without CP2K ---------------------------------------------------------------------------------------
def test_kpoint_grid_follows_the_vasp_kspacing_convention():
    # the paper: KSPACING 0.162 Å^-1 gives 3x3x3 for the 12.93 Å cubic cell (SPEC §4)
    assert kpoint_grid(np.eye(3) * 12.93, 0.162) == (3, 3, 3)
    assert kpoint_grid(np.eye(3) * 12.93, None) == (1, 1, 1)
    assert kpoint_grid(np.diag([4.0, 4.0, 8.0]), 0.5) == (4, 4, 2)


def test_input_has_the_protocol_of_a_metal():
    atoms = bulk("CuZr", "cesiumchloride", a=3.26)
    text = cp2k_input(atoms, CP2KSettings(kpoint_spacing_per_a=0.3))
    for line in ("&XC_FUNCTIONAL PBE", "METHOD FERMI_DIRAC", "ELECTRONIC_TEMPERATURE [K] 1160.45",
                 "CUTOFF 400.0", "REL_CUTOFF 40.0", "POTENTIAL GTH-PBE-q11", "POTENTIAL GTH-PBE-q12",
                 "BASIS_SET DZVP-MOLOPT-SR-GTH", "STRESS_TENSOR ANALYTICAL", "SCHEME MONKHORST-PACK 7 7 7",
                 "EPS_SCF 1.000E-06"):
        assert line in text, line
    assert "UNRESTRICTED_KOHN_SHAM" not in text  # non-spin-polarised, as the paper


def test_bad_settings_name_the_field():
    with pytest.raises(ValueError, match="cutoff_ry=-1"):
        CP2KSettings(cutoff_ry=-1)
    with pytest.raises(ValueError, match="mixing_alpha"):
        CP2KSettings(mixing_alpha=1.5)


def test_parse_a_real_output_in_ase_units():
    energy, forces, stress, scf = parse_cp2k_output((DATA / "al4_static.out").read_text(), 4)
    # ENERGY| line of that run, in Hartree
    assert energy == pytest.approx(-8.052479925954621 * 27.211386024367243, rel=1e-6)
    assert forces.shape == (4, 3)
    assert np.abs(forces.sum(axis=0)).max() < 1e-3  # Newton's third law (printed sum ≈ 0)
    assert forces[0, 0] < 0  # atom 0 was pushed +x out of its site: the force pulls it back
    # CP2K prints a pressure (positive = compressed); the cell is compressed (Γ point, low cutoff)
    assert np.trace(stress) < 0
    assert stress == pytest.approx(stress.T)
    assert scf > 0


def test_parse_raises_on_a_non_converged_scf():
    with pytest.raises(SCFNotConvergedError, match="NOT converged"):
        parse_cp2k_output((DATA / "al4_scf_not_converged.out").read_text(), 4)
    with pytest.raises(CP2KError, match="no total energy"):
        parse_cp2k_output("nothing here", 4)


def test_command_can_be_configured(monkeypatch):
    monkeypatch.setenv("MLIP_GLASS_CP2K_COMMAND", "srun -n {ranks} cp2k.psmp")
    assert cp2k_command(8) == ["srun", "-n", "8", "cp2k.psmp"]


# -- with CP2K ------------------------------------------------------------------------------------------
@pytest.mark.dft
def test_label_equals_a_direct_call_with_its_stored_settings(cp2k, tmp_path):
    engine = get_engine("cp2k", dft=TINY)
    frame = engine.static(displaced_al4())
    assert not frame.rejected
    stored = frame.engine_settings
    assert stored["code"] == "cp2k" and stored["version"]
    assert stored["pseudopotentials"]["Al"] == "GTH-PBE-q3" and stored["kpoint_grid"] == [1, 1, 1]
    # a direct CP2K run of the input written from the stored settings, outside the engine
    fields = {k: stored[k] for k in CP2KSettings.__dataclass_fields__}
    (tmp_path / "in.inp").write_text(cp2k_input(displaced_al4(), CP2KSettings(**fields)))
    subprocess.run([*cp2k_command(1), "-i", "in.inp", "-o", "out.out"], cwd=tmp_path, check=True,
                   env={**os.environ, "OMP_NUM_THREADS": "1"}, capture_output=True)
    energy, forces, stress, _ = parse_cp2k_output((tmp_path / "out.out").read_text(), 4)
    assert frame.energy == pytest.approx(energy, abs=1e-5)
    assert np.asarray(frame.forces) == pytest.approx(forces, abs=1e-4)
    # CPU time includes the CP2K process (the Python parent only waits)
    assert frame.cpu_time_s > 0.5


@pytest.mark.dft
def test_forces_and_stress_are_derivatives_of_the_energy(cp2k):
    engine = CP2KEngine(dft=TINY)
    atoms = displaced_al4()
    frame = engine.static(atoms)
    h = 0.02  # Å
    energies = []
    for sign in (1, -1):
        moved = atoms.copy()
        moved.positions[0, 0] += sign * h
        energies.append(engine.static(moved).energy)
    force_fd = -(energies[0] - energies[1]) / (2 * h)
    assert np.asarray(frame.forces)[0, 0] == pytest.approx(force_fd, rel=0.05, abs=0.005)
    # isotropic strain s: dE/ds = -3 V p  →  p = -dE/ds / (3V)
    s = 0.004
    strained = []
    for sign in (1, -1):
        scaled = atoms.copy()
        scaled.set_cell(atoms.cell * (1 + sign * s), scale_atoms=True)
        strained.append(engine.static(scaled).energy)
    pressure_fd = -(strained[0] - strained[1]) / (2 * s) / (3 * atoms.get_volume()) * EV_PER_A3_TO_GPA
    assert frame.pressure == pytest.approx(pressure_fd, rel=0.05, abs=0.3)


@pytest.mark.dft
def test_scf_failure_is_a_rejected_frame_with_its_cost(cp2k, tmp_path):
    engine = CP2KEngine(dft={**TINY, "max_scf": 2}, workdir=str(tmp_path / "runs"))
    checkpoint = tmp_path / "labels.jsonl"
    structures = [displaced_al4(), bulk("Al", "fcc", a=4.0, cubic=True)]
    frames = label_structures(structures, engine, subset="surrogate", checkpoint=checkpoint)
    assert len(frames) == 2 and all(f.rejected for f in frames)
    assert all("SCF run NOT converged" in f.rejection_reason for f in frames)
    assert all(f.cpu_time_s > 0 for f in frames)
    ledger = cost_ledger(frames)["subsets"]["surrogate"]
    assert ledger["n_rejected"] == 2 and ledger["cpu_time_s"] == pytest.approx(sum(f.cpu_time_s for f in frames))
    # a rerun with the checkpoint runs no calculation again (one folder per CP2K run)
    runs = len(list((tmp_path / "runs").iterdir()))
    again = label_structures(structures, engine, subset="surrogate", checkpoint=checkpoint)
    assert len(list((tmp_path / "runs").iterdir())) == runs == 2
    assert [f.rejection_reason for f in again] == [f.rejection_reason for f in frames]


@pytest.mark.dft
def test_relaxation_lowers_the_energy_and_restarts_the_wavefunction(cp2k, tmp_path):
    engine = CP2KEngine(dft=TINY, workdir=str(tmp_path))
    frames = engine.relax(displaced_al4(), fmax=0.05, max_steps=15, keep="all", relax_cell=False)
    energies = [f.energy for f in frames if not f.rejected]
    assert energies[-1] < energies[0]
    assert np.abs(np.asarray(frames[-1].forces)).max() <= 0.05 + 1e-9
    inputs = sorted(tmp_path.glob("run_*/cp2k.inp"))
    assert "SCF_GUESS ATOMIC" in inputs[0].read_text()
    assert all("SCF_GUESS RESTART" in p.read_text() for p in inputs[1:])


def test_a_missing_cp2k_is_an_error_not_a_rejected_frame(monkeypatch):
    from mlip_glass.reference import cp2k as module

    module.cp2k_executable.cache_clear()
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.delenv("MLIP_GLASS_CP2K_COMMAND", raising=False)
    try:
        with pytest.raises(module.CP2KNotFoundError, match="make install-dft"):
            CP2KEngine(dft=TINY).static(displaced_al4())
    finally:
        module.cp2k_executable.cache_clear()


@pytest.mark.dft
def test_a_crashing_run_is_rejected_and_its_mpi_ranks_are_costed(cp2k):
    """An unknown basis makes CP2K abort at set-up: mpirun exits before reaping its 2 ranks, so their CPU time
    is only seen in /proc while they run; it must still reach the frame (and the cost ledger)."""
    engine = CP2KEngine(dft={**TINY, "basis_set": "NO-SUCH-BASIS", "mpi_ranks": 2})
    frame = engine.static(displaced_al4())
    assert frame.rejected and "CP2K exited with status" in frame.rejection_reason
    assert frame.cpu_time_s > 0.15  # two ranks reading the basis/potential files; wait4 alone saw ~0.06 s


@pytest.mark.dft
def test_label_maker_runs_cp2k_as_a_job_and_stores_its_settings(cp2k):
    from jobflow import run_locally

    from mlip_glass import queries
    from mlip_glass.reference.jobs import LabelMaker
    from mlip_glass.store import memory_job_store

    store = memory_job_store()
    maker = LabelMaker(engine="cp2k", engine_kwargs={"dft": TINY}, subset="crystal")
    structures = [displaced_al4(), bulk("Al", "fcc", a=4.1, cubic=True)]
    job = maker.make(structures)
    run_locally(job, store=store, ensure_success=True)
    frames = queries.frames_in_output(store.get_output(job.uuid, load=True))
    assert [f["engine"] for f in frames] == ["cp2k", "cp2k"] and not any(f["rejected"] for f in frames)
    assert all(f["engine_settings"]["cutoff_ry"] == 200.0 and f["engine_settings"]["xc"] == "PBE" for f in frames)
    assert all(f["cpu_time_s"] > 0 for f in frames)
    # the stretched cell (a = 4.1 Å) is under less pressure than the compressed, displaced one (4.05 Å)
    assert frames[1]["pressure"] < frames[0]["pressure"]


@pytest.mark.dft
def test_a_run_past_its_time_limit_is_rejected_and_leaves_no_process(cp2k, tmp_path):
    engine = CP2KEngine(dft={**TINY, "mpi_ranks": 2, "timeout_s": 1.0}, workdir=str(tmp_path))
    frame = engine.static(bulk("Al", "fcc", a=4.05, cubic=True).repeat((2, 1, 1)))
    assert frame.rejected and "time limit of 1 s" in frame.rejection_reason and frame.cpu_time_s > 0
    left = []
    for cwd in Path("/proc").glob("[0-9]*/cwd"):
        try:
            if str(cwd.resolve()).startswith(str(tmp_path)):
                left.append(cwd.parent.name)
        except OSError:
            continue
    assert left == []  # mpirun and both ranks were killed


def test_cpu_accounting_skips_processes_that_end_while_it_reads(monkeypatch):
    """A process listed in /proc may be gone before its stat file is read (this crashed a 6-step relaxation)."""
    from mlip_glass.reference import cp2k as module

    real = os.listdir

    def listing(path):
        return [*real(path), "999999999"] if path == "/proc" else real(path)  # a pid that no longer exists

    monkeypatch.setattr(module.os, "listdir", listing)
    seen: dict[int, float] = {}
    module._tree_cpu(os.getpid(), seen)
    assert seen[os.getpid()] >= 0.0 and 999999999 not in seen
