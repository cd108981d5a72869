"""Which JobStore / LaunchPad to use: the embedded on-disk default, or MongoDB.

- Embedded (no server): maggma ``MontyStore`` (montydb, sqlite files) for job documents and for the
  additional ``data`` store, under a project directory (default ``./mlip_glass_data``, env
  ``MLIP_GLASS_PROJECT_DIR``, CLI ``--project-dir``). Persistent across processes, one writer at a time.
- MongoDB: ``mongodb://`` / ``mongodb+srv://`` URI (env ``MLIP_GLASS_STORE_URI``) with GridFS for blobs,
  or jobflow's own ``JOB_STORE`` settings (``jobflow.yaml``) with ``store="jobflow"``.
"""

from __future__ import annotations

import os
from pathlib import Path

from jobflow import JobStore
from maggma.stores import MemoryStore

from mlip_glass.stage import DATA_STORE

PROJECT_DIR_ENV = "MLIP_GLASS_PROJECT_DIR"
STORE_URI_ENV = "MLIP_GLASS_STORE_URI"
DEFAULT_PROJECT_DIR = "mlip_glass_data"
DEFAULT_DATABASE = "mlip_glass"
#: server selection timeout for MongoDB connections (ms)
MONGO_TIMEOUT_MS = 5000


class StoreConfigError(ValueError):
    """A store URI, project directory or LaunchPad file that cannot be used."""


def memory_job_store() -> JobStore:
    """In-memory JobStore with a ``data`` additional store (tests, throw-away runs)."""
    return JobStore(MemoryStore(), additional_stores={DATA_STORE: MemoryStore()})


def project_dir(path: str | os.PathLike | None = None, create: bool = True) -> Path:
    """The project directory: ``path``, else ``$MLIP_GLASS_PROJECT_DIR``, else ``./mlip_glass_data``."""
    chosen = Path(path or os.environ.get(PROJECT_DIR_ENV) or DEFAULT_PROJECT_DIR).expanduser().resolve()
    if chosen.exists() and not chosen.is_dir():
        raise StoreConfigError(f"project directory {chosen} exists and is not a directory")
    if not chosen.exists():
        if not create:
            raise StoreConfigError(
                f"project directory {chosen} does not exist (set --project-dir or ${PROJECT_DIR_ENV})"
            )
        chosen.mkdir(parents=True)
    return chosen
