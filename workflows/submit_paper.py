"""Submit the paper's full flow to a FireWorks LaunchPad (MongoDB), to be run with `qlaunch rapidfire`.

    docker compose up -d; lpad -l launchpad.yaml reset
    python workflows/submit_paper.py cz-paper launchpad.yaml mongodb://localhost:27017/mlip_glass
    qlaunch -q workflows/fireworks/my_qadapter_slurm.yaml rapidfire   # on the cluster front end
"""

import sys

from jobflow.managers.fireworks import flow_to_workflow

from mlip_glass.active_learning.resources import set_resources
from mlip_glass.flows import GlassMLIPFlowMaker
from mlip_glass.store import get_job_store, get_launchpad

campaign, launchpad_file, store_uri = sys.argv[1:4]
lpad = get_launchpad(launchpad_file)
flow = GlassMLIPFlowMaker.paper().make(campaign)
# route NEP training to GPU workers and VASP jobs to VASP workers (see workflows/fireworks/my_fworker_*.yaml)
set_resources(flow, name_filter="nep fit", category="nep")
set_resources(flow, name_filter="paper", category="vasp")
workflow = flow_to_workflow(flow, store=get_job_store(store_uri))
lpad.add_wf(workflow)
print(f"submitted {len(workflow.fws)} fireworks of campaign {campaign!r}")
