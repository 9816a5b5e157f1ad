"""Every example in the public docstrings runs and prints what it says."""

import doctest
import importlib

import pytest

MODULES = ["securinfer", "securinfer.errors", "securinfer._system", "securinfer.kernels", "securinfer.presets", "securinfer.key_switching", "securinfer.polynomial", "securinfer.reductions",
           "securinfer.context", "securinfer.ciphertext", "securinfer.linalg", "securinfer.combinations",
           "securinfer._prepared_cache", "securinfer.apps.diagnosis"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name}"
    assert result.attempted > 0 or name in ("securinfer.errors",), f"{name} has no examples"
