#include "util/sha256.h"

#include <algorithm>
#include <cstring>

#include "util/aligned_buffer.h"

namespace securinfer::util {
namespace {

constexpr std::uint32_t kRound[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

inline std::uint32_t rotr(std::uint32_t x, int r) { return (x >> r) | (x << (32 - r)); }

}  // namespace

Sha256::Sha256()
    : state_{0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19},
      block_{} {}

Sha256::~Sha256() {
  secure_wipe(state_, sizeof state_);
  secure_wipe(block_, sizeof block_);
}

void Sha256::compress(const std::uint8_t block[64]) {
  std::uint32_t w[64];
  for (int i = 0; i < 16; ++i)
    w[i] = (std::uint32_t(block[4 * i]) << 24) | (std::uint32_t(block[4 * i + 1]) << 16) |
           (std::uint32_t(block[4 * i + 2]) << 8) | std::uint32_t(block[4 * i + 3]);
  for (int i = 16; i < 64; ++i) {
    const std::uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
    const std::uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
    w[i] = w[i - 16] + s0 + w[i - 7] + s1;
  }
  std::uint32_t a = state_[0], b = state_[1], c = state_[2], d = state_[3];
  std::uint32_t e = state_[4], f = state_[5], g = state_[6], h = state_[7];
  for (int i = 0; i < 64; ++i) {
    const std::uint32_t t1 = h + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + kRound[i] + w[i];
    const std::uint32_t t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
    h = g; g = f; f = e; e = d + t1; d = c; c = b; b = a; a = t1 + t2;
  }
  state_[0] += a; state_[1] += b; state_[2] += c; state_[3] += d;
  state_[4] += e; state_[5] += f; state_[6] += g; state_[7] += h;
  secure_wipe(w, sizeof w);
}

void Sha256::update(const void* data, std::size_t bytes) {
  const auto* p = static_cast<const std::uint8_t*>(data);
  total_ += bytes;
  while (bytes > 0) {
    if (used_ == 0 && bytes >= 64) {  // whole blocks straight from the input
      compress(p);
      p += 64;
      bytes -= 64;
      continue;
    }
    const std::size_t take = std::min<std::size_t>(64 - used_, bytes);
    std::memcpy(block_ + used_, p, take);
    used_ += take;
    p += take;
    bytes -= take;
    if (used_ == 64) {
      compress(block_);
      used_ = 0;
    }
  }
}

Sha256::Digest Sha256::finish() {
  const std::uint64_t bits = total_ * 8;
  const std::uint8_t one = 0x80, zero = 0;
  update(&one, 1);
  while (used_ != 56) update(&zero, 1);
  std::uint8_t length[8];
  for (int i = 0; i < 8; ++i) length[i] = static_cast<std::uint8_t>(bits >> (56 - 8 * i));
  update(length, 8);
  Digest out;
  for (int i = 0; i < 8; ++i)
    for (int k = 0; k < 4; ++k) out[4 * i + k] = static_cast<std::uint8_t>(state_[i] >> (24 - 8 * k));
  return out;
}

HmacSha256::HmacSha256(const std::uint8_t* key, std::size_t key_bytes) : key_block_{} {
  if (key_bytes > 64) {
    Sha256 h;
    h.update(key, key_bytes);
    const auto d = h.finish();
    std::memcpy(key_block_, d.data(), d.size());
  } else if (key_bytes > 0) {
    std::memcpy(key_block_, key, key_bytes);
  }
  std::uint8_t pad[64];
  for (int i = 0; i < 64; ++i) pad[i] = key_block_[i] ^ 0x36;
  inner_.update(pad, 64);
  secure_wipe(pad, sizeof pad);
}

HmacSha256::~HmacSha256() { secure_wipe(key_block_, sizeof key_block_); }

Sha256::Digest HmacSha256::finish() {
  auto inner_digest = inner_.finish();
  std::uint8_t pad[64];
  for (int i = 0; i < 64; ++i) pad[i] = key_block_[i] ^ 0x5c;
  Sha256 outer;
  outer.update(pad, 64);
  outer.update(inner_digest.data(), inner_digest.size());
  secure_wipe(pad, sizeof pad);
  secure_wipe(inner_digest.data(), inner_digest.size());
  return outer.finish();
}

Sha256Digest sha256(const std::uint8_t* data, std::size_t size) {
  Sha256 h;
  h.update(data, size);
  return h.finish();
}

}  // namespace securinfer::util
