"""Templates from output/: refused when stale against templates/, uploaded to S3 when too big to inline."""

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from .errors import BadInput

TEMPLATE_FILES = {"registry": "RegistryStack.json", "app": "AppStack.json"}
# CloudFormation's limit for TemplateBody; bigger templates must be passed as a TemplateURL in S3.
MAX_INLINE_TEMPLATE_BYTES = 51_200


@dataclass(frozen=True)
class StackTemplate:
    filename: str
    body: str

    @property
    def data(self):
        return json.loads(self.body)

    @property
    def parameters(self):
        return self.data.get("Parameters", {})

    @property
    def resource_types(self):
        return [resource["Type"] for resource in self.data.get("Resources", {}).values()]


def render_current_templates():
    """What generate.py would write now; imported lazily so deploy.py starts fast and tests can swap it."""
    from generate import render_templates

    return render_templates()


class TemplateSource:
    def __init__(self, output_dir, render=None):
        self.output_dir = Path(output_dir)
        self.render = render or render_current_templates
        self._rendered = None

    def load(self, kind):
        filename = TEMPLATE_FILES[kind]
        path = self.output_dir / filename
        shown = f"{self.output_dir.name}/{filename}"
        if not path.is_file():
            raise BadInput(f"{shown} not found: run `python generate.py` first")
        body = path.read_text(encoding="utf-8")
        if body != self._current(filename):
            raise BadInput(f"{shown} is stale against templates/: run `python generate.py` and retry")
        return StackTemplate(filename, body)

    def _current(self, filename):
        if self._rendered is None:
            self._rendered = {Path(name).name: text for name, text in self.render().items()}
        if filename not in self._rendered:
            raise BadInput(f"generate.py does not build {filename}: check templates/ and generate.py")
        return self._rendered[filename]


def template_argument(template, stack_name, s3_bucket, clients):
    """TemplateBody when it fits, else upload to --s3-bucket and pass TemplateURL."""
    size = len(template.body.encode("utf-8"))
    if size <= MAX_INLINE_TEMPLATE_BYTES:
        return {"TemplateBody": template.body}
    if not s3_bucket:
        raise BadInput(
            f"{template.filename} is {size:,} bytes, over CloudFormation's {MAX_INLINE_TEMPLATE_BYTES:,}-byte "
            "limit for inline templates: pass --s3-bucket BUCKET to upload it"
        )
    digest = hashlib.sha256(template.body.encode("utf-8")).hexdigest()[:16]
    key = f"{stack_name}/{digest}.json"
    clients.s3.put_object(Bucket=s3_bucket, Key=key, Body=template.body.encode("utf-8"))
    return {"TemplateURL": f"https://{s3_bucket}.s3.{clients.region}.amazonaws.com/{key}"}
