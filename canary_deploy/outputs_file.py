"""--outputs-file: proven writable before anything changes, written whole (never half) at the end."""

import json
import os
import tempfile
from pathlib import Path

from .errors import BadInput
from .stack_state import outputs_of


class OutputsFile:
    """The file is replaced atomically by a temporary file in the same directory, so what is proven up
    front (that such a file can be created there) is exactly what writing needs at the end."""

    def __init__(self, path: str):
        self.path = Path(path)

    def check_writable(self) -> None:
        where = f"--outputs-file {self.path}"
        if self.path.is_dir():
            raise BadInput(f"{where} is a directory: name a file in it, e.g. {self.path / 'outputs.json'}")
        if not self.path.resolve().parent.is_dir():
            raise BadInput(f"{where}: its directory does not exist")
        try:
            with tempfile.NamedTemporaryFile(dir=self.path.resolve().parent, prefix=".outputs-"):
                pass
        except OSError as error:
            raise BadInput(f"{where}: cannot write in its directory ({error.strerror or error})") from None

    def write(self, stack: dict) -> None:
        """Like cdk's: {"StackName": {"OutputKey": "value"}}."""
        text = json.dumps({stack["StackName"]: outputs_of(stack)}, indent=2) + "\n"
        directory = self.path.resolve().parent
        descriptor, temporary = tempfile.mkstemp(dir=directory, prefix=".outputs-")
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                handle.write(text)
            os.chmod(temporary, 0o644)
            os.replace(temporary, self.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
