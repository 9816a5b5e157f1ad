// Slot rotations and conjugation through Galois automorphisms and key
// switching; hoisted when several rotations apply to one ciphertext.
//
//   Ciphertext r = rotate(keys, x, 3);              // np.roll(slots, -3)
//   auto many = rotate_many(keys, x, {1, 2, 3});     // one decomposition for all
#pragma once
#include <vector>

#include "ckks/ciphertext.h"
#include "ckks/keys.h"

namespace securinfer::ckks {

// Uses the exact key for `step` when present, else composes power-of-two keys
// (signed binary form); MissingKeyError naming the step and the missing key.
Ciphertext rotate(const KeySet& keys, const Ciphertext& a, long long step);
// Hoisted: c1 decomposed once, each step then costs one inner product and
// ModDown. Steps without an exact key fall back to rotate().
std::vector<Ciphertext> rotate_many(const KeySet& keys, const Ciphertext& a, const std::vector<long long>& steps);
Ciphertext conjugate(const KeySet& keys, const Ciphertext& a);
// One automorphism of `a` with its key from c1's already computed digits
// (decompose(ctx, a.polys[1], a.level)): the hoisted step.
Ciphertext apply_galois_hoisted(const Ciphertext& a, const std::vector<ring::RnsPoly>& digits,
                                std::uint64_t galois_element, const KeySwitchKey& key);
// Slot 0 receives the sum of the first `span` slots (a power of two, at most
// the slot count; log2(span) rotations): the whole sum when the slots past
// `span` are zero. With span == slots every slot receives it.
Ciphertext sum_slots(const KeySet& keys, const Ciphertext& a, std::size_t span);

// The power-of-two steps (with sign) whose keys compose `step`, fewest first.
std::vector<long long> rotation_plan(std::size_t slots, long long step);

// The plan ckks::rotate follows with these keys: the fewest-term plan above
// when its keys are all present, else the all-positive (binary digits of the
// step) or all-negative (of slots - step) plan when those keys are, else the
// fewest-term plan again (its first missing key is the one to name).
std::vector<long long> rotation_plan(const KeySet& keys, const Context& ctx, long long step);

}  // namespace securinfer::ckks
