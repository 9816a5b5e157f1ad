// Low-level kernels for tests, benchmarks and advanced users
// (securinfer.kernels): modular arithmetic, primes, NTT plans, element-wise ops.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <memory>
#include <optional>

#include "arith/modarith.h"
#include "arith/primes.h"
#include "bindings/bindings.h"
#include "bindings/numpy_checks.h"
#include "eltwise/dot_accumulate.h"
#include "eltwise/eltwise.h"
#include "ntt/ntt_plan.h"
#include "ring/base_converter.h"
#include "simd/dispatch.h"

namespace py = pybind11;

namespace securinfer::bindings {
namespace {

using std::uint64_t;

simd::SimdPath resolve_path(const std::optional<std::string>& path, uint64_t q) {
  if (!path) return simd::select_path(q);
  return simd::checked_path(simd::parse_path(*path), q);
}

// A fresh output array with the input's values, for the in-place kernels.
U64Array copy_of(const U64Array& a) {
  U64Array out(a.size());
  std::copy(a.data(), a.data() + a.size(), out.mutable_data());
  return out;
}

void check_same_length(const U64Array& a, const U64Array& b) {
  if (a.size() != b.size())
    throw ParameterError("arrays must have the same length, got " + std::to_string(a.size()) + " and " +
                         std::to_string(b.size()));
}

U64Array apply_ntt(const ntt::NttPlan& plan, const py::handle& data, bool forward) {
  U64Array in = as_u64_vector(data, "data");
  if (static_cast<std::size_t>(in.size()) != plan.degree())
    throw ParameterError("data must have length " + std::to_string(plan.degree()) + ", got " +
                         std::to_string(in.size()));
  check_below(in, plan.modulus(), "data");
  U64Array out = copy_of(in);
  uint64_t* p = out.mutable_data();
  {
    py::gil_scoped_release release;
    forward ? plan.forward(p) : plan.inverse(p);
  }
  return out;
}

using Binary = void (*)(uint64_t*, const uint64_t*, const uint64_t*, std::size_t, const arith::Modulus&);

// a op b for the element-wise binary kernels, with every input checked.
U64Array binary_kernel(const py::handle& a_obj, const py::handle& b_obj, uint64_t q,
                       const std::optional<std::string>& path, Binary eltwise::EltwiseKernels::*member,
                       const U64Array* accumulator = nullptr) {
  const arith::Modulus mod(q);
  U64Array a = as_u64_vector(a_obj, "a"), b = as_u64_vector(b_obj, "b");
  check_same_length(a, b);
  check_below(a, q, "a");
  check_below(b, q, "b");
  const auto& kernels = eltwise::kernels_for(resolve_path(path, q));
  U64Array out = accumulator ? copy_of(*accumulator) : U64Array(a.size());
  {
    py::gil_scoped_release release;
    (kernels.*member)(out.mutable_data(), a.data(), b.data(), a.size(), mod);
  }
  return out;
}

}  // namespace

void register_kernels(py::module_& parent) {
  py::module_ m = parent.def_submodule("kernels", "Low-level modular arithmetic, NTT and element-wise kernels.");

  m.def("is_prime", &arith::is_prime, py::arg("n"));
  m.def("generate_ntt_primes", &arith::generate_ntt_primes, py::arg("bits"), py::arg("poly_degree"),
        py::arg("count"), py::arg("exclude") = std::vector<uint64_t>{});
  m.def("minimal_primitive_root", &arith::minimal_primitive_root, py::arg("order"), py::arg("q"));

  m.def("add_mod", [](uint64_t a, uint64_t b, uint64_t q) {
    arith::Modulus mod(q);
    SECURINFER_CHECK(a < q && b < q, ParameterError, "operands must be below q");
    return arith::add_mod(a, b, q);
  });
  m.def("sub_mod", [](uint64_t a, uint64_t b, uint64_t q) {
    arith::Modulus mod(q);
    SECURINFER_CHECK(a < q && b < q, ParameterError, "operands must be below q");
    return arith::sub_mod(a, b, q);
  });
  m.def("mul_mod", [](uint64_t a, uint64_t b, uint64_t q) {
    arith::Modulus mod(q);
    SECURINFER_CHECK(a < q && b < q, ParameterError, "operands must be below q");
    return arith::mul_mod(a, b, mod);
  });
  m.def("mul_shoup", [](uint64_t a, uint64_t w, uint64_t q) {
    arith::Modulus mod(q);
    SECURINFER_CHECK(w < q, ParameterError, "the constant must be below q");
    return arith::mul_shoup(a, w, arith::shoup_precompute(w, q), q);
  }, "a * w mod q through a Shoup-precomputed constant w < q; a may be any 64-bit value.");
  m.def("pow_mod", [](uint64_t base, uint64_t e, uint64_t q) { return arith::pow_mod(base, e, arith::Modulus(q)); });
  m.def("inv_mod", &arith::inv_mod, py::arg("a"), py::arg("q"));

  py::class_<ntt::NttPlan>(m, "NttPlan", "Negacyclic NTT over Z_q[X]/(X^N + 1) for one (N, q).")
      .def(py::init([](std::size_t n, uint64_t q, const std::optional<std::string>& path) {
             if (!path) return ntt::NttPlan(n, q);
             return ntt::NttPlan(n, q, simd::parse_path(*path));
           }),
           py::arg("n"), py::arg("q"), py::arg("path") = py::none(), py::call_guard<py::gil_scoped_release>())
      .def_property_readonly("degree", &ntt::NttPlan::degree)
      .def_property_readonly("modulus", &ntt::NttPlan::modulus)
      .def_property_readonly("root", [](const ntt::NttPlan& p) { return p.tables().psi; })
      .def_property_readonly("path", [](const ntt::NttPlan& p) { return simd::path_name(p.path()); })
      .def("forward", [](const ntt::NttPlan& p, const py::handle& d) { return apply_ntt(p, d, true); },
           py::arg("data"))
      .def("inverse", [](const ntt::NttPlan& p, const py::handle& d) { return apply_ntt(p, d, false); },
           py::arg("data"));

  const auto path_arg = py::arg("path") = py::none();
  m.def("eltwise_add", [](py::handle a, py::handle b, uint64_t q, std::optional<std::string> path) {
    return binary_kernel(a, b, q, path, &eltwise::EltwiseKernels::add);
  }, py::arg("a"), py::arg("b"), py::arg("q"), path_arg);
  m.def("eltwise_sub", [](py::handle a, py::handle b, uint64_t q, std::optional<std::string> path) {
    return binary_kernel(a, b, q, path, &eltwise::EltwiseKernels::sub);
  }, py::arg("a"), py::arg("b"), py::arg("q"), path_arg);
  m.def("eltwise_mul", [](py::handle a, py::handle b, uint64_t q, std::optional<std::string> path) {
    return binary_kernel(a, b, q, path, &eltwise::EltwiseKernels::mul);
  }, py::arg("a"), py::arg("b"), py::arg("q"), path_arg);
  m.def("eltwise_mul_add",
        [](py::handle acc_obj, py::handle a, py::handle b, uint64_t q, std::optional<std::string> path) {
          U64Array acc = as_u64_vector(acc_obj, "acc");
          check_below(acc, q, "acc");
          U64Array a_arr = as_u64_vector(a, "a");
          check_same_length(acc, a_arr);
          return binary_kernel(a, b, q, path, &eltwise::EltwiseKernels::mul_add, &acc);
        },
        py::arg("acc"), py::arg("a"), py::arg("b"), py::arg("q"), path_arg,
        "acc + a * b mod q, element-wise.");
  m.def("eltwise_negate", [](py::handle a_obj, uint64_t q, std::optional<std::string> path) {
    const arith::Modulus mod(q);
    U64Array a = as_u64_vector(a_obj, "a");
    check_below(a, q, "a");
    const auto& kernels = eltwise::kernels_for(resolve_path(path, q));
    U64Array out(a.size());
    py::gil_scoped_release release;
    kernels.negate(out.mutable_data(), a.data(), a.size(), mod);
    return out;
  }, py::arg("a"), py::arg("q"), path_arg);
  m.def("eltwise_mul_scalar", [](py::handle a_obj, uint64_t w, uint64_t q, std::optional<std::string> path) {
    const arith::Modulus mod(q);
    SECURINFER_CHECK(w < q, ParameterError, "the scalar must be below q");
    U64Array a = as_u64_vector(a_obj, "a");
    check_below(a, q, "a");
    const auto& kernels = eltwise::kernels_for(resolve_path(path, q));
    U64Array out(a.size());
    const uint64_t w_shoup = arith::shoup_precompute(w, q);
    py::gil_scoped_release release;
    kernels.mul_scalar(out.mutable_data(), a.data(), w, w_shoup, a.size(), mod);
    return out;
  }, py::arg("a"), py::arg("w"), py::arg("q"), path_arg);
  m.def("eltwise_dot", [](const std::vector<py::handle>& a_objs, const std::vector<py::handle>& b_objs, uint64_t q,
                          std::optional<std::string> path) {
    // sum_t a[t] * b[t] mod q with one reduction per coefficient (key switching's inner product).
    if (a_objs.size() != b_objs.size()) throw ParameterError("a and b must hold the same number of arrays");
    const arith::Modulus mod(q);
    std::vector<U64Array> a, b;
    std::vector<const uint64_t*> pa, pb;
    for (std::size_t t = 0; t < a_objs.size(); ++t) {
      a.push_back(as_u64_vector(a_objs[t], "a"));
      b.push_back(as_u64_vector(b_objs[t], "b"));
      check_same_length(a.back(), b.back());
      check_same_length(a.back(), a.front());
      check_below(a.back(), q, "a");
      check_below(b.back(), q, "b");
      pa.push_back(a.back().data());
      pb.push_back(b.back().data());
    }
    const simd::SimdPath chosen = resolve_path(path, q);
    const std::size_t n = a.empty() ? 0 : static_cast<std::size_t>(a.front().size());
    U64Array out(n);
    py::gil_scoped_release release;
    eltwise::dot_accumulate(out.mutable_data(), pa.data(), pb.data(), pa.size(), n, mod, chosen);
    return out;
  }, py::arg("a"), py::arg("b"), py::arg("q"), path_arg);
  m.def("base_convert", [](const std::vector<py::handle>& limb_objs, const std::vector<uint64_t>& from,
                           const std::vector<uint64_t>& to, bool centered, std::optional<std::string> path) {
    // Fast base conversion (key switching's ModUp/ModDown) of one polynomial in
    // coefficient form, given as one array per source prime; one array per target.
    if (limb_objs.size() != from.size() || from.empty() || to.empty())
      throw ParameterError("give one array per source prime, and at least one source and one target prime");
    std::vector<U64Array> limbs;
    for (std::size_t i = 0; i < from.size(); ++i) {
      limbs.push_back(as_u64_vector(limb_objs[i], "limbs"));
      check_same_length(limbs.back(), limbs.front());
      check_below(limbs.back(), from[i], "limbs");
    }
    const std::size_t n = static_cast<std::size_t>(limbs.front().size());
    std::vector<std::unique_ptr<ring::RnsPrime>> owned;
    ring::PrimeList from_list, to_list;
    for (int side = 0; side < 2; ++side)
      for (uint64_t q : side == 0 ? from : to) {
        owned.push_back(std::make_unique<ring::RnsPrime>(n, q, resolve_path(path, q)));
        (side == 0 ? from_list : to_list).push_back(owned.back().get());
      }
    const ring::BaseConverter conv(from_list, to_list);
    std::vector<uint64_t> in(from.size() * n), out(to.size() * n);
    for (std::size_t i = 0; i < from.size(); ++i) std::copy(limbs[i].data(), limbs[i].data() + n, in.data() + i * n);
    {
      py::gil_scoped_release release;
      centered ? conv.convert_centered(in.data(), out.data(), n) : conv.convert(in.data(), out.data(), n);
    }
    std::vector<U64Array> result;
    for (std::size_t j = 0; j < to.size(); ++j) {
      U64Array limb(n);
      std::copy(out.data() + j * n, out.data() + (j + 1) * n, limb.mutable_data());
      result.push_back(limb);
    }
    return result;
  }, py::arg("limbs"), py::arg("from_primes"), py::arg("to_primes"), py::arg("centered"), path_arg);
}

}  // namespace securinfer::bindings
