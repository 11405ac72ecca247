"""The shape of the imports, read from the source with ``ast`` (nothing is imported).

- no import cycle inside ``plugins/sync_apis``, counting imports inside functions too (a lazy
  import hides a cycle from Python, not from the reader);
- no private name (``_x``) imported from another module, by the package or by ``dags/``;
- DAG-facing modules are the ones named ``dag_*`` (``dag_defaults``, ``dag_tasks``,
  ``<source>/dag_tasks``, ``<source>/dag_params``): ``dags/`` may import them, no other module
  of the package may;
- ``dags/`` imports no library internals it does not need: only ``sync_apis`` modules;
- test modules, conftest files and the benchmarks take their helpers from ``tests.support`` only,
  never from a conftest or another test module (issue 10, point 7): a conftest is the plugin
  pytest loads for its directory (fixtures, hooks), not a library, and a helper left in a test
  module is found only by whoever happens to read that module's tests.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PLUGINS = REPO / "plugins"
PACKAGE = "sync_apis"
DAGS = REPO / "dags"
TESTS = REPO / "tests"
SUPPORT = "tests.support"


@dataclass(frozen=True)
class Import:
    importer: str  # module name, or the DAG file's path
    target: str  # the module imported
    names: tuple[str, ...]  # the names taken from it (empty for ``import x``)
    line: int


def module_name(path: Path, root: Path = PLUGINS) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def package_modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted((PLUGINS / PACKAGE).rglob("*.py"))}


MODULES = package_modules()
TEST_MODULES = {module_name(p, REPO): p for p in sorted(TESTS.rglob("*.py"))}


def resolve(importer: str, node: ast.ImportFrom, package: bool = False) -> str:
    """The absolute module an ``ImportFrom`` reads (relative imports resolved); ``package``:
    the importer is a package's ``__init__``, so ``.`` is the importer itself."""
    if not node.level:
        return node.module or ""
    base = importer.split(".")
    base = base if package else base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def imports_of(path: Path, importer: str, modules: dict[str, Path] = MODULES) -> Iterator[Import]:
    """Every import in ``path`` (inside functions too); ``modules``: the known modules, so that
    ``from package import module`` counts as an import of the module."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(importer, alias.name, (), node.lineno)
        elif isinstance(node, ast.ImportFrom):
            target = resolve(importer, node, package=path.name == "__init__.py")
            for alias in node.names:
                submodule = f"{target}.{alias.name}"
                if submodule in modules:  # ``from sync_apis.auvo import sync``: the module itself
                    yield Import(importer, submodule, (), node.lineno)
                else:
                    yield Import(importer, target, (alias.name,), node.lineno)


def ours(module: str) -> bool:
    return module == PACKAGE or module.startswith(PACKAGE + ".")


def internal_imports() -> list[Import]:
    return [i for m, p in MODULES.items() for i in imports_of(p, m) if ours(i.target)]


def dag_imports() -> list[Import]:
    return [i for p in sorted(DAGS.glob("*.py")) for i in imports_of(p, f"dags/{p.name}") if ours(i.target)]


def graph(imports: list[Import]) -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {m: set() for m in MODULES}
    for i in imports:
        if i.target in MODULES and i.target != i.importer:
            edges[i.importer].add(i.target)
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected component with more than one module (Tarjan), each as a cycle
    path through it, so the failure names the modules and the order they import each other in."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(edges[node]):
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
                found.append(cycle_path(edges, set(component)))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def cycle_path(edges: dict[str, set[str]], component: set[str]) -> list[str]:
    """A shortest import path from the component's first module back to itself."""
    start = min(component)
    paths = [[start]]
    while paths:
        path = paths.pop(0)
        for nxt in sorted(edges[path[-1]] & component):
            if nxt == start:
                return [*path, start]
            if nxt not in path:
                paths.append([*path, nxt])
    return sorted(component)


def is_dag_facing(module: str) -> bool:
    return module.rsplit(".", 1)[-1].startswith("dag_")


def within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def helper_imports_of(name: str, path: Path) -> list[Import]:
    """What one file (module ``name``) imports from the test tree outside ``tests.support``:
    conftests and test modules, by absolute or relative import, at any depth."""
    return [
        i
        for i in imports_of(path, name, TEST_MODULES)
        if within(i.target, "tests") and not within(i.target, SUPPORT)
    ]


