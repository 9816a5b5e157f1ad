#include "ckks/flooding.h"

#include <cmath>
#include <cstring>

#include "ring/sampling.h"
#include "util/errors.h"
#include "util/sha256.h"

namespace securinfer::ckks {
namespace {

constexpr char kKeyDomain[] = "securinfer/noise-flooding/key/v1";
constexpr char kCiphertextDomain[] = "securinfer/noise-flooding/ciphertext/v1";

// The round-to-nearest error of a rescale: the N coefficients of r0 + r1 s,
// r uniform in [-1/2, 1/2) and s ternary with about 2N/3 nonzero terms.
double rescale_error_l2(std::size_t n) { return std::sqrt(n * (1.0 + 2.0 * n / 3.0) / 12.0); }

double fresh_error_l2(std::size_t n) { return std::sqrt(static_cast<double>(n)) * ring::kErrorSigma; }

}  // namespace

ring::Seed flooding_seed(const SecretKey& secret, const Ciphertext& ct) {
  // k_s: limb 0 of s (NTT form) determines s (ternary, q_0 > 3).
  util::Sha256 key_hash;
  key_hash.update(kKeyDomain, sizeof kKeyDomain);
  key_hash.update(secret.s.limb(0), secret.s.degree() * sizeof(std::uint64_t));
  util::Sha256Digest key = key_hash.finish();
  util::HmacSha256 mac(key.data(), key.size());
  secure_wipe(key.data(), key.size());
  mac.update(kCiphertextDomain, sizeof kCiphertextDomain);
  const std::uint64_t fields[4] = {ct.level, ct.slots_used, ct.polys.size(), 0};
  std::uint64_t scale_bits;
  std::memcpy(&scale_bits, &ct.scale, sizeof scale_bits);
  mac.update(fields, sizeof fields);
  mac.update(&scale_bits, sizeof scale_bits);
  for (const auto& poly : ct.polys)
    for (std::size_t i = 0; i <= ct.level && i < poly.limbs(); ++i)
      mac.update(poly.limb(i), poly.degree() * sizeof(std::uint64_t));
  const util::Sha256Digest tag = mac.finish();
  ring::Seed seed;
  std::memcpy(seed.data(), tag.data(), seed.size());
  return seed;
}

double flooding_error_bound(const Ciphertext& ct, const std::complex<double>* slots, const FloodingOptions& options) {
  if (options.error_bound > 0) return options.error_bound;
  const std::size_t n = ct.context->degree(), count = n / 2;
  double bound = fresh_error_l2(n);
  if (ct.level < ct.context->max_level()) bound = std::max(bound, rescale_error_l2(n));
  if (options.real_data) {
    double energy = 0;
    for (std::size_t j = 0; j < count; ++j) energy += slots[j].imag() * slots[j].imag();
    const double estimate = std::sqrt(4.0 / n * energy) * ct.scale;
    if (std::isfinite(estimate)) bound = std::max(bound, 2 * estimate);
    else bound = std::ldexp(1.0, 52);  // nonsense in, the largest noise out (refused below)
  }
  return std::exp2(std::ceil(std::log2(bound)));
}

double flooding_sigma(double error_bound, const FloodingOptions& options) {
  SECURINFER_CHECK(std::isfinite(options.statistical_bits) && options.statistical_bits >= 1 &&
                       options.statistical_bits <= 128,
                   ParameterError, "statistical security bits must be in [1, 128]");
  SECURINFER_CHECK(std::isfinite(options.queries) && options.queries >= 1, ParameterError,
                   "flooding queries must be >= 1");
  SECURINFER_CHECK(std::isfinite(error_bound) && error_bound > 0, ParameterError,
                   "the flooding error bound must be finite and positive");
  return std::exp2(options.statistical_bits / 2) * std::sqrt(options.queries) * error_bound;
}

}  // namespace securinfer::ckks
