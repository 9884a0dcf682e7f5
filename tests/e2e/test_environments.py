"""Named environments (environments.toml): the file as read, `--env` against the local AWS, the flags over it,
`status` over every environment, and `environments --json`, which the release workflow's matrix reads."""

import json
import subprocess
import sys

import pytest
from test_deploy_moto import PROJECT_ROOT, VERSION, Run, small_output, verify_run
from test_faults import count_requests

from canary_deploy.cli import build_parser, environments_beside
from canary_deploy.model.environments import EnvironmentsFile
from canary_deploy.model.invocation import Invocation
from canary_deploy.model.verdict import Outcome, Verdict
from canary_deploy.render.environment_table import EnvironmentState, environment_table
from contract import APP_STACK, DEFAULT_PARAMETER_PREFIX, REGISTRY_STACK
from local_aws import push_image, seed_parameters
from local_aws.alarm_evaluation import STAND_IN_REASON, AlarmEvaluation
from local_aws.canary_app import CanaryApp
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


# The largest OffsetLag of each of the last 6 minutes of a consumer that falls behind, oldest first: the last
# LagMinutes (5) complete minutes are above LagThreshold (1000).
LAGGING = (4810, 5120, 5388, 5602, 5911, 6104)


@pytest.fixture
def deploy(tmp_path, capsys, aws):
    small_output(tmp_path)
    with aws.clock.stopped():
        yield Run(capsys, tmp_path, aws)


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


def test_two_canaries_in_one_account_from_one_registry_each_judged_by_its_own_lag(aws, capsys, environments_file):
    """One registry, two app stacks (output/'s templates) in one account and region with their own Parameter
    Store prefixes and parameters. Each app publishes OffsetLag to its own namespace: the lagging one's alarm
    fires and its release fails, the healthy one's does not and its release passes with its own lag; status
    tells them apart in one table; the registry is not destroyed while either imports it."""
    deploy = Run(capsys, PROJECT_ROOT / "output", aws)
    environments_file(TWO_CANARIES)
    assert deploy("--env", "kafka", "registry", "--yes") == 0, deploy.err
    push_image(aws.endpoint_url, VERSION)
    for prefix in ("/canary/kafka", "/canary/msk"):
        seed_parameters(aws.endpoint_url, prefix=prefix)
    for name in ("kafka", "msk"):
        assert deploy("--env", name, "app", "--version", VERSION, "--yes") == 0, deploy.err
    assert parameters_of(aws, "KafkaApp")["ParameterPrefix"] == "/canary/kafka"
    assert parameters_of(aws, "MskApp")["RegistryStackName"] == "CanaryRegistry"
    assert {k: parameters_of(aws, "MskApp")[k] for k in ("ParameterPrefix", "DesiredCount", "AlarmEmail")} == {
        "ParameterPrefix": "/canary/msk",
        "DesiredCount": "2",
        "AlarmEmail": "ops@example.com",
    }

    # The next release of each, judged by --verify. Kafka's consumer keeps up with the new KafkaJS.
    apps = CanaryApp(aws.endpoint_url)
    lag_alarms = [AlarmEvaluation(aws.endpoint_url, f"{stack}-consumer-lag") for stack in ("KafkaApp", "MskApp")]
    push_image(aws.endpoint_url, "1.17.0-beta.1")

    def keeps_up():
        for age in range(6):
            apps.publish_lag("KafkaApp", 3, 12, 7, minute=age)

    code, out, err = verify_run(
        deploy, "--env", "kafka", "app", "--version", "1.17.0-beta.1", "--verify", at=("new KafkaApp:2", keeps_up)
    )
    assert code == 0, out + err
    assert "deployment alarms: KafkaApp-consumer-lag" in out
    assert "(max lag 12, tasks 1/1)" in out.rstrip().splitlines()[-1]

    # MSK's falls behind over LagMinutes: as CloudWatch evaluates the alarms then, only MSK's lag alarm fires,
    # and ECS rolls MSK's release back.
    states = {}

    def falls_behind():
        for age, lag in enumerate(reversed(LAGGING)):
            apps.publish_lag("MskApp", lag, 40, minute=age)
        for alarm in lag_alarms:
            states.update(alarm.evaluate())

    code, out, err = verify_run(
        deploy, "--env", "msk", "app", "--version", "1.17.0-beta.1", "--verify", at=("new MskApp:2", falls_behind)
    )
    assert code == 3, out + err
    assert states == {
        "KafkaApp-consumer-lag": "OK",
        "MskApp-consumer-lag": "ALARM",
    }
    assert (
        err.strip()
        == f"❌ canary failed on 1.17.0-beta.1: MskApp-consumer-lag {STAND_IN_REASON}; ECS rolled back to {VERSION}"
    )

    # status tells them apart, each with its own largest lag.
    assert deploy("status") == 0, deploy.err
    lines = deploy.out.splitlines()
    assert lines[0].split() == [
        *("Environment", "Region", "Stack", "Status", "Version", "Last", "verdict", "Max", "lag", "Tasks", "Image")
    ]
    assert lines[1].split() == [
        *("kafka", "us-east-1", "KafkaApp", "UPDATE_COMPLETE", "1.17.0-beta.1", "✅", "healthy", "12", "1/1"),
        *("the", "stack's"),
    ]
    assert lines[2].split() == [
        *("msk", "us-east-1", "MskApp", "UPDATE_ROLLBACK_COMPLETE", VERSION, "❌", "failed", "on", "1.17.0-beta.1"),
        *("6104", "2/2", "the", "stack's"),
    ]
    assert lines[3] == (
        f"msk: canary failed on 1.17.0-beta.1: MskApp-consumer-lag {STAND_IN_REASON}; ECS rolled back to {VERSION}: "
        "see `python deploy.py --env msk status app`"
    )
    assert len(lines) == 4

    assert deploy("--env", "msk", "status", "app") == 0, deploy.err
    assert "MskApp: UPDATE_ROLLBACK_COMPLETE" in deploy.out and "KafkaApp" not in deploy.out

    # The registry stays while either canary imports it, whichever environment asks; each hint destroys one.
    assert deploy("--env", "msk", "destroy", "registry", "--yes") == 2
    assert deploy.err.strip() == (
        "❌ CanaryRegistry's exports are imported by KafkaApp, MskApp: destroy them first (`python deploy.py --env "
        "kafka destroy app`, `python deploy.py --env msk destroy app`)"
    )
    assert deploy("--env", "kafka", "destroy", "app", "--yes") == 0, deploy.err
    assert stacks_in(aws, "us-east-1") == ["CanaryRegistry", "MskApp"]
    assert deploy("--env", "kafka", "destroy", "registry", "--yes") == 2
    assert "imported by MskApp: destroy it first (`python deploy.py --env msk destroy app`)" in deploy.err
    assert deploy("--env", "msk", "destroy", "app", "--yes") == 0, deploy.err
    assert deploy("--env", "kafka", "destroy", "registry", "--yes") == 0, deploy.err
    assert stacks_in(aws, "us-east-1") == []


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


