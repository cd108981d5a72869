"""CP2K (Quickstep, GPW) as a real first-principles reference engine where VASP is absent.

:class:`CP2KSettings` is the DFT protocol (functional, basis, pseudopotentials, cutoffs, k-points, smearing,
SCF tolerance), recorded with every label; :func:`cp2k_input` writes the input file of one calculation;
:func:`run_cp2k` runs it (``mpirun -np R cp2k.psmp``) and parses energy, forces and the analytical stress;
:class:`CP2KEngine` plugs it into the :class:`~mlip_glass.reference.base.ReferenceEngine` protocol (static;
relax and NPT heating through ASE, with the wavefunction carried from step to step).

Why CP2K: of the open codes installable here (Debian ``cp2k`` 2023.1, ``gpaw`` 22.8, ``quantum-espresso`` 6.7)
it is the one with an analytical stress tensor at affordable cost for metals (GPAW LCAO has no stress; Debian's
QE ships no Zr pseudopotential), and it comes with PBE-optimised GTH pseudopotentials and MOLOPT basis sets
for Cu, Zr and Al (docs/dft.md has the measurements behind the choice).

Each calculation is its own process (no ``cp2k_shell``): its CPU time is read exactly from the child's
resource usage (MPI ranks included), a crash or a timeout is caught, and a non-converged SCF — which CP2K
2023 only warns about — is turned into :class:`SCFNotConvergedError`, a recorded outcome.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import math
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from ase import Atoms
from ase.units import Bohr, Hartree

from mlip_glass.errors import MLIPGlassError, ProtocolError
from mlip_glass.reference.base import ReferenceCalculationError, ReferenceEngine
from mlip_glass.units import EV_PER_A3_TO_GPA

#: GTH pseudopotential valence of each species (Goedecker–Teter–Hutter, PBE; Krack, TCA 114, 145 (2005)):
#: Cu 3d¹⁰4s¹ (q11), Zr 4s²4p⁶4d²5s² (q12), Al 3s²3p¹ (q3) — the entries of CP2K's GTH_POTENTIALS
GTH_VALENCE = {"Cu": 11, "Zr": 12, "Al": 3}
#: environment variable with the command that runs CP2K; ``{ranks}`` is replaced by the number of MPI ranks
CP2K_COMMAND_ENV = "MLIP_GLASS_CP2K_COMMAND"
#: what to install when CP2K is missing
CP2K_INSTALL_HINT = "install CP2K with `make install-dft` (Debian: apt-get install cp2k cp2k-data openmpi-bin)"


class CP2KError(ReferenceCalculationError):
    """A CP2K run that did not give labels (crash, timeout, missing output)."""


class SCFNotConvergedError(CP2KError):
    """CP2K's SCF did not reach ``eps_scf`` in ``max_scf`` steps (CP2K warns and carries on; we reject)."""


class CP2KNotFoundError(MLIPGlassError, RuntimeError):
    """No CP2K executable (``cp2k.psmp``/``cp2k.popt``/``cp2k``) or MPI launcher: an installation problem,
    raised (not a rejected frame)."""


