"""Regression tests from the review of the service (query budget from the command line)."""

import numpy as np
import pytest

from securinfer.apps import face
from securinfer.cli import main


@pytest.fixture
def captured(monkeypatch):
    """``securinfer serve`` up to the server's start: the app's query budget."""
    import uvicorn

    from securinfer.serve import app as app_module

    seen = {}
    real = app_module.create_app

    def create_app(servables, config=None, *, query_budget=None, **settings):
        seen["budget"] = query_budget
        return real(servables, config, query_budget=query_budget, **settings)

    class Server:
        def __init__(self, config):
            pass

        def run(self):
            seen["ran"] = True

    monkeypatch.setattr(app_module, "create_app", create_app)
    monkeypatch.setattr(uvicorn, "Server", Server)
    return seen


def test_serve_command_sets_a_query_budget(tmp_path, captured, capsys):
    """``securinfer serve --models`` had no way to set the query budget that
    docs/face.md relies on against a client that queries a gallery without
    end: every gallery it served answered without limit."""
    face.Gallery(np.eye(3, 128), labels=list("abc"), name="g", reveal="scores").save(tmp_path / "g.gallery.npz")
    token = "token-0123456789abcdef0123"
    assert main(["serve", "--models", str(tmp_path), "--token", token, "--queries-per-session", "2",
                 "--queries-per-token", "3", "--query-window", "60"]) == 0
    budget = captured["budget"]
    assert (budget.per_session, budget.per_token, budget.window) == (2, 3, 60.0)
    budget.charge("t", "s1")
    budget.charge("t", "s1")
    with pytest.raises(Exception, match="session"):
        budget.charge("t", "s1")
    assert main(["serve", "--models", str(tmp_path), "--token", token]) == 0
    assert captured["budget"] is None
    assert "without a query budget" in capsys.readouterr().err
