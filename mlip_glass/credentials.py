"""Store credentials kept out of messages, logs and FireWorks documents.

- :func:`redact` masks passwords in any text (``mongodb://user:***@host``, ``password=***``).
- :func:`expand_env` replaces ``${VAR}`` by the environment variable (a clear error names a missing one);
  used for ``--store`` URIs, ``launchpad.yaml`` and ``jobflow.yaml`` values.
- :class:`EnvMongoStore` / :class:`EnvGridFSStore`: maggma's stores that keep ``${VAR}`` templates in
  their fields and expand them only when connecting, so a serialised store (a Firework's spec, a
  launcher's ``FW.json``) holds no secret; their ``name`` is redacted.
- :func:`credential_free` turns a JobStore into one that a Firework may carry: every literal password is
  replaced by ``${MLIP_GLASS_STORE_PASSWORD}``, which workers set in their own environment.
"""

from __future__ import annotations

import copy
import os
import re
from typing import TYPE_CHECKING

from maggma.stores import GridFSStore, MongoStore

from mlip_glass.store_errors import StoreConfigError

#: environment variable that workers set when a literal password was stripped from a Firework's store
PASSWORD_ENV = "MLIP_GLASS_STORE_PASSWORD"

_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_URI_PASSWORD = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.-]*://[^:/?#@\s]*:)(?P<pw>\S*)(?P<at>@)")  # to the last @
_KEY_PASSWORD = re.compile(r"(?i)(?P<key>\b(?:password|passwd|pwd)\b['\"]?\s*[=:]\s*['\"]?)(?P<pw>[^\s&,;'\"}]+)")


def redact(text) -> str:
    """``text`` with passwords masked: URI user-info (``user:***@``) and ``password=``/``password:``."""
    text = _URI_PASSWORD.sub(lambda m: m["head"] + ("***" if m["pw"] else "") + m["at"], str(text))
    return _KEY_PASSWORD.sub(lambda m: m["key"] + "***", text)


def env_refs(value) -> list[str]:
    """Names of the ``${VAR}`` references in ``value`` (a string; others: none)."""
    return _ENV_REF.findall(value) if isinstance(value, str) else []


def expand_env(value, field: str = "value"):
    """``value`` with every ``${VAR}`` replaced by ``$VAR`` from the environment (non-strings unchanged).

    Raises :class:`~mlip_glass.store_errors.StoreConfigError` naming ``field`` and the missing variable.
    """
    if not isinstance(value, str):
        return value

    def sub(match):
        name = match.group(1)
        if name not in os.environ:
            raise StoreConfigError(
                f"{field} refers to ${{{name}}}, but the environment variable {name} is not set"
            )
        return os.environ[name]

    return _ENV_REF.sub(sub, value)


def expand_env_tree(data, field: str = "config"):
    """Copy of a YAML-like tree (dicts/lists/strings) with ``${VAR}`` expanded in every string."""
    if isinstance(data, dict):
        return {k: expand_env_tree(v, f"{field}.{k}") for k, v in data.items()}
    if isinstance(data, list):
        return [expand_env_tree(v, f"{field}[{i}]") for i, v in enumerate(data)]
    return expand_env(data, field)


def uri_password(uri: str) -> str | None:
    """The password part of a URI's user-info (None if absent)."""
    match = _URI_PASSWORD.search(uri or "")
    return match["pw"] if match and match["pw"] else None


def _uri_with_password(uri: str, password: str) -> str:
    return _URI_PASSWORD.sub(lambda m: m["head"] + password + m["at"], uri, count=1)


class _EnvExpandingStore:
    """Mixin: ``uri``/``host``/``username``/``password`` may hold ``${VAR}``; expanded only to connect."""

    _SECRET_FIELDS = ("uri", "host", "username", "password")
    if TYPE_CHECKING:  # fields of the maggma store this is mixed into
        uri: str | None
        host: str
        database: str
        collection_name: str

    def connect(self, force_reset: bool = False):
        templates = {k: getattr(self, k, None) for k in self._SECRET_FIELDS}
        try:
            for key, value in templates.items():
                setattr(self, key, expand_env(value, f"store {key}"))
            return super().connect(force_reset=force_reset)  # type: ignore[misc]  # the maggma store's connect
        finally:
            for key, value in templates.items():  # never keep the secret in the (serialisable) fields
                setattr(self, key, value)

    @property
    def name(self) -> str:
        """The store's address with passwords masked."""
        if getattr(self, "uri", None):
            return redact(self.uri)
        return f"mongo://{self.host}/{self.database}/{self.collection_name}"

    def required_env(self) -> list[str]:
        """Environment variables this store needs to connect."""
        return sorted({n for k in self._SECRET_FIELDS for n in env_refs(getattr(self, k, None))})


class EnvMongoStore(_EnvExpandingStore, MongoStore):
    """maggma ``MongoStore`` whose ``uri``/``host``/``username``/``password`` may hold ``${VAR}``."""


class EnvGridFSStore(_EnvExpandingStore, GridFSStore):
    """maggma ``GridFSStore`` whose ``uri``/``host``/``username``/``password`` may hold ``${VAR}``."""


def _strip(store, variable: str):
    """A copy of a maggma store without literal passwords (Mongo/GridFS → their Env variants)."""
    if not isinstance(store, (MongoStore, GridFSStore)):
        return store
    cls = EnvGridFSStore if isinstance(store, GridFSStore) else EnvMongoStore
    clean = copy.copy(store)
    clean.__class__ = cls if not isinstance(store, _EnvExpandingStore) else type(store)
    for attr in ("_coll", "_fs", "_files_collection", "_chunks_collection"):
        if hasattr(clean, attr):
            setattr(clean, attr, None)
    placeholder = "${" + variable + "}"
    uri = getattr(clean, "uri", None)
    pw = uri_password(uri) if uri else None
    if uri and pw and not env_refs(pw):
        clean.uri = _uri_with_password(uri, placeholder)
    password = getattr(clean, "password", "")
    if password and not env_refs(password):
        clean.password = placeholder
    return clean


def credential_free(job_store, variable: str = PASSWORD_ENV):
    """A JobStore like ``job_store`` that carries no literal password (for Fireworks / ``FW.json``).

    Literal passwords become ``${variable}``; ``${VAR}`` references stay. Workers expand them from
    their environment when they connect. Returns (store, sorted environment variables workers need).
    """
    from jobflow import JobStore

    docs = _strip(job_store.docs_store, variable)
    extra = {k: _strip(v, variable) for k, v in job_store.additional_stores.items()}
    clean = JobStore(docs, additional_stores=extra, save=job_store.save, load=job_store.load)
    needed = set()
    for store in [docs, *extra.values()]:
        if isinstance(store, _EnvExpandingStore):
            needed.update(store.required_env())
    return clean, sorted(needed)
