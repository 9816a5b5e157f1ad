"""Checking what the workers hold: every securinfer context alive in each
worker process, and how many of them carry a secret key (there must be
none: the driver only ever sends public contexts).

Example (plain code: it needs a cluster)::

    report = dist.audit_workers(client)
    assert all(r["secret_keys"] == 0 for r in report.values())
"""

from __future__ import annotations

from . import tasks
from .shipping import check_client


def audit_workers(client) -> dict:
    """``{worker address: {"contexts": alive, "secret_keys": n, "cached": n}}``."""
    check_client(client)
    return client.run(tasks.audit_contexts)
