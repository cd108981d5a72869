"""The mlip-glass command: help texts, a real run on the embedded store, queries, clear errors."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from mlip_glass.cli import build_parser, main

MLIP_GLASS = str(Path(sys.executable).with_name("mlip-glass"))
COMMANDS = ["run", "submit", "launch", "status", "query"]


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
    run = subprocess.run([MLIP_GLASS, "run", "toy", "--campaign", "cli1", "--quiet", *env_args],
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
    sub = subprocess.run([MLIP_GLASS, "submit", "toy", "--campaign", "fw", "--launchpad", "embedded", *common],
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
        (["run", "toy", "--store", "redis://x"], "unknown store 'redis://x'"),
        (["query", "--store", "mongodb://127.0.0.1:1/db?serverSelectionTimeoutMS=100"], "127.0.0.1:1"),
        (["submit", "toy", "--launchpad", "/nonexistent/launchpad.yaml", "--store", "memory"],
         "/nonexistent/launchpad.yaml"),
        (["run", "toy", "--option", "oops", "--store", "memory"], "KEY=VALUE"),
    ],
)
def test_bad_input_gives_one_clear_line(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_malformed_launchpad_yaml_is_named(tmp_path, capsys):
    bad = tmp_path / "launchpad.yaml"
    bad.write_text("host: [unclosed\n")
    assert main(["submit", "toy", "--launchpad", str(bad), "--store", "memory"]) == 2
    assert str(bad) in capsys.readouterr().err


def test_project_dir_that_is_a_file_is_rejected(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main(["status", "--project-dir", str(blocker)]) == 2
    assert "is not a directory" in capsys.readouterr().err
