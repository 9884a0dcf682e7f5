"""Version tag check and stack parameters, every one passed explicitly (no UsePreviousValue traps)."""

import re

from .errors import BadInput

# ECR's image tag grammar; checked before any AWS call so a typo costs nothing.
IMAGE_TAG = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9._-]{0,127}")


def validate_version(version):
    if not IMAGE_TAG.fullmatch(version):
        raise BadInput(
            f"--version {version!r} is not a valid image tag: use 1 to 128 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit (e.g. 1.16.0-beta.12-5f5d22f1)"
        )
    return version


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
