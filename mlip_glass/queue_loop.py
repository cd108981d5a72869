"""The package's queue loop (``mlip-glass queue``): ``qlaunch rapidfire`` that re-queues lost runs by itself.

A Firework whose queue job ends without finishing it — wall time reached (SLURM TIMEOUT: SIGTERM, then SIGKILL
after ``KillWait``), ``scancel``, a dead node or ``kill -9`` of the job's processes — stays RUNNING in FireWorks
until someone runs ``lpad detect_lostruns --rerun``. Each pass of :class:`QueueLoop`

1. asks SLURM for the working folders of this user's live jobs (``squeue -o %Z``: pending, running,
   completing), then reruns every Firework that has been RUNNING since before that question in a launch folder
   under this loop's ``launch_dir`` that belongs to no live job (FireWorks' ``detect_lostruns(rerun=True)`` on
   exactly those launches: no waiting for a ping to expire), and cancels the reservation of RESERVED ones
   (``qlaunch -r`` jobs cancelled before they started);
2. submits one queue job per READY Firework (FireWorks' ``launch_rocket_to_queue``, one launcher folder each)
   until ``max_jobs`` jobs are queued; without reservation, jobs that started but have not yet taken a
   Firework count as taken (no second job for the same READY Firework).

The rerun starts a new launch of the same job (same job uuid), which resumes from its checkpoint in
``$MLIP_GLASS_CHECKPOINT_DIR/<campaign>/<job uuid>`` (set in the queue adapter's ``pre_rocket``): at most one
checkpoint interval of work is lost. A job writes its document only when it finishes, so a rerun never writes
a second one. Queues other than SLURM: ``lost_after_s`` reruns Fireworks without a ping for that long
(``detect_lostruns``; >= FireWorks' ``PING_TIME_SECS``). One loop per ``launch_dir``.
"""

from __future__ import annotations

import datetime
import getpass
import logging
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

#: Firework states a loop waits for (READY/RESERVED/RUNNING: work queued or running)
ACTIVE_STATES = ("READY", "RESERVED", "RUNNING")
#: seconds allowed for one ``squeue``
SQUEUE_TIMEOUT_S = 60.0


def live_job_dirs(user: str | None = None) -> list[Path] | None:
    """Working folders of ``user``'s SLURM jobs that are pending, running or completing; None if ``squeue``
    fails (then nothing can be called lost)."""
    cmd = ["squeue", "-h", "-u", user or getpass.getuser(), "-o", "%Z"]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=SQUEUE_TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired) as exc:
        logger.warning("squeue failed (%s): no lost runs detected in this pass", exc)
        return None
    if done.returncode != 0:
        logger.warning("squeue failed (%s): no lost runs detected in this pass", done.stderr.strip())
        return None
    return [Path(line.strip()).resolve() for line in done.stdout.splitlines() if line.strip()]


def _started_before(launch: dict, state: str, moment: datetime.datetime) -> bool:
    """The launch entered ``state`` before ``moment`` (UTC)."""
    for entry in launch.get("state_history") or []:
        if entry.get("state") != state:
            continue
        created = entry.get("created_on")
        if isinstance(created, str):
            created = datetime.datetime.fromisoformat(created)
        if isinstance(created, datetime.datetime):
            if created.tzinfo is None:
                created = created.replace(tzinfo=datetime.timezone.utc)
            return created < moment
    return False


def orphaned_launches(lpad, launch_dir: str | Path, live: list[Path],
                      asked_at: datetime.datetime) -> dict[str, list[int]]:
    """``{"RUNNING": [launch ids], "RESERVED": [...]}``: launches in ``launch_dir`` (or below) whose folder
    belongs to none of the ``live`` job folders, in that state since before ``asked_at`` (when ``live`` was
    taken: a job submitted later cannot be mistaken for a dead one)."""
    root = Path(launch_dir).resolve()
    found: dict[str, list[int]] = {"RUNNING": [], "RESERVED": []}
    for launch in lpad.launches.find({"state": {"$in": list(found)}},
                                     {"launch_id": 1, "state": 1, "launch_dir": 1, "state_history": 1}):
        folder = Path(launch.get("launch_dir") or "/").resolve()
        if folder != root and root not in folder.parents:
            continue  # not submitted by this loop
        if any(folder == job or job in folder.parents for job in live):
            continue  # its queue job is alive
        if _started_before(launch, launch["state"], asked_at):
            found[launch["state"]].append(launch["launch_id"])
    return found


def requeue_orphans(lpad, launch_dir: str | Path, user: str | None = None) -> list[int]:
    """Rerun the RUNNING Fireworks of dead queue jobs (and free RESERVED ones); returns their fw_ids."""
    asked_at = datetime.datetime.now(datetime.timezone.utc)
    live = live_job_dirs(user)
    if live is None:
        return []
    orphans = orphaned_launches(lpad, launch_dir, live, asked_at)
    fw_ids: list[int] = []
    if orphans["RUNNING"]:
        _, lost, _ = lpad.detect_lostruns(expiration_secs=0, rerun=True,
                                          launch_query={"launch_id": {"$in": orphans["RUNNING"]}})
        fw_ids += list(lost)
    for launch_id in orphans["RESERVED"]:
        fw_ids.append(lpad.launches.find_one({"launch_id": launch_id}, {"fw_id": 1})["fw_id"])
        lpad.cancel_reservation(launch_id)
    return sorted(fw_ids)


