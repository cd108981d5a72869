"""Submitting a campaign to jobflow-remote (``pip install mlip_glass[remote]``; compute nodes without MongoDB).

jobflow-remote runs every job against a file store of that job's own outputs: inputs are resolved by the runner,
outputs inserted by it. Jobs that look up earlier results of the campaign while they run (the active-learning
loop's step, selection, dataset assembly and feedback runs, which fetch dataset k / model k by uuid and dedupe
against every labelled frame) therefore run on a *front-end* worker whose environment sets
``$MLIP_GLASS_QUERY_STORE`` (:func:`mlip_glass.store.query_store_override`) to the campaign's MongoDB; every other
job (surrogate runs, labelling, NEP fits, properties) runs on the compute worker. The cost: the feedback MD runs
use the front end's CPU (the demo: 4 runs of 2000 steps; the paper: 138 runs).
"""

from __future__ import annotations

from mlip_glass import queries

#: names (jobflow-remote ``name_filter``: substring) of the jobs that query the campaign's store while they run
STORE_READERS = ("al step", "al select", "assemble dataset", queries.FEEDBACK_JOB_NAME,
                 queries.MODEL_VALIDATION_JOB_NAME)


def route_jobs(flow, compute_worker: str, frontend_worker: str):
    """Send every job of ``flow`` (and the jobs it creates at run time) to ``compute_worker``, the store readers
    (:data:`STORE_READERS`) to ``frontend_worker``; returns ``flow`` (modified in place)."""
    from jobflow_remote import set_run_config

    set_run_config(flow, worker=compute_worker, dynamic=True)
    for name in STORE_READERS:
        set_run_config(flow, name_filter=name, worker=frontend_worker, dynamic=True)
    return flow


def submit_campaign(flow_name: str, campaign: str, compute_worker: str, frontend_worker: str,
                    project: str | None = None, iteration: int = 0, **options) -> list:
    """Build the named flow with the job uuids ``mlip-glass run``/``submit`` give it, route it
    (:func:`route_jobs`) and submit it to jobflow-remote; returns what ``submit_flow`` returns (the job ids)."""
    from jobflow_remote import submit_flow

    from mlip_glass.campaign import campaign_salt
    from mlip_glass.flows import build_flow
    from mlip_glass.job_ids import deterministic_flow

    flow, _ = deterministic_flow(build_flow(flow_name, campaign, iteration, **options),
                                 salt=campaign_salt(campaign, iteration))
    route_jobs(flow, compute_worker, frontend_worker)
    return submit_flow(flow, worker=compute_worker, project=project)
