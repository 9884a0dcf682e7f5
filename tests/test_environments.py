"""Named environments (environments.toml): the file as read, `--env` against the local AWS, the flags over it,
`status` over every environment, and `environments --json`, which the release workflow's matrix reads."""

import json
import subprocess
import sys

import pytest
from test_deploy_moto import LAG_SHOWN, PROJECT_ROOT, VERSION, Run, lag_alarm, small_output, verify_run
from test_faults import count_requests

from canary_deploy.model.invocation import Invocation
from canary_deploy.model.verdict import Outcome, Verdict
from canary_deploy.render.environment_table import EnvironmentState, environment_table
from contract import APP_STACK, DEFAULT_PARAMETER_PREFIX, REGISTRY_STACK
from local_aws import push_image, seed_parameters
from local_aws.server import local_client

TWO_CANARIES = """
[registry]
stack_name = "CanaryRegistry"

[environments.kafka]
stack_name = "KafkaApp"
parameter_prefix = "/canary/kafka"

[environments.msk]
stack_name = "MskApp"
parameter_prefix = "/canary/msk"

[environments.msk.parameters]
DesiredCount = 2
AlarmEmail = "ops@example.com"
"""


@pytest.fixture
def deploy(tmp_path, capsys, aws):
    small_output(tmp_path)
    return Run(capsys, tmp_path)


def parameters_of(aws, stack_name, region="us-east-1"):
    stack = local_client("cloudformation", aws.endpoint_url, region).describe_stacks(StackName=stack_name)["Stacks"][0]
    return {p["ParameterKey"]: p.get("ParameterValue") for p in stack["Parameters"]}


def stacks_in(aws, region):
    described = local_client("cloudformation", aws.endpoint_url, region).describe_stacks()["Stacks"]
    return sorted(stack["StackName"] for stack in described)


def test_the_committed_file_names_todays_canary_and_lists_as_json_without_aws():
    """The release workflow's contract: a JSON list, one object per environment, each with at least name,
    stack_name and region (null when unset). No AWS: no credentials, region or endpoint here at all."""
    environment = {"PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, str(PROJECT_ROOT / "deploy.py"), "environments", "--json"],
        capture_output=True,
        text=True,
        env=environment,
        timeout=60,
    )
    assert (result.returncode, result.stderr) == (0, "")
    (default,) = json.loads(result.stdout)
    assert default == {
        "name": "default",
        "stack_name": APP_STACK,
        "registry_stack_name": REGISTRY_STACK,
        "region": None,
        "profile": None,
        "parameter_prefix": DEFAULT_PARAMETER_PREFIX,
        "parameters": {},
    }


def test_environments_lists_each_one_from_the_file_alone(deploy, aws, on_call, environments_file):
    sent = count_requests(on_call)
    environments_file(TWO_CANARIES)

    assert deploy("environments", "--json") == 0, deploy.err
    assert [(e["name"], e["stack_name"], e["region"], e["parameters"]) for e in json.loads(deploy.out)] == [
        ("kafka", "KafkaApp", None, {}),
        ("msk", "MskApp", None, {"DesiredCount": "2", "AlarmEmail": "ops@example.com"}),
    ]
    assert deploy("environments") == 0, deploy.err
    assert deploy.out.splitlines() == [
        "Environment  App stack  Registry stack  Parameter prefix  Region  Profile",
        "kafka        KafkaApp   CanaryRegistry  /canary/kafka     -       -",
        "msk          MskApp     CanaryRegistry  /canary/msk       -       -",
    ]
    assert sent == []


