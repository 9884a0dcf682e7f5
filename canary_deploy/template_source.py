"""Templates from output/: refused when stale against templates/, uploaded to S3 when too big to inline."""

import hashlib
import importlib.util
import json
import sys
from dataclasses import dataclass
from pathlib import Path

from contract import MAX_INLINE_TEMPLATE_BYTES, TEMPLATE_FILES

from .errors import BadInput


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


def sha256(text):
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class RenderCache:
    """Remembers the digests generate.py rendered for given inputs, so a deploy whose templates/ did not
    change skips importing troposphere and rendering (~0.1 s of every run). The key covers everything the
    rendering depends on: generate.py, templates/**.py, troposphere's and awacs' __init__.py (which carry
    their versions) and the Python version."""

    def __init__(self, project_root, cache_file):
        self.project_root = Path(project_root)
        self.cache_file = Path(cache_file)

    def digests(self, render):
        key = self._inputs_key()
        try:
            cached = json.loads(self.cache_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            cached = {}
        if cached.get("key") == key:
            return cached["digests"]
        digests = {Path(name).name: sha256(text) for name, text in render().items()}
        try:
            self.cache_file.parent.mkdir(parents=True, exist_ok=True)
            self.cache_file.write_text(json.dumps({"key": key, "digests": digests}), encoding="utf-8")
        except OSError:
            pass  # a cache that cannot be written only costs time
        return digests

    def _inputs_key(self):
        inputs = [self.project_root / "generate.py", *sorted((self.project_root / "templates").rglob("*.py"))]
        inputs += [Path(importlib.util.find_spec(package).origin) for package in ("troposphere", "awacs")]
        digest = hashlib.sha256(sys.version.encode())
        for path in inputs:
            digest.update(str(path.name).encode())
            digest.update(path.read_bytes())
        return digest.hexdigest()


class TemplateSource:
    def __init__(self, output_dir, render=None, cache=None):
        self.output_dir = Path(output_dir)
        self.render = render or render_current_templates
        self.cache = cache
        self._digests = None

    def load(self, kind):
        filename = TEMPLATE_FILES[kind]
        path = self.output_dir / filename
        shown = f"{self.output_dir.name}/{filename}"
        if not path.is_file():
            raise BadInput(f"{shown} not found: run `python generate.py` first")
        body = path.read_text(encoding="utf-8")
        if sha256(body) != self._current_digest(filename):
            raise BadInput(f"{shown} is stale against templates/: run `python generate.py` and retry")
        return StackTemplate(filename, body)

    def _current_digest(self, filename):
        if self._digests is None:
            if self.cache:
                self._digests = self.cache.digests(self.render)
            else:
                self._digests = {Path(name).name: sha256(text) for name, text in self.render().items()}
        if filename not in self._digests:
            raise BadInput(f"generate.py does not build {filename}: check templates/ and generate.py")
        return self._digests[filename]


def template_argument(template, stack_name, s3_bucket, clients):
    """TemplateBody when it fits, as committed or else without the indentation (the same template: output/
    stays readable for review, and only what CloudFormation receives is compact); else upload to
    --s3-bucket and pass TemplateURL."""
    compact = json.dumps(template.data, separators=(",", ":"), ensure_ascii=False)
    for body in (template.body, compact):
        if len(body.encode("utf-8")) <= MAX_INLINE_TEMPLATE_BYTES:
            return {"TemplateBody": body}
    if not s3_bucket:
        raise BadInput(
            f"{template.filename} is {len(compact.encode('utf-8')):,} bytes even without indentation, over "
            f"CloudFormation's {MAX_INLINE_TEMPLATE_BYTES:,}-byte limit for inline templates: pass --s3-bucket "
            "BUCKET to upload it"
        )
    digest = hashlib.sha256(template.body.encode("utf-8")).hexdigest()[:16]
    key = f"{stack_name}/{digest}.json"
    clients.s3.put_object(Bucket=s3_bucket, Key=key, Body=template.body.encode("utf-8"))
    return {"TemplateURL": f"https://{s3_bucket}.s3.{clients.region}.amazonaws.com/{key}"}
