#!/usr/bin/env python3
"""plan-environments.py [DEFAULT_REGION] < ENVIRONMENTS_JSON: the release's plan, from what `deploy.py
environments --json` prints (a list of objects, each with at least name, stack_name, region and
registry_stack_name; region null for an environment that runs where the deployer is pointed, which is
DEFAULT_REGION here, the workflow's AWS_REGION). Prints two GitHub step outputs: `environments=` the matrix on
one line, each environment reduced to name, stack_name and region, and `registry=` the registry stack they
share, where the build pushes the image. Exits 1 with a one-line reason when the list is empty or an entry lacks
a key, when a name is not fit to name the environment's verdict artifact and folder (letters, digits, - and _,
starting with a letter or digit) or is not unique, and when the environments name different registries."""

import json
import re
import sys

KEYS = ("name", "stack_name", "region")
REGISTRY = "registry_stack_name"
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")


def plan(listed: object, default_region: str | None = None) -> list[dict[str, str]]:
    if not isinstance(listed, list) or not listed:
        raise ValueError("expected a non-empty JSON list of environments")
    environments = []
    for entry in listed:
        if isinstance(entry, dict) and "region" in entry and entry["region"] is None and default_region:
            entry = {**entry, "region": default_region}
        if not isinstance(entry, dict) or not all(isinstance(entry.get(key), str) and entry[key] for key in KEYS):
            raise ValueError(f"each environment needs {', '.join(KEYS)} (strings): {json.dumps(entry)}")
        if not NAME.fullmatch(entry["name"]):
            raise ValueError(f"environment name {entry['name']!r}: use letters, digits, - and _")
        if not (isinstance(entry.get(REGISTRY), str) and entry[REGISTRY]):
            raise ValueError(f"each environment needs {REGISTRY} (a string): {json.dumps(entry)}")
        environments.append({key: entry[key] for key in KEYS})
    names = [environment["name"] for environment in environments]
    if len(set(names)) != len(names):
        raise ValueError(f"environment names repeat: {', '.join(names)}")
    return environments


def registry(listed: list[dict]) -> str:
    """The one registry stack every environment runs images from (plan() checked each names one)."""
    registries = sorted({entry[REGISTRY] for entry in listed})
    if len(registries) != 1:
        raise ValueError(
            f"the environments name different registries ({', '.join(registries)}): the release builds one image"
        )
    return registries[0]


def main() -> int:
    if len(sys.argv) > 2:
        print("usage: deploy.py environments --json | plan-environments.py [DEFAULT_REGION]", file=sys.stderr)
        return 2
    try:
        listed = json.load(sys.stdin)
        environments = plan(listed, sys.argv[1] if len(sys.argv) == 2 else None)
        shared = registry(listed)
    except ValueError as error:  # json.JSONDecodeError is a ValueError
        print(f"deploy.py environments --json: {error}", file=sys.stderr)
        return 1
    print(f"environments={json.dumps(environments, separators=(',', ':'))}")
    print(f"registry={shared}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
