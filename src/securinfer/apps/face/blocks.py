"""Scoring block after block on a thread pool.

The core releases the GIL in its heavy calls, so Python threads scoring
different blocks run in parallel on all cores; each block yields one
ciphertext, so the memory a query holds beyond the gallery is one score
ciphertext per block.

Example:
    >>> from securinfer.apps.face.blocks import map_blocks
    >>> map_blocks(lambda b: b * b, 4, threads=2)
    [0, 1, 4, 9]
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Callable, List, Optional

from ..._system import get_num_threads


def map_blocks(score_block: Callable[[int], object], blocks: int, threads: Optional[int] = None) -> List[object]:
    """``[score_block(b) for b in range(blocks)]``, on ``threads`` threads
    (default: securinfer's thread count)."""
    threads = get_num_threads() if threads is None else threads
    if threads <= 1 or blocks <= 1:
        return [score_block(b) for b in range(blocks)]
    with ThreadPoolExecutor(max_workers=min(threads, blocks)) as pool:
        return list(pool.map(score_block, range(blocks)))
