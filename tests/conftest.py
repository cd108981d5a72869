"""Shared fixtures: the real MongoDB wire-protocol server (mongoeco) and small structures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from wire_server import find_wire_python, start_wire_server

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def wire_server():
    """A wire-protocol MongoDB server on 127.0.0.1:<free port> for the whole session.

    Needs ``.venv-mongo`` (``make wire-venv``) or ``$MLIP_GLASS_WIRE_PYTHON``. Missing → the test fails
    (CI must not silently skip the wire path) unless ``MLIP_GLASS_SKIP_WIRE=1``.
    """
    python = find_wire_python(REPO_ROOT)
    if python is None:
        if os.environ.get("MLIP_GLASS_SKIP_WIRE") == "1":
            pytest.skip("wire server disabled by MLIP_GLASS_SKIP_WIRE=1")
        pytest.fail("no wire-server python: run `make wire-venv` or set MLIP_GLASS_WIRE_PYTHON")
    server = start_wire_server(python)
    yield server
    server.stop()


@pytest.fixture
def mongo_uri(wire_server, request):
    """A URI with a fresh database name per test (keeps collections small: the server is O(n))."""
    name = "t_" + request.node.name.replace("[", "_").replace("]", "").replace("-", "_")[:40]
    return f"mongodb://127.0.0.1:{wire_server.port}/{name}?directConnection=true"


@pytest.fixture(scope="session")
def slurm_cluster(tmp_path_factory):
    """A real single-node SLURM (``tests/slurm_cluster.py``) for the whole session, stopped by PID at the end.

    Not root or no ``slurm-wlm``/``munge``: skip with the reason, except under CI (``$CI`` set), where it fails.
    """
    from slurm_cluster import start_cluster, unavailable_reason

    reason = unavailable_reason()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the SLURM tests: {reason}")
        pytest.skip(reason)
    cluster = start_cluster(tmp_path_factory.mktemp("slurm"))
    yield cluster
    cluster.stop()
