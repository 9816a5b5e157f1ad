// Arithmetic on ciphertexts with automatic scale and level management (as
// OpenFHE's FLEXIBLEAUTO): every product is relinearised and rescaled at once;
// operands at different levels or scales are brought together before adding,
// the exact scale tracked throughout.
//
//   Ciphertext z = multiply(keys, x, y);       // x * y, rescaled, one level down
//   Ciphertext w = add(z, x);                  // x dropped to z's level first
#pragma once
#include <complex>
#include <cstdint>
#include <vector>

#include "ckks/ciphertext.h"
#include "ckks/keys.h"

namespace securinfer::ckks {

using Complex = std::complex<double>;

// Whether two scales are the same for CKKS arithmetic (relative difference
// below the encoding resolution 1/scale, at least 1e-9).
bool same_scale(double a, double b);

// ContextMismatchError unless a and b come from the same parameters and keys.
void check_compatible(const Ciphertext& a, const Ciphertext& b);

Ciphertext add(const Ciphertext& a, const Ciphertext& b);
Ciphertext sub(const Ciphertext& a, const Ciphertext& b);
Ciphertext negate(const Ciphertext& a);

// With a plaintext vector (count <= slots values, zero padded).
Ciphertext add_values(const Ciphertext& a, const Complex* values, std::size_t count);
Ciphertext sub_values(const Ciphertext& a, const Complex* values, std::size_t count, bool reversed);
Ciphertext multiply_values(const Ciphertext& a, const Complex* values, std::size_t count);
// With a pre-encoded plaintext at a's level (any scale); rescaled.
Ciphertext multiply_plain(const Ciphertext& a, const Plaintext& p);

// With a constant. Integer constants multiply without using a level.
Ciphertext add_scalar(const Ciphertext& a, Complex c);
Ciphertext multiply_scalar(const Ciphertext& a, Complex c);

Ciphertext multiply(const KeySet& keys, const Ciphertext& a, const Ciphertext& b);
Ciphertext square(const KeySet& keys, const Ciphertext& a);

// An integer v (|v| < 2^126) reduced modulo each prime.
std::vector<std::uint64_t> residues_of(long double v, const ring::PrimeList& primes);
// `a` brought to `level` (below its own) with a scale close to `target`
// (one level spent: ParameterError if no integer factor can do it).
Ciphertext adjust_to(const Ciphertext& a, std::size_t level, double target);

// Lower level: drop primes, keeping the scale (which the lower modulus may
// then be too small for: internal use, where the caller knows it fits).
Ciphertext drop_to_level(const Ciphertext& a, std::size_t level);
// The same values at a lower level, on that level's canonical scale (a
// scale kept from above could exceed the smaller modulus and decrypt to
// garbage): dropped and, unless the scale already fits, adjusted.
Ciphertext lower_to_level(const Ciphertext& a, std::size_t level);
// Divides by the last prime of the chain (LevelError at level 0).
void rescale_in_place(Ciphertext& a);
// The plaintext scale that makes a product with `a` land on the canonical
// scale of the level below after rescaling.
double product_scale_for(const Ciphertext& a);

}  // namespace securinfer::ckks
