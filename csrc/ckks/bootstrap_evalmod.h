// EvalMod of CKKS bootstrapping: slot-wise x -> (1/2pi) sin(2 pi (K+1) x),
// i.e. the reduction t mod q0 of the raised coefficients t = x q0 (K+1),
// by a scaled cosine and double-angle steps (Han-Ki 2020, Bossuat et al. 2021):
//
//   c = p(x) ~ cos(2 pi ((K+1) x - 1/4) / 2^r)     (Chebyshev series, |x| <= 1)
//   r times: c = 2 c^2 - 1                          -> cos(2 pi (K+1) x - pi/2)
//
// which is sin(2 pi t / q0) ~ 2 pi (t mod q0) / q0 for t mod q0 << q0.
// Every intermediate lands on its level's canonical scale (the evaluator's
// automatic scale management), so no level is lost to scale alignment.
//
//   Ciphertext y = eval_mod(keys, x, chebyshev_coefficients, /*double_angles=*/3);
#pragma once
#include <complex>
#include <vector>

#include "ckks/ciphertext.h"
#include "ckks/keys.h"

namespace securinfer::ckks {

// sum_k coeffs[k] T_k(x), baby-step giant-step on the Chebyshev basis
// (ceil(log2(degree + 1)) + 1 levels at most). Real coefficients, real slots.
Ciphertext evaluate_chebyshev(const KeySet& keys, const Ciphertext& x, const std::vector<double>& coeffs);

// The series times each per-slot mask (slots values each), from one basis:
// the same levels as evaluate_chebyshev, a plaintext product per term in
// place of the integer one. (SlotsToCoeffs-first sparse bootstrapping
// unpacks EvalMod's output with them.)
std::vector<Ciphertext> evaluate_chebyshev_masked(const KeySet& keys, const Ciphertext& x,
                                                  const std::vector<double>& coeffs,
                                                  const std::vector<std::vector<std::complex<double>>>& masks);

// Levels evaluate_chebyshev spends on a series of `degree`.
std::size_t chebyshev_depth(std::size_t degree);

// The Chebyshev series, then `double_angles` steps c -> 2c^2 - 1.
Ciphertext eval_mod(const KeySet& keys, const Ciphertext& x, const std::vector<double>& coeffs,
                    std::size_t double_angles);

}  // namespace securinfer::ckks