@dataclass(frozen=True)
class CP2KSettings:
    """The DFT protocol of :class:`CP2KEngine`; every field is written to each label's ``engine_settings``.

    Parameters
    ----------
    xc
        Exchange–correlation functional (the paper: PBE).
    basis_set, basis_set_file
        Gaussian basis (MOLOPT short-range DZVP: VandeVondele & Hutter, JCP 127, 114105 (2007)) and its file.
    potential_file
        GTH pseudopotential file; the entry of each species is ``GTH-<xc>-q<valence>`` (:data:`GTH_VALENCE`).
    cutoff_ry, rel_cutoff_ry
        Plane-wave cutoff of the finest density grid and of the Gaussian mapping (Ry). 400/40 (docs/dft.md:
        a 24-atom glass: within 0.02 meV/atom and 0.001 GPa of 600/60; 300/40 was 7.1 meV/atom and 0.7 GPa off;
        REL_CUTOFF 50 changed energies by 0.03 meV/atom and forces by < 0.5 meV/Å at 46 % more CPU time).
    electronic_temperature_k
        Fermi–Dirac smearing (K); CP2K has no Methfessel–Paxton (the paper's VASP ISMEAR 1, SIGMA 0.1 eV).
        1160.45 K = 0.1 eV, the paper's width: needed for SCF stability of Γ-point metal cells. Labels are
        the Mermin free energy, consistent with the forces (as the VASP path's ``e_fr_energy``).
    kpoint_spacing_per_a
        Monkhorst–Pack grid from a spacing (Å⁻¹, VASP KSPACING convention incl. 2π); None: Γ point only
        (the affordable choice for glass cells here; the crystals' equation of state is checked with k-points).
    kpoints
        Explicit Monkhorst–Pack divisions (overrides ``kpoint_spacing_per_a``), e.g. one grid for every volume
        of an equation of state.
    eps_scf
        SCF convergence (CP2K ``EPS_SCF``, Hartree, on the density-matrix change).
    max_scf
        SCF steps before the calculation counts as failed.
    eps_default
        CP2K ``EPS_DEFAULT`` (integral screening); 1e-8 (1e-10 changed nothing measurable, see ``rel_cutoff_ry``).
    mixing_alpha, n_broyden
        Broyden density mixing.
    added_mos_fraction
        Unoccupied orbitals added for the smearing, as a fraction of the occupied ones (at least 10).
    mpi_ranks
        MPI ranks of each CP2K run (one OpenMP thread each).
    timeout_s
        Wall-time limit of one CP2K run (s); past it the run is killed and counts as failed.
    """

    xc: str = "PBE"
    basis_set: str = "DZVP-MOLOPT-SR-GTH"
    basis_set_file: str = "BASIS_MOLOPT"
    potential_file: str = "GTH_POTENTIALS"
    cutoff_ry: float = 400.0
    rel_cutoff_ry: float = 40.0
    electronic_temperature_k: float = 1160.45
    kpoint_spacing_per_a: float | None = None
    kpoints: tuple[int, int, int] | None = None
    eps_scf: float = 1e-6
    max_scf: int = 100
    eps_default: float = 1e-8
    mixing_alpha: float = 0.2
    n_broyden: int = 8
    added_mos_fraction: float = 0.3
    mpi_ranks: int = 2
    timeout_s: float = 3600.0

    def __post_init__(self):
        checks = {
            "cutoff_ry": self.cutoff_ry > 0,
            "rel_cutoff_ry": self.rel_cutoff_ry > 0,
            "electronic_temperature_k": self.electronic_temperature_k >= 0,
            "eps_scf": self.eps_scf > 0,
            "max_scf": self.max_scf >= 1,
            "eps_default": self.eps_default > 0,
            "mixing_alpha": 0 < self.mixing_alpha <= 1,
            "n_broyden": self.n_broyden >= 1,
            "added_mos_fraction": self.added_mos_fraction >= 0,
            "mpi_ranks": self.mpi_ranks >= 1,
            "timeout_s": self.timeout_s > 0,
        }
        if self.kpoint_spacing_per_a is not None:
            checks["kpoint_spacing_per_a"] = self.kpoint_spacing_per_a > 0
        if self.kpoints is not None:
            object.__setattr__(self, "kpoints", tuple(int(n) for n in self.kpoints))
            checks["kpoints"] = len(self.kpoints) == 3 and min(self.kpoints) >= 1
        bad = [name for name, ok in checks.items() if not ok]
        if bad:
            values = ", ".join(f"{name}={getattr(self, name)!r}" for name in bad)
            raise ProtocolError(f"CP2KSettings: out of range: {values} (see the field docs for accepted ranges)")

    def replace(self, **changes) -> CP2KSettings:
        """A copy with ``changes``."""
        return dataclasses.replace(self, **changes)

    def kpoint_grid(self, cell: np.ndarray) -> tuple[int, int, int]:
        """Monkhorst–Pack divisions of a calculation in ``cell`` (Å): ``kpoints`` or from the spacing."""
        if self.kpoints is not None:
            return (self.kpoints[0], self.kpoints[1], self.kpoints[2])
        return kpoint_grid(cell, self.kpoint_spacing_per_a)

    def pseudopotential(self, symbol: str) -> str:
        """The GTH entry of ``symbol`` (e.g. ``GTH-PBE-q11`` for Cu)."""
        if symbol not in GTH_VALENCE:
            raise ProtocolError(f"species {symbol!r} has no GTH valence set (known: {sorted(GTH_VALENCE)})")
        return f"GTH-{self.xc}-q{GTH_VALENCE[symbol]}"


