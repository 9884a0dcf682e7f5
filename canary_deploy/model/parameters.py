"""Stack parameters: what the command sets, what a deployed stack keeps (UsePreviousValue), what a new
one takes by default; every value checked against the template's own constraints before any request."""

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn

from cfn.stack_status import StackStatus

from ..errors import BadInput
from ..model.stack_template import StackTemplate

# CloudFormation's Number: ASCII digits with an optional minus sign and fraction. float() would also take
# "nan", "inf", "1_0" and non-ASCII digits such as "５", which CloudFormation refuses.
NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")


def constraint_violation(value: str, spec: dict) -> str | None:
    """What CloudFormation would say is wrong with a parameter value, from the template's own
    constraints, or None when the value passes. Checked before any AWS call, so a typo costs nothing."""
    if spec.get("Type") == "Number":
        if not NUMBER.fullmatch(value):
            return "must be a number (digits, an optional minus sign and decimal point)"
        number = float(value)
        if "MinValue" in spec and number < float(spec["MinValue"]):
            return f"must be at least {spec['MinValue']}"
        if "MaxValue" in spec and number > float(spec["MaxValue"]):
            return f"must be at most {spec['MaxValue']}"
    if "AllowedValues" in spec and value not in [str(allowed) for allowed in spec["AllowedValues"]]:
        return "must be one of " + ", ".join(str(allowed) for allowed in spec["AllowedValues"])
    if "MinLength" in spec and len(value) < int(spec["MinLength"]):
        return f"must be at least {spec['MinLength']} characters"
    if "MaxLength" in spec and len(value) > int(spec["MaxLength"]):
        return f"must be at most {spec['MaxLength']} characters"
    if "AllowedPattern" in spec and not re.fullmatch(spec["AllowedPattern"], value):
        return spec.get("ConstraintDescription") or f"must match {spec['AllowedPattern']}"
    return None


@dataclass(frozen=True)
class ParameterSource:
    """Values the operator gave in one place, and how a message names one of them."""

    values: dict[str, str] = field(default_factory=dict)
    prefix: str = "--parameter "  # "--parameter DesiredCount=2" or "--parameters-file prod.json: DesiredCount=2"

    def shown(self, key: str, value: str) -> str:
        return f"{self.prefix}{key}={value}"


def parse_overrides(pairs: list[str] | None) -> ParameterSource:
    """--parameter Key=Value, repeatable."""
    overrides = {}
    for pair in pairs or ():
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise BadInput(f"--parameter {pair!r} must look like Key=Value")
        overrides[key] = value
    return ParameterSource(overrides)


def _refuse_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not a JSON number")


