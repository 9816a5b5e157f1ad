// SHA-256 (FIPS 180-4): the hash behind parameter fingerprints. Identity of
// parameters is always decided by full comparison; the digest names them in
// headers and caches, where a collision must be infeasible, not just unlikely.
//
//   auto digest = util::sha256(bytes.data(), bytes.size());   // 32 bytes
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>

namespace securinfer::util {

using Sha256Digest = std::array<std::uint8_t, 32>;

Sha256Digest sha256(const std::uint8_t* data, std::size_t size);

}  // namespace securinfer::util
