"""The examples in securinfer.apps.face's docstrings run and print what they say."""

import doctest
import importlib

import pytest

MODULES = ["securinfer.apps.face", "securinfer.apps.face.params", "securinfer.apps.face.layout",
           "securinfer.apps.face.blocks", "securinfer.apps.face.storage", "securinfer.apps.face.describe",
           "securinfer.apps.face.gallery", "securinfer.apps.face.encrypted_gallery", "securinfer.apps.face.client",
           "securinfer.apps.face.photos"]


@pytest.mark.parametrize("name", MODULES)
def test_face_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0 and result.attempted > 0
