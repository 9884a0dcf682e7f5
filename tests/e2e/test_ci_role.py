"""The ci-role stack: whom its roles trust and what they may do, evaluated as IAM evaluates policies
(tests/iam_policy.py), against what the deployer, the release's build job and CloudFormation's handlers do.

The unit tests read output/CiRoleStack.json with its intrinsic functions resolved; the deploy tests deploy it with
`deploy.py ci-role` into the local AWS and read the roles back through IAM."""

from __future__ import annotations

import ast
import io
import json
import re
from pathlib import Path

import botocore.session
import pytest
import yaml
from botocore import xform_name

from canary_deploy.cli import main
from canary_deploy.model.template_values import Account, TemplateValues
from canary_deploy.render.console import Console
from canary_deploy.watch.timing import Timing
from cfn.aws_specs import resource_schema, service_authorization
from contract import (
    CI_ROLE_STACK,
    GITHUB_OIDC_AUDIENCE,
    MAX_INLINE_TEMPLATE_BYTES,
    RELEASE_SECRETS,
    TEMPLATE_FILES,
)
from local_aws import push_image, seed_parameters
from tests.iam_policy import Request, allows

ROOT = Path(__file__).resolve().parents[2]
OUTPUT = ROOT / "output"
TEMPLATES = {kind: json.loads((OUTPUT / name).read_text()) for kind, name in TEMPLATE_FILES.items()}
REPOSITORY = "kafkajs/canary-infra"
ACCOUNT_ID, REGION = "123456789012", "us-east-1"
OIDC = "token.actions.githubusercontent.com"
PROVIDER = f"arn:aws:iam::{ACCOUNT_ID}:oidc-provider/{OIDC}"
# Two environments, as environments.toml names them: the roles reach the app stacks of both, by their names.
APP = "MskApp"
MSK_PREFIX = "/kafkajs-canary-app/msk"
CANARIES = {"AppStackNames": f"AppStack,{APP}", "ParameterPrefixes": f"/kafkajs-canary-app,{MSK_PREFIX}"}
TWO_ENVIRONMENTS = f"""
[registry]
stack_name = "RegistryStack"

[environments.default]
stack_name = "AppStack"
parameter_prefix = "/kafkajs-canary-app"

[environments.msk]
stack_name = "{APP}"
parameter_prefix = "{MSK_PREFIX}"
"""
VERSION = "1.16.0-beta.12-5f5d22f1"


def arn(service: str, resource: str, region: str = REGION) -> str:
    return f"arn:aws:{service}:{region}:{ACCOUNT_ID}:{resource}"


def resolved_policies(parameters: dict[str, str] | None = None) -> dict[str, dict]:
    """Each role's trust policy ("<Role>:trust") and inline policy ("<Role>"), resolved as CloudFormation would
    for these parameters (the execution role's ARN stays a placeholder)."""
    template = TEMPLATES["ci-role"]
    values = {name: str(spec["Default"]) for name, spec in template["Parameters"].items() if "Default" in spec}
    values.update({"GitHubRepository": REPOSITORY, **CANARIES, **(parameters or {})})
    account = Account(
        CI_ROLE_STACK, region=REGION, account_id=ACCOUNT_ID, physical_ids={"GitHubOidcProvider": PROVIDER}
    )
    resolved = TemplateValues(template, values, account)
    policies = {}
    for logical_id, resource in resolved.resources.items():
        if resource["Type"] == "AWS::IAM::Role":
            policies[f"{logical_id}:trust"] = resource["Properties"]["AssumeRolePolicyDocument"]
            (policy,) = resource["Properties"]["Policies"]
            policies[logical_id] = policy["PolicyDocument"]
    return policies


POLICIES = resolved_policies()
EXECUTION_ROLE = "(ExecutionRole.Arn)"


# --- What each role must allow, and the resources it is asked for ------------------------------------------------


