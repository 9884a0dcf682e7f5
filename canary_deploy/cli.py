"""Argument parsing and the one place where errors become messages and exit codes."""

import argparse
import json
import math
import os
import re
import shlex
from collections.abc import Callable
from typing import NoReturn

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
)
from botocore.parsers import ResponseParserError

from contract import APP_STACK, DEFAULT_PARAMETER_PREFIX, REGISTRY_STACK
from manifest import PROJECT_ROOT

from .aws.session import AwsClients
from .aws.template_source import TemplateSource
from .commands.ci_role import CiRoleDeploy
from .commands.deployer import DEFAULT_TIMEOUT_SECONDS, DeployOptions
from .commands.preflight import WAIT_FOR_ALARMS, UnjudgedAllowance
from .commands.release import AppDeploy, DeployRequest, RegistryDeploy, StackNames
from .errors import (
    EXIT_BAD_INPUT,
    EXIT_DEPLOY_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    BadInput,
    DeployError,
    OutputClosed,
)
from .model.environments import DEFAULT_ENVIRONMENT, Environment, EnvironmentsFile, check_stack_name
from .model.invocation import DEFAULT_PROGRAM, Invocation
from .model.outputs_file import OutputsFile, VerdictFile
from .model.parameters import ParameterSource, parse_overrides, read_parameters_file
from .model.verdict import ALLOW_UNJUDGED
from .render.console import Console
from .render.environment_table import environments_table
from .watch.events import fast_poll_seconds
from .watch.timing import REAL_TIME, Timing

DEFAULT_OUTPUT_DIR = PROJECT_ROOT / "output"
ENVIRONMENTS_FILE = PROJECT_ROOT / "environments.toml"
# `--verify` without minutes: watch for ECS's bake time, derived from the deployment alarms. Not a string:
# argparse would convert it with the option's type.
BAKE_TIME = object()
# Metrics Insights, which the lag figures come from, reaches 3 hours back.
MAX_VERIFY_MINUTES = 180
ROLE_ARN = re.compile(r"arn:aws[a-z-]*:iam::[0-9]{12}:role/[\w+=,.@/-]{1,576}")
# AWS answers these when the credentials, not the request, are wrong: the user must fix configuration.
CREDENTIAL_ERROR_CODES = {
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "ExpiredToken",
    "ExpiredTokenException",
    "SignatureDoesNotMatch",
    "AccessDenied",
    "AccessDeniedException",
}


def add_common_options(parser: argparse.ArgumentParser, suppress_defaults: bool) -> None:
    """The AWS and naming options, accepted before or after the command. The copy on each subcommand
    suppresses its defaults so it does not overwrite a value given before the command."""

    def default(value: str | None) -> str | None:
        return argparse.SUPPRESS if suppress_defaults else value

    group = parser.add_argument_group("AWS and stack names")
    group.add_argument(
        "--env",
        default=default(None),
        metavar="NAME",
        help=f"an environment of {ENVIRONMENTS_FILE.name}: its stacks, region, profile and parameters "
        f"(default: its {DEFAULT_ENVIRONMENT!r} environment, if any); the flags below override it",
    )
    group.add_argument("--profile", default=default(None), help="AWS profile (default: AWS_PROFILE)")
    group.add_argument("--region", default=default(None), help="AWS region (default: AWS_REGION)")
    group.add_argument("--endpoint-url", default=default(None), help="AWS endpoint (default: AWS_ENDPOINT_URL)")
    # No default value here: a hint repeats a stack name only when it was given (see invocation_of).
    group.add_argument("--registry-stack-name", default=default(None), help=f"default: {REGISTRY_STACK}")
    group.add_argument("--app-stack-name", default=default(None), help=f"default: {APP_STACK}")
    group.add_argument(
        "--output-dir", default=default(str(DEFAULT_OUTPUT_DIR)), help="where generate.py writes templates"
    )


