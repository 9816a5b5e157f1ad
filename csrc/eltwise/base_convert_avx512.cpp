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
