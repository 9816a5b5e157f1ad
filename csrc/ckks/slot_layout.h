// The slot state rules: what an operation's result holds past its length,
// from its operands' states. Element-wise operations follow numpy for 1-D
// vectors of equal lengths (broadcasting a length-1 operand is done above,
// by replication, before it reaches these rules); anything else is a
// ShapeError. Operations that read the padding refuse a state they cannot use.
//
//   require_same_length(a, b, "add");        // ShapeError unless equal lengths
//   r.padding = padding_of_sum(a, b);         // zeros + zeros = zeros, ...
#pragma once
#include <cstddef>
#include <vector>

#include "ckks/ciphertext.h"

namespace securinfer::ckks {

// ShapeError naming both lengths unless a and b have the same length.
void require_same_length(std::size_t a, std::size_t b, const char* what);

// The state of a + b and a * b (same lengths), copied into r.
void set_layout_of_sum(Ciphertext& r, const Ciphertext& a, const Ciphertext& b);
void set_layout_of_product(Ciphertext& r, const Ciphertext& a, const Ciphertext& b);

// The state of a sum of terms whose states are given (combinations): equal
// lengths (numpy's rule, as for a + b), else ShapeError.
void set_layout_of_sum_of(Ciphertext& r, const std::vector<Ciphertext>& term_states, const char* what);

// The state of a * b for a combination's term (equal lengths, else ShapeError).
Ciphertext layout_of_product(const Ciphertext& a, const Ciphertext& b);

// ParameterError unless the slots past a's length hold zeros (or a fills
// every slot): sums over slots and matrix products read them.
void require_zero_padding(const Ciphertext& a, const char* what);

// ParameterError unless every slot of a is data or a known padding (zeros or
// replicas): a rotation brings padding into view.
void require_defined_padding(const Ciphertext& a, const char* what);

// Whether a's replicas can be written around a vector of its length: a
// period at least the length (a shorter one repeats the values themselves).
bool tiles_values(const Ciphertext& a);

// Checks a state read from bytes or declared by a caller (SerializationError
// or ParameterError as `serialization` says).
void validate_layout(const Ciphertext& a, bool serialization);

// A short name of the padding, for messages and Python: "zeros", "replicated", "undefined".
const char* padding_name(Padding padding);

}  // namespace securinfer::ckks
