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

}  // namespace securinfer::eltwise
