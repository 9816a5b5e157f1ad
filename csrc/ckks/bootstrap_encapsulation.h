// Sparse-secret encapsulation for bootstrapping (Bossuat et al. 2022): the
// level-0 ciphertext is switched to an ephemeral secret s' of Hamming weight
// h (32) before ModRaise, and back to the main secret s at the top level, so
// ModRaise's overflow I has |I| ~ sqrt(h / 12) instead of sqrt(2N / 36):
// EvalMod covers a small range with few double angles (fewer levels, more
// precision).
//
// The key to the sparse secret (s -> s') exists only modulo q0 p, p the first
// special prime (about 110 bits): a sparse secret is safe only under a small
// modulus (docs/security.md), and a level-0 ciphertext, one digit q0 < p,
// needs no more: b = -a s' + e + p s over {q0, p}, the switch a hybrid key
// switch with the one special prime p. The key back (s' -> s) is an ordinary
// switching key under the dense s.
//
//   auto enc = make_encapsulation_keys(ctx, keys, 32);   // needs the secret key
//   Ciphertext sparse = switch_to_sparse(enc, ct0);       // at level 0
//   Ciphertext raised = switch_from_sparse(enc, mod_raise(sparse, L, scale));
#pragma once
#include <cstdint>
#include <memory>

#include "ckks/ciphertext.h"
#include "ckks/keys.h"

namespace securinfer::ckks {

struct EncapsulationKeys {
  std::uint64_t key_id = 0;
  std::size_t hamming_weight = 0;
  std::shared_ptr<const KeySwitchKey> to_sparse;    // s -> s': one digit over {q0, p} (sparse_key_primes)
  std::shared_ptr<const KeySwitchKey> from_sparse;  // s' -> s, all limbs
  std::size_t byte_size() const { return to_sparse->byte_size() + from_sparse->byte_size(); }
};

// The two primes the key to the sparse secret lives over: q0 and the first
// special prime (ParameterError unless that prime exceeds q0).
ring::PrimeList sparse_key_primes(const Context& context);

// A fresh ephemeral secret of `hamming_weight` non-zero (+-1) coefficients
// (wiped after use) and its two keys. MissingKeyError without the secret key.
EncapsulationKeys make_encapsulation_keys(const ContextPtr& context, const KeySet& keys, std::size_t hamming_weight);

// `a` at level 0 under s -> the same message under s'.
Ciphertext switch_to_sparse(const EncapsulationKeys& enc, const Ciphertext& a);
// `a` (any level) under s' -> under s.
Ciphertext switch_from_sparse(const EncapsulationKeys& enc, const Ciphertext& a);

}  // namespace securinfer::ckks
