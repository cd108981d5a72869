"""Run a campaign's flow locally so that running it again resumes it.

jobflow gives every job a random uuid when a flow is built, so a second ``run_locally`` of the same command
recomputes everything and writes a second set of documents. Here every job's uuid is derived instead from
the campaign and the job's identity (:mod:`mlip_glass.job_ids`), so that:

- a job whose document (and dynamic sub-jobs) finished is found in the store by campaign + uuid and skipped;
- a re-run job overwrites its own document (the JobStore updates on ``uuid`` + ``index``): no duplicates;
- each job runs in its own fixed folder ``<root>/<uuid>`` and keeps its checkpoints under
  ``$MLIP_GLASS_CHECKPOINT_DIR/<campaign>/<uuid>`` (:func:`job_checkpoint_dir`), so the interrupted job
  resumes from its checkpoint.

Jobs created at run time (``Response.replace/addition/detour``) get uuids derived from their parent's.
"""

from __future__ import annotations

import logging
import os
import re
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from mlip_glass import queries
from mlip_glass.errors import CampaignError
from mlip_glass.job_ids import deterministic_flow, ordered_jobs

logger = logging.getLogger(__name__)

#: environment variable naming the root of per-campaign checkpoint folders
CHECKPOINT_DIR_ENV = "MLIP_GLASS_CHECKPOINT_DIR"
#: metadata key marking a job whose document and dynamic sub-jobs all finished
DONE_KEY = "resume_complete"


def job_checkpoint_dir(default: str | os.PathLike | None = None) -> Path:
    """Checkpoint folder of the running job: ``$MLIP_GLASS_CHECKPOINT_DIR/<campaign>/<job uuid>``.

    Without the variable: ``default`` (else the working directory). Outside a jobflow job (or without a
    campaign stamp) the variable's folder itself. The folder is created.
    """
    root = os.environ.get(CHECKPOINT_DIR_ENV)
    if not root:
        path = Path(default or os.getcwd())
    else:
        from jobflow import CURRENT_JOB

        path = Path(root)
        job = CURRENT_JOB.job
        if job is not None:
            campaign = str(job.metadata.get("campaign") or "no_campaign")
            path = path / _safe(campaign) / job.uuid
    path.mkdir(parents=True, exist_ok=True)
    return path


