// The two exact, level-free steps of CKKS bootstrapping.
//
// mod_raise: a ciphertext at level 0 holds (c0, c1) with c0 + c1 s = t mod q0.
// Lifting c0 and c1 (centred in (-q0/2, q0/2]) to every prime of the chain
// gives a ciphertext at `level` that decrypts to t + q0 I, with I a small
// integer polynomial (|I| ~ sqrt(h/12) for a secret of Hamming weight h).
// The homomorphic DFT and EvalMod then remove q0 I.
//
//   Ciphertext raised = mod_raise(ct0, ctx->max_level(), ctx->level_scale(L));
//
// multiply_by_i: every slot times i (or -i), by the monomial X^(N/2) (which
// evaluates to i at every slot root): exact, no level, no noise.
#pragma once
#include "ckks/ciphertext.h"

namespace securinfer::ckks {

// `a` must be at level 0 (LevelError otherwise). The result's scale is the
// bookkeeping value `scale` (the caller's transforms account for q0).
Ciphertext mod_raise(const Ciphertext& a, std::size_t level, double scale);

Ciphertext multiply_by_i(const Ciphertext& a, bool negative);

}  // namespace securinfer::ckks
