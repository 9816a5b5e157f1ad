"""Scoring block after block, on a thread pool when asked.

The core releases the GIL in its heavy calls, so Python threads scoring
different blocks run in parallel; each block yields one ciphertext, so the
memory a query holds beyond the gallery is one score ciphertext per block.
By default the blocks run one after another and the core's own threads
split each block: threads over blocks on top of threads inside each call
oversubscribe the cores (measured: 1M templates on 2 cores, 0.82 s with 2
block threads and 1 core thread, 1.03 s with 2 of each; either split alone
is as fast as the other). Pass ``threads`` (and ``si.set_num_threads(1)``)
to split by blocks instead.

Example:
    >>> from securinfer.apps.face.blocks import map_blocks
    >>> map_blocks(lambda b: b * b, 4, threads=2)
    [0, 1, 4, 9]
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Callable, List, Optional



def map_blocks(score_block: Callable[[int], object], blocks: int, threads: Optional[int] = None) -> List[object]:
    """``[score_block(b) for b in range(blocks)]``, on ``threads`` threads
    (default: one, the core's threads splitting each block; see above)."""
    threads = 1 if threads is None else threads
    if threads <= 1 or blocks <= 1:
        return [score_block(b) for b in range(blocks)]
    with ThreadPoolExecutor(max_workers=min(threads, blocks)) as pool:
        return list(pool.map(score_block, range(blocks)))
