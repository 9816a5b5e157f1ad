// Hybrid (GHS) key switching with dnum digits, in two halves so rotations can
// be hoisted (Halevi-Shoup 2018): decompose once, then apply many keys.
//
//   auto digits = decompose(ctx, c1, level);              // ModUp, once
//   apply_switch_key(ctx, digits, level, key, nullptr, k0, k1);   // inner product + ModDown
// (k0, k1) then decrypts under s to about c1 * s' (s' the key's source secret).
#pragma once
#include <cstdint>
#include <vector>

#include "ckks/context.h"
#include "ckks/keys.h"
#include "ring/rns_poly.h"

namespace securinfer::ckks {

// The digits of d (NTT form, level + 1 limbs), each lifted to the extended base
// q_0..q_level, P by fast base conversion; NTT form.
std::vector<ring::RnsPoly> decompose(const Context& context, const ring::RnsPoly& d, std::size_t level);

// ModDown: out = round(acc / P) over Q_level, for acc over Q_level then P
// (NTT form; acc's special limbs are consumed).
void mod_down(const Context& context, ring::RnsPoly& acc, std::size_t level, ring::RnsPoly& out);

// out0, out1 = ModDown(sum_j digit_j * key_j) at `level`, NTT form. With a
// permutation, each digit is read through it first (a hoisted automorphism).
void apply_switch_key(const Context& context, const std::vector<ring::RnsPoly>& digits, std::size_t level,
                      const KeySwitchKey& key, const std::uint32_t* permutation, ring::RnsPoly& out0,
                      ring::RnsPoly& out1);

// The inner product alone: acc0, acc1 over the extended base (q_0..q_level,
// then P), NTT form, not divided by P. Several such sums (and P times
// ciphertexts over Q) may be added before ONE mod_down_rescale: double
// hoisting's deferred ModDown (Bossuat et al. 2021).
void switch_key_extended(const Context& context, const std::vector<ring::RnsPoly>& digits, std::size_t level,
                         const KeySwitchKey& key, const std::uint32_t* permutation, ring::RnsPoly& acc0,
                         ring::RnsPoly& acc1);
// out = round((acc + P add) / (P q_level)) at level - 1: ModDown and rescale
// in one division (acc over the extended base, consumed; add over Q_level).
void mod_down_rescale(const Context& context, ring::RnsPoly& acc, const ring::RnsPoly& add, std::size_t level,
                      ring::RnsPoly& out);
// The same inner product, then ModDown and rescaling fused into one division
// by P q_level: out_k = round((acc_k + P add_k) / (P q_level)) at level - 1.
// Saves the separate rescale's NTTs after a relinearisation.
void apply_switch_key_rescale(const Context& context, const std::vector<ring::RnsPoly>& digits, std::size_t level,
                              const KeySwitchKey& key, const ring::RnsPoly& add0, const ring::RnsPoly& add1,
                              ring::RnsPoly& out0, ring::RnsPoly& out1);

}  // namespace securinfer::ckks
