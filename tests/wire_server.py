"""Start and stop a MongoDB wire-protocol server for tests (no MongoDB package exists on these machines).

The server is ``mongoeco[wire]`` running under Python >= 3.13 in its own virtual environment
(``make wire-venv`` creates ``.venv-mongo``; override with ``$MLIP_GLASS_WIRE_PYTHON``). It listens on
127.0.0.1 and a free port, keeps data in memory, and is slow for large collections: keep test data small.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

WIRE_PYTHON_ENV = "MLIP_GLASS_WIRE_PYTHON"
LAUNCHER = Path(__file__).with_name("mongoeco_launcher.py")
STARTUP_TIMEOUT_S = 60.0


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def find_wire_python(repo_root: str | os.PathLike | None = None) -> Path | None:
    """The Python (>= 3.13, with mongoeco[wire]) that runs the server, or None."""
    env = os.environ.get(WIRE_PYTHON_ENV)
    if env:
        return Path(env)
    root = Path(repo_root) if repo_root else Path.cwd()
    candidate = root / ".venv-mongo" / "bin" / "python"
    return candidate if candidate.exists() else None


@dataclass
class WireServer:
    """A running wire server (``uri``) and its process."""

    process: subprocess.Popen
    uri: str
    port: int

    def stop(self, timeout: float = 10.0) -> None:
        """Terminate the server (SIGTERM, then SIGKILL)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)


def start_wire_server(python: str | os.PathLike, port: int | None = None) -> WireServer:
    """Start ``mongoeco`` under ``python`` on 127.0.0.1:``port`` (free port if None); wait until ready."""
    python = Path(python)
    if not python.exists():
        raise FileNotFoundError(f"wire-server python {python} does not exist (run `make wire-venv`)")
    port = port or free_port()
    process = subprocess.Popen(
        [str(python), str(LAUNCHER), str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    lines = []
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            if process.poll() is not None:
                break
            continue
        lines.append(line)
        if line.startswith("READY "):
            uri = f"mongodb://127.0.0.1:{port}/?directConnection=true"
            return WireServer(process=process, uri=uri, port=port)
    process.kill()
    raise RuntimeError(f"wire server did not start on port {port}: {''.join(lines)[-2000:]}")
