"""moto fix: a parameter's previous value is the value the stack was given, as on AWS.

moto answers UsePreviousValue with the value it *resolved*: for an `AWS::SSM::Parameter::Value<String>`
parameter that is the Parameter Store value, which it then looks up again as a name and fails; for a
Number it is an int, so an unchanged update is not recognised as one. describe_stacks shows the resolved
value too, where AWS shows the name given and the value as ResolvedValue; and a list parameter
(CommaDelimitedList, List<...>) as Python's repr of the list, where AWS shows the values as given, comma-separated
(ParameterValue is a string).
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
    """Why: AWS shows an SSM-typed parameter's name as ParameterValue and what it resolved to as ResolvedValue,
    and a list parameter's values as given."""
    declared = _declared(self)
    listed = []
    for entry in moto_parameter_list(self):
        key = entry["ParameterKey"]
        kind = declared.get(key, {}).get("Type", "")
        if kind.startswith(SSM_PARAMETER_TYPE_PREFIX):
            entry = {**entry, "ParameterValue": stack_parameters(self)[key], "ResolvedValue": entry["ParameterValue"]}
        elif kind == "CommaDelimitedList" or kind.startswith("List<"):
            entry = {**entry, "ParameterValue": stack_parameters(self)[key]}
        listed.append(entry)
    return listed


def _declared(stack) -> dict:
    return (stack.template_dict or {}).get("Parameters") or {}
