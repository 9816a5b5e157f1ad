"""``securinfer serve`` as a real process."""

import os
import subprocess
import sys
import time

import httpx
import numpy as np

from securinfer.cli import main
from securinfer.serve import Client, LinearModel

from .conftest import TOKEN
from .server import free_port


def test_securinfer_serve_serves_a_models_directory(tmp_path, rng):
    W, b = rng.normal(size=(6, 2)), rng.normal(size=2)
    LinearModel(W, b, context={"preset": "fast"}, name="cli-model").save(tmp_path / "cli-model.linear.npz")
    port = free_port()
    env = {**os.environ, "SECURINFER_TOKEN": TOKEN}
    process = subprocess.Popen([sys.executable, "-m", "securinfer.cli", "serve", "--models", str(tmp_path),
                                "--port", str(port), "--log-level", "warning"], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "securinfer serve did not come up"
            time.sleep(0.1)
        with Client(f"http://127.0.0.1:{port}", token=TOKEN) as client:
            assert list(client.servables()) == ["cli-model"]
            x = rng.normal(size=6)
            assert np.allclose(client.infer("cli-model", x), x @ W + b, atol=1e-4)
    finally:
        process.terminate()
        _, err = process.communicate(timeout=20)
    assert b"1 servable(s)" in err


def test_securinfer_serve_refuses_an_empty_directory(tmp_path, capsys):
    assert main(["serve", "--models", str(tmp_path), "--token", TOKEN]) == 2
    assert "no servables found" in capsys.readouterr().err
