"""Template loading: stale check against what generate.py renders, its cache, and the S3 size limit."""

import pytest

from canary_deploy.errors import BadInput
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
    with pytest.raises(BadInput, match=r"output/RegistryStack.json is stale against templates/: run `python generate.py`"):
        load()
    assert render.calls == 2


def test_missing_output_file_says_to_generate(project):
    (project / "output" / "RegistryStack.json").unlink()
    with pytest.raises(BadInput, match=r"output/RegistryStack.json not found: run `python generate.py` first"):
        TemplateSource(project / "output", render=CountingRender("")).load("registry")


def test_big_template_needs_a_bucket():
    template = StackTemplate("AppStack.json", "x" * 51_201)
    assert template_argument(StackTemplate("AppStack.json", "x" * 51_200), "AppStack", None, None) == {"TemplateBody": "x" * 51_200}
    with pytest.raises(BadInput, match=r"AppStack.json is 51,201 bytes, over CloudFormation's 51,200-byte limit .*pass --s3-bucket BUCKET"):
        template_argument(template, "AppStack", None, None)
