// AVX-512 (F/DQ, no IFMA) element-wise kernels (8 lanes of 64 bits), any modulus q in [2, 2^60).
//
// Inputs in [0, q), outputs in [0, q), equal word for word to
// eltwise_scalar.cpp (every output is the unique reduced residue). `out` may be
// the same array as an input: each vector is loaded before it is stored. The
// last n mod 8 elements go through the scalar kernels.
//
// mul / mul_add / mul_scalar: for q < 2^50, on doubles with FMA
// (simd/modarith_fma_avx512.h, as in eltwise_avx2.cpp). Otherwise mul and
// mul_add form the 128-bit product from 32-bit partial products, then a
// Barrett reduction with a per-call constant (simd/modarith_avx512.h), and
// mul_scalar uses Shoup's method with the caller's w_shoup.
#include "eltwise/eltwise_kernels.h"
#include "simd/dispatch.h"
#include "simd/modarith_avx512.h"
#include "simd/modarith_fma_avx512.h"

namespace securinfer::eltwise {
namespace {

using namespace simd::avx512;

void add_avx512(uint64_t* out, const uint64_t* a, const uint64_t* b, size_t n, const Modulus& q) {
  const __m512i vq = set1(q.value());
  size_t i = 0;
  for (; i + 8 <= n; i += 8) store(out + i, sub_if_ge(_mm512_add_epi64(load(a + i), load(b + i)), vq));
  kernels_scalar.add(out + i, a + i, b + i, n - i, q);
}

void sub_avx512(uint64_t* out, const uint64_t* a, const uint64_t* b, size_t n, const Modulus& q) {
  const __m512i vq = set1(q.value());
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    // a - b + q in (0, 2q), then one conditional subtraction.
    const __m512i d = _mm512_sub_epi64(_mm512_add_epi64(load(a + i), vq), load(b + i));
    store(out + i, sub_if_ge(d, vq));
  }
  kernels_scalar.sub(out + i, a + i, b + i, n - i, q);
}

void negate_avx512(uint64_t* out, const uint64_t* a, size_t n, const Modulus& q) {
  const __m512i vq = set1(q.value());
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m512i x = load(a + i);
    // q - x where x != 0, else 0.
    store(out + i, _mm512_maskz_sub_epi64(_mm512_test_epi64_mask(x, x), vq, x));
  }
  kernels_scalar.negate(out + i, a + i, n - i, q);
}

// a * b (+ acc) mod q on doubles, q < 2^50: |a b mod-lazy| < 3q/4 (a, b < q),
// so adding acc in [0, q) stays below 2^51 for the final reduction.
template <bool kAccumulate>
size_t mul_on_doubles(uint64_t* out, const uint64_t* a, const uint64_t* b, size_t n, const Modulus& q) {
  namespace f = simd::fma_avx512;
  const f::Mod m(q.value());
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m512d r = f::mul_mod_lazy(f::load_words(a + i, m), f::load_words(b + i, m), m);
    if (kAccumulate)
      f::store_words(out + i, f::reduce_full(_mm512_add_pd(r, f::load_words(out + i, m)), m), m);
    else
      f::store_words(out + i, f::lift_negative(r, m), m);
  }
  return i;
}

void mul_avx512(uint64_t* out, const uint64_t* a, const uint64_t* b, size_t n, const Modulus& q) {
  if (q.value() < simd::kFmaModulusBound) {
    const size_t i = mul_on_doubles<false>(out, a, b, n, q);
    return kernels_scalar.mul(out + i, a + i, b + i, n - i, q);
  }
  const Barrett br = make_barrett(q.value(), q.bits());
  const __m512i zero = _mm512_setzero_si512();
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m512i lo, hi;
    mul_wide(load(a + i), load(b + i), zero, lo, hi);
    store(out + i, barrett_reduce(lo, hi, br));
  }
  kernels_scalar.mul(out + i, a + i, b + i, n - i, q);
}

void mul_add_avx512(uint64_t* out, const uint64_t* a, const uint64_t* b, size_t n, const Modulus& q) {
  if (q.value() < simd::kFmaModulusBound) {
    const size_t i = mul_on_doubles<true>(out, a, b, n, q);
    return kernels_scalar.mul_add(out + i, a + i, b + i, n - i, q);
  }
  // a*b + out <= (q-1)^2 + q-1 < 2^(2L): inside Barrett's range.
  const Barrett br = make_barrett(q.value(), q.bits());
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m512i lo, hi;
    mul_wide(load(a + i), load(b + i), load(out + i), lo, hi);
    store(out + i, barrett_reduce(lo, hi, br));
  }
  kernels_scalar.mul_add(out + i, a + i, b + i, n - i, q);
}

void mul_scalar_avx512(uint64_t* out, const uint64_t* a, uint64_t w, uint64_t w_shoup, size_t n, const Modulus& q) {
  if (q.value() < simd::kFmaModulusBound) {
    namespace f = simd::fma_avx512;
    const f::Mod m(q.value());
    const __m512d vw = _mm512_set1_pd(static_cast<double>(w));
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
      const __m512d r = f::mul_mod_lazy(f::load_words(a + i, m), vw, m);
      f::store_words(out + i, f::lift_negative(r, m), m);
    }
    return kernels_scalar.mul_scalar(out + i, a + i, w, w_shoup, n - i, q);
  }
  const __m512i vw = set1(w), vq = set1(q.value()), two_q = set1(2 * q.value());
  const Split vws = split(w_shoup);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) store(out + i, sub_if_ge(mul_shoup_lazy(load(a + i), vw, vws, vq, two_q), vq));
  kernels_scalar.mul_scalar(out + i, a + i, w, w_shoup, n - i, q);
}

}  // namespace

const EltwiseKernels kernels_avx512 = {add_avx512,     sub_avx512,     negate_avx512,
                                       mul_avx512,     mul_add_avx512, mul_scalar_avx512};

}  // namespace securinfer::eltwise
