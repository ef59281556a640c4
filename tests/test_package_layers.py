"""The package's layers, bottom up: rdcn.core imports nothing else of rdcn; the claims registry imports the core only;
He et al.'s subpackage imports the core and the registry (its scale figures decide a claim's rule along a knob);
Gilbert et al.'s imports the core only; the book's modules (notebook, book, ledger) sit on top. No module imports
itself back through a cycle."""
import ast
from pathlib import Path

import rdcn

PACKAGE = Path(rdcn.__file__).parent
#: what each layer may import of rdcn (besides itself)
ALLOWED = {"core": {"core"}, "claims": {"core"}, "he": {"core", "claims"}, "gilbert": {"core"}}


def _module(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """The rdcn modules a file imports (absolute names), at any depth of the file."""
    here = _module(path).split(".")
    package = here if path.name == "__init__.py" else here[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            target = ".".join(base + ([node.module] if node.module else []))
            found |= {target} | {f"{target}.{a.name}" for a in node.names}
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
    return {name for name in found if name == "rdcn" or name.startswith("rdcn.")}


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def test_no_layer_imports_upward():
    wrong = {}
    for path in PACKAGE.rglob("*.py"):
        layer = _layer(_module(path))
        if layer not in ALLOWED:
            continue
        bad = sorted(m for m in _imports(path) if _layer(m) not in ALLOWED[layer] | {layer})
        if bad:
            wrong[_module(path)] = bad
    assert not wrong, f"imports across the layers: {wrong}"


def test_no_import_cycle():
    modules = {_module(p): p for p in PACKAGE.rglob("*.py")}
    graph = {m: {i for i in _imports(p) if i in modules and i != m} for m, p in modules.items()}
    for name in modules:  # a package's __init__ importing its own modules is not a cycle
        graph[name] = {i for i in graph[name] if not (modules[name].name == "__init__.py" and i.startswith(name + "."))}

    def visit(node, path):
        if node in path:
            raise AssertionError(f"import cycle: {' → '.join(path[path.index(node):] + [node])}")
        for nxt in graph[node]:
            visit(nxt, path + [node])

    for node in graph:
        visit(node, [])
