"""Submit a campaign to jobflow-remote (compute nodes without MongoDB access; tested: tests/test_remote.py).

The runner on the front end resolves job inputs from MongoDB, submits the jobs (SLURM) and inserts their
outputs. Jobs that query the campaign's store while they run (the active-learning loop) run on the ``frontend``
worker, whose environment sets ``MLIP_GLASS_QUERY_STORE``; everything else on ``cluster_cpu``
(:func:`mlip_glass.remote.route_jobs`). Job uuids are those ``mlip-glass run``/``submit`` give the campaign.

    pip install "mlip_glass[remote]"   # configure ~/.jfremote/mlip_glass.yaml from jobflow_remote_project.yaml
    python workflows/fireworks/jobflow_remote_submit.py demo my-campaign
    jf runner start; jf job list
"""

import sys

from mlip_glass.remote import submit_campaign

if __name__ == "__main__":
    flow, campaign = (sys.argv[1:3] + ["demo", "default"][len(sys.argv[1:3]):])[:2]
    print(submit_campaign(flow, campaign, compute_worker="cluster_cpu", frontend_worker="frontend",
                          project="mlip_glass"))
