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
        id_field: str | None = None,
        **kwargs,
    ):
        """``companion_collections``: other collections of the same directory created at initialisation
        (the JobStore's docs and data stores), so that no process ever sees a half-made collection.
        ``id_field``: a unique field (``"blob_uuid"`` for the data store) stored as the document's ``_id``,
        i.e. as sqlite's primary key: writes keyed on it and reads of ``{id_field: value}`` /
        ``{id_field: {"$in": [...]}}`` go straight to that key (montydb itself decodes every document
        of the collection for any query). The other arguments are ``MontyStore``'s (only
        ``storage="sqlite"`` is supported)."""
        if storage != "sqlite":
            raise StoreConfigError(f"ProjectMontyStore supports storage='sqlite' only, got {storage!r}")
        super().__init__(
            collection_name, database_path=database_path, database_name=database_name, storage="sqlite",
            storage_kwargs=storage_kwargs, client_kwargs=client_kwargs, **kwargs,
        )
        self.companion_collections = list(companion_collections)
        self.id_field = id_field

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
        """Insert/replace documents (takes the project's writer lock first); keyed on ``id_field`` in one
        sqlite transaction when that is the key."""
        self._writer()
        if self.id_field is not None and key in (self.id_field, [self.id_field]):
            return self._upsert_by_id(docs if isinstance(docs, list) else [docs])
        return super().update(docs, key=key)

    # -- keyed access (id_field as sqlite primary key) ----------------------------------------------------
    @property
    def collection_file(self) -> str:
        """The sqlite file of this collection (montydb's layout: ``<path>/<database>/<collection>.collection``)."""
        return os.path.join(self.database_path, self.database_name, f"{self.collection_name}.collection")

    def _codec(self):
        from montydb.types import bson

        if self._coll is None:
            self.connect()
        return bson, self._coll.codec_options

    def _upsert_by_id(self, docs) -> None:
        from monty.json import jsanitize

        bson, codec = self._codec()
        rows = []
        for doc in docs:
            doc = jsanitize(doc, allow_bson=True)
            doc["_id"] = doc[self.id_field]
            rows.append((bson.document_encode(doc, check_keys=False, codec_options=codec),
                         bson.id_encode(doc["_id"], codec)))
        with contextlib.closing(_ReadOnlyAwareSqlite.connect(self.collection_file)) as conn, conn:
            conn.execute("PRAGMA busy_timeout=5000")
            conn.executemany("INSERT INTO documents (v, k) VALUES (?, ?) ON CONFLICT(k) DO UPDATE SET v=excluded.v",
                             rows)

    def _keyed_values(self, criteria, properties, sort, skip, limit) -> list | None:
        """The ``id_field`` values a query asks for, if it can be answered by key; else None."""
        if self.id_field is None or sort or skip or limit or not isinstance(criteria, dict) or len(criteria) != 1:
            return None
        if isinstance(properties, dict) and not all(properties.values()):
            return None
        if properties is not None and any("." in p for p in properties):
            return None
        wanted = criteria.get(self.id_field)
        if isinstance(wanted, str):
            return [wanted]
        if isinstance(wanted, dict) and set(wanted) == {"$in"} and all(isinstance(v, str) for v in wanted["$in"]):
            return list(wanted["$in"])
        return None

    def _partial_query(self, criteria, properties, sort, skip, limit):
        docs = _partial_query_impl(self, criteria, properties, sort, skip, limit)
        if docs is None:
            yield from super().query(criteria, properties, sort=sort, skip=skip, limit=limit)
        else:
            yield from docs

    def query(self, criteria=None, properties=None, sort=None, hint=None, skip=0, limit=0, **kwargs):
        """maggma's query, without decoding what it does not need: ``{id_field: value}`` /
        ``{id_field: {"$in": [...]}}`` read by key (documents written before ``id_field`` keys existed are found
        by montydb's scan, as before); other queries decode only the fields they filter and sort on (embedded
        documents pruned to the paths asked for), then only the projected fields of the matching documents
        (montydb decodes every whole document)."""
        if hint or kwargs:
            yield from super().query(criteria, properties, sort=sort, hint=hint, skip=skip, limit=limit, **kwargs)
            return
        values = self._keyed_values(criteria, properties, sort, skip, limit)
        if values is None:
            yield from self._partial_query(criteria, properties, sort, skip, limit)
            return
        properties = list(properties) if properties is not None else None
        bson, codec = self._codec()
        keys = {bson.id_encode(v, codec): v for v in dict.fromkeys(values)}
        found = set()
        if keys:
            with contextlib.closing(_ReadOnlyAwareSqlite.connect(self.collection_file)) as conn:
                for start in range(0, len(keys), 500):
                    chunk = list(keys)[start:start + 500]
                    marks = ",".join("?" * len(chunk))
                    for (raw,) in conn.execute(f"SELECT v FROM documents WHERE k IN ({marks})", chunk):
                        doc = bson.document_decode(raw, codec_options=codec)
                        found.add(doc.get(self.id_field))
                        yield doc if properties is None else {k: doc[k] for k in ["_id", *properties] if k in doc}
        missing = [v for v in keys.values() if v not in found]
        if missing:  # stores written before id_field keys: a scan decoding only id_field of the other documents
            yield from self._partial_query({self.id_field: {"$in": missing}}, properties, None, 0, 0)

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


