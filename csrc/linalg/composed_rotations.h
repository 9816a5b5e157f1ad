// The rotations of a baby-step giant-step product when the key set lacks some
// of its steps (typically: only the default power-of-two keys), at close to
// the cost of exact keys.
//
//   auto babies = baby_rotations(keys, x, digits, {0, 1, 2, 3, ..., 31});
//   Ciphertext y = sum_rotated(keys, std::move(partials), {0, 32, 64, ..., 480});
//
// Baby steps i < n1: a step with its own key is hoisted from x's digits; any
// other is rot(r, k) for an already computed rotation r and a power-of-two
// key k (either direction), r chosen greedily to cover the most steps and
// decomposed once for all of them. For 1..31 with power-of-two keys: 31
// key-switch inner products and 6 extra ModUps, instead of 67 full rotations
// (ckks::rotate composes a step with one full rotation per NAF term).
//
// Giant steps: sum_g rot(S_g, g) either as independent rotations (parallel,
// each composed from its NAF terms when it has no key) or by Horner's rule
// over the sorted steps, acc = rot(acc, g_j - g_{j-1}) + S_{g_{j-1}}, whose
// gaps (n1 each for a dense product) are single power-of-two keys: 15
// rotations for 0, 32, ..., 480 instead of 28. The form with fewer key
// switches under the given keys is taken (ties: independent, which threads;
// Horner in one chain per thread when that costs no more than one chain).
#pragma once
#include <functional>
#include <cstddef>
#include <vector>

#include "ckks/ciphertext.h"
#include "ckks/keys.h"
#include "ring/rns_poly.h"

namespace securinfer::linalg {

// rot(x, i) for each i of `steps` (each in [0, slots)). `digits`: x's c1
// decomposed at x.level, or empty when no step has its own key. Needs, for
// each step without a key, the keys of its power-of-two parts (MissingKeyError).
std::vector<ckks::Ciphertext> baby_rotations(const ckks::KeySet& keys, const ckks::Ciphertext& x,
                                             const std::vector<ring::RnsPoly>& digits,
                                             const std::vector<std::size_t>& steps);

// sum_j rot(parts[j], steps[j]), steps distinct, each in [0, slots). parts
// must all have the same level and scale.
ckks::Ciphertext sum_rotated(const ckks::KeySet& keys, std::vector<ckks::Ciphertext> parts,
                             const std::vector<std::size_t>& steps);

// sum_rotated, then rescaled one level down. When every step has its own
// key, double hoisting: each rotation's key switch stays on the extended
// basis Q P, the sums are added there, and one fused ModDown + rescale ends
// the whole sum (2 ModDowns per giant step and a rescale become one
// division by P q_level per polynomial). Else sum_rotated and a rescale.
ckks::Ciphertext sum_rotated_rescaled(const ckks::KeySet& keys, std::vector<ckks::Ciphertext> parts,
                                      const std::vector<std::size_t>& steps);

// The same with part j made on demand by make_part(j), a thread's worth at a
// time, each added in and freed before the next are made: a transform's
// giant-step products never all exist at once (at N = 2^16 they were
// hundreds of MB of a bootstrap's peak). make_part runs on pool threads.
ckks::Ciphertext sum_rotated_rescaled(const ckks::KeySet& keys, std::size_t count,
                                      const std::function<ckks::Ciphertext(std::size_t)>& make_part,
                                      const std::vector<std::size_t>& steps);

// Key switches sum_rotated spends with these keys (a step that cannot be
// composed counts as a huge number): {independent, Horner in `chains`
// interleaved chains}. Chain r takes the r-th, (r + chains)-th, ... smallest
// steps and is rotated by its smallest at the end; with steps 0, n1, 2 n1, ...
// and 2 chains every gap is 2 n1, still one power-of-two key, and the two
// chains run on two threads for the same count.
std::pair<std::size_t, std::size_t> giant_key_switches(const ckks::KeySet& keys, const ckks::Context& ctx,
                                                       const std::vector<std::size_t>& steps,
                                                       std::size_t chains = 1);

}  // namespace securinfer::linalg
