"""--outputs-file and --verdict-file: proven writable before anything changes, written whole (never half) at
the end."""

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from ..errors import BadInput
from ..model.stack_outputs import outputs_of
from .verdict import Verdict


class JsonFile:
    """The file is replaced atomically by a temporary file in the same directory, so what is proven up
    front (that such a file can be created there) is exactly what writing needs at the end."""

    option = "--file"

    def __init__(self, path: str):
        self.path = Path(path)

    def check_writable(self) -> None:
        where = f"{self.option} {self.path}"
        if self.path.is_dir():
            raise BadInput(f"{where} is a directory: name a file in it, e.g. {self.path / 'result.json'}")
        if not self.path.resolve().parent.is_dir():
            raise BadInput(f"{where}: its directory does not exist")
        try:
            with tempfile.NamedTemporaryFile(dir=self.path.resolve().parent, prefix=".deploy-"):
                pass
        except OSError as error:
            raise BadInput(f"{where}: cannot write in its directory ({error.strerror or error})") from None

    def write_json(self, data: Any) -> None:
        text = json.dumps(data, indent=2) + "\n"
        directory = self.path.resolve().parent
        descriptor, temporary = tempfile.mkstemp(dir=directory, prefix=".deploy-")
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                handle.write(text)
            os.chmod(temporary, 0o644)
            os.replace(temporary, self.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise


class OutputsFile(JsonFile):
    option = "--outputs-file"

    def write(self, stack: dict) -> None:
        """Like cdk's: {"StackName": {"OutputKey": "value"}}."""
        self.write_json({stack["StackName"]: outputs_of(stack)})


class VerdictFile(JsonFile):
    """The canary's verdict for CI (the release workflow's report-verdicts.py reads it)."""

    option = "--verdict-file"

    def write(self, verdict: Verdict) -> None:
        self.write_json(
            {
                "version": verdict.version,
                "outcome": verdict.outcome.value,
                "verdict": verdict.line(),
                "cause": verdict.cause,
                "consequence": verdict.consequence,
                "watched_seconds": round(verdict.watched),
                "max_lag": verdict.max_lag,
                "running_tasks": verdict.running,
                "desired_tasks": verdict.desired,
            }
        )
