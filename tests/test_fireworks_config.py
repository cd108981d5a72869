"""The shipped FireWorks worker/queue files load and render, and per-Maker resources reach the
Firework specs of a flow."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlip_glass.active_learning.resources import manager_config, set_resources

WORKFLOWS = Path(__file__).resolve().parents[1] / "workflows" / "fireworks"


@pytest.mark.parametrize("name, category", [("my_fworker.yaml", ""), ("my_fworker_cpu.yaml", "cpu"),
                                            ("my_fworker_nep.yaml", "nep"), ("my_fworker_vasp.yaml", "vasp")])
def test_shipped_workers_load_with_their_category(name, category):
    from fireworks.core.fworker import FWorker

    worker = FWorker.from_file(str(WORKFLOWS / name))
    assert worker.category == category
    if category:
        assert worker.query["spec._category"] == category


@pytest.mark.parametrize("name, lines", [
    ("my_qadapter_slurm.yaml", ["#SBATCH --time=02:00:00", "#SBATCH --ntasks=1", "#SBATCH --partition=standard"]),
    ("my_qadapter_slurm_gpu.yaml", ["#SBATCH --gres=gpu:1", "#SBATCH --time=24:00:00"]),
    ("my_qadapter_pbs.yaml", ["#PBS -l walltime=02:00:00", "#PBS -q workq"]),
])
def test_shipped_queue_adapters_render_job_scripts(name, lines, tmp_path):
    from fireworks.utilities.fw_serializers import load_object_from_file

    adapter = load_object_from_file(str(WORKFLOWS / name))
    script = adapter.get_script_str(str(tmp_path))
    for line in lines:
        assert line in script
    assert "rlaunch" in script and "singleshot" in script


def test_resources_reach_the_firework_spec():
    from jobflow.managers.fireworks import flow_to_workflow

    from mlip_glass.testing.toy_jobs import three_job_flow

    flow = three_job_flow()
    set_resources(flow, category="cpu", cores=2, walltime="00:30:00")
    set_resources(flow, name_filter="power_series", category="nep", fworker="gpu node", gres="gpu:1")
    specs = {fw.name: fw.spec for fw in flow_to_workflow(flow).fws}
    assert specs["add"]["_category"] == "cpu"
    assert specs["add"]["_queueadapter"] == {"ntasks": 2, "walltime": "00:30:00"}
    assert specs["power_series"]["_category"] == "nep" and specs["power_series"]["_fworker"] == "gpu node"
    assert specs["power_series"]["_queueadapter"] == {"gres": "gpu:1"}


def test_bad_resources_name_the_field():
    with pytest.raises(ValueError, match="walltime"):
        manager_config(walltime="2h")
    with pytest.raises(ValueError, match="cores"):
        manager_config(cores=0)
