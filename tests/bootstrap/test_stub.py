"""The _core stub lists exactly what the bootstrap submodule offers."""

from securinfer import _core

from tests.kernels.test_stubs import public, stub_names, stub_names_inner


def test_bootstrap_stub_matches_the_extension():
    assert public(_core.bootstrap) == stub_names("_Bootstrap")
    assert public(_core.bootstrap.ComplexTransform) == stub_names_inner("_Bootstrap", "ComplexTransform")
