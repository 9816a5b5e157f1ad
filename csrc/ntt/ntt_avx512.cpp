// AVX-512 (F/DQ, no IFMA) negacyclic NTT: 8 lanes of 64 bits, any prime q < 2^60.
//
//   forward_avx512: input [0, q) -> output [0, q), bit-reversed order. Between
//                   stages values lie in [0, 4q) (< 2^62), as in forward_scalar.
//   inverse_avx512: input [0, q) -> output [0, q). Between stages [0, 2q).
//
// Same Harvey butterflies as ntt_scalar.cpp; the fully reduced outputs are
// unique, so the words equal the scalar path's. Shoup's quotient hi64(y * w')
// is estimated from three _mm512_mul_epu32 (up to 2 low, corrected by one
// conditional subtraction), the low words come from _mm512_mullo_epi64
// (simd/modarith_avx512.h).
//
// Stages with butterfly distance >= 8 run over whole vectors with a broadcast
// twiddle. The last three (distance 4, 2, 1; inverse: the first three) work on
// 16-word chunks in registers, shuffled as ntt_shuffle_avx512.h describes.
// N < 16 runs the scalar kernel. The inverse folds the 1/n
// scaling into its last stage (NttTables::inv_root1_n_inv).
#include "ntt/ntt_kernels.h"
#include "ntt/ntt_shuffle_avx512.h"
#include "simd/modarith_avx512.h"

namespace securinfer::ntt {
namespace {

using namespace simd::avx512;

// A twiddle and its Shoup factor floor(w 2^64 / q).
struct Twiddle {
  __m512i w;
  Split ws;
};

struct Mod {
  __m512i q, two_q;
  explicit Mod(u64 m) : q(set1(m)), two_q(set1(2 * m)) {}
};

// Cooley-Tukey: x, y in [0, 4q) -> x + wy, x - wy in [0, 4q).
inline void forward_butterfly(__m512i& x, __m512i& y, const Twiddle& t, const Mod& m) {
  const __m512i u = sub_if_ge(x, m.two_q);
  const __m512i v = mul_shoup_lazy(y, t.w, t.ws, m.q, m.two_q);
  x = _mm512_add_epi64(u, v);
  y = _mm512_sub_epi64(_mm512_add_epi64(u, m.two_q), v);
}

// Gentleman-Sande: x, y in [0, 2q) -> x + y, (x - y) w in [0, 2q).
inline void inverse_butterfly(__m512i& x, __m512i& y, const Twiddle& t, const Mod& m) {
  const __m512i s = sub_if_ge(_mm512_add_epi64(x, y), m.two_q);
  y = mul_shoup_lazy(_mm512_sub_epi64(_mm512_add_epi64(x, m.two_q), y), t.w, t.ws, m.q, m.two_q);
  x = s;
}

// Chunk k's twiddles for the distance-4, 2 and 1 stages (tables offset to the stage).
inline Twiddle twiddles_gap4(const u64* w, const u64* ws, std::size_t k) {
  return {load_pair_x4(w + 2 * k), split(load_pair_x4(ws + 2 * k))};
}
inline Twiddle twiddles_gap2(const u64* w, const u64* ws, std::size_t k) {
  return {load_quad_x2(w + 4 * k), split(load_quad_x2(ws + 4 * k))};
}
inline Twiddle twiddles_gap1(const u64* w, const u64* ws, std::size_t k) {
  return {load(w + 8 * k), split(load(ws + 8 * k))};
}

// One stage with butterfly distance gap >= 8.
template <bool kForward>
inline void wide_stage(u64* a, std::size_t m, std::size_t gap, const u64* w, const u64* ws, const Mod& mod) {
  for (std::size_t i = 0; i < m; ++i) {
    const Twiddle t{set1(w[m + i]), split(ws[m + i])};
    u64* x = a + 2 * i * gap;
    u64* y = x + gap;
    for (std::size_t j = 0; j < gap; j += 8) {
      __m512i vx = load(x + j), vy = load(y + j);
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

void forward_avx512(std::uint64_t* a, const NttTables& t) {
  const std::size_t n = t.n;
  if (n < 16) return forward_scalar(a, t);
  const Mod mod(t.q);
  const u64* w = t.root.data();
  const u64* ws = t.root_shoup.data();
  std::size_t m = 1, gap = n / 2;
  for (; gap >= 8; m <<= 1, gap >>= 1) wide_stage<true>(a, m, gap, w, ws, mod);
  for (std::size_t k = 0; k < n / 16; ++k) {
    __m512i x, y;
    interleave(load(a + 16 * k), load(a + 16 * k + 8), x, y);
    forward_butterfly(x, y, twiddles_gap4(w + n / 8, ws + n / 8, k), mod);
    interleave(x, y, x, y);
    forward_butterfly(x, y, twiddles_gap2(w + n / 4, ws + n / 4, k), mod);
    interleave(x, y, x, y);
    forward_butterfly(x, y, twiddles_gap1(w + n / 2, ws + n / 2, k), mod);
    x = sub_if_ge(sub_if_ge(x, mod.two_q), mod.q);
    y = sub_if_ge(sub_if_ge(y, mod.two_q), mod.q);
    __m512i lo, hi;
    interleave(x, y, lo, hi);
    store(a + 16 * k, lo);
    store(a + 16 * k + 8, hi);
  }
}

void inverse_avx512(std::uint64_t* a, const NttTables& t) {
  const std::size_t n = t.n;
  if (n < 16) return inverse_scalar(a, t);
  const Mod mod(t.q);
  const u64* w = t.inv_root.data();
  const u64* ws = t.inv_root_shoup.data();
  for (std::size_t k = 0; k < n / 16; ++k) {
    __m512i x, y;
    deinterleave(load(a + 16 * k), load(a + 16 * k + 8), x, y);
    inverse_butterfly(x, y, twiddles_gap1(w + n / 2, ws + n / 2, k), mod);
    deinterleave(x, y, x, y);
    inverse_butterfly(x, y, twiddles_gap2(w + n / 4, ws + n / 4, k), mod);
    deinterleave(x, y, x, y);
    inverse_butterfly(x, y, twiddles_gap4(w + n / 8, ws + n / 8, k), mod);
    __m512i lo, hi;
    deinterleave(x, y, lo, hi);
    store(a + 16 * k, lo);
    store(a + 16 * k + 8, hi);
  }
  for (std::size_t m = n / 16, gap = 8; m >= 2; m >>= 1, gap <<= 1) wide_stage<false>(a, m, gap, w, ws, mod);
  // Last stage with the 1/n scaling folded in: x' = (x + y) / n, y' = (x - y) w / n,
  // fully reduced.
  const __m512i even_w = set1(t.n_inv), odd_w = set1(t.inv_root1_n_inv);
  const Split even_ws = split(t.n_inv_shoup), odd_ws = split(t.inv_root1_n_inv_shoup);
  u64* y = a + n / 2;
  for (std::size_t j = 0; j < n / 2; j += 8) {
    const __m512i vx = load(a + j), vy = load(y + j);
    const __m512i sum = _mm512_add_epi64(vx, vy), diff = _mm512_sub_epi64(_mm512_add_epi64(vx, mod.two_q), vy);
    store(a + j, sub_if_ge(mul_shoup_lazy(sum, even_w, even_ws, mod.q, mod.two_q), mod.q));
    store(y + j, sub_if_ge(mul_shoup_lazy(diff, odd_w, odd_ws, mod.q, mod.two_q), mod.q));
  }
}

}  // namespace securinfer::ntt
