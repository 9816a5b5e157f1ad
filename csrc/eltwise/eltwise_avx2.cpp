// AVX2 element-wise kernels (4 lanes of 64 bits), any modulus q in [2, 2^60).
//
// Inputs in [0, q), outputs in [0, q), equal word for word to
// eltwise_scalar.cpp (every output is the unique reduced residue). `out` may be
// the same array as an input: each vector is loaded before it is stored. The
// last n mod 4 elements go through the scalar kernels.
//
// mul / mul_add: for q < 2^50, on doubles with FMA (simd/modarith_fma_avx2.h:
// exact products, a quotient from 1/q, one sign correction); otherwise the
// 128-bit product from 32-bit partial products, then a Barrett reduction with
// a per-call constant (simd/modarith_avx2.h).
// mul_scalar: on doubles for q < 2^50, else Shoup's method with the caller's
// w_shoup.
#include "eltwise/eltwise_kernels.h"
#include "simd/dispatch.h"
#include "simd/modarith_avx2.h"
#include "simd/modarith_fma_avx2.h"

namespace securinfer::eltwise {
namespace {

using namespace simd::avx2;

void add_avx2(uint64_t* out, const uint64_t* a, const uint64_t* b, size_t n, const Modulus& q) {
  const __m256i vq = set1(q.value());
  size_t i = 0;
  for (; i + 4 <= n; i += 4) store(out + i, sub_if_ge(_mm256_add_epi64(load(a + i), load(b + i)), vq));
  kernels_scalar.add(out + i, a + i, b + i, n - i, q);
}

void sub_avx2(uint64_t* out, const uint64_t* a, const uint64_t* b, size_t n, const Modulus& q) {
  const __m256i vq = set1(q.value());
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    // a - b + q in (0, 2q), then one conditional subtraction.
    const __m256i d = _mm256_sub_epi64(_mm256_add_epi64(load(a + i), vq), load(b + i));
    store(out + i, sub_if_ge(d, vq));
  }
  kernels_scalar.sub(out + i, a + i, b + i, n - i, q);
}

void negate_avx2(uint64_t* out, const uint64_t* a, size_t n, const Modulus& q) {
  const __m256i vq = set1(q.value()), zero = _mm256_setzero_si256();
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const __m256i x = load(a + i);
    // q - x, except 0 for x = 0.
    store(out + i, _mm256_andnot_si256(_mm256_cmpeq_epi64(x, zero), _mm256_sub_epi64(vq, x)));
  }
  kernels_scalar.negate(out + i, a + i, n - i, q);
}

// a * b (+ acc) mod q on doubles, q < 2^50: |a b mod-lazy| < 3q/4 (a, b < q),
// so adding acc in [0, q) stays below 2^51 for the final reduction.
template <bool kAccumulate>
size_t mul_on_doubles(uint64_t* out, const uint64_t* a, const uint64_t* b, size_t n, const Modulus& q) {
  namespace f = simd::fma_avx2;
  const f::Mod m(q.value());
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const __m256d r = f::mul_mod_lazy(f::load_words(a + i, m), f::load_words(b + i, m), m);
    if (kAccumulate)
      f::store_words(out + i, f::reduce_full(_mm256_add_pd(r, f::load_words(out + i, m)), m), m);
    else
      f::store_words(out + i, f::lift_negative(r, m), m);
  }
  return i;
}

void mul_avx2(uint64_t* out, const uint64_t* a, const uint64_t* b, size_t n, const Modulus& q) {
  if (q.value() < simd::kFmaModulusBound) {
    const size_t i = mul_on_doubles<false>(out, a, b, n, q);
    return kernels_scalar.mul(out + i, a + i, b + i, n - i, q);
  }
  const Barrett br = make_barrett(q.value(), q.bits());
  const __m256i zero = _mm256_setzero_si256();
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    __m256i lo, hi;
    mul_wide(load(a + i), load(b + i), zero, lo, hi);
    store(out + i, barrett_reduce(lo, hi, br));
  }
  kernels_scalar.mul(out + i, a + i, b + i, n - i, q);
}

void mul_add_avx2(uint64_t* out, const uint64_t* a, const uint64_t* b, size_t n, const Modulus& q) {
  if (q.value() < simd::kFmaModulusBound) {
    const size_t i = mul_on_doubles<true>(out, a, b, n, q);
    return kernels_scalar.mul_add(out + i, a + i, b + i, n - i, q);
  }
  // a*b + out <= (q-1)^2 + q-1 < 2^(2L): inside Barrett's range.
  const Barrett br = make_barrett(q.value(), q.bits());
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    __m256i lo, hi;
    mul_wide(load(a + i), load(b + i), load(out + i), lo, hi);
    store(out + i, barrett_reduce(lo, hi, br));
  }
  kernels_scalar.mul_add(out + i, a + i, b + i, n - i, q);
}

void mul_scalar_avx2(uint64_t* out, const uint64_t* a, uint64_t w, uint64_t w_shoup, size_t n, const Modulus& q) {
  if (q.value() < simd::kFmaModulusBound) {
    namespace f = simd::fma_avx2;
    const f::Mod m(q.value());
    const __m256d vw = _mm256_set1_pd(static_cast<double>(w));
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
      const __m256d r = f::mul_mod_lazy(f::load_words(a + i, m), vw, m);
      f::store_words(out + i, f::lift_negative(r, m), m);
    }
    return kernels_scalar.mul_scalar(out + i, a + i, w, w_shoup, n - i, q);
  }
  const Swapped vw = swapped(w), vq = swapped(q.value());
  const Split vws = split(w_shoup);
  const __m256i two_q = set1(2 * q.value());
  size_t i = 0;
  for (; i + 4 <= n; i += 4) store(out + i, sub_if_ge(mul_shoup_lazy(load(a + i), vw, vws, vq, two_q), vq.v));
  kernels_scalar.mul_scalar(out + i, a + i, w, w_shoup, n - i, q);
}

}  // namespace

const EltwiseKernels kernels_avx2 = {add_avx2, sub_avx2, negate_avx2, mul_avx2, mul_add_avx2, mul_scalar_avx2};

}  // namespace securinfer::eltwise