def deployer_calls() -> set[str]:
    """Every AWS operation canary_deploy/ calls, as IAM actions: calls on its clients (named after their service,
    `cfn` for CloudFormation) and the operations its paginators page through."""
    receivers = {
        "cfn": "cloudformation",
        **{name: name for name in ("cloudformation", "cloudwatch", "ecr", "ecs", "s3", "ssm")},
    }
    session = botocore.session.get_session()
    operations = {
        service: {xform_name(name): name for name in session.get_service_model(service).operation_names}
        for service in set(receivers.values())
    }
    actions = set()
    for path in (ROOT / "canary_deploy").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            receiver = node.func.value
            service = receivers.get(
                receiver.attr if isinstance(receiver, ast.Attribute) else getattr(receiver, "id", None)
            )
            if service is None:
                continue
            method = node.func.attr
            if method == "get_paginator":
                method = node.args[0].value
            assert method in operations[service], f"{path.name}:{node.lineno}: {service} has no operation {method}"
            actions.add(f"{service}:{operations[service][method]}")
    return actions


def requests(
    action: str, examples: dict[tuple[str, str], list[str]], on: str | None = None, **context: str
) -> list[Request]:
    """The requests IAM evaluates for one call of `action`: one per resource of each type it acts on that the
    examples name (IAM checks every resource a request involves), or only of the type `on` when it acts on that;
    else one on "*"."""
    service, _, name = action.lower().partition(":")
    types = service_authorization()[service]["Actions"][name].get("Resources", [])
    types = [on] if on in types else types
    resources = [resource for kind in types for resource in examples.get((service, kind), [])]
    return [Request(action, resource, context=context) for resource in resources or ["*"]]


def denied(policy: dict, action: str, examples: dict, **context: str) -> list[Request]:
    return [request for request in requests(action, examples, **context) if not allows(policy, request)]


# The canary's resources as CloudFormation names them: `<stack name>-<logical id>-<random>`, or by the template.
CANARY_RESOURCES = {
    ("cloudformation", "stack"): [arn("cloudformation", f"stack/{name}/0a1b2c3d") for name in ("RegistryStack", APP)],
    ("ecr", "repository"): [arn("ecr", "repository/kafkajs-canary-app")],
    ("ssm", "parameter"): [arn("ssm", f"parameter/kafkajs-canary-app{env}/kafka-password") for env in ("", "/msk")],
    ("ecs", "cluster"): [arn("ecs", f"cluster/{APP}-Cluster-Q1W2E3")],
    ("ecs", "service"): [arn("ecs", f"service/{APP}-Cluster-Q1W2E3/{APP}-Service-R4T5Y6")],
    ("ecs", "service-deployment"): [arn("ecs", f"service-deployment/{APP}-Cluster-Q1W2E3/{APP}-Service-R4T5Y6/a1")],
    ("ecs", "service-revision"): [arn("ecs", f"service-revision/{APP}-Cluster-Q1W2E3/{APP}-Service-R4T5Y6/7")],
    ("ecs", "task"): [arn("ecs", f"task/{APP}-Cluster-Q1W2E3/0123abcd")],
    ("ecs", "task-definition"): [arn("ecs", f"task-definition/{APP}:7")],
    ("cloudwatch", "alarm"): [arn("cloudwatch", f"alarm:{APP}-consumer-lag")],
    ("cloudwatch", "dashboard"): [arn("cloudwatch", f"dashboard/{APP}-health", region="")],
    ("iam", "role"): [f"arn:aws:iam::{ACCOUNT_ID}:role/{APP}-TaskRole-U7I8O9"],
    ("lambda", "function"): [arn("lambda", f"function:{APP}-SlackNotifier-P0A1S2")],
    ("sns", "topic"): [arn("sns", f"{APP}-AlertsTopic-D3F4G5")],
    ("logs", "log-group"): [arn("logs", f"log-group:{APP}-LogGroup-H6J7K8:*")],
}
# Others' resources of the same kinds, and the ci-role stack's own.
OTHER_RESOURCES = {
    ("cloudformation", "stack"): [
        arn("cloudformation", f"stack/{name}/0a1b2c3d") for name in (CI_ROLE_STACK, "Payments", "AppStack2")
    ],
    ("ecr", "repository"): [arn("ecr", "repository/payments")],
    ("ssm", "parameter"): [arn("ssm", "parameter/payments/db-password")],
    ("ecs", "service"): [arn("ecs", "service/prod/api")],
    ("ecs", "task"): [arn("ecs", "task/prod/0123abcd")],
    ("cloudwatch", "alarm"): [arn("cloudwatch", "alarm:prod-api-errors")],
    ("iam", "role"): [
        f"arn:aws:iam::{ACCOUNT_ID}:role/{CI_ROLE_STACK}-DeployRole-X",
        f"arn:aws:iam::{ACCOUNT_ID}:role/Admin",
        f"arn:aws:iam::{ACCOUNT_ID}:role/AppStack2-TaskRole-X",
    ],
    ("lambda", "function"): [arn("lambda", "function:payments")],
    ("sns", "topic"): [arn("sns", "prod-alerts")],
    ("logs", "log-group"): [arn("logs", "log-group:/aws/lambda/payments:*")],
}


