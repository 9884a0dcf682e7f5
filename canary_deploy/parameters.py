"""Version tag check and stack parameters, every one passed explicitly (no UsePreviousValue traps)."""

import re

from .errors import BadInput


def constraint_violation(value: str, spec: dict) -> str | None:
    """What CloudFormation would say is wrong with a parameter value, from the template's own
    constraints, or None when the value passes. Checked before any AWS call, so a typo costs nothing."""
    if spec.get("Type") == "Number":
        try:
            number = float(value)
        except ValueError:
            return "must be a number"
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


def parse_overrides(pairs):
    overrides = {}
    for pair in pairs or ():
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise BadInput(f"--parameter {pair!r} must look like Key=Value")
        overrides[key] = value
    return overrides


class StackParameters:
    """Value of each template parameter: --parameter override, else what the deployer decided, else Default.

    `fixed` values come from dedicated flags (--version, --registry-stack-name) and cannot be overridden,
    so preflight checks and the deployed stack always agree.
    """

    def __init__(self, template, overrides, fixed=None, flags=None):
        self.declared = template.parameters
        self.fixed = dict(fixed or {})
        self.overrides = dict(overrides)
        self._computed = {}
        unknown = sorted(set(self.overrides) - set(self.declared))
        if unknown:
            raise BadInput(
                f"unknown parameter(s) {', '.join(unknown)} for {template.filename}: "
                f"known are {', '.join(sorted(self.declared))}"
            )
        for key in sorted(set(self.overrides) & set(self.fixed)):
            flag = (flags or {}).get(key, "its dedicated option")
            raise BadInput(f"--parameter {key}=... is not allowed: use {flag}")
        for key, value in {**self.overrides, **self.fixed}.items():
            problem = constraint_violation(str(value), self.declared.get(key, {}))
            if problem:
                given = (flags or {}).get(key, f"--parameter {key}=")
                shown = f"{given}{value}" if given.endswith("=") else f"{given} {value!r}"
                raise BadInput(f"{shown} is not valid for {template.filename}: {key} {problem}")

    def is_overridden(self, key):
        return key in self.overrides

    def set_computed(self, key, value):
        """A value the deployer worked out (e.g. SentryEnabled); an explicit --parameter still wins."""
        self._computed[key] = value

    def get(self, key):
        for source in (self.overrides, self.fixed, self._computed):
            if key in source:
                return str(source[key])
        spec = self.declared.get(key, {})
        if "Default" in spec:
            return str(spec["Default"])
        raise BadInput(f"parameter {key} has no default: pass --parameter {key}=VALUE")

    def as_cloudformation(self):
        return [{"ParameterKey": key, "ParameterValue": self.get(key)} for key in self.declared]