def seconds(text: str) -> float:
    """--timeout: a finite number of seconds greater than 0 (float() alone takes "nan", "inf" and "-5")."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds greater than 0")
    return value


def add_deploy_options(parser: argparse.ArgumentParser, preview: bool = False) -> None:
    """The options of a deploy; a preview (`diff`) takes those that shape the change set only."""
    if preview:
        parser.set_defaults(yes=False, dry_run=True, outputs_file=None, cancel_after_failed_tasks=None)
    else:
        parser.add_argument("--yes", "-y", action="store_true", help="accept flagged changes without asking (CI)")
        parser.add_argument("--dry-run", action="store_true", help="show the change set, execute nothing")
    parser.add_argument("--wait", action="store_true", help="wait for an in-progress stack instead of refusing")
    parser.add_argument(
        "--timeout", type=seconds, default=DEFAULT_TIMEOUT_SECONDS, help="seconds to wait (default: %(default)s)"
    )
    if not preview:
        parser.add_argument("--outputs-file", help="write the stack outputs to this JSON file")
        parser.add_argument(
            "--cancel-after-failed-tasks",
            type=positive_count,
            metavar="N",
            help="cancel the update once N tasks of the new ECS deployment stopped (default: the circuit breaker)",
        )
    parser.add_argument("--s3-bucket", help="bucket for templates over 51,200 bytes")
    parser.add_argument(
        "--role-arn",
        type=role_arn,
        metavar="ARN",
        help="role CloudFormation runs the change set as (the ci-role stack's ExecutionRoleArn)",
    )
    parser.add_argument(
        "--parameter", action="append", metavar="KEY=VALUE", help="set a template parameter (repeatable)"
    )
    parser.add_argument(
        "--parameters-file",
        metavar="FILE",
        help='JSON object of parameter values, e.g. {"DesiredCount": 2}; --parameter wins over it',
    )


def role_arn(text: str) -> str:
    if not ROLE_ARN.fullmatch(text):
        raise argparse.ArgumentTypeError(f"{text!r} is not the ARN of an IAM role (arn:aws:iam::ACCOUNT:role/NAME)")
    return text


def verify_minutes(text: str) -> float:
    try:
        minutes = float(text)
    except ValueError:
        minutes = 0.0
    if not 0 < minutes <= MAX_VERIFY_MINUTES:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a number of minutes above 0 and at most {MAX_VERIFY_MINUTES}"
        )
    return minutes


def positive_count(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of at least 1")
    return int(text)


class OneLineParser(argparse.ArgumentParser):
    """Usage errors in one line, as every other bad input (subcommand parsers inherit the class)."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser(prog: str = "deploy.py") -> OneLineParser:
    parser = OneLineParser(prog=prog, description="Deploy the KafkaJS canary stacks with CloudFormation.")
    add_common_options(parser, suppress_defaults=False)
    commands = parser.add_subparsers(
        dest="command", required=True, metavar="{registry,app,diff,status,destroy,environments,ci-role}"
    )

    registry = commands.add_parser("registry", help="create or update the ECR registry stack")
    registry.add_argument("--version", help="image tag to show in the docker push lines")
    app = commands.add_parser("app", help="create or update the app stack")
    app.add_argument("--version", required=True, help="image tag to deploy (must be in ECR)")
    app.add_argument(
        "--verify",
        nargs="?",
        const=BAKE_TIME,
        type=verify_minutes,
        metavar="MINUTES",
        help="then watch the release until ECS decides on it, at most MINUTES (default: the template's upper "
        "bound), and print the canary's verdict; exit 3 when the canary failed, 5 when nothing could judge it",
    )
    app.add_argument("--verdict-file", metavar="FILE", help="with --verify: write the verdict to this JSON file (CI)")
    app.add_argument(
        ALLOW_UNJUDGED,
        action="store_true",
        help="release even while a deployment alarm is in ALARM: ECS then judges nothing and rolls nothing back",
    )
    app.add_argument(
        WAIT_FOR_ALARMS,
        type=verify_minutes,
        metavar="MINUTES",
        help="while a deployment alarm is in ALARM, wait at most MINUTES for it to leave ALARM (a judged release)",
    )
    for deploy_parser in (registry, app):
        add_deploy_options(deploy_parser)
    diff = commands.add_parser("diff", help="show what `registry` or `app` would change, execute nothing")
    diff.add_argument("target", choices=("registry", "app"))
    diff.add_argument("--version", help="app: image tag to preview (default: the deployed one); need not be pushed")
    add_deploy_options(diff, preview=True)

    status = commands.add_parser("status", help="show stack status, outputs and the ECS service")
    status.add_argument("target", nargs="?", choices=("registry", "app"), help="default: both")
    status.add_argument("--watch", action="store_true", help="refresh until Ctrl-C")
    status.add_argument(
        "--interval", type=positive_count, default=5, metavar="SECONDS", help="--watch refresh (default: 5)"
    )
    destroy = commands.add_parser("destroy", help="delete a stack after confirmation")
    destroy.add_argument("target", choices=("registry", "app"))
    destroy.add_argument("--yes", "-y", action="store_true", help="do not ask (CI)")
    destroy.add_argument("--timeout", type=seconds, default=DEFAULT_TIMEOUT_SECONDS, help="seconds to wait")
    environments = commands.add_parser(
        "environments", help=f"list the environments of {ENVIRONMENTS_FILE.name} (no AWS call)"
    )
    environments.add_argument("--json", action="store_true", help="as a JSON list, one object per environment")
    ci_role = commands.add_parser("ci-role", help="create or update the release workflow's AWS roles")
    ci_role.add_argument(
        "--repository", required=True, metavar="OWNER/NAME", help="GitHub repository whose release workflow deploys"
    )
    add_deploy_options(ci_role)
    for command_parser in (registry, app, diff, status, destroy, environments, ci_role):
        add_common_options(command_parser, suppress_defaults=True)
    return parser


