"""moto fix: a parameter's previous value is the value the stack was given, as on AWS.

moto answers UsePreviousValue with the value it *resolved*: for an `AWS::SSM::Parameter::Value<String>`
parameter that is the Parameter Store value, which it then looks up again as a name and fails; for a
Number it is an int, so an unchanged update is not recognised as one. describe_stacks shows the resolved
value too, where AWS shows the name given and the value as ResolvedValue.
"""

from __future__ import annotations

SSM_PARAMETER_TYPE_PREFIX = "AWS::SSM::Parameter::"


def stack_parameters(self) -> dict[str, str]:
    """Why: UsePreviousValue takes what the stack was given, or the default it took; moto's resolved values
    break SSM types."""
    values = {key: str(spec["Default"]) for key, spec in _declared(self).items() if "Default" in spec}
    values.update(self.parameters)
    return values


def parameter_list(moto_parameter_list, self) -> list[dict]:
    """Why: AWS shows an SSM-typed parameter's name as ParameterValue and what it resolved to as ResolvedValue."""
    declared = _declared(self)
    listed = []
    for entry in moto_parameter_list(self):
        key = entry["ParameterKey"]
        if declared.get(key, {}).get("Type", "").startswith(SSM_PARAMETER_TYPE_PREFIX):
            entry = {**entry, "ParameterValue": stack_parameters(self)[key], "ResolvedValue": entry["ParameterValue"]}
        listed.append(entry)
    return listed


def _declared(stack) -> dict:
    return (stack.template_dict or {}).get("Parameters") or {}
