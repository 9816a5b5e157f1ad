// The sizes of serialized objects, computed from the parameters alone: what
// a server needs to bound a request body before it reads it. They follow the
// layout serialize.cpp writes (format v2); tests/io/test_serialized_size.py
// checks each against real serialized objects, byte for byte.
//
//   std::size_t cap = io::max_ciphertext_bytes(params);   // two polynomials, top level
#pragma once
#include <cstddef>

#include "ckks/parameters.h"

namespace securinfer::io {

// A ciphertext of two full polynomials at the top level (the largest an
// honest client sends: seeded fresh ciphertexts are smaller).
std::size_t max_ciphertext_bytes(const ckks::CkksParameters& p);

// One entry of a context's Galois key set (element, then the key object).
std::size_t galois_key_bytes(const ckks::CkksParameters& p);

// A public context (parameters, public key over the special primes,
// relinearisation key, `galois_keys` Galois keys; no secret key).
std::size_t public_context_bytes(const ckks::CkksParameters& p, std::size_t galois_keys);

}  // namespace securinfer::io
