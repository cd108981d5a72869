"""Interrupt the SLURM jobs of one long Firework while ``mlip-glass queue`` runs, and measure what was lost.

The Firework's n-th queue job meets ``plan[n]``: ``"TIMEOUT"`` (nothing is done: the job reaches its ``--time``,
SLURM sends SIGTERM, then SIGKILL after KillWait), ``"scancel"`` or ``"kill -9"`` (every process of the job,
as when its node dies), the last two once the job has written a checkpoint of its own. A watcher polls the
job's checkpoint (every 0.1 s) and the queue, and records for every interruption the progress of the last
checkpoint before it, how old that checkpoint was when the job died (the work lost), and the progress of the
first checkpoint the next job wrote (it resumed from the last one if that is exactly one interval further).
Shared by ``tests/test_slurm_requeue.py`` and ``benchmarks/requeue_table.py``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

INTERRUPTIONS = ("TIMEOUT", "scancel", "kill -9")
#: ``mlip-glass submit`` builder of :func:`long_job_flow` (``tests/`` on PYTHONPATH of the submitting process)
LONG_JOB_FLOW = "requeue_scenario:long_job_flow"


def long_job_flow(campaign: str, kind: str = "swap-MC", sweeps: int = 100_000, checkpoint_every: int | None = None,
                  md_duration: float = 100.0):
    """One long surrogate job of the package (its Maker, default settings otherwise): a swap-MC cooling of
    ``sweeps`` sweeps or an MD cooling of ``md_duration`` (reduced time), with a checkpoint every
    ``checkpoint_every`` sweeps / MD steps (None: the Maker's default)."""
    from jobflow import Flow

    from mlip_glass.surrogate.jobs import MDCoolingMaker, SwapMCCoolingMaker

    if kind == SWAP_MC.name:
        job = SwapMCCoolingMaker(n_sweeps=int(sweeps), checkpoint_every=checkpoint_every, n_atoms=150).make()
    elif kind == MD_COOLING.name:
        job = MDCoolingMaker(duration=float(md_duration), n_atoms=150, checkpoint_every=checkpoint_every).make()
    else:
        raise ValueError(f"kind must be {SWAP_MC.name!r} or {MD_COOLING.name!r}, got {kind!r}")
    return Flow([job], name=f"long {kind}")


@dataclass(frozen=True)
class JobKind:
    """A long job: its Firework name prefix, its checkpoint file pattern and how to read its progress."""

    name: str
    fw_prefix: str
    pattern: str
    unit: str

    def progress(self, path: Path) -> int:
        """Units of work done at the checkpoint ``path``."""
        if self.pattern.endswith(".json"):
            return int(json.loads(path.read_text())["steps_done"])
        with np.load(path, allow_pickle=False) as data:
            return int(data["sweep"])


SWAP_MC = JobKind("swap-MC", "swap-MC cooling", "swapmc_*.ckpt", "sweeps")
MD_COOLING = JobKind("MD cooling", "MD cooling", "md_*.ckpt.json", "steps")


@dataclass
class Interruption:
    """What one interruption cost (progress in the kind's unit, times in s)."""

    kind: str
    job_id: str
    slurm_state: str = ""
    last_checkpoint: int | None = None
    checkpoint_age_s: float | None = None  #: seconds between the last checkpoint and the job's end: work lost
    work_lost: int | None = None  #: units done after the last checkpoint (checkpoint age x measured rate)
    next_first_checkpoint: int | None = None
    interval: int | None = None

    @property
    def resumed(self) -> bool:
        """The next job continued from the last checkpoint (its first checkpoint one interval further)."""
        return (self.last_checkpoint is not None and self.next_first_checkpoint is not None
                and self.next_first_checkpoint - self.last_checkpoint == self.interval)


@dataclass
class Watch:
    """The watched Firework's jobs, checkpoints and interruptions."""

    kind: JobKind
    plan: tuple[str, ...]
    jobs: list[str] = field(default_factory=list)
    checkpoints: list[tuple[float, int, str]] = field(default_factory=list)  #: (mtime, progress, job id)
    interruptions: list[Interruption] = field(default_factory=list)
    ended_at: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"kind": self.kind.name, "unit": self.kind.unit, "jobs": self.jobs,
                "interruptions": [{**asdict(i), "resumed": i.resumed} for i in self.interruptions]}


