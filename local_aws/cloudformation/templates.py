"""Templates and their parameters read as CloudFormation reads them, where moto 5.2.5 differs.

- A `Number` parameter left at its default stays a string in moto (given values become numbers), so e.g.
  an ECS service's DesiredCount default fails with TypeError. It is a number, as the template declares.
- For speed only: moto reads every template body with PyYAML's pure-Python loader, JSON ones too, for each
  change set and stack: 0.17 s for the AppStack template, where json reads it in 0.5 ms. JSON is YAML, so a
  JSON body read as JSON gives the same dict.
"""

from __future__ import annotations

import json


def parse_template(moto_parse_template, template: str) -> dict:
    if template.lstrip().startswith("{"):
        try:
            return json.loads(template)
        except ValueError:  # a YAML flow mapping: moto's reading, and its errors
            pass
    return moto_parse_template(template)


def parse_change_set_template(self) -> None:
    """A change set's template, read as a stack's is (moto's reads YAML always)."""
    from moto.cloudformation.models import Stack

    self.template_dict = Stack.parse_template(self.template)


def load_parameters(moto_load_parameters, self) -> None:
    moto_load_parameters(self)
    for name, spec in self._template.get("Parameters", {}).items():
        value = self.resolved_parameters.get(name)
        if spec.get("Type") == "Number" and isinstance(value, str):
            number = float(value)
            self.resolved_parameters[name] = self._parsed_resources[name] = (
                int(number) if number.is_integer() else number
            )
