// Samplers for RLWE secrets, errors and uniform polynomials, all driven by a
// ChaCha20Prng (the only randomness source), plus the small -> RNS lift.
//
// Every sampler is deterministic in the generator's keystream, and the exact
// way it consumes the stream is part of the contract (a ciphertext's `a` is
// re-expanded from its seed with sample_uniform_mod), so don't change the
// order of draws described below without versioning the serialization format.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "arith/modarith.h"
#include "ring/csprng.h"

namespace securinfer::ring {

// Uniform in [0, q), 2 <= q < 2^62. Draws n little-endian 64-bit words, masks
// each to the bit length of q - 1 and, for each index in order whose word is
// >= q, draws further words until one is below q (rejection: no modulo bias;
// each attempt succeeds with probability > 1/2).
void sample_uniform_mod(ChaCha20Prng& prng, std::uint64_t q, std::uint64_t* out, std::size_t n);

// Uniform ternary {-1, 0, 1}, each exactly 1/3: one byte per value, bytes of
// 255 rejected (redrawn in index order), the value is byte % 3 - 1.
void sample_ternary(ChaCha20Prng& prng, std::int8_t* out, std::size_t n);

// Rounded Gaussian: round(x) for x ~ N(0, sigma^2) conditioned on
// |x| <= max_deviation (resampled beyond), so |out| <= round(max_deviation)
// (19 for the defaults). sigma > 0 and 0 < max_deviation < 2^52, both finite.
// When the support has at most 64 magnitudes (sigma up to about 10 with the
// 6-sigma cut) this uses an exact cumulative table of that distribution with
// 63-bit thresholds and a branch-free scan, one 64-bit word per sample
// (bit 0 = sign, bits 1..63 = magnitude draw); wider distributions use
// Box-Muller on next_unit_double, which is not constant time.
constexpr double kErrorSigma = 3.19;
void sample_gaussian(ChaCha20Prng& prng, std::int64_t* out, std::size_t n, double sigma = kErrorSigma,
                     double max_deviation = 6 * kErrorSigma);

// out[i * n + k] = v[k] mod primes[i] (coefficient form, residues in [0, q)).
// Any int64 value is reduced correctly, not only |v| < q; branch-free in the
// value, since v is often secret.
void small_to_rns(const std::int8_t* v, std::size_t n, const std::vector<arith::Modulus>& primes,
                  std::uint64_t* out);
void small_to_rns(const std::int64_t* v, std::size_t n, const std::vector<arith::Modulus>& primes,
                  std::uint64_t* out);

}  // namespace securinfer::ring
