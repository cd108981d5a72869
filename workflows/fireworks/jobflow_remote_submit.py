"""Submit a flow with jobflow-remote (compute nodes without MongoDB access).  NOT tested here:
jobflow-remote is not installed in the project environment.

The runner daemon on the front end resolves job inputs from MongoDB, ships them to the cluster over
SSH, submits with SLURM and inserts the outputs; compute nodes never connect to the database. Route
jobs to workers by name (``dynamic=True`` reaches jobs created at run time):

    pip install jobflow-remote      # configure ~/.jfremote/mlip_glass.yaml from jobflow_remote_project.yaml
    python workflows/fireworks/jobflow_remote_submit.py demo my-campaign

Limitation: jobs that query the JobStore *while they run* (the active-learning loop's ``al step``,
``al select``, ``al assemble dataset`` and ``mlip feedback run``) need a manager that hands them the
real store (``run_locally`` or FireWorks); jobflow-remote runs each job against a store local to its
run directory. Run the loop with FireWorks on a network where workers reach MongoDB, or run it with
``run_locally`` on the front end and submit only the heavy static stages through jobflow-remote.
"""

import sys

from jobflow_remote import set_run_config, submit_flow

from mlip_glass.flows import build_flow


def main(name: str, campaign: str) -> None:
    flow = build_flow(name, campaign)
    set_run_config(flow, worker="cluster_cpu", dynamic=True)  # default for every job
    set_run_config(flow, name_filter="nep fit", worker="cluster_gpu", dynamic=True)
    print(submit_flow(flow, worker="cluster_cpu", project="mlip_glass"))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "demo", sys.argv[2] if len(sys.argv) > 2 else "default")
