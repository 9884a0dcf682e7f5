"""The project's rules from cfn-lint's own command line, as `make security` and a reviewer run them."""

import copy
import json
import subprocess
import sys
from pathlib import Path

from tests.unit.test_rules import CONTAINER, WORKER, _set

ROOT = Path(__file__).resolve().parents[2]
CFN_LINT = Path(sys.executable).with_name("cfn-lint")


def test_cli_loads_the_rules_folder(tmp_path):
    bad = copy.deepcopy(WORKER)
    _set(bad, CONTAINER + ["Privileged"], True)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad))
    result = subprocess.run(
        [str(CFN_LINT), "--append-rules", "rules", "--include-checks", "I", "--", str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "E9103 ECS container runs privileged" in result.stdout
