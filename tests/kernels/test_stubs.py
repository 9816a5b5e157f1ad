"""The type stubs of securinfer._core list exactly what the module offers."""

import ast
import pathlib

import securinfer
from securinfer import _core

STUB = pathlib.Path(securinfer.__file__).with_name("_core.pyi")


def stub_names(class_name):
    tree = ast.parse(STUB.read_text())
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == class_name:
            return {
                n.name if isinstance(n, (ast.FunctionDef, ast.ClassDef)) else n.target.id
                for n in node.body
                if isinstance(n, (ast.FunctionDef, ast.ClassDef, ast.AnnAssign))
            }
    raise AssertionError(f"no class {class_name} in the stub")


def stub_names_inner(outer, cls):
    tree = ast.parse(STUB.read_text())
    outer_cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == outer)
    inner = next(n for n in outer_cls.body if isinstance(n, ast.ClassDef) and n.name == cls)
    return {n.name if isinstance(n, ast.FunctionDef) else n.target.id for n in inner.body
            if isinstance(n, (ast.FunctionDef, ast.AnnAssign))} - {"__init__"}


def public(obj):
    return {n for n in dir(obj) if not n.startswith("_")}


def test_stub_matches_the_extension():
    assert (STUB.parent / "py.typed").exists()
    assert public(_core.kernels) == stub_names("_Kernels")
    assert public(_core.ckks) == stub_names("_Ckks")
    assert public(_core.io) == stub_names("_Io")
    assert public(_core.linalg) == stub_names("_Linalg")
    lt = stub_names_inner("_Linalg", "LinearTransform")
    assert public(_core.linalg.LinearTransform) == lt
    for cls in ("CkksContext", "KeySet", "Ciphertext"):
        tree = ast.parse(STUB.read_text())
        ckks_cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "_Ckks")
        inner = next(n for n in ckks_cls.body if isinstance(n, ast.ClassDef) and n.name == cls)
        names = {n.name if isinstance(n, ast.FunctionDef) else n.target.id for n in inner.body
                 if isinstance(n, (ast.FunctionDef, ast.AnnAssign))} - {"__init__"}
        assert public(getattr(_core.ckks, cls)) == names, cls
