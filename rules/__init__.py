"""The project's own cfn-lint rules (ECS hardening, IAM wildcards), ids E9101-E9111 and W9102, and the
evaluation of conditions and Fn::If they share with the diagram and the tests (`Conditions`).

From the command line: `cfn-lint --append-rules rules/ --include-checks I -- output/*Stack.json`.
In process: `cfnlint.api.lint(text, config=rules.lint_config())`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from rules._conditions import ABSENT, Branch, Conditions, both, every_value

if TYPE_CHECKING:  # a TypedDict: at run time a plain dict, so importing this package stays cheap
    from cfnlint.api import ManualArgs

# cfn-lint imports every rule module in this folder by path; files starting with "_" are skipped, so the
# shared code lives in _conditions.py.
__all__ = ["ABSENT", "Branch", "Conditions", "RULES_DIR", "both", "every_value", "lint_config"]
RULES_DIR = Path(__file__).resolve().parent


def lint_config(**overrides) -> ManualArgs:
    """cfn-lint settings that add this folder's rules and the informational (I) checks."""
    return {"append_rules": [str(RULES_DIR)], "include_checks": ["I"], **overrides}
