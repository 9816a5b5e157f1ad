// AVX-512 IFMA negacyclic NTT: 8 lanes of 64 bits, primes q < 2^50.
//
//   forward_ifma: input [0, q) -> output [0, q), bit-reversed order. Between
//                 stages values lie in [0, 4q) (< 2^52, so every operand fits
//                 the 52-bit multipliers).
//   inverse_ifma: input [0, q) -> output [0, q). Between stages [0, 2q).
//
// Same Harvey butterflies as ntt_scalar.cpp, with Shoup's method in 52-bit
// words (NttTables::root_shoup52 etc., floor(w 2^52 / q)): three
// _mm512_madd52*_epu64 per product. The lazy intermediate words may differ
// from the scalar path's (other quotient estimates), the fully reduced outputs
// cannot: they are unique.
//
// Stages with butterfly distance >= 8 run over whole vectors with a broadcast
// twiddle. The last three (distance 4, 2, 1; inverse: the first three) work on
// 16-word chunks in registers, shuffled as ntt_shuffle_avx512.h describes.
// N < 16 runs the scalar kernel. The inverse folds the 1/n
// scaling into its last stage (NttTables::inv_root1_n_inv).
#include "ntt/ntt_kernels.h"
#include "ntt/ntt_shuffle_avx512.h"
#include "simd/modarith_ifma.h"

namespace securinfer::ntt {
namespace {

using namespace simd::ifma;
using simd::avx512::deinterleave;
using simd::avx512::interleave;
using simd::avx512::load_pair_x4;
using simd::avx512::load_quad_x2;

// A twiddle and its 52-bit Shoup factor floor(w 2^52 / q).
struct Twiddle {
  __m512i w, ws;
};

// Cooley-Tukey: x, y in [0, 4q) -> x + wy, x - wy in [0, 4q).
inline void forward_butterfly(__m512i& x, __m512i& y, const Twiddle& t, const Mod52& m) {
  const __m512i u = sub_if_ge(x, m.two_q);
  const __m512i v = mul_shoup_lazy52(y, t.w, t.ws, m);
  x = _mm512_add_epi64(u, v);
  y = _mm512_sub_epi64(_mm512_add_epi64(u, m.two_q), v);
}

// Gentleman-Sande: x, y in [0, 2q) -> x + y, (x - y) w in [0, 2q).
inline void inverse_butterfly(__m512i& x, __m512i& y, const Twiddle& t, const Mod52& m) {
  const __m512i s = sub_if_ge(_mm512_add_epi64(x, y), m.two_q);
  y = mul_shoup_lazy52(_mm512_sub_epi64(_mm512_add_epi64(x, m.two_q), y), t.w, t.ws, m);
  x = s;
}

// Chunk k's twiddles for the distance-4, 2 and 1 stages (tables offset to the stage).
inline Twiddle twiddles_gap4(const u64* w, const u64* ws, std::size_t k) {
  return {load_pair_x4(w + 2 * k), load_pair_x4(ws + 2 * k)};
}
inline Twiddle twiddles_gap2(const u64* w, const u64* ws, std::size_t k) {
  return {load_quad_x2(w + 4 * k), load_quad_x2(ws + 4 * k)};
}
inline Twiddle twiddles_gap1(const u64* w, const u64* ws, std::size_t k) { return {load(w + 8 * k), load(ws + 8 * k)}; }

// One stage with butterfly distance gap >= 8.
template <bool kForward>
inline void wide_stage(u64* a, std::size_t m, std::size_t gap, const u64* w, const u64* ws, const Mod52& mod) {
  for (std::size_t i = 0; i < m; ++i) {
    const Twiddle t{set1(w[m + i]), set1(ws[m + i])};
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

void forward_ifma(std::uint64_t* a, const NttTables& t) {
  const std::size_t n = t.n;
  if (n < 16) return forward_scalar(a, t);
  const Mod52 mod = make_mod52(t.q);
  const u64* w = t.root.data();
  const u64* ws = t.root_shoup52.data();
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

void inverse_ifma(std::uint64_t* a, const NttTables& t) {
  const std::size_t n = t.n;
  if (n < 16) return inverse_scalar(a, t);
  const Mod52 mod = make_mod52(t.q);
  const u64* w = t.inv_root.data();
  const u64* ws = t.inv_root_shoup52.data();
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
  // fully reduced (x + y < 4q < 2^52 fits the multiplier).
  const __m512i even_w = set1(t.n_inv), even_ws = set1(t.n_inv_shoup52);
  const __m512i odd_w = set1(t.inv_root1_n_inv), odd_ws = set1(t.inv_root1_n_inv_shoup52);
  u64* y = a + n / 2;
  for (std::size_t j = 0; j < n / 2; j += 8) {
    const __m512i vx = load(a + j), vy = load(y + j);
    const __m512i sum = _mm512_add_epi64(vx, vy), diff = _mm512_sub_epi64(_mm512_add_epi64(vx, mod.two_q), vy);
    store(a + j, sub_if_ge(mul_shoup_lazy52(sum, even_w, even_ws, mod), mod.q));
    store(y + j, sub_if_ge(mul_shoup_lazy52(diff, odd_w, odd_ws, mod), mod.q));
  }
}

}  // namespace securinfer::ntt
