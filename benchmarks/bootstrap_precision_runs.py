"""The precision distribution of the N = 2^16 bootstrap over several runs
(issue 16 asks for mean and max error over many): ``preset="bootstrap"``
(SlotsToCoeffs first), or with ``--usual`` the usual order's 128-bit chain
(its preset of earlier versions; two passes need it), one thread, a fresh
input per run (uniform in [-1, 1]; ``--constant``: every slot the same
value, uniform in [-1, 1] per run), brought to the lowest level a bootstrap
takes by one product per level as in benchmarks/test_bench_bootstrap.py.
One line per run: CPU seconds, the max- and mean-error bits against numpy,
against what the input decrypts to ("own"), and the input's own error;
8.3 GiB and about 12 s per run on this machine (two passes: 25 s).

    python benchmarks/bootstrap_precision_runs.py --runs 100
    python benchmarks/bootstrap_precision_runs.py --usual --passes 2 --runs 10
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import securinfer as si
from securinfer.bootstrapping import parameters_for_bootstrap, prepare


def bits(err: np.ndarray) -> float:
    return round(float(-np.log2(err)), 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passes", type=int, default=1)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--scale-bits", type=int, default=43)
    parser.add_argument("--usual", action="store_true",
                        help="the usual order (SlotsToCoeffs last): 7 special primes, q0 2^6 above the scale")
    parser.add_argument("--constant", action="store_true", help="constant vectors (one value per run)")
    args = parser.parse_args()
    si.set_num_threads(1)
    if args.usual:
        params = parameters_for_bootstrap(65536, 9, encapsulation=32, special_primes=7, scale_bits=args.scale_bits)
    else:
        params = parameters_for_bootstrap(65536, 9, encapsulation=32, special_primes=6, scale_bits=args.scale_bits,
                                          arcsine=True)
    ctx = si.Context.create(**params)
    prepare(ctx, keep_plaintexts=False, passes=args.passes)
    ctx.generate_bootstrapping_keys()
    ones = np.ones(ctx.slots)
    for run in range(args.runs):
        rng = np.random.default_rng(run)
        z = np.full(ctx.slots, rng.uniform(-1, 1)) if args.constant else rng.uniform(-1, 1, ctx.slots)
        x = ctx.encrypt(z)
        while x.level > ctx.bootstrap_input_level:
            x = x * ones
        start = time.process_time()
        y = x.bootstrap()
        seconds = time.process_time() - start
        out, given = ctx.decrypt(y), ctx.decrypt(x)
        err = np.abs(out - z)
        print(f"run {run}: {seconds:.2f} s, max {bits(err.max())} bits, mean {bits(err.mean())}, "
              f"own {bits(np.abs(out - given).max())}, input {bits(np.abs(given - z).max())}", flush=True)


if __name__ == "__main__":
    main()
