"""The docstring examples of the block and matrix-product modules run and print what they say."""

import doctest
import importlib

import pytest


@pytest.mark.parametrize("name", ["securinfer.linalg_blocks", "securinfer.matmul", "securinfer.encrypted_matrix"])
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0 and result.attempted > 0, f"{result.failed} docstring example(s) failed in {name}"