# --- The deploy role ---------------------------------------------------------------------------------------------


def calls_needing_no_role_permission() -> dict[str, str]:
    """Deployer calls the release never makes as the deploy role, and why."""
    compact = {
        name: len(json.dumps(json.loads((OUTPUT / name).read_text()), separators=(",", ":")))
        for name in (TEMPLATE_FILES["registry"], TEMPLATE_FILES["app"])
    }
    assert max(compact.values()) <= MAX_INLINE_TEMPLATE_BYTES, compact
    return {
        "s3:PutObject": "--s3-bucket uploads templates over the inline limit; the canary's fit inline",
        "cloudformation:ListImports": "only `destroy registry` lists who imports the registry; a release destroys nothing",
    }


def test_the_deployer_calls_what_the_parser_reads_from_its_source():
    """The parser finds the calls of every layer, paginators included (the deploy test below checks the calls a
    release really makes are among them)."""
    calls = deployer_calls()
    assert {
        "cloudformation:CreateChangeSet",
        "cloudformation:ListStacks",
        "ecs:ListTasks",
        "ssm:GetParameters",
    } <= calls
    assert {"cloudwatch:GetMetricData", "ecs:DescribeServiceRevisions", "ecr:DescribeImages", "s3:PutObject"} <= calls


def test_the_deploy_role_allows_every_call_the_deployer_makes():
    policy = POLICIES["DeployRole"]
    context = {"cloudformation:CreateChangeSet": {"cloudformation:RoleArn": EXECUTION_ROLE}}
    exempt = calls_needing_no_role_permission()
    refused = {
        action: denied(policy, action, CANARY_RESOURCES, **context.get(action, {}))
        for action in sorted(deployer_calls() - set(exempt))
    }
    assert {action: requests for action, requests in refused.items() if requests} == {}
    assert allows(
        policy, Request("iam:PassRole", EXECUTION_ROLE, context={"iam:PassedToService": "cloudformation.amazonaws.com"})
    )


def test_the_deploy_role_changes_nothing_itself_and_touches_no_other_stack():
    policy = POLICIES["DeployRole"]
    as_execution_role = {"cloudformation:RoleArn": EXECUTION_ROLE}
    for action in ("cloudformation:CreateChangeSet", "cloudformation:ExecuteChangeSet", "cloudformation:DeleteStack"):
        assert all(not allows(policy, r) for r in requests(action, OTHER_RESOURCES, **as_execution_role)), action
    app_stack = CANARY_RESOURCES[("cloudformation", "stack")][1]
    # Change sets run as the execution role: not as the caller, nor as any other role.
    assert not allows(policy, Request("cloudformation:CreateChangeSet", app_stack))
    assert not allows(
        policy,
        Request(
            "cloudformation:CreateChangeSet",
            app_stack,
            context={"cloudformation:RoleArn": "arn:aws:iam::123456789012:role/Admin"},
        ),
    )
    assert not allows(
        policy, Request("iam:PassRole", EXECUTION_ROLE, context={"iam:PassedToService": "lambda.amazonaws.com"})
    )
    for action in (
        "ecr:PutImage",
        "iam:CreateRole",
        "ecs:UpdateService",
        "ssm:PutParameter",
        "cloudwatch:SetAlarmState",
    ):
        assert all(not allows(policy, r) for r in requests(action, CANARY_RESOURCES)), action
    for action in ("ssm:GetParameters", "ecs:DescribeServices", "ecs:DescribeTasks", "cloudwatch:DescribeAlarms"):
        assert all(not allows(policy, r) for r in requests(action, OTHER_RESOURCES)), action


