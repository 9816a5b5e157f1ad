#include "ring/base_converter.h"

#include "arith/modarith.h"
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
  }
  hat_mod_to_.resize(nt * nf);
  for (std::size_t i = 0; i < nf; ++i) inverse_from_.push_back(1.0 / static_cast<double>(from_[i]->value()));
  for (std::size_t j = 0; j < nt; ++j) {
    const arith::Modulus& cj = to_[j]->modulus;
    std::uint64_t product = 1;
    for (std::size_t k = 0; k < nf; ++k)
      product = arith::mul_mod(product, arith::barrett_reduce_64(from_[k]->value(), cj), cj);
    product_mod_to_.push_back(product);
    for (std::size_t i = 0; i < nf; ++i) {
      std::uint64_t hat = 1;
      for (std::size_t k = 0; k < nf; ++k)
        if (k != i) hat = arith::mul_mod(hat, arith::barrett_reduce_64(from_[k]->value(), cj), cj);
      hat_mod_to_[j * nf + i] = hat;
    }
  }
}

void BaseConverter::convert(const std::uint64_t* in, std::uint64_t* out, std::size_t n) const {
  convert_impl(in, out, n, false);
}

void BaseConverter::convert_centered(const std::uint64_t* in, std::uint64_t* out, std::size_t n) const {
  convert_impl(in, out, n, true);
}

void BaseConverter::convert_impl(const std::uint64_t* in, std::uint64_t* out, std::size_t n, bool centered) const {
  const std::size_t nf = from_.size(), nt = to_.size();
  // y_i = [x_i * (B/b_i)^-1]_{b_i}, computed once for all targets.
  AlignedVector<std::uint64_t> y(nf * n);
  parallel_for(0, nf, [&](std::size_t i) {
    const std::uint64_t q = from_[i]->value();
    const std::uint64_t w = hat_inverse_[i], ws = hat_inverse_shoup_[i];
    const std::uint64_t* x = in + i * n;
    std::uint64_t* yi = y.data() + i * n;
    for (std::size_t k = 0; k < n; ++k) yi[k] = arith::mul_shoup(x[k], w, ws, q);
  });
  // The multiple of B to remove: round(sum_i y_i / b_i) (centred lift).
  std::vector<std::uint64_t> multiple;
  if (centered) {
    multiple.resize(n);
    for (std::size_t k = 0; k < n; ++k) {
      double v = 0;
      for (std::size_t i = 0; i < nf; ++i) v += static_cast<double>(y[i * n + k]) * inverse_from_[i];
      multiple[k] = static_cast<std::uint64_t>(v + 0.5);
    }
  }
  // out_j = sum_i y_i * [B/b_i]_{c_j}: products below 2^120, so up to 16 of
  // them add up in 128 bits before one Barrett reduction.
  parallel_for(0, nt, [&](std::size_t j) {
    const arith::Modulus& cj = to_[j]->modulus;
    const std::uint64_t* row = hat_mod_to_.data() + j * nf;
    std::uint64_t* o = out + j * n;
    for (std::size_t k = 0; k < n; ++k) {
      std::uint64_t acc_reduced = 0;
      std::size_t i = 0;
      while (i < nf) {
        u128 acc = acc_reduced;
        const std::size_t stop = std::min(nf, i + 15);
        for (; i < stop; ++i) acc += u128(y[i * n + k]) * row[i];
        acc_reduced = arith::barrett_reduce_128(acc, cj);
      }
      if (centered) {
        const std::uint64_t correction = arith::mul_mod(arith::barrett_reduce_64(multiple[k], cj), product_mod_to_[j], cj);
        acc_reduced = arith::sub_mod(acc_reduced, correction, cj.value());
      }
      o[k] = acc_reduced;
    }
  });
}

}  // namespace securinfer::ring
