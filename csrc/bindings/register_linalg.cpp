// Encrypted linear algebra for the Python layer (securinfer.linalg wraps it).
// Preparation and application release the GIL.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cmath>
#include <string>
#include <vector>

#include "bindings/bindings.h"
#include "linalg/combinations.h"
#include "linalg/composed_rotations.h"
#include "linalg/diagonals.h"
#include "linalg/linear_transform.h"
#include "util/errors.h"

namespace py = pybind11;

namespace securinfer::bindings {
namespace {

using linalg::LinearTransform;
using DoubleMatrix = py::array_t<double, py::array::c_style | py::array::forcecast>;

// A row-major copy of a finite 2-D real matrix (copied so the GIL can go).
std::vector<double> matrix_copy(const DoubleMatrix& w) {
  if (w.ndim() != 2) throw ParameterError("matrix must be 2-D, got " + std::to_string(w.ndim()) + " dimensions");
  std::vector<double> v(w.data(), w.data() + w.size());
  for (double x : v)
    if (!std::isfinite(x)) throw ParameterError("matrix must be finite");
  return v;
}

}  // namespace

void register_linalg(py::module_& parent) {
  py::module_ m = parent.def_submodule("linalg", "Encrypted vector x plaintext matrix products.");

  py::class_<LinearTransform>(m, "LinearTransform")
      .def(py::init([](const ckks::ContextPtr& ctx, const DoubleMatrix& w, std::size_t level, std::size_t baby_step,
                       std::size_t batch, std::size_t stride) {
             auto values = matrix_copy(w);
             const auto rows = static_cast<std::size_t>(w.shape(0)), cols = static_cast<std::size_t>(w.shape(1));
             py::gil_scoped_release release;
             const auto set = batch == 0
                                  ? linalg::vector_matrix_diagonals(values.data(), rows, cols, ctx->slots())
                                  : linalg::batched_vector_matrix_diagonals(values.data(), rows, cols, ctx->slots(),
                                                                            batch, stride);
             return LinearTransform(ctx, set, level, baby_step);
           }),
           py::arg("context"), py::arg("matrix"), py::arg("level"), py::arg("baby_step") = 0,
           py::arg("batch") = 0, py::arg("stride") = 0)
      // Generalised diagonals given directly: y[j] = sum_k D_k[j] x[j + k] (mod
      // slots), for operators whose matrix is too large to form (a convolution
      // over a whole ciphertext). With a period, x is replicated first.
      .def_static(
          "from_diagonals",
          [](const ckks::ContextPtr& ctx, const std::vector<std::size_t>& steps, const DoubleMatrix& values,
             std::size_t rows, std::size_t cols, std::size_t level, std::size_t baby_step, std::size_t period) {
            const std::size_t slots = ctx->slots();
            if (values.ndim() != 2 || static_cast<std::size_t>(values.shape(0)) != steps.size() ||
                static_cast<std::size_t>(values.shape(1)) != slots)
              throw ParameterError("diagonals: one row of " + std::to_string(slots) + " slot values per step");
            if (rows == 0 || cols == 0 || rows > slots || cols > slots)
              throw ParameterError("diagonals: rows and cols must be 1.." + std::to_string(slots));
            auto flat = matrix_copy(values);
            // period > 0: the input (rows <= period values) is first replicated
            // slots / period times, so the diagonals read it modulo period.
            if (period != 0 && (period < rows || period > slots || slots % period != 0))
              throw ParameterError("diagonals: the period must divide the slots and hold the rows");
            linalg::DiagonalSet set;
            set.slots = slots;
            set.rows = rows;
            set.cols = cols;
            set.output_slots = cols;
            if (period != 0 && period < slots) {
              set.period = period;
              set.copies = slots / period;
            }
            for (std::size_t i = 0; i < steps.size(); ++i) {
              if (steps[i] >= slots) throw ParameterError("diagonals: each step must be in [0, slots)");
              if (!set.diagonals.emplace(steps[i], std::vector<double>(flat.begin() + i * slots,
                                                                       flat.begin() + (i + 1) * slots))
                       .second)
                throw ParameterError("diagonals: each step at most once");
            }
            py::gil_scoped_release release;
            return LinearTransform(ctx, set, level, baby_step);
          },
          py::arg("context"), py::arg("steps"), py::arg("values"), py::arg("rows"), py::arg("cols"),
          py::arg("level"), py::arg("baby_step") = 0, py::arg("period") = 0)
      .def("apply", &LinearTransform::apply, py::call_guard<py::gil_scoped_release>())
      .def("required_rotations", &LinearTransform::required_rotations)
      .def_property_readonly("rows", &LinearTransform::rows)
      .def_property_readonly("cols", &LinearTransform::cols)
      .def_property_readonly("level", &LinearTransform::level)
      .def_property_readonly("baby_step", &LinearTransform::baby_step)
      .def_property_readonly("giant_count", &LinearTransform::giant_count)
      .def_property_readonly("plaintext_count", &LinearTransform::plaintext_count)
      .def_property_readonly("output_slots", &LinearTransform::output_slots)
      .def_property_readonly("plaintext_scale", &LinearTransform::plaintext_scale)
      .def_property_readonly("run_length", &LinearTransform::run_length)
      .def_property_readonly("byte_size", &LinearTransform::byte_size);
  // (independent, Horner) key switches of a giant-step sum under these keys.
  m.def("giant_key_switches", [](const ckks::KeySet& k, const ckks::ContextPtr& c, const std::vector<std::size_t>& s,
                                  std::size_t chains) { return linalg::giant_key_switches(k, *c, s, chains); },
        py::arg("keys"), py::arg("context"), py::arg("steps"), py::arg("chains") = 1);

  // Linear combinations of many ciphertexts (combinations.h). Operands come as
  // lists of ciphertexts and are used in place (no copies).
  m.def("combine_scalars", [](const linalg::CiphertextRefs& xs, const DoubleMatrix& w) {
    auto weights = matrix_copy(w);
    if (static_cast<std::size_t>(w.shape(1)) != xs.size())
      throw ParameterError("combine: weights have " + std::to_string(w.shape(1)) + " columns for " +
                           std::to_string(xs.size()) + " ciphertexts");
    py::gil_scoped_release release;
    return linalg::combine_scalars(xs, weights.data(), static_cast<std::size_t>(w.shape(0)));
  });
  py::class_<linalg::EncodedColumns>(m, "EncodedColumns")
      .def(py::init([](const ckks::ContextPtr& ctx, const DoubleMatrix& w, std::size_t level) {
             auto values = matrix_copy(w);
             py::gil_scoped_release release;
             return linalg::EncodedColumns(ctx, values.data(), static_cast<std::size_t>(w.shape(0)),
                                           static_cast<std::size_t>(w.shape(1)), level);
           }),
           py::arg("context"), py::arg("matrix"), py::arg("level"))
      .def_property_readonly("count", &linalg::EncodedColumns::count)
      .def_property_readonly("width", &linalg::EncodedColumns::width)
      .def_property_readonly("level", &linalg::EncodedColumns::level)
      .def_property_readonly("scale", &linalg::EncodedColumns::scale)
      .def_property_readonly("byte_size", &linalg::EncodedColumns::byte_size);
  m.def("combine_plain", &linalg::combine_plain, py::call_guard<py::gil_scoped_release>());
  m.def("combine_plain_many", &linalg::combine_plain_many, py::call_guard<py::gil_scoped_release>());
  m.def("sum_of_products", &linalg::sum_of_products, py::call_guard<py::gil_scoped_release>());
  m.def("sum_of_products_many", &linalg::sum_of_products_many, py::call_guard<py::gil_scoped_release>());
}

}  // namespace securinfer::bindings
