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
        chosen.mkdir(parents=True, exist_ok=True)  # another process may create it at the same time
    return chosen

EMBEDDED = "embedded"
MEMORY = "memory"
JOBFLOW_SETTINGS = "jobflow"
LAUNCHPAD_ENV = "MLIP_GLASS_LAUNCHPAD"
#: collection names (docs and blobs) in both embedded and MongoDB stores
DOCS_COLLECTION = "outputs"
BLOBS_COLLECTION = "outputs_blobs"


def _is_mongo_uri(spec: str) -> bool:
    return spec.startswith("mongodb://") or spec.startswith("mongodb+srv://")


def database_from_uri(uri: str, default: str = DEFAULT_DATABASE) -> str:
    """Database named in a MongoDB URI path (``mongodb://host/db``), else ``default``."""
    from pymongo.uri_parser import parse_uri

    try:
        parsed = parse_uri(uri, validate=False, warn=True)
    except Exception as exc:  # pymongo raises InvalidURI / ConfigurationError
        raise StoreConfigError(f"malformed MongoDB URI {uri!r}: {exc}") from exc
    return parsed.get("database") or default


def check_mongo(uri: str, timeout_ms: int = MONGO_TIMEOUT_MS) -> None:
    """Ping a MongoDB server; raise :class:`StoreConfigError` naming the URI if unreachable."""
    import pymongo
    from pymongo.errors import PyMongoError

    try:
        client = pymongo.MongoClient(uri, serverSelectionTimeoutMS=timeout_ms)
        client.admin.command("ping")
    except PyMongoError as exc:
        raise StoreConfigError(
            f"MongoDB at {uri} is not reachable within {timeout_ms / 1000:g} s ({type(exc).__name__}). "
            "Start it (e.g. `docker compose up -d`) or use the embedded store (--store embedded)."
        ) from exc
    finally:
        try:
            client.close()
        except UnboundLocalError:
            pass


def embedded_job_store(path: str | os.PathLike | None = None, writer: bool = False) -> JobStore:
    """Persistent on-disk JobStore (montydb/sqlite) under ``<project_dir>/store``; no server needed.

    Safe to share (:mod:`mlip_glass.embedded_store`): readers run during a writer; the first write of a
    process takes the project's writer lock, and a second writing process gets ``ProjectInUseError``
    ("project ... in use by PID ..."). ``writer=True`` takes the lock now (fail before any work; held
    until the store is closed or the process ends).
    """
    from mlip_glass.embedded_store import ProjectMontyStore, acquire_writer_lock

    database_path = str(project_dir(path) / "store")
    kwargs = {
        "database_path": database_path, "database_name": DEFAULT_DATABASE, "storage": "sqlite",
        "companion_collections": [DOCS_COLLECTION, BLOBS_COLLECTION],
    }
    store = JobStore(
        ProjectMontyStore(DOCS_COLLECTION, **kwargs),
        additional_stores={DATA_STORE: ProjectMontyStore(BLOBS_COLLECTION, **kwargs)},
    )
    if writer:
        Path(database_path).mkdir(exist_ok=True)
        acquire_writer_lock(database_path)
    return store


def mongo_job_store(uri: str, database: str | None = None, check: bool = True) -> JobStore:
    """JobStore on MongoDB at ``uri`` (documents in ``outputs``, blobs in GridFS ``outputs_blobs``)."""
    from maggma.stores import GridFSStore, MongoStore

    database = database or database_from_uri(uri)
    if check:
        check_mongo(uri)
    client_kwargs = {"serverSelectionTimeoutMS": MONGO_TIMEOUT_MS}
    return JobStore(
        MongoStore(database, DOCS_COLLECTION, uri=uri, mongoclient_kwargs=client_kwargs),
        additional_stores={
            DATA_STORE: GridFSStore(database, BLOBS_COLLECTION, uri=uri, mongoclient_kwargs=client_kwargs)
        },
    )


