// Baby-step giant-step split of a set of diagonal indices (Halevi-Shoup 2018,
// as in Lattigo's lintrans): k = g + i with g = k - (k mod n1) the giant step
// and i = k mod n1 the baby step, so
//
//   y = sum_k D_k * rot(x, k) = sum_g rot( sum_i rot(D_{g+i}, -g) * rot(x, i), g )
//
// needs the distinct baby rotations (hoisted: one decomposition of x) plus one
// full rotation per distinct non-zero giant step, instead of one per k.
//
//   auto split = split_bsgs({0, 1, ..., 511}, 4096, choose_baby_step(ks, 4096));
//   // n1 = 32: 31 baby + 15 giant rotations instead of 511
//
// Cost model (choose_baby_step): a hoisted baby rotation costs one key-switch
// inner product, ModDown and permutation (1 unit); a giant rotation also pays
// its own ModUp decomposition (kGiantCost units, measured ~1.5 at N = 8192
// with 3 digits). The plaintext products are the same for every split, so they
// do not enter the choice. n1 ranges over the powers of two up to slots.
#pragma once
#include <cstddef>
#include <map>
#include <vector>

namespace securinfer::linalg {

constexpr double kGiantCost = 1.5;

struct BsgsSplit {
  std::size_t baby_step = 1;                                // n1
  std::vector<std::size_t> babies;                          // distinct i (sorted, may include 0)
  std::map<std::size_t, std::vector<std::size_t>> giants;   // g -> the k with that giant step
};

BsgsSplit split_bsgs(const std::vector<std::size_t>& ks, std::size_t slots, std::size_t baby_step);
// Estimated cost (units of one hoisted rotation) of a split.
double bsgs_cost(const BsgsSplit& split);
// The n1 of least estimated cost (ties: the larger n1, fewer rotated sums).
std::size_t choose_baby_step(const std::vector<std::size_t>& ks, std::size_t slots);

}  // namespace securinfer::linalg
