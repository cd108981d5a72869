"""Query a campaign: learning curve, the model of each iteration, frames of a subset, a frame's lineage.

    python workflows/query_campaign.py demo [store-spec]
"""

import sys

from mlip_glass import queries
from mlip_glass.store import get_job_store

campaign = sys.argv[1] if len(sys.argv) > 1 else "demo"
store = get_job_store(sys.argv[2] if len(sys.argv) > 2 else None)
store.connect()
for row in queries.learning_curve(store, campaign):
    test = (row["rmse"] or {}).get("test", {}).get("all", {})
    print(f"iteration {row['iteration']}: {row['n_train']} train / {row['n_test']} test frames, "
          f"test F RMSE {test.get('rmse_force_meV_per_A', float('nan')):.1f} meV/Å")
frames = queries.frames_of_subset(store, campaign, "mlip_feedback")
print(f"{len(frames)} MLIP-feedback frames")
if frames:
    for step in queries.lineage(store, campaign, frames[0]["structure_hash"]):
        print("  ←", {k: step.get(k) for k in ("stage", "name", "method", "cooling_length", "seed") if k in step})