# -- partial decoding: only the fields a query needs ------------------------------------------------
#: BSON element types of fixed size (bytes after the name)
_FIXED_SIZE = {0x01: 8, 0x06: 0, 0x07: 12, 0x08: 1, 0x09: 8, 0x0A: 0, 0x10: 4, 0x11: 8, 0x12: 8, 0x13: 16,
               0x7F: 0, 0xFF: 0}
#: query operators whose operands are lists of sub-queries (their fields count as the query's fields)
_LOGICAL = ("$and", "$or", "$nor")


def _top_level_elements(raw: bytes) -> dict[str, tuple[int, int]]:
    """``{name: (start, end)}`` of each top-level element of a BSON document (``raw[start:end]`` is the
    element: type byte, name, value). Raises ValueError for a type it does not know."""
    spans = {}
    pos, end = 4, len(raw) - 1
    while pos < end:
        kind = raw[pos]
        name_end = raw.index(b"\x00", pos + 1)
        p = name_end + 1
        if kind in (0x03, 0x04, 0x0F):  # document, array, code with scope: int32 total size
            size = int.from_bytes(raw[p:p + 4], "little", signed=True)
        elif kind in (0x02, 0x0D, 0x0E):  # string, code, symbol: int32 length + bytes
            size = 4 + int.from_bytes(raw[p:p + 4], "little", signed=True)
        elif kind == 0x05:  # binary: int32 length + subtype + bytes
            size = 5 + int.from_bytes(raw[p:p + 4], "little", signed=True)
        elif kind == 0x0B:  # regex: two C strings
            size = raw.index(b"\x00", raw.index(b"\x00", p) + 1) + 1 - p
        elif kind == 0x0C:  # DBPointer: string + 12-byte id
            size = 4 + int.from_bytes(raw[p:p + 4], "little", signed=True) + 12
        elif kind in _FIXED_SIZE:
            size = _FIXED_SIZE[kind]
        else:
            raise ValueError(f"unknown BSON element type {kind:#x}")
        spans[raw[pos + 1:name_end].decode("utf-8")] = (pos, p + size)
        pos = p + size
    return spans


def _path_tree(paths) -> dict:
    """``{"a": {"b": None}, "c": None}`` for the dotted paths ``["a.b", "c"]`` (None: the whole element; a
    path that is a prefix of another keeps the whole element)."""
    tree: dict = {}
    for path in paths:
        node, parts = tree, path.split(".")
        if any("$" in part for part in parts):  # positional projections: the whole top-level element
            parts = parts[:1]
        for i, part in enumerate(parts):
            if i == len(parts) - 1:
                node[part] = None
                break
            child = node.get(part, {})
            if child is None:  # a shorter path already keeps the whole element
                break
            node[part] = child
            node = child
    return tree


