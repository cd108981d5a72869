"""Run the demo campaign from Python on the embedded store, then write its report.

    python workflows/run_demo.py [campaign]
"""

import sys

from jobflow import run_locally

from mlip_glass.flows import GlassMLIPFlowMaker
from mlip_glass.report import write_report
from mlip_glass.store import get_job_store

campaign = sys.argv[1] if len(sys.argv) > 1 else "demo-py"
store = get_job_store("embedded")  # ./mlip_glass_data
flow = GlassMLIPFlowMaker.demo(al_iterations=1).make(campaign)
run_locally(flow, store=store, ensure_success=True, create_folders=True)
print("report:", write_report(store, campaign) / "index.html")