def helper_importers() -> dict[str, Path]:
    """Every module that may take test helpers: the suite's (``tests.support`` aside) and the
    benchmarks'."""
    files = {m: p for m, p in TEST_MODULES.items() if not within(m, SUPPORT)}
    return files | {module_name(p, REPO): p for p in sorted((REPO / "bench").rglob("*.py"))}


# --------------------------------------------------------------------------- the checker itself


def test_the_cycle_finder_names_a_cycle_and_ignores_a_chain() -> None:
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert cycles(edges) == [["a", "b", "c", "a"]]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": set()}) == []


def test_relative_and_submodule_imports_resolve_to_modules(tmp_path: Path) -> None:
    source = tmp_path / "m.py"
    source.write_text("from . import sync\nfrom .hook import _x\nfrom sync_apis.auvo import streams\n")
    found = {(i.target, i.names) for i in imports_of(source, "sync_apis.auvo.checks")}
    assert found == {
        ("sync_apis.auvo.sync", ()),
        ("sync_apis.auvo.hook", ("_x",)),
        ("sync_apis.auvo.streams", ()),
    }


def test_imports_of_test_modules_are_found_relative_and_inside_functions_too(tmp_path: Path) -> None:
    source = tmp_path / "test_probe.py"
    source.write_text(
        "from tests.support.pg import PgUrl\n"
        "from tests.support import sandboxes\n"
        "import tests.support.connections\n"
        "from sandbox.core import Clock\n"
        "from .conftest import NOW\n"
        "from . import conftest\n"
        "from ..browser.routes import PREFIX\n"
        "def f():\n"
        "    from tests.conftest import REPO\n"
        "    import tests.browser.routes\n"
        "    from tests import conftest\n"
    )
    found = sorted((i.line, i.target) for i in helper_imports_of("tests.sandbox.test_probe", source))
    assert found == [
        (5, "tests.sandbox.conftest"),
        (6, "tests.sandbox.conftest"),
        (7, "tests.browser.routes"),
        (9, "tests.conftest"),
        (10, "tests.browser.routes"),
        (11, "tests.conftest"),
    ]


# --------------------------------------------------------------------------- the rules


def test_no_import_cycle_in_the_package() -> None:
    found = cycles(graph(internal_imports()))
    assert not found, "import cycles in plugins/sync_apis:\n" + "\n".join(" -> ".join(c) for c in found)


def test_no_private_name_is_imported_from_another_module() -> None:
    offenders = [
        f"{i.importer}:{i.line} imports {', '.join(n for n in i.names if n.startswith('_'))} from {i.target}"
        for i in [*internal_imports(), *dag_imports()]
        if i.target != i.importer and any(n.startswith("_") and not n.startswith("__") for n in i.names)
    ]
    assert not offenders, "\n".join(offenders)


def test_the_library_never_imports_a_dag_facing_module() -> None:
    facing = {m for m in MODULES if is_dag_facing(m)}
    assert {"sync_apis.dag_defaults", "sync_apis.auvo.dag_tasks", "sync_apis.etrac.dag_tasks"} <= facing
    offenders = [
        f"{i.importer}:{i.line} imports {i.target}"
        for i in internal_imports()
        if i.target in facing and not is_dag_facing(i.importer)
    ]
    assert not offenders, "library modules importing DAG-facing ones:\n" + "\n".join(offenders)


def test_dag_files_import_only_dag_facing_modules_and_plain_data() -> None:
    """A DAG file wires tasks: it calls adapters (``dag_*``), never library code directly —
    beyond constants and data it reads at parse time (stream table, checks, SQL folder)."""
    allowed = {
        "sync_apis.auvo.checks",
        "sync_apis.auvo.streams",
        "sync_apis.etrac.checks",
        "sync_apis.sql_files",
    }
    offenders = [
        f"{i.importer}:{i.line} imports {i.target}"
        for i in dag_imports()
        if not is_dag_facing(i.target) and i.target not in allowed
    ]
    assert not offenders, "\n".join(offenders)


def test_test_helpers_come_from_tests_support_only() -> None:
    """Helpers shared by test modules live in ``tests/support/``; conftests keep fixtures only."""
    found: dict[tuple[str, int, str], list[str]] = {}
    for name, path in helper_importers().items():
        for i in helper_imports_of(name, path):
            found.setdefault((str(path.relative_to(REPO)), i.line, i.target), []).extend(i.names)
    offenders = [
        f"{file}:{line} imports {', '.join(names) or 'the module'} from {target}"
        for (file, line, target), names in found.items()
    ]
    assert not offenders, "test helpers imported from outside tests/support/:\n" + "\n".join(offenders)