# The flags that choose the stacks and the account, which every hint repeats when they were given.
TARGET_FLAGS = ("--profile", "--region", "--endpoint-url", "--registry-stack-name", "--app-stack-name")


def invocation_of(args: argparse.Namespace, program: str, environment: Environment | None) -> Invocation:
    """The hints' command: the environment when --env named it (the default one needs no flag), the
    target flags given, and the profile and region in force for `aws` lines."""
    given = {flag: getattr(args, flag[2:].replace("-", "_")) for flag in TARGET_FLAGS}
    return Invocation(
        program,
        environment=args.env,
        flags=tuple(part for flag, value in given.items() if value is not None for part in (flag, value)),
        profile=args.profile or (environment.profile if environment else None),
        region=args.region or (environment.region if environment else None),
        endpoint_url=args.endpoint_url,
    )


def chosen_environment(args: argparse.Namespace, environments: EnvironmentsFile | None) -> Environment | None:
    """--env NAME; without it the file's `default` environment, if any (as SAM does); else none."""
    if args.env:
        if environments is None:
            raise BadInput(f"--env {args.env}: there is no {ENVIRONMENTS_FILE.name} next to deploy.py")
        return environments.named(args.env)
    if environments is not None and environments.has(DEFAULT_ENVIRONMENT):
        return environments.named(DEFAULT_ENVIRONMENT)
    return None


def environments_beside(
    args: argparse.Namespace, environments: EnvironmentsFile | None, chosen: Environment | None
) -> dict[str, str]:
    """The file's environments whose `--env NAME` (with the flags given) reaches this command's account and
    region, by app stack name: those a hint may name."""
    if environments is None:
        return {}

    def reached(environment: Environment | None) -> tuple[str | None, str | None]:
        return (
            args.region or (environment.region if environment else None),
            args.profile or (environment.profile if environment else None),
        )

    here = reached(chosen)
    return {env.stack_name: env.name for env in environments.environments if reached(env) == here}


