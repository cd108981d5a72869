"""Which JobStore / LaunchPad to use: the embedded on-disk default, or MongoDB.

- Embedded (no server): maggma ``MontyStore`` (montydb, sqlite files) for job documents and for the
  additional ``data`` store, under a project directory (default ``./mlip_glass_data``, env
  ``MLIP_GLASS_PROJECT_DIR``, CLI ``--project-dir``). Persistent across processes, one writer at a time.
- MongoDB: ``mongodb://`` / ``mongodb+srv://`` URI (env ``MLIP_GLASS_STORE_URI``) with GridFS for blobs,
  or jobflow's own ``JOB_STORE`` settings (``jobflow.yaml``) with ``store="jobflow"``.

Credentials (:mod:`mlip_glass.credentials`): messages mask passwords; URIs, ``launchpad.yaml`` and
``jobflow.yaml`` may say ``${VAR}`` (expanded from the environment when connecting);
:func:`fireworks_job_store` gives Fireworks a store without literal passwords.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, cast

from jobflow import JobStore
from maggma.stores import MemoryStore

from mlip_glass.credentials import EnvGridFSStore, EnvMongoStore, credential_free, expand_env, expand_env_tree, redact
from mlip_glass.embedded_store import ProjectMontyStore, acquire_writer_lock
from mlip_glass.store_errors import StoreConfigError

PROJECT_DIR_ENV = "MLIP_GLASS_PROJECT_DIR"
STORE_URI_ENV = "MLIP_GLASS_STORE_URI"
#: the store that running jobs query instead of the one their manager exposes (a ``mongodb://`` URI or
#: ``jobflow``); set it in the environment of jobflow-remote workers that run store-reading jobs
QUERY_STORE_ENV = "MLIP_GLASS_QUERY_STORE"
#: name of the JobStore additional store that receives big arrays and files
DATA_STORE = "data"
DEFAULT_PROJECT_DIR = "mlip_glass_data"
DEFAULT_DATABASE = "mlip_glass"
#: server selection timeout for MongoDB connections (ms)
MONGO_TIMEOUT_MS = 5000


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
    """Database named in a MongoDB URI path (``mongodb://host/db``), else ``default``; ``${VAR}`` expanded."""
    from pymongo.uri_parser import parse_uri

    try:
        parsed = parse_uri(expand_env(uri, "store URI"), validate=False, warn=True)
    except StoreConfigError:
        raise
    except Exception as exc:  # pymongo raises InvalidURI / ConfigurationError
        raise StoreConfigError(f"malformed MongoDB URI {redact(uri)!r}: {redact(exc)}") from None
    return parsed.get("database") or default


def check_mongo(
    uri: str, timeout_ms: int = MONGO_TIMEOUT_MS, client_factory=None, what: str = "MongoDB",
    database: str | None = None,
) -> None:
    """Connect to a MongoDB server and run an authenticated command; raise :class:`StoreConfigError`
    with the URI (password masked) if it is unreachable or refuses the credentials.

    ``client_factory``: zero-argument callable returning the client to check (default: a client for
    ``uri`` with ``${VAR}`` expanded), so that a LaunchPad is checked with its own credentials;
    ``database``: where the authenticated command runs (default: the URI's database)."""
    import pymongo
    from pymongo.errors import OperationFailure, PyMongoError

    client: Any = None
    try:
        if client_factory is None:
            client = pymongo.MongoClient(expand_env(uri, "store URI"), serverSelectionTimeoutMS=timeout_ms)
        else:
            client = client_factory()
        client.admin.command("ping")
        client[database or database_from_uri(uri)].list_collection_names()  # needs the credentials
    except OperationFailure as exc:
        reason = redact(exc.details.get("errmsg", exc) if exc.details else exc)
        raise StoreConfigError(
            f"{what} at {redact(uri)} refused the connection: {reason} (check the user name and password)"
        ) from None
    except PyMongoError as exc:
        raise StoreConfigError(
            f"{what} at {redact(uri)} is not reachable within {timeout_ms / 1000:g} s ({type(exc).__name__}). "
            "Start it (e.g. `docker compose up -d`) or use the embedded store (--store embedded)."
        ) from None
    except (ValueError, TypeError) as exc:  # pymongo's own argument errors
        if isinstance(exc, StoreConfigError):
            raise
        raise StoreConfigError(f"{what} URI {redact(uri)!r} cannot be used: {redact(exc)}") from None
    finally:
        if client is not None and client_factory is None:  # a given client stays open for its owner
            client.close()


def embedded_job_store(path: str | os.PathLike | None = None, writer: bool = False) -> JobStore:
    """Persistent on-disk JobStore (montydb/sqlite) under ``<project_dir>/store``; no server needed.

    Safe to share (:mod:`mlip_glass.embedded_store`): readers run during a writer; the first write of a
    process takes the project's writer lock, and a second writing process gets ``ProjectInUseError``
    ("project ... in use by PID ..."). ``writer=True`` takes the lock now (fail before any work; held
    until the store is closed or the process ends).
    """
    database_path = str(project_dir(path) / "store")
    kwargs: dict[str, Any] = {
        "database_path": database_path, "database_name": DEFAULT_DATABASE, "storage": "sqlite",
        "companion_collections": [DOCS_COLLECTION, BLOBS_COLLECTION],
    }
    store = JobStore(
        ProjectMontyStore(DOCS_COLLECTION, **kwargs),
        additional_stores={DATA_STORE: ProjectMontyStore(BLOBS_COLLECTION, id_field="blob_uuid", **kwargs)},
    )
    if writer:
        Path(database_path).mkdir(exist_ok=True)
        acquire_writer_lock(database_path)
    return store


def mongo_job_store(uri: str, database: str | None = None, check: bool = True) -> JobStore:
    """JobStore on MongoDB at ``uri`` (documents in ``outputs``, blobs in GridFS ``outputs_blobs``).

    ``uri`` may hold ``${VAR}`` (e.g. ``mongodb://me:${MONGO_PW}@host/db``): it is expanded only when a
    store connects, so the store's serialised form carries the reference, not the secret."""
    database = database or database_from_uri(uri)
    if check:
        check_mongo(uri)
    client_kwargs = {"serverSelectionTimeoutMS": MONGO_TIMEOUT_MS}
    return JobStore(
        EnvMongoStore(database, DOCS_COLLECTION, uri=uri, mongoclient_kwargs=client_kwargs),
        additional_stores={
            DATA_STORE: EnvGridFSStore(database, BLOBS_COLLECTION, uri=uri, mongoclient_kwargs=client_kwargs)
        },
    )


def jobflow_config_file() -> Path:
    """jobflow's configuration file: ``$JOBFLOW_CONFIG_FILE``, else ``~/.jobflow.yaml``."""
    return Path(os.environ.get("JOBFLOW_CONFIG_FILE") or "~/.jobflow.yaml").expanduser()


def jobflow_settings_store() -> JobStore:
    """jobflow's ``JOB_STORE`` from its configuration file, with ``${VAR}`` allowed in any value.

    MongoStore/GridFSStore entries become their ``${VAR}``-expanding variants (expanded at connect).
    Raises :class:`StoreConfigError` if the file is missing, malformed or has no ``JOB_STORE``.
    """
    import yaml

    path = jobflow_config_file()
    if not path.is_file():
        raise StoreConfigError(
            f"--store jobflow needs jobflow's configuration file {path} (or $JOBFLOW_CONFIG_FILE); "
            "none found (see docs/stores.md)"
        )
    try:
        config = yaml.safe_load(path.read_text()) or {}
        spec = config["JOB_STORE"]
        if not isinstance(spec, dict) or "docs_store" not in spec:
            raise ValueError("JOB_STORE must be a mapping with a docs_store")
    except (yaml.YAMLError, KeyError, TypeError, ValueError) as exc:
        raise StoreConfigError(f"malformed jobflow config {path}: {redact(exc)}") from None

    def env_type(entry):
        entry = dict(entry)
        entry["type"] = {"MongoStore": "EnvMongoStore", "GridFSStore": "EnvGridFSStore"}.get(
            entry.get("type"), entry.get("type")
        )
        return entry

    spec = {**spec, "docs_store": env_type(spec["docs_store"])}
    if "additional_stores" in spec:
        spec["additional_stores"] = {k: env_type(v) for k, v in spec["additional_stores"].items()}
    try:
        return JobStore.from_dict_spec(spec)
    except Exception as exc:  # noqa: BLE001 - a wrong type/field in the user's file
        raise StoreConfigError(f"jobflow config {path}: JOB_STORE cannot be built ({redact(exc)})") from None


def fireworks_job_store(store: str | None = None, project: str | os.PathLike | None = None):
    """The JobStore to give ``flow_to_workflow`` (FireWorks): no literal password in it.

    Literal passwords become ``${MLIP_GLASS_STORE_PASSWORD}``; ``${VAR}`` references stay. Workers
    expand them from their own environment when they connect. Returns ``(job_store, env_vars)`` where
    ``env_vars`` lists the variables workers must set (empty without credentials).
    """
    spec = store or os.environ.get(STORE_URI_ENV) or EMBEDDED
    if spec == MEMORY:
        raise StoreConfigError("store 'memory' cannot be shared with FireWorks workers: use embedded or MongoDB")
    return credential_free(get_job_store(spec, project))


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
        return jobflow_settings_store()
    if _is_mongo_uri(spec):
        return mongo_job_store(spec)
    raise StoreConfigError(
        f"unknown store {redact(spec)!r}: use 'embedded', 'memory', 'jobflow' or a mongodb:// URI"
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
        check_mongo(spec, what="LaunchPad")
        name = database_from_uri(spec, default="fireworks")
        return LaunchPad(
            host=expand_env(spec, "LaunchPad URI"), uri_mode=True, name=name,
            mongoclient_kwargs={"serverSelectionTimeoutMS": MONGO_TIMEOUT_MS},
        )
    lpad = launchpad_from_file(spec)
    uri = lpad.host if lpad.uri_mode else f"mongodb://{lpad.host}:{lpad.port}/{lpad.name}"
    check_mongo(redact(uri), client_factory=lambda: lpad.connection, what=f"LaunchPad {spec}", database=lpad.name)
    return lpad


def launchpad_from_file(path: str | os.PathLike):
    """A FireWorks LaunchPad from a ``launchpad.yaml`` whose values may hold ``${VAR}`` (expanded from the
    environment; e.g. ``password: ${MLIP_GLASS_LPAD_PASSWORD}``); a 5-s server selection timeout unless
    the file sets one. Raises :class:`StoreConfigError` for a missing or malformed file."""
    import yaml
    from fireworks import LaunchPad

    path = Path(path)
    if not path.is_file():
        raise StoreConfigError(f"LaunchPad file {path} does not exist")
    try:
        config = yaml.safe_load(path.read_text()) or {}
        if not isinstance(config, dict):
            raise ValueError("expected a mapping of LaunchPad settings")
    except (yaml.YAMLError, ValueError) as exc:
        raise StoreConfigError(f"malformed LaunchPad file {path}: {redact(exc)}") from None
    config = expand_env_tree(config, f"LaunchPad file {path}:")
    kwargs = dict(config.get("mongoclient_kwargs") or {})
    kwargs.setdefault("serverSelectionTimeoutMS", MONGO_TIMEOUT_MS)
    config["mongoclient_kwargs"] = kwargs
    try:
        return LaunchPad.from_dict(config)
    except Exception as exc:  # noqa: BLE001 - FireWorks/pymongo errors on bad settings
        raise StoreConfigError(f"malformed LaunchPad file {path}: {redact(exc)}") from None


#: fields the provenance queries (:mod:`mlip_glass.queries`) filter or sort on
INDEXED_FIELDS = (
    "metadata.campaign",
    "metadata.stage",
    "metadata.iteration",
    "output.structure_hash",
    "output.frames.structure_hash",
    "output.model_hash",
    "output.dataset_hash",
    "completed_at",
)


def ensure_indexes(store: JobStore, fields=None) -> list[str]:
    """Create the indexes the provenance queries use (:data:`INDEXED_FIELDS`) on the documents store, and
    ``blob_uuid`` on the additional stores (jobflow finds every blob by it; GridFS: ``metadata.blob_uuid``);
    idempotent. Returns the fields indexed (a backend that cannot index is skipped; the embedded store keys
    its blobs by ``blob_uuid`` already)."""
    store.connect()
    done = []
    targets = [(store.docs_store, key, key) for key in fields or INDEXED_FIELDS]
    if fields is None:
        extras: dict[str, Any] = cast(Any, store).additional_stores
        targets += [(extra, "blob_uuid", f"{name}:blob_uuid") for name, extra in extras.items()
                    if getattr(extra, "id_field", None) != "blob_uuid"]
    for target, key, label in targets:
        try:
            if target.ensure_index(key) is not False:
                done.append(label)
        except Exception:  # noqa: BLE001 - e.g. a backend without index support
            continue
    return done


_query_stores: dict[str, JobStore] = {}


def query_store_override() -> JobStore | None:
    """The JobStore named by ``$MLIP_GLASS_QUERY_STORE`` (one per process, connected), or None when unset.

    jobflow-remote runs every job against a file store of that job's own outputs, so jobs that look up earlier
    results of the campaign (the active-learning loop, dataset assembly) find nothing there; on a worker whose
    environment sets this variable they query the campaign's store instead (reads only: outputs still go
    through the manager)."""
    spec = os.environ.get(QUERY_STORE_ENV)
    if not spec:
        return None
    if spec not in _query_stores:
        if spec in (EMBEDDED, MEMORY):
            raise StoreConfigError(f"${QUERY_STORE_ENV}={spec!r}: use a mongodb:// URI or 'jobflow'")
        store = get_job_store(spec)
        store.connect()
        _query_stores[spec] = store
    return _query_stores[spec]
