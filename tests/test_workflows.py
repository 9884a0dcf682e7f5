"""The GitHub workflows shipped for users: they parse, and every command they run exists (Makefile targets,
deploy.py and generate.py subcommands and flags)."""

import importlib
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / ".github" / "workflows"
# Stand-in for shell variables in commands, shaped like a real image tag so value checks still apply.
SAMPLE_VALUE = "1.16.0-beta.12-5f5d22f1"


def load(name):
    return yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))


def triggers(workflow):
    return workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` key as true


def steps(workflow):
    return [step for job in workflow["jobs"].values() for step in job["steps"]]


def commands(workflow):
    """Each shell command of every run: step, split on newlines, `&&`, `||` and `;`."""
    for step in steps(workflow):
        for line in step.get("run", "").splitlines():
            for command in re.split(r"&&|\|\||;", line):
                if command.strip() and not command.strip().startswith("#"):
                    yield step, command.strip()


def argv_after(command, script):
    """The arguments given to a script in a command line, shell variables replaced by a sample value."""
    words = shlex.split(command)
    index = next(i for i, word in enumerate(words) if word.endswith(script))
    return [re.sub(r"\$\{?\w+\}?", SAMPLE_VALUE, word) for word in words[index + 1 :]]


def makefile_targets():
    targets = set()
    for line in (ROOT / "Makefile").read_text(encoding="utf-8").splitlines():
        match = re.match(r"^([^\s#=:][^=:]*):(?![=:])", line)
        if match:
            targets.update(match[1].split())
    return targets


def cli_argument_parser(module_names):
    """The function a CLI parses its arguments with: build_parser().parse_args or parse_args, from the
    first of the modules that has either."""
    for name in module_names:
        module = importlib.import_module(name)
        if hasattr(module, "build_parser"):
            return module.build_parser().parse_args
        if hasattr(module, "parse_args"):
            return module.parse_args
    pytest.fail(f"none of {module_names} exposes build_parser() or parse_args(argv)")


WORKFLOW_FILES = sorted(path.name for path in WORKFLOWS.glob("*.yml"))


def test_both_workflows_are_shipped():
    assert WORKFLOW_FILES == ["release.yml", "test.yml"]


@pytest.mark.parametrize("name", WORKFLOW_FILES)
def test_make_targets_exist_in_the_makefile(name):
    targets = makefile_targets()
    used = [
        target
        for _, command in commands(load(name))
        if command.startswith("make")
        for target in shlex.split(command)[1:]
        if not target.startswith("-")
    ]
    assert used, f"{name} runs no make target"
    assert set(used) <= targets, f"{name} runs make targets the Makefile lacks: {set(used) - targets}"


@pytest.mark.parametrize("script, modules", [("deploy.py", ["canary_deploy.cli"]), ("generate.py", ["generate"])])
def test_cli_invocations_are_accepted_by_the_cli(script, modules):
    invocations = [
        (name, argv_after(command, script))
        for name in WORKFLOW_FILES
        for _, command in commands(load(name))
        if script in command
    ]
    assert invocations, f"no workflow runs {script}"
    parse_args = cli_argument_parser(modules)
    for name, argv in invocations:
        try:
            parse_args(argv)
        except (SystemExit, Exception) as error:  # argparse exits; generate.py raises its UsageError
            pytest.fail(f"{name}: {script} {' '.join(argv)} is rejected by its parser: {error}")


def test_test_workflow_runs_make_test_on_every_push_and_pull_request():
    workflow = load("test.yml")
    assert {"push", "pull_request"} <= set(triggers(workflow))
    assert [command for _, command in commands(workflow)] == ["make test"]


def test_release_is_dispatched_by_hand_with_a_required_kafkajs_version():
    inputs = triggers(load("release.yml"))["workflow_dispatch"]["inputs"]
    assert set(inputs) == {"kafkajs_version"}
    assert inputs["kafkajs_version"]["required"] is True


def release_steps(job):
    return {step.get("name", step.get("uses")): step for step in load("release.yml")["jobs"][job]["steps"]}


def test_release_bumps_records_tags_and_pushes_through_the_tested_scripts_in_that_order():
    build = load("release.yml")["jobs"]["build"]
    runs = [step["run"] for step in build["steps"] if ".github/scripts/" in step.get("run", "")]
    scripts = [re.search(r"\.github/scripts/([\w-]+\.sh)", run)[1] for run in runs]
    assert scripts == ["bump-kafkajs.sh", "commit-bump.sh", "image-tag.sh", "push-image.sh"]
    # The app folder (APP_PATH in its repository) is both the bump's directory and the build context.
    assert runs[0].split()[1] == runs[3].split()[2] == '"$APP_CHECKOUT/$APP_PATH"'
    assert "--short" not in " ".join(runs)
    tag = "${{ steps.tag.outputs.tag }}"
    assert build["outputs"]["tag"] == tag and release_steps("build")["Build and push the image"]["env"]["TAG"] == tag


def test_release_scripts_are_all_used_and_executable():
    used = set(re.findall(r"\.github/scripts/([\w-]+\.sh)", (WORKFLOWS / "release.yml").read_text()))
    shipped = {path.name for path in (ROOT / ".github" / "scripts").glob("*.sh")}
    # retry.sh is run by bump-kafkajs.sh, notify-slack.sh by report-verdict.sh
    assert used | {"retry.sh", "notify-slack.sh"} == shipped
    assert all((ROOT / ".github" / "scripts" / name).stat().st_mode & 0o111 for name in shipped)


def test_release_deploys_the_built_tag_in_an_environment_with_the_registry_stack_name():
    workflow = load("release.yml")
    deploy = workflow["jobs"]["deploy"]
    assert deploy["needs"] == "build" and deploy["environment"]
    assert deploy["env"]["TAG"] == "${{ needs.build.outputs.tag }}"
    command = release_steps("deploy")["Deploy the app stack and let the canary judge it"]["run"]
    assert '--registry-stack-name "$REGISTRY_STACK"' in command and '--version "$TAG"' in command
    assert "REGISTRY_STACK" in workflow["env"]


def test_release_verifies_the_canary_and_its_verdict_decides_the_run():
    deploy = load("release.yml")["jobs"]["deploy"]
    steps = release_steps("deploy")
    verify = steps["Deploy the app stack and let the canary judge it"]
    assert '--verify --verdict-file "$RUNNER_TEMP/verdict.json"' in verify["run"]
    # the deploy step records the exit code instead of failing; the report step exits with it
    assert "|| code=$?" in verify["run"] and 'echo "exit-code=$code" >> "$GITHUB_OUTPUT"' in verify["run"]
    report = steps["Report the canary's verdict"]
    assert report["env"]["DEPLOY_EXIT_CODE"] == "${{ steps.deploy.outputs.exit-code }}"
    assert report["run"] == '.github/scripts/report-verdict.sh "$TAG" "$DEPLOY_EXIT_CODE" "$RUNNER_TEMP/verdict.json"'
    assert "continue-on-error" not in report and "if" not in report
    assert list(steps).index("Report the canary's verdict") == list(steps).index(verify["name"]) + 1
    # Slack only when the secret is set: the script posts only with a webhook URL in its environment
    assert deploy["env"]["SLACK_WEBHOOK_URL"] == "${{ secrets.SLACK_WEBHOOK_URL }}"


@pytest.mark.parametrize("name", WORKFLOW_FILES)
def test_actions_are_pinned_to_commits_with_their_version_in_a_comment(name):
    uses = [line.strip() for line in (WORKFLOWS / name).read_text().splitlines() if "uses:" in line]
    assert uses
    for line in uses:
        assert re.fullmatch(r"(- )?uses: [\w-]+/[\w-]+@[0-9a-f]{40}  # v\d+\.\d+\.\d+", line), line


def test_only_the_checkout_that_pushes_keeps_its_credentials():
    checkouts = [
        step
        for job in load("release.yml")["jobs"].values()
        for step in job["steps"]
        if step.get("uses", "").startswith("actions/checkout@")
    ]
    keeping = [step["name"] for step in checkouts if step.get("with", {}).get("persist-credentials") is not False]
    assert keeping == ["Check out the app"]
    assert release_steps("build")["Record the bump in the app repository"]["run"].startswith(
        ".github/scripts/commit-bump.sh "
    )


def test_release_uses_oidc_credentials_and_keeps_inputs_out_of_scripts():
    workflow = load("release.yml")
    assert workflow["permissions"] == {"contents": "read"}
    for job in workflow["jobs"].values():
        assert job["permissions"] == {"contents": "read", "id-token": "write"}
        (credentials,) = [
            step for step in job["steps"] if step.get("uses", "").startswith("aws-actions/configure-aws-credentials@")
        ]
        assert credentials["with"]["role-to-assume"].startswith("${{ secrets.")
    assert not any("aws-access-key-id" in step.get("with", {}) for step in steps(workflow))
    for step in steps(workflow):
        assert "${{ inputs." not in step.get("run", ""), f"input spliced into a script: {step.get('name')}"


def test_the_test_workflows_checkout_keeps_no_credentials():
    checkouts = [step for step in steps(load("test.yml")) if step.get("uses", "").startswith("actions/checkout@")]
    assert checkouts and all(step["with"]["persist-credentials"] is False for step in checkouts)


def test_both_workflows_pass_zizmor_offline():
    zizmor = Path(sys.executable).parent / "zizmor"
    result = subprocess.run(
        [str(zizmor), "--offline", "--no-progress", *(str(WORKFLOWS / name) for name in WORKFLOW_FILES)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No findings to report" in result.stdout
