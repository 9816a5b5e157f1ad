// CKKS canonical-embedding encoder/decoder for ring degree N (power of two in
// [4, 2^17]); N/2 complex slots.
//
// Slot j of a real polynomial p (degree < N) is p(zeta^(5^j mod 2N)) with
// zeta = exp(i*pi/N); the conjugate roots zeta^(-5^j) carry the conjugates, so
// X -> X^5 rotates the slots left by one and X -> X^(2N-1) conjugates them.
//
// encode: m_k = round(scale * p_k), reduced into RNS coefficient form
//   out[i * N + k] = m_k mod primes[i]. Exact for |m_k| up to 2^126: the
//   rounded double is split into two 64-bit words. Throws ParameterError for
//   count > slots, non-finite values, scale not finite or <= 0, or
//   |m_k| >= min(Q/2, 2^126) with Q the product of the primes.
// decode: residues (coefficient form, same layout) are CRT-lifted exactly
//   (Garner mixed radix, multiword integers) to the centered integer in
//   (-Q/2, Q/2], converted to double (correctly rounded from the top 128 bits),
//   divided by scale and evaluated at the slot roots. Residues >= q throw.
//   The primes must be pairwise coprime (ParameterError otherwise); they need
//   not be NTT-friendly. Odd moduli assumed for the centering (any prime > 2).
//
// Method: because 5^j = 1 (mod 4), zeta^(5^j N/2) = i at every slot root, so
// p(x) = c(x) with the complex half-size polynomial c_k = p_k + i p_{k+N/2};
// the slot roots are exactly zeta^(1+4t), t < N/2, so the slots are a size-N/2
// complex DFT of c_k zeta^k, read in the order t_j = (5^j mod 2N - 1) / 4.
// Twiddles, the zeta^k twist and that permutation (composed with the FFT's
// bit reversal) are precomputed here; encode/decode are const and thread-safe.
#pragma once
#include <complex>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "arith/modarith.h"

namespace securinfer::ckks {

class CkksEncoder {
 public:
  explicit CkksEncoder(std::size_t poly_degree);

  std::size_t poly_degree() const { return n_; }
  std::size_t slots() const { return n_ / 2; }

  void encode(const std::complex<double>* values, std::size_t count, double scale,
              const std::vector<arith::Modulus>& primes, std::uint64_t* out) const;
  void decode(const std::uint64_t* residues, const std::vector<arith::Modulus>& primes, double scale,
              std::complex<double>* out) const;

 private:
  // In-place size-slots() transforms on split real/imaginary arrays.
  // forward: natural order in, bit-reversed out, X_t = sum_k x_k w^(tk), w = exp(2 pi i / slots).
  void fft_forward(double* re, double* im) const;
  // inverse: bit-reversed in, natural out, x_k = sum_t X_t w^(-tk) (no 1/slots factor).
  void fft_inverse(double* re, double* im) const;

  std::size_t n_;
  // tw_re_/tw_im_[h + k] = exp(2 pi i k / (2h)) for h = 1, 2, 4, ..., slots/2 and k < h.
  std::vector<double> tw_re_, tw_im_;
  // zeta^k for k < slots.
  std::vector<double> twist_re_, twist_im_;
  // Slot j lives at position slot_pos_[j] of the bit-reversed FFT array.
  std::vector<std::uint32_t> slot_pos_;
};

}  // namespace securinfer::ckks
