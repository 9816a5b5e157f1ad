// Modular arithmetic with AVX-512 IFMA (52-bit multiply-add), 8 lanes, for
// moduli q < 2^50: the building blocks of ntt_ifma.cpp and eltwise_ifma.cpp.
// Include only from files compiled for AVX-512 IFMA (or its SIMDe emulation);
// names live in simd::ifma, the plain AVX-512 helpers come from
// modarith_avx512.h.
//
// _mm512_madd52lo/hi_epu64(a, b, c) add to a the low/high 52 bits of the
// 104-bit product of the low 52 bits of b and c. All operands fed to them here
// are below 2^52.
#pragma once
#include <cstdint>

#include "simd/modarith_avx512.h"

namespace securinfer::simd::ifma {

using avx512::load;
using avx512::set1;
using avx512::store;
using avx512::sub_if_ge;
using u64 = std::uint64_t;

constexpr u64 kMask52 = (u64(1) << 52) - 1;

// The modulus as the IFMA kernels use it: lo52(quot * neg_q) = -quot * q mod 2^52.
struct Mod52 {
  __m512i q, two_q, neg_q, mask52;
};
static inline Mod52 make_mod52(u64 q) { return {set1(q), set1(2 * q), set1(0 - q), set1(kMask52)}; }

// Shoup with 52-bit words: x * w mod q in [0, 2q) for x < 2^52, w < q, and
// ws = floor(w 2^52 / q). quot = floor(x ws / 2^52) is at most one below
// floor(x w / q), and the remainder (< 2q < 2^52) is exact modulo 2^52.
static inline __m512i mul_shoup_lazy52(__m512i x, __m512i w, __m512i ws, const Mod52& m) {
  const __m512i zero = _mm512_setzero_si512();
  const __m512i quot = _mm512_madd52hi_epu64(zero, x, ws);
  const __m512i r = _mm512_madd52lo_epu64(_mm512_madd52lo_epu64(zero, x, w), quot, m.neg_q);
  return _mm512_and_si512(r, m.mask52);
}

// Barrett with 52-bit words: p < 2^(2L) (2^(L-1) <= q < 2^L, L <= 50) given as
// p = hi * 2^52 + lo with lo < 2^52. With s = L - 2 and mu = floor(2^(52+s) / q)
// <= 2^51, x = p >> s < 2^52 and quot = floor(x mu / 2^52) is at most 2 below
// floor(p / q): the remainder is below 3q < 2^52, exact modulo 2^52.
struct Barrett52 {
  Mod52 m;
  __m512i mu;
  __m128i shift_lo, shift_hi;  // s and 52 - s
};

static inline Barrett52 make_barrett52(u64 q, int bits) {
  const int s = bits - 2;
  const u64 mu = static_cast<u64>((static_cast<unsigned __int128>(1) << (52 + s)) / q);
  return {make_mod52(q), set1(mu), _mm_cvtsi64_si128(s), _mm_cvtsi64_si128(52 - s)};
}

static inline __m512i barrett_reduce52(__m512i lo, __m512i hi, const Barrett52& b) {
  const __m512i zero = _mm512_setzero_si512();
  const __m512i x = _mm512_or_si512(_mm512_srl_epi64(lo, b.shift_lo), _mm512_sll_epi64(hi, b.shift_hi));
  const __m512i quot = _mm512_madd52hi_epu64(zero, x, b.mu);
  const __m512i r = _mm512_and_si512(_mm512_madd52lo_epu64(lo, quot, b.m.neg_q), b.m.mask52);
  return sub_if_ge(sub_if_ge(r, b.m.q), b.m.q);
}

}  // namespace securinfer::simd::ifma
