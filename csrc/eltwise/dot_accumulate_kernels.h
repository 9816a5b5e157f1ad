// The instruction-set kernels behind dot_accumulate (dot_accumulate.h), for
// primes q < 2^50 (FMA on doubles). Same contract: inputs in [0, q), output
// in [0, q), equal word for word to the scalar kernel.
#pragma once
#include <cstddef>
#include <cstdint>

#include "arith/modarith.h"

namespace securinfer::eltwise {

// Lazy products between two reductions of a double accumulator (see
// dot_accumulate_avx2.cpp for the bound).
constexpr std::size_t kTermsPerReduction = 8;

// The scalar kernel on coefficients [begin, end) (the vector kernels' tail).
void dot_accumulate_tail(std::uint64_t* out, const std::uint64_t* const* a, const std::uint64_t* const* b,
                         std::size_t terms, std::size_t begin, std::size_t end, const arith::Modulus& q);

#if defined(SECURINFER_X86_KERNELS)
void dot_accumulate_fma_avx2(std::uint64_t* out, const std::uint64_t* const* a, const std::uint64_t* const* b,
                             std::size_t terms, std::size_t n, const arith::Modulus& q);
void dot_accumulate_fma_avx512(std::uint64_t* out, const std::uint64_t* const* a, const std::uint64_t* const* b,
                               std::size_t terms, std::size_t n, const arith::Modulus& q);
#endif

}  // namespace securinfer::eltwise
