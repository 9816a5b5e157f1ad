// Modular arithmetic on 8 lanes of 64 bits with AVX-512 F/DQ (no IFMA), for
// moduli q < 2^60: the building blocks of ntt_avx512.cpp and
// eltwise_avx512.cpp. Include only from files compiled for AVX-512 (or its
// SIMDe emulation); names live in simd::avx512.
//
// AVX-512DQ multiplies 64x64 -> low 64 bits (_mm512_mullo_epi64); the high
// word is assembled from four 32x32 -> 64 _mm512_mul_epu32.
#pragma once
#include <cstdint>

#include "simd/intrinsics.h"

namespace securinfer::simd::avx512 {

using u64 = std::uint64_t;

static inline __m512i set1(u64 x) { return _mm512_set1_epi64(static_cast<long long>(x)); }
static inline __m512i load(const u64* p) { return _mm512_loadu_si512(reinterpret_cast<const void*>(p)); }
static inline void store(u64* p, __m512i v) { _mm512_storeu_si512(reinterpret_cast<void*>(p), v); }

// x >= c ? x - c : x for any x, c: when x < c, x - c wraps above x.
static inline __m512i sub_if_ge(__m512i x, __m512i c) { return _mm512_min_epu64(x, _mm512_sub_epi64(x, c)); }

// A 64-bit constant with its high half (the low half is what mul_epu32 reads).
struct Split {
  __m512i lo, hi;
};
static inline Split split(__m512i v) { return {v, _mm512_srli_epi64(v, 32)}; }
static inline Split split(u64 v) { return {set1(v), set1(v >> 32)}; }

// Full 128-bit product a * b + c (c < 2^64) as (lo, hi). The partial sums
// cannot overflow: (2^32-1)^2 + 2 (2^32-1) = 2^64 - 1.
static inline void mul_wide(__m512i a, __m512i b, __m512i c, __m512i& lo, __m512i& hi) {
  const __m512i mask32 = set1(0xffffffff);
  const __m512i a_hi = _mm512_srli_epi64(a, 32), b_hi = _mm512_srli_epi64(b, 32);
  const __m512i ll = _mm512_add_epi64(_mm512_mul_epu32(a, b), _mm512_and_si512(c, mask32));
  const __m512i t1 = _mm512_add_epi64(_mm512_add_epi64(_mm512_mul_epu32(a_hi, b), _mm512_srli_epi64(ll, 32)),
                                      _mm512_srli_epi64(c, 32));
  const __m512i t2 = _mm512_add_epi64(_mm512_mul_epu32(a, b_hi), _mm512_and_si512(t1, mask32));
  hi = _mm512_add_epi64(_mm512_add_epi64(_mm512_mul_epu32(a_hi, b_hi), _mm512_srli_epi64(t1, 32)),
                        _mm512_srli_epi64(t2, 32));
  lo = _mm512_or_si512(_mm512_slli_epi64(t2, 32), _mm512_and_si512(ll, mask32));
}

// hi64(x * b) for any x, b.
static inline __m512i mulhi(__m512i x, const Split& b) {
  const __m512i mask32 = set1(0xffffffff);
  const __m512i x_hi = _mm512_srli_epi64(x, 32);
  const __m512i ll = _mm512_mul_epu32(x, b.lo);
  const __m512i t1 = _mm512_add_epi64(_mm512_mul_epu32(x_hi, b.lo), _mm512_srli_epi64(ll, 32));
  const __m512i t2 = _mm512_add_epi64(_mm512_mul_epu32(x, b.hi), _mm512_and_si512(t1, mask32));
  return _mm512_add_epi64(_mm512_add_epi64(_mm512_mul_epu32(x_hi, b.hi), _mm512_srli_epi64(t1, 32)),
                          _mm512_srli_epi64(t2, 32));
}

// hi64(x * b) minus 0, 1 or 2: the carries out of the middle partial products
// are dropped (three multiplies instead of four, five fewer instructions).
static inline __m512i mulhi_approx(__m512i x, const Split& b) {
  const __m512i x_hi = _mm512_srli_epi64(x, 32);
  const __m512i lh = _mm512_mul_epu32(x, b.hi), hl = _mm512_mul_epu32(x_hi, b.lo);
  return _mm512_add_epi64(_mm512_add_epi64(_mm512_mul_epu32(x_hi, b.hi), _mm512_srli_epi64(lh, 32)),
                          _mm512_srli_epi64(hl, 32));
}

// Shoup: x * w mod q in [0, 2q) for any x < 2^64, w < q, ws = floor(w 2^64 / q),
// q < 2^61. Shoup's quotient is at most 1 below floor(xw / q), the approximate
// one at most 3, so x*w - quot*q < 4q; one conditional subtraction of 2q.
static inline __m512i mul_shoup_lazy(__m512i x, __m512i w, const Split& ws, __m512i q, __m512i two_q) {
  const __m512i quot = mulhi_approx(x, ws);
  return sub_if_ge(_mm512_sub_epi64(_mm512_mullo_epi64(x, w), _mm512_mullo_epi64(quot, q)), two_q);
}

// Barrett reduction of a 128-bit p < 2^(2L) to [0, q), for 2^(L-1) <= q < 2^L,
// L <= 60. With s = L - 2 and mu = floor(2^(64+s) / q) <= 2^63, the estimate
// hi64((p >> s) * mu) is at most 2 below floor(p / q), so p - quot*q < 3q.
struct Barrett {
  Split mu;
  __m128i shift_lo, shift_hi;  // s and 64 - s (a shift by 64 gives 0)
  __m512i q;
};

static inline Barrett make_barrett(u64 q, int bits) {
  const int s = bits - 2;
  const u64 mu = static_cast<u64>((static_cast<unsigned __int128>(1) << (64 + s)) / q);
  return {split(mu), _mm_cvtsi64_si128(s), _mm_cvtsi64_si128(64 - s), set1(q)};
}

static inline __m512i barrett_reduce(__m512i p_lo, __m512i p_hi, const Barrett& b) {
  const __m512i x = _mm512_or_si512(_mm512_srl_epi64(p_lo, b.shift_lo), _mm512_sll_epi64(p_hi, b.shift_hi));
  const __m512i quot = mulhi(x, b.mu);
  const __m512i r = _mm512_sub_epi64(p_lo, _mm512_mullo_epi64(quot, b.q));  // true value < 3q
  return sub_if_ge(sub_if_ge(r, b.q), b.q);
}

}  // namespace securinfer::simd::avx512
