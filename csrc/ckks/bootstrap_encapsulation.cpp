#include "ckks/bootstrap_encapsulation.h"

#include <vector>

#include "arith/modarith.h"
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

// -a s' + e + p s over {q0, p} (the key limbs 0 and L + 1 of s), from `seed`.
KeySwitchKey make_sparse_key(const Context& ctx, const ring::RnsPoly& sparse, const SecretKey& s) {
  const ring::PrimeList primes = sparse_key_primes(ctx);
  const std::size_t n = ctx.degree(), special = ctx.max_level() + 1;
  KeySwitchKey key;
  key.a_seeds.push_back(ring::random_seed());
  ring::RnsPoly a = expand_uniform(key.a_seeds[0], primes, n);
  ring::RnsPoly b(n, 2);
  {
    std::vector<std::int64_t> e(n);
    ring::ChaCha20Prng prng(ring::random_seed());
    ring::sample_gaussian(prng, e.data(), n);
    std::vector<arith::Modulus> moduli{primes[0]->modulus, primes[1]->modulus};
    ring::small_to_rns(e.data(), n, moduli, b.data());
    secure_wipe(e.data(), e.size() * sizeof(std::int64_t));
    ring::ntt_forward(b, primes);
  }
  ring::RnsPoly s2(n, 2), as(n, 2);  // s' and then a s', wiped below
  std::copy(sparse.limb(0), sparse.limb(0) + n, s2.limb(0));
  std::copy(sparse.limb(special), sparse.limb(special) + n, s2.limb(1));
  ring::multiply(as, a, s2, primes);
  ring::sub(b, b, as, primes);
  // + p s modulo q0 (it vanishes modulo p).
  const std::uint64_t q0 = primes[0]->value();
  const std::uint64_t p_mod = arith::barrett_reduce_64(primes[1]->value(), primes[0]->modulus);
  const std::uint64_t ws = arith::shoup_precompute(p_mod, q0);
  const std::uint64_t* s0 = s.s.limb(0);
  std::uint64_t* b0 = b.limb(0);
  for (std::size_t k = 0; k < n; ++k) b0[k] = arith::add_mod(b0[k], arith::mul_shoup(s0[k], p_mod, ws, q0), q0);
  s2.wipe();
  as.wipe();
  key.b.push_back(std::move(b));
  key.a.push_back(std::move(a));
  return key;
}

// Coefficients of `limb` (NTT form modulo `from`), centred, modulo `to`, NTT form.
std::vector<std::uint64_t> lifted(const std::uint64_t* limb, std::size_t n, const ring::RnsPrime& from,
                                  const ring::RnsPrime& to) {
  std::vector<std::uint64_t> c(limb, limb + n);
  from.ntt.inverse(c.data());
  const std::uint64_t q = from.value(), half = q >> 1, t = to.value();
  const std::uint64_t q_mod = arith::barrett_reduce_64(q, to.modulus);
  for (auto& v : c) {
    const std::uint64_t r = arith::barrett_reduce_64(v, to.modulus);
    v = v > half ? arith::sub_mod(r, q_mod, t) : r;
  }
  to.ntt.forward(c.data());
  return c;
}

// The level-0 key switch with the two-prime key: c1 lifted to {q0, p}, times
// the key, divided by p with rounding back to q0.
Ciphertext switched_to_sparse(const Ciphertext& a, const KeySwitchKey& key) {
  SECURINFER_CHECK(a.size() == 2, ParameterError, "ciphertext must be relinearised");
  const Context& ctx = *a.context;
  const ring::PrimeList primes = sparse_key_primes(ctx);
  const ring::RnsPrime& q = *primes[0];
  const ring::RnsPrime& p = *primes[1];
  const std::size_t n = ctx.degree();
  const std::uint64_t qv = q.value(), pv = p.value();
  const std::uint64_t* c1q = a.polys[1].limb(0);
  const std::vector<std::uint64_t> c1p = lifted(c1q, n, q, p);
  const std::uint64_t p_inv = arith::inv_mod(arith::barrett_reduce_64(pv, q.modulus), qv);
  const std::uint64_t p_inv_s = arith::shoup_precompute(p_inv, qv);
  Ciphertext r = a;
  r.seed.reset();
  for (std::size_t which = 0; which < 2; ++which) {
    const ring::RnsPoly& k = which == 0 ? key.b[0] : key.a[0];
    std::vector<std::uint64_t> xq(n), xp(n);
    for (std::size_t i = 0; i < n; ++i) {
      xq[i] = arith::mul_mod(c1q[i], k.limb(0)[i], q.modulus);
      xp[i] = arith::mul_mod(c1p[i], k.limb(1)[i], p.modulus);
    }
    // (x - [x]_p) / p modulo q0: exact division, the rounding error below 1.
    const std::vector<std::uint64_t> xpq = lifted(xp.data(), n, p, q);
    std::uint64_t* out = r.polys[which].limb(0);
    for (std::size_t i = 0; i < n; ++i) {
      const std::uint64_t d = arith::mul_shoup(arith::sub_mod(xq[i], xpq[i], qv), p_inv, p_inv_s, qv);
      out[i] = which == 0 ? arith::add_mod(a.polys[0].limb(0)[i], d, qv) : d;
    }
  }
  return r;
}

}  // namespace

ring::PrimeList sparse_key_primes(const Context& context) {
  const auto& all = context.key_primes();
  const auto* q0 = all[0];
  const auto* p = all[context.max_level() + 1];
  SECURINFER_CHECK(p->value() > q0->value(), ParameterError,
                   "sparse-secret encapsulation needs the first special prime above q0");
  return {q0, p};
}

EncapsulationKeys make_encapsulation_keys(const ContextPtr& context, const KeySet& keys, std::size_t h) {
  const SecretKey& s = keys.secret();
  sparse_key_primes(*context);  // checks the primes before any key is made
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
  enc.to_sparse = std::make_shared<KeySwitchKey>(make_sparse_key(*context, sparse.s, s));
  enc.from_sparse = std::make_shared<KeySwitchKey>(make_switch_key(*context, s, sparse.s));
  return enc;
}

Ciphertext switch_to_sparse(const EncapsulationKeys& enc, const Ciphertext& a) {
  SECURINFER_CHECK(a.key_id == enc.key_id, ContextMismatchError, "ciphertext belongs to other keys");
  SECURINFER_CHECK(a.level == 0, LevelError, "the switch to the sparse secret works at level 0 only");
  return switched_to_sparse(a, *enc.to_sparse);
}

Ciphertext switch_from_sparse(const EncapsulationKeys& enc, const Ciphertext& a) {
  SECURINFER_CHECK(a.key_id == enc.key_id, ContextMismatchError, "ciphertext belongs to other keys");
  return switched(a, *enc.from_sparse);
}

}  // namespace securinfer::ckks
