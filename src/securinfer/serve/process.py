"""The serving process's resident memory, for metrics and the load test.

Example:
    >>> from securinfer.serve.process import rss_bytes
    >>> rss_bytes() is None or rss_bytes() > 0
    True
"""

from __future__ import annotations

import os
from typing import Optional

__all__ = ["rss_bytes"]


def rss_bytes(pid: Optional[int] = None) -> Optional[int]:
    """Resident set size of ``pid`` (default: this process) in bytes; None
    where ``/proc`` is not available."""
    try:
        with open(f"/proc/{pid or 'self'}/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None
