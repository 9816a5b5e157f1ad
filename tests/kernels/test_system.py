"""SIMD detection, the SECURINFER_SIMD switch, threads and the command line."""

import os
import subprocess
import sys

import pytest

import securinfer as si


def run_python(code, **env):
    full_env = dict(os.environ, **env)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=full_env)


def test_simd_info_is_consistent():
    info = si.simd_info()
    assert set(info) >= {"detected", "available", "active", "emulated"}
    assert "scalar" in info["available"] and info["active"] in info["available"]
    if not info["emulated"]:
        # Natively, every SIMD path offered is one the CPU has.
        assert set(info["available"]) - {"scalar"} <= set(info["detected"])


@pytest.mark.parametrize("path", ["scalar"])
def test_forcing_a_path_caps_the_process(path):
    result = run_python("import securinfer as si; print(si.simd_info()['active'])", SECURINFER_SIMD=path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == path


def test_unknown_path_fails_at_import_with_a_clear_error():
    result = run_python("import securinfer", SECURINFER_SIMD="sse9")
    assert result.returncode != 0
    assert "ParameterError" in result.stderr and "unknown SIMD path 'sse9'" in result.stderr


def test_unavailable_path_fails_at_import():
    missing = [p for p in ("avx2", "avx512", "ifma") if p not in si.simd_info()["available"]]
    if not missing:
        pytest.skip("every path is available on this CPU")
    result = run_python("import securinfer", SECURINFER_SIMD=missing[0])
    assert result.returncode != 0 and "lacks" in result.stderr


def test_threads_can_be_set_and_read():
    before = si.get_num_threads()
    try:
        si.set_num_threads(3)
        assert si.get_num_threads() == 3
    finally:
        si.set_num_threads(before)
    for bad in (0, -1, 5000, 1.5, True):
        with pytest.raises(si.ParameterError):
            si.set_num_threads(bad)


def test_info_command_reports_features_and_path():
    result = subprocess.run([sys.executable, "-m", "securinfer.cli", "info"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert f"active      {si.simd_info()['active']}" in result.stdout
    assert "threads" in result.stdout
