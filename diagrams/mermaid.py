"""Mermaid text shared by the diagrams: escaped labels, and the README block generate.py keeps in step."""

import re

README_BEGIN = "<!-- architecture:begin -->"
README_END = "<!-- architecture:end -->"


def label(text: str) -> str:
    """A quoted Mermaid label; '#', quotes and angle brackets as entities (<br/> stays a line break)."""
    text = text.replace("#", "#35;").replace('"', "#quot;")
    text = text.replace("<br/>", "\0").replace("<", "#lt;").replace(">", "#gt;").replace("\0", "<br/>")
    return f'"{text}"'


def edge_label(text: str) -> str:
    return re.sub(r"[^\w .-]", "_", text, flags=re.ASCII)


def embed_in_readme(readme_text: str, diagram: str) -> str:
    """Replace what lies between the architecture markers with the diagram in a mermaid fence."""
    begin = readme_text.find(README_BEGIN)
    end = readme_text.find(README_END)
    if begin < 0 or end < begin:
        raise ValueError(
            f"README has no '{README_BEGIN}' ... '{README_END}' block: add both markers where the diagram belongs"
        )
    fenced = f"\n```mermaid\n{diagram.rstrip()}\n```\n"
    return readme_text[: begin + len(README_BEGIN)] + fenced + readme_text[end:]