def test_the_deploy_role_deploys_in_every_region():
    """Environments may run in several regions, each with its registry; IAM roles are global."""
    policy = POLICIES["DeployRole"]
    for action, resource in (
        ("cloudformation:ExecuteChangeSet", f"stack/{APP}/0a1b2c3d"),
        ("ecs:DescribeServices", f"service/{APP}-Cluster-Q/{APP}-Service-R"),
        ("cloudwatch:DescribeAlarms", f"alarm:{APP}-consumer-lag"),
        ("ecr:DescribeImages", "repository/kafkajs-canary-app"),
    ):
        service = action.split(":")[0]
        assert allows(policy, Request(action, f"arn:aws:{service}:eu-west-1:{ACCOUNT_ID}:{resource}")), action


# --- The image-publishing role -----------------------------------------------------------------------------------


def build_job_calls() -> set[str]:
    """What the release's build job calls as the role: the AWS CLI lines of the scripts its steps run (and those
    they source), ECR's login (the amazon-ecr-login action) and `docker push`, as Amazon ECR documents the
    permissions a push needs."""
    scripts = ROOT / ".github" / "scripts"
    build = yaml.safe_load((ROOT / ".github" / "workflows" / "release.yml").read_text())["jobs"]["build"]
    names = {
        name for step in build["steps"] for name in re.findall(r"\.github/scripts/([\w-]+\.sh)", step.get("run", ""))
    }
    texts = [(scripts / name).read_text() for name in sorted(names)]
    texts += [
        (scripts / name).read_text() for text in list(texts) for name in re.findall(r'/([\w-]+\.sh)"$', text, re.M)
    ]
    cli = {
        f"{service}:{''.join(word.capitalize() for word in command.split('-'))}"
        for text in texts
        for service, command in re.findall(r"\baws (\w+) ([a-z-]+)", text)
    }
    docker_push = {"ecr:BatchCheckLayerAvailability", "ecr:InitiateLayerUpload", "ecr:UploadLayerPart",
                   "ecr:CompleteLayerUpload", "ecr:PutImage", "ecr:BatchGetImage"}  # fmt: skip
    return cli | docker_push | {"ecr:GetAuthorizationToken"}


def test_the_publishing_role_allows_the_build_job_and_nothing_more():
    policy = POLICIES["ImagePublishingRole"]
    calls = build_job_calls()
    assert {"cloudformation:DescribeStacks", "ecr:DescribeImages"} <= calls
    registry = {**CANARY_RESOURCES, ("cloudformation", "stack"): CANARY_RESOURCES[("cloudformation", "stack")][:1]}
    refused = {action: denied(policy, action, registry) for action in sorted(calls)}
    assert {action: requests for action, requests in refused.items() if requests} == {}
    for action in ("ecr:PutImage", "cloudformation:DescribeStacks"):
        assert all(not allows(policy, r) for r in requests(action, OTHER_RESOURCES)), action
    app_stack = CANARY_RESOURCES[("cloudformation", "stack")][1]
    for action in ("cloudformation:CreateChangeSet", "cloudformation:DescribeStacks", "ecs:DescribeServices"):
        assert not allows(policy, Request(action, app_stack)), action


# --- The execution role ------------------------------------------------------------------------------------------


def iam_type(resource_type: str) -> str:
    """IAM's name of the resource type CloudFormation's type makes: AWS::ECS::TaskDefinition, task-definition."""
    return re.sub(r"(?<!^)(?=[A-Z])", "-", resource_type.split("::")[2]).lower()


