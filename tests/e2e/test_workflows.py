"""The GitHub workflows shipped for users: they parse, and every command they run exists (Makefile targets,
deploy.py and generate.py subcommands and flags)."""

import importlib
import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from contract import RELEASE_SECRETS

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"
# Stand-in for shell variables in commands, shaped like a real image tag so value checks still apply.
SAMPLE_VALUE = "1.16.0-beta.12-5f5d22f1"
# Variables whose value has a grammar of its own the CLI checks.
SAMPLE_VALUES = {"EXECUTION_ROLE_ARN": "arn:aws:iam::123456789012:role/CiRoleStack-ExecutionRole-ABC"}


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
    """The arguments given to a script in a command line, up to a pipe or the end of a command substitution,
    shell variables replaced by a sample value."""
    words = shlex.split(command)
    index = next(i for i, word in enumerate(words) if word.endswith(script))
    argv = []
    for word in words[index + 1 :]:
        if word == "|":
            break
        argv.append(re.sub(r"\$\{?(\w+)\}?", lambda variable: SAMPLE_VALUES.get(variable[1], SAMPLE_VALUE), word))
    return argv


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
    if script == "deploy.py":
        try:
            parse_args(["--env", "msk", "environments", "--json"])
        except SystemExit:
            pytest.skip("deploy.py has no --env and `environments` yet (issue 18, item 1): the release uses them")
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


def test_release_plans_builds_once_deploys_each_environment_then_reports():
    jobs = load("release.yml")["jobs"]
    assert list(jobs) == ["plan", "build", "deploy", "report"]
    assert jobs["build"]["needs"] == "plan"
    assert jobs["deploy"]["needs"] == ["plan", "build"] and jobs["report"]["needs"] == ["plan", "build", "deploy"]
    assert "strategy" not in jobs["build"]  # one image for every environment


def test_the_plan_reads_the_environments_into_the_deploy_matrix():
    workflow = load("release.yml")
    plan, deploy = workflow["jobs"]["plan"], workflow["jobs"]["deploy"]
    read = release_steps("plan")["Read the environments"]
    assert 'deploy.py environments --json | .github/scripts/plan-environments.py "$AWS_REGION"' in read["run"]
    assert plan["outputs"]["environments"] == f"${{{{ steps.{read['id']}.outputs.environments }}}}"
    assert deploy["strategy"] == {
        "fail-fast": False,
        "matrix": {"environment": "${{ fromJSON(needs.plan.outputs.environments) }}"},
    }
    # The inputs are checked before anything else runs.
    assert plan["steps"][0]["name"] == "Check the inputs"


def test_release_bumps_commits_tags_builds_records_and_pushes_through_the_tested_scripts_in_that_order():
    build = load("release.yml")["jobs"]["build"]
    runs = [step["run"] for step in build["steps"] if ".github/scripts/" in step.get("run", "")]
    scripts = [re.search(r"\.github/scripts/([\w-]+\.sh)", run)[1] for run in runs]
    # The bump reaches the app repository only once the image is built, the image ECR only once the bump is there.
    assert scripts == [
        "bump-kafkajs.sh",
        "commit-bump.sh",
        "image-tag.sh",
        "build-image.sh",
        "push-bump.sh",
        "push-image.sh",
    ]
    # The app folder (APP_PATH in its repository) is both the bump's directory and the build context, built
    # with our Dockerfile.
    assert shlex.split(runs[0])[1] == shlex.split(runs[3])[3] == "$APP_CHECKOUT/$APP_PATH"
    assert shlex.split(runs[3])[2] == "$APP_DOCKERFILE"
    assert (ROOT / load("release.yml")["env"]["APP_DOCKERFILE"]).is_file()
    assert "--short" not in " ".join(runs)
    tag = "${{ steps.tag.outputs.tag }}"
    steps = release_steps("build")
    assert build["outputs"]["tag"] == tag
    assert steps["Build the image"]["env"]["TAG"] == steps["Push the image"]["env"]["TAG"] == tag


def test_release_scripts_are_all_used_and_executable():
    used = set(re.findall(r"\.github/scripts/([\w-]+\.\w+)", (WORKFLOWS / "release.yml").read_text()))
    shipped = {path.name for path in (ROOT / ".github" / "scripts").iterdir()}
    # retry.sh is run by bump-kafkajs.sh, notify-slack.sh by report-verdicts.py; ecr.sh is sourced
    assert used | {"retry.sh", "notify-slack.sh", "ecr.sh"} == shipped
    assert all((ROOT / ".github" / "scripts" / name).stat().st_mode & 0o111 for name in shipped - {"ecr.sh"})


def test_each_environment_is_deployed_with_the_built_tag_in_its_region_under_protection_rules():
    deploy = load("release.yml")["jobs"]["deploy"]
    assert deploy["environment"] == "canary"
    assert deploy["env"] == {"TAG": "${{ needs.build.outputs.tag }}", "ENVIRONMENT": "${{ matrix.environment.name }}"}
    steps = release_steps("deploy")
    assert steps["AWS credentials"]["with"]["aws-region"] == "${{ matrix.environment.region }}"
    command = steps["Deploy and let the canary judge it"]["run"]
    assert (
        'deploy.py --env "$ENVIRONMENT" app --version "$TAG" --yes --role-arn "$EXECUTION_ROLE_ARN" --wait-for-alarms 20 --verify'
        in command
    )
    execution_role = RELEASE_SECRETS["ExecutionRoleArn"]
    assert steps["Deploy and let the canary judge it"]["env"] == {
        "EXECUTION_ROLE_ARN": f"${{{{ secrets.{execution_role} }}}}"
    }


