// Versioned binary serialization of parameters, keys, contexts and
// ciphertexts (header.h for the layout). Coefficients are bit-packed to their
// prime's width; the uniform `a` parts of keys and of fresh symmetric
// ciphertexts travel as 32-byte seeds. Loading parses into temporaries,
// validates every size, level, scale and coefficient, and only then returns:
// any fault is a SerializationError (or ContextMismatchError), never a crash
// or an allocation sized by an unchecked field.
//
//   auto bytes = save_ciphertext(ct);
//   Ciphertext back = load_ciphertext(bytes.data(), bytes.size(), context, keys.key_id());
#pragma once
#include <cstdint>
#include <utility>
#include <vector>

#include "ckks/ciphertext.h"
#include "ckks/keys.h"

namespace securinfer::io {

using Bytes = std::vector<std::uint8_t>;

Bytes save_ciphertext(const ckks::Ciphertext& ct);
ckks::Ciphertext load_ciphertext(const std::uint8_t* data, std::size_t size, const ckks::ContextPtr& context,
                                 std::uint64_t key_id);

// Parameters and every key the set holds; the secret key only when asked:
// its exact size in bytes, then written into a buffer of that size (a
// caller's, such as a Python bytes object, so gigabytes of keys are not
// copied twice).
std::size_t context_size(const ckks::Context& context, const ckks::KeySet& keys, bool include_secret);
void save_context_into(std::uint8_t* buffer, std::size_t size, const ckks::Context& context,
                       const ckks::KeySet& keys, bool include_secret);
std::pair<ckks::ContextPtr, ckks::KeySet> load_context(const std::uint8_t* data, std::size_t size);

}  // namespace securinfer::io
