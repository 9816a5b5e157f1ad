// dot_accumulate on doubles with AVX-512F (8 lanes), primes q < 2^50: the
// method of dot_accumulate_avx2.cpp on twice the lanes (modarith_fma_avx512.h).
//
// Each product is reduced lazily (simd/modarith_fma_avx512.h: |x y mod-lazy| <
// 3q/4 for x, y in [0, q)) and added to a signed double accumulator; after
// kTermsPerReduction terms the accumulator is brought back to [-q/2, q/2]:
// |acc| < q/2 + 8 (3q/4) = 6.5 q < 2^53 keeps every addition exact. The last
// reduction lands in [0, q), so the words equal the scalar kernel's.
#include "eltwise/dot_accumulate_kernels.h"
#include "simd/modarith_fma_avx512.h"

namespace securinfer::eltwise {

void dot_accumulate_fma_avx512(std::uint64_t* out, const std::uint64_t* const* a, const std::uint64_t* const* b,
                             std::size_t terms, std::size_t n, const arith::Modulus& q) {
  namespace f = simd::fma_avx512;
  const f::Mod m(q.value());
  std::size_t k = 0;
  for (; k + 8 <= n; k += 8) {
    __m512d acc = _mm512_setzero_pd();
    for (std::size_t t = 0; t < terms; ++t) {
      if (t != 0 && t % kTermsPerReduction == 0) acc = f::reduce_centered(acc, m);
      acc = _mm512_add_pd(acc, f::mul_mod_lazy(f::load_words(a[t] + k, m), f::load_words(b[t] + k, m), m));
    }
    f::store_words(out + k, f::reduce_full(acc, m), m);
  }
  if (k < n) dot_accumulate_tail(out, a, b, terms, k, n, q);
}

}  // namespace securinfer::eltwise
