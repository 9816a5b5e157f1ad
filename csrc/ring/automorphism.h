// Galois automorphisms X -> X^g of Z_q[X]/(X^N + 1), for odd g, applied to
// polynomials in NTT form, where they are a permutation of the evaluation
// points (the same for every prime).
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace securinfer::ring {

// perm with out[k] = in[perm[k]] for the bit-reversed NTT layout of ntt/.
std::vector<std::uint32_t> galois_permutation(std::size_t n, std::uint64_t galois_element);

// The Galois element rotating the CKKS slots left by `step` (any sign), 5^step mod 2N.
std::uint64_t rotation_galois_element(std::size_t n, long long step);
// The Galois element of complex conjugation, 2N - 1.
inline std::uint64_t conjugation_galois_element(std::size_t n) { return 2 * n - 1; }

}  // namespace securinfer::ring
