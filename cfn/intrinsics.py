"""Intrinsic functions as CloudFormation reads them: the names a template value refers to, and Fn::Sub text."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

# `${Name}` or `${Resource.Attribute}`; `${!Literal}` is an escape that renders as `${Literal}`.
SUB_VARIABLE = re.compile(r"\$\{([^!}][^}]*)\}")
SUB_PLACEHOLDER = re.compile(r"\$\{(!?)([^}]*)\}")
PSEUDO_PREFIX = "AWS::"


def sub_arguments(argument: Any) -> tuple[str, dict[str, Any]]:
    """An Fn::Sub's text and its own variables: `"text"` or `["text", {"Name": value}]`."""
    return (argument, {}) if isinstance(argument, str) else (argument[0], argument[1])


def render_sub(text: str, value_of: Callable[[str], str]) -> str:
    """Fn::Sub's text with each variable replaced by value_of(name) and each escape rendered as CloudFormation
    renders it."""
    return SUB_PLACEHOLDER.sub(
        lambda match: "${" + match.group(2) + "}" if match.group(1) else value_of(match.group(2)), text
    )


def references(value: Any) -> set[str]:
    """The logical names (resources and parameters) a template value refers to: Ref, Fn::GetAtt and Fn::Sub
    variables, pseudo parameters left out."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "Ref" and isinstance(item, str):
                found.add(item)
            elif key == "Fn::GetAtt":
                found.add(item[0] if isinstance(item, list) else item.split(".")[0])
            elif key == "Fn::Sub":
                text, variables = sub_arguments(item)
                found.update(name.split(".")[0] for name in SUB_VARIABLE.findall(text) if name not in variables)
                found |= references(variables)
            else:
                found |= references(item)
    elif isinstance(value, list):
        for item in value:
            found |= references(item)
    return {name for name in found if not name.startswith(PSEUDO_PREFIX)}
