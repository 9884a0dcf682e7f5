"""A stack's template as generated into output/: its file name and text, parsed on demand."""

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class StackTemplate:
    filename: str
    body: str

    @property
    def data(self) -> dict[str, Any]:
        return json.loads(self.body)

    @property
    def parameters(self) -> dict[str, dict[str, Any]]:
        return self.data.get("Parameters", {})
