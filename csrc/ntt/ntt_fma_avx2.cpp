// AVX2 + FMA negacyclic NTT on doubles: 4 lanes, primes q < 2^50 only.
//
//   forward_fma_avx2: input [0, q) -> output [0, q), bit-reversed order.
//   inverse_fma_avx2: input [0, q) -> output [0, q); includes the 1/n factor.
//
// The array is converted to integer-valued doubles in place on the first pass
// and back to words on the last (the element size is the same). In between,
// residues are signed and lazy (simd/modarith_fma_avx2.h has the arithmetic
// and its error bound):
//   forward (Cooley-Tukey), x, y -> u + wy, u - wy with u = x reduced to
//     [-q/2, q/2] and wy reduced lazily: if |x|, |y| < 2q then |wy| < q and
//     both outputs stay below 2q (the first stage skips the reduction of x,
//     which is already in [0, q)).
//   inverse (Gentleman-Sande), x, y -> reduce(x + y), (x - y) w: if |x|, |y|
//     < q then |x - y| < 2q, |(x - y) w mod q| < q, and both outputs stay
//     below q.
// The outputs are then reduced to [0, q), where the residue is unique, so the
// words equal the scalar path's.
//
// Two stages run per pass over memory (radix 4: four vectors, two twiddles
// levels) wherever the butterfly distance is at least 4 lanes; an odd stage
// out runs alone. The distance-2 and distance-1 stages run on 8-word chunks in
// registers, as in ntt_avx2.cpp. N < 8 runs the scalar kernel.
#include "ntt/ntt_kernels.h"
#include "simd/modarith_fma_avx2.h"

