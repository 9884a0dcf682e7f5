"""How the user ran deploy.py, so that every hint names a command that acts on the same stacks.

Made once in cli.py from the parsed arguments. A hint is "the same command with these flags": the program
as the user ran it (`python deploy.py` or `canary-deploy`), then the flags that chose the stacks and the
account (the environment, and the stack-name, profile, region and endpoint flags given), then the words of
the hinted subcommand. An `aws` CLI hint carries the profile and region in force (from a flag or the
environment) and the endpoint flag, so it reaches the same account and region.
"""

import os
import shlex
from dataclasses import dataclass, replace

DEFAULT_PROGRAM = "python deploy.py"


def program_name(argv0: str) -> str:
    """`python deploy.py` as typed (a path included), or the console script by its name on PATH, where
    sys.argv[0] is its full path."""
    if argv0.endswith(".py"):
        return f"python {shlex.quote(argv0)}"
    return os.path.basename(argv0) or DEFAULT_PROGRAM


@dataclass(frozen=True)
class Invocation:
    program: str = DEFAULT_PROGRAM
    environment: str | None = None  # --env NAME, given or implied
    flags: tuple[str, ...] = ()  # the stack-name, profile, region and endpoint flags given, with their values
    profile: str | None = None  # in force: from --profile or the environment
    region: str | None = None  # in force: from --region or the environment
    endpoint_url: str | None = None  # from --endpoint-url

    def deploy(self, *words: str) -> str:
        """`<program> [--env NAME] [flags] <words>`."""
        chosen = ("--env", self.environment) if self.environment else ()
        return " ".join([self.program, *map(shlex.quote, (*chosen, *self.flags, *words))])

    def aws(self, *words: str, region: str | None = None) -> str:
        """`aws <words>` with the region (`region`, else the one in force), profile and endpoint in force."""
        settings = {"--region": region or self.region, "--profile": self.profile, "--endpoint-url": self.endpoint_url}
        flags = [part for flag, value in settings.items() if value for part in (flag, value)]
        return " ".join(["aws", *map(shlex.quote, (*words, *flags))])

    def in_environment(self, name: str) -> "Invocation":
        """The same invocation for another environment of the file (status' overview names each)."""
        return replace(self, environment=name)

    def for_app_stack(self, stack_name: str, environment: str | None = None) -> "Invocation":
        """The same invocation acting on another app stack in the same account and region: by its
        environment of the file, when it has one there, else by --app-stack-name."""
        flags = _without(self.flags, "--app-stack-name")
        if environment is not None:
            return replace(self, environment=environment, flags=flags)
        return replace(self, flags=(*flags, "--app-stack-name", stack_name))


def _without(flags: tuple[str, ...], flag: str) -> tuple[str, ...]:
    """`flags` (flag, value pairs) less `flag` and its value."""
    pairs = zip(flags[::2], flags[1::2], strict=True)
    return tuple(part for name, value in pairs if name != flag for part in (name, value))
