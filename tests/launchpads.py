"""A FireWorks ``launchpad.yaml`` for a test's database on the wire server, and Firework state counts."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import yaml

#: Firework states that still need a worker
UNFINISHED = ["READY", "WAITING", "RESERVED", "RUNNING"]


def launchpad_file(uri: str, path: Path) -> Path:
    """Write ``launchpad.yaml`` for database ``<test db>_fw`` of the server of ``uri``; returns ``path``."""
    db = uri.split("/")[3].split("?")[0] + "_fw"
    path.write_text(yaml.safe_dump({"host": uri.replace(uri.split("/")[3], db), "uri_mode": True, "name": db}))
    return path


def states(lpad) -> Counter:
    """Number of Fireworks per state."""
    return Counter(fw["state"] for fw in lpad.fireworks.find({}, {"state": 1}))
