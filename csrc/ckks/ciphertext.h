// Plaintext and Ciphertext: RNS polynomials in NTT form with the level, the
// exact scale and the identity of what made them (parameters and key id), so
// mixing objects of different contexts or keys is caught. A ciphertext also
// carries its slot state: the vector's length, what the slots past it hold,
// and whether the values are complex (rules in ckks/slot_layout.h).
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <vector>

#include "ckks/context.h"
#include "ring/rns_poly.h"

namespace securinfer::ckks {

struct Plaintext {
  ContextPtr context;
  ring::RnsPoly poly;  // level + 1 limbs, NTT form
  std::size_t level = 0;
  double scale = 1;
};

// What the slots past a ciphertext's length hold.
enum class Padding : std::uint8_t {
  zeros = 0,       // zeros (up to the encryption noise)
  replicated = 1,  // slot i holds slot (i mod period); slots [length, period) hold zeros
                   // (a period below the length: the values themselves repeat, e.g. a broadcast scalar)
  undefined = 2,   // anything (partial sums of sum(), debris of rotations): never read as data
};

struct Ciphertext {
  ContextPtr context;
  std::uint64_t key_id = 0;
  std::vector<ring::RnsPoly> polys;  // (c0, c1), or (c0, c1, c2) before relinearisation
  std::size_t level = 0;
  double scale = 1;
  std::size_t slots_used = 0;  // length of the encrypted vector
  Padding padding = Padding::zeros;
  std::size_t period = 0;      // with Padding::replicated: a power of two >= slots_used
  bool is_complex = false;     // the values are complex (else real: decryption drops the imaginary part)
  // Fresh symmetric ciphertexts: c1 expands from this seed (compact serialisation).
  std::optional<std::array<std::uint8_t, 32>> seed;

  std::size_t size() const { return polys.size(); }
  std::size_t byte_size() const {
    std::size_t words = 0;
    for (const auto& p : polys) words += p.words();
    return words * 8;
  }
};

}  // namespace securinfer::ckks