def kpoint_grid(cell: np.ndarray, spacing_per_a: float | None) -> tuple[int, int, int]:
    """Monkhorst–Pack divisions n_i = max(1, ceil(|b_i| / spacing)), |b_i| with 2π (VASP's KSPACING)."""
    if spacing_per_a is None:
        return (1, 1, 1)
    reciprocal = 2 * np.pi * np.linalg.inv(np.asarray(cell, dtype=float)).T
    n = [max(1, math.ceil(float(np.linalg.norm(b)) / spacing_per_a - 1e-9)) for b in reciprocal]
    return (n[0], n[1], n[2])


def n_valence_electrons(atoms: Atoms) -> int:
    """Valence electrons of ``atoms`` with the GTH pseudopotentials."""
    return int(sum(GTH_VALENCE[s] for s in atoms.get_chemical_symbols()))


def cp2k_input(atoms: Atoms, settings: CP2KSettings, project: str = "mlg", wfn_restart: str | None = None) -> str:
    """The CP2K input of one energy + forces + stress calculation of ``atoms`` (Å) with ``settings``."""
    s = settings
    kpts = s.kpoint_grid(atoms.cell.array)
    n_occupied = math.ceil(n_valence_electrons(atoms) / 2)
    added_mos = max(10, math.ceil(s.added_mos_fraction * n_occupied))
    species = sorted(set(atoms.get_chemical_symbols()))
    cell = atoms.cell.array
    lines = [
        "&GLOBAL",
        f"  PROJECT {project}",
        "  RUN_TYPE ENERGY_FORCE",
        "  PRINT_LEVEL LOW",
        "&END GLOBAL",
        "&FORCE_EVAL",
        "  METHOD Quickstep",
        "  STRESS_TENSOR ANALYTICAL",
        "  &DFT",
        f"    BASIS_SET_FILE_NAME {s.basis_set_file}",
        f"    POTENTIAL_FILE_NAME {s.potential_file}",
        *([f"    WFN_RESTART_FILE_NAME {wfn_restart}"] if wfn_restart else []),
        "    &MGRID",
        f"      CUTOFF {s.cutoff_ry!r}",
        f"      REL_CUTOFF {s.rel_cutoff_ry!r}",
        "    &END MGRID",
        "    &QS",
        f"      EPS_DEFAULT {s.eps_default:.3E}",
        "    &END QS",
        *(
            ["    &KPOINTS", f"      SCHEME MONKHORST-PACK {kpts[0]} {kpts[1]} {kpts[2]}", "    &END KPOINTS"]
            if kpts != (1, 1, 1) else []
        ),
        "    &SCF",
        f"      SCF_GUESS {'RESTART' if wfn_restart else 'ATOMIC'}",
        f"      EPS_SCF {s.eps_scf:.3E}",
        f"      MAX_SCF {s.max_scf}",
        f"      ADDED_MOS {added_mos}",
        "      &SMEAR ON",
        "        METHOD FERMI_DIRAC",
        f"        ELECTRONIC_TEMPERATURE [K] {s.electronic_temperature_k!r}",
        "      &END SMEAR",
        "      &DIAGONALIZATION",
        "        ALGORITHM STANDARD",
        "      &END DIAGONALIZATION",
        "      &MIXING",
        "        METHOD BROYDEN_MIXING",
        f"        ALPHA {s.mixing_alpha!r}",
        f"        NBROYDEN {s.n_broyden}",
        "      &END MIXING",
        "    &END SCF",
        "    &XC",
        f"      &XC_FUNCTIONAL {s.xc}",
        "      &END XC_FUNCTIONAL",
        "    &END XC",
        "  &END DFT",
        "  &SUBSYS",
        "    &CELL",
        *(f"      {name} {v[0]:.10f} {v[1]:.10f} {v[2]:.10f}" for name, v in zip("ABC", cell)),
        "      PERIODIC XYZ",
        "    &END CELL",
        "    &COORD",
        *(f"      {sym} {p[0]:.10f} {p[1]:.10f} {p[2]:.10f}"
          for sym, p in zip(atoms.get_chemical_symbols(), atoms.positions)),
        "    &END COORD",
        *(
            line
            for sym in species
            for line in (f"    &KIND {sym}", f"      BASIS_SET {s.basis_set}",
                         f"      POTENTIAL {s.pseudopotential(sym)}", "    &END KIND")
        ),
        "  &END SUBSYS",
        "  &PRINT",
        "    &FORCES ON",
        "    &END FORCES",
        "    &STRESS_TENSOR ON",
        "    &END STRESS_TENSOR",
        "  &END PRINT",
        "&END FORCE_EVAL",
        "",
    ]
    return "\n".join(lines)


