"""Template loading: the stale check against output/manifest.json, and the S3 size limit."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from canary_deploy.aws.template_source import TemplateSource, template_argument
from canary_deploy.errors import BadInput
from canary_deploy.model.parameters import constraint_violation
from canary_deploy.model.stack_template import StackTemplate
from contract import TEMPLATE_FILES
from tests.generated_output import write_output

ROOT = Path(__file__).resolve().parents[2]


FORBIDDEN_IN_THE_DEPLOYER = ("troposphere", "awacs", "cfnlint", "generate")


@pytest.fixture
def project(tmp_path):
    """A project with one template source and output/ as generate.py leaves it."""
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "registry.py").write_text("REPOSITORY = 'a'\n")
    (tmp_path / "contract.py").write_text("REGISTRY_STACK = 'RegistryStack'\n")
    write_output(tmp_path / "output", {"RegistryStack.json": '{"Resources": {}}\n'}, root=tmp_path)
    return tmp_path


def load_registry(project):
    return TemplateSource(project / "output", project_root=project).load("registry")


def test_template_generated_from_the_current_sources_loads(project):
    assert load_registry(project).body == '{"Resources": {}}\n'


def test_template_whose_sources_changed_since_generate_is_stale(project):
    (project / "templates" / "registry.py").write_text("REPOSITORY = 'b'\n")
    with pytest.raises(
        BadInput,
        match=r"^output/RegistryStack.json is stale against templates/ \(templates/registry.py changed since "
        r"generate.py ran\): run `python generate.py` and retry$",
    ):
        load_registry(project)


def test_new_template_source_makes_the_templates_stale(project):
    (project / "templates" / "monitoring.py").write_text("")
    with pytest.raises(BadInput, match=r"templates/monitoring.py changed since generate.py ran"):
        load_registry(project)


def test_template_edited_after_generate_is_refused(project):
    (project / "output" / "RegistryStack.json").write_text("{}")
    with pytest.raises(BadInput, match=r"^output/RegistryStack.json differs from what generate.py wrote: run"):
        load_registry(project)


def test_missing_output_file_says_to_generate(project):
    (project / "output" / "RegistryStack.json").unlink()
    with pytest.raises(BadInput, match=r"output/RegistryStack.json not found: run `python generate.py` first"):
        load_registry(project)


@pytest.mark.parametrize("text, problem", [(None, "not found"), ("[]", "is unreadable"), ("{", "is unreadable")])
def test_missing_or_broken_manifest_says_to_generate(project, text, problem):
    manifest = project / "output" / "manifest.json"
    manifest.unlink() if text is None else manifest.write_text(text)
    with pytest.raises(BadInput, match=rf"^output/manifest.json {problem}.*run `python generate.py`"):
        load_registry(project)


def test_committed_manifest_matches_the_committed_sources_and_templates():
    for kind in ("registry", "app"):
        assert TemplateSource(ROOT / "output").load(kind).data["Resources"]


def run_deploy_py(*argv, env_extra=None):
    """deploy.py in a fresh interpreter, reporting which of the generator's modules it imported."""
    script = (
        "import runpy, sys\n"
        f"sys.argv = ['deploy.py', *{list(argv)!r}]\n"
        "try:\n"
        f"    runpy.run_path({str(ROOT / 'deploy.py')!r}, run_name='__main__')\n"
        "except SystemExit as exit:\n"
        "    code = exit.code\n"
        f"loaded = sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN_IN_THE_DEPLOYER!r})\n"
        "print('imported:', loaded)\n"
        "sys.exit(code)\n"
    )
    environment = {**os.environ, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    environment.update({"AWS_MAX_ATTEMPTS": "1", "AWS_REGION": "us-east-1", **(env_extra or {})})
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=environment, timeout=60)


def test_deploy_py_checks_the_templates_without_importing_the_generator():
    """The whole path up to the first request (an unreachable endpoint on 127.0.0.1) runs on the manifest."""
    result = run_deploy_py("app", "--version", "1.0.0", "--dry-run", "--endpoint-url", "http://127.0.0.1:9")
    assert result.returncode == 2 and "check --endpoint-url" in result.stderr, result.stderr
    assert "imported: []" in result.stdout


def test_deploy_py_refuses_a_stale_template_in_one_line(tmp_path):
    """generate.py wrote output/ from sources that have changed since (the manifest says so)."""
    output = tmp_path / "output"
    output.mkdir()
    for name in ("RegistryStack.json", "manifest.json"):
        (output / name).write_text((ROOT / "output" / name).read_text())
    manifest = json.loads((output / "manifest.json").read_text())
    manifest["inputs"]["templates/registry.py"] = "0" * 64
    (output / "manifest.json").write_text(json.dumps(manifest))
    result = run_deploy_py("registry", "--output-dir", str(output))
    assert result.returncode == 2
    assert result.stderr == (
        "❌ output/RegistryStack.json is stale against templates/ (templates/registry.py changed "
        "since generate.py ran): run `python generate.py` and retry\n"
    )


def json_of_size(size: int, indent=None) -> str:
    """A JSON template of exactly `size` bytes as written (indented or compact)."""
    shape = json.dumps({"Metadata": {"Padding": ""}}, indent=indent, separators=None if indent else (",", ":"))
    return shape.replace('""', '"' + "x" * (size - len(shape)) + '"')


def test_template_that_fits_is_sent_exactly_as_committed():
    body = json_of_size(51_200, indent=2)
    assert template_argument(StackTemplate("AppStack.json", body), "AppStack", None, None) == {"TemplateBody": body}


def test_template_over_the_limit_only_through_its_indentation_is_sent_compact():
    body = json_of_size(51_150, indent=2).replace('{\n  "Metadata"', "{\n" + " " * 100 + '"Metadata"')
    assert len(body) > 51_200
    sent = template_argument(StackTemplate("AppStack.json", body), "AppStack", None, None)["TemplateBody"]
    assert len(sent) <= 51_200 and json.loads(sent) == json.loads(body)


def test_big_template_needs_a_bucket():
    template = StackTemplate("AppStack.json", json_of_size(51_201))
    with pytest.raises(
        BadInput,
        match=r"AppStack.json is 51,201 bytes even without indentation, over CloudFormation's 51,200-byte limit .*pass --s3-bucket BUCKET",
    ):
        template_argument(template, "AppStack", None, None)


APP_PARAMETERS = json.loads((ROOT / "output" / TEMPLATE_FILES["app"]).read_text())["Parameters"]


@pytest.mark.parametrize(
    "key, value, problem",
    [
        ("Cpu", "300", "must be one of 256, 512, 1024, 2048, 4096"),
        ("DesiredCount", "eleven", "must be a number"),
        ("DesiredCount", "-1", "must be at least 0"),
        ("KafkaPort", "70000", "must be at most 65535"),
        ("AlarmEmail", "ops", "must be empty or an email address"),
        ("ParameterPrefix", "no-slash", "must be a Parameter Store path"),
        ("HealthCheckCommand", "", "must be at least 1 characters"),
    ],
)
def test_parameter_values_are_checked_against_the_templates_constraints(key, value, problem):
    assert problem in constraint_violation(value, APP_PARAMETERS[key])


@pytest.mark.parametrize(
    "key, value", [("Cpu", "1024"), ("DesiredCount", "0"), ("AlarmEmail", ""), ("Version", "1.16.0-beta.12-5f5d22f1")]
)
def test_valid_parameter_values_pass(key, value):
    assert constraint_violation(value, APP_PARAMETERS[key]) is None
