// Element-wise kernels over one RNS limb, one set per instruction set.
// Contract for every path: inputs in [0, q), outputs in [0, q); `out` may alias
// any input; n is any length (tails handled). Every path returns exactly the
// scalar path's words.
#pragma once
#include <cstddef>
#include <cstdint>

#include "arith/modarith.h"

namespace securinfer::eltwise {

using arith::Modulus;
using std::size_t;
using std::uint64_t;

// The kernels of one path, as a table (so the dispatcher stays one switch).
struct EltwiseKernels {
  void (*add)(uint64_t* out, const uint64_t* a, const uint64_t* b, size_t n, const Modulus& q);
  void (*sub)(uint64_t* out, const uint64_t* a, const uint64_t* b, size_t n, const Modulus& q);
  void (*negate)(uint64_t* out, const uint64_t* a, size_t n, const Modulus& q);
  // out = a * b mod q
  void (*mul)(uint64_t* out, const uint64_t* a, const uint64_t* b, size_t n, const Modulus& q);
  // out = out + a * b mod q
  void (*mul_add)(uint64_t* out, const uint64_t* a, const uint64_t* b, size_t n, const Modulus& q);
  // out = a * w mod q for a constant w < q, with w_shoup = floor(w 2^64 / q)
  void (*mul_scalar)(uint64_t* out, const uint64_t* a, uint64_t w, uint64_t w_shoup, size_t n, const Modulus& q);
};

extern const EltwiseKernels kernels_scalar;
#if defined(SECURINFER_X86_KERNELS)
extern const EltwiseKernels kernels_avx2;
extern const EltwiseKernels kernels_avx512;
extern const EltwiseKernels kernels_ifma;  // q < 2^50 only
#endif

}  // namespace securinfer::eltwise
