#include "eltwise/dot_accumulate.h"

#include <algorithm>
#include <vector>

#include "eltwise/dot_accumulate_kernels.h"

namespace securinfer::eltwise {

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

namespace {

void dot_accumulate_scalar(std::uint64_t* out, const std::uint64_t* const* a, const std::uint64_t* const* b,
                           std::size_t terms, std::size_t n, const arith::Modulus& q) {
  constexpr std::size_t kBlock = 256;  // 4 KiB of accumulators
  if (terms == 0) {
    std::fill(out, out + n, 0);
    return;
  }
  const std::size_t per = terms_per_reduction(q);
  u128 acc[kBlock];
  for (std::size_t k0 = 0; k0 < n; k0 += kBlock) {
    const std::size_t len = std::min(kBlock, n - k0);
    bool first = true;
    std::size_t t = 0;
    while (t < terms) {
      // A run of at most `per` products on top of a reduced accumulator.
      const std::size_t run_end = std::min(terms, t + per);
      while (t < run_end) {
        // Up to four products per pass: the accumulator is loaded and stored
        // once for them instead of once per multiply (key switching's digit
        // sums are often 2 or 3 terms long).
        const std::size_t group = std::min<std::size_t>(4, run_end - t);
        const std::uint64_t *__restrict x0 = a[t] + k0, *__restrict y0 = b[t] + k0;
        const std::uint64_t *__restrict x1 = a[t + (group > 1)] + k0, *__restrict y1 = b[t + (group > 1)] + k0;
        const std::uint64_t *__restrict x2 = a[t + 2 * (group > 2)] + k0, *__restrict y2 = b[t + 2 * (group > 2)] + k0;
        const std::uint64_t *__restrict x3 = a[t + 3 * (group > 3)] + k0, *__restrict y3 = b[t + 3 * (group > 3)] + k0;
        switch (group) {
          case 4:
            for (std::size_t k = 0; k < len; ++k)
              acc[k] = (first ? 0 : acc[k]) + u128(x0[k]) * y0[k] + u128(x1[k]) * y1[k] + u128(x2[k]) * y2[k] +
                       u128(x3[k]) * y3[k];
            break;
          case 3:
            for (std::size_t k = 0; k < len; ++k)
              acc[k] = (first ? 0 : acc[k]) + u128(x0[k]) * y0[k] + u128(x1[k]) * y1[k] + u128(x2[k]) * y2[k];
            break;
          case 2:
            for (std::size_t k = 0; k < len; ++k)
              acc[k] = (first ? 0 : acc[k]) + u128(x0[k]) * y0[k] + u128(x1[k]) * y1[k];
            break;
          default:
            for (std::size_t k = 0; k < len; ++k) acc[k] = (first ? 0 : acc[k]) + u128(x0[k]) * y0[k];
        }
        t += group;
        first = false;
      }
      if (t < terms)
        for (std::size_t k = 0; k < len; ++k) acc[k] = arith::barrett_reduce_128(acc[k], q);
    }
    for (std::size_t k = 0; k < len; ++k) out[k0 + k] = arith::barrett_reduce_128(acc[k], q);
  }
}

}  // namespace

void dot_accumulate_tail(std::uint64_t* out, const std::uint64_t* const* a, const std::uint64_t* const* b,
                         std::size_t terms, std::size_t begin, std::size_t end, const arith::Modulus& q) {
  std::vector<const std::uint64_t*> a_tail(terms), b_tail(terms);
  for (std::size_t t = 0; t < terms; ++t) {
    a_tail[t] = a[t] + begin;
    b_tail[t] = b[t] + begin;
  }
  dot_accumulate_scalar(out + begin, a_tail.data(), b_tail.data(), terms, end - begin, q);
}

void dot_accumulate(std::uint64_t* out, const std::uint64_t* const* a, const std::uint64_t* const* b,
                    std::size_t terms, std::size_t n, const arith::Modulus& q, simd::SimdPath path) {
#if defined(SECURINFER_X86_KERNELS)
  if (q.value() < simd::kFmaModulusBound) {
    switch (path) {
      case simd::SimdPath::avx2: return dot_accumulate_fma_avx2(out, a, b, terms, n, q);
      case simd::SimdPath::avx512:
      case simd::SimdPath::ifma: return dot_accumulate_fma_avx512(out, a, b, terms, n, q);
      default: break;
    }
  }
#else
  (void)path;
#endif
  dot_accumulate_scalar(out, a, b, terms, n, q);
}

void dot_accumulate(std::uint64_t* out, const std::uint64_t* const* a, const std::uint64_t* const* b,
                    std::size_t terms, std::size_t n, const arith::Modulus& q) {
  dot_accumulate(out, a, b, terms, n, q, simd::select_path(q.value()));
}


void scalar_accumulate(std::uint64_t* out, const std::uint64_t* s, const std::uint64_t* const* b,
                       std::size_t terms, std::size_t n, const arith::Modulus& q) {
  constexpr std::size_t kBlock = 256;
  if (terms == 0) {
    std::fill(out, out + n, 0);
    return;
  }
  const std::size_t per = terms_per_reduction(q);
  u128 acc[kBlock];
  for (std::size_t k0 = 0; k0 < n; k0 += kBlock) {
    const std::size_t len = std::min(kBlock, n - k0);
    bool first = true;
    std::size_t t = 0;
    while (t < terms) {
      const std::size_t run_end = std::min(terms, t + per);
      while (t < run_end) {
        if (run_end - t >= 4) {
          const std::uint64_t s0 = s[t], s1 = s[t + 1], s2 = s[t + 2], s3 = s[t + 3];
          const std::uint64_t *__restrict y0 = b[t] + k0, *__restrict y1 = b[t + 1] + k0,
                                *__restrict y2 = b[t + 2] + k0, *__restrict y3 = b[t + 3] + k0;
          for (std::size_t k = 0; k < len; ++k) {
            u128 sum = first ? 0 : acc[k];
            sum += u128(s0) * y0[k];
            sum += u128(s1) * y1[k];
            sum += u128(s2) * y2[k];
            sum += u128(s3) * y3[k];
            acc[k] = sum;
          }
          t += 4;
        } else {
          const std::uint64_t st = s[t];
          const std::uint64_t* __restrict y = b[t] + k0;
          for (std::size_t k = 0; k < len; ++k) acc[k] = (first ? 0 : acc[k]) + u128(st) * y[k];
          t += 1;
        }
        first = false;
      }
      if (t < terms)
        for (std::size_t k = 0; k < len; ++k) acc[k] = arith::barrett_reduce_128(acc[k], q);
    }
    for (std::size_t k = 0; k < len; ++k) out[k0 + k] = arith::barrett_reduce_128(acc[k], q);
  }
}

}  // namespace securinfer::eltwise
