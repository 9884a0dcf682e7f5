"""An output directory as generate.py leaves it, for templates the tests write themselves."""

from pathlib import Path

from manifest import MANIFEST_FILE, PROJECT_ROOT, manifest_text


def write_output(directory: Path, templates: dict[str, str], root: Path = PROJECT_ROOT) -> None:
    """Write `templates` (file name -> text) and the manifest generate.py would write with them."""
    directory.mkdir(exist_ok=True)
    for name, text in templates.items():
        (directory / name).write_text(text, encoding="utf-8")
    (directory / MANIFEST_FILE).write_text(manifest_text(templates, root), encoding="utf-8")
