"""How much generate.py costs, next to the floor and to the cfn-lint CLI (not a test).

Runs each command N times, interleaved so the shared machine's noise hits them all alike, and prints
medians and ratios:  python bench/bench_generate.py [--runs 10]
"""

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

from contract import TEMPLATE_FILES

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent

COMMANDS = {
    "import floor (troposphere, awacs)": [sys.executable, "-c", "import troposphere, awacs"],
    "generate.py --no-lint": [sys.executable, "generate.py", "--no-lint"],
    "generate.py --no-cache (lints all)": [sys.executable, "generate.py", "--no-cache"],
    "generate.py (unchanged: lint cached)": [sys.executable, "generate.py"],
    "cfn-lint CLI on output/*.json": [
        str(BIN / "cfn-lint"), *(f"output/{name}" for name in TEMPLATE_FILES.values()),
        "--include-checks", "I", "--append-rules", "rules",
    ],
}  # fmt: skip


def wall_time(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    runs = parser.parse_args().runs
    for command in COMMANDS.values():  # warm the file cache and .pyc files
        wall_time(command)
    samples: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(runs):
        for name, command in COMMANDS.items():
            samples[name].append(wall_time(command))
    medians = {name: statistics.median(values) for name, values in samples.items()}
    for name, median in medians.items():
        print(f"{name:36} median {median:6.3f} s  (min {min(samples[name]):.3f}, max {max(samples[name]):.3f})")
    floor, no_lint = medians["import floor (troposphere, awacs)"], medians["generate.py --no-lint"]
    cold, warm = medians["generate.py --no-cache (lints all)"], medians["generate.py (unchanged: lint cached)"]
    lint_cli = medians["cfn-lint CLI on output/*.json"]
    print(f"generate.py --no-lint / import floor: {no_lint / floor:.2f}x (target <= 2x)")
    print(f"generate.py --no-cache / cfn-lint CLI: {cold / lint_cli:.2f}x (target < 1x)")
    print(f"generate.py, templates unchanged / cfn-lint CLI: {warm / lint_cli:.2f}x")


if __name__ == "__main__":
    main()
