#include "ckks/bootstrap_encapsulation.h"

#include <vector>

#include "ckks/key_switch.h"
#include "ring/csprng.h"
#include "ring/rns_ops.h"
#include "ring/sampling.h"
#include "util/errors.h"

namespace securinfer::ckks {
namespace {

// h distinct positions, each +-1, from the OS-seeded ChaCha20 stream.
std::vector<std::int8_t> sparse_ternary(std::size_t n, std::size_t h) {
  std::vector<std::int8_t> v(n, 0);
  ring::ChaCha20Prng prng(ring::random_seed());
  std::size_t placed = 0;
  while (placed < h) {
    const std::uint64_t r = prng.next_u64();
    const std::size_t pos = static_cast<std::size_t>((r >> 1) % n);  // n a power of two: unbiased
    if (v[pos] != 0) continue;
    v[pos] = (r & 1) ? 1 : -1;
    ++placed;
  }
  return v;
}

Ciphertext switched(const Ciphertext& a, const KeySwitchKey& key) {
  SECURINFER_CHECK(a.size() == 2, ParameterError, "ciphertext must be relinearised");
  const Context& ctx = *a.context;
  auto digits = decompose(ctx, a.polys[1], a.level);
  ring::RnsPoly k0, k1;
  apply_switch_key(ctx, digits, a.level, key, nullptr, k0, k1);
  Ciphertext r = a;
  r.seed.reset();
  ring::add(r.polys[0], a.polys[0], k0, ctx.level_primes(a.level));
  r.polys[1] = std::move(k1);
  return r;
}

}  // namespace

EncapsulationKeys make_encapsulation_keys(const ContextPtr& context, const KeySet& keys, std::size_t h) {
  const SecretKey& s = keys.secret();
  const std::size_t n = context->degree();
  SECURINFER_CHECK(h >= 1 && h <= n / 2, ParameterError, "Hamming weight out of range");
  const auto& primes = context->key_primes();
  std::vector<arith::Modulus> moduli;
  for (auto* p : primes) moduli.push_back(p->modulus);
  SecretKey sparse;
  {
    auto v = sparse_ternary(n, h);
    sparse.s = ring::RnsPoly(n, primes.size());
    ring::small_to_rns(v.data(), n, moduli, sparse.s.data());
    secure_wipe(v.data(), v.size());
    ring::ntt_forward(sparse.s, primes);
  }
  EncapsulationKeys enc;
  enc.key_id = keys.key_id();
  enc.hamming_weight = h;
  // s -> s' (b = -a s' + e + P s): only digit 0's q0 and P limbs are ever used
  // (at level 0); every other word is zeroed so the sparse secret is exposed
  // modulo q0 P alone.
  KeySwitchKey down = make_switch_key(*context, sparse, s.s);
  const std::size_t L = context->max_level();
  for (std::size_t d = 0; d < down.b.size(); ++d) {
    for (std::size_t i = 0; i < primes.size(); ++i) {
      const bool keep = d == 0 && (i == 0 || i > L);
      if (keep) continue;
      std::fill(down.b[d].limb(i), down.b[d].limb(i) + n, 0);
      std::fill(down.a[d].limb(i), down.a[d].limb(i) + n, 0);
    }
  }
  enc.to_sparse = std::make_shared<KeySwitchKey>(std::move(down));
  enc.from_sparse = std::make_shared<KeySwitchKey>(make_switch_key(*context, s, sparse.s));
  return enc;
}

Ciphertext switch_to_sparse(const EncapsulationKeys& enc, const Ciphertext& a) {
  SECURINFER_CHECK(a.key_id == enc.key_id, ContextMismatchError, "ciphertext belongs to other keys");
  SECURINFER_CHECK(a.level == 0, LevelError, "the switch to the sparse secret works at level 0 only");
  return switched(a, *enc.to_sparse);
}

Ciphertext switch_from_sparse(const EncapsulationKeys& enc, const Ciphertext& a) {
  SECURINFER_CHECK(a.key_id == enc.key_id, ContextMismatchError, "ciphertext belongs to other keys");
  return switched(a, *enc.from_sparse);
}

}  // namespace securinfer::ckks
