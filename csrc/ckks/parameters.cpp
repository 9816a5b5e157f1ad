#include "ckks/parameters.h"

#include <cmath>
#include <cstring>
#include <set>
#include <string>

#include "arith/primes.h"
#include "util/errors.h"

namespace securinfer::ckks {

int max_secure_modulus_bits(std::size_t n) {
  switch (n) {
    case 1024: return 27;
    case 2048: return 54;
    case 4096: return 109;
    case 8192: return 218;
    case 16384: return 438;
    case 32768: return 881;
    case 65536: return 1747;
    case 131072: return 3523;
    default: return 0;
  }
}

CkksParameters CkksParameters::from_bit_sizes(std::size_t n, const std::vector<int>& bits, int scale_bits,
                                              std::size_t special_count, bool enforce_security) {
  SECURINFER_CHECK(special_count >= 1, ParameterError, "at least one special prime is needed");
  SECURINFER_CHECK(bits.size() >= special_count + 1, ParameterError,
                   "coeff_bits needs at least one chain prime and " + std::to_string(special_count) +
                       " special prime(s)");
  SECURINFER_CHECK(n >= 1024 && n <= 131072 && (n & (n - 1)) == 0, ParameterError,
                   "poly_degree must be a power of two in [1024, 131072], got " + std::to_string(n));
  SECURINFER_CHECK(scale_bits >= 10 && scale_bits <= 60, ParameterError, "scale_bits must be in [10, 60]");
  CkksParameters p;
  p.poly_degree = n;
  p.enforce_security = enforce_security;
  p.default_scale = std::ldexp(1.0, scale_bits);
  std::vector<std::uint64_t> used;
  // Chain primes first, then special ones: each the largest unused prime of its size.
  for (std::size_t i = 0; i < bits.size(); ++i) {
    SECURINFER_CHECK(bits[i] >= 20 && bits[i] <= 60, ParameterError,
                     "each coefficient modulus size must be in [20, 60] bits, got " + std::to_string(bits[i]));
    const std::uint64_t q = arith::generate_ntt_primes(bits[i], n, 1, used)[0];
    used.push_back(q);
    (i + special_count < bits.size() ? p.q_primes : p.p_primes).push_back(q);
  }
  p.validate();
  return p;
}

int CkksParameters::total_modulus_bits() const {
  int total = 0;
  for (auto q : q_primes) total += 64 - __builtin_clzll(q);
  for (auto q : p_primes) total += 64 - __builtin_clzll(q);
  return total;
}

void CkksParameters::validate() const {
  const std::size_t n = poly_degree;
  SECURINFER_CHECK(n >= 1024 && n <= 131072 && (n & (n - 1)) == 0, ParameterError,
                   "poly_degree must be a power of two in [1024, 131072]");
  SECURINFER_CHECK(!q_primes.empty() && !p_primes.empty(), ParameterError, "need chain and special primes");
  SECURINFER_CHECK(q_primes.size() + p_primes.size() <= 128, ParameterError, "at most 128 primes");
  std::set<std::uint64_t> seen;
  std::uint64_t largest_q = 0;
  for (const auto* list : {&q_primes, &p_primes}) {
    for (auto q : *list) {
      SECURINFER_CHECK(q < (std::uint64_t(1) << 60) && q % (2 * n) == 1 && arith::is_prime(q), ParameterError,
                       "modulus " + std::to_string(q) + " is not an NTT-friendly prime below 2^60");
      SECURINFER_CHECK(seen.insert(q).second, ParameterError, "moduli must be distinct");
    }
  }
  for (auto q : q_primes) largest_q = std::max(largest_q, q);
  // The special modulus P must exceed every digit (a product of digit_size()
  // chain primes) or key switching noise grows; checked in bits.
  int p_bits = 0;
  for (auto q : p_primes) p_bits += 64 - __builtin_clzll(q);
  for (std::size_t start = 0; start < q_primes.size(); start += digit_size()) {
    int digit_bits = 0;
    for (std::size_t i = start; i < std::min(q_primes.size(), start + digit_size()); ++i)
      digit_bits += 64 - __builtin_clzll(q_primes[i]);
    SECURINFER_CHECK(digit_bits <= p_bits, ParameterError,
                     "the special primes (" + std::to_string(p_bits) +
                         " bits) must be at least as large as each key-switching digit (" +
                         std::to_string(digit_bits) + " bits)");
  }
  SECURINFER_CHECK(std::isfinite(default_scale) && default_scale >= 2.0 &&
                       default_scale < static_cast<double>(largest_q) * 2.0,
                   ParameterError, "scale must be finite and below the largest chain prime");
  if (enforce_security) {
    const int bound = max_secure_modulus_bits(n);
    SECURINFER_CHECK(total_modulus_bits() <= bound, SecurityError,
                     "log2(Q*P) = " + std::to_string(total_modulus_bits()) + " bits exceeds " + std::to_string(bound) +
                         ", the 128-bit security bound for N = " + std::to_string(n) +
                         " (HomomorphicEncryption.org standard); raise poly_degree or use fewer/smaller primes");
  }
}

std::vector<std::uint8_t> CkksParameters::canonical_bytes() const {
  std::vector<std::uint8_t> out;
  auto put = [&out](std::uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
  };
  for (char c : std::string("securinfer.ckks.parameters.v1")) out.push_back(static_cast<std::uint8_t>(c));
  put(poly_degree, 8);
  put(q_primes.size(), 4);
  for (auto q : q_primes) put(q, 8);
  put(p_primes.size(), 4);
  for (auto q : p_primes) put(q, 8);
  std::uint64_t scale_bits;
  std::memcpy(&scale_bits, &default_scale, sizeof scale_bits);
  put(scale_bits, 8);
  put(enforce_security ? 1 : 0, 1);
  return out;
}

util::Sha256Digest CkksParameters::fingerprint() const {
  const auto bytes = canonical_bytes();
  return util::sha256(bytes.data(), bytes.size());
}

bool CkksParameters::operator==(const CkksParameters& other) const {
  // Scales compared bit for bit: the same literal always gives the same double.
  return poly_degree == other.poly_degree && q_primes == other.q_primes && p_primes == other.p_primes &&
         std::memcmp(&default_scale, &other.default_scale, sizeof default_scale) == 0 &&
         enforce_security == other.enforce_security;
}

std::uint64_t CkksParameters::legacy_fingerprint() const {
  // FNV-1a over the defining values: a mismatch detector, not a MAC.
  std::uint64_t h = 0xcbf29ce484222325ull;
  auto mix = [&h](std::uint64_t v) {
    for (int i = 0; i < 8; ++i) {
      h ^= (v >> (8 * i)) & 0xff;
      h *= 0x100000001b3ull;
    }
  };
  mix(poly_degree);
  mix(q_primes.size());
  for (auto q : q_primes) mix(q);
  mix(p_primes.size());
  for (auto q : p_primes) mix(q);
  std::uint64_t scale_bits;
  std::memcpy(&scale_bits, &default_scale, sizeof scale_bits);
  mix(scale_bits);
  return h;
}

}  // namespace securinfer::ckks
