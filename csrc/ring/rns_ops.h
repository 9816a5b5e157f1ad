// Limb-parallel operations on RnsPoly. Every function takes the primes of the
// polynomial's limbs (primes.size() == limbs, checked) and splits the work over
// limbs with parallel_for. Inputs and outputs are reduced ([0, q) per limb).
#pragma once
#include <cstdint>

#include "ring/rns_poly.h"
#include "ring/rns_prime.h"

namespace securinfer::ring {

void ntt_forward(RnsPoly& a, const PrimeList& primes);
void ntt_inverse(RnsPoly& a, const PrimeList& primes);

// out = a op b (out may alias a or b); all three have primes.size() limbs.
void add(RnsPoly& out, const RnsPoly& a, const RnsPoly& b, const PrimeList& primes);
void sub(RnsPoly& out, const RnsPoly& a, const RnsPoly& b, const PrimeList& primes);
void negate(RnsPoly& out, const RnsPoly& a, const PrimeList& primes);
// Pointwise product (both in NTT form).
void multiply(RnsPoly& out, const RnsPoly& a, const RnsPoly& b, const PrimeList& primes);
// out += a * b pointwise.
void multiply_add(RnsPoly& out, const RnsPoly& a, const RnsPoly& b, const PrimeList& primes);
// out = a * c where c[i] < primes[i] is one constant per limb.
// (d0, d1, d2) = (a0 b0, a0 b1 + a1 b0, a1 b1): a ciphertext product's tensor,
// in one pass. The outputs are (re)shaped; they must not alias the inputs.
void tensor_product(RnsPoly& d0, RnsPoly& d1, RnsPoly& d2, const RnsPoly& a0, const RnsPoly& a1, const RnsPoly& b0,
                    const RnsPoly& b1, const PrimeList& primes);
void multiply_constant(RnsPoly& out, const RnsPoly& a, const std::uint64_t* c, const PrimeList& primes);
// out = a + c where c[i] < primes[i] is one constant per limb (in NTT form a
// constant polynomial is the same value at every point).
void add_constant(RnsPoly& out, const RnsPoly& a, const std::uint64_t* c, const PrimeList& primes);

// Permutes every limb: out[k] = a[perm[k]] (an automorphism in NTT form).
void permute(RnsPoly& out, const RnsPoly& a, const std::uint32_t* perm, const PrimeList& primes);

}  // namespace securinfer::ring
