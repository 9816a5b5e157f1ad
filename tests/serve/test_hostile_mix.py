"""A short hostile mix (benchmarks/hostile_mix.py): a real ``securinfer serve``
on loopback, honest clients beside every kind of attacker for a few seconds.
Every honest answer right, none lost, the server alive and within its limits."""

import importlib.util
import pathlib
import sys

import pytest

pytest.importorskip("uvicorn")


def _module():
    path = pathlib.Path(__file__).resolve().parents[2] / "benchmarks" / "hostile_mix.py"
    spec = importlib.util.spec_from_file_location("hostile_mix", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("hostile_mix", module)   # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_short_hostile_mix():
    mix = _module()
    limits = mix.Limits(body_timeout=2.0, header_timeout=1.0)
    r = mix.run(clients=4, baseline=1.5, duration=4.0, limits=limits, slow_loris=50, held_uploads=4, sample=0.5)
    assert r["server_alive"] and r["threads_left"] == 0
    assert r["requests"]["baseline"] > 0 and r["requests"]["attack"] > 0
    assert r["wrong"] == 0 and r["failed"] == 0 and r["lost_sessions"] == 0, r["errors"]
    kinds = r["attackers"]
    assert kinds.get("held upload cut", 0) > 0 and kinds.get("slow-loris cut", 0) > 0
    assert kinds.get("foreign parameters 409", 0) > 0 and kinds.get("secret-key context 403", 0) > 0
    assert not any(k.endswith(" 500") for k in kinds), kinds      # attackers get refusals, never a crash
    assert r["rss_mib"]["peak"] - r["rss_mib"]["idle"] <= r["bound_mib"] + r["cache_mib"]