def get_job_store(
    store: str | None = None, project: str | os.PathLike | None = None, writer: bool = False
) -> JobStore:
    """Resolve a store specification to a jobflow JobStore.

    Parameters
    ----------
    store
        ``"embedded"`` (default; on-disk, no server), ``"memory"``, ``"jobflow"`` (jobflow's ``JOB_STORE``
        setting from ``jobflow.yaml``), or a ``mongodb://``/``mongodb+srv://`` URI. ``None`` reads
        ``$MLIP_GLASS_STORE_URI`` and falls back to ``"embedded"``.
    project
        Project directory of the embedded store.
    writer
        Embedded store: take the project's writer lock now (``run``/``demo``: refuse a second writer
        before any work); readers leave it False.
    """
    spec = store or os.environ.get(STORE_URI_ENV) or EMBEDDED
    if spec == EMBEDDED:
        return embedded_job_store(project, writer=writer)
    if spec == MEMORY:
        return memory_job_store()
    if spec == JOBFLOW_SETTINGS:
        from jobflow import SETTINGS

        return SETTINGS.JOB_STORE
    if _is_mongo_uri(spec):
        return mongo_job_store(spec)
    raise StoreConfigError(
        f"unknown store {spec!r}: use 'embedded', 'memory', 'jobflow' or a mongodb:// URI"
    )


def embedded_launchpad_file(project: str | os.PathLike | None = None) -> Path:
    """The mongomock file backing the embedded (single-worker) FireWorks LaunchPad."""
    path = project_dir(project) / "launchpad_mongomock.json"
    if not path.exists():
        path.write_text("{}")
    return path


def enable_embedded_launchpad(project: str | os.PathLike | None = None) -> Path:
    """Point FireWorks at a file-backed mongomock server (``MONGOMOCK_SERVERSTORE_FILE``).

    Must run before :mod:`fireworks` is first imported in this process; workers started from this
    process inherit the variable. Single worker only (the file is not safe for concurrent writers).
    """
    import sys

    path = embedded_launchpad_file(project)
    current = os.environ.get("MONGOMOCK_SERVERSTORE_FILE")
    if "fireworks" in sys.modules and current != str(path):
        raise StoreConfigError(
            "the embedded LaunchPad must be chosen before fireworks is imported "
            f"(set MONGOMOCK_SERVERSTORE_FILE={path} in the environment)"
        )
    os.environ["MONGOMOCK_SERVERSTORE_FILE"] = str(path)
    return path


def get_launchpad(launchpad: str | None = None, project: str | os.PathLike | None = None):
    """Resolve a LaunchPad specification.

    Parameters
    ----------
    launchpad
        A ``launchpad.yaml`` path, a ``mongodb://`` URI, or ``"embedded"`` (file-backed mongomock, one
        worker at a time). ``None`` reads ``$MLIP_GLASS_LAUNCHPAD``, else ``./launchpad.yaml`` if present,
        else FireWorks' own default (``my_launchpad.yaml`` / ``LAUNCHPAD_LOC``).
    """
    spec = launchpad or os.environ.get(LAUNCHPAD_ENV)
    if spec is None and Path("launchpad.yaml").is_file():
        spec = "launchpad.yaml"
    if spec == EMBEDDED:
        enable_embedded_launchpad(project)
        from fireworks import LaunchPad

        lpad = LaunchPad(host="localhost", name="mlip_glass_fireworks")
        if lpad.fw_id_assigner.count_documents({}) == 0:  # a new embedded LaunchPad: initialise it
            lpad.reset("", require_password=False)
        return lpad
    from fireworks import LaunchPad

    if spec is None:
        return LaunchPad.auto_load()
    if _is_mongo_uri(spec):
        check_mongo(spec)
        name = database_from_uri(spec, default="fireworks")
        return LaunchPad(
            host=spec, uri_mode=True, name=name, mongoclient_kwargs={"serverSelectionTimeoutMS": MONGO_TIMEOUT_MS}
        )
    path = Path(spec)
    if not path.is_file():
        raise StoreConfigError(f"LaunchPad file {path} does not exist")
    try:
        lpad = LaunchPad.from_file(str(path))
    except Exception as exc:
        raise StoreConfigError(f"malformed LaunchPad file {path}: {exc}") from exc
    uri = lpad.host if lpad.uri_mode else f"mongodb://{lpad.host}:{lpad.port}"
    check_mongo(uri)
    return lpad


def ensure_indexes(store: JobStore, fields=None) -> list[str]:
    """Create the indexes the provenance queries use (:data:`mlip_glass.queries.INDEXED_FIELDS`) on the
    documents store; idempotent. Returns the fields indexed (a backend that cannot index is skipped)."""
    from mlip_glass.queries import INDEXED_FIELDS

    store.connect()
    done = []
    for key in fields or INDEXED_FIELDS:
        try:
            if store.docs_store.ensure_index(key) is not False:
                done.append(key)
        except Exception:  # noqa: BLE001 - e.g. a backend without index support
            continue
    return done