def _pruned(raw: bytes, spans: dict, tree: dict) -> bytes:
    """A BSON document of ``raw`` holding only the elements on the paths of ``tree`` (:func:`_path_tree`), in
    document order: embedded documents are pruned recursively, anything else (arrays included: the query
    language looks into their elements) is kept whole."""
    parts = []
    for name, (start, end) in spans.items():
        if name not in tree:
            continue
        sub = tree[name]
        if sub is None or raw[start] != 0x03:
            parts.append(raw[start:end])
            continue
        value_start = raw.index(b"\x00", start + 1) + 1
        inner = raw[value_start:end]
        parts.append(raw[start:value_start] + _pruned(inner, _top_level_elements(inner), sub))
    body = b"".join(parts)
    return (len(body) + 5).to_bytes(4, "little") + body + b"\x00"


def _query_fields(criteria) -> set[str] | None:
    """Field paths a query reads (``metadata.stage``), or None if it uses an operator this cannot follow."""
    names: set[str] = set()
    for key, value in (criteria or {}).items():
        if key in _LOGICAL and isinstance(value, list):
            for sub in value:
                found = _query_fields(sub) if isinstance(sub, dict) else None
                if found is None:
                    return None
                names |= found
        elif key.startswith("$"):
            return None  # $where, $expr, $text, ...: whole documents
        else:
            names.add(key)
    return names


def _projection(properties) -> dict | None:
    if properties is None:
        return None
    if isinstance(properties, dict):
        return dict(properties)
    return {p: 1 for p in properties}


def _partial_query_impl(store: ProjectMontyStore, criteria, properties, sort, skip, limit):
    from collections import OrderedDict

    from montydb.engine.field_walker import FieldWalker
    from montydb.engine.project import Projector
    from montydb.engine.queries import QueryFilter, ordering

    projection = _projection(properties)
    filter_names = _query_fields(criteria)
    if filter_names is None or (projection and not all(projection.values())):
        return None  # exclusion projections and unknown operators: montydb's own path
    sort_names = set(sort or {})
    bson, codec = store._codec()
    if not os.path.isfile(store.collection_file):
        return []
    with contextlib.closing(_ReadOnlyAwareSqlite.connect(store.collection_file)) as conn:
        rows = [raw for (raw,) in conn.execute("SELECT v FROM documents")]
    queryfilter = QueryFilter(criteria or {})
    wanted = _path_tree(["_id", *sorted(filter_names | sort_names)])
    matched, raw_of = [], {}
    for raw in rows:
        raw = bytes(raw) if not isinstance(raw, bytes) else raw
        try:
            spans = _top_level_elements(raw)
            pruned = _pruned(raw, spans, wanted)
        except (ValueError, IndexError):  # a BSON layout this reader does not follow: montydb's own path
            return None
        part = bson.document_decode(pruned, codec_options=codec)
        if queryfilter(part):
            matched.append(queryfilter.fieldwalker)
            raw_of[id(queryfilter.fieldwalker.doc)] = (raw, spans)
    if sort:
        order = OrderedDict((k, int(getattr(v, "value", v))) for k, v in sort.items())
        matched = ordering(matched, order)
    if skip:
        matched = matched[skip:]
    if limit:
        matched = matched[:abs(limit)]
    if not projection:  # None (or empty: Mongo's whole document)
        return [bson.document_decode(raw_of[id(walker.doc)][0], codec_options=codec) for walker in matched]
    projector = Projector(projection, queryfilter)
    projected = _path_tree(["_id", *projection])
    out = []
    for walker in matched:
        raw, spans = raw_of[id(walker.doc)]
        doc = bson.document_decode(_pruned(raw, spans, projected), codec_options=codec)
        walker = FieldWalker(doc)
        projector(walker)
        out.append(walker.doc)
    return out
