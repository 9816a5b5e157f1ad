// An encrypted vector times a plaintext matrix, prepared once and applied to
// any number of ciphertexts: the diagonal method with baby-step giant-step and
// hoisted baby rotations.
//
//   auto set = vector_matrix_diagonals(W, 512, 512, ctx->slots());
//   LinearTransform lt(ctx, set, /*level=*/2);        // encodes the diagonals once
//   for (long long s : lt.required_rotations()) keys.add_galois_key(ctx, rotation_galois_element(n, s));
//   Ciphertext y = lt.apply(keys, x);                 // x @ W, one level down
//
// apply(x):
//   1. replication: x += rot(x, -period) ... (DiagonalSet::copies; double-and-add)
//   2. baby steps rot(x, i), i < n1: c1 decomposed once (ModUp), then one
//      inner product + ModDown per step with the automorphism applied as an
//      NTT-domain permutation of the digits (Halevi-Shoup hoisting); steps
//      without their own key are built from one another with power-of-two
//      keys (composed_rotations.h);
//   3. per giant step g: sum_i P_{g,i} * rot(x, i) with one modular reduction
//      per coefficient (dot_accumulate), NOT rescaled; run chunk of
//      coefficients by chunk, all giant steps on a chunk before the next, so
//      the babies stay in cache while the plaintexts stream by once;
//   4. the giant sums rotated by g and added, then ONE rescale: with exact
//      keys the rotations' key switches are summed on the extended basis
//      and one fused ModDown + rescale ends it (double hoisting); with the
//      power-of-two keys, Horner's rule (composed_rotations.h).
// P_{g,i} = rot(D_{g+i}, -g) is encoded at the transform's level with the
// scale that lands a canonical-scale input on the canonical scale of the
// level below (product_scale_for), so the output is at level - 1 like any
// plaintext product. Inputs above the level are dropped to it first; inputs
// below it raise LevelError (prepare another transform for that level).
// Every plaintext lives in NTT form. A diagonal of a vector replicated with
// period p repeats with it: its polynomial is in X^(slots/p), whose NTT values
// come in runs of slots/p equal words, and only one word per run is kept
// (`run_length()`): 512 diagonals of N = 8192 at 3 limbs take 12.5 MB instead
// of 100 MB, and apply() reads 8x less memory.
#pragma once
#include <cstddef>
#include <vector>

#include "ckks/ciphertext.h"
#include "ckks/keys.h"
#include "linalg/bsgs.h"
#include "linalg/diagonals.h"

namespace securinfer::linalg {

class LinearTransform {
 public:
  // baby_step 0: chosen by the cost model (bsgs.h). level >= 1.
  LinearTransform(const ckks::ContextPtr& context, const DiagonalSet& set, std::size_t level,
                  std::size_t baby_step = 0);

  // Rotation steps apply() uses (left rotations; negative = right), without
  // 0, each in (-slots/2, slots/2]: replication, baby and giant steps. Known
  // before any key exists.
  std::vector<long long> required_rotations() const;

  ckks::Ciphertext apply(const ckks::KeySet& keys, const ckks::Ciphertext& x) const;

  std::size_t rows() const { return rows_; }
  std::size_t cols() const { return cols_; }
  std::size_t level() const { return level_; }
  std::size_t baby_step() const { return baby_step_; }
  std::size_t giant_count() const { return giants_.size(); }
  std::size_t plaintext_count() const;
  std::size_t output_slots() const { return output_slots_; }
  double plaintext_scale() const { return plaintext_scale_; }
  // Equal NTT words per kept word in every plaintext (a power of two, 1 when
  // the diagonals do not repeat).
  std::size_t run_length() const { return run_length_; }
  std::size_t byte_size() const;

 private:
  struct Term {
    std::size_t baby;  // index into babies_
    ring::RnsPoly pt;  // level + 1 limbs, NTT form, one word per run (degree N / run_length_)
  };
  struct Giant {
    std::size_t step;  // left rotation in [0, slots)
    std::vector<Term> terms;
  };

  ckks::ContextPtr context_;
  std::size_t rows_, cols_, level_, baby_step_, output_slots_, block_stride_, run_length_ = 1;
  double plaintext_scale_;
  std::vector<ReplicationStep> replication_;
  std::vector<std::size_t> babies_;
  std::vector<Giant> giants_;
};

}  // namespace securinfer::linalg
