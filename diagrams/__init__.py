"""Diagrams drawn from the rendered templates, for generate.py: the README's overview of the data flow
(overview.py, a declared view) and the full resource graph (resource_graph.py, output/architecture.mmd)."""

from .mermaid import README_BEGIN, README_END, embed_in_readme
from .overview import build_overview
from .resource_graph import build_diagram

__all__ = ["README_BEGIN", "README_END", "build_diagram", "build_overview", "embed_in_readme"]
