"""Stack parameters without AWS: CloudFormation's Number grammar, --parameters-file, what an update keeps
(UsePreviousValue), and the old → new list shown before execution."""

import io
import json
from pathlib import Path

import pytest

from canary_deploy.errors import BadInput
from canary_deploy.model.parameters import (
    ParameterSource,
    StackParameters,
    constraint_violation,
    parse_overrides,
    read_parameters_file,
)
from canary_deploy.model.stack_template import StackTemplate
from canary_deploy.render.console import Console
from canary_deploy.render.parameter_diff import ParameterDiff
from contract import TEMPLATE_FILES

APP_TEMPLATE = StackTemplate(
    "AppStack.json", (Path(__file__).resolve().parents[2] / "output" / TEMPLATE_FILES["app"]).read_text()
)
NUMBER = {"Type": "Number", "MinValue": 0, "MaxValue": 10}


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "1_0", "５", "1e1", " 1", "+1", "0x1", ""])
def test_number_parameters_follow_cloudformations_grammar(value):
    assert "must be a number" in constraint_violation(value, NUMBER)


@pytest.mark.parametrize("value", ["0", "10", "3", "2.5", "007"])
def test_plain_numbers_pass(value):
    assert constraint_violation(value, NUMBER) is None


def app_parameters(overrides=(), configured=None):
    return StackParameters(
        APP_TEMPLATE,
        parse_overrides(list(overrides)),
        fixed={"Version": "2.0.0", "RegistryStackName": "RegistryStack"},
        flags={"Version": "--version", "RegistryStackName": "--registry-stack-name"},
        configured=configured,
    )


def sent(parameters):
    return {p["ParameterKey"]: p.get("ParameterValue", "(previous)") for p in parameters.as_cloudformation()}


def test_an_update_keeps_what_the_command_does_not_set_and_a_create_takes_defaults():
    parameters = app_parameters(["DesiredCount=2"])
    assert sent(parameters)["AlarmEmail"] == "" and sent(parameters)["SubnetMode"] == "private"

    parameters.keep_deployed({"AlarmEmail": "ops@example.com", "DesiredCount": "1", "Version": "1.0.0"})

    values = sent(parameters)
    assert (values["AlarmEmail"], values["DesiredCount"], values["Version"]) == ("(previous)", "2", "2.0.0")
    assert values["SubnetMode"] == "private", "new to the stack: its default"
    assert parameters.get("AlarmEmail") == "ops@example.com"


def test_file_values_are_explicit_and_lose_to_flags(tmp_path):
    path = tmp_path / "prod.json"
    path.write_text(json.dumps({"DesiredCount": 3, "AlarmEmail": "ops@example.com", "SentryEnabled": "false"}))
    parameters = app_parameters(["DesiredCount=4"], configured=read_parameters_file(str(path)))
    parameters.keep_deployed({"AlarmEmail": "", "DesiredCount": "1", "SentryEnabled": "true"})
    parameters.set_computed("SentryEnabled", "true")

    assert sent(parameters)["DesiredCount"] == "4"
    assert sent(parameters)["AlarmEmail"] == "ops@example.com"
    assert parameters.is_explicit("SentryEnabled") and sent(parameters)["SentryEnabled"] == "false"


@pytest.mark.parametrize(
    "content, message",
    [
        ("{", "not valid JSON"),
        ("[1]", 'must be a JSON object such as {"DesiredCount": 2}'),
        ('{"DesiredCount": true}', "DesiredCount must be a string or a number, not true"),
        ('{"AlarmEmail": null}', "AlarmEmail must be a string or a number, not null"),
        ('{"DesiredCount": NaN}', "not valid JSON (NaN is not a JSON number"),
        ('{"Desired": 1}', "unknown parameter(s) Desired for AppStack.json"),
        ('{"Version": "1.0"}', "Version is not allowed: use --version"),
        (
            '{"DesiredCount": 1e3}',
            "DesiredCount=1000.0 is not valid for AppStack.json: DesiredCount must be at most 10",
        ),
    ],
)
def test_bad_parameters_file_is_one_line(tmp_path, content, message):
    path = tmp_path / "prod.json"
    path.write_text(content)
    with pytest.raises(BadInput) as refused:
        app_parameters(configured=read_parameters_file(str(path)))
    assert str(refused.value).startswith(f"--parameters-file {path}: ")
    assert message in str(refused.value) and "\n" not in str(refused.value)


def test_missing_parameters_file_is_one_line(tmp_path):
    with pytest.raises(BadInput, match=r"--parameters-file .*missing.json: No such file or directory"):
        read_parameters_file(str(tmp_path / "missing.json"))


def printed(diff):
    out = io.StringIO()
    diff.print(Console(out=out, interactive=False, color=False))
    return out.getvalue()


def test_diff_lists_changed_new_and_removed_parameters_only():
    declared = {"Version": {}, "DesiredCount": {}, "AlarmEmail": {}, "KafkaPort": {}}
    deployed = {"Version": "1.0.0", "DesiredCount": "2", "AlarmEmail": "ops@example.com", "OldKnob": "x"}
    values = [
        {"ParameterKey": "Version", "ParameterValue": "2.0.0"},
        {"ParameterKey": "DesiredCount", "UsePreviousValue": True},
        {"ParameterKey": "AlarmEmail", "ParameterValue": ""},
        {"ParameterKey": "KafkaPort", "ParameterValue": "9092"},
    ]

    assert printed(ParameterDiff("AppStack", declared, deployed, values)) == (
        "Parameter changes for AppStack (4):\n"
        "  Version     1.0.0 → 2.0.0\n"
        "  AlarmEmail  ops@example.com → (empty)\n"
        "  KafkaPort   (not set) → 9092\n"
        "  OldKnob     x → (removed from the template)\n"
    )


def test_diff_masks_no_echo_values_and_is_silent_without_changes_or_on_create():
    declared = {"Token": {"NoEcho": True}, "NewSecret": {"NoEcho": True}, "Version": {}}
    deployed = {"Token": "****", "Version": "1.0.0"}
    values = [
        {"ParameterKey": "Token", "ParameterValue": "hunter2"},
        {"ParameterKey": "NewSecret", "ParameterValue": "s3cret"},
        {"ParameterKey": "Version", "ParameterValue": "1.0.0"},
    ]

    text = printed(ParameterDiff("AppStack", declared, deployed, values))

    assert "hunter2" not in text and "s3cret" not in text
    assert "  Token      **** → **** (NoEcho: a new value is given)\n" in text
    assert "  NewSecret  (not set) → ****\n" in text
    assert printed(ParameterDiff("AppStack", declared, None, values)) == ""
    assert printed(ParameterDiff("AppStack", declared, {"Version": "1.0.0"}, values[2:])) == ""


def test_overrides_name_the_flag_in_messages():
    with pytest.raises(BadInput, match=r"^--parameter DesiredCount=nan is not valid for AppStack.json"):
        app_parameters(["DesiredCount=nan"])
    assert parse_overrides(["A=b=c"]) == ParameterSource({"A": "b=c"})
