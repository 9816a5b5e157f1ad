// Modular arithmetic on 8 lanes of doubles with AVX-512F (its FMA), for
// primes q < 2^50: the building blocks of ntt_fma_avx512.cpp and of the
// q < 2^50 branch of eltwise_avx512.cpp. The same method, error bound and
// ranges as simd/modarith_fma_avx2.h (read that file's comment first), on
// twice the lanes. Include only from files compiled for AVX-512 (or its SIMDe
// emulation, compiled with -mfma so that SIMDe's FMA stays fused); names live
// in simd::fma_avx512.
#pragma once
#include <cstdint>

#include "simd/intrinsics.h"

namespace securinfer::simd::fma_avx512 {

using u64 = std::uint64_t;

// 1.5 * 2^52: adding it rounds any |t| < 2^51 to an integer (ulp = 1 there).
constexpr double kRoundConstant = 6755399441055744.0;
// 2^52: the bit pattern of 2^52 + x is 0x4330000000000000 | x for x < 2^52.
constexpr double kTwo52 = 4503599627370496.0;
constexpr u64 kTwo52Bits = 0x4330000000000000ULL;

struct Mod {
  __m512d q, q_inv, round_c, zero;
  __m512i two52_bits;
  __m512d two52;
  explicit Mod(u64 m)
      : q(_mm512_set1_pd(static_cast<double>(m))),
        q_inv(_mm512_set1_pd(1.0 / static_cast<double>(m))),
        round_c(_mm512_set1_pd(kRoundConstant)),
        zero(_mm512_setzero_pd()),
        two52_bits(_mm512_set1_epi64(static_cast<long long>(kTwo52Bits))),
        two52(_mm512_set1_pd(kTwo52)) {}
};

// Words in [0, 2^52) -> the same integers as doubles (exact).
static inline __m512d to_double(__m512i x, const Mod& m) {
  return _mm512_sub_pd(_mm512_castsi512_pd(_mm512_or_si512(x, m.two52_bits)), m.two52);
}

// Integer-valued doubles in [0, 2^52) (-0.0 included) -> words.
static inline __m512i to_words(__m512d x, const Mod& m) {
  return _mm512_xor_si512(_mm512_castpd_si512(_mm512_add_pd(x, m.two52)), m.two52_bits);
}

static inline __m512d load_words(const u64* p, const Mod& m) {
  return to_double(_mm512_loadu_si512(reinterpret_cast<const void*>(p)), m);
}
static inline void store_words(u64* p, __m512d x, const Mod& m) {
  _mm512_storeu_si512(reinterpret_cast<void*>(p), to_words(x, m));
}

// round(t) for |t| < 2^51, t = x * (1/q) computed with a single rounding.
static inline __m512d quotient(__m512d x, const Mod& m) {
  return _mm512_sub_pd(_mm512_fmadd_pd(x, m.q_inv, m.round_c), m.round_c);
}

// y w mod q, lazy and signed: |result| < (1/2 + B/4) q for |y| <= B q, B <= 2.
static inline __m512d mul_mod_lazy(__m512d y, __m512d w, const Mod& m) {
  const __m512d hi = _mm512_mul_pd(y, w);
  const __m512d lo = _mm512_fmsub_pd(y, w, hi);
  return _mm512_add_pd(_mm512_fnmadd_pd(quotient(hi, m), m.q, hi), lo);
}

// x mod q in [-q/2 - 1, q/2 + 1] for |x| < 2^53 (the 2^-53 error of x / q).
static inline __m512d reduce_centered(__m512d x, const Mod& m) {
  return _mm512_fnmadd_pd(quotient(x, m), m.q, x);
}

// x mod q in [0, q) for |x| < 2^53. A comparison, not the sign bit, picks the
// lanes to lift, so -0.0 stays 0.
static inline __m512d reduce_full(__m512d x, const Mod& m) {
  const __m512d r = reduce_centered(x, m);
  return _mm512_mask_add_pd(r, _mm512_cmp_pd_mask(r, m.zero, _CMP_LT_OQ), r, m.q);
}

// r mod q in [0, q) for |r| < q (a result of mul_mod_lazy with B <= 2).
static inline __m512d lift_negative(__m512d r, const Mod& m) {
  return _mm512_mask_add_pd(r, _mm512_cmp_pd_mask(r, m.zero, _CMP_LT_OQ), r, m.q);
}

}  // namespace securinfer::simd::fma_avx512
