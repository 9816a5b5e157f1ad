#include "io/header.h"

#include <algorithm>
#include <string>

namespace securinfer::io {
namespace {
constexpr std::uint8_t kMagic[4] = {'S', 'I', 'N', 'F'};
}

const char* object_name(ObjectType type) {
  switch (type) {
    case ObjectType::parameters: return "parameters";
    case ObjectType::public_key: return "public key";
    case ObjectType::relin_key: return "relinearisation key";
    case ObjectType::galois_keys: return "Galois keys";
    case ObjectType::secret_key: return "secret key";
    case ObjectType::ciphertext: return "ciphertext";
    case ObjectType::context: return "context";
    case ObjectType::encapsulation_keys: return "encapsulation keys";
  }
  return "unknown object";
}

bool Header::names(const ckks::CkksParameters& params) const {
  return version == 1 ? legacy_fingerprint == params.legacy_fingerprint() : fingerprint == params.fingerprint();
}

std::size_t begin_object(ByteWriter& out, const Header& header) {
  out.put_bytes(kMagic, 4);
  out.put_u16(kFormatVersion);
  out.put_u16(static_cast<std::uint16_t>(header.type));
  out.put_u32(header.flags);
  out.put_u32(0);
  const std::size_t size_offset = out.size();
  out.put_u64(0);
  out.put_bytes(header.fingerprint.data(), header.fingerprint.size());
  out.put_u64(header.key_id);
  return size_offset;
}

void end_object(ByteWriter& out, std::size_t size_offset, std::size_t payload_start) {
  out.patch_u64(size_offset, out.size() - payload_start);
}

Header read_header(ByteReader& in, ObjectType expected) {
  const std::uint8_t* magic = in.get_bytes(4);
  for (int i = 0; i < 4; ++i)
    if (magic[i] != kMagic[i]) throw SerializationError("not securinfer data (bad magic bytes)");
  const std::uint16_t version = in.get_u16();
  if (version < kOldestFormatVersion || version > kFormatVersion)
    throw SerializationError("unsupported format version " + std::to_string(version) + " (this build reads " +
                             std::to_string(kOldestFormatVersion) + " to " + std::to_string(kFormatVersion) + ")");
  Header h;
  h.version = version;
  const std::uint16_t type = in.get_u16();
  if (type != static_cast<std::uint16_t>(expected))
    throw SerializationError(std::string("expected ") + object_name(expected) + " data, found object type " +
                             std::to_string(type));
  h.type = expected;
  h.flags = in.get_u32();
  if (h.flags & ~kKnownFlags) throw SerializationError("unknown flags " + std::to_string(h.flags));
  if (in.get_u32() != 0) throw SerializationError("reserved header field is not zero");
  h.payload_size = in.get_u64();
  if (version == 1) {
    h.legacy_fingerprint = in.get_u64();
  } else {
    const std::uint8_t* digest = in.get_bytes(h.fingerprint.size());
    std::copy(digest, digest + h.fingerprint.size(), h.fingerprint.begin());
  }
  h.key_id = in.get_u64();
  if (h.payload_size > in.remaining())
    throw SerializationError(std::string(object_name(expected)) + " payload of " + std::to_string(h.payload_size) +
                             " bytes is longer than the " + std::to_string(in.remaining()) + " bytes left");
  return h;
}

}  // namespace securinfer::io