@dataclass
class CP2KResult:
    """Labels of one CP2K run: ``energy`` (eV), ``forces`` (N,3) eV/Å, ``stress`` 3x3 eV/Å³ (ASE sign:
    positive = tensile), ``scf_steps``, ``cpu_time_s`` (all ranks), ``wall_time_s``, ``wfn`` (restart file)."""

    energy: float
    forces: np.ndarray
    stress: np.ndarray
    scf_steps: int
    cpu_time_s: float
    wall_time_s: float
    wfn: str | None = None


_ENERGY = re.compile(r"ENERGY\| Total FORCE_EVAL \( QS \) energy \[a\.u\.\]:\s+(\S+)")
_SCF_DONE = re.compile(r"SCF run converged in\s+(\d+) steps")


def parse_cp2k_output(text: str, n_atoms: int) -> tuple[float, np.ndarray, np.ndarray, int]:
    """(energy eV, forces eV/Å, stress eV/Å³ ASE sign, SCF steps) from a CP2K 2023 output; CP2KError if
    a block is missing, SCFNotConvergedError if the SCF did not converge."""
    if "SCF run NOT converged" in text:
        raise SCFNotConvergedError("SCF run NOT converged (CP2K warning)")
    energies = _ENERGY.findall(text)
    if not energies:
        raise CP2KError("no total energy in the CP2K output")
    energy = float(energies[-1]) * Hartree
    scf = _SCF_DONE.findall(text)
    lines = text.splitlines()
    start = max(i for i, line in enumerate(lines) if "ATOMIC FORCES in [a.u.]" in line) if any(
        "ATOMIC FORCES in [a.u.]" in line for line in lines) else None
    if start is None:
        raise CP2KError("no ATOMIC FORCES block in the CP2K output")
    rows = [line.split() for line in lines[start + 3: start + 3 + n_atoms]]
    try:
        forces = np.array([[float(v) for v in row[3:6]] for row in rows]) * Hartree / Bohr
    except (ValueError, IndexError) as exc:
        raise CP2KError(f"unreadable ATOMIC FORCES block: {exc}") from exc
    if forces.shape != (n_atoms, 3):
        raise CP2KError(f"ATOMIC FORCES block has {len(forces)} rows, expected {n_atoms}")
    heads = [i for i, line in enumerate(lines) if "STRESS| Analytical stress tensor [GPa]" in line]
    if not heads:
        raise CP2KError("no analytical stress tensor in the CP2K output")
    rows = [lines[heads[-1] + 2 + k].split() for k in range(3)]
    # CP2K prints the stress as a pressure (positive = compressive); ASE's sign is the opposite
    stress = -np.array([[float(v) for v in row[2:5]] for row in rows]) / EV_PER_A3_TO_GPA
    return energy, forces, stress, int(scf[-1]) if scf else 0


@functools.lru_cache(maxsize=1)
def cp2k_executable() -> str:
    """Path of the CP2K binary (``cp2k.psmp`` preferred); CP2KNotFoundError naming the install command."""
    for name in ("cp2k.psmp", "cp2k.popt", "cp2k"):
        path = shutil.which(name)
        if path:
            return path
    raise CP2KNotFoundError(f"CP2K not found on PATH: {CP2K_INSTALL_HINT}")


@functools.lru_cache(maxsize=1)
def cp2k_version() -> str:
    """``CP2K version 2023.1`` style string of the installed binary (empty if it cannot tell)."""
    try:
        out = subprocess.run([cp2k_executable(), "--version"], capture_output=True, text=True, timeout=60).stdout
    except (OSError, subprocess.SubprocessError):
        return ""
    match = re.search(r"CP2K version\s+(\S+)", out)
    return match.group(1) if match else ""


