#include "ckks/encryption.h"

#include <algorithm>
#include <cmath>

#include "ckks/flooding.h"
#include "ckks/key_switch.h"
#include "ring/csprng.h"
#include "ring/rns_ops.h"
#include "ring/sampling.h"
#include "util/errors.h"
#include "util/thread_pool.h"

namespace securinfer::ckks {
namespace {

ring::RnsPoly small_poly_ntt(const std::int64_t* v, std::size_t n, const ring::PrimeList& primes) {
  std::vector<arith::Modulus> moduli;
  for (const auto* p : primes) moduli.push_back(p->modulus);
  ring::RnsPoly p(n, primes.size());
  ring::small_to_rns(v, n, moduli, p.data());
  ring::ntt_forward(p, primes);
  return p;
}

ring::RnsPoly gaussian_ntt(const Context& ctx, const ring::PrimeList& primes) {
  std::vector<std::int64_t> e(ctx.degree());
  ring::ChaCha20Prng prng(ring::random_seed());
  ring::sample_gaussian(prng, e.data(), e.size());
  ring::RnsPoly p = small_poly_ntt(e.data(), e.size(), primes);
  secure_wipe(e.data(), e.size() * sizeof(std::int64_t));
  return p;
}

}  // namespace

Plaintext encode(const ContextPtr& context, const std::complex<double>* values, std::size_t count,
                 std::size_t level, double scale) {
  SECURINFER_CHECK(level <= context->max_level(), LevelError, "level above the top of the modulus chain");
  Plaintext pt;
  pt.context = context;
  pt.level = level;
  pt.scale = scale;
  pt.poly = ring::RnsPoly(context->degree(), level + 1);
  context->encoder().encode(values, count, scale, context->level_moduli(level), pt.poly.data());
  ring::ntt_forward(pt.poly, context->level_primes(level));
  return pt;
}

Ciphertext encrypt(const ContextPtr& context, const KeySet& keys, const Plaintext& pt, std::size_t slots_used) {
  require_same_parameters(*pt.context, *context, "plaintext and context");
  keys.require_usable_with(*context, keys.key_id());
  const std::size_t n = context->degree(), level = pt.level;
  const auto& primes = context->level_primes(level);
  Ciphertext ct;
  ct.context = context;
  ct.key_id = keys.key_id();
  ct.level = level;
  ct.scale = pt.scale;
  ct.slots_used = slots_used;
  if (keys.has_secret()) {
    // c1 = a uniform from a seed, c0 = -a s + e + m.
    ring::RnsPoly c0 = gaussian_ntt(*context, primes);
    ring::add(c0, c0, pt.poly, primes);
    const ring::Seed seed = ring::random_seed();
    ring::RnsPoly a = expand_uniform(seed, primes, n);
    ring::RnsPoly as(n, level + 1);
    ring::multiply(as, a, keys.secret().s, primes);
    ring::sub(c0, c0, as, primes);
    as.wipe();  // a s with the public a gives s: never leave it in a freed block
    ct.seed = seed;
    ct.polys.push_back(std::move(c0));
    ct.polys.push_back(std::move(a));
    return ct;
  }
  // Public key: (b u + e0, a u + e1) with u ternary, then + (m, 0). With a key
  // over Q and P (SEAL's method) the products are made over Q_level and P and
  // divided by P (rounded): the noise u e of the key shrinks by P, leaving
  // about the noise of a secret-key encryption. A key over Q only (format v1
  // files) is used as it is.
  const PublicKey& pk = keys.public_key();
  const bool over_p = pk.b.limbs() == context->key_primes().size();
  const auto& work = over_p ? context->extended_primes(level) : primes;
  const std::size_t top = context->max_level();
  // The key's limbs for `work`: q_0..q_level, then (over P) the special limbs.
  auto key_limbs = [&](const ring::RnsPoly& k) {
    auto out = ring::RnsPoly::uninitialized(n, work.size());
    for (std::size_t i = 0; i < work.size(); ++i) {
      const std::size_t from = i <= level ? i : top + 1 + (i - level - 1);
      std::copy(k.limb(from), k.limb(from) + n, out.limb(i));
    }
    return out;
  };
  std::vector<std::int8_t> u8(n);
  {
    ring::ChaCha20Prng prng(ring::random_seed());
    ring::sample_ternary(prng, u8.data(), n);
  }
  std::vector<std::int64_t> u64(u8.begin(), u8.end());
  ring::RnsPoly u = small_poly_ntt(u64.data(), n, work);
  secure_wipe(u8.data(), u8.size());
  secure_wipe(u64.data(), u64.size() * sizeof(std::int64_t));
  ring::RnsPoly c[2] = {gaussian_ntt(*context, work), gaussian_ntt(*context, work)};
  ring::multiply_add(c[0], key_limbs(pk.b), u, work);
  ring::multiply_add(c[1], key_limbs(pk.a), u, work);
  u.wipe();
  for (auto& ci : c) {
    if (over_p) {
      ring::RnsPoly down;
      mod_down(*context, ci, level, down);
      ci = std::move(down);
    }
  }
  ring::add(c[0], c[0], pt.poly, primes);
  ct.polys.push_back(std::move(c[0]));
  ct.polys.push_back(std::move(c[1]));
  return ct;
}

namespace {

// m + e = c0 + c1 s (+ c2 s^2) in coefficient form, over the ciphertext's level.
// The caller wipes it.
ring::RnsPoly phase(const KeySet& keys, const Ciphertext& ct) {
  keys.require_usable_with(*ct.context, ct.key_id);
  const Context& ctx = *ct.context;
  const std::size_t n = ctx.degree();
  const auto& primes = ctx.level_primes(ct.level);
  const SecretKey& sk = keys.secret();
  // Limb by limb, reading the key in place.
  ring::RnsPoly m = ct.polys[0];
  parallel_for(0, ct.level + 1, [&](std::size_t i) {
    const auto* p = primes[i];
    p->ops->mul_add(m.limb(i), ct.polys[1].limb(i), sk.s.limb(i), n, p->modulus);
    if (ct.polys.size() == 3) {
      AlignedVector<std::uint64_t> s2(n);
      p->ops->mul(s2.data(), sk.s.limb(i), sk.s.limb(i), n, p->modulus);
      p->ops->mul_add(m.limb(i), ct.polys[2].limb(i), s2.data(), n, p->modulus);
      secure_wipe(s2.data(), n * sizeof(std::uint64_t));
    }
  });
  ring::ntt_inverse(m, primes);
  return m;
}

// Adds rounded Gaussian noise of `sigma` drawn from `prng` to every coefficient of m.
void add_flooding(const Ciphertext& ct, ring::RnsPoly& m, ring::ChaCha20Prng& prng, double sigma) {
  const Context& ctx = *ct.context;
  const std::size_t n = ctx.degree();
  const double cut = std::min(10 * sigma, 0x1p51);
  std::vector<std::int64_t> noise(n);
  ring::sample_gaussian(prng, noise.data(), n, sigma, cut);
  auto flood = ring::RnsPoly::uninitialized(n, ct.level + 1);
  ring::small_to_rns(noise.data(), n, ctx.level_moduli(ct.level), flood.data());
  ring::add(m, m, flood, ctx.level_primes(ct.level));
  // Whoever knows the noise knows m + e from the shared result.
  secure_wipe(noise.data(), n * sizeof(std::int64_t));
  flood.wipe();
}

void check_sigma(double sigma) {
  SECURINFER_CHECK(std::isfinite(sigma) && sigma >= 0 && sigma < 0x1p48, ParameterError,
                   "flooding noise must be finite, non-negative and below 2^48");
}

}  // namespace

std::vector<std::complex<double>> decrypt(const KeySet& keys, const Ciphertext& ct, double flooding_sigma) {
  check_sigma(flooding_sigma);
  const Context& ctx = *ct.context;
  ring::RnsPoly m = phase(keys, ct);
  if (flooding_sigma > 0) {
    ring::ChaCha20Prng prng(ring::random_seed());
    add_flooding(ct, m, prng, flooding_sigma);
  }
  std::vector<std::complex<double>> out(ctx.slots());
  ctx.encoder().decode(m.data(), ctx.level_moduli(ct.level), ct.scale, out.data());
  m.wipe();
  return out;
}

std::vector<std::complex<double>> decrypt_flooded(const KeySet& keys, const Ciphertext& ct,
                                                  const FloodingOptions& options, FloodingReport* report) {
  const Context& ctx = *ct.context;
  ring::RnsPoly m = phase(keys, ct);
  std::vector<std::complex<double>> out(ctx.slots());
  ctx.encoder().decode(m.data(), ctx.level_moduli(ct.level), ct.scale, out.data());
  const double bound = flooding_error_bound(ct, out.data(), options);
  secure_wipe(out.data(), out.size() * sizeof(out[0]));  // the unflooded values never leave
  const double sigma = flooding_sigma(bound, options);
  double modulus_bits = 0;
  for (const auto& q : ctx.level_moduli(ct.level)) modulus_bits += std::log2(static_cast<double>(q.value()));
  // Ten sigma (the tail cut) must stay well inside (-Q/2, Q/2), beside the message.
  SECURINFER_CHECK(std::log2(10 * sigma) + 2 < modulus_bits, ParameterError,
                   "the flooding noise this ciphertext needs (2^" + std::to_string(std::log2(sigma)) +
                       " per coefficient) would overflow its modulus: decrypt at a higher level or use larger primes");
  check_sigma(sigma);
  ring::ChaCha20Prng prng(flooding_seed(keys.secret(), ct));
  add_flooding(ct, m, prng, sigma);
  ctx.encoder().decode(m.data(), ctx.level_moduli(ct.level), ct.scale, out.data());
  m.wipe();
  if (report) *report = FloodingReport{bound, sigma};
  return out;
}

}  // namespace securinfer::ckks
