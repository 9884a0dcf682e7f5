"""Template loading: stale check against what generate.py renders, its cache, and the S3 size limit."""

import json
from pathlib import Path

import pytest

from canary_deploy.errors import BadInput
from canary_deploy.parameters import constraint_violation
from canary_deploy.template_source import RenderCache, StackTemplate, TemplateSource, template_argument


@pytest.fixture
def project(tmp_path):
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "registry.py").write_text("REPOSITORY = 'a'\n")
    (tmp_path / "generate.py").write_text("# generator\n")
    (tmp_path / "output").mkdir()
    (tmp_path / "output" / "RegistryStack.json").write_text('{"Resources": {}}\n')
    return tmp_path


class CountingRender:
    def __init__(self, text):
        self.text = text
        self.calls = 0

    def __call__(self):
        self.calls += 1
        return {"RegistryStack.json": self.text}


def test_cache_skips_rendering_until_an_input_changes(project):
    render = CountingRender('{"Resources": {}}\n')
    cache = RenderCache(project, project / ".cache" / "render.json")
    load = lambda: TemplateSource(project / "output", render=render, cache=cache).load("registry")  # noqa: E731
    assert load().body == '{"Resources": {}}\n'
    assert load().body == '{"Resources": {}}\n'
    assert render.calls == 1
    (project / "templates" / "registry.py").write_text("REPOSITORY = 'b'\n")
    render.text = '{"Resources": {"Repo": {}}}\n'
    with pytest.raises(
        BadInput, match=r"output/RegistryStack.json is stale against templates/: run `python generate.py`"
    ):
        load()
    assert render.calls == 2


def test_missing_output_file_says_to_generate(project):
    (project / "output" / "RegistryStack.json").unlink()
    with pytest.raises(BadInput, match=r"output/RegistryStack.json not found: run `python generate.py` first"):
        TemplateSource(project / "output", render=CountingRender("")).load("registry")


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


APP_PARAMETERS = json.loads((Path(__file__).resolve().parent.parent / "output" / "AppStack.json").read_text())[
    "Parameters"
]


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
