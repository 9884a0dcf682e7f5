"""generate.py as its own process: what only a fresh interpreter shows (hash seeds, argument errors)."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_cli(*args: str, **environment: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "generate.py", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **environment},
    )


def test_rendering_does_not_depend_on_the_interpreter_or_its_hash_seed():
    """Fresh interpreters with different string hashing render exactly the committed files."""
    for seed in ("1", "2"):
        result = run_cli("--check", PYTHONHASHSEED=seed)
        assert result.returncode == 0, result.stderr


def test_unknown_flag_is_a_one_line_error_with_exit_2():
    result = run_cli("--frobnicate")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "generate.py: error: unrecognized arguments: --frobnicate (see --help)"
    ]
