// Checks on numpy arrays crossing into the core: dtype, shape, contiguity and
// value ranges, each failure a ParameterError.
#pragma once
#include <pybind11/numpy.h>

#include <cstdint>
#include <string>

#include "util/errors.h"

namespace securinfer::bindings {

using U64Array = pybind11::array_t<std::uint64_t, pybind11::array::c_style>;

// A C-contiguous 1-D uint64 copy of `obj`; refuses other dtypes instead of
// converting (a float silently cast to a residue is a wrong answer).
inline U64Array as_u64_vector(const pybind11::handle& obj, const char* name) {
  if (!pybind11::isinstance<pybind11::array>(obj))
    throw ParameterError(std::string(name) + " must be a numpy array of uint64");
  auto arr = pybind11::reinterpret_borrow<pybind11::array>(obj);
  if (!arr.dtype().is(pybind11::dtype::of<std::uint64_t>()))
    throw ParameterError(std::string(name) + " must have dtype uint64, got " +
                         std::string(pybind11::str(arr.dtype())));
  if (arr.ndim() != 1) throw ParameterError(std::string(name) + " must be one-dimensional");
  return U64Array(arr);  // a copy only when not already C-contiguous
}

inline void check_below(const U64Array& arr, std::uint64_t bound, const char* name) {
  const std::uint64_t* p = arr.data();
  for (pybind11::ssize_t i = 0; i < arr.size(); ++i)
    if (p[i] >= bound)
      throw ParameterError(std::string(name) + "[" + std::to_string(i) + "] = " + std::to_string(p[i]) +
                           " is not below the modulus " + std::to_string(bound));
}

}  // namespace securinfer::bindings
