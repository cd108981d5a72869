"""The mlip-glass command: help texts, a real run on the embedded store, queries, clear errors."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from jobflow import Flow, job

from mlip_glass.cli import build_parser, main
from mlip_glass.testing.toy_jobs import TOY_FLOW

MLIP_GLASS = str(Path(sys.executable).with_name("mlip-glass"))
COMMANDS = ["run", "resume", "demo", "validate", "report", "submit", "launch", "status", "query"]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_subcommand_has_help(command, capsys):
    with pytest.raises(SystemExit) as exc:
        main([command, "--help"])
    assert exc.value.code == 0
    assert "usage: mlip-glass " + command in capsys.readouterr().out


def test_parser_lists_all_commands():
    text = build_parser().format_help()
    assert all(c in text for c in COMMANDS)


def test_run_then_query_reads_back_from_disk_in_a_new_process(tmp_path):
    env_args = ["--project-dir", str(tmp_path)]
    run = subprocess.run([MLIP_GLASS, "run", TOY_FLOW, "--campaign", "cli1", "--quiet", *env_args],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    query = subprocess.run([MLIP_GLASS, "query", "--campaign", "cli1", "--json", "--full", *env_args],
                           capture_output=True, text=True, timeout=300)
    assert query.returncode == 0, query.stderr[-2000:]
    docs = json.loads(query.stdout)
    assert sorted(d["name"] for d in docs) == ["add", "power_series", "total"]
    assert {d["output"] for d in docs if d["name"] == "total"} == {40.0}
    assert all(d["metadata"]["campaign"] == "cli1" for d in docs)


def test_submit_and_launch_on_embedded_launchpad(tmp_path):
    common = ["--project-dir", str(tmp_path)]
    sub = subprocess.run([MLIP_GLASS, "submit", TOY_FLOW, "--campaign", "fw", "--launchpad", "embedded", *common],
                         capture_output=True, text=True, timeout=300)
    assert sub.returncode == 0, sub.stderr[-2000:]
    launch = subprocess.run([MLIP_GLASS, "launch", "--launchpad", "embedded", *common],
                            capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert launch.returncode == 0, launch.stderr[-2000:]
    status = subprocess.run([MLIP_GLASS, "status", "--launchpad", "embedded", "--campaign", "fw", *common],
                            capture_output=True, text=True, timeout=300)
    assert "COMPLETED 3" in status.stdout
    assert "fw" in status.stdout and " 3" in status.stdout


@pytest.mark.parametrize(
    "argv, message",
    [
        (["run", TOY_FLOW, "--store", "redis://x"], "unknown store 'redis://x'"),
        (["query", "--store", "mongodb://127.0.0.1:1/db?serverSelectionTimeoutMS=100"], "127.0.0.1:1"),
        (["submit", TOY_FLOW, "--launchpad", "/nonexistent/launchpad.yaml", "--store", "memory"],
         "/nonexistent/launchpad.yaml"),
        (["run", TOY_FLOW, "--option", "oops", "--store", "memory"], "KEY=VALUE"),
        (["run", "surrogate", "-o", "swap_sweeps=100", "--store", "memory"],
         "option swap_sweeps expects tuple (a list, e.g. [100, 1000]), got int 100"),
        (["run", "surrogate", "-o", "swap_sweep=[100]", "--store", "memory"],
         "unknown option 'swap_sweep' for flow 'surrogate'; valid options: liquid_sweeps, liquid_temperatures"),
        (["run", "validate", "-o", "deep_swap=maybe", "--store", "memory"], "option deep_swap expects bool"),
        (["run", "surrogate", "-o", "n_samples=two", "--store", "memory"], "option n_samples expects int"),
        (["run", "surrogate", "-o", "swap_maker={}", "--store", "memory"], "swap_maker is a SwapMCCoolingMaker"),
        (["run", "surrogate", "-o", "swap_sweeps=[100, -1]", "--store", "memory"], "swap_sweeps must all be > 0"),
        (["run", "demo", "-o", "al_iterations=-1", "--store", "memory"], "al_iterations must be >= 0"),
        (["run", TOY_FLOW, "-o", "z=1", "--store", "memory"], f"unknown option 'z' for flow '{TOY_FLOW}'; valid options: a, b, n"),
        (["run", "nonsense", "--store", "memory"], "unknown flow 'nonsense'"),
        (["query", "--name", "[unclosed", "--store", "memory"], "--name '[unclosed' is not a valid regular"),
    ],
)
def test_bad_input_gives_one_clear_line(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_bad_option_leaves_project_dir_untouched(tmp_path, capsys):
    """A refused -o value is caught before the store opens: no project dir, no store, no campaign file."""
    project = tmp_path / "project"
    assert main(["run", "surrogate", "-o", "swap_sweeps=100", "--project-dir", str(project)]) == 2
    assert not project.exists()


@pytest.mark.parametrize("command", [["query"], ["status"], ["report", "--campaign", "c"]])
def test_read_commands_refuse_a_project_dir_without_store(command, tmp_path, capsys):
    typo = tmp_path / "typo"
    assert main([*command, "--project-dir", str(typo)]) == 2
    assert "does not exist" in capsys.readouterr().err and not typo.exists()
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main([*command, "--project-dir", str(empty)]) == 2
    assert "holds no store" in capsys.readouterr().err
    assert list(empty.iterdir()) == []


def test_store_jobflow_without_configuration_is_refused(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("JOBFLOW_CONFIG_FILE", str(tmp_path / "missing.yaml"))
    assert main(["run", TOY_FLOW, "--store", "jobflow", "--project-dir", str(tmp_path / "p")]) == 2
    err = capsys.readouterr().err
    assert "missing.yaml" in err and "--store jobflow" in err
    assert not (tmp_path / "p").exists()  # refused before any project dir or job


@pytest.mark.parametrize("content, message", [("JOB_STORE: [unclosed\n", "ParserError"),
                                              ("JOB_STORE:\n  docs_store: {type: Nonsense}\n", "Nonsense")])
def test_malformed_jobflow_yaml_is_named(content, message, tmp_path):
    """jobflow reads its configuration at import: a fresh process shows the one-line error."""
    config = tmp_path / "jobflow.yaml"
    config.write_text(content)
    env = {**os.environ, "JOBFLOW_CONFIG_FILE": str(config)}
    out = subprocess.run([MLIP_GLASS, "status", "--project-dir", str(tmp_path)], capture_output=True,
                         text=True, timeout=300, env=env)
    assert out.returncode == 2
    assert str(config) in out.stderr and message in out.stderr and "Traceback" not in out.stderr


def test_corrupt_store_file_is_named_and_left_alone(tmp_path, capsys):
    assert main(["run", TOY_FLOW, "--campaign", "c", "--quiet", "--project-dir", str(tmp_path)]) == 0
    capsys.readouterr()
    collection = next((tmp_path / "store").rglob("outputs.collection"))
    collection.write_bytes(b"not a database" * 100)
    for argv in (["status"], ["query", "--campaign", "c"], ["run", TOY_FLOW, "--campaign", "c"]):
        assert main([*argv, "--project-dir", str(tmp_path)]) == 2
        err = capsys.readouterr().err
        assert "cannot be read" in err and str(tmp_path) in err
    assert collection.read_bytes() == b"not a database" * 100


@job
def _explode(x):
    raise ArithmeticError(f"the job saw x={x}")


def _failing_flow(campaign, **_options):
    from mlip_glass.testing.toy_jobs import add

    first = add(1, 2)
    second = _explode(first.output)
    second.name = "explode"
    return Flow([first, second, add(second.output, 1)])


def test_failed_job_under_quiet_names_the_job_and_reason(tmp_path, monkeypatch, capsys):
    from mlip_glass import flows

    monkeypatch.setitem(flows.FLOW_BUILDERS, "toy", _failing_flow)
    assert main(["run", "toy", "--quiet", "--campaign", "f", "--project-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "job 'explode' failed: ArithmeticError: the job saw x=3" in err
    assert "1 dependent job(s) not run" in err and "Traceback" not in err


def test_verbose_shows_the_traceback(tmp_path, capsys):
    assert main(["run", "surrogate", "-o", "swap_sweeps=1", "--verbose", "--store", "memory"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" in err and "swap_sweeps" in err.splitlines()[-1]


def test_malformed_launchpad_yaml_is_named(tmp_path, capsys):
    bad = tmp_path / "launchpad.yaml"
    bad.write_text("host: [unclosed\n")
    assert main(["submit", TOY_FLOW, "--launchpad", str(bad), "--store", "memory"]) == 2
    assert str(bad) in capsys.readouterr().err


def test_project_dir_that_is_a_file_is_rejected(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main(["status", "--project-dir", str(blocker)]) == 2
    assert "is not a directory" in capsys.readouterr().err


LOSE_A_FIREWORK = """
import sys
from mlip_glass.store import get_launchpad
lpad = get_launchpad("embedded", sys.argv[1])
from fireworks.core.fworker import FWorker
fw, launch_id = lpad.checkout_fw(FWorker(), sys.argv[1])  # RUNNING, and its worker never comes back
print(fw.fw_id)
"""


def test_launch_reruns_a_lost_firework_only_when_asked(tmp_path):
    """A Firework left RUNNING by a killed worker: `launch` exits (no 60 s wait loop) and says so;
    --rerun-lost below the ping interval is refused; --no-live-workers reruns it and the flow completes."""
    common = ["--launchpad", "embedded", "--project-dir", str(tmp_path)]

    def cli(*argv):
        return subprocess.run([MLIP_GLASS, *argv, *common], capture_output=True, text=True, timeout=300,
                              cwd=tmp_path)

    assert cli("submit", TOY_FLOW, "--campaign", "lost", "--store", "embedded").returncode == 0
    lost = subprocess.run([sys.executable, "-c", LOSE_A_FIREWORK, str(tmp_path)], capture_output=True,
                          text=True, timeout=300, cwd=tmp_path)
    assert lost.returncode == 0, lost.stderr[-2000:]
    first = cli("launch")
    assert first.returncode == 0 and "1 firework(s) still RUNNING" in first.stderr
    assert "Sleeping for 60" not in first.stderr + first.stdout
    refused = cli("launch", "--rerun-lost", "5")
    assert refused.returncode == 2 and "shorter than FireWorks' ping interval" in refused.stderr
    rerun = cli("launch", "--no-live-workers")
    assert rerun.returncode == 0 and f"lost runs put back to READY: 1 (fw_ids [{lost.stdout.strip()}])" in rerun.stdout
    status = cli("status", "--campaign", "lost")
    assert "fireworks: COMPLETED 3" in status.stdout


NOISY_RUN = """
import sys, warnings
import numpy as np
from jobflow import Flow, job
from mlip_glass import flows
from mlip_glass.cli import main

@job
def noisy():
    warnings.warn("some library API will change", FutureWarning)
    return float(np.log(np.zeros(1))[0])  # numpy RuntimeWarning: divide by zero

flows.FLOW_BUILDERS["toy"] = lambda campaign, **_: Flow([noisy()])
sys.exit(main(["run", "toy", "--campaign", "n", *sys.argv[1:]]))
"""


@pytest.mark.parametrize("verbose", [False, True])
def test_console_hides_library_warnings_unless_verbose(verbose, tmp_path):
    argv = ["--project-dir", str(tmp_path)] + (["--verbose"] if verbose else [])
    out = subprocess.run([sys.executable, "-c", NOISY_RUN, *argv], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "[1/1] noisy: done in" in out.stdout
    shown = out.stdout + out.stderr
    assert ("FutureWarning" in shown and "RuntimeWarning" in shown) == verbose
    assert ("Starting job - noisy" in shown) == verbose  # jobflow's own log
