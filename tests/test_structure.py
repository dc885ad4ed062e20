"""The package's shape: one-way dependencies, no import cycles, a complete public face.

The import graph is read with ``ast`` from the source (function-level imports included), so
an import hidden inside a function to dodge a cycle is still a cycle here.
"""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import sweetspot

PACKAGE = Path(sweetspot.__file__).resolve().parent
ROOT = PACKAGE.parent
TOP = ("sweetspot.harness", "sweetspot.cli", "sweetspot.__main__")  # nothing below imports them


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in PACKAGE.rglob("*.py")}


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """Modules of the package that ``name`` imports, anywhere in its source."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            if not target.startswith("sweetspot"):
                continue
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                found.add(sub if sub in modules else target)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("sweetspot"))
    found.discard(name)
    return {m for m in found if m in modules}


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(name, path, modules) for name, path in modules.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def _in(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def test_the_import_graph_has_no_cycles() -> None:
    assert _cycles(_graph()) == []


def test_nothing_below_imports_the_harness_or_the_cli() -> None:
    bad = [
        (src, dst)
        for src, targets in _graph().items()
        for dst in targets
        if any(_in(dst, top) for top in TOP) and not any(_in(src, top) for top in TOP)
    ]
    assert bad == []


def test_nothing_inside_imports_the_package_face() -> None:
    assert [src for src, targets in _graph().items() if "sweetspot" in targets] == []


def test_private_names_stay_home() -> None:
    """``_name`` is imported only between modules of one sub-package (``sweetspot.io``...);
    a private module ``_mod`` only from inside its parent package."""
    modules = _modules()
    bad = []
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        here = package
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ImportFrom) or not node.level:
                continue
            base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
            target = ".".join([*base, node.module] if node.module else base)
            parent = target if modules.get(target, PACKAGE).name == "__init__.py" else None
            parent = parent or target.rpartition(".")[0]
            if target.rpartition(".")[2].startswith("_") and not _in(name, parent):
                bad.append(f"{name} imports the private module {target}")
            for alias in node.names:
                if not alias.name.startswith("_") or alias.name.startswith("__"):
                    continue
                if parent == "sweetspot" or here != parent:
                    bad.append(f"{name} imports {alias.name} from {target}")
    assert bad == []


def test_all_is_sorted_and_complete() -> None:
    """``__all__`` is sorted and names exactly the lazily imported public names, which the
    ``TYPE_CHECKING`` block imports the same way for type checkers."""
    tree = ast.parse((PACKAGE / "__init__.py").read_text(encoding="utf-8"))
    checked = {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING"
        for stmt in node.body
        if isinstance(stmt, ast.ImportFrom)
        for alias in stmt.names
    }
    assert sweetspot.__all__ == sorted(sweetspot.__all__)
    assert set(sweetspot.__all__) == set(sweetspot._LAZY) | {"__version__"}
    assert checked == set(sweetspot._LAZY)
    for name in sweetspot.__all__:
        assert hasattr(sweetspot, name), name
        if name in sweetspot._LAZY and f".{name}" != sweetspot._LAZY[name]:
            module = importlib.import_module(sweetspot._LAZY[name], "sweetspot")
            assert getattr(sweetspot, name) is getattr(module, name), name


def test_import_and_help_load_no_heavy_dependency() -> None:
    import subprocess
    import sys

    code = (
        "import sys, sweetspot, sweetspot.cli; sweetspot.cli.build_parser(); "
        "print(sorted(m for m in ('pandas', 'scipy', 'matplotlib', 'pyarrow') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_api_doc_lists_exactly_the_public_names() -> None:
    """docs/api.md: every row's first cell names public objects; together exactly __all__.

    A name qualified by a module (``sweetspot.io.read_zeus``) documents that module's API
    and must resolve.
    """
    text = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    top: set[str] = set()
    for line in text.splitlines():
        if not line.startswith("| `"):
            continue
        cell = line.split("|")[1]
        for span in re.findall(r"`([^`]+)`", cell):
            ident = re.match(r"[A-Za-z_][\w.]*", span)
            assert ident, span
            dotted = ident.group(0)
            if dotted.startswith("sweetspot."):
                module, _, attr = dotted.rpartition(".")
                try:
                    obj = importlib.import_module(dotted)
                except ImportError:
                    obj = getattr(importlib.import_module(module), attr, None)
                assert obj is not None, dotted
            else:
                head = dotted.split(".")[0]
                top.add(head)
                assert hasattr(sweetspot, head), dotted
    assert top == set(sweetspot.__all__)
