#include "ckks/keys.h"

#include <cstring>

#include "ring/csprng.h"
#include "ring/rns_ops.h"
#include "ring/sampling.h"
#include "util/errors.h"
#include "util/thread_pool.h"

namespace securinfer::ckks {

ring::RnsPoly expand_uniform(const Seed& seed, const ring::PrimeList& primes, std::size_t n) {
  // Uniform directly in NTT form (uniform there too).
  auto a = ring::RnsPoly::uninitialized(n, primes.size());
  parallel_for(0, primes.size(), [&](std::size_t i) {
    ring::ChaCha20Prng prng(seed, i);
    ring::sample_uniform_mod(prng, primes[i]->value(), a.limb(i), n);
  });
  return a;
}

namespace {


// A fresh Gaussian error polynomial in NTT form.
ring::RnsPoly error_poly(const ring::PrimeList& primes, std::size_t n) {
  std::vector<std::int64_t> e(n);
  {
    ring::ChaCha20Prng prng(ring::random_seed());
    ring::sample_gaussian(prng, e.data(), n);
  }
  std::vector<arith::Modulus> moduli;
  for (auto* p : primes) moduli.push_back(p->modulus);
  ring::RnsPoly poly(n, primes.size());
  ring::small_to_rns(e.data(), n, moduli, poly.data());
  secure_wipe(e.data(), e.size() * sizeof(std::int64_t));
  ring::ntt_forward(poly, primes);
  return poly;
}

// -a s + e over the given primes (the first primes.size() limbs of s).
ring::RnsPoly masked_secret(const ring::RnsPoly& a, const ring::RnsPoly& s, const ring::PrimeList& primes) {
  ring::RnsPoly b = error_poly(primes, a.degree());
  ring::RnsPoly as(a.degree(), primes.size());
  ring::multiply(as, a, s, primes);
  ring::sub(b, b, as, primes);
  as.wipe();  // a s with the public a gives s: never leave it in a freed block
  return b;
}

std::uint64_t random_key_id() {
  const ring::Seed seed = ring::random_seed();
  std::uint64_t id;
  std::memcpy(&id, seed.data(), sizeof id);
  return id;
}

}  // namespace

KeySwitchKey make_switch_key(const Context& context, const SecretKey& secret, const ring::RnsPoly& new_key) {
  const auto& primes = context.key_primes();
  const std::size_t n = context.degree(), L = context.max_level(), alpha = context.params().digit_size();
  const std::size_t special = L + 1;
  KeySwitchKey key;
  // P mod q_i, for the gadget term P * s' on the digit's limbs.
  std::vector<std::uint64_t> p_mod(L + 1);
  for (std::size_t i = 0; i <= L; ++i) {
    const arith::Modulus& qi = primes[i]->modulus;
    std::uint64_t v = 1;
    for (std::size_t k = special; k < primes.size(); ++k)
      v = arith::mul_mod(v, arith::barrett_reduce_64(primes[k]->value(), qi), qi);
    p_mod[i] = v;
  }
  for (std::size_t d = 0; d < context.params().dnum(); ++d) {
    const Seed seed = ring::random_seed();
    ring::RnsPoly a = expand_uniform(seed, primes, n);
    key.a_seeds.push_back(seed);
    ring::RnsPoly b = masked_secret(a, secret.s, primes);
    for (std::size_t i = d * alpha; i < std::min(L + 1, (d + 1) * alpha); ++i) {
      const std::uint64_t q = primes[i]->value();
      const std::uint64_t w = p_mod[i], ws = arith::shoup_precompute(w, q);
      std::uint64_t* bi = b.limb(i);
      const std::uint64_t* si = new_key.limb(i);
      for (std::size_t k = 0; k < n; ++k) bi[k] = arith::add_mod(bi[k], arith::mul_shoup(si[k], w, ws, q), q);
    }
    key.b.push_back(std::move(b));
    key.a.push_back(std::move(a));
  }
  return key;
}

KeySet KeySet::generate(const ContextPtr& context) {
  const auto& primes = context->key_primes();
  const std::size_t n = context->degree();
  KeySet keys;
  keys.key_id_ = random_key_id();
  keys.context_ = context;

  auto secret = std::make_shared<SecretKey>();
  {
    std::vector<std::int8_t> ternary(n);
    ring::ChaCha20Prng prng(ring::random_seed());
    ring::sample_ternary(prng, ternary.data(), n);
    std::vector<arith::Modulus> moduli;
    for (auto* p : primes) moduli.push_back(p->modulus);
    secret->s = ring::RnsPoly(n, primes.size());
    ring::small_to_rns(ternary.data(), n, moduli, secret->s.data());
    secure_wipe(ternary.data(), ternary.size());
    ring::ntt_forward(secret->s, primes);
  }

  // Over Q_L and P, like the switching keys: encryption divides by P, which
  // removes the key's noise (public_key_primes in keys.h).
  auto pk = std::make_shared<PublicKey>();
  pk->a_seed = ring::random_seed();
  pk->a = expand_uniform(pk->a_seed, primes, n);
  pk->b = masked_secret(pk->a, secret->s, primes);

  ring::RnsPoly s_squared(n, primes.size());
  ring::multiply(s_squared, secret->s, secret->s, primes);
  auto relin = std::make_shared<KeySwitchKey>(make_switch_key(*context, *secret, s_squared));
  s_squared.wipe();

  keys.secret_ = std::move(secret);
  keys.public_ = std::move(pk);
  keys.relin_ = std::move(relin);
  return keys;
}

const SecretKey& KeySet::secret() const {
  SECURINFER_CHECK(secret_ != nullptr, MissingKeyError,
                   "this context holds no secret key (a public context cannot decrypt or make keys)");
  return *secret_;
}

bool KeySet::has_galois_key(std::uint64_t g) const {
  std::lock_guard<std::mutex> lock(galois_->mutex);
  return galois_->keys.count(g) != 0;
}

std::shared_ptr<const KeySwitchKey> KeySet::galois_key(std::uint64_t g) const {
  std::lock_guard<std::mutex> lock(galois_->mutex);
  auto it = galois_->keys.find(g);
  SECURINFER_CHECK(it != galois_->keys.end(), MissingKeyError,
                   "no Galois key for element " + std::to_string(g));
  return it->second;
}

std::vector<std::uint64_t> KeySet::galois_elements() const {
  std::lock_guard<std::mutex> lock(galois_->mutex);
  std::vector<std::uint64_t> out;
  for (const auto& kv : galois_->keys) out.push_back(kv.first);
  return out;
}

void KeySet::add_galois_key(const ContextPtr& context, std::uint64_t g) {
  require_same_parameters(*context, *context_, "keys and context");
  if (has_galois_key(g)) return;
  const SecretKey& sk = secret();
  const auto& primes = context->key_primes();
  ring::RnsPoly rotated(context->degree(), primes.size());
  ring::permute(rotated, sk.s, context->galois_permutation(g).data(), primes);
  auto key = std::make_shared<KeySwitchKey>(make_switch_key(*context, sk, rotated));
  rotated.wipe();
  std::lock_guard<std::mutex> lock(galois_->mutex);
  galois_->keys.emplace(g, std::move(key));
}

std::size_t KeySet::galois_byte_size() const {
  std::lock_guard<std::mutex> lock(galois_->mutex);
  std::size_t total = 0;
  for (const auto& kv : galois_->keys) total += kv.second->byte_size();
  return total;
}

KeySet KeySet::from_parts(const ContextPtr& context, std::uint64_t key_id, std::shared_ptr<const SecretKey> secret,
                          std::shared_ptr<const PublicKey> public_key, std::shared_ptr<const KeySwitchKey> relin,
                          std::map<std::uint64_t, std::shared_ptr<const KeySwitchKey>> galois,
                          std::shared_ptr<const EncapsulationKeys> encapsulation) {
  KeySet keys;
  keys.key_id_ = key_id;
  keys.context_ = context;
  keys.secret_ = std::move(secret);
  keys.public_ = std::move(public_key);
  keys.relin_ = std::move(relin);
  keys.galois_->keys = std::move(galois);
  keys.galois_->encapsulation = std::move(encapsulation);
  return keys;
}

std::shared_ptr<const EncapsulationKeys> KeySet::encapsulation_keys() const {
  std::lock_guard<std::mutex> lock(galois_->mutex);
  return galois_->encapsulation;
}

void KeySet::set_encapsulation_keys(std::shared_ptr<const EncapsulationKeys> keys) {
  std::lock_guard<std::mutex> lock(galois_->mutex);
  galois_->encapsulation = std::move(keys);
}

std::map<std::uint64_t, std::shared_ptr<const KeySwitchKey>> KeySet::galois_keys() const {
  std::lock_guard<std::mutex> lock(galois_->mutex);
  return galois_->keys;
}

void KeySet::require_usable_with(const Context& ctx, std::uint64_t key_id) const {
  SECURINFER_CHECK(context_ != nullptr, MissingKeyError, "no keys");
  require_same_parameters(ctx, *context_, "keys and ciphertext");
  SECURINFER_CHECK(key_id == key_id_, ContextMismatchError, "ciphertext belongs to another context (other keys)");
}

KeySet KeySet::without_secret() const {
  KeySet copy = *this;
  copy.secret_.reset();
  return copy;
}

}  // namespace securinfer::ckks
