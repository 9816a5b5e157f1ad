"""The examples in securinfer.bootstrapping's docstrings run."""

import doctest

import securinfer.bootstrapping as module


def test_bootstrapping_docstring_examples():
    failures, tried = doctest.testmod(module, verbose=False)
    assert tried > 0 and failures == 0
