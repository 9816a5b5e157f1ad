// OS seeding and the ChaCha20 expander (see csprng.h for the byte-exact contract).
#include "ring/csprng.h"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "util/aligned_buffer.h"
#include "util/errors.h"

#if defined(__linux__)
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>
#elif defined(__APPLE__) || defined(__FreeBSD__) || defined(__OpenBSD__)
#include <fcntl.h>
#include <unistd.h>
#endif

namespace securinfer::ring {
namespace {

inline std::uint32_t load_le32(const std::uint8_t* p) {
  return std::uint32_t(p[0]) | std::uint32_t(p[1]) << 8 | std::uint32_t(p[2]) << 16 | std::uint32_t(p[3]) << 24;
}
inline void store_le32(std::uint8_t* p, std::uint32_t v) {
  p[0] = std::uint8_t(v);
  p[1] = std::uint8_t(v >> 8);
  p[2] = std::uint8_t(v >> 16);
  p[3] = std::uint8_t(v >> 24);
}

// "expand 32-byte k"
constexpr std::uint32_t kSigma[4] = {0x61707865, 0x3320646e, 0x79622d32, 0x6b206574};

// Zeroes stack copies of key material. memset plus a compiler barrier that
// "uses" the memory, so the stores cannot be elided; much faster than a
// volatile byte loop, which matters once per 256 bytes of keystream.
inline void wipe_fast(void* p, std::size_t bytes) {
  std::memset(p, 0, bytes);
  __asm__ __volatile__("" : : "r"(p) : "memory");
}

// Four 32-bit lanes, one per block: GCC/Clang vector extensions, which lower to
// SSE2/NEON (or plain scalar code) without intrinsics.
typedef std::uint32_t Lanes __attribute__((vector_size(16)));
inline Lanes rotl(Lanes v, int c) { return (v << c) | (v >> (32 - c)); }

// kLanes consecutive blocks. Words 12 and 13 of the state hold a 64-bit block
// counter (lane l uses first + l); words 14 and 15 are the caller's.
constexpr std::size_t kLanes = 4;
void chacha_blocks(const std::uint32_t key[8], std::uint64_t first, std::uint32_t w14, std::uint32_t w15,
                   std::uint8_t* out) {
  Lanes init[16], x[16];
  for (int w = 0; w < 4; ++w) init[w] = Lanes{} + kSigma[w];
  for (int w = 0; w < 8; ++w) init[4 + w] = Lanes{} + key[w];
  for (std::size_t l = 0; l < kLanes; ++l) {
    std::uint64_t c = first + l;
    init[12][l] = static_cast<std::uint32_t>(c);
    init[13][l] = static_cast<std::uint32_t>(c >> 32);
  }
  init[14] = Lanes{} + w14;
  init[15] = Lanes{} + w15;
  for (int w = 0; w < 16; ++w) x[w] = init[w];
  auto qr = [&x](int a, int b, int c, int d) {
    x[a] += x[b]; x[d] = rotl(x[d] ^ x[a], 16);
    x[c] += x[d]; x[b] = rotl(x[b] ^ x[c], 12);
    x[a] += x[b]; x[d] = rotl(x[d] ^ x[a], 8);
    x[c] += x[d]; x[b] = rotl(x[b] ^ x[c], 7);
  };
  for (int round = 0; round < 10; ++round) {  // 10 double rounds = 20 rounds
    qr(0, 4, 8, 12); qr(1, 5, 9, 13); qr(2, 6, 10, 14); qr(3, 7, 11, 15);
    qr(0, 5, 10, 15); qr(1, 6, 11, 12); qr(2, 7, 8, 13); qr(3, 4, 9, 14);
  }
  for (int w = 0; w < 16; ++w) x[w] += init[w];
  for (std::size_t l = 0; l < kLanes; ++l)
    for (int w = 0; w < 16; ++w) store_le32(out + 64 * l + 4 * w, x[w][l]);
  wipe_fast(x, sizeof(x));
  wipe_fast(init, sizeof(init));
}

#if defined(__linux__) || defined(__APPLE__) || defined(__FreeBSD__) || defined(__OpenBSD__)
bool read_dev_urandom(std::uint8_t* out, std::size_t bytes) {
  int fd;
  do {
    fd = ::open("/dev/urandom", O_RDONLY | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) return false;
  std::size_t done = 0;
  while (done < bytes) {
    ssize_t r = ::read(fd, out + done, bytes - done);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    done += static_cast<std::size_t>(r);
  }
  ::close(fd);
  return done == bytes;
}
#endif

}  // namespace

namespace detail {
void chacha20_block(const std::uint8_t key[32], std::uint32_t counter, const std::uint8_t nonce[12],
                    std::uint8_t out[64]) {
  std::uint32_t k[8];
  for (int w = 0; w < 8; ++w) k[w] = load_le32(key + 4 * w);
  // RFC layout: word 12 = counter, 13..15 = nonce; our 64-bit counter spans 12..13.
  std::uint64_t c = counter | std::uint64_t(load_le32(nonce)) << 32;
  std::uint8_t four[64 * kLanes];
  chacha_blocks(k, c, load_le32(nonce + 4), load_le32(nonce + 8), four);
  std::memcpy(out, four, 64);
  secure_wipe(four, sizeof(four));
  secure_wipe(k, sizeof(k));
}
}  // namespace detail

Seed random_seed() {
  Seed seed{};
  bool ok = false;
#if defined(__linux__) && defined(SYS_getrandom)
  std::size_t done = 0;
  while (done < seed.size()) {
    long r = ::syscall(SYS_getrandom, seed.data() + done, seed.size() - done, 0);
    if (r < 0) {
      if (errno == EINTR) continue;
      break;  // ENOSYS (old kernel) or a seccomp filter: try /dev/urandom
    }
    done += static_cast<std::size_t>(r);
  }
  ok = done == seed.size();
#endif
#if defined(__APPLE__) || defined(__FreeBSD__) || defined(__OpenBSD__)
  if (!ok) ok = ::getentropy(seed.data(), seed.size()) == 0;
#endif
#if defined(__linux__) || defined(__APPLE__) || defined(__FreeBSD__) || defined(__OpenBSD__)
  if (!ok) ok = read_dev_urandom(seed.data(), seed.size());
#endif
  if (!ok) {
    secure_wipe(seed.data(), seed.size());
    throw Error("no operating-system randomness available (getrandom and /dev/urandom both failed)");
  }
  return seed;
}

ChaCha20Prng::ChaCha20Prng(const Seed& seed, std::uint64_t stream) {
  for (int w = 0; w < 8; ++w) key_[w] = load_le32(seed.data() + 4 * w);
  stream_[0] = static_cast<std::uint32_t>(stream);
  stream_[1] = static_cast<std::uint32_t>(stream >> 32);
}

ChaCha20Prng::~ChaCha20Prng() {
  secure_wipe(key_, sizeof(key_));
  secure_wipe(stream_, sizeof(stream_));
  secure_wipe(buffer_, sizeof(buffer_));
  secure_wipe(&counter_, sizeof(counter_));
}

void ChaCha20Prng::generate(std::uint8_t* out) {
  static_assert(kBatchBlocks == kLanes, "one chacha_blocks call per batch");
  // 2^64 blocks is out of reach in practice; refuse rather than repeat keystream.
  SECURINFER_CHECK(counter_ <= ~std::uint64_t(0) - kBatchBlocks, Error, "ChaCha20 keystream exhausted");
  chacha_blocks(key_, counter_, stream_[0], stream_[1], out);
  counter_ += kBatchBlocks;
}

void ChaCha20Prng::refill() {
  generate(buffer_);
  buffer_pos_ = 0;
}

void ChaCha20Prng::fill(std::uint8_t* out, std::size_t bytes) {
  if (bytes == 0) return;
  // Drain what is buffered, then whole batches straight into out, then the tail.
  std::size_t take = std::min(bytes, kBufferBytes - buffer_pos_);
  std::memcpy(out, buffer_ + buffer_pos_, take);
  buffer_pos_ += take;
  out += take;
  bytes -= take;
  while (bytes >= kBufferBytes) {
    generate(out);
    out += kBufferBytes;
    bytes -= kBufferBytes;
  }
  if (bytes) {
    refill();
    std::memcpy(out, buffer_, bytes);
    buffer_pos_ = bytes;
  }
}

std::uint64_t ChaCha20Prng::next_u64() {
  std::uint8_t b[8];
  if (buffer_pos_ + 8 <= kBufferBytes) {  // fast path: straight from the buffer
    std::memcpy(b, buffer_ + buffer_pos_, 8);
    buffer_pos_ += 8;
  } else {
    fill(b, 8);
  }
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = v << 8 | b[i];  // little-endian, any host
  return v;
}

double ChaCha20Prng::next_unit_double() {
  return static_cast<double>(next_u64() >> 11) * 0x1p-53;
}

}  // namespace securinfer::ring
