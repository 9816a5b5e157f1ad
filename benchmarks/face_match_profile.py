"""Where one match-mode block's time goes (default ring, compact probe, norm
check), in CPU seconds with one core thread, and the per-probe time it
projects for 1,000,000 templates (62 blocks), for B = 16 and B = 128; then
the step's six stages with the 4-relinearisation stage
(``threshold.odd_degree7``) against the generic ``polyval`` plan, alternately
in one process (results_face.md). Needs about 4 GB of memory.

    OPENBLAS_NUM_THREADS=1 python benchmarks/face_match_profile.py
"""

from __future__ import annotations

import os
import time

import numpy as np

import securinfer as si
from securinfer.apps import face
from securinfer.apps.face import compact_probe
from securinfer.apps.face.match import add_answer_noise
from securinfer.apps.face.threshold import odd_degree7
from securinfer.linalg.polynomial import polyval

BLOCKS_PER_MILLION = 62


def best_cpu(f, *args, rounds=2):
    best, out = None, None
    for _ in range(rounds):
        start = time.process_time()
        out = f(*args)
        spent = time.process_time() - start
        best = spent if best is None else min(best, spent)
    return out, best


def profile_block():
    rng = np.random.default_rng(0)
    rows = rng.normal(size=(16384, 128))
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    gallery = face.Gallery(rows)
    ctx = face.create_context(dict(gallery.describe(), rotations=compact_probe.EXPANSION_STEPS))
    public = ctx.public()
    probe = rows[5] + 0.02 * rng.normal(size=128)
    probe_cts = face.encrypt_probe(ctx, probe / np.linalg.norm(probe), compact=True)
    rule = gallery.rule
    real, t_real = best_cpu(rule.real_probe, probe_cts)
    level = real[0].level
    print(f"real part + re-randomisation {t_real:.3f} s")
    for baby in (16, 128):
        gallery._encoded_diagonals.prepare(public, level, baby, 0)
        babies, t_baby = best_cpu(compact_probe.baby_rotations, real[0], baby)
        squares, t_squares = best_cpu(rule.squares, babies)
        product, t_product = best_cpu(
            lambda: gallery._encoded_diagonals.score(babies, public, level, 0, add=squares) - 4.0)
        a, b = rule._affine()
        x, t_affine = best_cpu(lambda: product * (a / 4.0) + b)
        bits, t_step = best_cpu(rule.plan.evaluate, x)
        _, t_noise = best_cpu(add_answer_noise, bits, rule.answer_noise, None)
        per_probe = t_real + t_baby + t_squares
        per_block = t_product + t_affine + t_step + t_noise
        print(f"B={baby}: per probe {per_probe:.2f} s (baby rotations {t_baby:.2f}, squares {t_squares:.2f}); "
              f"per block {per_block:.2f} s (product + giant steps {t_product:.2f}, affine {t_affine:.3f}, "
              f"step {t_step:.2f}, noise {t_noise:.3f}); 1 block {per_probe + per_block:.1f} s, "
              f"1M ({BLOCKS_PER_MILLION} blocks) {per_probe + BLOCKS_PER_MILLION * per_block:.0f} s")


def compare_stages(rounds=3):
    ctx = si.Context.create(**face.MATCH_PARAMETERS)
    plan = face.Gallery(np.eye(1, 128)).rule.plan
    x = np.random.default_rng(0).uniform(-1, 1, ctx.slots)
    ct = ctx.encrypt(x).drop_to_level(plan.levels)
    want = plan.reference(x * plan.span + plan.threshold)
    outside = np.abs(x * plan.span) >= plan.margin
    stages = {"polyval": lambda y, c: polyval(y, c, plan="min_depth"), "odd_degree7": odd_degree7}
    times = {name: [] for name in stages}
    for _ in range(rounds):
        for name, stage in stages.items():
            start = time.process_time()
            y = ct
            for coeffs in plan.stages():
                y = stage(y, coeffs)
            times[name].append(time.process_time() - start)
            error = np.abs(ctx.decrypt(y).real - want)[outside].max()
            print(f"{name}: {times[name][-1]:.3f} s, largest error outside the band 2^{np.log2(error):.1f}")
    print({name: f"min {min(t):.3f} s, median {np.median(t):.3f} s" for name, t in times.items()})


if __name__ == "__main__":
    si.set_num_threads(1)
    print("load average", [round(v, 2) for v in os.getloadavg()])
    profile_block()
    compare_stages()
