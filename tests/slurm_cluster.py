"""A real single-node SLURM cluster for tests: Debian ``slurm-wlm`` + ``munge`` started by PID, no systemd.

:func:`start_cluster` writes a minimal ``slurm.conf`` (no cgroups: ``proctrack/linuxproc``, ``task/none``; no
accounting database: ``jobcomp/filetxt``, which ``sacct -c`` reads), a fresh munge key and socket, all in one
temporary folder, on free ports; starts ``munged -F``, ``slurmctld -D -i`` and ``slurmd -D``; waits until
``sinfo`` shows the node idle. :meth:`SlurmCluster.stop` stops the three processes by PID. Clients
(``sbatch``, ``squeue``, ``sacct``, ``scontrol``, ``qlaunch``) need :attr:`SlurmCluster.env` (``SLURM_CONF``).
"""

from __future__ import annotations

import getpass
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

DAEMONS = ("munged", "slurmctld", "slurmd")
CLIENTS = ("sbatch", "squeue", "sacct", "scontrol", "sinfo", "scancel")
#: seconds between SIGTERM and SIGKILL when a job times out or is cancelled (SLURM KillWait)
KILL_WAIT_S = 5
STARTUP_TIMEOUT_S = 60.0


def unavailable_reason() -> str | None:
    """Why a cluster cannot start here (one line), or None."""
    if os.geteuid() != 0:
        return "SLURM tests need root (slurmd runs jobs as their user; no systemd)"
    missing = [b for b in (*DAEMONS, *CLIENTS) if shutil.which(b) is None]
    if missing:
        return f"SLURM/munge not installed ({', '.join(missing)} missing): run `make install-slurm`"
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _node_line() -> str:
    """``NodeName=... CPUs=... RealMemory=...`` of this machine (``slurmd -C``), at 127.0.0.1."""
    out = subprocess.run(["slurmd", "-C"], capture_output=True, text=True, check=True).stdout
    line = next(ln for ln in out.splitlines() if ln.startswith("NodeName="))
    return f"{line} NodeAddr=127.0.0.1 State=UNKNOWN"


SLURM_CONF = """\
ClusterName=mlipglass
SlurmctldHost={host}(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort={ctld_port}
SlurmdPort={slurmd_port}
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={munge_socket}
StateSaveLocation={root}/state
SlurmdSpoolDir={root}/spool
SlurmctldPidFile={root}/slurmctld.pid
SlurmdPidFile={root}/slurmd.pid
SlurmctldLogFile={root}/slurmctld.log
SlurmdLogFile={root}/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc={root}/jobcomp.txt
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
MpiDefault=none
ReturnToService=2
KillWait={kill_wait}
OverTimeLimit=0
MinJobAge=300
InactiveLimit=0
SlurmctldTimeout=30
SlurmdTimeout=30
{node_line}
PartitionName=standard Nodes=ALL Default=YES MaxTime=INFINITE State=UP
"""


@dataclass
class SlurmCluster:
    """A running single-node cluster: its folder, ``slurm.conf``, the client environment and daemon PIDs."""

    root: Path
    conf: Path
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    @property
    def env(self) -> dict[str, str]:
        """``os.environ`` plus ``SLURM_CONF`` (what every SLURM client and job needs)."""
        return {**os.environ, "SLURM_CONF": str(self.conf)}

    def run(self, *cmd: str, check: bool = True) -> str:
        """Run a SLURM client command against this cluster; its stdout."""
        done = subprocess.run(list(cmd), env=self.env, capture_output=True, text=True, timeout=60)
        if check and done.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed: {done.stderr.strip()}")
        return done.stdout

    def logs(self) -> str:
        """The tail of the daemons' logs (for failure messages)."""
        parts = []
        for name in ("munged.log", "slurmctld.log", "slurmd.log"):
            path = self.root / name
            if path.exists():
                parts.append(f"--- {name}\n" + "\n".join(path.read_text(errors="replace").splitlines()[-15:]))
        return "\n".join(parts)

    def stop(self, timeout: float = 15.0) -> None:
        """Cancel the jobs left, then stop slurmd, slurmctld, munged (in that order) by PID: SIGTERM, then SIGKILL."""
        if all(p.poll() is None for p in self.processes.values()) and len(self.processes) == len(DAEMONS):
            self.run("scancel", "--full", "-u", getpass.getuser(), check=False)
            deadline = time.monotonic() + KILL_WAIT_S + 10
            while self.run("squeue", "-h", "-o", "%i", check=False).strip() and time.monotonic() < deadline:
                time.sleep(0.5)
        for name in reversed(DAEMONS):
            proc = self.processes.get(name)
            if proc is None or proc.poll() is not None:
                continue
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout)


def _wait(predicate, what: str, cluster: SlurmCluster, timeout: float = STARTUP_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for name, proc in cluster.processes.items():
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited with {proc.returncode} while waiting for {what}:\n{cluster.logs()}")
        if predicate():
            return
        time.sleep(0.3)
    raise RuntimeError(f"timed out after {timeout:.0f} s waiting for {what}:\n{cluster.logs()}")


def start_cluster(root: str | os.PathLike) -> SlurmCluster:
    """Start munged, slurmctld and slurmd with their files under ``root``; wait until the node is idle."""
    root = Path(root)
    for sub in ("state", "spool", "munge"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    os.chmod(root / "munge", 0o700)
    key = root / "munge" / "munge.key"
    key.write_bytes(os.urandom(1024))
    os.chmod(key, 0o600)
    munge_socket = root / "munge" / "munge.socket"
    conf = root / "slurm.conf"
    conf.write_text(SLURM_CONF.format(host=socket.gethostname(), ctld_port=_free_port(), slurmd_port=_free_port(),
                                      munge_socket=munge_socket, root=root, kill_wait=KILL_WAIT_S,
                                      node_line=_node_line()))
    cluster = SlurmCluster(root=root, conf=conf)
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.STDOUT, "env": cluster.env,
             "start_new_session": True}
    try:
        cluster.processes["munged"] = subprocess.Popen(
            ["munged", "-F", "--force", f"--key-file={key}", f"--socket={munge_socket}",
             f"--pid-file={root / 'munge' / 'munged.pid'}", f"--seed-file={root / 'munge' / 'munged.seed'}",
             f"--log-file={root / 'munged.log'}"], **quiet)
        _wait(munge_socket.exists, "the munge socket", cluster)
        cluster.processes["slurmctld"] = subprocess.Popen(["slurmctld", "-D", "-i", "-f", str(conf)], **quiet)
        _wait(lambda: subprocess.run(["scontrol", "ping"], env=cluster.env, capture_output=True, text=True)
              .stdout.count("UP") > 0, "slurmctld", cluster)
        cluster.processes["slurmd"] = subprocess.Popen(["slurmd", "-D", "-f", str(conf)], **quiet)
        _wait(lambda: "idle" in cluster.run("sinfo", "-h", "-o", "%T", check=False), "the node to be idle", cluster)
    except BaseException:
        cluster.stop()
        raise
    return cluster
