// NTT-friendly prime generation and roots of unity.
#pragma once
#include <cstdint>
#include <vector>

namespace securinfer::arith {

// Deterministic Miller-Rabin, exact for every 64-bit integer.
bool is_prime(std::uint64_t n);

// The `count` largest primes q < 2^bits with q = 1 (mod 2 * poly_degree), in
// decreasing order, skipping any listed in `exclude`. Deterministic.
// Throws ParameterError for bits outside [10, 60] or when too few exist.
std::vector<std::uint64_t> generate_ntt_primes(int bits, std::size_t poly_degree, std::size_t count,
                                               const std::vector<std::uint64_t>& exclude = {});

// The smallest primitive 2N-th root of unity modulo the prime q (requires
// q = 1 mod 2N). Smallest, so that every build picks the same one.
std::uint64_t minimal_primitive_root(std::size_t two_n, std::uint64_t q);

}  // namespace securinfer::arith