def test_the_execution_role_allows_what_cloudformation_needs_for_each_resource_of_the_stacks():
    """Each permission the registry schema of each resource type of the registry and app stacks lists for its
    handlers, on that type's resources as CloudFormation names them, but those no resource of ours needs."""
    policy = POLICIES["ExecutionRole"]
    (function,) = [r for r in TEMPLATES["app"]["Resources"].values() if r["Type"] == "AWS::Lambda::Function"]
    assert "ZipFile" in function["Properties"]["Code"], "the function's code is inline: no S3 read needed"
    unneeded = {"s3:GetObject", "s3:GetObjectVersion", "s3:REST.PUT.OBJECT"}
    types = {r["Type"] for kind in ("registry", "app") for r in TEMPLATES[kind]["Resources"].values()}
    refused = {}
    for resource_type in sorted(types):
        handlers = resource_schema(REGION, resource_type).get("handlers", {})
        needed = {p for h in ("create", "read", "update", "delete") for p in handlers.get(h, {}).get("permissions", [])}
        for action in sorted(needed - unneeded):
            service, _, name = action.lower().partition(":")
            if name not in service_authorization().get(service, {}).get("Actions", {}):
                refused_now = [] if allows(policy, Request(action)) else [Request(action)]  # newer than cfn-lint's list
            elif action == "iam:PassRole":
                refused_now = [
                    r for service_name in ("ecs-tasks.amazonaws.com", "lambda.amazonaws.com")
                    for r in requests(action, CANARY_RESOURCES, **{"iam:PassedToService": service_name})
                    if not allows(policy, r)
                ]  # fmt: skip
            elif action == "iam:CreateServiceLinkedRole":  # ECS's, with the account's first cluster
                ecs_role = f"arn:aws:iam::{ACCOUNT_ID}:role/aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS"
                refused_now = [] if allows(policy, Request(action, ecs_role)) else [Request(action, ecs_role)]
            else:  # e.g. ecs:TagResource, for AWS::ECS::Cluster, on the cluster
                refused_now = [
                    r for r in requests(action, CANARY_RESOURCES, on=iam_type(resource_type)) if not allows(policy, r)
                ]
            if refused_now:
                refused[f"{resource_type} {action}"] = refused_now
    assert refused == {}


def test_the_execution_role_changes_no_resource_outside_the_canary_stacks():
    policy = POLICIES["ExecutionRole"]
    changes = (
        "iam:PutRolePolicy", "iam:AttachRolePolicy", "iam:UpdateAssumeRolePolicy", "iam:DeleteRole",
        "lambda:UpdateFunctionCode", "lambda:AddPermission", "ecs:UpdateService", "ecs:DeleteService",
        "cloudwatch:DeleteAlarms", "cloudwatch:PutMetricAlarm", "sns:SetTopicAttributes", "sns:DeleteTopic",
        "logs:DeleteLogGroup", "ecr:DeleteRepository", "ecr:SetRepositoryPolicy",
    )  # fmt: skip
    allowed = {
        action: [r.resource for r in requests(action, OTHER_RESOURCES) if allows(policy, r)] for action in changes
    }
    assert {action: resources for action, resources in allowed.items() if resources} == {}
    # Roles go only to the services that assume them; no data is read.
    app_role = CANARY_RESOURCES[("iam", "role")][0]
    for service in ("ec2.amazonaws.com", "cloudformation.amazonaws.com"):
        assert not allows(policy, Request("iam:PassRole", app_role, context={"iam:PassedToService": service}))
    for action in ("s3:GetObject", "ssm:GetParameters", "secretsmanager:GetSecretValue", "sts:AssumeRole"):
        assert not allows(policy, Request(action, "*")), action


# --- All three ---------------------------------------------------------------------------------------------------


def statements():
    for role in ("ImagePublishingRole", "DeployRole", "ExecutionRole"):
        for statement in POLICIES[role]["Statement"]:
            yield role, statement


