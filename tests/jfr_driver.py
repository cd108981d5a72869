"""Run a campaign under jobflow-remote to the end, in the venv that has jobflow-remote (``.venv-remote``).

Usage: ``python jfr_driver.py PROJECT FLOW CAMPAIGN OPTIONS_JSON MAX_SECONDS`` with ``$JFREMOTE_PROJECTS_FOLDER``
holding ``PROJECT.yaml``. Resets the project's queue database, submits the flow
(:func:`mlip_glass.remote.submit_campaign`: workers ``cluster_cpu`` and ``frontend``), runs the runner in this
process until no job is waiting or running, and prints one JSON line: ``[{uuid, index, name, state, worker}]``.
"""

import json
import sys


def main(project: str, flow: str, campaign: str, options: str, max_seconds: str) -> None:
    from jobflow_remote.jobs.jobcontroller import JobController
    from jobflow_remote.jobs.runner import Runner

    from mlip_glass.remote import submit_campaign

    controller = JobController.from_project_name(project)
    controller.reset(reset_output=False, max_limit=0)
    submit_campaign(flow, campaign, compute_worker="cluster_cpu", frontend_worker="frontend", project=project,
                    **json.loads(options))
    try:
        Runner(project_name=project).run_all_jobs(max_seconds=int(max_seconds))
    finally:
        jobs = [{"uuid": j.uuid, "index": j.index, "name": j.name, "state": j.state.value, "worker": j.worker}
                for j in controller.get_jobs_info()]
        print(json.dumps(jobs))


if __name__ == "__main__":
    main(*sys.argv[1:6])