def shows_every_environment(args: argparse.Namespace, environments: EnvironmentsFile) -> bool:
    """`status` alone, with environments in the file: no environment, stack or target chosen."""
    if args.command != "status" or not environments.environments:
        return False
    return not (args.env or args.target or args.registry_stack_name or args.app_stack_name)


def show_every_environment(
    args: argparse.Namespace,
    console: Console,
    program: str,
    environments: EnvironmentsFile,
    timing: Timing,
) -> None:
    """One row per environment, each read with its own profile and region (flags still override them)."""
    from .commands.status import EnvironmentsOverview

    each = [
        (
            environment,
            AwsClients(
                profile=args.profile or environment.profile,
                region=args.region or environment.region,
                endpoint_url=args.endpoint_url,
            ),
        )
        for environment in environments.environments
    ]
    overview = EnvironmentsOverview(console, each, invocation_of(args, program, None), timing)
    if args.watch:
        overview.watch(args.interval)
    else:
        overview.run()


def list_environments(console: Console, environments: EnvironmentsFile | None, as_json: bool) -> None:
    """`environments`: what the file says, read without AWS (the release workflow's matrix reads --json)."""
    if environments is None:
        raise BadInput(f"there is no {ENVIRONMENTS_FILE.name} next to deploy.py: no environments to list")
    if as_json:
        console.line(json.dumps([environment.as_json() for environment in environments.environments], indent=2))
        return
    for line in environments_table(environments.environments):
        console.line(line)


def run_command(args: argparse.Namespace, console: Console, program: str, timing: Timing) -> None:
    environments = EnvironmentsFile.read(ENVIRONMENTS_FILE)
    if args.command == "environments":
        list_environments(console, environments, args.json)
        return
    if environments is not None and shows_every_environment(args, environments):
        show_every_environment(args, console, program, environments, timing)
        return
    environment = chosen_environment(args, environments)
    invocation = invocation_of(args, program, environment)
    names = StackNames(
        registry=args.registry_stack_name or (environment.registry_stack_name if environment else REGISTRY_STACK),
        app=args.app_stack_name or (environment.stack_name if environment else APP_STACK),
    )
    check_stack_name("--registry-stack-name", names.registry)
    check_stack_name("--app-stack-name", names.app)
    clients = AwsClients(profile=invocation.profile, region=invocation.region, endpoint_url=args.endpoint_url)
    if args.command == "diff":  # the same as `registry|app --dry-run`, under the name CDK users look for
        args.command = args.target
    if args.command in ("registry", "app", "ci-role"):
        source = TemplateSource(args.output_dir)
        options = DeployOptions(
            yes=args.yes,
            dry_run=args.dry_run,
            wait=args.wait,
            timeout=args.timeout,
            s3_bucket=args.s3_bucket,
            outputs_file=OutputsFile(args.outputs_file) if args.outputs_file else None,
            cancel_after_failed_tasks=args.cancel_after_failed_tasks,
            fast_poll=fast_poll_seconds(os.environ),
            role_arn=args.role_arn,
        )
        if options.outputs_file:
            options.outputs_file.check_writable()
        verify = getattr(args, "verify", None)
        verdict_file = VerdictFile(args.verdict_file) if getattr(args, "verdict_file", None) else None
        if verdict_file:
            if verify is None:
                raise BadInput("--verdict-file needs --verify: the verdict is what it holds")
            verdict_file.check_writable()
        request = DeployRequest(
            names,
            options,
            parse_overrides(args.parameter),
            getattr(args, "version", None),
            configured=read_parameters_file(args.parameters_file),
            environment=environment.app_parameters() if environment else ParameterSource(),
            verify=verify is not None,
            verify_minutes=verify if isinstance(verify, float) else None,
            verdict_file=verdict_file,
            unjudged=UnjudgedAllowance(
                unjudged=getattr(args, "allow_unjudged", False),
                wait_seconds=args.wait_for_alarms * 60 if getattr(args, "wait_for_alarms", None) else None,
            ),
        )
        if args.command == "ci-role":
            # The roles reach the app stack of every environment, unless --app-stack-name names one.
            canaries = environments.environments if environments and not args.app_stack_name else ()
            app_stacks = [canary.stack_name for canary in canaries] or [names.app]
            prefixes = [
                canary.app_parameters().values.get("ParameterPrefix", DEFAULT_PARAMETER_PREFIX) for canary in canaries
            ] or [DEFAULT_PARAMETER_PREFIX]
            deploy = CiRoleDeploy(clients, console, source, invocation, timing)
            deploy.run(request, args.repository, app_stacks, prefixes)
            return
        command = RegistryDeploy if args.command == "registry" else AppDeploy
        command(clients, console, source, invocation, timing).run(request)
    elif args.command == "status":
        from .commands.status import StatusReport

        clients.check_configuration()
        report = StatusReport(clients, console, names, invocation, timing)
        if args.watch:
            report.watch(args.target, args.interval)
        else:
            report.run(args.target)
    else:
        from .commands.destroy import Destroyer

        clients.check_configuration()
        destroyer = Destroyer(
            clients,
            console,
            names,
            invocation,
            yes=args.yes,
            timeout=args.timeout,
            timing=timing,
            app_environments=environments_beside(args, environments, environment),
        )
        destroyer.run(args.target)


