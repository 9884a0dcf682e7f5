"""How long checkov costs CI: install into a fresh virtual environment, then scan output/ (median of runs).

    python bench/bench_checkov.py [--version 3.3.30] [--runs 3]

The install goes to a temporary directory (pip's cache disabled), never into .venv or .venv-checkov.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def timed(command: list[str], check: bool = True) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=check, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--version", default="3.3.30", help="checkov version to install")
    parser.add_argument("--runs", type=int, default=3, help="scans to take the median of")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        venv = Path(scratch) / "venv"
        python = str(venv / "bin" / "python")
        install = timed([sys.executable, "-m", "venv", str(venv)])
        install += timed([python, "-m", "pip", "install", "--quiet", "--upgrade", "pip"])
        install += timed([python, "-m", "pip", "install", "--quiet", "--no-cache-dir", f"checkov=={args.version}"])
        print(f"checkov {args.version} install (fresh venv, no pip cache): {install:.1f} s")

        # A failing scan still measures the scan; the exit code is make security's business.
        scan = [
            str(venv / "bin" / "checkov"),
            "--framework",
            "cloudformation",
            "--directory",
            "output",
            "--skip-download",
            "--quiet",
            "--compact",
        ]
        runs = [timed(scan, check=False) for _ in range(args.runs)]
        print(
            f"checkov scan of output/: median {statistics.median(runs):.1f} s over {args.runs} runs "
            f"({', '.join(f'{run:.1f}' for run in runs)})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