namespace securinfer::ntt {
namespace {

using namespace simd::fma_avx2;

inline __m256d load_d(const double* p) { return _mm256_loadu_pd(p); }
inline void store_d(double* p, __m256d v) { _mm256_storeu_pd(p, v); }

// Cooley-Tukey; kReduceX false only when x is already in [0, q).
template <bool kReduceX = true>
inline void forward_butterfly(__m256d& x, __m256d& y, __m256d w, const Mod& m) {
  const __m256d u = kReduceX ? reduce_centered(x, m) : x;
  const __m256d v = mul_mod_lazy(y, w, m);
  x = _mm256_add_pd(u, v);
  y = _mm256_sub_pd(u, v);
}

// Gentleman-Sande.
inline void inverse_butterfly(__m256d& x, __m256d& y, __m256d w, const Mod& m) {
  const __m256d s = _mm256_add_pd(x, y), d = _mm256_sub_pd(x, y);
  x = reduce_centered(s, m);
  y = mul_mod_lazy(d, w, m);
}

// Perfect shuffle of (a, b): lo = [a0 b0 a1 b1], hi = [a2 b2 a3 b3].
inline void interleave(__m256d a, __m256d b, __m256d& lo, __m256d& hi) {
  a = _mm256_permute4x64_pd(a, 0xD8);  // [a0 a2 a1 a3]
  b = _mm256_permute4x64_pd(b, 0xD8);
  lo = _mm256_unpacklo_pd(a, b);
  hi = _mm256_unpackhi_pd(a, b);
}

// Inverse shuffle: even = [a0 a2 b0 b2], odd = [a1 a3 b1 b3].
inline void deinterleave(__m256d a, __m256d b, __m256d& even, __m256d& odd) {
  even = _mm256_permute4x64_pd(_mm256_unpacklo_pd(a, b), 0xD8);
  odd = _mm256_permute4x64_pd(_mm256_unpackhi_pd(a, b), 0xD8);
}

// Loads 4 lanes: words converted (the first pass) or doubles.
template <bool kWords>
inline __m256d load_lanes(double* p, const Mod& m) {
  if (kWords) return load_words(reinterpret_cast<const u64*>(p), m);
  return load_d(p);
}

// One forward stage alone (distance gap >= 4), groups [m, 2m).
template <bool kWords>
void forward_radix2(double* a, std::size_t m, std::size_t gap, const double* w, const Mod& mod) {
  for (std::size_t i = 0; i < m; ++i) {
    const __m256d t = _mm256_set1_pd(w[m + i]);
    double* x = a + 2 * i * gap;
    double* y = x + gap;
    for (std::size_t j = 0; j < gap; j += 4) {
      __m256d vx = load_lanes<kWords>(x + j, mod), vy = load_lanes<kWords>(y + j, mod);
      forward_butterfly<!kWords>(vx, vy, t, mod);
      store_d(x + j, vx);
      store_d(y + j, vy);
    }
  }
}

// Forward stages m (distance gap) and 2m (distance gap / 2 >= 4) in one pass.
template <bool kWords>
void forward_radix4(double* a, std::size_t m, std::size_t gap, const double* w, const Mod& mod) {
  const std::size_t h = gap / 2;
  for (std::size_t i = 0; i < m; ++i) {
    const __m256d t1 = _mm256_set1_pd(w[m + i]);
    const __m256d t2a = _mm256_set1_pd(w[2 * m + 2 * i]), t2b = _mm256_set1_pd(w[2 * m + 2 * i + 1]);
    double* p = a + 2 * i * gap;
    for (std::size_t j = 0; j < h; j += 4) {
      __m256d a0 = load_lanes<kWords>(p + j, mod), a1 = load_lanes<kWords>(p + h + j, mod);
      __m256d a2 = load_lanes<kWords>(p + gap + j, mod), a3 = load_lanes<kWords>(p + gap + h + j, mod);
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

// One inverse stage alone (distance gap >= 4), groups [m, 2m).
void inverse_radix2(double* a, std::size_t m, std::size_t gap, const double* w, const Mod& mod) {
  for (std::size_t i = 0; i < m; ++i) {
    const __m256d t = _mm256_set1_pd(w[m + i]);
    double* x = a + 2 * i * gap;
    double* y = x + gap;
    for (std::size_t j = 0; j < gap; j += 4) {
      __m256d vx = load_d(x + j), vy = load_d(y + j);
      inverse_butterfly(vx, vy, t, mod);
      store_d(x + j, vx);
      store_d(y + j, vy);
    }
  }
}

// Inverse stages m (distance gap >= 4) and m / 2 (distance 2 gap) in one pass.
void inverse_radix4(double* a, std::size_t m, std::size_t gap, const double* w, const Mod& mod) {
  for (std::size_t i = 0; i < m / 2; ++i) {
    const __m256d t1a = _mm256_set1_pd(w[m + 2 * i]), t1b = _mm256_set1_pd(w[m + 2 * i + 1]);
    const __m256d t2 = _mm256_set1_pd(w[m / 2 + i]);
    double* p = a + 4 * i * gap;
    for (std::size_t j = 0; j < gap; j += 4) {
      __m256d a0 = load_d(p + j), a1 = load_d(p + gap + j);
      __m256d a2 = load_d(p + 2 * gap + j), a3 = load_d(p + 3 * gap + j);
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

void forward_fma_avx2(std::uint64_t* words, const NttTables& t) {
  const std::size_t n = t.n;
  if (n < 8) return forward_scalar(words, t);
  const Mod mod(t.q);
  const double* w = t.root_f64.data();
  double* a = reinterpret_cast<double*>(words);
  // Stages of distance n/2 .. 4: log2(n) - 2 of them, in pairs after an odd one out.
  const int wide = t.log_n - 2;
  std::size_t m = 1, gap = n / 2;
  if (wide % 2 == 1) {
    forward_radix2<true>(a, m, gap, w, mod);
    m <<= 1, gap >>= 1;
  } else {
    forward_radix4<true>(a, m, gap, w, mod);
    m <<= 2, gap >>= 2;
  }
  for (; gap >= 8; m <<= 2, gap >>= 2) forward_radix4<false>(a, m, gap, w, mod);
  // Distance 2 (groups n/4 + 2k, n/4 + 2k + 1) and 1 (groups n/2 + 4k ...) per 8-word chunk k.
  const double *w2 = w + n / 4, *w1 = w + n / 2;
  for (std::size_t k = 0; k < n / 8; ++k) {
    __m256d x, y;
    interleave(load_d(a + 8 * k), load_d(a + 8 * k + 4), x, y);  // x = [0 4 1 5], y = [2 6 3 7]
    forward_butterfly(x, y, _mm256_broadcast_pd(reinterpret_cast<const __m128d*>(w2 + 2 * k)), mod);
    interleave(x, y, x, y);  // x = [0 2 4 6], y = [1 3 5 7]
    forward_butterfly(x, y, load_d(w1 + 4 * k), mod);
    __m256d lo, hi;
    interleave(reduce_full(x, mod), reduce_full(y, mod), lo, hi);  // [0 1 2 3], [4 5 6 7]
    store_words(words + 8 * k, lo, mod);
    store_words(words + 8 * k + 4, hi, mod);
  }
}

void inverse_fma_avx2(std::uint64_t* words, const NttTables& t) {
  const std::size_t n = t.n;
  if (n < 8) return inverse_scalar(words, t);
  const Mod mod(t.q);
  const double* w = t.inv_root_f64.data();
  double* a = reinterpret_cast<double*>(words);
  // Distance 1 then 2, per 8-word chunk, converting the words.
  const double *w1 = w + n / 2, *w2 = w + n / 4;
  for (std::size_t k = 0; k < n / 8; ++k) {
    __m256d x, y;
    deinterleave(load_words(words + 8 * k, mod), load_words(words + 8 * k + 4, mod), x, y);
    inverse_butterfly(x, y, load_d(w1 + 4 * k), mod);
    deinterleave(x, y, x, y);  // x = [0 4 1 5], y = [2 6 3 7]
    inverse_butterfly(x, y, _mm256_broadcast_pd(reinterpret_cast<const __m128d*>(w2 + 2 * k)), mod);
    __m256d lo, hi;
    deinterleave(x, y, lo, hi);  // [0 1 2 3], [4 5 6 7]
    store_d(a + 8 * k, lo);
    store_d(a + 8 * k + 4, hi);
  }
  // Stages of distance 4 .. n/4 (m = n/8 .. 2): log2(n) - 3 of them.
  std::size_t m = n / 8, gap = 4;
  if ((t.log_n - 3) % 2 == 1) {
    inverse_radix2(a, m, gap, w, mod);
    m >>= 1, gap <<= 1;
  }
  for (; m >= 4; m >>= 2, gap <<= 2) inverse_radix4(a, m, gap, w, mod);
  // Last stage with the 1/n scaling folded in: x' = (x + y) / n, y' = (x - y) w / n,
  // fully reduced (|x + y|, |x - y| < 2q, so the lazy products are below q).
  const __m256d even = _mm256_set1_pd(static_cast<double>(t.n_inv));
  const __m256d odd = _mm256_set1_pd(static_cast<double>(t.inv_root1_n_inv));
  double* y = a + n / 2;
  for (std::size_t j = 0; j < n / 2; j += 4) {
    const __m256d vx = load_d(a + j), vy = load_d(y + j);
    const __m256d sum = _mm256_add_pd(vx, vy), diff = _mm256_sub_pd(vx, vy);
    store_words(words + j, lift_negative(mul_mod_lazy(sum, even, mod), mod), mod);
    store_words(words + n / 2 + j, lift_negative(mul_mod_lazy(diff, odd, mod), mod), mod);
  }
}

}  // namespace securinfer::ntt
