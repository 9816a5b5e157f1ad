// A slot-wise linear map with complex diagonals, y = sum_k D_k * rot(x, k),
// prepared once at one level: the building block of the homomorphic DFT of
// bootstrapping (CoeffsToSlots / SlotsToCoeffs, one transform per FFT stage
// group). Same evaluation as LinearTransform (baby-step giant-step, hoisted
// baby rotations, one rescale at the end), without replication and with
// complex plaintexts.
//
//   std::map<std::size_t, std::vector<std::complex<double>>> diags = ...;   // k -> slots values
//   ComplexTransform t(ctx, diags, /*level=*/L);
//   Ciphertext y = t.apply(keys, x);   // canonical scale in, canonical scale of L - 1 out
#pragma once
#include <complex>
#include <cstddef>
#include <map>
#include <vector>

#include "ckks/ciphertext.h"
#include "ckks/keys.h"

namespace securinfer::linalg {

using ComplexDiagonals = std::map<std::size_t, std::vector<std::complex<double>>>;

class ComplexTransform {
 public:
  // Diagonal k (left rotation in [0, slots)) holds slots values. level >= 1.
  // baby_step 0: chosen by the BSGS cost model. keep_encoded false: the
  // diagonals stay as complex values (16 bytes a slot instead of 8 (level + 1)
  // bytes a coefficient) and are encoded at each apply (memory for time).
  ComplexTransform(const ckks::ContextPtr& context, const ComplexDiagonals& diagonals, std::size_t level,
                   std::size_t baby_step = 0, bool keep_encoded = true);

  // Left rotation steps apply() uses, each in (-slots/2, slots/2], without 0.
  std::vector<long long> required_rotations() const;
  // x at `level` (dropped to it if above); MissingKeyError without the keys.
  ckks::Ciphertext apply(const ckks::KeySet& keys, const ckks::Ciphertext& x) const;

  std::size_t level() const { return level_; }
  std::size_t baby_step() const { return baby_step_; }
  std::size_t plaintext_count() const;
  std::size_t byte_size() const;

 private:
  struct Term {
    std::size_t baby;
    ring::RnsPoly pt;                           // when kept encoded
    std::vector<std::complex<double>> values;  // otherwise (pre-rotated)
  };
  ring::RnsPoly plaintext(const Term& t) const;
  struct Giant {
    std::size_t step;
    std::vector<Term> terms;
  };
  ckks::ContextPtr context_;
  std::size_t level_, baby_step_;
  bool keep_encoded_;
  double plaintext_scale_;
  std::vector<std::size_t> babies_;
  std::vector<Giant> giants_;
};

}  // namespace securinfer::linalg
