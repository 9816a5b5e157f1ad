#include "ckks/context.h"

#include <cmath>
#include <string>

#include "ring/automorphism.h"
#include "util/errors.h"

namespace securinfer::ckks {
namespace {

// Level-0 scale drift (bits) tolerated before the top scale is rebalanced.
constexpr long double kMaxScaleDriftBits = 0.25L;

}  // namespace

void require_same_parameters(const Context& a, const Context& b, const char* what) {
  SECURINFER_CHECK(a.same_parameters(b), ContextMismatchError,
                   std::string(what) + " come from different parameters (ring degree, primes or scale differ)");
}

Context::Context(CkksParameters params, std::optional<simd::SimdPath> path)
    : params_(std::move(params)), fingerprint_{}, encoder_((params_.validate(), params_.poly_degree)) {
  fingerprint_ = params_.fingerprint();
  const std::size_t n = params_.poly_degree, L = params_.max_level(), alpha = params_.digit_size();
  auto make_prime = [&](std::uint64_t q) {
    if (!path) return std::make_unique<ring::RnsPrime>(n, q);
    // A forced ifma path serves the primes it can; the rest take avx512.
    const bool too_wide = *path == simd::SimdPath::ifma && q >= simd::kIfmaModulusBound;
    return std::make_unique<ring::RnsPrime>(n, q, too_wide ? simd::SimdPath::avx512 : *path);
  };
  for (auto q : params_.q_primes) primes_.push_back(make_prime(q));
  for (auto q : params_.p_primes) primes_.push_back(make_prime(q));
  for (std::size_t k = 0; k < alpha; ++k) special_primes_.push_back(primes_[L + 1 + k].get());

  for (std::size_t l = 0; l <= L; ++l) {
    ring::PrimeList lp;
    for (std::size_t i = 0; i <= l; ++i) lp.push_back(primes_[i].get());
    level_primes_.push_back(lp);
    ring::PrimeList ext = lp;
    ext.insert(ext.end(), special_primes_.begin(), special_primes_.end());
    extended_primes_.push_back(ext);
  }

  // Canonical scales: a product of two level-l ciphertexts rescaled by q_l
  // lands on s_{l-1} = s_l^2 / q_l. Starting from s_L = 2^scale_bits, the
  // relative gap between s and q doubles at every level: with primes a few
  // percent below 2^scale_bits (small primes for a large N are sparse) the
  // level-0 scale overruns q_0 and decryption fails. Then the top scale is
  // chosen instead so that s_0 = 2^scale_bits exactly:
  //   log s_0 = 2^L log s_L - sum_{l=1..L} 2^(l-1) log q_l.
  auto chain_from = [&](double top) {
    level_scales_.assign(L + 1, 0.0);
    level_scales_[L] = top;
    for (std::size_t l = L; l >= 1; --l)
      level_scales_[l - 1] = level_scales_[l] * level_scales_[l] / static_cast<double>(params_.q_primes[l]);
  };
  chain_from(params_.default_scale);
  const long double wanted = std::log2(static_cast<long double>(params_.default_scale));
  if (std::fabs(std::log2(static_cast<long double>(level_scales_[0])) - wanted) > kMaxScaleDriftBits) {
    long double top = wanted;
    for (std::size_t l = 1; l <= L; ++l)
      top += std::ldexp(std::log2(static_cast<long double>(params_.q_primes[l])), static_cast<int>(l) - 1);
    chain_from(static_cast<double>(std::exp2(std::ldexp(top, -static_cast<int>(L)))));
  }

  // ModUp per (level, digit): from the digit's primes to the rest of Q_l and P.
  mod_up_.resize(L + 1);
  for (std::size_t l = 0; l <= L; ++l) {
    for (std::size_t d = 0; d < digits_at(l); ++d) {
      const std::size_t start = d * alpha, stop = std::min(l + 1, start + alpha);
      ring::PrimeList from, to;
      for (std::size_t i = 0; i <= l; ++i) (i >= start && i < stop ? from : to).push_back(primes_[i].get());
      to.insert(to.end(), special_primes_.begin(), special_primes_.end());
      mod_up_[l].push_back(std::make_unique<ring::BaseConverter>(from, to));
    }
    mod_down_.push_back(std::make_unique<ring::BaseConverter>(special_primes_, level_primes_[l]));
  }
  for (std::size_t i = 0; i <= L; ++i) {
    const arith::Modulus& qi = primes_[i]->modulus;
    std::uint64_t p_mod = 1;
    for (auto* p : special_primes_) p_mod = arith::mul_mod(p_mod, arith::barrett_reduce_64(p->value(), qi), qi);
    p_inverse_.push_back(arith::inv_mod(p_mod, qi.value()));
    p_mod_.push_back(p_mod);
  }
  mod_down_rescale_.resize(L + 1);
  p_q_last_inverse_.resize(L + 1);
  for (std::size_t l = 1; l <= L; ++l) {
    ring::PrimeList from{primes_[l].get()};
    from.insert(from.end(), special_primes_.begin(), special_primes_.end());
    mod_down_rescale_[l] = std::make_unique<ring::BaseConverter>(from, level_primes_[l - 1]);
    for (std::size_t i = 0; i < l; ++i) {
      const arith::Modulus& qi = primes_[i]->modulus;
      const std::uint64_t pq = arith::mul_mod(p_mod_[i], arith::barrett_reduce_64(primes_[l]->value(), qi), qi);
      p_q_last_inverse_[l].push_back(arith::inv_mod(pq, qi.value()));
    }
  }
  rescale_inverse_.resize(L + 1);
  for (std::size_t l = 1; l <= L; ++l)
    for (std::size_t i = 0; i < l; ++i)
      rescale_inverse_[l].push_back(arith::inv_mod(params_.q_primes[l] % params_.q_primes[i], params_.q_primes[i]));
}

std::vector<arith::Modulus> Context::level_moduli(std::size_t level) const {
  std::vector<arith::Modulus> moduli;
  for (auto* p : level_primes(level)) moduli.push_back(p->modulus);
  return moduli;
}

const std::vector<std::uint32_t>& Context::galois_permutation(std::uint64_t g) const {
  std::lock_guard<std::mutex> lock(galois_mutex_);
  auto it = galois_cache_.find(g);
  if (it == galois_cache_.end()) it = galois_cache_.emplace(g, ring::galois_permutation(degree(), g)).first;
  return it->second;  // std::map never moves its nodes
}

}  // namespace securinfer::ckks
