#!/usr/bin/env python3
"""plan-environments.py < ENVIRONMENTS_JSON: the release's matrix, from what `deploy.py environments --json`
prints (a list of objects, each with at least name, stack_name and region). Prints the list on one line (a
GitHub step output), each environment reduced to those three keys. Exits 1 with a one-line reason when the list
is empty or an entry lacks one of them, and when a name is not fit to name the environment's verdict artifact
and folder (letters, digits, - and _, starting with a letter or digit) or is not unique."""

import json
import re
import sys

KEYS = ("name", "stack_name", "region")
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")


def plan(listed: object) -> list[dict[str, str]]:
    if not isinstance(listed, list) or not listed:
        raise ValueError("expected a non-empty JSON list of environments")
    environments = []
    for entry in listed:
        if not isinstance(entry, dict) or not all(isinstance(entry.get(key), str) and entry[key] for key in KEYS):
            raise ValueError(f"each environment needs {', '.join(KEYS)} (strings): {json.dumps(entry)}")
        if not NAME.fullmatch(entry["name"]):
            raise ValueError(f"environment name {entry['name']!r}: use letters, digits, - and _")
        environments.append({key: entry[key] for key in KEYS})
    names = [environment["name"] for environment in environments]
    if len(set(names)) != len(names):
        raise ValueError(f"environment names repeat: {', '.join(names)}")
    return environments


def main() -> int:
    if len(sys.argv) != 1:
        print("usage: deploy.py environments --json | plan-environments.py", file=sys.stderr)
        return 2
    try:
        environments = plan(json.load(sys.stdin))
    except ValueError as error:  # json.JSONDecodeError is a ValueError
        print(f"deploy.py environments --json: {error}", file=sys.stderr)
        return 1
    print(json.dumps(environments, separators=(",", ":")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
