// Noise flooding of decryptions that leave the client (IND-CPA-D; Li and
// Micciancio, Eurocrypt 2021), sized from the ciphertext's own error and
// deterministic per ciphertext.
//
// Decryption reveals m + e, and e depends on the secret key. Adding a
// Gaussian f of standard deviation sigma to every coefficient hides e: the
// KL divergence between m + e + f and m + f is |e|^2 / (2 sigma^2) (|.| the
// L2 norm of the N coefficients), so over t distinct decryptions it is at
// most 2^-lambda when
//
//     sigma = 2^(lambda / 2) * sqrt(t) * E,   E >= |e|_2            (*)
//
// (lambda: the statistical security parameter, 30 by default, as OpenFHE's
// NOISE_FLOODING_DECRYPT; for key recovery, a search problem, a divergence
// of 2^-lambda keeps about lambda bits of security, Micciancio-Walter 2018).
//
// E: a caller's bound, else an estimate. For real data the imaginary parts of
// the decoded slots are error alone, and carry about half of its energy
// (Parseval over the N/2 slots: sum |slot error|^2 * scale^2 = N/2 |e|^2), so
// |e|_2 ~ sqrt(4/N) * scale * |Im(slots)|_2. The estimate is doubled, floored
// at a fresh encryption's error, and rounded up to a power of two (so sigma
// says at most one bit about |e|). For complex data E is a static bound: a
// fresh error, or a rescaled one's rounding error below the top level.
//
// Determinism: the noise comes from ChaCha20 keyed by HMAC-SHA256(k_s, ct),
// k_s = SHA-256 of the secret key; decrypting one ciphertext again gives the
// same bits, so averaging repeated decryptions learns nothing new.
#pragma once
#include <complex>
#include <cstddef>

#include "ckks/ciphertext.h"
#include "ckks/keys.h"
#include "ring/csprng.h"

namespace securinfer::ckks {

struct FloodingOptions {
  double statistical_bits = 30;  // lambda in (*)
  double queries = 1;            // t in (*): distinct flooded decryptions the bound covers
  bool real_data = true;         // estimate E from the imaginary parts
  double error_bound = 0;        // > 0: the caller's bound E on |e|_2 (coefficient units)
};

struct FloodingReport {
  double error_estimate = 0;     // E used (coefficient units, a power of two unless given)
  double sigma = 0;              // flooding standard deviation per coefficient
};

// The seed of `ct`'s flooding noise under `secret` (keyed PRF of the ciphertext).
ring::Seed flooding_seed(const SecretKey& secret, const Ciphertext& ct);

// E of (*) for a ciphertext whose unflooded decoded slots are `slots` (ctx.slots() of them).
double flooding_error_bound(const Ciphertext& ct, const std::complex<double>* slots, const FloodingOptions& options);

// sigma of (*).
double flooding_sigma(double error_bound, const FloodingOptions& options);

}  // namespace securinfer::ckks
