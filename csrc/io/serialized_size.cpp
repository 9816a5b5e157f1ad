#include "io/serialized_size.h"

#include "ckks/keys.h"
#include "io/bit_packing.h"
#include "io/header.h"

namespace securinfer::io {
namespace {

int bit_width(std::uint64_t q) { return 64 - __builtin_clzll(q); }

std::size_t limbs_bytes(std::size_t n, const std::vector<std::uint64_t>& primes) {
  std::size_t bytes = 0;
  for (auto q : primes) bytes += packed_limb_bytes(n, bit_width(q));
  return bytes;
}

constexpr std::size_t kSeed = std::tuple_size<ckks::Seed>::value;
// level u16, polynomial count u8, length u32, padding u8, period u32, complex u8, scale f64
constexpr std::size_t kCiphertextFields = 2 + 1 + 4 + 1 + 4 + 1 + 8;
// degree u32, prime counts u16 + u16, scale f64, security u8 (and 8 bytes per prime)
constexpr std::size_t kParameterFields = 4 + 2 + 2 + 8 + 1;

std::size_t switch_key_bytes(const ckks::CkksParameters& p) {
  const std::size_t n = p.poly_degree;
  return kHeaderSize + 2 + p.dnum() * (kSeed + limbs_bytes(n, p.q_primes) + limbs_bytes(n, p.p_primes));
}

}  // namespace

std::size_t max_ciphertext_bytes(const ckks::CkksParameters& p) {
  return kHeaderSize + kCiphertextFields + 2 * limbs_bytes(p.poly_degree, p.q_primes);
}

std::size_t galois_key_bytes(const ckks::CkksParameters& p) { return 8 + switch_key_bytes(p); }

std::size_t public_context_bytes(const ckks::CkksParameters& p, std::size_t galois_keys) {
  const std::size_t n = p.poly_degree;
  const std::size_t parameters = kHeaderSize + kParameterFields + 8 * (p.q_primes.size() + p.p_primes.size());
  const std::size_t public_key = kHeaderSize + kSeed + limbs_bytes(n, p.q_primes) + limbs_bytes(n, p.p_primes);
  const std::size_t galois = kHeaderSize + 4 + galois_keys * galois_key_bytes(p);
  return kHeaderSize + parameters + public_key + switch_key_bytes(p) + galois;
}

}  // namespace securinfer::io
