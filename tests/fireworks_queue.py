"""FireWorks through a queue in tests: a ``launchpad.yaml`` for a test's database on the wire server, Firework state
counts, the shipped queue adapters with their ``/path/to/...`` placeholders replaced, ``mlip-glass submit``."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import yaml

BIN = Path(sys.executable).parent
VENV = BIN.parent
WORKFLOWS = Path(__file__).resolve().parents[1] / "workflows" / "fireworks"

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


def shipped_qadapter(name: str, paths: dict[str, str | os.PathLike], out: Path, **settings) -> Path:
    """The shipped queue adapter ``name`` with its ``/path/to/...`` placeholders replaced by ``paths`` (each
    must occur) and ``settings`` (e.g. a short ``walltime``) set; written to ``out``."""
    text = (WORKFLOWS / name).read_text()
    for placeholder, path in paths.items():
        assert placeholder in text, f"{name} has no {placeholder}"
        text = text.replace(placeholder, str(path))
    left = re.findall(r"/path/to/\S*", text)
    assert not left, f"placeholders left in {name}: {left}"
    config = yaml.safe_load(text)
    config.update(settings)
    out.write_text(yaml.safe_dump(config))
    return out


def qadapter_for(tmp_path: Path, lp_file: Path, checkpoints: Path, **settings) -> Path:
    """``my_qadapter_slurm.yaml`` for this machine: the catch-all worker, this venv, a checkpoint folder."""
    return shipped_qadapter("my_qadapter_slurm.yaml", {
        "/path/to/launchpad.yaml": lp_file,
        "/path/to/my_fworker_cpu.yaml": WORKFLOWS / "my_fworker.yaml",
        "/path/to/mlip_glass/.venv": VENV,
        "/path/to/shared/mlip_glass_checkpoints": checkpoints,
    }, tmp_path / "my_qadapter.yaml", **settings)


def fw_config(tmp_path: Path) -> Path:
    """FireWorks settings of the tests: no pause between submissions."""
    path = tmp_path / "FW_config.yaml"
    path.write_text(yaml.safe_dump({"QUEUE_UPDATE_INTERVAL": 0, "QSTAT_FREQUENCY": 1}))
    return path


def submit(flow: str, campaign: str, options: dict, lp_file: Path, store_uri: str, env: dict) -> None:
    """``mlip-glass submit`` (the command a user types on the login node)."""
    cmd = [str(BIN / "mlip-glass"), "submit", flow, "--campaign", campaign, "--launchpad", str(lp_file),
           "--store", store_uri]
    for key, value in options.items():
        cmd += ["-o", f"{key}={value!r}"]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
