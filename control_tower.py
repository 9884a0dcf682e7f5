"""AWS Control Tower's proactive controls over the generated templates. Standard library only.

An account that enables these controls checks every resource of a stack with cfn-guard rules when the
stack is deployed, and refuses the stack when one fails. `make control-tower` installs the rules and the
cfn-guard binary from the npm package of the AWS CDK's validator plugin into .control-tower/, then runs
this script over output/.

cfn-guard reads the template as written, where the deploy-time check reads each resource's values: a
property from a parameter (a Ref, an Fn::Sub, an Fn::If on a condition) is not the number or text a rule
compares. So a finding passes when the failing resource explains it in its metadata (CONTROL_TOWER_FINDINGS:
control -> why it stands), and an explanation with no finding left fails too, so that none outlives what it
explains. An explanation that names parameter values under which the control passes (CONTROL_TOWER_PASSES_WITH)
is checked too: cfn-guard reads the template again as CloudFormation would deploy it with those values
(conditions and Fn::If resolved), and the explanation fails when the control still fails there.

    python control_tower.py [template ...]      # default: the stack templates in output/

Exit 0: every finding explained; 1: a finding unexplained, an explanation stale, or the parameter values it
names do not pass the control; 2: cfn-guard is not installed, or a template or explanation cannot be read.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from cfn.conditions import Conditions
from contract import CONTROL_TOWER_FINDINGS, CONTROL_TOWER_PASSES_WITH, CONTROL_TOWER_WHY, TEMPLATE_FILES

ROOT = Path(__file__).resolve().parent
# Where `make control-tower` unpacks the package: the binary, and the rules' folder.
INSTALL_DIR = ROOT / ".control-tower"
GUARD = INSTALL_DIR / "cfn-guard"
RULES = INSTALL_DIR / "rules"
# cfn-guard's exit code when the data fails a rule (0: every rule passes or skips).
GUARD_NOT_COMPLIANT = 19
CONTROL_ID = re.compile(r"\[(CT\.[A-Z0-9]+\.PR\.\d+)\]")
RESOURCE_PATH = re.compile(r"^/Resources/([^/]+)")
# Stands for the resource of a finding cfn-guard reports on no resource: never explained.
WHOLE_TEMPLATE = "(template)"


class UsageError(Exception):
    """Reported as one line, exit code 2."""


@dataclass(frozen=True, order=True)
class Finding:
    template: str  # file name
    resource: str  # logical id
    control: str  # e.g. CT.ECS.PR.9


@dataclass(frozen=True)
class Explanation:
    why: str  # why the finding stands
    passes_with: dict[str, str] = field(default_factory=dict)  # parameter values that pass the control

    def __str__(self) -> str:
        settings = " ".join(f"{name}={value}" for name, value in self.passes_with.items())
        return f"{self.why}; passes with {settings} (checked)" if settings else self.why


@dataclass(frozen=True)
class Report:
    explained: dict[Finding, Explanation]
    unexplained: list[Finding]
    stale: list[Finding]  # explained in the metadata, not found
    refuted: dict[Finding, str]  # explained as passing with parameter values -> why it does not

    @property
    def passed(self) -> bool:
        return not self.unexplained and not self.stale and not self.refuted


def guard_findings(templates: dict[Path, dict], guard: Path = GUARD, rules: Path = RULES) -> set[Finding]:
    """Every (template, resource, control) that fails a rule in `rules`, by cfn-guard's own reading.

    Only the rules that name a resource type of the templates run (a tenth of them, a fifth of the time):
    every other rule skips a template without its resource type."""
    if not guard.is_file() or not rules.is_dir():
        raise UsageError(f"cfn-guard and the Control Tower rules are not in {INSTALL_DIR}: run `make control-tower`")
    types = {resource.get("Type", "") for template in templates.values() for resource in template["Resources"].values()}
    applicable = [
        path
        for path in sorted(rules.rglob("*.guard"))
        if any(kind and kind in path.read_text(encoding="utf-8") for kind in types)
    ]
    if not applicable:
        return set()
    command = [str(guard), "validate", "--output-format", "json", "--show-summary", "none", "--structured"]
    command += [argument for path in applicable for argument in ("--rules", str(path))]
    command += [argument for path in templates for argument in ("--data", str(path))]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode not in (0, GUARD_NOT_COMPLIANT):
        reason = (result.stderr.strip() or result.stdout.strip() or "no output").splitlines()[0]
        raise UsageError(f"cfn-guard failed (exit {result.returncode}): {reason}")
    try:
        documents = json.loads(result.stdout)
    except ValueError:
        raise UsageError(f"cfn-guard answered something other than JSON: {result.stdout[:80]!r}") from None
    findings = set()
    for document in documents:
        template = Path(document["name"]).name
        for failed in document.get("not_compliant", []):
            messages, paths = _strings(failed, "custom_message"), _strings(failed, "path")
            controls = {match for message in messages for match in CONTROL_ID.findall(message)}
            resources = {match[1] for path in paths if (match := RESOURCE_PATH.match(path))}
            for control in controls or {failed["Rule"]["name"]}:
                findings |= {Finding(template, resource, control) for resource in resources or {WHOLE_TEMPLATE}}
    return findings


def _strings(node: object, key: str) -> list[str]:
    """Every string value of `key` anywhere in cfn-guard's nested report."""
    if isinstance(node, dict):
        found = [node[key]] if isinstance(node.get(key), str) else []
        return found + [text for child in node.values() for text in _strings(child, key)]
    if isinstance(node, list):
        return [text for child in node for text in _strings(child, key)]
    return []


