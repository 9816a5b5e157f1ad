// AVX2 negacyclic NTT: 4 lanes of 64 bits, any prime q < 2^60.
//
//   forward_avx2: input [0, q) -> output [0, q), bit-reversed order. Between
//                 stages values lie in [0, 4q) (< 2^62), as in forward_scalar.
//   inverse_avx2: input [0, q) -> output [0, q). Between stages [0, 2q).
//
// Same Harvey butterflies as ntt_scalar.cpp; the fully reduced outputs are
// unique, so the words equal the scalar path's. AVX2 has no 64x64 multiply:
// Shoup's quotient hi64(y * w') is estimated from three 32x32 _mm256_mul_epu32
// (up to 2 low, corrected by one conditional subtraction), and the low word
// y*w - quotient*q from the partial products that reach it
// (simd/modarith_avx2.h).
//
// Stages with butterfly distance >= 4 run over whole vectors with a broadcast
// twiddle. The last two (distance 2 and 1, inverse: first two) work on 8-word
// chunks in registers: each stage starts with a perfect shuffle (forward) or
// unshuffle (inverse) of the two vectors, so that lane i of X and of Y hold a
// butterfly pair and the twiddles are a plain load (distance 1) or a 128-bit
// broadcast load (distance 2) of the table. N < 8 runs the scalar kernel.
// The inverse folds the 1/n scaling into its last stage
// (NttTables::inv_root1_n_inv).
#include "ntt/ntt_kernels.h"
#include "simd/modarith_avx2.h"

