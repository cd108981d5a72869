"""The queue loop's settings fail early with the field named; the CLI refuses a lost-run expiration below the
ping interval (it would rerun live Fireworks). The loop itself runs against a real SLURM in test_slurm_requeue."""

from __future__ import annotations

import pytest
from fireworks.utilities.fw_serializers import load_object_from_file
from fireworks_queue import WORKFLOWS

from mlip_glass.cli import main
from mlip_glass.queue_loop import QueueLoop


@pytest.fixture
def qadapter():
    return load_object_from_file(str(WORKFLOWS / "my_qadapter_slurm.yaml"))


@pytest.mark.parametrize(("kwargs", "field"), [({"max_jobs": -1}, "max_jobs"), ({"sleep_s": -1.0}, "sleep_s")])
def test_bad_queue_loop_settings_name_the_field(qadapter, tmp_path, kwargs, field):
    with pytest.raises(ValueError, match=field):
        QueueLoop(None, None, qadapter, tmp_path, **kwargs)


def test_missing_launch_dir_is_named(qadapter, tmp_path):
    with pytest.raises(ValueError, match="launch_dir"):
        QueueLoop(None, None, qadapter, tmp_path / "missing")


def test_the_shipped_slurm_adapter_is_recognised_as_slurm(qadapter, tmp_path):
    assert QueueLoop(None, None, qadapter, tmp_path).is_slurm


def test_rerun_lost_below_the_ping_interval_is_refused(tmp_path, capsys):
    code = main(["queue", "--launchpad", str(tmp_path / "launchpad.yaml"), "--qadapter",
                 str(WORKFLOWS / "my_qadapter_slurm.yaml"), "--launch-dir", str(tmp_path), "--rerun-lost", "1"])
    assert code == 2
    assert "--rerun-lost 1.0 s is shorter than FireWorks' ping interval" in capsys.readouterr().err
