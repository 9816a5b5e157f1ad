#include "io/serialize.h"

#include <cmath>
#include <map>
#include <string>

#include "io/bit_packing.h"
#include "ckks/bootstrap_encapsulation.h"
#include "ckks/slot_layout.h"
#include "io/header.h"
#include "ring/rns_ops.h"
#include "util/errors.h"
#include "util/thread_pool.h"

namespace securinfer::io {
namespace {

using ckks::Ciphertext;
using ckks::Context;
using ckks::ContextPtr;
using ckks::KeySet;
using ckks::KeySwitchKey;

int bit_width(std::uint64_t q) { return 64 - __builtin_clzll(q); }

Header header_for(ObjectType type, std::uint32_t flags, const ckks::CkksParameters& params, std::uint64_t key_id) {
  Header h;
  h.type = type;
  h.flags = flags;
  h.fingerprint = params.fingerprint();
  h.key_id = key_id;
  return h;
}

void write_poly(ByteWriter& out, const ring::RnsPoly& p, const ring::PrimeList& primes) {
  for (std::size_t i = 0; i < primes.size(); ++i) pack_limb(out, p.limb(i), p.degree(), bit_width(primes[i]->value()));
}

ring::RnsPoly read_poly(ByteReader& in, const ring::PrimeList& primes, std::size_t n) {
  // Check the bytes are there before allocating anything.
  std::size_t needed = 0;
  for (auto* q : primes) needed += packed_limb_bytes(n, bit_width(q->value()));
  if (needed > in.remaining())
    throw SerializationError("truncated polynomial: needs " + std::to_string(needed) + " bytes, " +
                             std::to_string(in.remaining()) + " left");
  auto p = ring::RnsPoly::uninitialized(n, primes.size());
  for (std::size_t i = 0; i < primes.size(); ++i) unpack_limb(in, p.limb(i), n, bit_width(primes[i]->value()), primes[i]->value());
  return p;
}

ckks::Seed read_seed(ByteReader& in) {
  ckks::Seed seed;
  const std::uint8_t* p = in.get_bytes(seed.size());
  std::copy(p, p + seed.size(), seed.begin());
  return seed;
}

// A nested object's payload reader, after checking that its header names
// `params`. Nested key objects carry no flags; a ciphertext may be seeded.
ByteReader open_object(ByteReader& in, ObjectType type, const ckks::CkksParameters& params, std::uint64_t key_id,
                       Header* header_out = nullptr, std::uint32_t allowed_flags = 0) {
  Header h = read_header(in, type);
  if (h.flags & ~allowed_flags) throw SerializationError(std::string("invalid ") + object_name(type) + " flags");
  if (!h.names(params))
    throw ContextMismatchError(std::string(object_name(type)) + " was made under other parameters");
  if (key_id != 0 && h.key_id != key_id)
    throw ContextMismatchError(std::string(object_name(type)) + " belongs to another key set");
  if (header_out) *header_out = h;
  ByteReader payload(in.get_bytes(h.payload_size), h.payload_size);
  return payload;
}

void expect_consumed(const ByteReader& r, ObjectType type) {
  if (r.remaining() != 0)
    throw SerializationError(std::to_string(r.remaining()) + " unexpected trailing bytes in the " + object_name(type));
}

// --------------------------------------------------------------- parameters
void write_parameters(ByteWriter& out, const ckks::CkksParameters& p) {
  const std::size_t at = begin_object(out, header_for(ObjectType::parameters, 0, p, 0));
  const std::size_t start = out.size();
  out.put_u32(static_cast<std::uint32_t>(p.poly_degree));
  out.put_u16(static_cast<std::uint16_t>(p.q_primes.size()));
  out.put_u16(static_cast<std::uint16_t>(p.p_primes.size()));
  for (auto q : p.q_primes) out.put_u64(q);
  for (auto q : p.p_primes) out.put_u64(q);
  out.put_f64(p.default_scale);
  out.put_u8(p.enforce_security ? 1 : 0);
  end_object(out, at, start);
}

ckks::CkksParameters read_parameters(ByteReader& in) {
  Header h = read_header(in, ObjectType::parameters);
  if (h.flags != 0 || h.key_id != 0) throw SerializationError("invalid parameters header (flags or key id set)");
  ByteReader r(in.get_bytes(h.payload_size), h.payload_size);
  ckks::CkksParameters p;
  p.poly_degree = r.get_u32();
  const std::size_t nq = r.get_u16(), np = r.get_u16();
  if (nq == 0 || np == 0 || nq + np > 128) throw SerializationError("invalid number of primes");
  for (std::size_t i = 0; i < nq; ++i) p.q_primes.push_back(r.get_u64());
  for (std::size_t i = 0; i < np; ++i) p.p_primes.push_back(r.get_u64());
  p.default_scale = r.get_f64();
  const std::uint8_t enforce = r.get_u8();
  if (enforce > 1) throw SerializationError("invalid security flag");
  p.enforce_security = enforce == 1;
  expect_consumed(r, ObjectType::parameters);
  try {
    p.validate();
  } catch (const SecurityError&) {
    throw;
  } catch (const Error& e) {
    throw SerializationError(std::string("invalid parameters: ") + e.what());
  }
  if (!h.names(p)) throw SerializationError("parameter fingerprint does not match the parameters");
  return p;
}

// --------------------------------------------------------------- keys
void write_switch_key(ByteWriter& out, ObjectType type, const Context& ctx, std::uint64_t key_id,
                      const KeySwitchKey& key) {
  const std::size_t at = begin_object(out, header_for(type, 0, ctx.params(), key_id));
  const std::size_t start = out.size();
  out.put_u16(static_cast<std::uint16_t>(key.b.size()));
  for (std::size_t j = 0; j < key.b.size(); ++j) {
    out.put_bytes(key.a_seeds[j].data(), key.a_seeds[j].size());
    write_poly(out, key.b[j], ctx.key_primes());
  }
  end_object(out, at, start);
}

// The uniform `a` polynomials of a key from its seeds (once its bytes are all read and checked).
void expand_seeds(KeySwitchKey& key, const Context& ctx) {
  key.a.clear();
  for (const auto& seed : key.a_seeds) key.a.push_back(ckks::expand_uniform(seed, ctx.key_primes(), ctx.degree()));
}

std::shared_ptr<KeySwitchKey> read_switch_key_payload(ByteReader& r, const Context& ctx, bool expand = true) {
  const std::size_t digits = r.get_u16();
  if (digits != ctx.params().dnum())
    throw SerializationError("key has " + std::to_string(digits) + " digits, the parameters need " +
                             std::to_string(ctx.params().dnum()));
  auto key = std::make_shared<KeySwitchKey>();
  for (std::size_t j = 0; j < digits; ++j) {
    key->a_seeds.push_back(read_seed(r));
    key->b.push_back(read_poly(r, ctx.key_primes(), ctx.degree()));
  }
  // Only expand the seeds once everything has been read and checked.
  if (expand) expand_seeds(*key, ctx);
  return key;
}

// --------------------------------------------------------------- encapsulation keys
// Payload: u32 Hamming weight of the ephemeral secret; the key to it (one
// digit over q0 and the first special prime: its seed, then b); the key back
// as a nested switching key.
void write_encapsulation_keys(ByteWriter& out, const Context& ctx, std::uint64_t key_id,
                              const ckks::EncapsulationKeys& enc) {
  const std::size_t at = begin_object(out, header_for(ObjectType::encapsulation_keys, 0, ctx.params(), key_id));
  const std::size_t start = out.size();
  out.put_u32(static_cast<std::uint32_t>(enc.hamming_weight));
  const KeySwitchKey& down = *enc.to_sparse;
  out.put_bytes(down.a_seeds[0].data(), down.a_seeds[0].size());
  write_poly(out, down.b[0], ckks::sparse_key_primes(ctx));
  write_switch_key(out, ObjectType::relin_key, ctx, key_id, *enc.from_sparse);
  end_object(out, at, start);
}

std::shared_ptr<const ckks::EncapsulationKeys> read_encapsulation_keys(ByteReader& in, const Context& ctx,
                                                                      std::uint64_t key_id) {
  ByteReader r = open_object(in, ObjectType::encapsulation_keys, ctx.params(), key_id);
  const std::size_t n = ctx.degree();
  ring::PrimeList primes;
  try {
    primes = ckks::sparse_key_primes(ctx);
  } catch (const ParameterError& e) {
    throw SerializationError(std::string("encapsulation keys for unsuitable parameters: ") + e.what());
  }
  auto enc = std::make_shared<ckks::EncapsulationKeys>();
  enc->key_id = key_id;
  enc->hamming_weight = r.get_u32();
  if (enc->hamming_weight < 1 || enc->hamming_weight > n / 2)
    throw SerializationError("invalid Hamming weight " + std::to_string(enc->hamming_weight) +
                             " of the encapsulation secret");
  auto down = std::make_shared<KeySwitchKey>();
  down->a_seeds.push_back(read_seed(r));
  down->b.push_back(read_poly(r, primes, n));
  ByteReader back = open_object(r, ObjectType::relin_key, ctx.params(), key_id);
  auto from_sparse = read_switch_key_payload(back, ctx);
  expect_consumed(back, ObjectType::encapsulation_keys);
  expect_consumed(r, ObjectType::encapsulation_keys);
  down->a.push_back(ckks::expand_uniform(down->a_seeds[0], primes, n));
  enc->to_sparse = std::move(down);
  enc->from_sparse = std::move(from_sparse);
  return enc;
}

// The fewest bytes the keys of a context with these parameters take (public
// key, relinearisation key, an empty Galois set, the secret key if present):
// checked before the context is built, so that a few bytes of parameters
// cannot make the loader build a large context (NTT tables, base converters)
// for keys that are not there.
std::size_t min_key_bytes(const ckks::CkksParameters& p, bool has_secret, std::size_t header_bytes) {
  const std::size_t n = p.poly_degree;
  std::size_t chain = 0, special = 0;
  for (auto q : p.q_primes) chain += packed_limb_bytes(n, bit_width(q));
  for (auto q : p.p_primes) special += packed_limb_bytes(n, bit_width(q));
  const std::size_t seed = ckks::Seed().size();
  std::size_t bytes = header_bytes + seed + chain;                          // public key
  bytes += header_bytes + 2 + p.dnum() * (seed + chain + special);          // relinearisation key
  bytes += header_bytes + 4;                                                // Galois keys (maybe none)
  if (has_secret) bytes += header_bytes + chain + special;                  // secret key
  return bytes;
}

}  // namespace

// --------------------------------------------------------------- ciphertexts
Bytes save_ciphertext(const Ciphertext& ct) {
  const Context& ctx = *ct.context;
  const bool seeded = ct.seed.has_value() && ct.size() == 2;
  ByteWriter out;
  const std::size_t at =
      begin_object(out, header_for(ObjectType::ciphertext, seeded ? kFlagSeeded : 0u, ctx.params(), ct.key_id));
  const std::size_t start = out.size();
  out.put_u16(static_cast<std::uint16_t>(ct.level));
  out.put_u8(static_cast<std::uint8_t>(ct.size()));
  out.put_u32(static_cast<std::uint32_t>(ct.slots_used));
  // Format v2: the slot state (padding, replication period, complex).
  out.put_u8(static_cast<std::uint8_t>(ct.padding));
  out.put_u32(static_cast<std::uint32_t>(ct.period));
  out.put_u8(ct.is_complex ? 1 : 0);
  out.put_f64(ct.scale);
  const auto& primes = ctx.level_primes(ct.level);
  write_poly(out, ct.polys[0], primes);
  if (seeded) {
    out.put_bytes(ct.seed->data(), ct.seed->size());
  } else {
    for (std::size_t i = 1; i < ct.size(); ++i) write_poly(out, ct.polys[i], primes);
  }
  end_object(out, at, start);
  return std::move(out.bytes());
}

Ciphertext load_ciphertext(const std::uint8_t* data, std::size_t size, const ContextPtr& context,
                           std::uint64_t key_id) {
  ByteReader in(data, size);
  Header h;
  ByteReader r = open_object(in, ObjectType::ciphertext, context->params(), key_id, &h, kFlagSeeded);
  if (in.remaining() != 0) throw SerializationError("unexpected bytes after the ciphertext");
  Ciphertext ct;
  ct.context = context;
  ct.key_id = h.key_id;
  ct.level = r.get_u16();
  if (ct.level > context->max_level())
    throw SerializationError("level " + std::to_string(ct.level) + " is above the chain's top " +
                             std::to_string(context->max_level()));
  const std::size_t polys = r.get_u8();
  if (polys != 2 && polys != 3) throw SerializationError("a ciphertext has 2 or 3 polynomials, not " + std::to_string(polys));
  const bool seeded = (h.flags & kFlagSeeded) != 0;
  if (h.flags & ~kFlagSeeded) throw SerializationError("invalid ciphertext flags");
  if (seeded && polys != 2) throw SerializationError("a seeded ciphertext has 2 polynomials");
  ct.slots_used = r.get_u32();
  if (h.version == 1) {
    // v1 kept no slot state: assume nothing (no padding is read as data, the
    // imaginary parts are kept).
    ct.padding = ckks::Padding::undefined;
    ct.period = 0;
    ct.is_complex = true;
  } else {
    const std::uint8_t padding = r.get_u8();
    if (padding > static_cast<std::uint8_t>(ckks::Padding::undefined))
      throw SerializationError("unknown padding state " + std::to_string(padding));
    ct.padding = static_cast<ckks::Padding>(padding);
    ct.period = r.get_u32();
    const std::uint8_t is_complex = r.get_u8();
    if (is_complex > 1) throw SerializationError("invalid complex flag");
    ct.is_complex = is_complex == 1;
  }
  ckks::validate_layout(ct, /*serialization=*/true);
  ct.scale = r.get_f64();
  int modulus_bits = 0;
  for (std::size_t i = 0; i <= ct.level; ++i) modulus_bits += bit_width(context->params().q_primes[i]);
  if (!std::isfinite(ct.scale) || ct.scale < 1.0 || std::log2(ct.scale) > modulus_bits)
    throw SerializationError("scale is not finite or out of range for the ciphertext's level");
  const auto& primes = context->level_primes(ct.level);
  const std::size_t n = context->degree();
  ct.polys.push_back(read_poly(r, primes, n));
  if (seeded) {
    ct.seed = read_seed(r);
  } else {
    for (std::size_t i = 1; i < polys; ++i) ct.polys.push_back(read_poly(r, primes, n));
  }
  expect_consumed(r, ObjectType::ciphertext);
  if (seeded) ct.polys.push_back(ckks::expand_uniform(*ct.seed, primes, n));
  return ct;
}

// --------------------------------------------------------------- contexts
namespace {

void write_context(ByteWriter& out, const Context& ctx, const KeySet& keys, bool include_secret) {
  keys.require_usable_with(ctx, keys.key_id());
  const ckks::CkksParameters& fp = ctx.params();
  const std::uint64_t id = keys.key_id();
  const auto encapsulation = keys.encapsulation_keys();
  const std::uint32_t flags = (include_secret ? kFlagHasSecret : 0u) | (encapsulation ? kFlagHasEncapsulation : 0u);
  const std::size_t at = begin_object(out, header_for(ObjectType::context, flags, fp, id));
  const std::size_t start = out.size();
  write_parameters(out, ctx.params());
  {
    const auto& pk = keys.public_key();
    const bool over_p = pk.b.limbs() == ctx.key_primes().size();
    const std::size_t k = begin_object(out, header_for(ObjectType::public_key, over_p ? kFlagOverSpecial : 0u, fp, id));
    const std::size_t s = out.size();
    out.put_bytes(pk.a_seed.data(), pk.a_seed.size());
    write_poly(out, pk.b, over_p ? ctx.key_primes() : ctx.level_primes(ctx.max_level()));
    end_object(out, k, s);
  }
  write_switch_key(out, ObjectType::relin_key, ctx, id, keys.relin_key());
  {
    const auto galois = keys.galois_keys();
    const std::size_t k = begin_object(out, header_for(ObjectType::galois_keys, 0, fp, id));
    const std::size_t s = out.size();
    out.put_u32(static_cast<std::uint32_t>(galois.size()));
    for (const auto& [g, key] : galois) {
      out.put_u64(g);
      write_switch_key(out, ObjectType::relin_key, ctx, id, *key);
    }
    end_object(out, k, s);
  }
  if (encapsulation) write_encapsulation_keys(out, ctx, id, *encapsulation);
  if (include_secret) {
    const std::size_t k = begin_object(out, header_for(ObjectType::secret_key, 0, fp, id));
    const std::size_t s = out.size();
    write_poly(out, keys.secret().s, ctx.key_primes());
    end_object(out, k, s);
  }
  end_object(out, at, start);
}

}  // namespace

std::size_t context_size(const Context& ctx, const KeySet& keys, bool include_secret) {
  ByteWriter count = ByteWriter::counting();
  write_context(count, ctx, keys, include_secret);
  return count.size();
}

void save_context_into(std::uint8_t* buffer, std::size_t size, const Context& ctx, const KeySet& keys,
                       bool include_secret) {
  ByteWriter out(buffer, size);
  write_context(out, ctx, keys, include_secret);
  if (out.size() != size) throw SerializationError("serialized context size changed while writing");
}

std::pair<ContextPtr, KeySet> load_context(const std::uint8_t* data, std::size_t size) {
  ByteReader in(data, size);
  Header outer = read_header(in, ObjectType::context);
  ByteReader r(in.get_bytes(outer.payload_size), outer.payload_size);
  if (in.remaining() != 0) throw SerializationError("unexpected bytes after the context");
  const bool has_secret = (outer.flags & kFlagHasSecret) != 0;
  const bool has_encapsulation = (outer.flags & kFlagHasEncapsulation) != 0;
  if (outer.flags & ~(kFlagHasSecret | kFlagHasEncapsulation)) throw SerializationError("invalid context flags");
  if (outer.key_id == 0) throw SerializationError("missing key id");

  ckks::CkksParameters params = read_parameters(r);
  if (!outer.names(params)) throw SerializationError("context fingerprint does not match");
  const std::size_t key_bytes = min_key_bytes(params, has_secret, header_size(outer.version));
  if (r.remaining() < key_bytes)
    throw SerializationError("context payload is too short for the keys its parameters need: " +
                             std::to_string(r.remaining()) + " bytes left, at least " + std::to_string(key_bytes) +
                             " needed");
  auto ctx = std::make_shared<const Context>(std::move(params));
  const ckks::CkksParameters& fp = ctx->params();
  const std::uint64_t id = outer.key_id;
  const std::size_t n = ctx->degree();

  auto pk = std::make_shared<ckks::PublicKey>();
  {
    Header h;
    ByteReader k = open_object(r, ObjectType::public_key, fp, id, &h, kFlagOverSpecial);
    // Keys of format v1 files are over the chain primes only (still usable).
    const auto& primes = (h.flags & kFlagOverSpecial) ? ctx->key_primes() : ctx->level_primes(ctx->max_level());
    pk->a_seed = read_seed(k);
    pk->b = read_poly(k, primes, n);
    expect_consumed(k, ObjectType::public_key);
    pk->a = ckks::expand_uniform(pk->a_seed, primes, n);
  }
  std::shared_ptr<const KeySwitchKey> relin;
  {
    ByteReader k = open_object(r, ObjectType::relin_key, fp, id);
    relin = read_switch_key_payload(k, *ctx);
    expect_consumed(k, ObjectType::relin_key);
  }
  std::map<std::uint64_t, std::shared_ptr<const KeySwitchKey>> galois;
  {
    ByteReader k = open_object(r, ObjectType::galois_keys, fp, id);
    const std::uint32_t count = k.get_u32();
    if (count > n) throw SerializationError("too many Galois keys");
    std::vector<std::shared_ptr<KeySwitchKey>> read;
    for (std::uint32_t i = 0; i < count; ++i) {
      const std::uint64_t g = k.get_u64();
      if (g % 2 == 0 || g >= 2 * n || g == 1) throw SerializationError("invalid Galois element " + std::to_string(g));
      if (galois.count(g)) throw SerializationError("duplicate Galois key " + std::to_string(g));
      ByteReader key = open_object(k, ObjectType::relin_key, fp, id);
      read.push_back(read_switch_key_payload(key, *ctx, false));
      galois.emplace(g, read.back());
      expect_consumed(key, ObjectType::galois_keys);
    }
    expect_consumed(k, ObjectType::galois_keys);
    // Every key read and checked: expand their seeds, a key per thread (most
    // of a large context's loading time: 39 keys at N = 2^16).
    parallel_for(0, read.size(), [&](std::size_t i) { expand_seeds(*read[i], *ctx); });
  }
  std::shared_ptr<const ckks::EncapsulationKeys> encapsulation;
  if (has_encapsulation) encapsulation = read_encapsulation_keys(r, *ctx, id);
  std::shared_ptr<const ckks::SecretKey> secret;
  if (has_secret) {
    ByteReader k = open_object(r, ObjectType::secret_key, fp, id);
    auto sk = std::make_shared<ckks::SecretKey>();
    sk->s = read_poly(k, ctx->key_primes(), n);
    expect_consumed(k, ObjectType::secret_key);
    secret = std::move(sk);
  }
  expect_consumed(r, ObjectType::context);
  return {ctx, KeySet::from_parts(ctx, id, std::move(secret), std::move(pk), std::move(relin), std::move(galois),
                                  std::move(encapsulation))};
}

}  // namespace securinfer::io
