"""The project's own cfn-lint rules (ECS hardening, IAM wildcards), ids E9101-E9111 and W9102. They evaluate
conditions and Fn::If with cfn.conditions, as the deployer, the diagrams and the tests do.

From the command line: `cfn-lint --append-rules rules/ --include-checks I -- output/*Stack.json`.
In process: `cfnlint.api.lint(text, config=rules.lint_config())`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # a TypedDict: at run time a plain dict, so importing this package stays cheap
    from cfnlint.api import ManualArgs

# cfn-lint imports every rule module in this folder by path: only rules live here.
__all__ = ["RULES_DIR", "lint_config"]
RULES_DIR = Path(__file__).resolve().parent


def lint_config(**overrides) -> ManualArgs:
    """cfn-lint settings that add this folder's rules and the informational (I) checks."""
    return {"append_rules": [str(RULES_DIR)], "include_checks": ["I"], **overrides}
