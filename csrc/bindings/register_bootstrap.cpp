// The bootstrapping pieces for the Python layer (securinfer.bootstrapping
// composes them): ModRaise, multiplication by i, EvalMod and the complex
// linear transforms of the homomorphic DFT. Heavy calls release the GIL.
#include <pybind11/complex.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cmath>
#include <optional>
#include <string>

#include "bindings/bindings.h"
#include "ckks/bootstrap_encapsulation.h"
#include "ckks/bootstrap_evalmod.h"
#include "ckks/bootstrap_modraise.h"
#include "ckks/evaluator.h"
#include "linalg/complex_transform.h"
#include "util/errors.h"

namespace py = pybind11;

namespace securinfer::bindings {
namespace {

using ckks::Ciphertext;
using ckks::KeySet;
using linalg::ComplexTransform;
using ComplexArray = py::array_t<std::complex<double>, py::array::c_style | py::array::forcecast>;
using Release = py::call_guard<py::gil_scoped_release>;

linalg::ComplexDiagonals diagonals_copy(const py::dict& d, std::size_t slots) {
  linalg::ComplexDiagonals out;
  for (auto item : d) {
    const long long k = py::cast<long long>(item.first);
    if (k < 0 || static_cast<std::size_t>(k) >= slots)
      throw ParameterError("diagonal index " + std::to_string(k) + " outside [0, slots)");
    ComplexArray a = ComplexArray::ensure(item.second);
    if (!a || a.ndim() != 1 || static_cast<std::size_t>(a.size()) != slots)
      throw ParameterError("each diagonal must be a 1-D array of one value per slot");
    std::vector<std::complex<double>> v(a.data(), a.data() + a.size());
    for (const auto& x : v)
      if (!std::isfinite(x.real()) || !std::isfinite(x.imag())) throw ParameterError("diagonals must be finite");
    out.emplace(static_cast<std::size_t>(k), std::move(v));
  }
  return out;
}

void check_keys(const KeySet& keys, const Ciphertext& ct) {
  SECURINFER_CHECK(ct.key_id == keys.key_id(), ContextMismatchError,
                   "ciphertext belongs to another context (other keys)");
}

}  // namespace

void register_bootstrap(py::module_& parent) {
  py::module_ m = parent.def_submodule("bootstrap", "CKKS bootstrapping pieces.");

  py::class_<ComplexTransform>(m, "ComplexTransform")
      .def(py::init([](const ckks::ContextPtr& ctx, const py::dict& diagonals, std::size_t level,
                       std::size_t baby_step, bool keep_encoded) {
             auto d = diagonals_copy(diagonals, ctx->slots());
             py::gil_scoped_release release;
             return ComplexTransform(ctx, d, level, baby_step, keep_encoded);
           }),
           py::arg("context"), py::arg("diagonals"), py::arg("level"), py::arg("baby_step") = 0,
           py::arg("keep_encoded") = true)
      .def("apply", [](const ComplexTransform& t, const KeySet& keys, const Ciphertext& x) {
        check_keys(keys, x);
        return t.apply(keys, x);
      }, Release())
      .def("required_rotations", &ComplexTransform::required_rotations)
      .def_property_readonly("level", &ComplexTransform::level)
      .def_property_readonly("baby_step", &ComplexTransform::baby_step)
      .def_property_readonly("plaintext_count", &ComplexTransform::plaintext_count)
      .def_property_readonly("byte_size", &ComplexTransform::byte_size);

  py::class_<ckks::EncapsulationKeys>(m, "EncapsulationKeys")
      .def_property_readonly("hamming_weight", [](const ckks::EncapsulationKeys& e) { return e.hamming_weight; })
      .def_property_readonly("key_id", [](const ckks::EncapsulationKeys& e) { return e.key_id; })
      .def_property_readonly("byte_size", &ckks::EncapsulationKeys::byte_size);
  m.def("make_encapsulation_keys", &ckks::make_encapsulation_keys, py::arg("context"), py::arg("keys"),
        py::arg("hamming_weight") = 32, Release());
  // Kept in the key set (shared by its public copies, serialized with the
  // context): a server loaded from public bytes has them.
  m.def("install_encapsulation_keys", [](KeySet& keys, const ckks::EncapsulationKeys& enc) {
    SECURINFER_CHECK(enc.key_id == keys.key_id(), ContextMismatchError, "encapsulation keys belong to other keys");
    keys.set_encapsulation_keys(std::make_shared<const ckks::EncapsulationKeys>(enc));
  }, py::arg("keys"), py::arg("encapsulation"));
  m.def("encapsulation_keys", [](const KeySet& keys) -> std::optional<ckks::EncapsulationKeys> {
    auto enc = keys.encapsulation_keys();
    if (!enc) return std::nullopt;
    return *enc;
  }, py::arg("keys"));
  m.def("switch_to_sparse", &ckks::switch_to_sparse, Release());
  m.def("switch_from_sparse", &ckks::switch_from_sparse, Release());

  m.def("mod_raise", &ckks::mod_raise, py::arg("ct"), py::arg("level"), py::arg("scale"), Release());
  m.def("multiply_by_i", &ckks::multiply_by_i, py::arg("ct"), py::arg("negative") = false, Release());
  m.def("evaluate_chebyshev", [](const KeySet& keys, const Ciphertext& x, const std::vector<double>& coeffs) {
    check_keys(keys, x);
    return ckks::evaluate_chebyshev(keys, x, coeffs);
  }, Release());
  m.def("evaluate_chebyshev_masked", [](const KeySet& keys, const Ciphertext& x, const std::vector<double>& coeffs,
                                        const std::vector<std::vector<std::complex<double>>>& masks) {
    check_keys(keys, x);
    return ckks::evaluate_chebyshev_masked(keys, x, coeffs, masks);
  }, Release());
  m.def("eval_mod", [](const KeySet& keys, const Ciphertext& x, const std::vector<double>& coeffs,
                       std::size_t double_angles) {
    check_keys(keys, x);
    return ckks::eval_mod(keys, x, coeffs, double_angles);
  }, Release());
  m.def("chebyshev_depth", &ckks::chebyshev_depth);
  // The ciphertext at a lower level with a scale close to `scale` (one level spent).
  m.def("adjust_to", &ckks::adjust_to, py::arg("ct"), py::arg("level"), py::arg("scale"), Release());
  // Bookkeeping only: the same ring elements read at another scale (exact
  // corrections of known constant factors, no noise).
  m.def("with_scale", [](const Ciphertext& c, double scale) {
    SECURINFER_CHECK(std::isfinite(scale) && scale > 0, ParameterError, "scale must be finite and positive");
    Ciphertext r = c;
    r.scale = scale;
    return r;
  });
}

}  // namespace securinfer::bindings
