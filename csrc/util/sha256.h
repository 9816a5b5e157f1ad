// SHA-256 (FIPS 180-4): the hash behind parameter fingerprints. Identity of
// parameters is always decided by full comparison; the digest names them in
// headers and caches, where a collision must be infeasible, not just unlikely.
// Also HMAC-SHA256 (RFC 2104), for keyed derivations (the per-ciphertext seed
// of noise flooding, ckks/flooding.h).
//
//   auto digest = util::sha256(bytes.data(), bytes.size());   // 32 bytes
//   util::Sha256 h; h.update(data, bytes); ...; util::Sha256Digest d = h.finish();
//   HmacSha256 mac(key, key_bytes); mac.update(message, bytes); Sha256::Digest tag = mac.finish();
//
// Not a speed-critical path; a plain portable implementation. The state is
// wiped when the object dies (it may have absorbed secret bytes).
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>

namespace securinfer::util {

using Sha256Digest = std::array<std::uint8_t, 32>;

Sha256Digest sha256(const std::uint8_t* data, std::size_t size);

class Sha256 {
 public:
  using Digest = Sha256Digest;
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void update(const void* data, std::size_t bytes);
  Digest finish();  // the object is spent afterwards

 private:
  void compress(const std::uint8_t block[64]);
  std::uint32_t state_[8];
  std::uint8_t block_[64];
  std::size_t used_ = 0;       // bytes in block_
  std::uint64_t total_ = 0;    // bytes absorbed
};

class HmacSha256 {
 public:
  HmacSha256(const std::uint8_t* key, std::size_t key_bytes);
  ~HmacSha256();
  HmacSha256(const HmacSha256&) = delete;
  HmacSha256& operator=(const HmacSha256&) = delete;

  void update(const void* data, std::size_t bytes) { inner_.update(data, bytes); }
  Sha256::Digest finish();  // the object is spent afterwards

 private:
  std::uint8_t key_block_[64];
  Sha256 inner_;
};

}  // namespace securinfer::util
