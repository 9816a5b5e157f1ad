"""Fixtures shared by the linalg tests."""

import pytest

import securinfer as si


@pytest.fixture(params=[1, 2], ids=lambda t: f"t{t}")
def threads(request):
    """Run the test on one core thread, then on two."""
    before = si.get_num_threads()
    si.set_num_threads(request.param)
    yield request.param
    si.set_num_threads(before)
