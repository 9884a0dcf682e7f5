"""Templates from output/: refused when stale against templates/ (by output/manifest.json), uploaded to S3 when
too big to inline."""

import json
from pathlib import Path
from typing import TYPE_CHECKING

from contract import MAX_INLINE_TEMPLATE_BYTES, TEMPLATE_FILES
from manifest import MANIFEST_FILE, PROJECT_ROOT, Manifest, sha256

from ..errors import BadInput
from ..model.stack_template import StackTemplate

if TYPE_CHECKING:
    from .session import AwsClients


class TemplateSource:
    """The templates in output_dir, each checked against the manifest generate.py wrote beside them: a
    template edited by hand, or rendered from template sources that changed since, is refused."""

    def __init__(self, output_dir: str | Path, project_root: Path = PROJECT_ROOT):
        self.output_dir = Path(output_dir)
        self.project_root = project_root
        self._manifest: Manifest | None = None

    def load(self, kind: str) -> StackTemplate:
        filename = TEMPLATE_FILES[kind]
        path = self.output_dir / filename
        shown = self._shown(filename)
        if not path.is_file():
            raise BadInput(f"{shown} not found: run `python generate.py` first")
        body = path.read_text(encoding="utf-8")
        manifest = self._load_manifest()
        if filename not in manifest.templates:
            raise BadInput(f"{self._shown(MANIFEST_FILE)} lists no {filename}: run `python generate.py` and retry")
        changed = manifest.changed_inputs(self.project_root)
        if changed:
            raise BadInput(
                f"{shown} is stale against templates/ ({changed[0]} changed since generate.py ran): "
                "run `python generate.py` and retry"
            )
        if sha256(body) != manifest.templates[filename]:
            raise BadInput(f"{shown} differs from what generate.py wrote: run `python generate.py` and retry")
        return StackTemplate(filename, body)

    def _shown(self, filename: str) -> str:
        return f"{self.output_dir.name}/{filename}"

    def _load_manifest(self) -> Manifest:
        if self._manifest is None:
            path = self.output_dir / MANIFEST_FILE
            try:
                self._manifest = Manifest.parse(path.read_text(encoding="utf-8"))
            except FileNotFoundError:
                raise BadInput(f"{self._shown(MANIFEST_FILE)} not found: run `python generate.py` first") from None
            except (OSError, ValueError) as error:
                raise BadInput(
                    f"{self._shown(MANIFEST_FILE)} is unreadable ({error}): run `python generate.py` and retry"
                ) from None
        return self._manifest


def template_argument(
    template: StackTemplate, stack_name: str, s3_bucket: str | None, clients: "AwsClients"
) -> dict[str, str]:
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
    digest = sha256(template.body)[:16]
    key = f"{stack_name}/{digest}.json"
    clients.s3.put_object(Bucket=s3_bucket, Key=key, Body=template.body.encode("utf-8"))
    return {"TemplateURL": f"https://{s3_bucket}.s3.{clients.region}.amazonaws.com/{key}"}
