// AVX-512 IFMA element-wise kernels (8 lanes of 64 bits), moduli q < 2^50.
//
// Inputs in [0, q), outputs in [0, q), equal word for word to
// eltwise_scalar.cpp (every output is the unique reduced residue). `out` may be
// the same array as an input: each vector is loaded before it is stored. The
// last n mod 8 elements go through the scalar kernels.
//
// mul / mul_add: the product as two 52-bit words (madd52lo/hi), then a 52-bit
// Barrett reduction with a per-call constant (simd/modarith_ifma.h).
// mul_scalar: Shoup's method in 52-bit words; floor(w 2^52 / q) is the
// caller's floor(w 2^64 / q) shifted right by 12.
#include "eltwise/eltwise_kernels.h"
#include "simd/modarith_ifma.h"

namespace securinfer::eltwise {
namespace {

using namespace simd::ifma;

// No multiplier involved: the AVX-512 kernels (called, not copied into the
// table, so that the table below stays a compile-time constant).
void add_ifma(uint64_t* out, const uint64_t* a, const uint64_t* b, size_t n, const Modulus& q) {
  kernels_avx512.add(out, a, b, n, q);
}
void sub_ifma(uint64_t* out, const uint64_t* a, const uint64_t* b, size_t n, const Modulus& q) {
  kernels_avx512.sub(out, a, b, n, q);
}
void negate_ifma(uint64_t* out, const uint64_t* a, size_t n, const Modulus& q) { kernels_avx512.negate(out, a, n, q); }

void mul_ifma(uint64_t* out, const uint64_t* a, const uint64_t* b, size_t n, const Modulus& q) {
  const Barrett52 br = make_barrett52(q.value(), q.bits());
  const __m512i zero = _mm512_setzero_si512();
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m512i x = load(a + i), y = load(b + i);
    const __m512i lo = _mm512_madd52lo_epu64(zero, x, y), hi = _mm512_madd52hi_epu64(zero, x, y);
    store(out + i, barrett_reduce52(lo, hi, br));
  }
  kernels_scalar.mul(out + i, a + i, b + i, n - i, q);
}

void mul_add_ifma(uint64_t* out, const uint64_t* a, const uint64_t* b, size_t n, const Modulus& q) {
  // a*b + out <= (q-1)^2 + q-1 < 2^(2L): inside Barrett's range.
  const Barrett52 br = make_barrett52(q.value(), q.bits());
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m512i x = load(a + i), y = load(b + i);
    // out + lo52(xy) < 2^53: carry its bit 52 into the high word.
    const __m512i sum = _mm512_madd52lo_epu64(load(out + i), x, y);
    const __m512i hi = _mm512_madd52hi_epu64(_mm512_srli_epi64(sum, 52), x, y);
    store(out + i, barrett_reduce52(_mm512_and_si512(sum, br.m.mask52), hi, br));
  }
  kernels_scalar.mul_add(out + i, a + i, b + i, n - i, q);
}

void mul_scalar_ifma(uint64_t* out, const uint64_t* a, uint64_t w, uint64_t w_shoup, size_t n, const Modulus& q) {
  const Mod52 m = make_mod52(q.value());
  const __m512i vw = set1(w), vws = set1(w_shoup >> 12);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) store(out + i, sub_if_ge(mul_shoup_lazy52(load(a + i), vw, vws, m), m.q));
  kernels_scalar.mul_scalar(out + i, a + i, w, w_shoup, n - i, q);
}

}  // namespace

const EltwiseKernels kernels_ifma = {add_ifma, sub_ifma, negate_ifma, mul_ifma, mul_add_ifma, mul_scalar_ifma};

}  // namespace securinfer::eltwise
