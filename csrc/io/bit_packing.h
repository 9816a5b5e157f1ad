// Residue polynomials packed at their prime's bit width: a limb of N words
// below q takes N * bitlen(q) bits instead of N * 64.
#pragma once
#include <cstdint>

#include "io/byte_stream.h"

namespace securinfer::io {

inline std::size_t packed_limb_bytes(std::size_t n, int bits) { return (n * static_cast<std::size_t>(bits) + 7) / 8; }

// Appends n words (each below 2^bits) packed LSB-first.
void pack_limb(ByteWriter& out, const std::uint64_t* words, std::size_t n, int bits);
// Reads n packed words into `out`, each checked to be below q
// (SerializationError otherwise).
void unpack_limb(ByteReader& in, std::uint64_t* out, std::size_t n, int bits, std::uint64_t q);

}  // namespace securinfer::io
