"""The import rules of ARCHITECTURE.md, read from the source: every import counts, deferred ones too."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "handlers", "modals", "store")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for package in PACKAGES for p in sorted((ROOT / package).rglob("*.py"))}


def _ours(name: str) -> str | None:
    """The module of ours that `name` (a module, or a name inside one) comes from."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _runtime_nodes(tree: ast.AST) -> list[ast.AST]:
    """Every node, deferred imports included, but not what `if TYPE_CHECKING:` hides (annotations only)."""
    found, todo = [], [tree]
    while todo:
        node = todo.pop()
        found.append(node)
        if (
            isinstance(node, ast.If)
            and getattr(node.test, "id", getattr(node.test, "attr", None)) == "TYPE_CHECKING"
        ):
            todo.extend(node.orelse)
            continue
        todo.extend(ast.iter_child_nodes(node))
    return found


def _imports(module: str) -> set[str]:
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in _runtime_nodes(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package
                for _ in range(node.level - 1):
                    anchor = anchor.rpartition(".")[0]
                base = f"{anchor}.{base}".rstrip(".")
            names = [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        found.update(t for t in map(_ours, names) if t and t != module)
    return found


GRAPH = {module: _imports(module) for module in MODULES}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_graph_is_read():
    assert GRAPH["handlers.shortlist"] >= {"bot.delivery.surfaces", "handlers.engagements", "store.models"}
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_circle():
    assert _cycles(GRAPH) == []


def test_only_the_app_factory_reaches_up_to_the_listeners():
    reaching = sorted(m for m, targets in GRAPH.items() if m.startswith("bot.") and _in(targets, "handlers"))
    assert reaching == ["bot.app"]


def _in(targets: set[str], package: str) -> bool:
    return any(t == package or t.startswith(package + ".") for t in targets)


def test_builders_never_import_the_store():
    """modals/ renders plain records (bot/flows/records.py, bot/flows/audience.py): no ORM row, no session, no lazy load."""
    reaching = {m: sorted(t for t in GRAPH[m] if t.split(".")[0] == "store") for m in GRAPH}
    assert {m: found for m, found in reaching.items() if m.startswith("modals") and found} == {}


def test_the_store_imports_only_the_vocabulary():
    reaching = {
        m: sorted(t for t in GRAPH[m] if t.split(".")[0] == "bot") for m in GRAPH if m.startswith("store")
    }
    assert {m: found for m, found in reaching.items() if set(found) - {"bot.rules.vocabulary"}} == {}


# The floors of ARCHITECTURE.md: a module imports only from its own floor or below.
FLOORS = {
    0: ("bot.text", "bot.clock", "bot.errors", "modals.kit", "modals.ids", "modals.wire"),
    1: ("bot.rules",),
    2: ("store", "bot.settings", "bot.logs", "bot.slack_client", "bot.verification", "bot.cs_team"),
    3: ("bot.flows", "bot.exchange", "bot.reporting"),
    4: ("modals",),
    5: ("bot.delivery",),
    6: ("handlers", "bot.deps"),
    7: ("bot", "bot.app", "bot.cli", "bot.web", "bot.preflight", "bot.__main__", "bot.demo"),
}
STATEFUL = ("sqlalchemy", "slack_sdk", "slack_bolt")  # a rule holds no session and calls no Slack
ROOMS = ("bot.rules", "bot.flows", "bot.exchange", "bot.delivery", "bot.reporting", "bot.demo")


def floor_of(module: str) -> int:
    """The floor of the longest prefix `module` falls under."""
    best = max(
        ((prefix, floor) for floor, prefixes in FLOORS.items() for prefix in prefixes if _in({module}, prefix)),
        key=lambda found: len(found[0]),
    )
    return best[1]


def test_every_module_has_a_floor_and_bot_keeps_only_plumbing_at_the_top():
    assert {m: floor_of(m) for m in GRAPH}  # raises if a module falls under no floor
    top = sorted(m for m in GRAPH if m.count(".") == 1 and m.startswith("bot.") and m not in ROOMS)
    plumbing = [p for f in (0, 2, 6, 7) for p in FLOORS[f] if p.count(".") == 1 and p.startswith("bot.")]
    assert top == sorted(p for p in plumbing if p not in ROOMS)


def test_nothing_imports_from_a_floor_above_its_own():
    upward = sorted(f"{m} -> {t}" for m, targets in GRAPH.items() for t in targets if floor_of(t) > floor_of(m))
    assert upward == []


def test_the_rules_touch_no_store_no_slack_and_only_the_cli_plays_the_demo():
    for module, targets in GRAPH.items():
        if _in({module}, "bot.rules"):
            assert not _in(targets, "store") and not _in(targets, "handlers"), module
            source = MODULES[module].read_text(encoding="utf-8")
            assert not any(f"import {lib}" in source or f"from {lib}" in source for lib in STATEFUL), module
    players = sorted(m for m, targets in GRAPH.items() if _in(targets, "bot.demo") and not _in({m}, "bot.demo"))
    assert players == ["bot.cli"]


def test_each_room_says_what_lives_there_in_its_docstring():
    for room in ROOMS:
        doc = ast.get_docstring(ast.parse(MODULES[room].read_text(encoding="utf-8")))
        assert doc and "import" in doc, room
