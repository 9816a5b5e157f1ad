// Multi-prime base conversion sums with AVX-512 F/DQ for primes up to 2^60
// (base_convert_kernels.h): the FMA loops on doubles need primes below 2^50,
// so bootstrapping's 58-60-bit chains ran the scalar loop, a third of a
// bootstrap's time. Eight coefficients at a time, the scalar loop's formulas:
// Shoup products kept lazily in [0, 2c), then the canonical residue, then the
// centred lift's multiple of B subtracted; every output is the canonical
// residue, so the words equal the scalar path's.
#include "eltwise/base_convert_kernels.h"
#include "simd/modarith_avx512.h"

namespace securinfer::eltwise {
namespace {

using u128 = unsigned __int128;
namespace v = simd::avx512;

std::uint64_t sum_products_one(const std::uint64_t* y, std::size_t nf, std::size_t n, std::size_t k,
                               const std::uint64_t* hat, std::uint64_t c, const std::uint8_t* multiple,
                               const std::uint64_t* multiples) {
  u128 acc = 0;
  for (std::size_t i = 0; i < nf; ++i) acc += static_cast<u128>(y[i * n + k] % c) * hat[i];
  const std::uint64_t r = static_cast<std::uint64_t>(acc % c);
  const std::uint64_t m = multiple ? multiples[multiple[k]] : 0;
  return r >= m ? r - m : r + c - m;
}

}  // namespace

void lift_single_shoup_avx512(std::uint64_t* out, const std::uint64_t* in, std::size_t n, std::uint64_t b,
                              std::uint64_t c, bool centered) {
  // x mod c as x * 1 by Shoup (any x < 2^64): one prime digits and the special
  // prime lifted to primes of any size, the scalar loop's residues.
  const std::uint64_t one_shoup = static_cast<std::uint64_t>((u128(1) << 64) / c);
  const std::uint64_t b_mod = b % c, half = b >> 1;
  const __m512i vc = v::set1(c), two_c = v::set1(2 * c), one = v::set1(1), vb_mod = v::set1(b_mod);
  const __m512i vhalf_up = v::set1(half + 1);  // x > b/2: x >= b/2 + 1 (the emulation build lacks cmpgt_epu64)
  const v::Split ws = v::split(one_shoup);
  std::size_t k = 0;
  for (; k + 8 <= n; k += 8) {
    const __m512i x = v::load(in + k);
    __m512i r = v::sub_if_ge(v::mul_shoup_lazy(x, one, ws, vc, two_c), vc);
    if (centered) {
      // x > b/2 stands for x - b: subtract [b]_c modulo c in those lanes.
      const __mmask8 above = _mm512_cmpge_epu64_mask(x, vhalf_up);
      const __m512i d = _mm512_sub_epi64(r, vb_mod);
      r = _mm512_mask_min_epu64(r, above, d, _mm512_add_epi64(d, vc));
    }
    v::store(out + k, r);
  }
  for (; k < n; ++k) {
    const std::uint64_t r = in[k] % c;
    out[k] = centered && in[k] > half ? (r >= b_mod ? r - b_mod : r + c - b_mod) : r;
  }
}

void centred_multiple_avx512(std::uint8_t* multiple, const std::uint64_t* y, std::size_t nf, std::size_t n,
                             const double* inverse) {
  // The scalar loop's roundings exactly: double(y) rounded once (the two
  // 32-bit halves are exact, and hi * 2^32 too, so their sum rounds once),
  // then one rounding per product and per sum, in the same order. This file
  // is compiled with -ffp-contract=off: a fused multiply-add would round once
  // where the scalar loop rounds twice.
  const __m512i low_mask = v::set1(0xffffffffULL), two52_bits = v::set1(0x4330000000000000ULL);
  const __m512d two52 = _mm512_set1_pd(4503599627370496.0), two32 = _mm512_set1_pd(4294967296.0);
  const __m512d half = _mm512_set1_pd(0.5), one = _mm512_set1_pd(1.0);
  const auto exact = [&](__m512i words) {  // words < 2^52 to doubles, exactly
    return _mm512_sub_pd(_mm512_castsi512_pd(_mm512_or_si512(words, two52_bits)), two52);
  };
  std::uint64_t lanes[8] = {}, padded[8];
  for (std::size_t k = 0; k < n; k += 8) {
    const std::size_t width = n - k < 8 ? n - k : 8;
    __m512d acc = _mm512_setzero_pd();
    for (std::size_t i = 0; i < nf; ++i) {
      const std::uint64_t* row = y + i * n + k;
      if (width < 8) {  // the tail: the same lanes, zero padded
        for (std::size_t l = 0; l < 8; ++l) padded[l] = l < width ? row[l] : 0;
        row = padded;
      }
      const __m512i w = v::load(row);
      const __m512d d = _mm512_add_pd(_mm512_mul_pd(exact(_mm512_srli_epi64(w, 32)), two32),
                                      exact(_mm512_and_si512(w, low_mask)));
      acc = _mm512_add_pd(acc, _mm512_mul_pd(d, _mm512_set1_pd(inverse[i])));
    }
    // Truncation of acc + 0.5 (>= 0, small): round to nearest by 2^52, then
    // one less where that went up.
    const __m512d t = _mm512_add_pd(acc, half);
    __m512d r = _mm512_sub_pd(_mm512_add_pd(t, two52), two52);
    r = _mm512_mask_sub_pd(r, _mm512_cmp_pd_mask(r, t, _CMP_GT_OQ), r, one);
    v::store(lanes, _mm512_xor_si512(_mm512_castpd_si512(_mm512_add_pd(r, two52)), two52_bits));
    for (std::size_t l = 0; l < width; ++l) multiple[k + l] = static_cast<std::uint8_t>(lanes[l]);
  }
}

void sum_products_shoup_avx512(std::uint64_t* out, const std::uint64_t* y, std::size_t nf, std::size_t n,
                               const std::uint64_t* hat, const std::uint64_t* hat_shoup, std::uint64_t c,
                               const std::uint8_t* multiple, const std::uint64_t* multiples) {
  const __m512i vc = v::set1(c), two_c = v::set1(2 * c);
  std::size_t k = 0;
  for (; k + 8 <= n; k += 8) {
    __m512i acc = _mm512_setzero_si512();
    for (std::size_t i = 0; i < nf; ++i) {
      const __m512i term = v::mul_shoup_lazy(v::load(y + i * n + k), v::set1(hat[i]), v::split(hat_shoup[i]), vc, two_c);
      acc = v::sub_if_ge(_mm512_add_epi64(acc, term), two_c);  // both in [0, 2c): the sum below 4c
    }
    acc = v::sub_if_ge(acc, vc);
    if (multiple) {
      // [m B]_c from the table by the multiple's index (looked up per lane:
      // the emulation build has no gather); acc minus it, modulo c.
      std::uint64_t lanes[8];
      for (std::size_t l = 0; l < 8; ++l) lanes[l] = multiples[multiple[k + l]];
      const __m512i d = _mm512_sub_epi64(acc, v::load(lanes));
      acc = _mm512_min_epu64(d, _mm512_add_epi64(d, vc));  // d wrapped below 0: d + c is the residue
    }
    v::store(out + k, acc);
  }
  for (; k < n; ++k) out[k] = sum_products_one(y, nf, n, k, hat, c, multiple, multiples);
}

}  // namespace securinfer::eltwise