namespace securinfer::ntt {
namespace {

using namespace simd::avx2;

// A twiddle and its Shoup factor floor(w 2^64 / q).
struct Twiddle {
  Swapped w;
  Split ws;
};

inline Twiddle twiddle_broadcast(u64 w, u64 ws) { return {swapped(w), split(ws)}; }
inline Twiddle twiddle_from(__m256i w, __m256i ws) { return {swapped(w), split(ws)}; }

// [p0, p1, p0, p1]
inline __m256i load_pair_twice(const u64* p) {
  return _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}

struct Mod {
  Swapped q;
  __m256i q_vec, two_q;
  explicit Mod(u64 m) : q(swapped(m)), q_vec(set1(m)), two_q(set1(2 * m)) {}
};

// Cooley-Tukey: x, y in [0, 4q) -> x + wy, x - wy in [0, 4q).
inline void forward_butterfly(__m256i& x, __m256i& y, const Twiddle& t, const Mod& m) {
  const __m256i u = sub_if_ge(x, m.two_q);
  const __m256i v = mul_shoup_lazy(y, t.w, t.ws, m.q, m.two_q);
  x = _mm256_add_epi64(u, v);
  y = _mm256_sub_epi64(_mm256_add_epi64(u, m.two_q), v);
}

// Gentleman-Sande: x, y in [0, 2q) -> x + y, (x - y) w in [0, 2q).
inline void inverse_butterfly(__m256i& x, __m256i& y, const Twiddle& t, const Mod& m) {
  const __m256i s = sub_if_ge(_mm256_add_epi64(x, y), m.two_q);
  y = mul_shoup_lazy(_mm256_sub_epi64(_mm256_add_epi64(x, m.two_q), y), t.w, t.ws, m.q, m.two_q);
  x = s;
}

// Perfect shuffle of (a, b): lo = [a0 b0 a1 b1], hi = [a2 b2 a3 b3].
inline void interleave(__m256i a, __m256i b, __m256i& lo, __m256i& hi) {
  a = _mm256_permute4x64_epi64(a, 0xD8);  // [a0 a2 a1 a3]
  b = _mm256_permute4x64_epi64(b, 0xD8);
  lo = _mm256_unpacklo_epi64(a, b);
  hi = _mm256_unpackhi_epi64(a, b);
}

// Inverse shuffle: even = [a0 a2 b0 b2], odd = [a1 a3 b1 b3].
inline void deinterleave(__m256i a, __m256i b, __m256i& even, __m256i& odd) {
  even = _mm256_permute4x64_epi64(_mm256_unpacklo_epi64(a, b), 0xD8);
  odd = _mm256_permute4x64_epi64(_mm256_unpackhi_epi64(a, b), 0xD8);
}

// One stage with butterfly distance gap >= 4 (multiple of the vector width).
template <bool kForward>
inline void wide_stage(u64* a, std::size_t m, std::size_t gap, const u64* w, const u64* ws, const Mod& mod) {
  for (std::size_t i = 0; i < m; ++i) {
    const Twiddle t = twiddle_broadcast(w[m + i], ws[m + i]);
    u64* x = a + 2 * i * gap;
    u64* y = x + gap;
    for (std::size_t j = 0; j < gap; j += 4) {
      __m256i vx = load(x + j), vy = load(y + j);
      if (kForward)
        forward_butterfly(vx, vy, t, mod);
      else
        inverse_butterfly(vx, vy, t, mod);
      store(x + j, vx);
      store(y + j, vy);
    }
  }
}

}  // namespace

void forward_avx2(std::uint64_t* a, const NttTables& t) {
  const std::size_t n = t.n;
  if (n < 8) return forward_scalar(a, t);
  const Mod mod(t.q);
  const u64* w = t.root.data();
  const u64* ws = t.root_shoup.data();
  std::size_t m = 1, gap = n / 2;
  for (; gap >= 4; m <<= 1, gap >>= 1) wide_stage<true>(a, m, gap, w, ws, mod);
  // Distance 2 (groups n/4 + 2k, n/4 + 2k + 1) and 1 (groups n/2 + 4k ...) per 8-word chunk k.
  const u64 *w2 = w + n / 4, *ws2 = ws + n / 4, *w1 = w + n / 2, *ws1 = ws + n / 2;
  for (std::size_t k = 0; k < n / 8; ++k) {
    __m256i x, y;
    interleave(load(a + 8 * k), load(a + 8 * k + 4), x, y);  // x = [0 4 1 5], y = [2 6 3 7]
    forward_butterfly(x, y, twiddle_from(load_pair_twice(w2 + 2 * k), load_pair_twice(ws2 + 2 * k)), mod);
    interleave(x, y, x, y);  // x = [0 2 4 6], y = [1 3 5 7]
    forward_butterfly(x, y, twiddle_from(load(w1 + 4 * k), load(ws1 + 4 * k)), mod);
    x = sub_if_ge(sub_if_ge(x, mod.two_q), mod.q_vec);
    y = sub_if_ge(sub_if_ge(y, mod.two_q), mod.q_vec);
    __m256i lo, hi;
    interleave(x, y, lo, hi);  // [0 1 2 3], [4 5 6 7]
    store(a + 8 * k, lo);
    store(a + 8 * k + 4, hi);
  }
}

void inverse_avx2(std::uint64_t* a, const NttTables& t) {
  const std::size_t n = t.n;
  if (n < 8) return inverse_scalar(a, t);
  const Mod mod(t.q);
  const u64* w = t.inv_root.data();
  const u64* ws = t.inv_root_shoup.data();
  // Distance 1 then 2, per 8-word chunk.
  const u64 *w1 = w + n / 2, *ws1 = ws + n / 2, *w2 = w + n / 4, *ws2 = ws + n / 4;
  for (std::size_t k = 0; k < n / 8; ++k) {
    __m256i x, y;
    deinterleave(load(a + 8 * k), load(a + 8 * k + 4), x, y);  // x = [0 2 4 6], y = [1 3 5 7]
    inverse_butterfly(x, y, twiddle_from(load(w1 + 4 * k), load(ws1 + 4 * k)), mod);
    deinterleave(x, y, x, y);  // x = [0 4 1 5], y = [2 6 3 7]
    inverse_butterfly(x, y, twiddle_from(load_pair_twice(w2 + 2 * k), load_pair_twice(ws2 + 2 * k)), mod);
    __m256i lo, hi;
    deinterleave(x, y, lo, hi);  // [0 1 2 3], [4 5 6 7]
    store(a + 8 * k, lo);
    store(a + 8 * k + 4, hi);
  }
  for (std::size_t m = n / 8, gap = 4; m >= 2; m >>= 1, gap <<= 1) wide_stage<false>(a, m, gap, w, ws, mod);
  // Last stage with the 1/n scaling folded in: x' = (x + y) / n, y' = (x - y) w / n,
  // fully reduced.
  const Twiddle even = twiddle_broadcast(t.n_inv, t.n_inv_shoup);
  const Twiddle odd = twiddle_broadcast(t.inv_root1_n_inv, t.inv_root1_n_inv_shoup);
  u64* y = a + n / 2;
  for (std::size_t j = 0; j < n / 2; j += 4) {
    const __m256i vx = load(a + j), vy = load(y + j);
    const __m256i sum = _mm256_add_epi64(vx, vy), diff = _mm256_sub_epi64(_mm256_add_epi64(vx, mod.two_q), vy);
    store(a + j, sub_if_ge(mul_shoup_lazy(sum, even.w, even.ws, mod.q, mod.two_q), mod.q_vec));
    store(y + j, sub_if_ge(mul_shoup_lazy(diff, odd.w, odd.ws, mod.q, mod.two_q), mod.q_vec));
  }
}

}  // namespace securinfer::ntt
