"""The embedded (montydb/sqlite) store made safe to share between processes.

maggma's ``MontyStore.connect`` rewrites montydb's two config files at every open (a concurrent open
reads a truncated file: "Empty module name"), and montydb creates a collection's sqlite file before its
table (a concurrent writer sees the file and inserts into a missing table: "no such table: documents").
:class:`ProjectMontyStore` fixes both and adds a writer lock:

- the store directory is initialised once (config files, both collections' tables, then a marker file)
  under an exclusive ``flock`` on ``init.lock``; later opens only read the config;
- the first write of a process takes an exclusive, non-blocking ``flock`` on ``<store>/writer.lock``
  and holds it until :meth:`close` or the process ends (``kill -9`` included: the kernel drops it); a
  second writer gets :class:`ProjectInUseError` ("project ... in use by PID ...") before writing
  anything. Readers (status, query, report) take no lock: sqlite's WAL lets them read during a run;
- a read-only project directory opens read-only (sqlite ``mode=ro``, or ``immutable=1`` when no
  writer's WAL file is present) and any write raises :class:`ProjectReadOnlyError`.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
import threading
import time
from pathlib import Path
from urllib.parse import quote

from maggma.stores import MontyStore

from mlip_glass.store_errors import StoreConfigError

#: written last when a store directory is initialised (config files and tables exist)
READY_MARKER = ".mlip_glass_ready"
INIT_LOCK = "init.lock"
WRITER_LOCK = "writer.lock"
#: montydb settings of every embedded store (maggma's defaults)
STORAGE_KWARGS = {"use_bson": True, "mongo_version": "4.0"}


class ProjectInUseError(StoreConfigError):
    """Another process is writing to the same embedded project directory."""


class ProjectReadOnlyError(StoreConfigError):
    """A write to an embedded store in a directory this process cannot write."""


def is_writable(path: str | os.PathLike) -> bool:
    """True if this process may create files in ``path`` (False on read-only mounts, also for root)."""
    return os.access(path, os.W_OK | os.X_OK)


# -- writer lock (one per store directory and process, reference-counted) ----------------------------
_writer_locks: dict[str, list] = {}  # store dir -> [fd, count]
_writer_guard = threading.Lock()


def _lock_holder(path: Path) -> str:
    try:
        text = path.read_text().strip()
    except OSError:
        text = ""
    return text or "another process"


def acquire_writer_lock(store_dir: str | os.PathLike) -> Path:
    """Take (or re-take, in this process) the writer lock of ``store_dir``; raise
    :class:`ProjectInUseError` naming the holder's PID if another process holds it."""
    store_dir = str(Path(store_dir).resolve())
    with _writer_guard:
        entry = _writer_locks.get(store_dir)
        if entry is not None:
            entry[1] += 1
            return Path(store_dir) / WRITER_LOCK
        if not is_writable(store_dir):
            raise ProjectReadOnlyError(
                f"project store {store_dir} is read-only here: query/status/report work, runs need a "
                "writable --project-dir"
            )
        path = Path(store_dir) / WRITER_LOCK
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            time.sleep(0.05)  # the holder may be writing its PID line
            raise ProjectInUseError(
                f"project {Path(store_dir).parent} in use by {_lock_holder(path)}: wait for that run to "
                "finish, or use another --project-dir (reading with status/query/report works meanwhile)"
            ) from None
        stamp = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
        os.ftruncate(fd, 0)
        os.write(fd, f"PID {os.getpid()} (since {stamp})\n".encode())
        _writer_locks[store_dir] = [fd, 1]
        return path


def release_writer_lock(store_dir: str | os.PathLike, force: bool = False) -> None:
    """Drop one hold of this process on the writer lock (all holds with ``force``)."""
    store_dir = str(Path(store_dir).resolve())
    with _writer_guard:
        entry = _writer_locks.get(store_dir)
        if entry is None:
            return
        entry[1] -= 1
        if entry[1] <= 0 or force:
            fd = entry[0]
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)
            os.close(fd)  # closing the descriptor releases the flock
            del _writer_locks[store_dir]


