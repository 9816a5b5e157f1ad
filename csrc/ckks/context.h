// Context: validated parameters plus everything precomputed from them once —
// NTT plans and kernels per prime, the encoder, base converters of key
// switching per level and digit, rescaling constants, the scale of each level.
// Immutable after construction and shared (shared_ptr) by every object made
// under it, so it is safe to use from several threads at once.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "ckks/encoder.h"
#include "ckks/parameters.h"
#include "ring/base_converter.h"
#include "ring/rns_prime.h"

namespace securinfer::ckks {

class Context {
 public:
  // path: force one kernel path for every prime (tests, benchmarks; primes of
  // 50 bits or more take avx512 under a forced ifma); it is capped like any
  // path (ParameterError if unavailable).
  explicit Context(CkksParameters params, std::optional<simd::SimdPath> path = std::nullopt);

  const CkksParameters& params() const { return params_; }
  // SHA-256 of the parameters' canonical encoding (computed once).
  const util::Sha256Digest& fingerprint() const { return fingerprint_; }
  // Full comparison of parameters (the same object, or equal in every field).
  bool same_parameters(const Context& other) const { return this == &other || params_ == other.params_; }
  std::size_t degree() const { return params_.poly_degree; }
  std::size_t slots() const { return params_.slots(); }
  std::size_t max_level() const { return params_.max_level(); }
  const CkksEncoder& encoder() const { return encoder_; }

  // Primes of a ciphertext at `level`: q_0 .. q_level.
  const ring::PrimeList& level_primes(std::size_t level) const { return level_primes_.at(level); }
  // Key-switching extended base at `level`: q_0 .. q_level, then P.
  const ring::PrimeList& extended_primes(std::size_t level) const { return extended_primes_.at(level); }
  // All primes, q_0 .. q_L then P: the limbs of keys.
  const ring::PrimeList& key_primes() const { return extended_primes_.back(); }
  const ring::PrimeList& special_primes() const { return special_primes_; }
  std::vector<arith::Modulus> level_moduli(std::size_t level) const;

  // The scale a ciphertext produced by the automatic pipeline has at `level`:
  // scale(L) = default scale, scale(l - 1) = scale(l)^2 / q_l.
  double level_scale(std::size_t level) const { return level_scales_.at(level); }

  // Key switching: digits at a level, the ModUp converter of each digit and the
  // ModDown converter with P^-1 mod q_i.
  std::size_t digits_at(std::size_t level) const { return (level + params_.digit_size()) / params_.digit_size(); }
  const ring::BaseConverter& mod_up(std::size_t level, std::size_t digit) const {
    return *mod_up_.at(level).at(digit);
  }
  const ring::BaseConverter& mod_down(std::size_t level) const { return *mod_down_.at(level); }
  std::uint64_t p_inverse(std::size_t i) const { return p_inverse_.at(i); }
  // P mod q_i.
  std::uint64_t p_mod(std::size_t i) const { return p_mod_.at(i); }
  // Fused ModDown + rescale at `level` >= 1: from {q_level} and P to
  // q_0..q_{level-1}, and (P q_level)^-1 mod q_i.
  const ring::BaseConverter& mod_down_rescale(std::size_t level) const { return *mod_down_rescale_.at(level); }
  std::uint64_t p_q_last_inverse(std::size_t level, std::size_t i) const {
    return p_q_last_inverse_.at(level).at(i);
  }
  // q_level^-1 mod q_i (i < level), for rescaling.
  std::uint64_t q_last_inverse(std::size_t level, std::size_t i) const { return rescale_inverse_.at(level).at(i); }

  // The NTT-domain permutation of a Galois element (built once, then cached).
  const std::vector<std::uint32_t>& galois_permutation(std::uint64_t galois_element) const;

 private:
  CkksParameters params_;
  util::Sha256Digest fingerprint_;
  std::vector<std::unique_ptr<ring::RnsPrime>> primes_;  // q_0..q_L, P
  std::vector<ring::PrimeList> level_primes_, extended_primes_;
  ring::PrimeList special_primes_;
  CkksEncoder encoder_;
  std::vector<double> level_scales_;
  std::vector<std::vector<std::unique_ptr<ring::BaseConverter>>> mod_up_;
  std::vector<std::unique_ptr<ring::BaseConverter>> mod_down_;
  std::vector<std::uint64_t> p_inverse_, p_mod_;
  std::vector<std::unique_ptr<ring::BaseConverter>> mod_down_rescale_;
  std::vector<std::vector<std::uint64_t>> p_q_last_inverse_;
  std::vector<std::vector<std::uint64_t>> rescale_inverse_;
  mutable std::mutex galois_mutex_;
  mutable std::map<std::uint64_t, std::vector<std::uint32_t>> galois_cache_;
};

using ContextPtr = std::shared_ptr<const Context>;

// ContextMismatchError unless a and b have the same parameters (compared in
// full): the guard that keeps a buffer of one ring from reaching a kernel of
// another. `what` names the objects in the message.
void require_same_parameters(const Context& a, const Context& b, const char* what);

}  // namespace securinfer::ckks
