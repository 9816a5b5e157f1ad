"""The examples in securinfer.dist's docstrings run and print what they say
(modules whose examples need a cluster show them as plain code and are only imported)."""

import doctest
import importlib

import pytest

RUN = ["securinfer.dist.wire", "securinfer.dist.worker_cache", "securinfer.dist.shard"]
IMPORT_ONLY = ["securinfer.dist", "securinfer.dist.sharded_gallery", "securinfer.dist.batch",
               "securinfer.dist.shipping", "securinfer.dist.tasks", "securinfer.dist.audit"]


@pytest.mark.parametrize("name", RUN + IMPORT_ONLY)
def test_dist_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
    assert (result.attempted > 0) == (name in RUN)
