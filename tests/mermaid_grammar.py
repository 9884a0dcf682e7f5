"""The subset of Mermaid flowchart syntax the diagrams write, parsed strictly so a test fails on anything else."""

import re

NODE = re.compile(r'^\s*(\w+)\["([^"]*)"\]$')
SUBGRAPH = re.compile(r'^\s*subgraph (\w+)\["([^"]*)"\]$')
EDGE = re.compile(r"^\s*(\w+) (-->|-\.->)(?:\|([\w .-]+)\|)? (\w+)$")
STYLE = re.compile(r"^\s*(classDef|class) ")
MERMAID_KEYWORDS = {"end", "subgraph", "graph", "flowchart", "style", "class", "classDef", "click"}


def parse(diagram):
    """Nodes (id -> (label, enclosing subgraph labels)) and edges (source, arrow, label, target) of a
    diagram, failing on any line this grammar does not know, unbalanced subgraphs or a reused id."""
    lines = diagram.splitlines()
    assert lines[0] == "flowchart LR"
    nodes, edges, open_subgraphs, ids = {}, set(), [], []
    for line in lines[1:]:
        if match := SUBGRAPH.match(line):
            ids.append(match[1])
            open_subgraphs.append(match[2])
        elif line.strip() == "end":
            assert open_subgraphs, "'end' without a subgraph"
            open_subgraphs.pop()
        elif match := NODE.match(line):
            ids.append(match[1])
            nodes[match[1]] = (match[2], tuple(open_subgraphs))
        elif match := EDGE.match(line):
            edges.add((match[1], match[2], match[3], match[4]))
        else:
            assert STYLE.match(line), f"line not understood: {line!r}"
    assert not open_subgraphs, f"subgraphs left open: {open_subgraphs}"
    assert len(set(ids)) == len(ids), f"ids reused: {sorted(i for i in ids if ids.count(i) > 1)}"
    assert not set(ids) & MERMAID_KEYWORDS
    for source, _, _, target in edges:
        assert source in nodes and target in nodes, f"edge to an undeclared node: {source} {target}"
    return nodes, edges
