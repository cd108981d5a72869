"""Continue a finished campaign with one more active-learning iteration (reads models/datasets from the store).

    python workflows/continue_campaign.py demo [store-spec]
"""

import sys

from jobflow import run_locally

from mlip_glass.active_learning.jobs import ActiveLearningMaker
from mlip_glass import queries
from mlip_glass.nep.jobs import NEPFitMaker
from mlip_glass.provenance import stamp
from mlip_glass.store import get_job_store

campaign = sys.argv[1] if len(sys.argv) > 1 else "demo"
store = get_job_store(sys.argv[2] if len(sys.argv) > 2 else None)
store.connect()
last = queries.last_finished_iteration(store, campaign)
maker = ActiveLearningMaker(n_feedback_runs=3, max_iterations=last + 1, fit=NEPFitMaker(wall_time=120))
step = stamp(maker.make(campaign, iteration=last + 1), campaign=campaign, iteration=last + 1)
run_locally(step, store=store, ensure_success=True, create_folders=True)
print(queries.learning_curve(store, campaign)[-1])
