"""Diagrams drawn from the rendered templates, for generate.py: the overview of the data flow
(overview.py, a declared view) and the full resource graph (resource_graph.py, output/architecture.mmd)."""

from .mermaid import DIAGRAM_BEGIN, DIAGRAM_END, embed_block, embed_diagram
from .overview import build_overview
from .resource_graph import build_diagram

__all__ = ["DIAGRAM_BEGIN", "DIAGRAM_END", "build_diagram", "build_overview", "embed_block", "embed_diagram"]