def read_parameters_file(path: str | None) -> ParameterSource:
    """--parameters-file FILE: a JSON object of parameter values, e.g. {"DesiredCount": 2, "AlarmEmail": "ops@x.org"},
    committed per environment. Values are strings or numbers; anything else is refused, not guessed at."""
    if not path:
        return ParameterSource()
    where = f"--parameters-file {path}"
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise BadInput(f"{where}: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise BadInput(f"{where}: not UTF-8 text") from None
    try:
        data = json.loads(text, parse_constant=_refuse_constant)
    except ValueError as error:
        raise BadInput(f"{where}: not valid JSON ({error})") from None
    if not isinstance(data, dict):
        raise BadInput(f'{where}: must be a JSON object such as {{"DesiredCount": 2}}')
    for key, value in data.items():
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise BadInput(f"{where}: {key} must be a string or a number, not {json.dumps(value)}")
    return ParameterSource({key: str(value) for key, value in data.items()}, prefix=f"{where}: ")


def deployed_values(stack: dict | None) -> dict[str, str] | None:
    """The parameter values a deployed stack holds, or None when there is no stack whose values to keep
    (none yet, or one that is recreated: REVIEW_IN_PROGRESS holds nothing, ROLLBACK_COMPLETE is deleted)."""
    if stack is None or StackStatus(stack["StackStatus"]).holds_nothing:
        return None
    return {p["ParameterKey"]: p.get("ParameterValue", "") for p in stack.get("Parameters", [])}


class StackParameters:
    """The value of each template parameter, from the first of: --parameter, the dedicated flags (`fixed`),
    --parameters-file, the environment's parameters (environments.toml), what the deployer worked out
    (`set_computed`); else, on update, the value the stack
    already has (sent as UsePreviousValue, so a release that sets only --version keeps every operator
    setting); else the template's Default.

    `fixed` values come from dedicated flags (--version, --registry-stack-name) and cannot be set another
    way, so preflight checks and the deployed stack always agree.
    """

    def __init__(
        self,
        template: StackTemplate,
        overrides: ParameterSource,
        fixed: dict[str, str] | None = None,
        flags: dict[str, str] | None = None,
        configured: ParameterSource | None = None,
        environment: ParameterSource | None = None,
    ) -> None:
        self.filename = template.filename
        self.declared = template.parameters
        self.fixed = dict(fixed or {})
        self.overrides = overrides
        self.configured = configured or ParameterSource()
        self.environment = environment or ParameterSource()
        self._computed: dict[str, str] = {}
        self.deployed: dict[str, str] | None = None
        for source in (self.overrides, self.configured, self.environment):
            self._check(source, flags or {})
        for key, value in self.fixed.items():
            self._check_value(key, str(value), f"{(flags or {}).get(key, key)} {str(value)!r}")

    def _check(self, source: ParameterSource, flags: dict[str, str]) -> None:
        unknown = sorted(set(source.values) - set(self.declared))
        if unknown:
            raise BadInput(
                f"{source.prefix}unknown parameter(s) {', '.join(unknown)} for {self.filename}: "
                f"known are {', '.join(sorted(self.declared))}"
            )
        for key in sorted(set(source.values) & set(self.fixed)):
            raise BadInput(f"{source.prefix}{key} is not allowed: use {flags.get(key, 'its dedicated option')}")
        for key, value in source.values.items():
            self._check_value(key, value, source.shown(key, value))

    def _check_value(self, key: str, value: str, shown: str) -> None:
        problem = constraint_violation(value, self.declared.get(key, {}))
        if problem:
            raise BadInput(f"{shown} is not valid for {self.filename}: {key} {problem}")

    def keep_deployed(self, values: dict[str, str] | None) -> None:
        """On update, every parameter the command does not set keeps the value the stack has."""
        self.deployed = values

    def is_explicit(self, key: str) -> bool:
        """The operator set it (--parameter, --parameters-file or the environment): the deployer must not
        decide otherwise."""
        return any(key in source.values for source in (self.overrides, self.configured, self.environment))

    def set_computed(self, key: str, value: str) -> None:
        """A value the deployer worked out (e.g. SentryEnabled); an explicit value still wins."""
        self._computed[key] = value

    def _set_by_command(self, key: str) -> str | None:
        for source in (
            self.overrides.values,
            self.fixed,
            self.configured.values,
            self.environment.values,
            self._computed,
        ):
            if key in source:
                return str(source[key])
        return None

    def keeps_deployed(self, key: str) -> bool:
        return self._set_by_command(key) is None and self.deployed is not None and key in self.deployed

    def get(self, key: str) -> str:
        """The value the stack will have after this deploy."""
        value = self._set_by_command(key)
        if value is not None:
            return value
        if self.deployed is not None and self.keeps_deployed(key):
            return self.deployed[key]
        spec = self.declared.get(key, {})
        if "Default" in spec:
            return str(spec["Default"])
        raise BadInput(f"parameter {key} has no default: pass --parameter {key}=VALUE")

    def values(self) -> dict[str, str]:
        """Every parameter's value after this deploy, by key."""
        return {key: self.get(key) for key in self.declared}

    def as_cloudformation(self) -> list[dict]:
        return [
            {"ParameterKey": key, "UsePreviousValue": True}
            if self.keeps_deployed(key)
            else {"ParameterKey": key, "ParameterValue": self.get(key)}
            for key in self.declared
        ]
