"""How users start the tools: `python deploy.py` outside the environment, and the console entry points."""

import os
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import deploy
import generate

ROOT = Path(__file__).resolve().parents[2]


def test_deploy_py_without_the_environment_says_how_to_set_up_in_one_line():
    """-S: no site-packages, as with a system Python that never had `make install` (boto3 missing)."""
    environment = {name: value for name, value in os.environ.items() if not name.startswith("PYTHON")}
    result = subprocess.run(
        [sys.executable, "-S", str(ROOT / "deploy.py"), "status"],
        capture_output=True,
        text=True,
        env=environment,
        timeout=60,
    )
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert line.startswith("deploy.py: error: Python module boto") and "not found" in line
    assert "`make install`, then `. .venv/bin/activate`" in line


def test_console_scripts_run_the_same_commands_as_the_files():
    scripts = {entry.name: entry for entry in entry_points(group="console_scripts") if entry.name.startswith("canary")}
    assert scripts["canary-deploy"].load() is deploy.run
    assert scripts["canary-generate"].load() is generate.main
