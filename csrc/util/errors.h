// The only exception types the core throws. Each maps to one Python class in
// securinfer.errors (see bindings/register_errors.cpp).
#pragma once
#include <stdexcept>
#include <string>

namespace securinfer {

struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};
// Bad argument: wrong size, non-prime modulus, value out of range, ...
struct ParameterError : Error {
  using Error::Error;
};
// Operands whose lengths cannot be broadcast together (numpy's rule).
struct ShapeError : ParameterError {
  using ParameterError::ParameterError;
};
// Parameters weaker than the 128-bit standard.
struct SecurityError : Error {
  using Error::Error;
};
// A needed rotation key or the secret key is absent.
struct MissingKeyError : Error {
  using Error::Error;
};
// Objects made under different parameters or keys were mixed.
struct ContextMismatchError : Error {
  using Error::Error;
};
// Out of multiplicative depth.
struct LevelError : Error {
  using Error::Error;
};
// Corrupt or incompatible serialized bytes.
struct SerializationError : Error {
  using Error::Error;
};

// Checks a precondition of a public entry point; active in release builds too.
#define SECURINFER_CHECK(cond, ErrorType, message) \
  do {                                             \
    if (!(cond)) throw ErrorType(message);         \
  } while (0)

}  // namespace securinfer
