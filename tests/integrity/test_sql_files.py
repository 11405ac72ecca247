"""Where the SQL lives, read from the source with ``ast`` (issue 10, point 6).

- No SQL statement is written in the package's or the DAGs' Python: statements are files of
  ``include/sql/`` (schema files, checks, ``queries/``), so they can be read, diffed and run by
  hand as SQL. Python composes only what a table's description generates: identifier lists,
  ``ROW(..) IS DISTINCT FROM ROW(..)``, a conflict clause.
- Every query file the code names exists, so a renamed or mistyped file fails here in a second,
  not in a DAG run.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SOURCES = (REPO / "plugins" / "sync_apis", REPO / "dags")
QUERIES = REPO / "include" / "sql" / "queries"

# A string that begins like a statement: a keyword (the code writes them in capitals, so
# English prose such as "with that key" is not one), then more words.
STATEMENT = re.compile(
    r"^\s*\(?\s*(SELECT|INSERT|UPDATE|DELETE|CREATE|ALTER|DROP|WITH|SET|COPY|TRUNCATE|LOCK|EXPLAIN|"
    r"GRANT|REVOKE|VACUUM|ANALYZE|MERGE)\s+\S"
)
# The functions that take a query file's name (``include/sql/queries/<name>.sql``) first:
# ``sql_files.query`` / ``statement`` and ``Load.query`` / ``execute`` / ``execute_many``.
NAMING_CALLS = {"query", "statement", "execute", "execute_many"}
QUERY_NAME = re.compile(r"^[a-z0-9_]+(/[a-z0-9_]+)*$")


def _docstrings(tree: ast.AST) -> set[int]:
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            first = node.body[0] if node.body else None
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                out.add(id(first.value))
    return out


def sql_in_python(source: str, where: str) -> Iterator[str]:
    """``path:line: text`` for each string of ``source`` that reads as an SQL statement."""
    tree = ast.parse(source)
    docstrings = _docstrings(tree)
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in docstrings
            and STATEMENT.match(node.value)
        ):
            yield f"{where}:{node.lineno}: {node.value.strip()[:80]!r}"


def named_query_files(source: str) -> Iterator[tuple[int, str]]:
    """(line, name) for each call that names a query file with a literal."""
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        func = node.func
        called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
        first = node.args[0]
        if (
            called in NAMING_CALLS
            and isinstance(first, ast.Constant)
            and isinstance(first.value, str)
            and QUERY_NAME.match(first.value)
        ):
            yield node.lineno, first.value


def _python_files() -> Iterator[Path]:
    for root in SOURCES:
        yield from sorted(root.rglob("*.py"))


def test_the_finder_flags_a_statement_and_leaves_fragments_and_prose() -> None:
    source = '''
"""Module docstring: SELECT what we need from the API."""
a = "SELECT count(*) FROM t"
b = "  (SELECT 1 FROM t) AS ok"
c = "with that key"
d = "ROW({}) IS DISTINCT FROM ROW({})"
e = "DO UPDATE SET {} WHERE {}"
'''
    found = list(sql_in_python(source, "x.py"))
    assert found == ["x.py:3: 'SELECT count(*) FROM t'", "x.py:4: '(SELECT 1 FROM t) AS ok'"]


def test_no_sql_statement_is_written_in_python() -> None:
    found = [
        hit
        for path in _python_files()
        for hit in sql_in_python(path.read_text(encoding="utf-8"), str(path.relative_to(REPO)))
    ]
    assert not found, (
        "SQL statements belong in include/sql/queries/<area>/<name>.sql, run through "
        "sync_apis.sql_files.statement (or Load.query inside a load):\n" + "\n".join(found)
    )


def test_every_query_file_the_code_names_exists() -> None:
    named = [
        (path, line, name)
        for path in _python_files()
        for line, name in named_query_files(path.read_text(encoding="utf-8"))
    ]
    assert len(named) > 40, "the finder no longer sees the calls that name query files"
    missing = [
        f"{path.relative_to(REPO)}:{line}: {name}"
        for path, line, name in named
        if not (QUERIES / f"{name}.sql").is_file()
    ]
    assert not missing, "no include/sql/queries/<name>.sql for:\n" + "\n".join(missing)


def test_no_query_file_comment_holds_a_positional_placeholder() -> None:
    """psycopg reads placeholders in comments too: a ``%s`` there is counted as a parameter
    (a named ``%(day)s`` is harmless, the same value again), and a lone ``%`` is an error."""
    bad = [
        f"{path.relative_to(REPO)}:{number}"
        for path in sorted((REPO / "include" / "sql").rglob("*.sql"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if line.lstrip().startswith("--") and re.search(r"%(?!\()", line)
    ]
    assert not bad, "write the placeholder's name, or 'percent', in these comments:\n" + "\n".join(bad)
