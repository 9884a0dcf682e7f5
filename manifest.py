"""output/manifest.json: what generate.py rendered the templates from, so the deployer can tell a stale
template without rendering (no troposphere, awacs or cfn-lint import). Standard library only.

The inputs are the template sources (templates/**/*.py, contract.py, and lambda_functions/**/*.py, whose
source the templates embed), by path relative to the project
root; the templates are the files generate.py wrote, by name. Each with its SHA-256.
"""

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

MANIFEST_FILE = "manifest.json"
PROJECT_ROOT = Path(__file__).resolve().parent
# What the rendered templates depend on inside the project (troposphere's and awacs' versions are pinned
# by setup.cfg; `generate.py --check` in CI catches a version that renders differently).
INPUT_PATTERNS = ("contract.py", "templates/**/*.py", "lambda_functions/**/*.py")


def sha256(data: bytes | str) -> str:
    return hashlib.sha256(data.encode("utf-8") if isinstance(data, str) else data).hexdigest()


def input_digests(root: Path = PROJECT_ROOT) -> dict[str, str]:
    """The digest of every template source under root, by its path relative to root."""
    paths = sorted({path for pattern in INPUT_PATTERNS for path in root.glob(pattern) if path.is_file()})
    return {path.relative_to(root).as_posix(): sha256(path.read_bytes()) for path in paths}


def manifest_text(templates: dict[str, str], root: Path = PROJECT_ROOT) -> str:
    """The manifest generate.py writes beside `templates` (file name -> text), rendered from root's inputs."""
    manifest = {"inputs": input_digests(root), "templates": {name: sha256(text) for name, text in templates.items()}}
    return json.dumps(manifest, indent=2, sort_keys=True) + "\n"


@dataclass(frozen=True)
class Manifest:
    inputs: dict[str, str]
    templates: dict[str, str]

    @classmethod
    def parse(cls, text: str) -> "Manifest":
        """Raises ValueError when text is not a manifest."""
        data = json.loads(text)
        if not isinstance(data, dict) or not all(isinstance(data.get(key), dict) for key in ("inputs", "templates")):
            raise ValueError("expected an object with 'inputs' and 'templates'")
        return cls(inputs=data["inputs"], templates=data["templates"])

    def changed_inputs(self, root: Path = PROJECT_ROOT) -> list[str]:
        """The template sources added, removed or edited since generate.py wrote this manifest."""
        current = input_digests(root)
        return sorted(
            path for path in self.inputs.keys() | current.keys() if self.inputs.get(path) != current.get(path)
        )
