"""generate.py as a user runs it: deterministic output, in-process lint, --check, one-line errors."""

import re
import shutil
import sys
from pathlib import Path

import pytest

import generate

ROOT = Path(generate.__file__).parent


@pytest.fixture(scope="module")
def linted(tmp_path_factory):
    """The rendered templates, linted once in-process as generate.py does, with the lint cache it left."""
    cache_file = tmp_path_factory.mktemp("lint") / "lint.json"
    rendered = generate.render_templates()
    return rendered, generate.lint(rendered, generate.LintCache(cache_file)), cache_file


def test_output_files_are_sorted_two_space_json_with_trailing_newline():
    for name, text in generate.render_templates().items():
        if name.endswith(".json"):
            assert text.endswith("}\n")
            assert text.startswith('{\n  "')
            assert text.index('"Description"') < text.index('"Resources"')


def test_committed_output_and_diagram_pages_are_up_to_date():
    assert generate.check(generate.render_files(generate.render_templates())) == []


def test_committed_output_has_zero_lint_findings_including_informational_and_custom_rules(linted):
    """The one end-to-end lint of each template in the suite."""
    _, findings, _ = linted
    assert {name: [str(f) for f in found] for name, found in findings.items() if found} == {}


def use_tmp_tree(tmp_path, monkeypatch):
    """Point generate.py at a copy of the tree's generated files under tmp_path."""
    monkeypatch.setattr(generate, "ROOT", tmp_path)
    monkeypatch.setattr(generate, "OUTPUT_DIR", tmp_path / "output")
    for page in ("README", "ARCHITECTURE_DOC"):
        copy = tmp_path / getattr(generate, page).relative_to(ROOT)
        copy.parent.mkdir(exist_ok=True)
        copy.write_text(getattr(generate, page).read_text())
        monkeypatch.setattr(generate, page, copy)


def test_check_names_each_stale_file_and_exits_1(tmp_path, monkeypatch, capsys):
    use_tmp_tree(tmp_path, monkeypatch)
    assert generate.run(["--no-lint"]) == 0
    (tmp_path / "output" / "AppStack.json").write_text("{}\n")
    (tmp_path / "output" / "architecture.mmd").write_text("flowchart LR\n")
    assert generate.run(["--check"]) == 1
    error = capsys.readouterr().err
    assert "output/AppStack.json is stale" in error
    assert "output/architecture.mmd is stale" in error
    assert "RegistryStack" not in error and "README" not in error and "docs/" not in error


@pytest.mark.parametrize("page", ["README.md", "docs/architecture.md"])
def test_check_fails_when_a_pages_diagram_drifts(page, tmp_path, monkeypatch, capsys):
    use_tmp_tree(tmp_path, monkeypatch)
    assert generate.run(["--no-lint"]) == 0
    drawn = (tmp_path / page).read_text()
    assert "task -->|egress| nat" in drawn
    (tmp_path / page).write_text(drawn.replace("task -->|egress| nat", "task --> nat"))
    assert generate.run(["--check"]) == 1
    stale = [line.split()[0] for line in capsys.readouterr().err.splitlines() if line.endswith("and commit it")]
    assert stale == [page]
    assert generate.run(["--no-lint"]) == 0
    assert generate.run(["--check"]) == 0


@pytest.mark.parametrize("page", ["README.md", "docs/architecture.md"])
def test_page_without_diagram_markers_is_a_one_line_error(page, tmp_path, monkeypatch, capsys):
    use_tmp_tree(tmp_path, monkeypatch)
    (tmp_path / page).write_text("# no markers here\n")
    monkeypatch.setattr(sys, "argv", ["generate.py", "--no-lint"])
    with pytest.raises(SystemExit) as exit_info:
        generate.main()
    assert exit_info.value.code == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith(f"generate.py: error: cannot draw the architecture diagram into {page}: no ")


