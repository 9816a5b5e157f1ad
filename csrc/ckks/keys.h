// Keys of the CKKS scheme, all polynomials in NTT form over the key base
// q_0..q_L, P (limb L + 1 + k is special prime k).
//
//   KeySet keys = KeySet::generate(context);       // secret, public, relinearisation
//   keys.add_galois_key(context, rotation_galois_element(n, 1));
//   KeySet server = keys.without_secret();         // what a server may hold
#pragma once
#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "ckks/context.h"
#include "ring/rns_poly.h"

namespace securinfer::ckks {

// Uniform ternary secret. Its memory is wiped when freed.
struct SecretKey {
  ring::RnsPoly s;  // all key limbs
  SecretKey() = default;
  SecretKey(const SecretKey&) = delete;
  SecretKey& operator=(const SecretKey&) = delete;
  ~SecretKey() { s.wipe(); }
};

using Seed = std::array<std::uint8_t, 32>;

struct PublicKey {
  // b = -a s + e over q_0..q_L and the special primes (keys made by this
  // version), or over q_0..q_L only (format v1 files before the special
  // primes were added: encryption then keeps the key's noise, ~10 bits more).
  ring::RnsPoly b, a;
  Seed a_seed{};       // a expands from it (compact serialisation)
};

// Hybrid (GHS) key-switching key from s' to s: for each digit j,
// b_j = -a_j s + e_j + P [digit j indicator] s'  over all key limbs.
struct KeySwitchKey {
  std::vector<ring::RnsPoly> b, a;
  std::vector<Seed> a_seeds;  // a_j expands from a_seeds[j]
  std::size_t byte_size() const {
    std::size_t words = 0;
    for (const auto& p : b) words += p.words();
    for (const auto& p : a) words += p.words();
    return words * 8;
  }
};

struct EncapsulationKeys;  // bootstrap_encapsulation.h

class KeySet {
 public:
  // A fresh secret key with its public and relinearisation keys.
  static KeySet generate(const ContextPtr& context);
  // Reassembles a key set read from bytes (secret may be null).
  static KeySet from_parts(const ContextPtr& context, std::uint64_t key_id, std::shared_ptr<const SecretKey> secret,
                           std::shared_ptr<const PublicKey> public_key, std::shared_ptr<const KeySwitchKey> relin,
                           std::map<std::uint64_t, std::shared_ptr<const KeySwitchKey>> galois,
                           std::shared_ptr<const EncapsulationKeys> encapsulation = nullptr);
  std::map<std::uint64_t, std::shared_ptr<const KeySwitchKey>> galois_keys() const;

  std::uint64_t key_id() const { return key_id_; }
  // The context the keys were made or loaded under (their ring and primes).
  const ContextPtr& context() const { return context_; }
  // ContextMismatchError unless an object of `ctx` with `key_id` may use these
  // keys: the same parameters in full (so key limbs fit its buffers) and the
  // same key id.
  void require_usable_with(const Context& ctx, std::uint64_t key_id) const;
  bool has_secret() const { return secret_ != nullptr; }
  const SecretKey& secret() const;  // MissingKeyError without one
  const PublicKey& public_key() const { return *public_; }
  const KeySwitchKey& relin_key() const { return *relin_; }

  bool has_galois_key(std::uint64_t galois_element) const;
  // The key, shared (MissingKeyError when absent).
  std::shared_ptr<const KeySwitchKey> galois_key(std::uint64_t galois_element) const;
  std::vector<std::uint64_t> galois_elements() const;
  // Needs the secret key; existing keys are kept. Safe while other threads
  // evaluate with this key set.
  void add_galois_key(const ContextPtr& context, std::uint64_t galois_element);
  std::size_t galois_byte_size() const;
  // Bootstrapping's sparse-secret encapsulation keys (public material, shared
  // by copies of the set like the Galois keys); null when none were made.
  std::shared_ptr<const EncapsulationKeys> encapsulation_keys() const;
  void set_encapsulation_keys(std::shared_ptr<const EncapsulationKeys> keys);

  // The same evaluation keys, sharing their memory, without the secret key.
  KeySet without_secret() const;

 private:
  std::uint64_t key_id_ = 0;
  ContextPtr context_;
  std::shared_ptr<const SecretKey> secret_;
  std::shared_ptr<const PublicKey> public_;
  std::shared_ptr<const KeySwitchKey> relin_;
  // Shared by copies of the set (a public copy sees keys added later too).
  struct GaloisStore {
    std::mutex mutex;
    std::map<std::uint64_t, std::shared_ptr<const KeySwitchKey>> keys;
    std::shared_ptr<const EncapsulationKeys> encapsulation;
  };
  std::shared_ptr<GaloisStore> galois_ = std::make_shared<GaloisStore>();
};

// The uniform polynomial a key's `a` part expands from a seed: one ChaCha20
// stream per limb (the same expansion serves encryption and loading).
ring::RnsPoly expand_uniform(const Seed& seed, const ring::PrimeList& primes, std::size_t n);

// A key-switching key from `new_key` (all key limbs, NTT form) to `secret`.
KeySwitchKey make_switch_key(const Context& context, const SecretKey& secret, const ring::RnsPoly& new_key);

}  // namespace securinfer::ckks
