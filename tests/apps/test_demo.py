"""The demo's parts run end to end and report what the encrypted run did."""

from securinfer import cli
from securinfer.apps import demo


def test_face_demo_identifies_encrypted_probes(capsys):
    results = demo.face_demo(people=12, probes=3, match_probes=1)
    for mode in ("plaintext gallery", "encrypted gallery"):
        r = results[mode]
        assert r["agree"] == r["probes"] == 3  # same decision as in the clear
        assert r["max_error"] < 1e-3 and r["upload"] > 0
    assert results["match"]["agree"] == results["match"]["probes"] == 1
    out = capsys.readouterr().out
    assert "server saw per probe" in out and "reveal='match'" in out


def test_demo_command_diagnosis(capsys):
    assert cli.main(["demo", "diagnosis"]) == 0
    out = capsys.readouterr().out
    assert "identical predictions 100%" in out and "done in" in out
    assert out.count("concordance encrypted") == 4


def test_mnist_demo_classifies_encrypted_digits(capsys):
    results = demo.mnist_demo()
    assert results["images"] == 1000
    assert results["agree"] >= 995  # the same digit as in the clear (measured: all 1,000)
    assert results["accuracy"] > 0.9
    assert "encrypted accuracy" in capsys.readouterr().out
