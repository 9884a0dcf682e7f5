"""Named environments, one canary each, in `environments.toml` at the repository root, the way SAM's
samconfig.toml (--config-env), Copilot environments and CDK stages name theirs.

Each environment names its app stack, its Parameter Store prefix, optionally its region and profile, and
its app parameters; the file also names the registry stack they share. Read with the standard library
(tomllib) and checked whole before any AWS call: an unknown key, a value of the wrong type, a stack name
CloudFormation would refuse or a malformed file is one line of BadInput.
"""

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from contract import REGISTRY_STACK

from ..errors import BadInput
from .parameters import ParameterSource

# Without --env, deploy.py acts on the environment of this name when the file has one, as SAM does.
DEFAULT_ENVIRONMENT = "default"
STACK_NAME = re.compile(r"[A-Za-z][A-Za-z0-9-]{0,127}")
# Names go into commands and CI job names: letters, digits, hyphens and underscores.
ENVIRONMENT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
REGISTRY_KEYS = {"stack_name"}
ENVIRONMENT_KEYS = {"stack_name", "parameter_prefix", "region", "profile", "parameters"}


def check_stack_name(where: str, name: str) -> None:
    """CloudFormation's grammar, checked before any request: a letter, then letters, digits and hyphens."""
    if not STACK_NAME.fullmatch(name):
        raise BadInput(
            f"{where} {name!r} is not a stack name: a letter first, then letters, digits and hyphens, at most 128"
        )


@dataclass(frozen=True)
class Environment:
    """One canary: its app stack, where its Kafka settings are in Parameter Store, its account and region."""

    name: str
    stack_name: str
    registry_stack_name: str = REGISTRY_STACK
    parameter_prefix: str | None = None  # None: the template's default
    region: str | None = None  # None: --region / AWS_REGION
    profile: str | None = None  # None: --profile / AWS_PROFILE
    parameters: dict[str, str] = field(default_factory=dict)
    source: str = ""  # how messages name it: "environments.toml: environments.msk"

    def app_parameters(self) -> ParameterSource:
        """The app stack's parameters it sets (ParameterPrefix from parameter_prefix), named in messages."""
        prefix = {"ParameterPrefix": self.parameter_prefix} if self.parameter_prefix else {}
        return ParameterSource({**self.parameters, **prefix}, prefix=f"{self.source}: ")

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "stack_name": self.stack_name,
            "registry_stack_name": self.registry_stack_name,
            "region": self.region,
            "profile": self.profile,
            "parameter_prefix": self.parameter_prefix,
            "parameters": self.parameters,
        }


@dataclass(frozen=True)
class EnvironmentsFile:
    path: Path
    environments: tuple[Environment, ...]

    @classmethod
    def read(cls, path: Path) -> "EnvironmentsFile | None":
        """The file's environments, or None when there is no file."""
        try:
            with path.open("rb") as file:
                data = tomllib.load(file)
        except FileNotFoundError:
            return None
        except OSError as error:
            raise BadInput(f"{path.name}: {error.strerror or error}") from None
        except UnicodeDecodeError:
            raise BadInput(f"{path.name}: not UTF-8 text") from None
        except tomllib.TOMLDecodeError as error:
            raise BadInput(f"{path.name}: not valid TOML ({error})") from None
        return cls(path, _environments(path.name, data))

    def named(self, name: str) -> Environment:
        for environment in self.environments:
            if environment.name == name:
                return environment
        known = ", ".join(environment.name for environment in self.environments) or "none"
        raise BadInput(f"--env {name}: no environment of that name in {self.path.name} (known: {known})")

    def has(self, name: str) -> bool:
        return any(environment.name == name for environment in self.environments)


def _environments(filename: str, data: dict[str, Any]) -> tuple[Environment, ...]:
    _refuse_unknown(filename, data, {"registry", "environments"})
    registry = _table(filename, data, "registry")
    _refuse_unknown(f"{filename}: registry", registry, REGISTRY_KEYS)
    registry_stack = _text(f"{filename}: registry", registry, "stack_name") or REGISTRY_STACK
    check_stack_name(f"{filename}: registry.stack_name", registry_stack)
    environments = []
    for name, settings in _table(filename, data, "environments").items():
        where = f"{filename}: environments.{name}"
        if not ENVIRONMENT_NAME.fullmatch(name):
            raise BadInput(f"{where}: an environment's name is letters, digits, hyphens and underscores, at most 64")
        if not isinstance(settings, dict):
            raise BadInput(f"{where} must be a table of settings ([environments.{name}])")
        environments.append(_environment(where, name, registry_stack, settings))
    _refuse_shared(filename, environments)
    return tuple(environments)


def _environment(where: str, name: str, registry_stack: str, settings: dict[str, Any]) -> Environment:
    _refuse_unknown(where, settings, ENVIRONMENT_KEYS)
    stack_name = _text(where, settings, "stack_name")
    if stack_name is None:
        raise BadInput(f"{where}: stack_name is missing: the name of its app stack")
    check_stack_name(f"{where}.stack_name", stack_name)
    parameters = {}
    for key, value in _table(where, settings, "parameters").items():
        # As a --parameters-file: strings and numbers; a TOML true/false would have to be guessed at.
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise BadInput(f"{where}.parameters: {key} must be a string or a number, not {value!r}")
        parameters[key] = str(value)
    if "ParameterPrefix" in parameters:
        raise BadInput(f"{where}.parameters: ParameterPrefix is set by parameter_prefix")
    return Environment(
        name,
        stack_name,
        registry_stack,
        parameter_prefix=_text(where, settings, "parameter_prefix"),
        region=_text(where, settings, "region"),
        profile=_text(where, settings, "profile"),
        parameters=parameters,
        source=where,
    )


def _refuse_shared(filename: str, environments: list[Environment]) -> None:
    """Two environments in one account and region must not share an app stack: each would deploy over the
    other. (The same name in two regions, or under two profiles, are two stacks.)"""
    seen: dict[tuple[str | None, str | None, str], str] = {}
    for environment in environments:
        key = (environment.region, environment.profile, environment.stack_name)
        if key in seen:
            raise BadInput(
                f"{filename}: environments {seen[key]} and {environment.name} both name the app stack "
                f"{environment.stack_name} in the same region and profile"
            )
        seen[key] = environment.name


def _refuse_unknown(where: str, table: dict[str, Any], known: set[str]) -> None:
    unknown = sorted(set(table) - known)
    if unknown:
        raise BadInput(f"{where}: unknown key(s) {', '.join(unknown)}: known are {', '.join(sorted(known))}")


def _table(where: str, data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise BadInput(f"{where}: {key} must be a table ([{key}])")
    return value


def _text(where: str, data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is not None and (not isinstance(value, str) or not value):
        raise BadInput(f"{where}.{key} must be a non-empty string, not {value!r}")
    return value
