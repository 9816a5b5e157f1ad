"""Bootstrapping precision against the chain's tuning knobs (encapsulation,
one thread, insecure ring sizes so it fits the shared machine): q0's headroom
over the scale and the EvalMod primes' size. Prints one line per setting with
the max- and mean-error precision (bits) of two bootstraps of uniform inputs
in [-1, 1] and their CPU seconds.

    python benchmarks/bootstrap_tuning.py 8192 --headroom 5 8 11 14
    python benchmarks/bootstrap_tuning.py 8192 --headroom 8 --eval-mod-bits 60 59 55
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np

import securinfer as si
from securinfer.bootstrapping import parameters_for_bootstrap, prepare


def measure(poly_degree: int, headroom: int, eval_mod_bits: int, rounds: int = 2):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        params = parameters_for_bootstrap(poly_degree, 9, encapsulation=32, special_primes=7,
                                          q0_headroom_bits=headroom, eval_mod_bits=eval_mod_bits)
        ctx = si.Context.create(**params, security=None)
    prepare(ctx, encapsulation=32)
    ctx.generate_bootstrapping_keys()
    rng = np.random.default_rng(1)
    out = []
    for _ in range(rounds):
        z = rng.uniform(-1, 1, ctx.slots)
        x = ctx.encrypt(z).drop_to_level(0)
        start = time.process_time()
        y = x.bootstrap()
        seconds = time.process_time() - start
        err = np.abs(ctx.decrypt(y) - z)
        out.append((round(float(-np.log2(err.max())), 2), round(float(-np.log2(err.mean())), 2), round(seconds, 2)))
    return sum(params["coeff_bits"]), out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("poly_degree", type=int)
    parser.add_argument("--headroom", type=int, nargs="+", default=[8])
    parser.add_argument("--eval-mod-bits", type=int, nargs="+", default=[59])
    args = parser.parse_args()
    si.set_num_threads(1)
    for h in args.headroom:
        for em in args.eval_mod_bits:
            bits, runs = measure(args.poly_degree, h, em)
            print(f"N={args.poly_degree} headroom={h} eval_mod_bits={em} modulus={bits} "
                  f"(max bits, mean bits, cpu s)={runs}", flush=True)


if __name__ == "__main__":
    main()
