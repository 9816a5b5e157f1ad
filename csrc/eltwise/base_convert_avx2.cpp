// Base conversion loops on doubles with AVX2 + FMA (base_convert_kernels.h).
//
// lift_single: |in - b| < b < 2^50, so one reduce_full gives the residue.
// sum_products: each y hat is reduced lazily to |.| < 3c/4 (the quotient
// error of simd/modarith_fma_avx2.h is below y / 2^52 <= 1/4 for y < 2^50,
// whatever c), the sum re-centred every 8 terms (|acc| < c/2 + 1 + 8 (3c/4)
// < 2^53), and multiple * big (< 2^8 c) reduced the same way before the
// final reduction. The last n mod 4 coefficients run the same formulas in
// scalar 128-bit arithmetic.
#include "eltwise/base_convert_kernels.h"
#include "simd/modarith_avx2.h"
#include "simd/modarith_fma_avx2.h"

namespace securinfer::eltwise {
namespace {

using u128 = unsigned __int128;
namespace f = simd::fma_avx2;

constexpr std::size_t kTermsPerReduction = 8;

std::uint64_t sum_products_one(const std::uint64_t* y, std::size_t nf, std::size_t n, std::size_t k,
                               const std::uint64_t* hat, std::uint64_t c, const std::uint8_t* multiple,
                               std::uint64_t big) {
  u128 acc = 0;
  for (std::size_t i = 0; i < nf; ++i) acc += static_cast<u128>(y[i * n + k] % c) * hat[i];
  const std::uint64_t r = static_cast<std::uint64_t>(acc % c);
  const std::uint64_t m = multiple ? static_cast<std::uint64_t>(static_cast<u128>(multiple[k]) * big % c) : 0;
  return r >= m ? r - m : r + c - m;
}

}  // namespace

void lift_single_fma_avx2(std::uint64_t* out, const std::uint64_t* in, std::size_t n, std::uint64_t b,
                          std::uint64_t c, bool centered) {
  const f::Mod m(c);
  const __m256d vb = _mm256_set1_pd(static_cast<double>(b));
  const __m256d half = _mm256_set1_pd(static_cast<double>(b >> 1));
  std::size_t k = 0;
  for (; k + 4 <= n; k += 4) {
    __m256d v = f::load_words(in + k, m);
    if (centered) v = _mm256_sub_pd(v, _mm256_and_pd(_mm256_cmp_pd(v, half, _CMP_GT_OQ), vb));
    f::store_words(out + k, f::reduce_full(v, m), m);
  }
  for (; k < n; ++k) {
    const std::uint64_t x = in[k], r = x % c;
    if (centered && x > (b >> 1)) {
      const std::uint64_t bc = b % c;
      out[k] = r >= bc ? r - bc : r + c - bc;
    } else {
      out[k] = r;
    }
  }
}

void sum_products_fma_avx2(std::uint64_t* out, const std::uint64_t* y, std::size_t nf, std::size_t n,
                           const std::uint64_t* hat, std::uint64_t c, const std::uint8_t* multiple,
                           std::uint64_t big) {
  const f::Mod m(c);
  const __m256d vbig = _mm256_set1_pd(static_cast<double>(big));
  std::size_t k = 0;
  for (; k + 4 <= n; k += 4) {
    __m256d acc = _mm256_setzero_pd();
    for (std::size_t i = 0; i < nf; ++i) {
      if (i != 0 && i % kTermsPerReduction == 0) acc = f::reduce_centered(acc, m);
      const __m256d w = _mm256_set1_pd(static_cast<double>(hat[i]));
      acc = _mm256_add_pd(acc, f::mul_mod_lazy(f::load_words(y + i * n + k, m), w, m));
    }
    if (multiple) {
      std::int32_t bytes;
      __builtin_memcpy(&bytes, multiple + k, sizeof(bytes));
      const __m256d mk = _mm256_cvtepi32_pd(_mm_cvtepu8_epi32(_mm_cvtsi32_si128(bytes)));
      acc = _mm256_sub_pd(f::reduce_centered(acc, m), f::mul_mod_lazy(mk, vbig, m));
    }
    f::store_words(out + k, f::reduce_full(acc, m), m);
  }
  for (; k < n; ++k) out[k] = sum_products_one(y, nf, n, k, hat, c, multiple, big);
}

void lift_single_shoup_avx2(std::uint64_t* out, const std::uint64_t* in, std::size_t n, std::uint64_t b,
                            std::uint64_t c, bool centered) {
  // x mod c as x * 1 by Shoup (any x < 2^63), the formula of the AVX-512
  // loop on 4 lanes: one-prime digits and the special prime lifted to or from
  // primes of 50 bits and more, which the loops on doubles cannot hold.
  namespace v = simd::avx2;
  const std::uint64_t one_shoup = static_cast<std::uint64_t>((u128(1) << 64) / c);
  const std::uint64_t b_mod = b % c, half = b >> 1;
  const __m256i vc = v::set1(c), two_c = v::set1(2 * c), vhalf = v::set1(half), c_minus_b = v::set1(c - b_mod);
  const v::Swapped one = v::swapped(1), vq = v::swapped(c);
  const v::Split ws = v::split(one_shoup);
  std::size_t k = 0;
  for (; k + 4 <= n; k += 4) {
    const __m256i x = v::load(in + k);
    __m256i r = v::sub_if_ge(v::mul_shoup_lazy(x, one, ws, vq, two_c), vc);
    if (centered) {
      // x > b/2 stands for x - b: r - [b]_c modulo c, i.e. r + (c - [b]_c) reduced once.
      const __m256i above = _mm256_cmpgt_epi64(x, vhalf);  // x < 2^63: the signed compare holds
      const __m256i shifted = v::sub_if_ge(_mm256_add_epi64(r, c_minus_b), vc);
      r = _mm256_blendv_epi8(r, shifted, above);
    }
    v::store(out + k, r);
  }
  for (; k < n; ++k) {
    const std::uint64_t r = in[k] % c;
    out[k] = centered && in[k] > half ? (r >= b_mod ? r - b_mod : r + c - b_mod) : r;
  }
}

void centred_multiple_avx2(std::uint8_t* multiple, const std::uint64_t* y, std::size_t nf, std::size_t n,
                           const double* inverse) {
  // The AVX-512 loop's method on 4 lanes (the scalar loop's roundings; this
  // file is compiled with -ffp-contract=off).
  const __m256i low_mask = _mm256_set1_epi64x(0xffffffffLL), two52_bits = _mm256_set1_epi64x(0x4330000000000000LL);
  const __m256d two52 = _mm256_set1_pd(4503599627370496.0), two32 = _mm256_set1_pd(4294967296.0);
  const __m256d half = _mm256_set1_pd(0.5), one = _mm256_set1_pd(1.0);
  const auto exact = [&](__m256i words) {
    return _mm256_sub_pd(_mm256_castsi256_pd(_mm256_or_si256(words, two52_bits)), two52);
  };
  std::uint64_t lanes[4] = {}, padded[4];
  for (std::size_t k = 0; k < n; k += 4) {
    const std::size_t width = n - k < 4 ? n - k : 4;
    __m256d acc = _mm256_setzero_pd();
    for (std::size_t i = 0; i < nf; ++i) {
      const std::uint64_t* row = y + i * n + k;
      if (width < 4) {
        for (std::size_t l = 0; l < 4; ++l) padded[l] = l < width ? row[l] : 0;
        row = padded;
      }
      const __m256i w = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(row));
      const __m256d d = _mm256_add_pd(_mm256_mul_pd(exact(_mm256_srli_epi64(w, 32)), two32),
                                      exact(_mm256_and_si256(w, low_mask)));
      acc = _mm256_add_pd(acc, _mm256_mul_pd(d, _mm256_set1_pd(inverse[i])));
    }
    const __m256d t = _mm256_add_pd(acc, half);
    __m256d r = _mm256_sub_pd(_mm256_add_pd(t, two52), two52);
    r = _mm256_sub_pd(r, _mm256_and_pd(_mm256_cmp_pd(r, t, _CMP_GT_OQ), one));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(lanes),
                        _mm256_xor_si256(_mm256_castpd_si256(_mm256_add_pd(r, two52)), two52_bits));
    for (std::size_t l = 0; l < width; ++l) multiple[k + l] = static_cast<std::uint8_t>(lanes[l]);
  }
}

}  // namespace securinfer::eltwise