@pytest.mark.parametrize(
    "text, argv, message",
    [
        (
            TWO_CANARIES,
            ("--env", "nope", "status", "app"),
            "--env nope: no environment of that name in environments.toml (known: kafka, msk)",
        ),
        (None, ("--env", "msk", "app", "--version", VERSION), "--env msk: there is no environments.toml"),
        ("[environments.kafka\n", ("status", "app"), "environments.toml: not valid TOML (Expected ']'"),
        ("[environments.kafka\n", ("environments", "--json"), "environments.toml: not valid TOML"),
        ("regions = 1\n", ("status",), "environments.toml: unknown key(s) regions: known are environments, registry"),
        (
            '[environments.kafka]\nstack_name = "A"\nstack = "B"\n',
            ("--env", "kafka", "destroy", "app"),
            "environments.toml: environments.kafka: unknown key(s) stack: known are parameter_prefix, parameters, "
            "profile, region, stack_name",
        ),
        ("[registry]\nname = 'R'\n", ("registry",), "environments.toml: registry: unknown key(s) name"),
        ("[environments.kafka]\nregion = 'us-east-1'\n", ("status",), "environments.kafka: stack_name is missing"),
        ("[environments.kafka]\nstack_name = '1App'\n", ("status",), "stack_name '1App' is not a stack name"),
        ("[environments.kafka]\nstack_name = 'A'\nregion = 1\n", ("status",), "kafka.region must be a non-empty"),
        ("[environments.'a b']\nstack_name = 'A'\n", ("status",), "environments.a b: an environment's name is"),
        ("[environments]\nkafka = 'A'\n", ("status",), "environments.kafka must be a table of settings"),
        (
            "[environments.a]\nstack_name = 'A'\n[environments.b]\nstack_name = 'A'\n",
            ("status",),
            "environments a and b both name the app stack A in the same region and profile",
        ),
        (
            "[environments.kafka]\nstack_name = 'A'\n[environments.kafka.parameters]\nSentryEnabled = false\n",
            ("--env", "kafka", "status", "app"),
            "environments.kafka.parameters: SentryEnabled must be a string or a number, not False",
        ),
        (
            "[environments.kafka]\nstack_name = 'A'\n[environments.kafka.parameters]\nParameterPrefix = '/x'\n",
            ("--env", "kafka", "status", "app"),
            "ParameterPrefix is set by parameter_prefix",
        ),
        # The environment's parameters are checked against the template, as a --parameters-file's are.
        (
            "[environments.kafka]\nstack_name = 'A'\n[environments.kafka.parameters]\nDesiredCount = 99\n",
            ("--env", "kafka", "app", "--version", VERSION),
            "environments.toml: environments.kafka: DesiredCount=99 is not valid for AppStack.json: DesiredCount "
            "must be at most 10",
        ),
        (
            "[environments.kafka]\nstack_name = 'A'\n[environments.kafka.parameters]\nVersion = '1'\n",
            ("--env", "kafka", "app", "--version", VERSION),
            "environments.kafka: Version is not allowed: use --version",
        ),
    ],
)
def test_a_wrong_environment_or_file_is_one_line_exit_2_before_any_request(
    deploy, aws, on_call, environments_file, text, argv, message
):
    sent = count_requests(on_call)
    environments_file(text)

    assert deploy(*argv) == 2

    assert message in deploy.err
    assert deploy.err.count("\n") == 1 and "Traceback" not in deploy.err
    assert sent == []


def test_without_a_file_every_command_works_as_before(deploy, aws, environments_file):
    environments_file(None)
    assert deploy("registry", "--yes") == 0, deploy.err
    push_image(aws.endpoint_url, VERSION)
    seed_parameters(aws.endpoint_url)
    assert deploy("app", "--version", VERSION, "--yes") == 0, deploy.err
    assert deploy("status") == 0, deploy.err
    assert "RegistryStack: CREATE_COMPLETE" in deploy.out and "AppStack: CREATE_COMPLETE" in deploy.out
    assert stacks_in(aws, "us-east-1") == ["AppStack", "RegistryStack"]


def test_an_environment_sets_region_profile_and_names_and_flags_override_it(
    deploy, aws, environments_file, tmp_path, monkeypatch
):
    """The profile's credentials and region come from its config file, as for the AWS CLI."""
    config = tmp_path / "aws-config"
    config.write_text("[profile msk]\naws_access_key_id = testing\naws_secret_access_key = testing\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    environments_file(
        '[registry]\nstack_name = "CanaryRegistry"\n'
        '[environments.msk]\nstack_name = "MskApp"\nregion = "us-east-2"\nprofile = "msk"\n'
    )

    assert deploy("--env", "msk", "registry", "--yes") == 0, deploy.err
    assert stacks_in(aws, "us-east-2") == ["CanaryRegistry"] and stacks_in(aws, "us-east-1") == []
    # The docker lines reach the same account and region: the profile and region in force.
    assert "aws ecr get-login-password --region us-east-2 --profile msk | docker login" in deploy.out

    assert deploy("registry", "--env", "msk", "--region", "us-east-1", "--registry-stack-name", "Other", "--yes") == 0
    assert stacks_in(aws, "us-east-1") == ["Other"] and stacks_in(aws, "us-east-2") == ["CanaryRegistry"]