def test_a_hint_names_another_app_stack_by_its_environment_or_by_name_with_the_account_flags_given():
    invocation = Invocation("canary-deploy", "kafka", ("--region", "eu-west-1", "--app-stack-name", "KafkaApp"))
    assert invocation.for_app_stack("MskApp", "msk").deploy("destroy", "app") == (
        "canary-deploy --env msk --region eu-west-1 destroy app"
    )
    assert invocation.for_app_stack("Stray").deploy("destroy", "app") == (
        "canary-deploy --env kafka --region eu-west-1 --app-stack-name Stray destroy app"
    )


@pytest.mark.parametrize(
    "flags, named",
    [
        ((), {"KafkaApp": "kafka", "LocalApp": "local"}),
        (("--region", "us-east-2"), {"KafkaApp": "kafka", "LocalApp": "local", "MskApp": "msk"}),
        (
            ("--region", "us-east-2", "--profile", "other"),
            {"KafkaApp": "kafka", "LocalApp": "local", "MskApp": "msk", "OtherApp": "other"},
        ),
    ],
)
def test_hints_name_the_environments_their_env_flag_reaches_in_the_same_account_and_region(tmp_path, flags, named):
    """`--env NAME` plus the flags given must land where this command acts: same region and profile."""
    path = tmp_path / "environments.toml"
    path.write_text(
        '[environments.kafka]\nstack_name = "KafkaApp"\n'
        '[environments.local]\nstack_name = "LocalApp"\n'
        '[environments.msk]\nstack_name = "MskApp"\nregion = "us-east-2"\n'
        '[environments.other]\nstack_name = "OtherApp"\nregion = "us-east-2"\nprofile = "other"\n'
    )
    environments = EnvironmentsFile.read(path)
    args = build_parser().parse_args([*flags, "--env", "kafka", "destroy", "registry"])
    assert environments_beside(args, environments, environments.named("kafka")) == named
