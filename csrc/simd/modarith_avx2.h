// Modular arithmetic on 4 lanes of 64 bits with AVX2, for moduli q < 2^60:
// the building blocks of ntt_avx2.cpp and eltwise_avx2.cpp. Include only from
// files compiled with -mavx2 (names live in simd::avx2 so they never meet the
// same names compiled for another instruction set).
//
// AVX2 has no 64x64-bit multiply: products are assembled from 32x32->64
// _mm256_mul_epu32 partial products (and, for the cross products that only
// reach a low word, 32x32->32 _mm256_mullo_epi32). Ranges are stated per
// function.
#pragma once
#include <cstdint>

#include "simd/intrinsics.h"

namespace securinfer::simd::avx2 {

using u64 = std::uint64_t;

static inline __m256i set1(u64 x) { return _mm256_set1_epi64x(static_cast<long long>(x)); }
static inline __m256i load(const u64* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
static inline void store(u64* p, __m256i v) { _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), v); }

// x >= c ? x - c : x, for x, c < 2^63 (the sign of x - c decides).
static inline __m256i sub_if_ge(__m256i x, __m256i c) {
  const __m256i d = _mm256_sub_epi64(x, c);
  return _mm256_castpd_si256(
      _mm256_blendv_pd(_mm256_castsi256_pd(d), _mm256_castsi256_pd(x), _mm256_castsi256_pd(d)));
}

// A 64-bit constant with its high half (the low half is what mul_epu32 reads).
struct Split {
  __m256i lo, hi;
};
static inline Split split(__m256i v) { return {v, _mm256_srli_epi64(v, 32)}; }
static inline Split split(u64 v) { return {set1(v), set1(v >> 32)}; }

// Full 128-bit product a * b + c (c < 2^64) as (lo, hi). The partial sums
// cannot overflow: (2^32-1)^2 + 2 (2^32-1) = 2^64 - 1.
static inline void mul_wide(__m256i a, __m256i b, __m256i c, __m256i& lo, __m256i& hi) {
  const __m256i mask32 = set1(0xffffffff);
  const __m256i a_hi = _mm256_srli_epi64(a, 32), b_hi = _mm256_srli_epi64(b, 32);
  const __m256i ll = _mm256_add_epi64(_mm256_mul_epu32(a, b), _mm256_and_si256(c, mask32));
  const __m256i t1 = _mm256_add_epi64(_mm256_add_epi64(_mm256_mul_epu32(a_hi, b), _mm256_srli_epi64(ll, 32)),
                                      _mm256_srli_epi64(c, 32));
  const __m256i t2 = _mm256_add_epi64(_mm256_mul_epu32(a, b_hi), _mm256_and_si256(t1, mask32));
  hi = _mm256_add_epi64(_mm256_add_epi64(_mm256_mul_epu32(a_hi, b_hi), _mm256_srli_epi64(t1, 32)),
                        _mm256_srli_epi64(t2, 32));
  lo = _mm256_or_si256(_mm256_slli_epi64(t2, 32), _mm256_and_si256(ll, mask32));
}

// hi64(x * b) for any x, b; x_hi = x >> 32.
static inline __m256i mulhi(__m256i x, __m256i x_hi, const Split& b) {
  const __m256i mask32 = set1(0xffffffff);
  const __m256i ll = _mm256_mul_epu32(x, b.lo);
  const __m256i t1 = _mm256_add_epi64(_mm256_mul_epu32(x_hi, b.lo), _mm256_srli_epi64(ll, 32));
  const __m256i t2 = _mm256_add_epi64(_mm256_mul_epu32(x, b.hi), _mm256_and_si256(t1, mask32));
  return _mm256_add_epi64(_mm256_add_epi64(_mm256_mul_epu32(x_hi, b.hi), _mm256_srli_epi64(t1, 32)),
                          _mm256_srli_epi64(t2, 32));
}

// A 64-bit constant with its 32-bit halves swapped: _mm256_mullo_epi32(x, sw)
// gives lo32(x_lo * c_hi) and lo32(x_hi * c_lo), the two cross products that
// reach the low word of x * c, in one multiply.
struct Swapped {
  __m256i v, sw;
};
static inline Swapped swapped(__m256i v) { return {v, _mm256_shuffle_epi32(v, 0xB1)}; }
static inline Swapped swapped(u64 v) { return swapped(set1(v)); }