def read_template(path: Path) -> dict:
    try:
        template = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(template, dict) and isinstance(template.get("Resources"), dict):
            return template
        reason = "no Resources"
    except (OSError, ValueError) as error:
        reason = str(error)
    raise UsageError(f"{path}: not a readable CloudFormation template ({reason})")


def explanations(templates: dict[Path, dict]) -> dict[Finding, Explanation]:
    """The findings the templates' resources explain in their metadata, with why each stands."""
    return {
        Finding(path.name, logical_id, control): _explanation(explained, Finding(path.name, logical_id, control))
        for path, template in templates.items()
        for logical_id, resource in template["Resources"].items()
        for control, explained in resource.get("Metadata", {}).get(CONTROL_TOWER_FINDINGS, {}).items()
    }


def _explanation(explained: object, finding: Finding) -> Explanation:
    """Metadata text, or {CONTROL_TOWER_WHY: text, CONTROL_TOWER_PASSES_WITH: {parameter: value}}."""
    if isinstance(explained, str):
        return Explanation(explained)
    if isinstance(explained, dict) and isinstance(explained.get(CONTROL_TOWER_WHY), str):
        passes_with = explained.get(CONTROL_TOWER_PASSES_WITH, {})
        if isinstance(passes_with, dict) and all(isinstance(value, str) for value in passes_with.values()):
            return Explanation(explained[CONTROL_TOWER_WHY], passes_with)
    raise UsageError(
        f"{finding.template} {finding.resource} {finding.control}: an explanation is text, or "
        f"{{{CONTROL_TOWER_WHY!r}: text, {CONTROL_TOWER_PASSES_WITH!r}: {{parameter: value}}}}"
    )


def refutations(
    templates: dict[Path, dict], named: dict[Finding, Explanation], guard: Path = GUARD, rules: Path = RULES
) -> dict[Finding, str]:
    """Each finding whose explanation names parameter values that do not pass its control, with why not: a
    parameter the template does not declare or a value it does not allow (CloudFormation would refuse them), or
    the control failing on the template as those values deploy it."""
    refuted = {}
    by_template = {path.name: (path, template) for path, template in templates.items()}
    for finding, explanation in sorted(named.items()):
        path, template = by_template[finding.template]
        declared = template.get("Parameters", {})
        for name, value in explanation.passes_with.items():
            allowed = declared.get(name, {}).get("AllowedValues", [value])
            if name not in declared or value not in allowed:
                refuted[finding] = f"{name}={value} is no value of the template's parameters"
        if finding in refuted:
            continue
        deployed = {**template, "Resources": Conditions(template, explanation.passes_with).deployed_resources()}
        with tempfile.TemporaryDirectory() as folder:
            resolved = Path(folder) / path.name
            resolved.write_text(json.dumps(deployed), encoding="utf-8")
            if finding in guard_findings({resolved: deployed}, guard, rules):
                refuted[finding] = "the control still fails with it"
    return refuted


def check(paths: list[Path], guard: Path = GUARD, rules: Path = RULES) -> Report:
    templates = {path: read_template(path) for path in paths}
    explained = explanations(templates)
    found = guard_findings(templates, guard, rules)
    standing = {finding: explanation for finding, explanation in explained.items() if finding in found}
    named = {finding: explanation for finding, explanation in standing.items() if explanation.passes_with}
    return Report(
        explained=standing,
        unexplained=sorted(found - explained.keys()),
        stale=sorted(explained.keys() - found),
        refuted=refutations(templates, named, guard, rules),
    )


def main(argv: list[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else argv
    templates = [Path(argument) for argument in arguments] or [
        ROOT / "output" / name for name in TEMPLATE_FILES.values()
    ]
    try:
        report = check(templates)
    except UsageError as error:
        print(f"control_tower.py: {error}", file=sys.stderr)
        return 2
    for finding, explanation in sorted(report.explained.items()):
        if finding not in report.refuted:
            print(f"⚠ {finding.control} {finding.template} {finding.resource}: explained: {explanation}")
    for finding in report.unexplained:
        print(
            f"❌ {finding.control} {finding.template} {finding.resource}: fails the control; fix it, or say why in "
            f"the resource's {CONTROL_TOWER_FINDINGS} metadata"
        )
    for finding in report.stale:
        print(
            f"❌ {finding.control} {finding.template} {finding.resource}: explained but no longer found; drop the explanation"
        )
    for finding, why_not in sorted(report.refuted.items()):
        settings = " ".join(f"{name}={value}" for name, value in report.explained[finding].passes_with.items())
        print(
            f"❌ {finding.control} {finding.template} {finding.resource}: explained as passing with {settings}, "
            f"but {why_not}; fix the template or the explanation"
        )
    total = len(report.explained) + len(report.unexplained)
    verdict = "all explained" if report.passed else "fix the lines marked ❌"
    print(f"AWS Control Tower proactive controls: {total} finding(s) in {len(templates)} template(s), {verdict}")
    return 0 if report.passed else 1


if __name__ == "__main__":
    sys.exit(main())
