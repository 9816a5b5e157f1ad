"""The query budget of face servables, per session and per token, over HTTP
(every answer leaks at least which templates matched)."""

import numpy as np
import pytest

pytest.importorskip("fastapi")

from securinfer.apps import face  # noqa: E402
from securinfer.errors import ParameterError  # noqa: E402
from securinfer.serve import Client, ServiceError, create_app  # noqa: E402
from securinfer.serve.query_budget import BudgetExceeded, QueryBudget  # noqa: E402

from ..serve.server import ServerThread  # noqa: E402

TOKENS = ("token-one-0123456789abcdef", "token-two-0123456789abcdef")


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_budget_counts_per_session_and_per_token_in_a_window():
    clock = Clock()
    budget = QueryBudget(per_session=3, per_token=5, window=60, clock=clock)
    for _ in range(3):
        budget.charge("a", "s1")
    with pytest.raises(BudgetExceeded) as spent:
        budget.charge("a", "s1")
    assert spent.value.scope == "session" and spent.value.limit == 3
    budget.charge("a", "s2")
    budget.charge("a", "s2")
    with pytest.raises(BudgetExceeded) as spent:       # a new session does not reset the token's count
        budget.charge("a", "s3")
    assert spent.value.scope == "token" and spent.value.retry_after == pytest.approx(60)
    budget.charge("b", "s4")                           # another token has its own budget
    assert budget.remaining("a", "s3") == {"session": 3, "token": 0}
    clock.now = 60.5                                   # the window slid past the first queries
    budget.charge("a", "s3")
    assert budget.remaining("a", "s3") == {"session": 2, "token": 4}


def test_budget_refuses_bad_settings_and_counts_only_galleries():
    for bad in (dict(per_session=0), dict(per_token=-1), dict(per_token=True), dict(window=0)):
        with pytest.raises(ParameterError):
            QueryBudget(**bad)
    budget = QueryBudget(per_session=1)
    assert budget.applies(face.Gallery(np.eye(1, 128), reveal="scores"))

    class Model:
        def describe(self):
            return {"kind": "model"}

    assert not budget.applies(Model())


def test_gallery_over_http_stops_at_the_budget():
    people = np.random.default_rng(5).normal(size=(4, 128))
    gallery = face.Gallery(people, labels=list("abcd"), name="staff", reveal="scores")
    app = create_app([gallery], token=TOKENS[0], extra_tokens=(TOKENS[1],),
                     query_budget=QueryBudget(per_session=2, per_token=3))
    with ServerThread(app) as server:
        with Client(server.url, token=TOKENS[0]) as client:
            for _ in range(2):
                client.infer("staff", people[1])
            with pytest.raises(ServiceError) as refused:
                client.infer("staff", people[1])
            assert refused.value.status == 429
        with Client(server.url, token=TOKENS[0]) as again:      # a new session: the token's last query
            again.infer("staff", people[2])
            with pytest.raises(ServiceError) as refused:
                again.infer("staff", people[2])
            assert refused.value.status == 429
        with Client(server.url, token=TOKENS[1]) as other:
            assert face.top_k(other.infer("staff", people[3]), 1, list("abcd"))[0][0] == "d"
