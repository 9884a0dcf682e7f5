"""The deployer's layers hold: what renders (render/) and the pure logic (model/) cannot call AWS, because
they cannot reach a client. Read from the source's imports, so a new module is held to it too."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "canary_deploy"
PURE_LAYERS = ("render", "model")
# What a pure module may import from the deployer: each other, the errors, and the names of AWS's records.
ALLOWED_INSIDE = ("canary_deploy.render", "canary_deploy.model", "canary_deploy.errors", "canary_deploy.aws.aws_types")
NEVER = ("boto3", "botocore")


def imported_modules(path: Path) -> set[str]:
    """Every module `path` imports, relative imports made absolute."""
    package = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts[:-1])
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                found.add(f"{base}.{node.module}" if node.module else base)
            else:
                found.add(node.module or "")
    return found


@pytest.mark.parametrize(
    "module", sorted(path for layer in PURE_LAYERS for path in (PACKAGE / layer).glob("*.py")), ids=str
)
def test_pure_layers_cannot_reach_aws(module):
    for name in imported_modules(module):
        assert not name.startswith(NEVER), f"{module.name} imports {name}"
        if name.startswith("canary_deploy"):
            assert name.startswith(ALLOWED_INSIDE), f"{module.name} imports {name}: only render/ and model/ may"


def test_the_check_sees_relative_imports():
    assert "canary_deploy.aws.aws_types" in imported_modules(PACKAGE / "render" / "stack_events.py")
