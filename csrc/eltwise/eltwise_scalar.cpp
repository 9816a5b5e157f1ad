// Portable reference element-wise kernels.
#include "eltwise/eltwise_kernels.h"

namespace securinfer::eltwise {
namespace {

using namespace arith;

void add_scalar(uint64_t* out, const uint64_t* a, const uint64_t* b, size_t n, const Modulus& q) {
  const uint64_t m = q.value();
  for (size_t i = 0; i < n; ++i) out[i] = add_mod(a[i], b[i], m);
}

void sub_scalar(uint64_t* out, const uint64_t* a, const uint64_t* b, size_t n, const Modulus& q) {
  const uint64_t m = q.value();
  for (size_t i = 0; i < n; ++i) out[i] = sub_mod(a[i], b[i], m);
}

void negate_scalar(uint64_t* out, const uint64_t* a, size_t n, const Modulus& q) {
  const uint64_t m = q.value();
  for (size_t i = 0; i < n; ++i) out[i] = neg_mod(a[i], m);
}

void mul_scalar_kernel(uint64_t* out, const uint64_t* a, const uint64_t* b, size_t n, const Modulus& q) {
  for (size_t i = 0; i < n; ++i) out[i] = mul_mod(a[i], b[i], q);
}

void mul_add_scalar(uint64_t* out, const uint64_t* a, const uint64_t* b, size_t n, const Modulus& q) {
  // out + a*b < q + q^2 < 2^120: one Barrett reduction of the 128-bit sum.
  for (size_t i = 0; i < n; ++i) out[i] = barrett_reduce_128(u128(a[i]) * b[i] + out[i], q);
}

void mul_constant_scalar(uint64_t* out, const uint64_t* a, uint64_t w, uint64_t w_shoup, size_t n,
                         const Modulus& q) {
  const uint64_t m = q.value();
  for (size_t i = 0; i < n; ++i) out[i] = mul_shoup(a[i], w, w_shoup, m);
}

}  // namespace

const EltwiseKernels kernels_scalar = {add_scalar,        sub_scalar,     negate_scalar,
                                       mul_scalar_kernel, mul_add_scalar, mul_constant_scalar};

}  // namespace securinfer::eltwise
