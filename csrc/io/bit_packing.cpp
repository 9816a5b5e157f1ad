#include "io/bit_packing.h"

#include <string>

namespace securinfer::io {
namespace {

// Little-endian 64-bit words, whatever the host's byte order.
void store_le64(std::uint8_t* p, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}

std::uint64_t load_le64(const std::uint8_t* p) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= static_cast<std::uint64_t>(p[i]) << (8 * i);
  return v;
}

}  // namespace

void pack_limb(ByteWriter& out, const std::uint64_t* words, std::size_t n, int bits) {
  std::uint8_t* dst = out.grow_zeroed(packed_limb_bytes(n, bits));
  if (!dst) return;  // counting
  // A 128-bit window: append each word's bits, flush 64 at a time (byte by
  // byte was 14 s for the 2.2 GB of an N = 2^16 bootstrapping context).
  unsigned __int128 window = 0;
  int filled = 0;
  std::size_t pos = 0;
  for (std::size_t k = 0; k < n; ++k) {
    window |= static_cast<unsigned __int128>(words[k]) << filled;
    filled += bits;
    if (filled >= 64) {
      store_le64(dst + pos, static_cast<std::uint64_t>(window));
      pos += 8;
      window >>= 64;
      filled -= 64;
    }
  }
  for (; filled > 0; filled -= 8) {
    dst[pos++] = static_cast<std::uint8_t>(window);
    window >>= 8;
  }
}

void unpack_limb(ByteReader& in, std::uint64_t* out, std::size_t n, int bits, std::uint64_t q) {
  if (bits < 1 || bits > 64) throw SerializationError("invalid coefficient width");
  const std::size_t total = packed_limb_bytes(n, bits);
  const std::uint8_t* src = in.get_bytes(total);
  const std::uint64_t mask = bits == 64 ? ~std::uint64_t(0) : (std::uint64_t(1) << bits) - 1;
  unsigned __int128 window = 0;
  int filled = 0;
  std::size_t pos = 0;
  for (std::size_t k = 0; k < n; ++k) {
    if (filled < bits && pos + 8 <= total) {   // 64 bits at a time while they last
      window |= static_cast<unsigned __int128>(load_le64(src + pos)) << filled;
      pos += 8;
      filled += 64;
    }
    while (filled < bits) {
      window |= static_cast<unsigned __int128>(src[pos++]) << filled;
      filled += 8;
    }
    const std::uint64_t v = static_cast<std::uint64_t>(window) & mask;
    window >>= bits;
    filled -= bits;
    if (v >= q)
      throw SerializationError("coefficient " + std::to_string(k) + " is not below its modulus " + std::to_string(q));
    out[k] = v;
  }
  // Padding bits of the last byte must be zero: one encoding per value.
  if (window != 0) throw SerializationError("non-zero padding bits after the last coefficient");
}

}  // namespace securinfer::io
