#include "linalg/dot_accumulate.h"

#include <algorithm>

namespace securinfer::linalg {

using arith::u128;

std::size_t terms_per_reduction(const arith::Modulus& q) {
  // After a reduction the accumulator holds r < q; then `t` products of at
  // most (q - 1)^2 each: q + t (q - 1)^2 < 2^124.
  const u128 limit = u128(1) << 124;
  const u128 sq = u128(q.value() - 1) * (q.value() - 1);
  if (sq == 0) return ~std::size_t(0) >> 1;
  const u128 t = (limit - q.value()) / sq;
  return t > 1024 ? 1024 : static_cast<std::size_t>(t);
}

void dot_accumulate(std::uint64_t* out, const std::uint64_t* const* a, const std::uint64_t* const* b,
                    std::size_t terms, std::size_t n, const arith::Modulus& q) {
  constexpr std::size_t kBlock = 256;  // 4 KiB of accumulators
  const std::size_t per = terms_per_reduction(q);
  u128 acc[kBlock];
  for (std::size_t k0 = 0; k0 < n; k0 += kBlock) {
    const std::size_t len = std::min(kBlock, n - k0);
    for (std::size_t k = 0; k < len; ++k) acc[k] = 0;
    std::size_t since = 0;
    for (std::size_t t = 0; t < terms; ++t) {
      if (since == per) {
        for (std::size_t k = 0; k < len; ++k) acc[k] = arith::barrett_reduce_128(acc[k], q);
        since = 0;
      }
      const std::uint64_t* __restrict x = a[t] + k0;
      const std::uint64_t* __restrict y = b[t] + k0;
      for (std::size_t k = 0; k < len; ++k) acc[k] += u128(x[k]) * y[k];
      ++since;
    }
    for (std::size_t k = 0; k < len; ++k) out[k0 + k] = arith::barrett_reduce_128(acc[k], q);
  }
}

}  // namespace securinfer::linalg