@pytest.mark.parametrize(
    "role, statement",
    [s for s in statements() if s[1]["Resource"] != ["*"]],
    ids=lambda v: v if isinstance(v, str) else v["Sid"],
)
def test_each_named_resource_is_of_a_type_its_actions_act_on(role, statement):
    """The Service Authorization Reference's ARN formats: an action whose resource type no pattern of its statement
    has would be allowed on nothing, and a pattern no action acts on would be dead."""
    authorization = service_authorization()

    def formats(action: str) -> list[str]:
        service, _, name = action.lower().partition(":")
        kinds = authorization[service]["Actions"][name].get("Resources", [])
        known = authorization[service]["Resources"]  # a few actions name a type it does not describe
        return [f for kind in kinds if kind in known for f in known[kind]["ARNFormats"]]

    def fits(pattern: str, arn_format: str) -> bool:
        anything = "[^:]*"  # our patterns have "*" for the partition, the region and the account
        concrete = arn_format.replace("${Partition}", anything).replace("${Region}", anything)
        return re.fullmatch(concrete.replace("${Account}", anything), pattern) is not None

    patterns = [pattern for pattern in statement["Resource"] if pattern != EXECUTION_ROLE]
    actions = statement["Action"]
    homeless = [a for a in actions if patterns and not any(fits(p, f) for p in patterns for f in formats(a))]
    unused = [p for p in patterns if not any(fits(p, f) for a in actions for f in formats(a))]
    assert (homeless, unused) == ([], [])


def test_each_roles_inline_policy_fits_iams_size_limit():
    """IAM refuses a role whose inline policies exceed 10,240 characters in all, whitespace not counted."""
    for role in ("ImagePublishingRole", "DeployRole", "ExecutionRole"):
        document = json.dumps(POLICIES[role], separators=(",", ":"))
        assert len(document.replace(" ", "")) < 10_240, role


# --- Deployed: `deploy.py ci-role` against the local AWS ---------------------------------------------------------


# The local ECS moves one step per read, not per second: no need to sleep between polls.
NO_WAITING = Timing(sleep=lambda seconds: None)


def run(*argv: str, timing: Timing = NO_WAITING) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    console = Console(out=out, err=err, interactive=False, color=False)
    code = main([*argv, "--output-dir", str(OUTPUT)], console=console, timing=timing)
    return code, out.getvalue(), err.getvalue()


def stack_outputs(aws, name: str) -> dict[str, str]:
    (stack,) = aws.client("cloudformation").describe_stacks(StackName=name)["Stacks"]
    return {output["OutputKey"]: output["OutputValue"] for output in stack.get("Outputs", [])}


def deployed_role(aws, logical_id: str) -> tuple[dict, dict]:
    """(trust policy, inline policy) of one of the ci-role stack's roles, as IAM answers them."""
    resource = aws.client("cloudformation").describe_stack_resource(
        StackName=CI_ROLE_STACK, LogicalResourceId=logical_id
    )
    name = resource["StackResourceDetail"]["PhysicalResourceId"]
    iam = aws.client("iam")
    trust = iam.get_role(RoleName=name)["Role"]["AssumeRolePolicyDocument"]
    (policy_name,) = iam.list_role_policies(RoleName=name)["PolicyNames"]
    return trust, iam.get_role_policy(RoleName=name, PolicyName=policy_name)["PolicyDocument"]


def web_identity(subject: str, audience: str = GITHUB_OIDC_AUDIENCE, provider: str = PROVIDER) -> Request:
    """AssumeRoleWithWebIdentity with a GitHub token of this subject, as IAM evaluates the role's trust policy."""
    return Request(
        "sts:AssumeRoleWithWebIdentity",
        principal=("Federated", provider),
        context={f"{OIDC}:sub": subject, f"{OIDC}:aud": audience},
    )


pytest_deploy = pytest.mark.deploy


