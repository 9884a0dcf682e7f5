"""Mermaid text shared by the diagrams: escaped labels, and the marked block generate.py keeps in step in
README.md and docs/architecture.md (embed_block: any such generated block, the diagram's or another's)."""

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
    return embed_block(page_text, DIAGRAM_BEGIN, DIAGRAM_END, f"```mermaid\n{diagram.rstrip()}\n```")


def embed_block(page_text: str, begin_marker: str, end_marker: str, block: str) -> str:
    """Replace what lies between two marker lines of a page with `block` (generated text kept in step)."""
    begin = page_text.find(begin_marker)
    end = page_text.find(end_marker)
    if begin < 0 or end < begin:
        raise ValueError(f"no '{begin_marker}' ... '{end_marker}' block: add both markers where it belongs")
    return page_text[: begin + len(begin_marker)] + f"\n{block.rstrip()}\n" + page_text[end:]