# -- one-time initialisation -------------------------------------------------------------------------
def initialise_store_dir(store_dir: str | os.PathLike, database: str, collections, storage_kwargs=None) -> None:
    """Create montydb's config and the sqlite tables of ``collections`` once (idempotent, process-safe)."""
    from montydb import MontyClient, set_storage

    store_dir = Path(store_dir)
    if (store_dir / READY_MARKER).exists():
        return
    if not is_writable(store_dir.parent if not store_dir.exists() else store_dir):
        if (store_dir / "monty.storage.cfg").exists():
            return  # a store made before the marker existed: open it as it is
        raise ProjectReadOnlyError(f"no store in read-only project directory {store_dir.parent}")
    store_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(store_dir / INIT_LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # blocks while another process initialises
        if (store_dir / READY_MARKER).exists():
            return
        if not (store_dir / "monty.storage.cfg").exists() or not (store_dir / ".monty.storage").exists():
            set_storage(str(store_dir), storage="sqlite", **(storage_kwargs or STORAGE_KWARGS))
        client = MontyClient(str(store_dir))
        db = client[database]
        existing = set(db.list_collection_names())
        for name in collections:
            if name not in existing:
                db.create_collection(name)
            db[name].count_documents({})  # the table exists and is readable
        client.close()
        tmp = store_dir / f"{READY_MARKER}.{os.getpid()}"
        tmp.write_text("montydb sqlite store initialised by mlip_glass\n")
        os.replace(tmp, store_dir / READY_MARKER)
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


# -- read-only sqlite for montydb ------------------------------------------------------------------
class _ReadOnlyAwareSqlite:
    """Stand-in for the ``sqlite3`` module inside montydb: files in unwritable directories open read-only."""

    def __getattr__(self, name):
        return getattr(sqlite3, name)

    @staticmethod
    def connect(database, *args, **kwargs):
        if isinstance(database, str) and database != ":memory:":
            folder = os.path.dirname(os.path.abspath(database))
            if not is_writable(folder):
                wal = os.path.exists(database + "-wal") and os.path.exists(database + "-shm")
                mode = "mode=ro" if wal else "immutable=1"  # no WAL file: no writer is active
                uri = f"file:{quote(os.path.abspath(database))}?{mode}"
                return sqlite3.connect(uri, *args, uri=True, **kwargs)
        return sqlite3.connect(database, *args, **kwargs)


def _install_read_only_sqlite() -> None:
    import montydb.storage.sqlite as monty_sqlite

    if not isinstance(monty_sqlite.sqlite3, _ReadOnlyAwareSqlite):
        monty_sqlite.sqlite3 = _ReadOnlyAwareSqlite()


# -- the store -----------------------------------------------------------------------------------
class ProjectMontyStore(MontyStore):
    """maggma ``MontyStore`` (sqlite) that opens without rewriting config, locks writers, reads read-only
    directories. Same constructor as ``MontyStore``; serialises (MSONable) by its class path."""

    def __init__(
        self,
        collection_name,
        database_path: str | None = None,
        database_name: str = "db",
        storage: str = "sqlite",
        storage_kwargs: dict | None = None,
        client_kwargs: dict | None = None,
        companion_collections=(),
        **kwargs,
    ):
        """``companion_collections``: other collections of the same directory created at initialisation
        (the JobStore's docs and data stores), so that no process ever sees a half-made collection.
        The other arguments are ``MontyStore``'s (only ``storage="sqlite"`` is supported)."""
        if storage != "sqlite":
            raise StoreConfigError(f"ProjectMontyStore supports storage='sqlite' only, got {storage!r}")
        super().__init__(
            collection_name, database_path=database_path, database_name=database_name, storage=storage,
            storage_kwargs=storage_kwargs, client_kwargs=client_kwargs, **kwargs,
        )
        self.companion_collections = list(companion_collections)

    def connect(self, force_reset: bool = False):
        """Open the store (initialising the directory once); never rewrites montydb's config."""
        from montydb import MontyClient

        if self._coll is not None and not force_reset:
            return
        names = tuple(dict.fromkeys((self.collection_name, *self.companion_collections)))
        initialise_store_dir(self.database_path, self.database_name, names, self.storage_kwargs)
        _install_read_only_sqlite()
        client = MontyClient(self.database_path, **self.client_kwargs)
        self._coll = client[self.database_name][self.collection_name]

    @property
    def read_only(self) -> bool:
        """True if this process cannot write the store directory."""
        return not is_writable(self.database_path)

    def _writer(self) -> None:
        if not getattr(self, "_holds_writer_lock", False):
            acquire_writer_lock(self.database_path)
            self._holds_writer_lock = True

    def update(self, docs, key=None):
        """Insert/replace documents (takes the project's writer lock first)."""
        self._writer()
        return super().update(docs, key=key)

    def remove_docs(self, criteria):
        """Remove documents (takes the project's writer lock first)."""
        self._writer()
        return super().remove_docs(criteria)

    def ensure_index(self, key, unique=False):
        """Index ``key``; False on a read-only store."""
        if self.read_only:
            return False
        self._writer()
        return super().ensure_index(key, unique=unique)

    def close(self):
        """Close the client and release this store's hold on the writer lock."""
        if getattr(self, "_holds_writer_lock", False):
            release_writer_lock(self.database_path)
            self._holds_writer_lock = False
        if self._coll is not None:
            super().close()
            self._coll = None

    def __getstate__(self):  # pickled for FireWorks/multiprocessing without handles or locks
        state = dict(self.__dict__)
        state["_coll"] = None
        state["_holds_writer_lock"] = False
        return state