def job_processes(job_id: str) -> list[int]:
    """PIDs of the processes of SLURM job ``job_id`` on this node (``SLURM_JOB_ID`` in their environment)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            env = (entry / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if f"SLURM_JOB_ID={job_id}".encode() in env:
            pids.append(int(entry.name))
    return pids


def _live_jobs(cluster) -> dict[str, str]:
    """Work folder → job id of the live jobs."""
    out = cluster.run("squeue", "-h", "-o", "%i|%Z", check=False)
    return {line.split("|", 1)[1]: line.split("|", 1)[0] for line in out.splitlines() if "|" in line}


def _current_job(lpad, fw_id: int, live: dict[str, str]) -> str | None:
    launch = lpad.launches.find_one({"fw_id": fw_id, "state": "RUNNING"}, {"launch_dir": 1})
    if not launch:
        return None
    folder = str(Path(launch["launch_dir"]).resolve())
    return next((job for work, job in live.items() if folder == work or folder.startswith(work + "/")), None)


def watch(cluster, lpad, fw_id: int, kind: JobKind, plan: tuple[str, ...], checkpoint_root: Path,
          loop: subprocess.Popen, timeout_s: float = 900.0) -> Watch:
    """Watch Firework ``fw_id`` until ``loop`` (``mlip-glass queue``) exits; interrupt its jobs as ``plan`` says."""
    seen = Watch(kind=kind, plan=plan)
    last_mtime = 0.0
    acted: set[str] = set()
    deadline = time.monotonic() + timeout_s
    while loop.poll() is None and time.monotonic() < deadline:
        live = _live_jobs(cluster)
        job = _current_job(lpad, fw_id, live)
        if job and job not in seen.jobs:
            seen.jobs.append(job)
        for path in checkpoint_root.rglob(kind.pattern):
            mtime = path.stat().st_mtime
            if mtime > last_mtime:
                try:
                    progress = kind.progress(path)
                except (OSError, ValueError, KeyError):
                    continue  # being replaced: next poll
                last_mtime = mtime
                seen.checkpoints.append((mtime, progress, seen.jobs[-1] if seen.jobs else ""))
        for old in seen.jobs:
            if old not in live.values() and old not in seen.ended_at:
                seen.ended_at[old] = time.time()
        if job and job not in acted:
            n = seen.jobs.index(job)
            action = plan[n] if n < len(plan) else None
            own = [c for c in seen.checkpoints if c[2] == job]
            if action in ("scancel", "kill -9") and own:
                time.sleep(0.5)  # mid-interval
                if action == "scancel":
                    cluster.run("scancel", job)
                else:
                    for pid in job_processes(job):
                        try:
                            os.kill(pid, signal.SIGKILL)
                        except ProcessLookupError:
                            pass
                seen.ended_at[job] = time.time()
                acted.add(job)
        time.sleep(0.1)
    seen.interruptions = _interruptions(cluster, seen)
    return seen


def _interruptions(cluster, seen: Watch) -> list[Interruption]:
    states = dict(line.split("|")[:2] for line in cluster.run("sacct", "-c", "-n", "-P", "-o", "JobID,State")
                  .splitlines() if "|" in line)
    ends = {}
    for line in cluster.run("sacct", "-c", "-n", "-P", "-o", "JobID,End").splitlines():
        job, _, end = line.partition("|")
        if end and end != "Unknown":
            ends[job] = time.mktime(time.strptime(end, "%Y-%m-%dT%H:%M:%S"))
    intervals = np.diff(sorted({c[1] for c in seen.checkpoints}))
    interval = int(np.median(intervals)) if len(intervals) else None
    rates = [(b[1] - a[1]) / (b[0] - a[0]) for a, b in zip(seen.checkpoints, seen.checkpoints[1:])
             if a[2] == b[2] and b[0] > a[0] and b[1] > a[1]]
    rate = float(np.median(rates)) if rates else None  #: units per second of one job
    result = []
    for n, job in enumerate(seen.jobs[:-1]):
        own = [c for c in seen.checkpoints if c[2] == job]
        later = [c for c in seen.checkpoints if c[2] == seen.jobs[n + 1]]
        kind = seen.plan[n] if n < len(seen.plan) else states.get(job, "?")  # more jobs than planned: TIMEOUTs
        end = seen.ended_at.get(job) if kind in ("scancel", "kill -9") else ends.get(job, seen.ended_at.get(job))
        last = own[-1] if own else None
        age = max(0.0, end - last[0]) if last and end else None
        result.append(Interruption(
            kind=kind, job_id=job,
            slurm_state=states.get(job, ""), last_checkpoint=last[1] if last else None,
            checkpoint_age_s=None if age is None else round(age, 1),
            work_lost=None if age is None or rate is None else int(round(age * rate)),
            next_first_checkpoint=later[0][1] if later else None, interval=interval))
    return result


def run_interrupted(cluster, workdir: Path, store_uri: str, kind: JobKind, options: dict,
                    plan: tuple[str, ...] = INTERRUPTIONS, walltime: str = "00:01:00", campaign: str = "requeue"):
    """Submit :func:`long_job_flow` (``options``) with ``mlip-glass submit``, run ``mlip-glass queue`` with the
    shipped SLURM adapter (``walltime``; output in ``workdir/queue.log``) and interrupt the job's queue jobs as
    ``plan`` says; returns ``(lpad, watch, queue loop output)``."""
    from fireworks_queue import BIN, WORKFLOWS, fw_config, launchpad_file, qadapter_for, submit

    from mlip_glass.store import get_launchpad

    lp_file = launchpad_file(store_uri, workdir / "launchpad.yaml")
    lpad = get_launchpad(str(lp_file))
    lpad.reset("", require_password=False)
    env = {**cluster.env, "FW_CONFIG_FILE": str(fw_config(workdir)),
           "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent), os.environ.get("PYTHONPATH", "")])}
    submit(LONG_JOB_FLOW, campaign, {"kind": kind.name, **options}, lp_file, store_uri, env)
    checkpoints = workdir / "checkpoints"
    qadapter = qadapter_for(workdir, lp_file, checkpoints, walltime=walltime)
    launch_dir = workdir / "queue"
    launch_dir.mkdir()
    log = workdir / "queue.log"
    with log.open("w") as sink:
        loop = subprocess.Popen([str(BIN / "mlip-glass"), "queue", "--launchpad", str(lp_file), "--fworker",
                                 str(WORKFLOWS / "my_fworker.yaml"), "--qadapter", str(qadapter), "--launch-dir",
                                 str(launch_dir), "--max-jobs", "2", "--sleep", "1"],
                                env=env, stdout=sink, stderr=subprocess.STDOUT)
        fw_id = lpad.fireworks.find_one({}, {"fw_id": 1})["fw_id"]
        try:
            seen = watch(cluster, lpad, fw_id, kind, plan, checkpoints, loop)
            loop.wait(timeout=60)
        finally:
            if loop.poll() is None:
                loop.kill()
    out = log.read_text()
    if loop.returncode != 0:
        raise RuntimeError(f"mlip-glass queue failed ({loop.returncode}):\n{out[-3000:]}")
    return lpad, seen, out