@pytest_deploy
def test_ci_role_deploys_roles_trusted_only_by_the_build_job_and_the_canary_environment(aws, environments_file):
    environments_file(TWO_ENVIRONMENTS)
    code, out, err = run("ci-role", "--repository", REPOSITORY, "--yes")
    assert code == 0, out + err
    (stack,) = aws.client("cloudformation").describe_stacks(StackName=CI_ROLE_STACK)["Stacks"]
    parameters = {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}
    assert {key: parameters[key] for key in CANARIES} == CANARIES, "the app stacks of every environment"
    outputs = stack_outputs(aws, CI_ROLE_STACK)
    for key, secret in RELEASE_SECRETS.items():
        assert f"  gh secret set {secret} --repo {REPOSITORY} --body {outputs[key]}\n" in out
    (provider,) = aws.client("iam").list_open_id_connect_providers()["OpenIDConnectProviderList"]
    assert provider["Arn"] == outputs["OidcProviderArn"] == PROVIDER
    assert aws.client("iam").get_open_id_connect_provider(OpenIDConnectProviderArn=PROVIDER)["ClientIDList"] == [
        GITHUB_OIDC_AUDIENCE
    ]

    build, deploy = f"repo:{REPOSITORY}:ref:refs/heads/main", f"repo:{REPOSITORY}:environment:canary"
    strangers = [
        f"repo:{REPOSITORY}:ref:refs/heads/feature",
        f"repo:{REPOSITORY}:pull_request",
        f"repo:{REPOSITORY}:environment:canary-2",
        f"repo:{REPOSITORY}-fork:environment:canary",
        "repo:someone/canary-infra:environment:canary",
        "repo:someone/canary-infra:ref:refs/heads/main",
    ]
    for role, trusted in (("ImagePublishingRole", build), ("DeployRole", deploy)):
        trust, _ = deployed_role(aws, role)
        assert allows(trust, web_identity(trusted)), role
        for subject in [*strangers, build if trusted == deploy else deploy]:
            assert not allows(trust, web_identity(subject)), (role, subject)
        assert not allows(trust, web_identity(trusted, audience="https://github.com/kafkajs")), role
        assert not allows(trust, web_identity(trusted, provider=PROVIDER.replace(OIDC, "gitlab.com"))), role
    trust, _ = deployed_role(aws, "ExecutionRole")
    assert allows(trust, Request("sts:AssumeRole", principal=("Service", "cloudformation.amazonaws.com")))
    assert not allows(trust, web_identity(deploy))

    # The policies IAM holds are the template's, resolved.
    for role in ("ImagePublishingRole", "DeployRole"):
        assert deployed_role(aws, role)[1] == json.loads(
            json.dumps(POLICIES[role]).replace(EXECUTION_ROLE, outputs["ExecutionRoleArn"])
        ), role

    # Run again: nothing changes; for another repository: the same roles, trusting it instead.
    code, out, err = run("ci-role", "--repository", REPOSITORY, "--yes")
    assert (code, f"✅  {CI_ROLE_STACK} (no changes)" in out) == (0, True), out + err
    code, out, err = run("ci-role", "--repository", "someone/canary-infra", "--yes")
    assert code == 0, out + err
    assert stack_outputs(aws, CI_ROLE_STACK) == outputs
    trust, _ = deployed_role(aws, "DeployRole")
    assert allows(trust, web_identity("repo:someone/canary-infra:environment:canary"))
    assert not allows(trust, web_identity(deploy))


@pytest_deploy
def test_ci_role_trusts_the_accounts_own_github_provider_when_given_it(aws):
    iam = aws.client("iam")
    existing = iam.create_open_id_connect_provider(
        Url=f"https://{OIDC}", ClientIDList=[GITHUB_OIDC_AUDIENCE], ThumbprintList=["f" * 40]
    )["OpenIDConnectProviderArn"]
    code, out, err = run(
        "ci-role", "--repository", REPOSITORY, "--yes", "--parameter", f"ExistingOidcProviderArn={existing}"
    )
    assert code == 0, out + err
    assert [p["Arn"] for p in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]] == [existing]
    assert stack_outputs(aws, CI_ROLE_STACK)["OidcProviderArn"] == existing
    trust, _ = deployed_role(aws, "DeployRole")
    assert allows(trust, web_identity(f"repo:{REPOSITORY}:environment:canary", provider=existing))


@pytest_deploy
@pytest.mark.parametrize(
    "repository", ["kafkajs", "kafkajs/canary/infra", "kafkajs/canary infra", "-kafkajs/canary-infra", "/canary-infra"]
)
def test_ci_role_refuses_a_repository_that_is_not_owner_slash_name_before_any_aws_call(aws, on_call, repository):
    calls = []
    on_call("before-call", lambda **kwargs: calls.append(kwargs["model"].name))
    code, out, err = run("ci-role", f"--repository={repository}")
    assert (code, calls, out) == (2, [], "")
    assert err.count("\n") == 1 and f"--repository {repository!r}" in err
    assert "must be owner/name of a GitHub repository" in err


