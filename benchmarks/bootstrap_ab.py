"""Wall time of the N = 2^16 bootstrap, one chain per process, for A/B/A
comparisons on a shared machine: ``preset`` (SlotsToCoeffs first) or
``usual`` (the usual order's 128-bit chain, the preset of earlier versions),
``keep_plaintexts=False``, 5 bootstraps of one input (uniform in [-1, 1],
brought to the lowest level a bootstrap takes). Prints wall and CPU seconds
per bootstrap, the max-error bits against numpy and the peak RSS.

    for c in preset usual preset; do python benchmarks/bootstrap_ab.py $c 1; done
    python benchmarks/bootstrap_ab.py preset 2      # two threads
"""

from __future__ import annotations

import resource
import sys
import time

import numpy as np

import securinfer as si
from securinfer import bootstrapping


def main() -> None:
    chain = sys.argv[1] if len(sys.argv) > 1 else "preset"
    threads = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    if chain not in ("preset", "usual"):
        raise SystemExit("chain is 'preset' or 'usual'")
    si.set_num_threads(threads)
    params = si.presets.PRESETS["bootstrap"] if chain == "preset" else bootstrapping.parameters_for_bootstrap(
        65536, 9, encapsulation=32, special_primes=7, scale_bits=43)
    ctx = si.Context.create(**params)
    bootstrapping.prepare(ctx, keep_plaintexts=False)
    ctx.generate_bootstrapping_keys()
    z = np.random.default_rng(0).uniform(-1, 1, ctx.slots)
    x = ctx.encrypt(z)
    while x.level > ctx.bootstrap_input_level:
        x = x * np.ones(ctx.slots)
    cpu, wall = [], []
    for _ in range(5):
        c, w = time.process_time(), time.time()
        y = x.bootstrap()
        cpu.append(round(time.process_time() - c, 2))
        wall.append(round(time.time() - w, 2))
    bits = -np.log2(np.abs(ctx.decrypt(y) - z).max())
    print(f"{chain}, {threads} threads: wall {wall} (min {min(wall)}, median {sorted(wall)[2]}), cpu {cpu}, "
          f"{bits:.2f} bits, peak {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.2f} GiB", flush=True)


if __name__ == "__main__":
    main()
