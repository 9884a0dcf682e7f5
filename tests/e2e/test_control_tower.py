"""AWS Control Tower's proactive controls (their cfn-guard rules, run by cfn-guard itself) over the generated
templates: every finding is fixed or explained, and the check catches a template that breaks a control.

`make test` installs cfn-guard and the rules first (`make control-tower`); without them these tests skip.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest

import control_tower
from contract import CONTROL_TOWER_FINDINGS, CONTROL_TOWER_PASSES_WITH, TEMPLATE_FILES
from control_tower import Finding, check

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = [ROOT / "output" / name for name in TEMPLATE_FILES.values()]
APP_FILE = TEMPLATE_FILES["app"]
REGISTRY_FILE = TEMPLATE_FILES["registry"]
TAG_IMMUTABILITY = Finding(REGISTRY_FILE, "Repository", "CT.ECR.PR.3")
SECURITY_DOC = ROOT / "docs" / "security.md"

needs_guard = pytest.mark.skipif(
    not control_tower.GUARD.is_file(), reason="cfn-guard is not installed: `make control-tower` installs it"
)


@needs_guard
def test_every_finding_on_the_generated_templates_is_explained():
    report = check(TEMPLATES)
    assert report.unexplained == [] and report.stale == []
    # What the templates fixed stays fixed: no explanation may cover it.
    assert not {finding.control for finding in report.explained} & {"CT.KMS.PR.3"}


@needs_guard
def test_a_broken_control_fails_and_an_explanation_without_its_finding_fails_too(tmp_path):
    app = json.loads((ROOT / "output" / APP_FILE).read_text())
    resources = app["Resources"]
    # The alerts key loses its Deny of grants that are not for AWS services.
    policy = resources["AlertsKey"]["Properties"]["KeyPolicy"]
    policy["Statement"] = [s for s in policy["Statement"] if s["Effect"] != "Deny"]
    # The service's finding is no longer explained; the logs key explains a finding it does not have.
    del resources["Service"]["Metadata"][CONTROL_TOWER_FINDINGS]
    logs_key = resources["LogsKey"]
    logs_key["Metadata"] = {**copy.deepcopy(logs_key.get("Metadata", {})), CONTROL_TOWER_FINDINGS: {"CT.KMS.PR.3": "x"}}
    broken = tmp_path / APP_FILE
    broken.write_text(json.dumps(app))

    report = check([broken])

    assert report.unexplained == [
        Finding(APP_FILE, "AlertsKey", "CT.KMS.PR.3"),
        Finding(APP_FILE, "Service", "CT.ECS.PR.9"),
    ]
    assert report.stale == [Finding(APP_FILE, "LogsKey", "CT.KMS.PR.3")]


@needs_guard
def test_the_command_lists_each_finding_and_exits_1_on_a_broken_template(tmp_path, capsys):
    assert control_tower.main([str(path) for path in TEMPLATES]) == 0
    out = capsys.readouterr().out
    assert (
        "⚠ CT.ECS.PR.9 AppStack.json Service: explained: AssignPublicIp is ENABLED only with SubnetMode public" in out
    )
    assert out.endswith(f"{len(TEMPLATES)} template(s), all explained\n")

    app = json.loads((ROOT / "output" / APP_FILE).read_text())
    del app["Resources"]["TaskDefinition"]["Metadata"]
    broken = tmp_path / APP_FILE
    broken.write_text(json.dumps(app))
    assert control_tower.main([str(broken)]) == 1
    assert "❌ CT.ECS.PR.7 AppStack.json TaskDefinition: fails the control" in capsys.readouterr().out


def registry_with(tmp_path: Path, change) -> Path:
    """The generated registry template, changed by change(repository resource), written to tmp_path."""
    registry = json.loads((ROOT / "output" / REGISTRY_FILE).read_text())
    change(registry["Resources"]["Repository"])
    written = tmp_path / REGISTRY_FILE
    written.write_text(json.dumps(registry))
    return written


def tag_immutability_explained(repository: dict) -> dict:
    return repository["Metadata"][CONTROL_TOWER_FINDINGS][TAG_IMMUTABILITY.control]


@needs_guard
def test_tag_immutability_is_explained_with_the_latest_tag_value_that_passes_it():
    """The repository's IMMUTABLE branch passes CT.ECR.PR.3 as cfn-guard reads it with LatestTag=none."""
    report = check(TEMPLATES)
    assert report.explained[TAG_IMMUTABILITY].passes_with == {"LatestTag": "none"}
    assert report.refuted == {}


def lets_latest_move_either_way(repository: dict) -> None:
    repository["Properties"]["ImageTagMutability"]["Fn::If"][2] = "IMMUTABLE_WITH_EXCLUSION"


def names_a_value_the_parameter_does_not_allow(repository: dict) -> None:
    tag_immutability_explained(repository)[CONTROL_TOWER_PASSES_WITH] = {"LatestTag": "off"}


def names_a_parameter_the_template_does_not_declare(repository: dict) -> None:
    tag_immutability_explained(repository)[CONTROL_TOWER_PASSES_WITH] = {"TagMutability": "none"}


@needs_guard
@pytest.mark.parametrize(
    "change, why_not",
    [
        (lets_latest_move_either_way, "the control still fails with it"),
        (names_a_value_the_parameter_does_not_allow, "LatestTag=off is no value of the template's parameters"),
        (
            names_a_parameter_the_template_does_not_declare,
            "TagMutability=none is no value of the template's parameters",
        ),
    ],
)
def test_an_explanation_naming_values_that_do_not_pass_fails(tmp_path, capsys, change, why_not):
    broken = registry_with(tmp_path, change)
    assert check([broken]).refuted == {TAG_IMMUTABILITY: why_not}
    assert control_tower.main([str(broken)]) == 1
    assert f"❌ CT.ECR.PR.3 {REGISTRY_FILE} Repository: explained as passing with " in capsys.readouterr().out


@needs_guard
def test_an_unreadable_explanation_is_one_line_and_exit_2(tmp_path, capsys):
    broken = registry_with(tmp_path, lambda repository: tag_immutability_explained(repository).pop("Why"))
    assert control_tower.main([str(broken)]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith(f"control_tower.py: {REGISTRY_FILE} Repository CT.ECR.PR.3: an explanation is")
    assert captured.err.count("\n") == 1


@needs_guard
def test_an_unreadable_template_is_one_line_and_exit_2(tmp_path, capsys):
    missing = tmp_path / "nothing.json"
    assert control_tower.main([str(missing)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("control_tower.py: ") and captured.err.count("\n") == 1


def test_without_cfn_guard_the_check_says_how_to_install_it(tmp_path):
    with pytest.raises(control_tower.UsageError, match=r"are not in .*: run `make control-tower`$"):
        check(TEMPLATES, guard=tmp_path / "cfn-guard", rules=tmp_path / "rules")


def test_the_security_page_lists_every_control_the_templates_explain():
    listed = set(re.findall(r"^\| (CT\.[A-Z0-9]+\.PR\.\d+) \|", SECURITY_DOC.read_text(), flags=re.MULTILINE))
    templates = {path: control_tower.read_template(path) for path in TEMPLATES}
    explained = {finding.control for finding in control_tower.explanations(templates)}
    assert explained <= listed, f"docs/security.md does not list {sorted(explained - listed)}"
