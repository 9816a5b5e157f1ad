// AVX-512F negacyclic NTT on doubles: 8 lanes, primes q < 2^50 only.
//
//   forward_fma_avx512: input [0, q) -> output [0, q), bit-reversed order.
//   inverse_fma_avx512: input [0, q) -> output [0, q); includes the 1/n factor.
//
// The method of ntt_fma_avx2.cpp (read its comment for the ranges: forward
// values below 2q, inverse below q, between stages) on 8 lanes: the array is
// converted to integer-valued doubles in place on the first pass and back to
// words on the last; two stages run per pass wherever the butterfly distance
// is at least 8; the distance-4, 2 and 1 stages run on 16-word chunks in
// registers with the shuffles of ntt_shuffle_avx512.h (on the doubles' bits).
// N < 16 runs the scalar kernel.
#include "ntt/ntt_kernels.h"
#include "ntt/ntt_shuffle_avx512.h"
#include "simd/modarith_fma_avx512.h"

namespace securinfer::ntt {
namespace {

using namespace simd::fma_avx512;

inline __m512d load_d(const double* p) { return _mm512_loadu_pd(p); }
inline void store_d(double* p, __m512d v) { _mm512_storeu_pd(p, v); }
inline const u64* bits_of(const double* p) { return reinterpret_cast<const u64*>(p); }

// The shuffles of ntt_shuffle_avx512.h on doubles.
inline void interleave(__m512d a, __m512d b, __m512d& lo, __m512d& hi) {
  __m512i l, h;
  simd::avx512::interleave(_mm512_castpd_si512(a), _mm512_castpd_si512(b), l, h);
  lo = _mm512_castsi512_pd(l);
  hi = _mm512_castsi512_pd(h);
}
inline void deinterleave(__m512d a, __m512d b, __m512d& even, __m512d& odd) {
  __m512i e, o;
  simd::avx512::deinterleave(_mm512_castpd_si512(a), _mm512_castpd_si512(b), e, o);
  even = _mm512_castsi512_pd(e);
  odd = _mm512_castsi512_pd(o);
}
// Chunk k's twiddles for the distance-4, 2 and 1 stages (tables offset to the stage).
inline __m512d twiddles_gap4(const double* w, std::size_t k) {
  return _mm512_castsi512_pd(simd::avx512::load_pair_x4(bits_of(w + 2 * k)));
}
inline __m512d twiddles_gap2(const double* w, std::size_t k) {
  return _mm512_castsi512_pd(simd::avx512::load_quad_x2(bits_of(w + 4 * k)));
}
inline __m512d twiddles_gap1(const double* w, std::size_t k) { return load_d(w + 8 * k); }

// Cooley-Tukey; kReduceX false only when x is already in [0, q).
template <bool kReduceX = true>
inline void forward_butterfly(__m512d& x, __m512d& y, __m512d w, const Mod& m) {
  const __m512d u = kReduceX ? reduce_centered(x, m) : x;
  const __m512d v = mul_mod_lazy(y, w, m);
  x = _mm512_add_pd(u, v);
  y = _mm512_sub_pd(u, v);
}

// Gentleman-Sande.
inline void inverse_butterfly(__m512d& x, __m512d& y, __m512d w, const Mod& m) {
  const __m512d s = _mm512_add_pd(x, y), d = _mm512_sub_pd(x, y);
  x = reduce_centered(s, m);
  y = mul_mod_lazy(d, w, m);
}

// Loads 8 lanes: words converted (the first pass) or doubles.
template <bool kWords>
inline __m512d load_lanes(double* p, const Mod& m) {
  if (kWords) return load_words(reinterpret_cast<const u64*>(p), m);
  return load_d(p);
}

// One forward stage alone (distance gap >= 8), groups [m, 2m).
template <bool kWords>
void forward_radix2(double* a, std::size_t m, std::size_t gap, const double* w, const Mod& mod) {
  for (std::size_t i = 0; i < m; ++i) {
    const __m512d t = _mm512_set1_pd(w[m + i]);
    double* x = a + 2 * i * gap;
    double* y = x + gap;
    for (std::size_t j = 0; j < gap; j += 8) {
      __m512d vx = load_lanes<kWords>(x + j, mod), vy = load_lanes<kWords>(y + j, mod);
      forward_butterfly<!kWords>(vx, vy, t, mod);
      store_d(x + j, vx);
      store_d(y + j, vy);
    }
  }
}

// Forward stages m (distance gap) and 2m (distance gap / 2 >= 8) in one pass.
template <bool kWords>
void forward_radix4(double* a, std::size_t m, std::size_t gap, const double* w, const Mod& mod) {
  const std::size_t h = gap / 2;
  for (std::size_t i = 0; i < m; ++i) {
    const __m512d t1 = _mm512_set1_pd(w[m + i]);
    const __m512d t2a = _mm512_set1_pd(w[2 * m + 2 * i]), t2b = _mm512_set1_pd(w[2 * m + 2 * i + 1]);
    double* p = a + 2 * i * gap;
    for (std::size_t j = 0; j < h; j += 8) {
      __m512d a0 = load_lanes<kWords>(p + j, mod), a1 = load_lanes<kWords>(p + h + j, mod);
      __m512d a2 = load_lanes<kWords>(p + gap + j, mod), a3 = load_lanes<kWords>(p + gap + h + j, mod);
      forward_butterfly<!kWords>(a0, a2, t1, mod);
      forward_butterfly<!kWords>(a1, a3, t1, mod);
      forward_butterfly(a0, a1, t2a, mod);
      forward_butterfly(a2, a3, t2b, mod);
      store_d(p + j, a0);
      store_d(p + h + j, a1);
      store_d(p + gap + j, a2);
      store_d(p + gap + h + j, a3);
    }
  }
}

// One inverse stage alone (distance gap >= 8), groups [m, 2m).
void inverse_radix2(double* a, std::size_t m, std::size_t gap, const double* w, const Mod& mod) {
  for (std::size_t i = 0; i < m; ++i) {
    const __m512d t = _mm512_set1_pd(w[m + i]);
    double* x = a + 2 * i * gap;
    double* y = x + gap;
    for (std::size_t j = 0; j < gap; j += 8) {
      __m512d vx = load_d(x + j), vy = load_d(y + j);
      inverse_butterfly(vx, vy, t, mod);
      store_d(x + j, vx);
      store_d(y + j, vy);
    }
  }
}

// Inverse stages m (distance gap >= 8) and m / 2 (distance 2 gap) in one pass.
void inverse_radix4(double* a, std::size_t m, std::size_t gap, const double* w, const Mod& mod) {
  for (std::size_t i = 0; i < m / 2; ++i) {
    const __m512d t1a = _mm512_set1_pd(w[m + 2 * i]), t1b = _mm512_set1_pd(w[m + 2 * i + 1]);
    const __m512d t2 = _mm512_set1_pd(w[m / 2 + i]);
    double* p = a + 4 * i * gap;
    for (std::size_t j = 0; j < gap; j += 8) {
      __m512d a0 = load_d(p + j), a1 = load_d(p + gap + j);
      __m512d a2 = load_d(p + 2 * gap + j), a3 = load_d(p + 3 * gap + j);
      inverse_butterfly(a0, a1, t1a, mod);
      inverse_butterfly(a2, a3, t1b, mod);
      inverse_butterfly(a0, a2, t2, mod);
      inverse_butterfly(a1, a3, t2, mod);
      store_d(p + j, a0);
      store_d(p + gap + j, a1);
      store_d(p + 2 * gap + j, a2);
      store_d(p + 3 * gap + j, a3);
    }
  }
}

}  // namespace

void forward_fma_avx512(std::uint64_t* words, const NttTables& t) {
  const std::size_t n = t.n;
  if (n < 16) return forward_scalar(words, t);
  const Mod mod(t.q);
  const double* w = t.root_f64.data();
  double* a = reinterpret_cast<double*>(words);
  // Stages of distance n/2 .. 8: log2(n) - 3 of them, in pairs after an odd one out.
  std::size_t m = 1, gap = n / 2;
  if ((t.log_n - 3) % 2 == 1) {
    forward_radix2<true>(a, m, gap, w, mod);
    m <<= 1, gap >>= 1;
  } else {
    forward_radix4<true>(a, m, gap, w, mod);
    m <<= 2, gap >>= 2;
  }
  for (; gap >= 16; m <<= 2, gap >>= 2) forward_radix4<false>(a, m, gap, w, mod);
  // Distance 4, 2 and 1 per 16-word chunk k.
  for (std::size_t k = 0; k < n / 16; ++k) {
    __m512d x, y;
    interleave(load_d(a + 16 * k), load_d(a + 16 * k + 8), x, y);
    forward_butterfly(x, y, twiddles_gap4(w + n / 8, k), mod);
    interleave(x, y, x, y);
    forward_butterfly(x, y, twiddles_gap2(w + n / 4, k), mod);
    interleave(x, y, x, y);
    forward_butterfly(x, y, twiddles_gap1(w + n / 2, k), mod);
    __m512d lo, hi;
    interleave(reduce_full(x, mod), reduce_full(y, mod), lo, hi);
    store_words(words + 16 * k, lo, mod);
    store_words(words + 16 * k + 8, hi, mod);
  }
}

void inverse_fma_avx512(std::uint64_t* words, const NttTables& t) {
  const std::size_t n = t.n;
  if (n < 16) return inverse_scalar(words, t);
  const Mod mod(t.q);
  const double* w = t.inv_root_f64.data();
  double* a = reinterpret_cast<double*>(words);
  // Distance 1, 2 then 4, per 16-word chunk, converting the words.
  for (std::size_t k = 0; k < n / 16; ++k) {
    __m512d x, y;
    deinterleave(load_words(words + 16 * k, mod), load_words(words + 16 * k + 8, mod), x, y);
    inverse_butterfly(x, y, twiddles_gap1(w + n / 2, k), mod);
    deinterleave(x, y, x, y);
    inverse_butterfly(x, y, twiddles_gap2(w + n / 4, k), mod);
    deinterleave(x, y, x, y);
    inverse_butterfly(x, y, twiddles_gap4(w + n / 8, k), mod);
    __m512d lo, hi;
    deinterleave(x, y, lo, hi);
    store_d(a + 16 * k, lo);
    store_d(a + 16 * k + 8, hi);
  }
  // Stages of distance 8 .. n/4 (m = n/16 .. 2): log2(n) - 4 of them.
  std::size_t m = n / 16, gap = 8;
  if ((t.log_n - 4) % 2 == 1) {
    inverse_radix2(a, m, gap, w, mod);
    m >>= 1, gap <<= 1;
  }
  for (; m >= 4; m >>= 2, gap <<= 2) inverse_radix4(a, m, gap, w, mod);
  // Last stage with the 1/n scaling folded in (see ntt_fma_avx2.cpp).
  const __m512d even = _mm512_set1_pd(static_cast<double>(t.n_inv));
  const __m512d odd = _mm512_set1_pd(static_cast<double>(t.inv_root1_n_inv));
  double* y = a + n / 2;
  for (std::size_t j = 0; j < n / 2; j += 8) {
    const __m512d vx = load_d(a + j), vy = load_d(y + j);
    const __m512d sum = _mm512_add_pd(vx, vy), diff = _mm512_sub_pd(vx, vy);
    store_words(words + j, lift_negative(mul_mod_lazy(sum, even, mod), mod), mod);
    store_words(words + n / 2 + j, lift_negative(mul_mod_lazy(diff, odd, mod), mod), mod);
  }
}

}  // namespace securinfer::ntt