def _safe(name: str) -> str:
    """A campaign name usable as one folder name."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name) or "_"


def campaign_salt(campaign: str, iteration: int) -> str:
    """The salt of a campaign's top-level job uuids: ``mlip-glass submit`` uses the one ``mlip-glass run`` uses
    (:class:`CampaignRunner` with ``salt=f"iteration {iteration}"``)."""
    return f"{campaign}\niteration {iteration}"


@dataclass
class CampaignRun:
    """What one (re)run did: job names run, skipped (finished before) and failed (name, reason)."""

    ran: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    not_run: list[str] = field(default_factory=list)

    def raise_if_failed(self) -> None:
        """:class:`CampaignError` naming the first failed job and its reason."""
        if not self.failed:
            return
        name, reason = self.failed[0]
        more = f" (and {len(self.failed) - 1} more)" if len(self.failed) > 1 else ""
        raise CampaignError(
            f"job {name!r} failed{more}: {reason}; {len(self.not_run)} dependent job(s) not run; "
            "fix the cause and re-run the same command to resume"
        )


class CampaignRunner:
    """Run flows of one campaign on ``store``, skipping finished jobs (see the module docstring).

    Parameters
    ----------
    store
        A jobflow JobStore.
    campaign
        Campaign name (must match the ``metadata.campaign`` stamp of the flow's jobs).
    root_dir
        Folder of the jobs' working directories (one ``<uuid>`` folder per job, reused on re-runs).
    progress
        Called with one line per job (start of long work, done, skipped, failed); None = silent.
    salt
        Extra text in every job identity, e.g. the iteration a flow is stamped with (metadata are not part
        of a job's identity).
    """

    def __init__(self, store, campaign: str, root_dir: str | os.PathLike,
                 progress: Callable[[str], None] | None = None, salt: str = ""):
        self.store = store
        self.campaign = campaign
        self.salt = salt
        self.root_dir = Path(root_dir)
        self.progress = progress or (lambda line: None)

    def finished_uuids(self) -> set[str]:
        """uuids of the campaign's jobs marked finished in the store."""
        criteria = queries.criteria(self.campaign)
        criteria[f"metadata.{DONE_KEY}"] = True
        return {d["uuid"] for d in self.store.query(criteria, properties=["uuid"])}

    def run(self, flow) -> CampaignRun:
        """Run ``flow`` (built fresh: random uuids) as a resumable campaign; returns what happened."""
        self.store.connect()
        self.root_dir.mkdir(parents=True, exist_ok=True)
        flow, _ = deterministic_flow(flow, salt=f"{self.campaign}\n{self.salt}")  # see campaign_salt
        self._done = self.finished_uuids()
        self._result = CampaignRun()
        self._errored: set[str] = set()
        self._stopped: set[str] = set()
        self._stop_all = False
        self._total = len(ordered_jobs(flow))
        self._count = 0
        self._run(flow, depth=0)
        return self._result

    def _run(self, flow, depth: int) -> bool:
        from jobflow.core.reference import OnMissing

        ok = True
        for job, parents in ordered_jobs(flow):
            if self._stop_all:
                return False
            if depth == 0:
                self._count += 1
            tag = f"[{self._count}/{self._total}]" if depth == 0 else "   " * depth + "-"
            if set(parents) & self._stopped:
                self._stopped.add(job.uuid)
                continue
            if set(parents) & self._errored and job.config.on_missing_references == OnMissing.ERROR:
                self._errored.add(job.uuid)
                self._result.not_run.append(job.name)
                ok = False
                continue
            if job.uuid in self._done:
                self._result.skipped.append(job.name)
                self.progress(f"{tag} {job.name}: finished before, skipped")
                continue
            if not self._run_job(job, depth, tag):
                self._errored.add(job.uuid)
                ok = False
        return ok

    def _run_job(self, job, depth: int, tag: str) -> bool:
        folder = self.root_dir / (job.uuid if job.index == 1 else f"{job.uuid}_{job.index}")
        folder.mkdir(parents=True, exist_ok=True)
        self.progress(f"{tag} {job.name} ...")
        start = time.perf_counter()
        cwd = os.getcwd()
        try:
            os.chdir(folder)
            response = job.run(store=self.store, job_dir=folder)
        except Exception as exc:  # noqa: BLE001 - a failed job is reported, its dependants skipped
            logger.debug("job %s failed:\n%s", job.name, traceback.format_exc())
            reason = f"{type(exc).__name__}: {exc}".strip().splitlines()[0]
            self._result.failed.append((job.name, reason))
            self.progress(f"{tag} {job.name}: FAILED ({reason})")
            return False
        finally:
            os.chdir(cwd)
        self._result.ran.append(job.name)
        self.progress(f"{tag} {job.name}: done in {time.perf_counter() - start:.1f} s")
        if response.stop_children:
            self._stopped.add(job.uuid)
        if response.stop_jobflow:
            self._stop_all = True
        ok = True
        for k, new in enumerate((response.replace, response.detour, response.addition)):
            if new is not None:
                new, _ = deterministic_flow(new, salt=f"{job.uuid}/{job.index}/{k}", keep={job.uuid})
                ok = self._run(new, depth + 1) and ok
        if ok:
            self._mark_done(job.uuid)
            self._remove_empty_checkpoint_dir(job)
        return ok

    def _remove_empty_checkpoint_dir(self, job) -> None:
        root = os.environ.get(CHECKPOINT_DIR_ENV)
        if root:
            folder = Path(root) / _safe(str(job.metadata.get("campaign") or "no_campaign")) / job.uuid
            try:
                folder.rmdir()  # only if the job removed its checkpoints
            except OSError:
                pass

    def _mark_done(self, job_uuid: str) -> None:
        """Set ``metadata.resume_complete`` on the job's last document (no new document)."""
        docs = list(self.store.docs_store.query({"uuid": job_uuid}))
        if not docs:
            return
        doc = max(docs, key=lambda d: d.get("index", 1))
        doc.pop("_id", None)
        doc.setdefault("metadata", {})[DONE_KEY] = True
        self.store.docs_store.update(doc, key=["uuid", "index"])
        self._done.add(job_uuid)
