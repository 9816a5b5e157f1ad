// The fixed header every serialized object starts with (little-endian).
// Format v2 (written now), 64 bytes:
//
//   offset  size  field
//   0       4     magic "SINF"
//   4       2     format version (2)
//   6       2     object type (ObjectType)
//   8       4     flags (kFlag*; unknown bits are refused; parameters and keys carry none)
//   12      4     reserved, zero
//   16      8     payload size in bytes (the bytes after the header)
//   24      32    parameter fingerprint (SHA-256, CkksParameters::fingerprint)
//   56      8     key id (0 for objects that belong to no key set: parameters)
//
// Format v1 (still read), 40 bytes: the same fields with a 64-bit FNV-1a
// fingerprint (CkksParameters::legacy_fingerprint) at offset 24 and the key id
// at 32. A v1 fingerprint only matches a file to parameters that are then
// compared in full; it is never an identity. Readers check every field before
// reading on.
#pragma once
#include <cstdint>

#include "ckks/parameters.h"
#include "io/byte_stream.h"
#include "util/sha256.h"

namespace securinfer::io {

constexpr std::uint16_t kFormatVersion = 2;        // written
constexpr std::uint16_t kOldestFormatVersion = 1;  // still read
constexpr std::size_t kHeaderSize = 64;            // of the version written
constexpr std::size_t header_size(std::uint16_t version) { return version == 1 ? 40 : 64; }

enum class ObjectType : std::uint16_t {
  parameters = 1,
  public_key = 2,
  relin_key = 3,
  galois_keys = 4,
  secret_key = 5,
  ciphertext = 7,
  context = 8,
  encapsulation_keys = 9,  // bootstrapping's sparse-secret switching keys (in a context)
};

constexpr std::uint32_t kFlagSeeded = 1;       // ciphertext: c1 stored as a seed
constexpr std::uint32_t kFlagHasSecret = 2;    // context: carries the secret key
constexpr std::uint32_t kFlagOverSpecial = 4;  // public key: over the special primes too
constexpr std::uint32_t kFlagHasEncapsulation = 8;  // context: carries encapsulation keys (after the Galois keys)
constexpr std::uint32_t kKnownFlags = kFlagSeeded | kFlagHasSecret | kFlagOverSpecial | kFlagHasEncapsulation;

struct Header {
  ObjectType type;
  std::uint16_t version = kFormatVersion;
  std::uint32_t flags = 0;
  std::uint64_t payload_size = 0;
  util::Sha256Digest fingerprint{};     // version 2
  std::uint64_t legacy_fingerprint = 0;  // version 1
  std::uint64_t key_id = 0;

  // Whether the header names these parameters (by the fingerprint of its version).
  bool names(const ckks::CkksParameters& params) const;
};

const char* object_name(ObjectType type);

// Writes a header with payload_size 0 and returns the offset of that field,
// to patch once the payload is written.
std::size_t begin_object(ByteWriter& out, const Header& header);
void end_object(ByteWriter& out, std::size_t size_offset, std::size_t payload_start);

// Reads and checks a header (either version): magic, version, the expected
// type, flags, and a payload size that fits in what remains.
// SerializationError otherwise.
Header read_header(ByteReader& in, ObjectType expected);

}  // namespace securinfer::io
