#include "ring/base_converter.h"

#include "arith/modarith.h"
#include "eltwise/base_convert_kernels.h"
#include "simd/dispatch.h"
#include "util/aligned_buffer.h"
#include "util/errors.h"
#include "util/thread_pool.h"

namespace securinfer::ring {

using arith::u128;

BaseConverter::BaseConverter(PrimeList from, PrimeList to) : from_(std::move(from)), to_(std::move(to)) {
  SECURINFER_CHECK(!from_.empty() && from_.size() <= 64, ParameterError, "base conversion needs 1 to 64 source primes");
  const std::size_t nf = from_.size(), nt = to_.size();
  hat_inverse_.resize(nf);
  hat_inverse_shoup_.resize(nf);
  for (std::size_t i = 0; i < nf; ++i) {
    const arith::Modulus& bi = from_[i]->modulus;
    std::uint64_t hat = 1;
    for (std::size_t k = 0; k < nf; ++k)
      if (k != i) hat = arith::mul_mod(hat, arith::barrett_reduce_64(from_[k]->value(), bi), bi);
    hat_inverse_[i] = arith::inv_mod(hat, bi.value());
    hat_inverse_shoup_[i] = arith::shoup_precompute(hat_inverse_[i], bi.value());
    inverse_from_.push_back(1.0 / static_cast<double>(bi.value()));
  }
  hat_mod_to_.resize(nt * nf);
  hat_mod_to_shoup_.resize(nt * nf);
  product_multiples_.resize(nt * (nf + 1));
  for (std::size_t j = 0; j < nt; ++j) {
    const arith::Modulus& cj = to_[j]->modulus;
    std::uint64_t product = 1;
    for (std::size_t i = 0; i < nf; ++i) {
      std::uint64_t hat = 1;
      for (std::size_t k = 0; k < nf; ++k)
        if (k != i) hat = arith::mul_mod(hat, arith::barrett_reduce_64(from_[k]->value(), cj), cj);
      hat_mod_to_[j * nf + i] = hat;
      hat_mod_to_shoup_[j * nf + i] = arith::shoup_precompute(hat, cj.value());
      product = arith::mul_mod(product, arith::barrett_reduce_64(from_[i]->value(), cj), cj);
    }
    for (std::size_t m = 0; m <= nf; ++m)
      product_multiples_[j * (nf + 1) + m] = arith::mul_mod(m % cj.value(), product, cj);
  }
  // The FMA loops need every prime below 2^50 and a vector path for the target.
  bool sources_fit = true;
  for (const auto* b : from_) sources_fit = sources_fit && b->value() < simd::kFmaModulusBound;
  on_doubles_.resize(nt);
  for (std::size_t j = 0; j < nt; ++j)
    on_doubles_[j] = sources_fit && to_[j]->value() < simd::kFmaModulusBound &&
                     to_[j]->ntt.path() != simd::SimdPath::scalar;
  sources_on_avx512_ = sources_on_avx2_ = true;
  for (const auto* b : from_) {
    const auto path = b->ntt.path();
    sources_on_avx512_ = sources_on_avx512_ && (path == simd::SimdPath::avx512 || path == simd::SimdPath::ifma);
    sources_on_avx2_ = sources_on_avx2_ && path == simd::SimdPath::avx2;
  }
  // One source prime and a target too large for the loops on doubles, on the
  // avx2 path: the 4-lane Shoup loop.
  wide_on_avx2_.resize(nt);
  for (std::size_t j = 0; j < nt; ++j)
    wide_on_avx2_[j] = !on_doubles_[j] && nf == 1 && to_[j]->ntt.path() == simd::SimdPath::avx2 &&
                       to_[j]->value() < (std::uint64_t(1) << 60) && from_[0]->value() < (std::uint64_t(1) << 63);
  // Larger primes on an AVX-512 path: the Shoup loops on 8 lanes.
  on_avx512_.resize(nt);
  for (std::size_t j = 0; j < nt; ++j) {
    const auto path = to_[j]->ntt.path();
    on_avx512_[j] = !on_doubles_[j] && to_[j]->value() < (std::uint64_t(1) << 61) &&
                    (path == simd::SimdPath::avx512 || path == simd::SimdPath::ifma);
  }
}

void BaseConverter::convert(const std::uint64_t* in, std::uint64_t* out, std::size_t n) const {
  convert_impl(in, out, n, false);
}

void BaseConverter::convert_centered(const std::uint64_t* in, std::uint64_t* out, std::size_t n) const {
  convert_impl(in, out, n, true);
}

void BaseConverter::compute_y(Prepared& x, std::size_t i) const {
  const std::uint64_t* in = x.in + i * x.n;
  std::uint64_t* yi = x.y.data() + i * x.n;
  if (hat_inverse_[i] == 1) {
    std::copy(in, in + x.n, yi);
    return;
  }
  // The prime's own element-wise kernel (vector paths bit-exact with scalar).
  from_[i]->ops->mul_scalar(yi, in, hat_inverse_[i], hat_inverse_shoup_[i], x.n, from_[i]->modulus);
}

BaseConverter::Prepared BaseConverter::prepare(const std::uint64_t* in, std::size_t n, bool centered) const {
  Prepared x;
  x.in = in;
  x.n = n;
  x.centered = centered;
  const std::size_t nf = from_.size();
  if (nf == 1) return x;  // one source prime: convert_to reads `in` directly
  // y_i = [x_i * (B/b_i)^-1]_{b_i}, computed once for all targets.
  x.y.resize(nf * n);
  for (std::size_t i = 0; i < nf; ++i) compute_y(x, i);
  if (centered) compute_multiple(x);
  return x;
}

void BaseConverter::compute_multiple(Prepared& x) const {
  // The multiple of B to remove for a centred lift: round(sum_i y_i / b_i),
  // an integer in [0, |B|].
  const std::size_t nf = from_.size(), n = x.n;
  x.multiple.resize(n);
#if defined(SECURINFER_X86_KERNELS)
  if (sources_on_avx512_)
    return eltwise::centred_multiple_avx512(x.multiple.data(), x.y.data(), nf, n, inverse_from_.data());
  if (sources_on_avx2_)
    return eltwise::centred_multiple_avx2(x.multiple.data(), x.y.data(), nf, n, inverse_from_.data());
#endif
  for (std::size_t k = 0; k < n; ++k) {
    double v = 0;
    for (std::size_t i = 0; i < nf; ++i) v += static_cast<double>(x.y[i * n + k]) * inverse_from_[i];
    x.multiple[k] = static_cast<std::uint8_t>(v + 0.5);
  }
}

void BaseConverter::convert_to(const Prepared& x, std::size_t j, std::uint64_t* o) const {
  const std::size_t nf = from_.size(), n = x.n;
  const std::uint64_t c = to_[j]->value();
#if defined(SECURINFER_X86_KERNELS)
  // Primes below 2^50 on a vector path: the same sums on doubles with FMA.
  if (on_doubles_[j]) {
    if (nf == 1) return eltwise::lift_single_fma_avx2(o, x.in, n, from_[0]->value(), c, x.centered);
    const std::uint64_t big = product_multiples_[j * (nf + 1) + 1];  // [B]_c
    return eltwise::sum_products_fma_avx2(o, x.y.data(), nf, n, hat_mod_to_.data() + j * nf, c,
                                          x.centered ? x.multiple.data() : nullptr, big);
  }
  if (on_avx512_[j] && nf == 1) return eltwise::lift_single_shoup_avx512(o, x.in, n, from_[0]->value(), c, x.centered);
  if (wide_on_avx2_[j]) return eltwise::lift_single_shoup_avx2(o, x.in, n, from_[0]->value(), c, x.centered);
  if (on_avx512_[j])
    return eltwise::sum_products_shoup_avx512(o, x.y.data(), nf, n, hat_mod_to_.data() + j * nf,
                                              hat_mod_to_shoup_.data() + j * nf, c,
                                              x.centered ? x.multiple.data() : nullptr,
                                              product_multiples_.data() + j * (nf + 1));
#endif
  if (nf == 1) {
    // One source prime b: out = x mod c (x - b when centred and x > b/2), a
    // plain loop the compiler keeps tight; the common case (single-prime
    // digits, one special prime).
    const std::uint64_t b = from_[0]->value(), half = b >> 1;
    const std::uint64_t one_shoup = arith::shoup_precompute(1 % c, c);
    const std::uint64_t b_mod = product_multiples_[j * 2 + 1];  // [b]_c
    for (std::size_t k = 0; k < n; ++k) {
      const std::uint64_t v = x.in[k];
      std::uint64_t r = arith::mul_shoup(v, 1 % c, one_shoup, c);
      if (x.centered && v > half) r = arith::sub_mod(r, b_mod, c);
      o[k] = r;
    }
    return;
  }
  // out_j = sum_i y_i [B/b_i]_{c_j} by Shoup products (any y_i < 2^64 works),
  // kept lazily in [0, 2 c_j).
  const std::uint64_t two_c = 2 * c;
  const std::uint64_t* hat = hat_mod_to_.data() + j * nf;
  const std::uint64_t* hat_shoup = hat_mod_to_shoup_.data() + j * nf;
  const std::uint64_t* multiples = product_multiples_.data() + j * (nf + 1);
  for (std::size_t k = 0; k < n; ++k) {
    std::uint64_t acc = 0;
    for (std::size_t i = 0; i < nf; ++i) {
      acc += arith::mul_shoup_lazy(x.y[i * n + k], hat[i], hat_shoup[i], c);
      acc = acc >= two_c ? acc - two_c : acc;
    }
    acc = acc >= c ? acc - c : acc;
    o[k] = x.centered ? arith::sub_mod(acc, multiples[x.multiple[k]], c) : acc;
  }
}

void BaseConverter::convert_impl(const std::uint64_t* in, std::uint64_t* out, std::size_t n, bool centered) const {
  const std::size_t nf = from_.size();
  Prepared x;
  x.in = in;
  x.n = n;
  x.centered = centered;
  if (nf > 1) {
    x.y.resize(nf * n);
    parallel_for(0, nf, [&](std::size_t i) { compute_y(x, i); });
    if (centered) compute_multiple(x);
  }
  parallel_for(0, to_.size(), [&](std::size_t j) { convert_to(x, j, out + j * n); });
}

}  // namespace securinfer::ring
