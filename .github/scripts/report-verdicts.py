#!/usr/bin/env python3
"""report-verdicts.py RELEASE ENVIRONMENTS_JSON VERDICT_DIR: the release run's answer, one table with a row per
environment (environment, verdict, max lag, tasks, version).

RELEASE names the release (its image tag). ENVIRONMENTS_JSON is the plan's list (objects with a "name"). Each
deploy job leaves VERDICT_DIR/<name>/exit-code (deploy.py's) and, once the canary was judged, verdict.json
(what `deploy.py app --verify --verdict-file` writes); an environment without them did not report (its job was
skipped, cancelled or failed before deploying).

Writes the table to $GITHUB_STEP_SUMMARY when set and to stdout, posts it to Slack when SLACK_WEBHOOK_URL is set
(notify-slack.sh; a Slack failure is a warning, the verdicts stand), and exits 0 only when every environment's
canary is healthy, 1 otherwise: a beta is good only when it is good everywhere.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import unicodedata
from dataclasses import dataclass
from pathlib import Path

COLUMNS = ("environment", "verdict", "max lag", "tasks", "version")
# deploy.py's exit code for each outcome it exits with on purpose (canary_deploy/errors.py).
EXIT_CODES = {"healthy": 0, "failed": 3, "not judged": 5}


@dataclass(frozen=True)
class Row:
    environment: str
    verdict: str
    max_lag: str = "–"
    tasks: str = "–"
    version: str = "–"
    healthy: bool = False
    detail: str = ""  # why it is not healthy, in a sentence

    def cells(self) -> tuple[str, ...]:
        return (self.environment, self.verdict, self.max_lag, self.tasks, self.version)


def number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def row(name: str, folder: Path) -> Row:
    try:
        code = int((folder / "exit-code").read_text())
    except (OSError, ValueError):
        return Row(name, "❌ did not report", detail="its deploy job did not report (skipped, cancelled or failed)")
    if not (folder / "verdict.json").is_file():
        return Row(
            name,
            f"❌ deploy failed (exit {code})",
            detail=f"the deploy failed (exit {code}) before the canary could be judged",
        )
    verdict = json.loads((folder / "verdict.json").read_text())
    outcome = verdict["outcome"]
    icon = verdict["verdict"].split(" ", 1)[0]  # the verdict line starts with the outcome's icon
    shown = f"{icon} {outcome}" + ("" if EXIT_CODES.get(outcome) == code else f" (exit {code})")
    healthy = outcome == "healthy" and code == 0
    return Row(
        name,
        shown,
        max_lag="none reported" if verdict["max_lag"] is None else number(verdict["max_lag"]),
        tasks=f"{verdict['running_tasks']}/{verdict['desired_tasks']}",
        version=verdict["version"],
        healthy=healthy,
        detail="" if healthy else verdict["verdict"],
    )


def headline(release: str, rows: list[Row]) -> str:
    unhealthy = [r.environment for r in rows if not r.healthy]
    if not unhealthy:
        return f"✅ KafkaJS canary {release}: healthy in every environment ({len(rows)})"
    return f"❌ KafkaJS canary {release}: not healthy in {len(unhealthy)} of {len(rows)} environments ({', '.join(unhealthy)})"


def markdown(release: str, rows: list[Row]) -> str:
    lines = [f"## KafkaJS canary: {release}", "", headline(release, rows), ""]
    lines += ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(r.cells()) + " |" for r in rows]
    details = [f"- **{r.environment}**: {r.detail}" for r in rows if r.detail]
    return "\n".join(lines + ([""] + details if details else [])) + "\n"


def width(text: str) -> int:
    """Columns a monospace font gives text: emoji and other wide characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 0 if unicodedata.combining(c) else 1 for c in text)


def plain_table(rows: list[Row]) -> str:
    table = [COLUMNS, *(r.cells() for r in rows)]
    widths = [max(width(line[i]) for line in table) for i in range(len(COLUMNS))]
    return "\n".join(
        "  ".join(cell + " " * (widths[i] - width(cell)) for i, cell in enumerate(line)).rstrip() for line in table
    )


def slack_message(release: str, rows: list[Row]) -> str:
    details = [f"{r.environment}: {r.detail}" for r in rows if r.detail]
    message = "\n".join([headline(release, rows), "```", plain_table(rows), "```", *details])
    if all(os.environ.get(v) for v in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID")):
        run = f"{os.environ['GITHUB_SERVER_URL']}/{os.environ['GITHUB_REPOSITORY']}/actions/runs/{os.environ['GITHUB_RUN_ID']}"
        message += f"\n<{run}|release run>"
    return message


def main(argv: list[str]) -> int:
    try:
        release, environments, verdict_dir = argv
        names = [environment["name"] for environment in json.loads(environments)]
        if not names:
            raise ValueError("no environment")
    except (ValueError, TypeError, KeyError):
        print("usage: report-verdicts.py RELEASE ENVIRONMENTS_JSON VERDICT_DIR", file=sys.stderr)
        return 2
    rows = [row(name, Path(verdict_dir) / name) for name in names]
    print(headline(release, rows))
    print(plain_table(rows))
    if summary := os.environ.get("GITHUB_STEP_SUMMARY"):
        with open(summary, "a", encoding="utf-8") as file:
            file.write(markdown(release, rows))
    if os.environ.get("SLACK_WEBHOOK_URL"):
        notify = Path(__file__).resolve().parent / "notify-slack.sh"
        if subprocess.run([str(notify), slack_message(release, rows)], stdout=subprocess.DEVNULL).returncode:
            print("::warning::Slack did not take the verdicts (see above); the release's verdicts stand")
    return 0 if all(r.healthy for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
