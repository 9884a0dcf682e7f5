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

from canary_deploy.model.verdict_times import settings_of, verdict_times
from canary_deploy.render.verdict_times import verdict_times_table
from contract import APP_STACK, MAX_INLINE_TEMPLATE_BYTES, TEMPLATE_FILES
from diagrams import build_diagram, build_overview, embed_block, embed_diagram
from manifest import MANIFEST_FILE, manifest_text
from rules import RULES_DIR, lint_config
from templates.app import build_app_template
from templates.ci_role import build_ci_role_template
from templates.registry import build_registry_template

ROOT = Path(__file__).resolve().parent
OUTPUT_DIR = ROOT / "output"
README = ROOT / "README.md"
ARCHITECTURE_DOC = ROOT / "docs" / "architecture.md"
VERDICT_DOC = ROOT / "docs" / "verdict.md"
VERDICT_TIMES_BEGIN = "<!-- verdict-times:begin -->"
VERDICT_TIMES_END = "<!-- verdict-times:end -->"
DIAGRAM_FILE = "architecture.mmd"
OVERVIEW_FILE = "overview.mmd"
LINT_CACHE = ROOT / ".cache" / "lint.json"
LINT_CONFIG = lint_config(regions=["us-east-1"])

STACK_TEMPLATES = {
    TEMPLATE_FILES["registry"]: build_registry_template,
    TEMPLATE_FILES["app"]: build_app_template,
    TEMPLATE_FILES["ci-role"]: build_ci_role_template,
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
    """The stack templates generate.py writes to output/, by file name, as the exact text it writes."""
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

        runner = Runner(ConfigMixIn(**LINT_CONFIG))
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
            self._linter = repr((version("cfn-lint"), sorted(LINT_CONFIG.items()), rules))
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


def render_files(stacks: dict[str, str]) -> dict[Path, str]:
    """Everything generate.py keeps in step with templates/: the stack templates, the manifest the deployer
    checks them against, the full resource graph, the overview that README.md (the front door) and
    docs/architecture.md (its home) both show, and docs/verdict.md's time-to-verdict table (the app
    template's defaults)."""
    registry, app = (json.loads(stacks[TEMPLATE_FILES[kind]]) for kind in ("registry", "app"))
    try:
        overview = build_overview(registry, app)
        full_graph = build_diagram(registry, app)
    except ValueError as error:
        raise UsageError(f"cannot draw the architecture diagram: {error}") from None
    files = {OUTPUT_DIR / name: text for name, text in stacks.items()}
    files[OUTPUT_DIR / MANIFEST_FILE] = manifest_text(stacks)
    files[OUTPUT_DIR / DIAGRAM_FILE] = full_graph
    files[OUTPUT_DIR / OVERVIEW_FILE] = overview
    for page in (README, ARCHITECTURE_DOC):
        try:
            files[page] = embed_diagram(page.read_text(encoding="utf-8"), overview)
        except (OSError, ValueError) as error:
            raise UsageError(f"cannot draw the architecture diagram into {display_name(page)}: {error}") from None
    table = "\n".join(verdict_times_table(verdict_times(settings_of(app, {}, APP_STACK))))
    try:
        files[VERDICT_DOC] = embed_block(
            VERDICT_DOC.read_text(encoding="utf-8"), VERDICT_TIMES_BEGIN, VERDICT_TIMES_END, table
        )
    except (OSError, ValueError) as error:
        raise UsageError(f"cannot write the time-to-verdict table into {display_name(VERDICT_DOC)}: {error}") from None
    return files


def display_name(path: Path) -> str:
    return path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else str(path)


def check(files: dict[Path, str]) -> list[str]:
    """The files that are missing or differ from what templates/ builds."""
    return [
        display_name(path)
        for path, text in files.items()
        if not path.is_file() or path.read_text(encoding="utf-8") != text
    ]


def write(files: dict[Path, str]) -> None:
    """Write what changed (an unchanged page keeps its timestamp)."""
    for path, text in files.items():
        if path.is_file() and path.read_text(encoding="utf-8") == text:
            continue
        try:
            path.parent.mkdir(exist_ok=True)
            path.write_text(text, encoding="utf-8")
        except OSError as error:
            raise UsageError(
                f"cannot write {error.filename or path}: {error.strerror}; check that {display_name(path.parent) or '.'}/ is writable"
            ) from None


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
    files = render_files(rendered)

    if args.check:
        stale = check(files)
        for name in stale:
            print(f"{name} is stale: run `python generate.py` and commit it", file=sys.stderr)
        if not stale:
            print(f"output/, README.md and docs/ are up to date ({len(files)} files)")
        return 1 if stale else 0

    write(files)
    cache = LintCache(None if args.no_cache else LINT_CACHE)
    findings = {} if args.no_lint else lint(rendered, cache)
    for name, text in rendered.items():
        size = len(text.encode("utf-8"))
        data = json.loads(text)
        resources = len(data.get("Resources", {}))
        if args.no_lint:
            verdict = "lint skipped"
        else:
            verdict = "cfn-lint clean" if not findings[name] else f"cfn-lint: {len(findings[name])} findings"
            if name in cache.hits:
                verdict += " (unchanged since it last passed)"
        print(f"output/{name}: {resources} resources, {size} bytes, {verdict}")
        compact_size = len(json.dumps(data, separators=(",", ":")).encode("utf-8"))
        if size > MAX_INLINE_TEMPLATE_BYTES:
            remedy = (
                f"deploy.py sends it without indentation ({compact_size} bytes)"
                if compact_size <= MAX_INLINE_TEMPLATE_BYTES
                else "deploy it through S3 (deploy.py --s3-bucket)"
            )
            print(
                f"warning: output/{name} is over CloudFormation's {MAX_INLINE_TEMPLATE_BYTES}-byte inline limit; {remedy}",
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