def test_the_release_reads_the_aws_secrets_deploy_py_ci_role_prints():
    read = set(re.findall(r"secrets\.(AWS_\w+)", json.dumps(load("release.yml"))))
    assert read == set(RELEASE_SECRETS.values())


def test_each_environment_keeps_its_verdict_for_the_report_and_its_verdict_decides_its_job():
    steps = release_steps("deploy")
    names = list(steps)
    deploy = steps["Deploy and let the canary judge it"]
    assert 'verdict_dir="$RUNNER_TEMP/verdicts/$ENVIRONMENT"' in deploy["run"]
    assert '--verdict-file "$verdict_dir/verdict.json" || code=$?' in deploy["run"]
    assert 'echo "$code" > "$verdict_dir/exit-code"' in deploy["run"]
    assert 'echo "exit-code=$code" >> "$GITHUB_OUTPUT"' in deploy["run"]
    keep = steps["Keep the verdict for the report"]
    assert keep["uses"].startswith("actions/upload-artifact@")
    assert keep["with"] == {
        "name": "verdict-${{ matrix.environment.name }}",
        "path": "${{ runner.temp }}/verdicts/",
        "if-no-files-found": "error",
        "overwrite": True,
    }
    decide = steps["The canary's verdict decides this job"]
    assert decide == {
        "name": "The canary's verdict decides this job",
        "env": {"DEPLOY_EXIT_CODE": f"${{{{ steps.{deploy['id']}.outputs.exit-code }}}}"},
        "run": 'exit "$DEPLOY_EXIT_CODE"',
    }
    assert names[-3:] == [deploy["name"], keep["name"], decide["name"]]


def test_the_report_runs_after_any_deploy_outcome_and_its_table_decides_the_run():
    report = load("release.yml")["jobs"]["report"]
    assert report["if"] == "${{ !cancelled() && needs.plan.result == 'success' }}"
    assert report["env"] == {
        "TAG": "${{ needs.build.outputs.tag }}",
        "ENVIRONMENTS": "${{ needs.plan.outputs.environments }}",
        "SLACK_WEBHOOK_URL": "${{ secrets.SLACK_WEBHOOK_URL }}",  # the script posts only when it is set
    }
    steps = release_steps("report")
    collect = steps["Collect the verdicts"]
    assert collect["uses"].startswith("actions/download-artifact@")
    assert collect["with"] == {"pattern": "verdict-*", "merge-multiple": True, "path": "${{ runner.temp }}/verdicts"}
    (last,) = [step for step in report["steps"] if "run" in step]
    assert last["run"] == (
        '.github/scripts/report-verdicts.py "${TAG:-$KAFKAJS_VERSION}" "$ENVIRONMENTS" "$RUNNER_TEMP/verdicts"'
    )
    assert report["steps"][-1] is last and "continue-on-error" not in last and "if" not in last


@pytest.mark.parametrize("name", WORKFLOW_FILES)
def test_actions_are_pinned_to_commits_with_their_version_in_a_comment(name):
    uses = [line.strip() for line in (WORKFLOWS / name).read_text().splitlines() if "uses:" in line]
    assert uses
    for line in uses:
        assert re.fullmatch(r"(- )?uses: [\w-]+/[\w-]+@[0-9a-f]{40}  # v\d+\.\d+\.\d+", line), line


@pytest.mark.parametrize("name", WORKFLOW_FILES)
def test_no_checkout_keeps_its_credentials(name):
    checkouts = [step for step in steps(load(name)) if step.get("uses", "").startswith("actions/checkout@")]
    assert checkouts and all(step["with"]["persist-credentials"] is False for step in checkouts)


def test_the_app_token_reaches_only_its_checkout_and_the_push_of_the_bump():
    holders = [
        step.get("name", step.get("uses"))
        for step in steps(load("release.yml"))
        if "secrets.APP_REPOSITORY_TOKEN }}" in json.dumps(step)
    ]
    assert holders == ["Check out the app", "Record the bump in the app repository"]
    assert release_steps("build")["Record the bump in the app repository"]["run"].startswith(
        ".github/scripts/push-bump.sh "
    )


def test_release_uses_oidc_credentials_only_where_it_reaches_aws_and_keeps_inputs_out_of_scripts():
    workflow = load("release.yml")
    assert workflow["permissions"] == {"contents": "read"}
    for name, job in workflow["jobs"].items():
        credentials = [
            step for step in job["steps"] if step.get("uses", "").startswith("aws-actions/configure-aws-credentials@")
        ]
        if name in ("build", "deploy"):
            assert job["permissions"] == {"contents": "read", "id-token": "write"}
            role = RELEASE_SECRETS["ImagePublishingRoleArn" if name == "build" else "DeployRoleArn"]
            assert [step["with"]["role-to-assume"] for step in credentials] == [f"${{{{ secrets.{role} }}}}"]
        else:
            assert job["permissions"] == {"contents": "read"} and credentials == []
    assert not any("aws-access-key-id" in step.get("with", {}) for step in steps(workflow))
    for step in steps(workflow):
        assert "${{" not in step.get("run", ""), f"an expression spliced into a script: {step.get('name')}"


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


@pytest.mark.parametrize("name", WORKFLOW_FILES)
def test_no_workflow_runs_the_acceptance_on_a_real_account(name):
    # make aws-acceptance makes resources in a real account: opt-in, run by hand (docs/operations.md).
    assert not [
        command for _, command in commands(load(name)) if "aws-acceptance" in command or "acceptance" in command.split()
    ]
