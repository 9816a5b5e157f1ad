// Encoding, encryption and decryption.
//
//   Plaintext pt = encode(ctx, values, count, ctx->max_level(), ctx->level_scale(L));
//   Ciphertext ct = encrypt(ctx, keys, pt);   // symmetric when keys hold the secret, else public key
//   std::vector<std::complex<double>> out = decrypt(ctx, keys, ct);
#pragma once
#include <complex>
#include <vector>

#include "ckks/ciphertext.h"
#include "ckks/flooding.h"
#include "ckks/keys.h"

namespace securinfer::ckks {

// count <= slots values (the rest zero), at `level` with `scale`.
Plaintext encode(const ContextPtr& context, const std::complex<double>* values, std::size_t count,
                 std::size_t level, double scale);

// Symmetric (seeded c1) when `keys` holds the secret key, public-key otherwise.
Ciphertext encrypt(const ContextPtr& context, const KeySet& keys, const Plaintext& plaintext,
                   std::size_t slots_used);

// All slots of the message; MissingKeyError without the secret key. With
// flooding_sigma > 0, Gaussian noise of that standard deviation (in the
// coefficient domain, the units of the scaled message) is added before
// decoding: noise flooding against key recovery from shared decryptions
// (Li-Micciancio 2021, IND-CPA-D).
// flooding_sigma: a fixed standard deviation, fresh OS randomness per call
// (kept for experiments; averaging repeated calls cancels it).
std::vector<std::complex<double>> decrypt(const KeySet& keys, const Ciphertext& ct, double flooding_sigma = 0);

// Noise flooding as ckks/flooding.h describes: sized from the ciphertext's
// error and the statistical security asked for, deterministic per
// ciphertext. `report` (optional) receives the error bound and sigma used.
std::vector<std::complex<double>> decrypt_flooded(const KeySet& keys, const Ciphertext& ct,
                                                  const FloodingOptions& options, FloodingReport* report = nullptr);

}  // namespace securinfer::ckks