@pytest_deploy
def test_a_release_as_the_deploy_role_makes_only_calls_it_allows(aws, on_call, environments_file):
    """registry, app --verify, status and diff of the second environment through the execution role, each call
    recorded as the deployer makes it: every one is among those read from the source, and the deploy role IAM
    holds allows it on the resources of the account it acts on."""
    environments_file(TWO_ENVIRONMENTS)
    assert run("ci-role", "--repository", REPOSITORY, "--yes")[0] == 0
    execution_role = stack_outputs(aws, CI_ROLE_STACK)["ExecutionRoleArn"]
    calls = set()

    def record(model, **kwargs):
        calls.add(f"{model.service_model.service_name}:{model.name}")

    on_call("before-call", record)
    code, out, err = run("registry", "--yes", "--role-arn", execution_role)
    assert code == 0, out + err
    push_image(aws.endpoint_url, VERSION)
    seed_parameters(aws.endpoint_url, prefix=MSK_PREFIX)
    now = [0.0]

    def sleep(seconds):
        now[0] += seconds

    msk = ("--env", "msk")
    release = ("app", "--version", VERSION, "--yes", "--role-arn", execution_role, "--verify", "0.5")
    code, out, err = run(*msk, *release, timing=Timing(lambda: now[0], sleep))
    assert code == 0, out + err
    assert "✅ canary healthy" in out
    for argv in (("status",), (*msk, "status", "app"), (*msk, "diff", "app", "--role-arn", execution_role)):
        code, out, err = run(*argv)
        assert code == 0, out + err
    cloudformation = aws.client("cloudformation")
    for stack in ("RegistryStack", APP):
        assert cloudformation.describe_stacks(StackName=stack)["Stacks"][0]["RoleARN"] == execution_role

    assert calls <= deployer_calls()
    assert {"cloudformation:CreateChangeSet", "ecs:ListServiceDeployments", "cloudwatch:GetMetricData"} <= calls
    _, policy = deployed_role(aws, "DeployRole")
    refused = {
        call: [
            r
            for r in requests(call, account_resources(aws), **{"cloudformation:RoleArn": execution_role})
            if not allows(policy, r)
        ]
        for call in sorted(calls)
    }
    assert {call: requests for call, requests in refused.items() if requests} == {}


def account_resources(aws) -> dict[tuple[str, str], list[str]]:
    """The local account's ARNs of the canary's resources, by IAM resource type, as the services name them."""
    cloudformation, ecs = aws.client("cloudformation"), aws.client("ecs")
    stacks = [cloudformation.describe_stacks(StackName=name)["Stacks"][0]["StackId"] for name in ("RegistryStack", APP)]
    outputs = stack_outputs(aws, APP)
    (service,) = ecs.describe_services(cluster=outputs["ClusterName"], services=[outputs["ServiceName"]])["services"]
    deployments = ecs.list_service_deployments(cluster=outputs["ClusterName"], service=outputs["ServiceName"])
    (deployment,) = ecs.describe_service_deployments(
        serviceDeploymentArns=[deployments["serviceDeployments"][0]["serviceDeploymentArn"]]
    )["serviceDeployments"]
    parameters = aws.client("ssm").get_parameters(Names=[f"{MSK_PREFIX}/kafka-host"])["Parameters"]
    alarms = aws.client("cloudwatch").describe_alarms(AlarmNamePrefix=APP)["MetricAlarms"]
    return {
        ("cloudformation", "stack"): stacks,
        ("ecr", "repository"): [r["repositoryArn"] for r in aws.client("ecr").describe_repositories()["repositories"]],
        ("ssm", "parameter"): [p["ARN"] for p in parameters],
        ("ecs", "service"): [service["serviceArn"]],
        ("ecs", "task"): ecs.list_tasks(cluster=outputs["ClusterName"])["taskArns"],
        ("ecs", "service-deployment"): [deployment["serviceDeploymentArn"]],
        ("ecs", "service-revision"): [deployment["targetServiceRevision"]["arn"]],
        ("cloudwatch", "alarm"): [alarm["AlarmArn"] for alarm in alarms],
    }