def _mpirun() -> list[str]:
    """The MPI launcher matching Debian's CP2K (OpenMPI's ``/usr/bin/mpirun``, not a venv's MPICH one)."""
    for candidate in ("/usr/bin/mpirun", shutil.which("mpirun")):
        if candidate and os.path.exists(candidate):
            root = ["--allow-run-as-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []
            return [candidate, *root, "--bind-to", "none"]
    raise CP2KNotFoundError(f"no mpirun for CP2K's MPI ranks: {CP2K_INSTALL_HINT}")


def cp2k_command(ranks: int) -> list[str]:
    """The command line that runs CP2K on ``ranks`` MPI ranks (``$MLIP_GLASS_CP2K_COMMAND`` overrides it,
    with ``{ranks}`` replaced; the input and output file names are appended as ``-i IN -o OUT``)."""
    custom = os.environ.get(CP2K_COMMAND_ENV)
    if custom:
        return custom.format(ranks=ranks).split()
    exe = cp2k_executable()
    return [exe] if ranks == 1 else [*_mpirun(), "-np", str(ranks), exe]


def run_cp2k(atoms: Atoms, settings: CP2KSettings, workdir: str | Path, wfn_restart: str | None = None) -> CP2KResult:
    """Run one CP2K calculation of ``atoms`` in ``workdir``; labels or a :class:`CP2KError` carrying the CPU
    time spent (``exc.cpu_time_s``)."""
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "cp2k.inp").write_text(cp2k_input(atoms, settings, "mlg", wfn_restart))
    cmd = [*cp2k_command(settings.mpi_ranks), "-i", "cp2k.inp", "-o", "cp2k.out"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    t0 = time.perf_counter()
    with open(workdir / "cp2k.stderr", "w") as err:
        proc = subprocess.Popen(cmd, cwd=workdir, env=env, stdout=err, stderr=subprocess.STDOUT,
                                start_new_session=True)
    status, cpu, reaped, timed_out = _wait(proc, settings.timeout_s)
    wall = time.perf_counter() - t0
    out_path = workdir / "cp2k.out"
    text = out_path.read_text(errors="replace") if out_path.exists() else ""
    try:
        if timed_out:
            raise CP2KError(f"CP2K killed after its time limit of {settings.timeout_s:g} s")
        if status != 0:
            tail = (workdir / "cp2k.stderr").read_text(errors="replace")[-400:] + text[-400:]
            raise CP2KError(f"CP2K exited with status {status}: ...{tail.strip()[-300:]}")
        energy, forces, stress, scf_steps = parse_cp2k_output(text, len(atoms))
    except CP2KError as exc:
        exc.cpu_time_s = cpu
        exc.unreaped_cpu_s = cpu - reaped
        raise
    wfn = workdir / "mlg-RESTART.wfn"
    return CP2KResult(energy, forces, stress, scf_steps, cpu, wall, str(wfn) if wfn.exists() else None)


def _wait(proc: subprocess.Popen, timeout_s: float) -> tuple[int, float, float, bool]:
    """(exit status, CPU seconds of ``proc`` and its descendants, the part of it ``wait4`` saw, timed out).

    CPU time: the child's resource usage (``wait4``: it and the descendants it waited for), or, when larger,
    the sum over its process tree seen in ``/proc`` while it ran (every ``_POLL_S``) — an aborting ``mpirun`` may
    exit before it reaps its ranks, whose time ``wait4`` then never sees."""
    deadline = time.monotonic() + timeout_s
    timed_out = False
    seen: dict[int, float] = {}
    while True:
        _tree_cpu(proc.pid, seen)
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid == proc.pid:
            proc.returncode = os.waitstatus_to_exitcode(status)
            reaped = usage.ru_utime + usage.ru_stime
            return proc.returncode, max(reaped, sum(seen.values())), reaped, timed_out
        if time.monotonic() > deadline and not timed_out:
            timed_out = True
            for member in [proc.pid, *seen]:  # the ranks too: they may sit outside mpirun's process group
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(member, signal.SIGKILL)
        time.sleep(_POLL_S)


_CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
#: seconds between looks at a running CP2K (exit, time limit, CPU time of its process tree)
_POLL_S = 0.2


def _tree_cpu(root: int, seen: dict[int, float]) -> None:
    """Update ``seen`` (pid → CPU s) with ``root`` and its descendants found in ``/proc`` (Linux; MPI ranks may
    sit in process groups of their own, so the tree is followed by parent pid)."""
    parent: dict[int, int] = {}
    cpu: dict[int, float] = {}
    try:
        pids = [int(name) for name in os.listdir("/proc") if name.isdigit()]
    except OSError:  # no /proc (not Linux): wait4's figure stands
        return
    for pid in pids:  # a process may end between the listing and the read: skip it
        try:
            with open(f"/proc/{pid}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()  # state ppid pgrp ... utime(11) stime(12)
            parent[pid] = int(fields[1])
            cpu[pid] = (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS
        except (OSError, ValueError, IndexError):
            continue
    for pid in cpu:
        ancestor, hops = pid, 0
        while ancestor not in (root, 0, 1) and hops < 64:
            ancestor, hops = parent.get(ancestor, 0), hops + 1
        if ancestor == root:
            seen[pid] = max(seen.get(pid, 0.0), cpu[pid])


@dataclass
class CP2KEngine(ReferenceEngine):
    """CP2K as a reference engine (``engine = "cp2k"``): real DFT labels with :class:`CP2KSettings`.

    Parameters
    ----------
    dft
        The DFT protocol (a :class:`CP2KSettings` or its fields as a dict); default: PBE, DZVP-MOLOPT-SR,
        GTH-PBE, 400/40 Ry, Fermi–Dirac 0.1 eV, Γ point, EPS_SCF 1e-6.
    workdir
        Folder for the runs' files (kept: input, output, restart wavefunction); default: a temporary folder
        removed after each run.
    name
        Engine tag.
    """

    dft: Any = None
    workdir: str | None = None
    name: str = "cp2k"

    def __post_init__(self):
        if self.dft is None:
            self.dft = CP2KSettings()
        elif isinstance(self.dft, dict):
            self.dft = CP2KSettings(**{k: v for k, v in self.dft.items() if not k.startswith("@")})
        elif not isinstance(self.dft, CP2KSettings):
            raise ProtocolError(f"CP2KEngine.dft must be CP2KSettings or a dict, got {type(self.dft).__name__}")
        self._wfn_chain: dict | None = None

    @property
    def species(self):
        return tuple(GTH_VALENCE)

    def settings(self) -> dict[str, Any]:
        """Code, version and every protocol field (a frame's settings add its k-point grid: :meth:`settings_for`)."""
        s = self.dft
        return {
            "code": "cp2k",
            "version": cp2k_version(),
            **dataclasses.asdict(s),
            "pseudopotentials": {sym: s.pseudopotential(sym) for sym in GTH_VALENCE},
            "smearing": f"Fermi-Dirac {s.electronic_temperature_k:g} K",
            "energy": "Mermin free energy (consistent with the forces)",
        }

    def settings_for(self, atoms: Atoms) -> dict[str, Any]:
        return {**self.settings(), "kpoint_grid": list(self.dft.kpoint_grid(atoms.cell.array))}

    def compute(self, atoms):
        result = self.run(atoms)
        return result.energy, result.forces, result.stress

    def run(self, atoms: Atoms) -> CP2KResult:
        """One CP2K calculation of ``atoms`` (inside a trajectory: restarted from the previous wavefunction)."""
        chain = self._wfn_chain
        restart = None
        if chain is not None and chain.get("symbols") == atoms.get_chemical_symbols():
            restart = chain.get("wfn")
        with self._rundir() as workdir:
            result = run_cp2k(atoms, self.dft, workdir, wfn_restart=restart)
            if chain is not None and result.wfn:
                kept = Path(chain["dir"]) / "previous.wfn"
                shutil.copyfile(result.wfn, kept)
                chain.update(symbols=atoms.get_chemical_symbols(), wfn=str(kept))
        return result

    @contextlib.contextmanager
    def _rundir(self):
        if self.workdir:
            path = Path(self.workdir) / f"run_{time.time_ns()}_{os.getpid()}"
            path.mkdir(parents=True, exist_ok=True)
            yield path
        else:
            with tempfile.TemporaryDirectory(prefix="mlg_cp2k_") as tmp:
                yield Path(tmp)

    @contextlib.contextmanager
    def wavefunction_chain(self):
        """Within the context, each run starts from the previous run's wavefunction (same species order)."""
        with tempfile.TemporaryDirectory(prefix="mlg_cp2k_wfn_") as tmp:
            self._wfn_chain = {"dir": tmp}
            try:
                yield
            finally:
                self._wfn_chain = None

    def relax_trajectory(self, atoms, fmax, max_steps, every, relax_cell, pressure_gpa):
        with self.wavefunction_chain():
            return super().relax_trajectory(atoms, fmax, max_steps, every, relax_cell, pressure_gpa)

    def aimd_trajectory(self, atoms, nsteps, t_start, t_end, dt_fs, gamma, gamma_l, pressure_gpa, seed):
        with self.wavefunction_chain():
            return super().aimd_trajectory(atoms, nsteps, t_start, t_end, dt_fs, gamma, gamma_l, pressure_gpa, seed)