@dataclass
class QueueLoop:
    """Submit READY Fireworks to the queue and re-queue lost ones, pass after pass.

    Parameters
    ----------
    launchpad
        FireWorks LaunchPad.
    fworker
        FireWorks FWorker (category/query of the Fireworks to submit).
    qadapter
        FireWorks queue adapter (e.g. ``CommonAdapter`` from ``my_qadapter_slurm.yaml``).
    launch_dir
        Folder of the launcher folders (one per queue job); one loop per folder.
    max_jobs
        Queue jobs of this user kept at most (0 = no limit).
    sleep_s
        Seconds between passes.
    reserve
        Reservation mode (``qlaunch -r``): each job reserves its Firework (its ``_queueadapter`` applies).
    lost_after_s
        Also rerun Fireworks without a ping for this many seconds (queues other than SLURM; None = off).
    """

    launchpad: Any
    fworker: Any
    qadapter: Any
    launch_dir: Path
    max_jobs: int = 0
    sleep_s: float = 60.0
    reserve: bool = False
    lost_after_s: float | None = None

    def __post_init__(self) -> None:
        self.launch_dir = Path(self.launch_dir).resolve()
        if not self.launch_dir.is_dir():
            raise ValueError(f"launch_dir {self.launch_dir} is not a directory")
        if self.max_jobs < 0:
            raise ValueError(f"max_jobs must be >= 0 (0 = no limit), got {self.max_jobs}")
        if self.sleep_s < 0:
            raise ValueError(f"sleep_s must be >= 0 s, got {self.sleep_s}")
        q_type = getattr(self.qadapter, "q_type", None) or self.qadapter.get("_fw_q_type")  # CommonAdapter: q_type
        self.is_slurm = str(q_type).upper() == "SLURM"
        if not self.is_slurm and self.lost_after_s is None:
            logger.warning("queue %s: lost runs are found only with lost_after_s (ping expiry)", q_type)
        self._block: Path | None = None

    def requeue_lost(self) -> list[int]:
        """fw_ids put back to READY in this pass (dead queue jobs; expired pings with ``lost_after_s``)."""
        fw_ids = requeue_orphans(self.launchpad, self.launch_dir) if self.is_slurm else []
        if self.lost_after_s is not None:
            _, lost, _ = self.launchpad.detect_lostruns(expiration_secs=self.lost_after_s, rerun=True)
            fw_ids += [f for f in lost if f not in fw_ids]
        return sorted(fw_ids)

    def unclaimed_jobs(self) -> int | None:
        """This loop's live SLURM jobs that have not started a Firework yet (they will take a READY one);
        None if unknown (not SLURM, or ``squeue`` failed)."""
        live = live_job_dirs() if self.is_slurm else None
        if live is None:
            return None
        ours = [d for d in live if d == self.launch_dir or self.launch_dir in d.parents]
        claimed = [Path(la.get("launch_dir") or "/").resolve() for la in self.launchpad.launches.find(
            {"state": {"$in": ["RUNNING", "RESERVED"]}}, {"launch_dir": 1})]
        return sum(1 for d in ours if not any(c == d or d in c.parents for c in claimed))

    def submit(self) -> list[str]:
        """Submit queue jobs for READY Fireworks (up to ``max_jobs`` queued; without reservation on SLURM, one
        per READY Firework not already awaited by a started job); returns their job ids."""
        from fireworks.queue.queue_launcher import launch_rocket_to_queue
        from fireworks.utilities.fw_utilities import create_datestamp_dir

        queued = self.qadapter.get_njobs_in_queue() if self.max_jobs else 0
        budget: int | None = None
        if not self.reserve:
            unclaimed = self.unclaimed_jobs()
            if unclaimed is not None:
                ready = self.launchpad.fireworks.count_documents({**self.fworker.query, "state": "READY"})
                budget = ready - unclaimed
        submitted: list[str] = []
        while ((not self.max_jobs or queued < self.max_jobs) and (budget is None or len(submitted) < budget)
               and self.launchpad.run_exists(self.fworker)):
            if self._block is None:
                self._block = Path(create_datestamp_dir(str(self.launch_dir), logger))
            job_id = launch_rocket_to_queue(self.launchpad, self.fworker, self.qadapter, str(self._block),
                                            reserve=self.reserve, strm_lvl="WARNING", create_launcher_dir=True)
            if not job_id:
                break  # nothing to reserve, or the submission failed (FireWorks logged why)
            submitted.append(str(job_id))
            queued += 1
        return submitted

    def active(self) -> int:
        """Fireworks READY, RESERVED or RUNNING (work left for this loop)."""
        return self.launchpad.fireworks.count_documents({"state": {"$in": list(ACTIVE_STATES)}})

    def run(self, passes: int | None = None, progress: Callable[[str], None] | None = None) -> int:
        """Pass after pass until no Firework is READY, RESERVED or RUNNING (or ``passes`` passes); returns the
        number of passes. ``progress``: called with one line per pass that did something."""
        say = progress or (lambda line: None)
        done = 0
        while passes is None or done < passes:
            rerun = self.requeue_lost()
            jobs = self.submit()
            done += 1
            if rerun or jobs:
                say(f"pass {done}: lost runs put back to READY: {rerun or 'none'}; "
                    f"queue jobs submitted: {', '.join(jobs) or 'none'}")
            if not self.active():
                break
            time.sleep(self.sleep_s)
        return done
