// Modular arithmetic on 4 lanes of doubles with AVX2 + FMA, for primes
// q < 2^50: the building blocks of ntt_fma_avx2.cpp and of the q < 2^50
// branch of eltwise_avx2.cpp. Include only from files compiled with
// -mavx2 -mfma (names live in simd::fma_avx2).
//
// Residues are integer-valued doubles, kept signed and lazy between
// operations: a double holds every integer below 2^53 exactly, and an FMA
// rounds once, so
//   hi = fl(y w),  lo = fma(y, w, -hi)          (y w = hi + lo exactly)
//   quot = round(hi / q)                        (from a precomputed 1/q)
//   r = fma(-quot, q, hi) + lo                  (exact: an integer below 2^52)
// gives r = y w - quot q, congruent to y w, with |r| small (bound below).
// round() is the 1.5 * 2^52 trick folded into the FMA: fma(hi, 1/q, C) - C
// rounds hi / q to an integer when |hi / q| < 2^51.
//
// Error bound, q < 2^50: fl(1/q) and fl(y w) each carry a relative error below
// 2^-53, so |hi (1/q) - y w / q| < |y w / q| 2^-52 < |y| / 2^52. For |y| <= B q
// that is below B / 4, and with the rounding |quot - y w / q| < 1/2 + B / 4:
//   |mul_mod_lazy(y, w)| < (1/2 + B/4) q     for |y| <= B q, B <= 2, w < q.
//   |reduce_centered(x)| <= q / 2 + |x| 2^-53 (so <= q / 2 + 1) for |x| < 2^53.
// Intermediates never exceed 2^52 in magnitude, so every step is exact.
#pragma once
#include <cstdint>

#include "simd/intrinsics.h"

namespace securinfer::simd::fma_avx2 {

using u64 = std::uint64_t;

// 1.5 * 2^52: adding it rounds any |t| < 2^51 to an integer (ulp = 1 there).
constexpr double kRoundConstant = 6755399441055744.0;
// 2^52: the bit pattern of 2^52 + x is 0x4330000000000000 | x for x < 2^52.
constexpr double kTwo52 = 4503599627370496.0;
constexpr u64 kTwo52Bits = 0x4330000000000000ULL;

struct Mod {
  __m256d q, q_inv, round_c, zero;
  __m256i two52_bits;
  __m256d two52;
  explicit Mod(u64 m)
      : q(_mm256_set1_pd(static_cast<double>(m))),
        q_inv(_mm256_set1_pd(1.0 / static_cast<double>(m))),
        round_c(_mm256_set1_pd(kRoundConstant)),
        zero(_mm256_setzero_pd()),
        two52_bits(_mm256_set1_epi64x(static_cast<long long>(kTwo52Bits))),
        two52(_mm256_set1_pd(kTwo52)) {}
};

// Words in [0, 2^52) -> the same integers as doubles (exact).
static inline __m256d to_double(__m256i x, const Mod& m) {
  return _mm256_sub_pd(_mm256_castsi256_pd(_mm256_or_si256(x, m.two52_bits)), m.two52);
}

// Integer-valued doubles in [0, 2^52) (-0.0 included) -> words.
static inline __m256i to_words(__m256d x, const Mod& m) {
  return _mm256_xor_si256(_mm256_castpd_si256(_mm256_add_pd(x, m.two52)), m.two52_bits);
}

static inline __m256d load_words(const u64* p, const Mod& m) {
  return to_double(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)), m);
}
static inline void store_words(u64* p, __m256d x, const Mod& m) {
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), to_words(x, m));
}

// round(t) for |t| < 2^51, t = x * (1/q) computed with a single rounding.
static inline __m256d quotient(__m256d x, const Mod& m) {
  return _mm256_sub_pd(_mm256_fmadd_pd(x, m.q_inv, m.round_c), m.round_c);
}

// y w mod q, lazy and signed: |result| < (1/2 + B/4) q for |y| <= B q, B <= 2.
static inline __m256d mul_mod_lazy(__m256d y, __m256d w, const Mod& m) {
  const __m256d hi = _mm256_mul_pd(y, w);
  const __m256d lo = _mm256_fmsub_pd(y, w, hi);
  return _mm256_add_pd(_mm256_fnmadd_pd(quotient(hi, m), m.q, hi), lo);
}

// x mod q in [-q/2 - 1, q/2 + 1] for |x| < 2^53 (the 2^-53 error of x / q).
static inline __m256d reduce_centered(__m256d x, const Mod& m) {
  return _mm256_fnmadd_pd(quotient(x, m), m.q, x);
}

// x mod q in [0, q) for |x| < 2^53. A comparison, not the sign bit, picks the
// lanes to lift, so -0.0 stays 0.
static inline __m256d reduce_full(__m256d x, const Mod& m) {
  const __m256d r = reduce_centered(x, m);
  return _mm256_add_pd(r, _mm256_and_pd(_mm256_cmp_pd(r, m.zero, _CMP_LT_OQ), m.q));
}

// r mod q in [0, q) for |r| < q (a result of mul_mod_lazy with B <= 2).
static inline __m256d lift_negative(__m256d r, const Mod& m) {
  return _mm256_add_pd(r, _mm256_and_pd(_mm256_cmp_pd(r, m.zero, _CMP_LT_OQ), m.q));
}

}  // namespace securinfer::simd::fma_avx2
