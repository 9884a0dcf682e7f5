"""Mermaid text shared by the diagrams: escaped labels, and the marked block generate.py keeps in step in
README.md and docs/architecture.md."""

import re

DIAGRAM_BEGIN = "<!-- architecture:begin -->"
DIAGRAM_END = "<!-- architecture:end -->"


def label(text: str) -> str:
    """A quoted Mermaid label; '#', quotes and angle brackets as entities (<br/> stays a line break)."""
    text = text.replace("#", "#35;").replace('"', "#quot;")
    text = text.replace("<br/>", "\0").replace("<", "#lt;").replace(">", "#gt;").replace("\0", "<br/>")
    return f'"{text}"'


def edge_label(text: str) -> str:
    return re.sub(r"[^\w .-]", "_", text, flags=re.ASCII)


def embed_diagram(page_text: str, diagram: str) -> str:
    """Replace what lies between the architecture markers with the diagram in a mermaid fence."""
    begin = page_text.find(DIAGRAM_BEGIN)
    end = page_text.find(DIAGRAM_END)
    if begin < 0 or end < begin:
        raise ValueError(f"no '{DIAGRAM_BEGIN}' ... '{DIAGRAM_END}' block: add both markers where the diagram belongs")
    fenced = f"\n```mermaid\n{diagram.rstrip()}\n```\n"
    return page_text[: begin + len(DIAGRAM_BEGIN)] + fenced + page_text[end:]
