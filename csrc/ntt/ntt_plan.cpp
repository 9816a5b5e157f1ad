#include "ntt/ntt_plan.h"

#include <string>

#include "arith/modarith.h"
#include "arith/primes.h"
#include "ntt/ntt_kernels.h"
#include "util/errors.h"

namespace securinfer::ntt {
namespace {

std::size_t bit_reverse(std::size_t x, int bits) {
  std::size_t r = 0;
  for (int i = 0; i < bits; ++i) r |= ((x >> i) & 1) << (bits - 1 - i);
  return r;
}

std::uint64_t shoup52(std::uint64_t w, std::uint64_t q) {
  return static_cast<std::uint64_t>((arith::u128(w) << 52) / q);
}

NttTables build_tables(std::size_t n, std::uint64_t q) {
  SECURINFER_CHECK(n >= kMinDegree && n <= kMaxDegree && (n & (n - 1)) == 0, ParameterError,
                   "NTT size must be a power of two in [2, 2^17], got " + std::to_string(n));
  SECURINFER_CHECK(q >= 2 && q < (std::uint64_t(1) << arith::kMaxModulusBits), ParameterError,
                   "NTT modulus must be below 2^60");
  // minimal_primitive_root checks primality and q = 1 mod 2n.
  NttTables t;
  t.n = n;
  t.q = q;
  t.log_n = __builtin_ctzll(n);
  t.psi = arith::minimal_primitive_root(2 * n, q);
  const arith::Modulus mod(q);
  const std::uint64_t psi_inv = arith::inv_mod(t.psi, q);
  t.root.resize(n);
  t.root_shoup.resize(n);
  t.inv_root.resize(n);
  t.inv_root_shoup.resize(n);
  std::uint64_t power = 1, inv_power = 1;
  for (std::size_t k = 0; k < n; ++k) {
    const std::size_t index = bit_reverse(k, t.log_n);
    t.root[index] = power;
    t.inv_root[index] = inv_power;
    power = arith::mul_mod(power, t.psi, mod);
    inv_power = arith::mul_mod(inv_power, psi_inv, mod);
  }
  for (std::size_t k = 0; k < n; ++k) {
    t.root_shoup[k] = arith::shoup_precompute(t.root[k], q);
    t.inv_root_shoup[k] = arith::shoup_precompute(t.inv_root[k], q);
  }
  t.n_inv = arith::inv_mod(n % q, q);
  t.n_inv_shoup = arith::shoup_precompute(t.n_inv, q);
  t.inv_root1_n_inv = arith::mul_mod(t.inv_root[1], t.n_inv, mod);
  t.inv_root1_n_inv_shoup = arith::shoup_precompute(t.inv_root1_n_inv, q);
  if (q < simd::kIfmaModulusBound) {
    t.root_shoup52.resize(n);
    t.inv_root_shoup52.resize(n);
    for (std::size_t k = 0; k < n; ++k) {
      t.root_shoup52[k] = shoup52(t.root[k], q);
      t.inv_root_shoup52[k] = shoup52(t.inv_root[k], q);
    }
    t.n_inv_shoup52 = shoup52(t.n_inv, q);
    t.inv_root1_n_inv_shoup52 = shoup52(t.inv_root1_n_inv, q);
    t.root_f64.assign(t.root.begin(), t.root.end());
    t.inv_root_f64.assign(t.inv_root.begin(), t.inv_root.end());
  }
  return t;
}

}  // namespace

NttPlan::NttPlan(std::size_t n, std::uint64_t q)
    : tables_(build_tables(n, q)), path_(simd::select_path(q)), on_doubles_(simd::uses_fma_doubles(path_, q)) {}

NttPlan::NttPlan(std::size_t n, std::uint64_t q, simd::SimdPath path)
    : tables_(build_tables(n, q)),
      path_(simd::checked_path(path, q)),
      on_doubles_(simd::uses_fma_doubles(path_, q)) {}

void NttPlan::forward(std::uint64_t* data) const {
  switch (path_) {
#if defined(SECURINFER_X86_KERNELS)
    case simd::SimdPath::avx2: return on_doubles_ ? forward_fma_avx2(data, tables_) : forward_avx2(data, tables_);
    case simd::SimdPath::avx512: return on_doubles_ ? forward_fma_avx512(data, tables_) : forward_avx512(data, tables_);
    case simd::SimdPath::ifma: return forward_ifma(data, tables_);
#endif
    default: return forward_scalar(data, tables_);
  }
}

void NttPlan::inverse(std::uint64_t* data) const {
  switch (path_) {
#if defined(SECURINFER_X86_KERNELS)
    case simd::SimdPath::avx2: return on_doubles_ ? inverse_fma_avx2(data, tables_) : inverse_avx2(data, tables_);
    case simd::SimdPath::avx512: return on_doubles_ ? inverse_fma_avx512(data, tables_) : inverse_avx512(data, tables_);
    case simd::SimdPath::ifma: return inverse_ifma(data, tables_);
#endif
    default: return inverse_scalar(data, tables_);
  }
}

}  // namespace securinfer::ntt
