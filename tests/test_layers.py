"""The package's import graph has no cycle but the one deliberate late
import (``Ciphertext.__matmul__`` reaching up to ``securinfer.linalg``), and
every module imports only from its own layer and those below it
(DESIGN.md's table)."""

import ast
import pathlib

import securinfer

ROOT = pathlib.Path(securinfer.__file__).parent
# The one edge that points up: x @ W is the linalg layer's, reached from the scheme's operator.
DELIBERATE = {("securinfer.ciphertext", "securinfer.linalg.product")}
# Layers, bottom to top; a module may import its own layer and those below.
LAYERS = [
    {"errors", "_core", "_system", "_validation", "_registry", "_archive", "_lru", "kernels", "presets", "key_switching",
     "parameters", "ciphertext", "context", "bootstrapping", "server_parameters", "ciphertext_batch"},
    {"linalg"},
    {"servable"},
    {"nn"},
    {"apps"},
    {"serve", "dist", "cli"},
]


def module_name(path: pathlib.Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: pathlib.Path):
    """The securinfer modules `path` imports (module level and inside functions)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    tree = ast.parse(path.read_text())
    typing_only = {id(n) for block in ast.walk(tree)  # `if TYPE_CHECKING:` imports never run
                   if isinstance(block, ast.If) and getattr(block.test, "id", None) == "TYPE_CHECKING"
                   for stmt in block.body for n in ast.walk(stmt)}
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names if a.name.startswith("securinfer"))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            elif node.module and node.module.startswith("securinfer"):
                target = node.module
            else:
                continue
            if node.module is None:  # from . import x
                yield from (f"{target}.{a.name}" for a in node.names)
            else:
                yield target


def graph():
    modules = {module_name(p): p for p in ROOT.rglob("*.py")}
    edges = {}
    for name, path in modules.items():
        # An import of a package means its __init__; an import of a name in a package stays the package.
        edges[name] = {t for t in imports(path) if t in modules and t != name}
    return edges


def test_no_import_cycle_but_the_deliberate_one():
    edges = graph()
    for a, b in DELIBERATE:
        assert b in edges[a], f"the deliberate edge {a} -> {b} is gone: update DELIBERATE"
        edges[a].discard(b)
    # Tarjan-free check: depth-first search for a back edge.
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == "open":
                cycle = stack[stack.index(nxt):] + [nxt]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = "done"

    for node in sorted(edges):
        if node not in state:
            visit(node)


def layer_of(name: str) -> int:
    top = name.split(".")[1] if "." in name else ""
    for i, layer in enumerate(LAYERS):
        if top in layer:
            return i
    return -1  # the package's own __init__


def test_imports_point_down():
    for name, targets in graph().items():
        if name == "securinfer":
            continue
        for target in targets:
            if (name, target) in DELIBERATE or target == "securinfer":
                continue
            assert layer_of(target) <= layer_of(name), f"{name} (layer {layer_of(name)}) imports {target} " \
                                                        f"(layer {layer_of(target)})"


UPPER = ("nn", "apps", "serve", "dist")


def test_upper_layers_use_only_public_names():
    """nn, apps, serve and dist never import securinfer._core nor a private
    name of another module, and never reach an object's private attribute."""
    found = set()
    for path in ROOT.rglob("*.py"):
        name = module_name(path)
        if name.split(".")[1:2] and name.split(".")[1] not in UPPER:
            continue
        if "." not in name:
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                module = getattr(node, "module", None) or ""
                names = [a.name for a in node.names]
                assert "_core" not in module.split(".") and not any(n.split(".")[-1] == "_core" for n in names), \
                    f"{name} imports securinfer._core"
                private = [n for n in names if n.startswith("_") and not n.startswith("__")]
                assert not private, f"{name} imports private names {private} from {module}"
            elif isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
                owner = node.value
                if isinstance(owner, ast.Name) and owner.id in ("self", "cls"):
                    continue
                found.add((name, node.attr))
    assert not found, f"private reaches (give the scheme layer a public API instead): {sorted(found)}"
