// CKKS parameters: plain data, validated once (sizes, primes, the 128-bit
// security bound). Two parameter sets are the same only when every field is
// equal (operator==); the SHA-256 fingerprint of their canonical encoding names
// them in serialized headers and caches.
//
//   auto p = CkksParameters::from_bit_sizes(8192, {60, 40, 40, 60}, 40, 1, true);
//   p.max_level();   // 2: q0 is the base, the last prime is special (P)
//   p == q;          // full comparison: degree, every prime, scale, security flag
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "util/sha256.h"

namespace securinfer::ckks {

// Largest log2(Q*P) for 128-bit classical security with a uniform ternary
// secret (HomomorphicEncryption.org standard); 0 for an unlisted N.
int max_secure_modulus_bits(std::size_t poly_degree);

struct CkksParameters {
  std::size_t poly_degree = 0;
  std::vector<std::uint64_t> q_primes;  // q_0 (base) .. q_L: the ciphertext chain
  std::vector<std::uint64_t> p_primes;  // special primes of key switching
  double default_scale = 0;              // scale of fresh encodings at the top level
  bool enforce_security = true;

  // Primes from bit sizes: the last `special_count` sizes are special primes,
  // the others the chain; the largest distinct NTT-friendly primes of each
  // size. Throws ParameterError / SecurityError.
  static CkksParameters from_bit_sizes(std::size_t poly_degree, const std::vector<int>& bit_sizes, int scale_bits,
                                       std::size_t special_count, bool enforce_security);

  std::size_t slots() const { return poly_degree / 2; }
  std::size_t max_level() const { return q_primes.size() - 1; }
  // Primes per key-switching digit (= number of special primes) and digits.
  std::size_t digit_size() const { return p_primes.size(); }
  std::size_t dnum() const { return (q_primes.size() + digit_size() - 1) / digit_size(); }
  // Sum of the primes' bit lengths, an upper bound on log2(Q*P).
  int total_modulus_bits() const;

  // Checks every invariant (also for parameters read from bytes).
  void validate() const;
  // The defining values, little-endian, behind a domain tag: N, the chain
  // primes, the special primes, the default scale's bits, the security flag.
  std::vector<std::uint8_t> canonical_bytes() const;
  // SHA-256 of canonical_bytes().
  util::Sha256Digest fingerprint() const;
  // The 64-bit FNV-1a hash that format v1 headers carry: used only to match a
  // v1 file to its parameters, never as an identity.
  std::uint64_t legacy_fingerprint() const;

  bool operator==(const CkksParameters& other) const;
  bool operator!=(const CkksParameters& other) const { return !(*this == other); }
};

}  // namespace securinfer::ckks