def main(
    argv: list[str] | None = None,
    console: Console | None = None,
    timing: Timing | None = None,
    program: str = DEFAULT_PROGRAM,
) -> int:
    """Runs one command; returns the exit code. Tests pass their own console and timing; `program` is how
    the user ran us (deploy.run() says), for the hints."""
    console = console or Console()
    try:
        args = build_parser(os.path.basename(shlex.split(program)[-1])).parse_args(argv)
    except SystemExit as exit_request:  # --help or a usage error, already printed by argparse
        return int(exit_request.code or 0)
    try:
        return run_and_report(args, console, program, timing or REAL_TIME)
    except OutputClosed as closed:  # also while reporting an error
        return closed.exit_code


def run_and_report(args: argparse.Namespace, console: Console, program: str, timing: Timing) -> int:
    """Runs the command; reports each failure in one line and returns its exit code."""
    return reported(lambda: run_command(args, console, program, timing), console)


def reported(action: Callable[[], None], console: Console) -> int:
    """Runs `action`; reports each failure in one line and returns its exit code (also `make aws-acceptance`'s)."""
    try:
        action()
        return EXIT_OK
    except DeployError as error:
        console.error(str(error))
        return error.exit_code
    except KeyboardInterrupt:
        console.error("interrupted")
        return EXIT_INTERRUPTED
    except (NoCredentialsError, PartialCredentialsError) as error:
        console.error(f"AWS credentials: {error}: pass --profile or set AWS_PROFILE / AWS_ACCESS_KEY_ID")
        return EXIT_BAD_INPUT
    except NoRegionError:
        console.error("no AWS region configured: pass --region or set AWS_REGION")
        return EXIT_BAD_INPUT
    except (EndpointConnectionError, ConnectTimeoutError) as error:
        console.error(f"{error}: check --endpoint-url / AWS_ENDPOINT_URL, --region and the network")
        return EXIT_BAD_INPUT
    except ClientError as error:
        details = error.response.get("Error", {})
        code = details.get("Code", "Error")
        console.error(f"AWS {error.operation_name} failed: {code}: {details.get('Message', error)}")
        return EXIT_BAD_INPUT if code in CREDENTIAL_ERROR_CODES else EXIT_DEPLOY_FAILED
    except OSError as error:  # e.g. an --outputs-file in a missing directory
        console.error(f"{error.strerror or error}: {error.filename or ''}".rstrip(": "))
        return EXIT_BAD_INPUT
    except (BotoCoreError, ResponseParserError) as error:
        console.error(f"AWS: {error}")
        return EXIT_DEPLOY_FAILED
