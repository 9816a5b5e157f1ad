"""Every docstring example of the package runs and prints what it says: one
runner, walking every module of securinfer (a new module is covered without
being listed). The modules below have no runnable example: their examples
need a cluster, a server or a network and are shown as plain code, or they
are entry points; listing them keeps "no example" a decision, not an
oversight (the test fails if one of them gains an example, or another loses
its own)."""

import doctest
import importlib
import pkgutil

import pytest

import securinfer

PLAIN_CODE_ONLY = {
    "securinfer._core",                    # the extension: its stub (_core.pyi) is tested instead
    "securinfer.cli", "securinfer.apps", "securinfer.apps.demo", "securinfer.apps.mnist",
    "securinfer.apps.face.embedder",       # needs OpenCV's models: tests/apps/test_face_embedder.py
    "securinfer.nn.torch_frontend",        # needs PyTorch: tests/nn
    "securinfer.dist", "securinfer.dist.audit", "securinfer.dist.batch", "securinfer.dist.sharded_gallery",
    "securinfer.dist.shipping", "securinfer.dist.tasks",           # need a Dask cluster: tests/dist
    "securinfer.serve.app", "securinfer.serve.bodies", "securinfer.serve.client", "securinfer.serve.command",
    "securinfer.serve.observe",            # need a running service: tests/serve
}

MODULES = sorted(m.name for m in pkgutil.walk_packages(securinfer.__path__, "securinfer."))


def test_the_walk_finds_the_layers():
    assert {"securinfer.context", "securinfer.linalg.transform", "securinfer.nn.compiler",
            "securinfer.apps.face.gallery", "securinfer.serve.app"} <= set(MODULES)
    assert PLAIN_CODE_ONLY <= set(MODULES), PLAIN_CODE_ONLY - set(MODULES)


@pytest.mark.parametrize("name", ["securinfer"] + MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name}"
    if name in PLAIN_CODE_ONLY:
        assert result.attempted == 0, f"{name} now has runnable examples: take it off PLAIN_CODE_ONLY"
    else:
        assert result.attempted > 0, f"{name} has no docstring example"
