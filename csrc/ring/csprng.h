// The library's only source of randomness.
//
// random_seed(): 32 bytes from the operating system (getrandom(2) on Linux,
// /dev/urandom as a fallback, getentropy elsewhere). Throws securinfer::Error
// when no source works; never falls back to anything weaker.
//
// ChaCha20Prng: the ChaCha20 block function (RFC 8439, 20 rounds) in counter
// mode, used as a deterministic expander: key = the 32-byte seed, and a 64-bit
// stream number selects an independent keystream (so limb i of a polynomial can
// use stream i). Byte-exact contract, relied on to re-expand stored seeds: block
// b (b = 0, 1, ...) of stream s is the RFC 8439 block with counter = low 32 bits
// of b and nonce = [high 32 bits of b, s] (each little-endian), i.e. the original
// 64-bit-counter / 64-bit-nonce ChaCha layout. fill() returns the keystream
// bytes in order; next_u64() reads the next 8 bytes little-endian. Changing
// either breaks stored seeds. Not thread-safe: one generator per thread.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>

namespace securinfer::ring {

using Seed = std::array<std::uint8_t, 32>;

// 32 fresh bytes from the operating system.
Seed random_seed();

class ChaCha20Prng {
 public:
  explicit ChaCha20Prng(const Seed& seed, std::uint64_t stream = 0);
  ~ChaCha20Prng();
  ChaCha20Prng(const ChaCha20Prng&) = delete;
  ChaCha20Prng& operator=(const ChaCha20Prng&) = delete;

  void fill(std::uint8_t* out, std::size_t bytes);
  std::uint64_t next_u64();
  // Uniform in [0, 1): the top 53 bits of next_u64() times 2^-53.
  double next_unit_double();

 private:
  static constexpr std::size_t kBlockBytes = 64;
  static constexpr std::size_t kBatchBlocks = 4;  // blocks computed together (vectorises)
  static constexpr std::size_t kBufferBytes = kBlockBytes * kBatchBlocks;

  void refill();                                  // next kBatchBlocks blocks into buffer_
  void generate(std::uint8_t* out);               // next kBatchBlocks blocks into out

  std::uint32_t key_[8];
  std::uint32_t stream_[2];
  std::uint64_t counter_ = 0;  // index of the next block to generate
  alignas(64) std::uint8_t buffer_[kBufferBytes];
  std::size_t buffer_pos_ = kBufferBytes;  // bytes of buffer_ already handed out
};

namespace detail {
// The raw RFC 8439 block function (exposed for the test-vector check): key is
// 32 bytes, nonce 12 bytes, out receives the 64-byte serialized block.
void chacha20_block(const std::uint8_t key[32], std::uint32_t counter, const std::uint8_t nonce[12],
                    std::uint8_t out[64]);
}  // namespace detail

}  // namespace securinfer::ring
