// The inner loops of fast base conversion (ring/base_converter.cpp) on
// doubles with AVX2 + FMA, for source and target primes below 2^50. Every
// output is the canonical residue in [0, c), so the words equal the scalar
// loops' (and SECURINFER_SIMD=scalar keeps those).
//
//   lift_single_fma_avx2(out, in, n, b, c, centered):
//       out[k] = in[k] mod c, or (in[k] - b) mod c when centered and
//       in[k] > b/2 (in[k] < b).
//   sum_products_fma_avx2(out, y, nf, n, hat, c, multiple, big):
//       out[k] = (sum_i y[i n + k] hat[i] - multiple[k] big) mod c, with
//       y < 2^50, hat[i] < c, big < c; multiple may be null (then 0).
#pragma once
#include <cstddef>
#include <cstdint>

namespace securinfer::eltwise {

#if defined(SECURINFER_X86_KERNELS)
void lift_single_fma_avx2(std::uint64_t* out, const std::uint64_t* in, std::size_t n, std::uint64_t b,
                          std::uint64_t c, bool centered);
void sum_products_fma_avx2(std::uint64_t* out, const std::uint64_t* y, std::size_t nf, std::size_t n,
                           const std::uint64_t* hat, std::uint64_t c, const std::uint8_t* multiple,
                           std::uint64_t big);
// AVX2, one source prime b < 2^63, a target c < 2^60: lift_single's formula
// by Shoup products, for primes of 50 bits and more.
void lift_single_shoup_avx2(std::uint64_t* out, const std::uint64_t* in, std::size_t n, std::uint64_t b,
                            std::uint64_t c, bool centered);
// AVX2: centred_multiple_avx512's result on 4 lanes.
void centred_multiple_avx2(std::uint8_t* multiple, const std::uint64_t* y, std::size_t nf, std::size_t n,
                           const double* inverse);
// AVX-512 F/DQ, one source prime b, a target c < 2^61 (lift_single's
// formula for primes of any size up to that).
void lift_single_shoup_avx512(std::uint64_t* out, const std::uint64_t* in, std::size_t n, std::uint64_t b,
                              std::uint64_t c, bool centered);
// AVX-512 F/DQ: multiple[k] = (uint8) (sum_i double(y[i n + k]) * inverse[i]
// + 0.5), the scalar loop's products and sums in its order (no FMA), so the
// bytes are the scalar path's.
void centred_multiple_avx512(std::uint8_t* multiple, const std::uint64_t* y, std::size_t nf, std::size_t n,
                             const double* inverse);
// AVX-512 F/DQ, any source primes, a target c < 2^61: out[k] = (sum_i
// y[i n + k] hat[i] - multiples[multiple[k]]) mod c, hat_shoup[i] =
// floor(hat[i] 2^64 / c), multiples[m] = [m B]_c; multiple may be null (then 0).
void sum_products_shoup_avx512(std::uint64_t* out, const std::uint64_t* y, std::size_t nf, std::size_t n,
                               const std::uint64_t* hat, const std::uint64_t* hat_shoup, std::uint64_t c,
                               const std::uint8_t* multiple, const std::uint64_t* multiples);
#endif

}  // namespace securinfer::eltwise