def test_check_passes_and_writes_nothing_when_up_to_date(tmp_path, monkeypatch):
    use_tmp_tree(tmp_path, monkeypatch)
    generate.run(["--no-lint"])
    before = {p.name: p.stat().st_mtime_ns for p in tmp_path.rglob("*")}
    assert generate.run(["--check"]) == 0
    assert generate.run(["--no-lint"]) == 0, "an unchanged tree is not rewritten"
    assert {p.name: p.stat().st_mtime_ns for p in tmp_path.rglob("*")} == before


def test_prints_one_line_per_template_with_resources_bytes_and_lint_verdict(linted, tmp_path, monkeypatch, capsys):
    use_tmp_tree(tmp_path, monkeypatch)
    monkeypatch.setattr(generate, "LINT_CACHE", tmp_path / "lint.json")
    shutil.copy(linted[2], generate.LINT_CACHE)  # both passed unchanged: not linted again
    assert generate.run([]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert any(
        re.fullmatch(
            r"output/AppStack.json: \d+ resources, \d+ bytes, cfn-lint clean \(unchanged since it last passed\)", line
        )
        for line in lines
    ), lines
    assert any(line.startswith("output/RegistryStack.json: 1 resources") for line in lines)


def test_warns_when_a_template_is_over_the_inline_limit(tmp_path, monkeypatch, capsys):
    use_tmp_tree(tmp_path, monkeypatch)
    # Between the registry's size (about 4 KB) and the app's without indentation (about 38 KB).
    monkeypatch.setattr(generate, "MAX_INLINE_TEMPLATE_BYTES", 10_000)
    assert generate.run(["--no-lint"]) == 0
    error = capsys.readouterr().err
    assert "output/AppStack.json is over CloudFormation's 10000-byte inline limit; deploy it through S3" in error
    assert "RegistryStack.json is over" not in error


def test_says_when_only_the_indentation_is_over_the_inline_limit(tmp_path, monkeypatch, capsys):
    use_tmp_tree(tmp_path, monkeypatch)
    registry = generate.render_templates()["RegistryStack.json"]
    monkeypatch.setattr(generate, "MAX_INLINE_TEMPLATE_BYTES", len(registry) - 1)
    assert generate.run(["--no-lint"]) == 0
    (line,) = [line for line in capsys.readouterr().err.splitlines() if "RegistryStack.json" in line]
    assert "is over CloudFormation's" in line and "deploy.py sends it without indentation" in line


def test_output_path_that_is_not_a_directory_is_a_one_line_error_with_exit_2(tmp_path, monkeypatch, capsys):
    use_tmp_tree(tmp_path, monkeypatch)
    (tmp_path / "output").write_text("a file where the folder should be")
    with pytest.raises(SystemExit) as exit_info:
        monkeypatch.setattr(sys, "argv", ["generate.py", "--no-lint"])
        generate.main()
    assert exit_info.value.code == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("generate.py: error: cannot write") and "output/ is writable" in line


def test_lint_cache_skips_only_templates_that_passed_unchanged_and_findings_name_rule_template_and_path(
    linted, tmp_path
):
    rendered, _, passed = linted
    cache_file = tmp_path / "lint.json"
    shutil.copy(passed, cache_file)

    unchanged = generate.LintCache(cache_file)
    generate.lint(rendered, unchanged)
    assert unchanged.hits == set(rendered)

    broken = dict(
        rendered,
        **{"RegistryStack.json": rendered["RegistryStack.json"].replace('"ScanOnPush": true', '"ScanOnPush": "maybe"')},
    )
    edited = generate.LintCache(cache_file)
    findings = generate.lint(broken, edited)
    assert edited.hits == set(rendered) - {"RegistryStack.json"}
    (finding, *_) = findings["RegistryStack.json"]  # an edited template is linted again
    assert finding.rule_id.startswith("E")
    assert finding.filename == "RegistryStack.json"
    assert "ScanOnPush" in finding.path
    # A failing template is never recorded as passed.
    assert generate.LintCache(cache_file).passed("RegistryStack.json", broken["RegistryStack.json"]) is False