def test_two_canaries_from_one_registry_each_judged_and_status_shows_both(deploy, aws, environments_file):
    """One registry, two app stacks with their own Parameter Store prefixes and parameters: one canary stays
    healthy, the other's lag alarm fires on its next release; status tells them apart in one table."""
    environments_file(TWO_CANARIES)
    assert deploy("--env", "kafka", "registry", "--yes") == 0, deploy.err
    push_image(aws.endpoint_url, VERSION)
    for prefix in ("/canary/kafka", "/canary/msk"):
        seed_parameters(aws.endpoint_url, prefix=prefix)

    code, out, err = verify_run(deploy, "--env", "kafka", "app", "--version", VERSION, "--yes", "--verify", "0.5")
    assert code == 0, out + err
    assert "Verifying the canary on" in out and "deployment alarms: KafkaApp-consumer-lag" in out
    assert deploy("--env", "msk", "app", "--version", VERSION, "--yes") == 0, deploy.err
    assert parameters_of(aws, "KafkaApp")["ParameterPrefix"] == "/canary/kafka"
    assert parameters_of(aws, "MskApp")["RegistryStackName"] == "CanaryRegistry"
    assert {k: parameters_of(aws, "MskApp")[k] for k in ("ParameterPrefix", "DesiredCount", "AlarmEmail")} == {
        "ParameterPrefix": "/canary/msk",
        "DesiredCount": "2",
        "AlarmEmail": "ops@example.com",
    }

    # MSK's lag alarm is in ALARM when its next release starts: ECS does not judge it (released all the same),
    # and --verify fails it when the alarm clears, then fires again.
    lag_alarm(aws, "ALARM", "MskApp-consumer-lag")
    push_image(aws.endpoint_url, "1.17.0-beta.1")
    code, out, err = verify_run(
        deploy,
        *("--env", "msk", "app", "--version", "1.17.0-beta.1", "--allow-unjudged", "--verify", "0.5"),
        at=(
            "Verifying the canary",
            lambda: [lag_alarm(aws, state, "MskApp-consumer-lag") for state in ("OK", "ALARM")],
        ),
    )
    assert code == 3, out + err
    assert f"roll back with `python deploy.py --env msk app --version {VERSION} --allow-unjudged`" in err

    assert deploy("status") == 0, deploy.err
    lines = deploy.out.splitlines()
    assert lines[0].split() == [
        "Environment",
        "Region",
        "Stack",
        "Status",
        "Version",
        "Last",
        "verdict",
        "Max",
        "lag",
        "Tasks",
        "Image",
    ]
    assert lines[1].split() == [
        "kafka",
        "us-east-1",
        "KafkaApp",
        "CREATE_COMPLETE",
        VERSION,
        "✅",
        "healthy",
        "-",
        "1/1",
        "the",
        "stack's",
    ]
    assert lines[2].split() == [
        "msk",
        "us-east-1",
        "MskApp",
        "UPDATE_COMPLETE",
        "1.17.0-beta.1",
        "❌",
        "failed",
        "-",
        "2/2",
        "the",
        "stack's",
    ]
    assert lines[3] == (
        f"msk: canary failed on 1.17.0-beta.1: MskApp-consumer-lag {LAG_SHOWN}; ECS did not roll back (its "
        f"deployment had completed); roll back with `python deploy.py --env msk app --version {VERSION} "
        "--allow-unjudged`: see "
        "`python deploy.py --env msk status app`"
    )
    assert len(lines) == 4

    assert deploy("--env", "msk", "status", "app") == 0, deploy.err
    assert "MskApp: UPDATE_COMPLETE" in deploy.out and "KafkaApp" not in deploy.out
    assert deploy("--env", "msk", "destroy", "app", "--yes") == 0, deploy.err
    assert stacks_in(aws, "us-east-1") == ["CanaryRegistry", "KafkaApp"]


def verdict(outcome, version="2.0.0", **fields):
    return Verdict(outcome, version, **fields)


def test_the_overview_table_is_rendered_from_what_status_read():
    states = [
        EnvironmentState("kafka", "us-east-1", "KafkaApp"),
        EnvironmentState(
            "msk",
            "eu-west-1",
            "MskApp",
            "UPDATE_ROLLBACK_COMPLETE",
            "1.0.0",
            running=1,
            desired=1,
            runs_stack_image=True,
            running_images=("repo:1.0.0",),
            verdict=verdict(Outcome.FAILED, cause="tasks failing", consequence="ECS rolled back to 1.0.0", max_lag=3),
        ),
        EnvironmentState(
            "redpanda",
            "us-east-1",
            "RedpandaApp",
            "UPDATE_COMPLETE",
            "2.0.0",
            running=2,
            desired=2,
            runs_stack_image=False,
            running_images=("repo:hotfix",),
            verdict=verdict(Outcome.HEALTHY, max_lag=12.5, running=2, desired=2),
        ),
        EnvironmentState(
            "confluent",
            "us-east-1",
            "ConfluentApp",
            "CREATE_COMPLETE",
            "2.0.0",
            1,
            1,
            True,
            ("repo:2.0.0",),
            not_judged="AccessDeniedException",
        ),
    ]
    assert environment_table(states, Invocation("canary-deploy", flags=("--region", "eu-west-1"))) == [
        "Environment  Region     Stack         Status                    Version  Last verdict        Max lag  Tasks  Image",
        "kafka        us-east-1  KafkaApp      not deployed              -        -                   -        -      -",
        "msk          eu-west-1  MskApp        UPDATE_ROLLBACK_COMPLETE  1.0.0    ❌ failed on 2.0.0  3        1/1    the stack's",
        "redpanda     us-east-1  RedpandaApp   UPDATE_COMPLETE           2.0.0    ✅ healthy          12.5     2/2    ⚠ another",
        "confluent    us-east-1  ConfluentApp  CREATE_COMPLETE           2.0.0    not judged          -        1/1    the stack's",
        "msk: canary failed on 2.0.0: tasks failing; ECS rolled back to 1.0.0: see "
        "`canary-deploy --env msk --region eu-west-1 status app`",
        "redpanda: ECS runs repo:hotfix, not the stack's image: see `canary-deploy --env redpanda --region eu-west-1 "
        "status app`",
        "confluent: last release not judged (AccessDeniedException): see `canary-deploy --env confluent --region "
        "eu-west-1 status app`",
    ]
