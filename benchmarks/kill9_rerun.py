"""Benchmark: ``mlip-glass run <flow>`` killed with SIGKILL during a long job, then the same command again.

Counts, from the embedded store and the run output: jobs finished before the kill, jobs the rerun
computed, job documents at the end vs jobs in the flow (duplicates), and the work lost by the long job
(sweeps of the swap-MC checkpoint reached before the kill vs the sweep the rerun resumed from).

``--tree`` picks the source tree (e.g. the tree before the resumable runner, to measure the old behaviour).

Example (the table in docs/troubleshooting.md)::

    python benchmarks/kill9_rerun.py --sweeps 100000 --kill-after 8
    python benchmarks/kill9_rerun.py --tree /path/to/old/checkout --sweeps 100000 --kill-after 8
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _count_docs(tree: str, project: Path, campaign: str) -> tuple[int, int]:
    """(documents, distinct (name, metadata) jobs) of the campaign, read in a fresh process."""
    code = (
        "import json,sys\nfrom mlip_glass.store import get_job_store\n"
        "s=get_job_store(None, sys.argv[1]); s.connect()\n"
        "d=list(s.query({'metadata.campaign': sys.argv[2]}, properties=['name','metadata.sample']))\n"
        "print(json.dumps([x['name'] for x in d]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code, str(project), campaign], capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": tree}, check=True)
    names = json.loads(out.stdout)
    return len(names), len(set(names))


def _max_checkpoint_sweep(project: Path) -> int:
    import numpy as np

    best = 0
    for path in project.rglob("swapmc_*.ckpt"):
        try:
            with np.load(path) as data:
                best = max(best, int(data["sweep"]))
        except (OSError, ValueError, KeyError, EOFError):
            continue
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tree", default=str(Path(__file__).resolve().parents[1]), help="source tree to run")
    parser.add_argument("--sweeps", type=int, default=100_000, help="sweeps of the long swap-MC job")
    parser.add_argument("--kill-after", type=float, default=8.0,
                        help="seconds after the long job's first checkpoint to send SIGKILL")
    parser.add_argument("--workdir", default=None, help="project dir (default: a new temporary one)")
    args = parser.parse_args()

    project = Path(args.workdir or tempfile.mkdtemp(prefix="kill9_"))
    env = {**os.environ, "PYTHONPATH": args.tree, "PYTHONUNBUFFERED": "1"}
    env.pop("MLIP_GLASS_CHECKPOINT_DIR", None)
    exe = str(Path(sys.executable).with_name("mlip-glass"))
    command = [exe, "run", "surrogate", "--campaign", "k9", "-o", f"swap_sweeps=[100, {args.sweeps}]",
               "-o", "md_times=[5, 10]", "-o", "n_samples=1", "--project-dir", str(project)]
    n_jobs = 5
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
                            cwd=project.parent)
    while _max_checkpoint_sweep(project) <= 100 and proc.poll() is None:
        time.sleep(0.2)
    time.sleep(args.kill_after)
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    killed_at = _max_checkpoint_sweep(project)
    docs_before, _ = _count_docs(args.tree, project, "k9")

    start = time.perf_counter()
    rerun = subprocess.run(command, capture_output=True, text=True, env=env, cwd=project.parent)
    wall = time.perf_counter() - start
    text = rerun.stdout + rerun.stderr
    resumed = re.search(r"resumed from .* at sweep (\d+)", text)
    ran = re.search(r"ran (\d+) jobs", text)
    docs_after, distinct = _count_docs(args.tree, project, "k9")
    row = {
        "tree": args.tree, "sweeps": args.sweeps, "jobs_in_flow": n_jobs, "rerun_exit": rerun.returncode,
        "jobs_finished_before_kill": docs_before,
        "jobs_computed_by_rerun": int(ran.group(1)) if ran else n_jobs,
        "documents_after": docs_after, "duplicate_documents": docs_after - distinct,
        "checkpoint_sweep_at_kill": killed_at,
        "rerun_resumed_at_sweep": int(resumed.group(1)) if resumed else 0,
        "swap_mc_sweeps_lost": killed_at - (int(resumed.group(1)) if resumed else 0),
        "rerun_wall_s": round(wall, 1), "project": str(project),
    }
    print(json.dumps(row, indent=1))


if __name__ == "__main__":
    main()
