"""Build both CloudFormation templates from templates/, write them to output/ and lint them in-process.

    python generate.py            # write output/*.json, lint with cfn-lint (+ the project's rules)
    python generate.py --no-lint  # write only
    python generate.py --check    # exit 1 if output/ differs from what templates/ builds (CI)
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from dataclasses import dataclass
from pathlib import Path

from templates.app import build_app_template
from templates.registry import build_registry_template

ROOT = Path(__file__).resolve().parent
OUTPUT_DIR = ROOT / "output"
RULES_DIR = ROOT / "rules"
LINT_CACHE = ROOT / ".cache" / "lint.json"
# CloudFormation refuses a TemplateBody larger than this; bigger templates must go through S3.
INLINE_TEMPLATE_LIMIT = 51_200
LINT_REGIONS = ["us-east-1"]

STACK_TEMPLATES = {
    "RegistryStack.json": build_registry_template,
    "AppStack.json": build_app_template,
}


class UsageError(Exception):
    """Bad input: reported as one line, exit code 2."""


@dataclass(frozen=True)
class LintFinding:
    rule_id: str
    filename: str
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.rule_id} {self.filename} {self.path}: {self.message}"


def to_json(template_dict: dict) -> str:
    """Deterministic bytes: sorted keys, two-space indent, trailing newline."""
    return json.dumps(template_dict, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def render_templates() -> dict[str, str]:
    """Every file generate.py writes to output/, by file name, as the exact text it writes."""
    return {name: to_json(build().to_dict()) for name, build in STACK_TEMPLATES.items()}


def lint(rendered: dict[str, str], cache: LintCache | None = None) -> dict[str, list[LintFinding]]:
    """cfn-lint with informational rules and the project's own rules, in this process, rules loaded once.

    With a cache file, a template that passed with the same linter, rules and bytes before is not linted
    again: editing one stack re-lints only that stack.
    """
    cache = cache or LintCache(None)
    findings = {name: [] for name in rendered if cache.passed(name, rendered[name])}
    pending = {name: text for name, text in rendered.items() if name not in findings}
    if pending:
        # Imported here: cfn-lint costs ~0.5 s to import, which --no-lint, --check and cache hits do not pay.
        from cfnlint.config import ConfigMixIn
        from cfnlint.decode import decode_str
        from cfnlint.runner import Runner

        runner = Runner(ConfigMixIn(regions=LINT_REGIONS, include_checks=["I"], append_rules=[str(RULES_DIR)]))
        for name, text in pending.items():
            template, errors = decode_str(text)
            matches = errors or list(runner.validate_template(template))
            findings[name] = [
                LintFinding(match.rule.id, name, "/".join(str(part) for part in match.path or ()), match.message)
                for match in matches
            ]
            if not findings[name]:
                cache.record_pass(name, text)
        cache.save()
    return findings


class LintCache:
    """Fingerprints of templates that linted clean, keyed by everything that could change the verdict."""

    def __init__(self, path: Path | None):
        self.path = path
        self.entries: dict[str, str] = {}
        if path is not None:
            try:
                self.entries = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                self.entries = {}
        self._linter = None
        self.hits: set[str] = set()

    def _fingerprint(self, name: str, text: str) -> str:
        if self._linter is None:
            from importlib.metadata import version

            rules = sorted((p.name, p.read_bytes()) for p in RULES_DIR.glob("*.py"))
            self._linter = repr((version("cfn-lint"), LINT_REGIONS, rules))
        return hashlib.sha256(f"{self._linter}\0{name}\0{text}".encode()).hexdigest()

    def passed(self, name: str, text: str) -> bool:
        if self.path is None or self.entries.get(name) != self._fingerprint(name, text):
            return False
        self.hits.add(name)
        return True

    def record_pass(self, name: str, text: str) -> None:
        if self.path is not None:
            self.entries[name] = self._fingerprint(name, text)

    def save(self) -> None:
        if self.path is None:
            return
        try:
            self.path.parent.mkdir(exist_ok=True)
            self.path.write_text(json.dumps(self.entries, indent=2, sort_keys=True), encoding="utf-8")
        except OSError:
            pass  # a cache that cannot be written only costs time


def check(rendered: dict[str, str]) -> list[str]:
    """Names of the files in output/ that are missing or differ from what templates/ builds."""
    stale = []
    for name, text in rendered.items():
        path = OUTPUT_DIR / name
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            stale.append(name)
    return stale


def write(rendered: dict[str, str]) -> None:
    try:
        OUTPUT_DIR.mkdir(exist_ok=True)
        for name, text in rendered.items():
            (OUTPUT_DIR / name).write_text(text, encoding="utf-8")
    except OSError as error:
        raise UsageError(f"cannot write {error.filename or OUTPUT_DIR}: {error.strerror}; check that output/ is writable")


class OneLineParser(argparse.ArgumentParser):
    def error(self, message: str):
        raise UsageError(f"{message} (see --help)")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = OneLineParser(prog="generate.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="fail if output/ is stale; write nothing")
    parser.add_argument("--no-lint", action="store_true", help="skip cfn-lint validation")
    parser.add_argument(
        "--no-cache", action="store_true", help="lint every template, even one that passed unchanged before"
    )
    return parser.parse_args(argv)


def run(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    rendered = render_templates()

    if args.check:
        stale = check(rendered)
        for name in stale:
            print(f"output/{name} is stale: run `python generate.py` and commit it", file=sys.stderr)
        if not stale:
            print(f"output/ is up to date ({len(rendered)} files)")
        return 1 if stale else 0

    write(rendered)
    cache = LintCache(None if args.no_cache else LINT_CACHE)
    findings = {} if args.no_lint else lint(rendered, cache)
    for name, text in rendered.items():
        size = len(text.encode("utf-8"))
        resources = len(json.loads(text).get("Resources", {}))
        if args.no_lint:
            verdict = "lint skipped"
        else:
            verdict = "cfn-lint clean" if not findings[name] else f"cfn-lint: {len(findings[name])} findings"
            if name in cache.hits:
                verdict += " (unchanged since it last passed)"
        print(f"output/{name}: {resources} resources, {size} bytes, {verdict}")
        if size > INLINE_TEMPLATE_LIMIT:
            print(
                f"warning: output/{name} is over CloudFormation's {INLINE_TEMPLATE_LIMIT}-byte inline limit; "
                "deploy it through S3 (deploy.py --s3-bucket)",
                file=sys.stderr,
            )
    all_findings = [finding for per_file in findings.values() for finding in per_file]
    for finding in all_findings:
        print(finding, file=sys.stderr)
    return 1 if all_findings else 0


def main() -> None:
    try:
        sys.exit(run())
    except UsageError as error:
        print(f"generate.py: error: {error}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
