// Sum of pointwise products of one RNS limb with a single reduction per
// coefficient: out[k] = sum_t a[t][k] * b[t][k] mod q.
//
// Why: key switching sums dnum digit x key products per limb, and a giant step
// of the BSGS product sums n1 plaintext x ciphertext products. Reducing each product (mul_add) costs a Barrett reduction per term;
// here the 128-bit products are added exactly and reduced once, every
// `terms_per_reduction(q)` terms (the sum must stay below 2^124, the range of
// barrett_reduce_128). Coefficients go in blocks that keep the accumulators
// in L1.
//
//   const uint64_t* a[] = {pt0, pt1}, *b[] = {ct0, ct1};
//   dot_accumulate(out, a, b, 2, n, Modulus(q));
//
// Inputs in [0, q), output in [0, q); q < 2^60. Scalar 64 x 64 -> 128-bit
// multiplies (mulx): AVX2 has no 64-bit multiply, and one mulx plus a 128-bit
// add per term beats an AVX2 Barrett product per term. For q < 2^50 the avx2
// and avx512/ifma paths run FMA kernels on doubles instead
// (dot_accumulate_avx2.cpp), equal word for word.
#pragma once
#include <cstddef>
#include <cstdint>

#include "arith/modarith.h"
#include "simd/dispatch.h"

namespace securinfer::eltwise {

std::size_t terms_per_reduction(const arith::Modulus& q);

// The fastest kernel for q under the active path (simd::select_path).
void dot_accumulate(std::uint64_t* out, const std::uint64_t* const* a, const std::uint64_t* const* b,
                    std::size_t terms, std::size_t n, const arith::Modulus& q);
// The same on a given path (checked by the caller: simd::checked_path).
void dot_accumulate(std::uint64_t* out, const std::uint64_t* const* a, const std::uint64_t* const* b,
                    std::size_t terms, std::size_t n, const arith::Modulus& q, simd::SimdPath path);

// The same with one scalar per term: out[k] = sum_t s[t] * b[t][k] mod q
// (a linear combination of vectors; s[t] in [0, q)).
void scalar_accumulate(std::uint64_t* out, const std::uint64_t* s, const std::uint64_t* const* b,
                       std::size_t terms, std::size_t n, const arith::Modulus& q);

}  // namespace securinfer::eltwise