// x * w - quot * q mod 2^64.
static inline __m256i mul_sub_lo(__m256i x, const Swapped& w, __m256i quot, const Swapped& q) {
  const __m256i lo = _mm256_sub_epi64(_mm256_mul_epu32(x, w.v), _mm256_mul_epu32(quot, q.v));
  // Per 32-bit slot (no borrow between slots): the cross-product differences.
  const __m256i d = _mm256_sub_epi32(_mm256_mullo_epi32(x, w.sw), _mm256_mullo_epi32(quot, q.sw));
  // Their sum goes to the high half: slot0 via the shift, slot1 in place.
  const __m256i cross = _mm256_add_epi64(_mm256_slli_epi64(d, 32), _mm256_and_si256(d, set1(0xffffffff00000000)));
  return _mm256_add_epi64(lo, cross);
}

// hi64(x * b) minus 0, 1 or 2: the carries out of the middle partial products
// are dropped (three multiplies instead of four, five fewer instructions).
static inline __m256i mulhi_approx(__m256i x, __m256i x_hi, const Split& b) {
  const __m256i lh = _mm256_mul_epu32(x, b.hi), hl = _mm256_mul_epu32(x_hi, b.lo);
  return _mm256_add_epi64(_mm256_add_epi64(_mm256_mul_epu32(x_hi, b.hi), _mm256_srli_epi64(lh, 32)),
                          _mm256_srli_epi64(hl, 32));
}

// Shoup: x * w mod q in [0, 2q) for any x < 2^64, w < q, ws = floor(w 2^64 / q),
// q < 2^60. Shoup's quotient is at most 1 below floor(xw / q), the approximate
// one at most 3, so x*w - quot*q < 4q; one conditional subtraction of 2q.
static inline __m256i mul_shoup_lazy(__m256i x, const Swapped& w, const Split& ws, const Swapped& q, __m256i two_q) {
  return sub_if_ge(mul_sub_lo(x, w, mulhi_approx(x, _mm256_srli_epi64(x, 32), ws), q), two_q);
}

// Barrett reduction of a 128-bit p < 2^(2L) to [0, q), for 2^(L-1) <= q < 2^L,
// L <= 60. With s = L - 2 and mu = floor(2^(64+s) / q) <= 2^63, the estimate
// hi64((p >> s) * mu) is at most 2 below floor(p / q), so p - quot*q < 3q.
struct Barrett {
  Swapped q;
  Split mu;
  __m128i shift_lo, shift_hi;  // s and 64 - s (a shift by 64 gives 0)
};

static inline Barrett make_barrett(u64 q, int bits) {
  const int s = bits - 2;
  const u64 mu = static_cast<u64>((static_cast<unsigned __int128>(1) << (64 + s)) / q);
  return {swapped(q), split(mu), _mm_cvtsi64_si128(s), _mm_cvtsi64_si128(64 - s)};
}

static inline __m256i barrett_reduce(__m256i p_lo, __m256i p_hi, const Barrett& b) {
  const __m256i x = _mm256_or_si256(_mm256_srl_epi64(p_lo, b.shift_lo), _mm256_sll_epi64(p_hi, b.shift_hi));
  const __m256i x_hi = _mm256_srli_epi64(x, 32);
  const __m256i quot = mulhi(x, x_hi, b.mu);
  // p - quot*q mod 2^64 (the true difference is below 3q).
  const __m256i c = _mm256_mullo_epi32(quot, b.q.sw);
  const __m256i cross = _mm256_add_epi64(_mm256_slli_epi64(c, 32), _mm256_and_si256(c, set1(0xffffffff00000000)));
  const __m256i r = _mm256_sub_epi64(p_lo, _mm256_add_epi64(_mm256_mul_epu32(quot, b.q.v), cross));
  return sub_if_ge(sub_if_ge(r, b.q.v), b.q.v);
}

}  // namespace securinfer::simd::avx2
