// The CKKS scheme for the Python layer (securinfer.Context / Ciphertext wrap
// these). Every call that does real work releases the GIL.
#include <pybind11/complex.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cmath>
#include <optional>

#include "bindings/bindings.h"
#include "ckks/encryption.h"
#include "ckks/evaluator.h"
#include "ckks/rotation.h"
#include "ckks/slot_layout.h"
#include "ring/automorphism.h"
#include "util/aligned_buffer.h"
#include "util/errors.h"
#include "ring/rns_ops.h"

#include <cstring>
#include <string>
#include <unordered_set>

namespace py = pybind11;

namespace securinfer::bindings {
namespace {

using ckks::Ciphertext;
using ckks::Complex;
using ckks::ContextPtr;
using ckks::KeySet;
using ComplexArray = py::array_t<Complex, py::array::c_style | py::array::forcecast>;
using Release = py::call_guard<py::gil_scoped_release>;

// A 1-D complex copy of a numeric numpy array of at most `slots` finite values.
std::vector<Complex> to_values(const py::array& arr, std::size_t slots) {
  const char kind = arr.dtype().kind();
  if (kind != 'f' && kind != 'c' && kind != 'i' && kind != 'u')
    throw ParameterError("values must be a numeric array (float, complex or int), got dtype " +
                         std::string(py::str(arr.dtype())));
  if (arr.ndim() != 1) throw ParameterError("values must be one-dimensional, got " + std::to_string(arr.ndim()) + " dimensions");
  if (static_cast<std::size_t>(arr.size()) > slots)
    throw ParameterError("vector of " + std::to_string(arr.size()) + " values does not fit the " +
                         std::to_string(slots) + " slots of this context");
  ComplexArray c = ComplexArray::ensure(arr);
  if (!c) throw py::error_already_set();
  std::vector<Complex> v(c.data(), c.data() + c.size());
  for (std::size_t i = 0; i < v.size(); ++i)
    if (!std::isfinite(v[i].real()) || !std::isfinite(v[i].imag()))
      throw ParameterError("values must be finite; values[" + std::to_string(i) + "] is not");
  return v;
}

bool is_complex_dtype(const py::array& arr) { return arr.dtype().kind() == 'c'; }

py::bytes as_bytes(const util::Sha256Digest& d) {
  return py::bytes(reinterpret_cast<const char*>(d.data()), d.size());
}

ckks::Padding parse_padding(const std::string& name) {
  if (name == "zeros") return ckks::Padding::zeros;
  if (name == "replicated") return ckks::Padding::replicated;
  if (name == "undefined") return ckks::Padding::undefined;
  throw ParameterError("padding must be 'zeros', 'replicated' or 'undefined', got '" + name + "'");
}


// TEST ONLY (see _testing_secret_values_in_freed_pool below).
py::tuple testing_secret_values_in_freed_pool(const ContextPtr& context, const KeySet& keys, const std::string& what,
                                              const Ciphertext* ct) {
  // Copy the freed blocks first: computing the reference may reuse them.
  std::size_t freed_words = 0;
  testing_scan_freed_blocks([&](const std::uint64_t*, std::size_t count) { freed_words += count; });
  std::vector<std::uint64_t> freed;
  freed.reserve(freed_words);  // one allocation: the pool may hold 512 MiB
  testing_scan_freed_blocks([&](const std::uint64_t* w, std::size_t count) { freed.insert(freed.end(), w, w + count); });
  std::unordered_set<std::uint64_t> wanted;
  const std::size_t n = context->degree();
  std::vector<std::uint64_t> work(n);
  auto keep = [&](const std::uint64_t* v) {
    // Words below 2^32 are too common to tell (a long session frees millions of 30-bit residues).
    for (std::size_t k = 0; k < n; ++k) if (v[k] >> 32) wanted.insert(v[k]);
  };
  auto add_product = [&](const ring::RnsPoly& a, const ring::PrimeList& primes) {
    for (std::size_t i = 0; i < primes.size(); ++i) {
      primes[i]->ops->mul(work.data(), a.limb(i), keys.secret().s.limb(i), n, primes[i]->modulus);
      keep(work.data());
    }
  };
  if (what == "public_key") {
    add_product(keys.public_key().a, context->key_primes());
  } else if (what == "relin") {
    for (const auto& a : keys.relin_key().a) add_product(a, context->key_primes());
  } else if (what == "encryption" || what == "decryption" || what == "ciphertext") {
    if (ct == nullptr || ct->polys.size() != 2 || ct->key_id != keys.key_id())
      throw ParameterError("this check needs a two-polynomial ciphertext of these keys");
    const auto& primes = context->level_primes(ct->level);
    if (what == "encryption") {
      add_product(ct->polys[1], primes);
    } else if (what == "ciphertext") {
      for (std::size_t i = 0; i <= ct->level; ++i) keep(ct->polys[0].limb(i));
    } else {
      ring::RnsPoly m = ct->polys[0];
      for (std::size_t i = 0; i <= ct->level; ++i)
        primes[i]->ops->mul_add(m.limb(i), ct->polys[1].limb(i), keys.secret().s.limb(i), n, primes[i]->modulus);
      ring::ntt_inverse(m, primes);
      for (std::size_t i = 0; i <= ct->level; ++i) keep(m.limb(i));
      if (ct->level == 0) {  // the decoder's centred doubles too (one prime: no CRT needed)
        const std::uint64_t q = primes[0]->value();
        for (std::size_t k = 0; k < n; ++k) {
          const std::uint64_t r = m.limb(0)[k];
          const double v = r > q / 2 ? -static_cast<double>(q - r) : static_cast<double>(r);
          std::uint64_t bits;
          std::memcpy(&bits, &v, sizeof bits);
          if (std::fabs(v) >= 0x1p20) wanted.insert(bits);
        }
      }
      m.wipe();
    }
  } else {
    throw ParameterError("what must be 'encryption', 'decryption', 'public_key', 'relin' or 'ciphertext'");
  }
  secure_wipe(work.data(), n * sizeof(std::uint64_t));
  std::unordered_set<std::uint64_t> found;
  for (std::uint64_t w : freed) if (wanted.count(w)) found.insert(w);
  secure_wipe(freed.data(), freed.size() * sizeof(std::uint64_t));
  return py::make_tuple(found.size(), wanted.size());
}

}  // namespace

void register_ckks(py::module_& parent) {
  py::module_ m = parent.def_submodule("ckks", "RNS-CKKS scheme.");

  // The light, comparable parameter value (equality in full; hash from the fingerprint).
  py::class_<ckks::CkksParameters>(m, "Parameters")
      .def_readonly("poly_degree", &ckks::CkksParameters::poly_degree)
      .def_readonly("q_primes", &ckks::CkksParameters::q_primes)
      .def_readonly("p_primes", &ckks::CkksParameters::p_primes)
      .def_readonly("default_scale", &ckks::CkksParameters::default_scale)
      .def_readonly("enforce_security", &ckks::CkksParameters::enforce_security)
      .def_property_readonly("fingerprint", [](const ckks::CkksParameters& p) { return as_bytes(p.fingerprint()); })
      .def_property_readonly("canonical_bytes", [](const ckks::CkksParameters& p) {
        const auto b = p.canonical_bytes();
        return py::bytes(reinterpret_cast<const char*>(b.data()), b.size());
      })
      .def_property_readonly("legacy_fingerprint", &ckks::CkksParameters::legacy_fingerprint)
      .def("__eq__", [](const ckks::CkksParameters& a, const ckks::CkksParameters& b) { return a == b; }, py::is_operator())
      .def("__hash__", [](const ckks::CkksParameters& p) {
        const auto d = p.fingerprint();
        std::int64_t h = 0;
        for (int i = 0; i < 8; ++i) h = (h << 8) | d[i];
        return h;
      });

  py::class_<ckks::Context, std::shared_ptr<ckks::Context>>(m, "CkksContext")
      .def(py::init([](std::size_t n, const std::vector<int>& bits, int scale_bits, std::size_t special,
                       bool enforce_security, std::optional<std::string> path) {
             auto params = ckks::CkksParameters::from_bit_sizes(n, bits, scale_bits, special, enforce_security);
             std::optional<simd::SimdPath> p;
             if (path) p = simd::parse_path(*path);
             return std::make_shared<ckks::Context>(std::move(params), p);
           }),
           py::arg("poly_degree"), py::arg("coeff_bits"), py::arg("scale_bits"), py::arg("special_primes"),
           py::arg("enforce_security"), py::arg("simd_path") = py::none(), Release())
      .def("with_simd_path",
           [](const ckks::Context& c, const std::string& path) {
             return std::make_shared<ckks::Context>(c.params(), simd::parse_path(path));
           })
      .def_property_readonly("poly_degree", &ckks::Context::degree)
      .def_property_readonly("slots", &ckks::Context::slots)
      .def_property_readonly("max_level", &ckks::Context::max_level)
      .def_property_readonly("fingerprint", [](const ckks::Context& c) { return as_bytes(c.fingerprint()); })
      .def_property_readonly("parameters", [](const ckks::Context& c) { return c.params(); })
      .def("same_parameters", [](const ckks::Context& a, const ckks::Context& b) { return a.same_parameters(b); })
      .def_property_readonly("q_primes", [](const ckks::Context& c) { return c.params().q_primes; })
      .def_property_readonly("p_primes", [](const ckks::Context& c) { return c.params().p_primes; })
      .def_property_readonly("dnum", [](const ckks::Context& c) { return c.params().dnum(); })
      .def_property_readonly("default_scale", [](const ckks::Context& c) { return c.params().default_scale; })
      .def_property_readonly("total_modulus_bits", [](const ckks::Context& c) { return c.params().total_modulus_bits(); })
      .def_property_readonly("enforce_security", [](const ckks::Context& c) { return c.params().enforce_security; })
      .def("level_scale", &ckks::Context::level_scale)
      .def("galois_element", [](const ckks::Context& c, long long step) {
        return ring::rotation_galois_element(c.degree(), step);
      })
      .def_property_readonly("conjugation_element", [](const ckks::Context& c) {
        return ring::conjugation_galois_element(c.degree());
      })
      .def("kernel_paths", [](const ckks::Context& c) {
        std::vector<std::string> out;
        for (auto* p : c.key_primes()) out.push_back(simd::path_name(p->ntt.path()));
        return out;
      });

  m.def("max_secure_modulus_bits", &ckks::max_secure_modulus_bits);
  m.def("rotation_plan", static_cast<std::vector<long long> (*)(std::size_t, long long)>(&ckks::rotation_plan));

  py::class_<KeySet>(m, "KeySet")
      .def(py::init([](const ContextPtr& ctx) { return KeySet::generate(ctx); }), Release())
      .def_property_readonly("key_id", &KeySet::key_id)
      .def_property_readonly("has_secret", &KeySet::has_secret)
      .def("without_secret", &KeySet::without_secret)
      .def("galois_elements", &KeySet::galois_elements)
      .def("has_galois_key", &KeySet::has_galois_key)
      .def("add_galois_keys",
           [](KeySet& keys, const ContextPtr& ctx, const std::vector<std::uint64_t>& elements) {
             for (auto g : elements) keys.add_galois_key(ctx, g);
           },
           Release())
      .def_property_readonly("galois_byte_size", &KeySet::galois_byte_size)
      .def_property_readonly("relin_byte_size", [](const KeySet& k) { return k.relin_key().byte_size(); })
      .def_property_readonly("public_byte_size", [](const KeySet& k) {
        return (k.public_key().a.words() + k.public_key().b.words()) * 8;
      });

  py::class_<Ciphertext>(m, "Ciphertext")
      .def_property_readonly("level", [](const Ciphertext& c) { return c.level; })
      .def_property_readonly("scale", [](const Ciphertext& c) { return c.scale; })
      .def_property_readonly("slots_used", [](const Ciphertext& c) { return c.slots_used; })
      .def_property_readonly("padding", [](const Ciphertext& c) { return std::string(ckks::padding_name(c.padding)); })
      .def_property_readonly("period", [](const Ciphertext& c) { return c.period; })
      .def_property_readonly("is_complex", [](const Ciphertext& c) { return c.is_complex; })
      .def_property_readonly("polys", &Ciphertext::size)
      .def_property_readonly("byte_size", &Ciphertext::byte_size)
      .def_property_readonly("key_id", [](const Ciphertext& c) { return c.key_id; })
      .def_property_readonly("fingerprint", [](const Ciphertext& c) { return as_bytes(c.context->fingerprint()); })
      .def("rehome", [](const Ciphertext& c, const ContextPtr& ctx) {
        ckks::require_same_parameters(*ctx, *c.context, "ciphertext and context");
        Ciphertext r = c;
        r.context = ctx;
        return r;
      });

  m.def("encrypt", [](const ContextPtr& ctx, const KeySet& keys, const py::array& values) {
    auto v = to_values(values, ctx->slots());
    const bool complex_values = is_complex_dtype(values);
    py::gil_scoped_release release;
    const std::size_t L = ctx->max_level();
    auto pt = ckks::encode(ctx, v.data(), v.size(), L, ctx->level_scale(L));
    Ciphertext ct = ckks::encrypt(ctx, keys, pt, v.size());
    ct.is_complex = complex_values;
    pt.poly.wipe();  // the client's data, encoded: not left in a freed block either
    secure_wipe(v.data(), v.size() * sizeof(v[0]));
    return ct;
  });
  m.def("decrypt", [](const KeySet& keys, const Ciphertext& ct, double flooding_sigma) {
    std::vector<Complex> out;
    {
      py::gil_scoped_release release;
      out = ckks::decrypt(keys, ct, flooding_sigma);
    }
    return ComplexArray(out.size(), out.data());
  }, py::arg("keys"), py::arg("ct"), py::arg("flooding_sigma") = 0.0);
  m.def("decrypt_flooded", [](const KeySet& keys, const Ciphertext& ct, double statistical_bits, double queries,
                              bool real_data, double error_bound) {
    std::vector<Complex> out;
    ckks::FloodingReport report;
    {
      py::gil_scoped_release release;
      const ckks::FloodingOptions options{statistical_bits, queries, real_data, error_bound};
      out = ckks::decrypt_flooded(keys, ct, options, &report);
    }
    py::dict info;
    info["error_bound"] = report.error_estimate;
    info["sigma"] = report.sigma;
    return py::make_tuple(ComplexArray(out.size(), out.data()), info);
  }, py::arg("keys"), py::arg("ct"), py::arg("statistical_bits") = 30.0, py::arg("queries") = 1.0,
     py::arg("real_data") = true, py::arg("error_bound") = 0.0,
     "Decrypt with deterministic noise flooding sized from the ciphertext's error (ckks/flooding.h); "
     "returns (slots, {'error_bound', 'sigma'}).");
  m.def("_testing_secret_values_in_freed_pool", &testing_secret_values_in_freed_pool, py::arg("context"),
        py::arg("keys"), py::arg("what"), py::arg("ct") = nullptr,
        "TEST ONLY. (found, total): how many distinct secret-dependent words of `what` ('encryption': a s of "
        "ct; 'public_key' / 'relin': a s of the keys; 'decryption': c0 + c1 s of ct, coefficient form, and "
        "at level 0 the decoder's doubles; 'ciphertext': ct's own c0, a public control) lie in the blocks "
        "freed to the buffer cache.");
  m.def("_testing_release_freed_pool", &testing_release_freed_blocks,
        "TEST ONLY. Returns the buffer cache's freed blocks to the C allocator (the scan above then sees only "
        "what was freed since).");
  m.def("add", &ckks::add, Release());
  m.def("sub", &ckks::sub, Release());
  m.def("negate", &ckks::negate, Release());
  m.def("add_values", [](const Ciphertext& a, const py::array& values) {
    auto v = to_values(values, a.context->slots());
    const bool complex_values = is_complex_dtype(values);
    py::gil_scoped_release release;
    Ciphertext r = ckks::add_values(a, v.data(), v.size());
    r.is_complex = r.is_complex || complex_values;
    return r;
  });
  m.def("sub_values", [](const Ciphertext& a, const py::array& values, bool reversed) {
    auto v = to_values(values, a.context->slots());
    const bool complex_values = is_complex_dtype(values);
    py::gil_scoped_release release;
    Ciphertext r = ckks::sub_values(a, v.data(), v.size(), reversed);
    r.is_complex = r.is_complex || complex_values;
    return r;
  });
  m.def("multiply_values", [](const Ciphertext& a, const py::array& values) {
    auto v = to_values(values, a.context->slots());
    const bool complex_values = is_complex_dtype(values);
    py::gil_scoped_release release;
    Ciphertext r = ckks::multiply_values(a, v.data(), v.size());
    r.is_complex = r.is_complex || complex_values;
    return r;
  });
  m.def("add_scalar", &ckks::add_scalar, Release());
  m.def("multiply_scalar", &ckks::multiply_scalar, Release());
  m.def("multiply", [](const KeySet& keys, const Ciphertext& a, const Ciphertext& b) {
    return ckks::multiply(keys, a, b);
  }, Release());
  m.def("square", [](const KeySet& keys, const Ciphertext& a) {
    return ckks::square(keys, a);
  }, Release());
  m.def("rotate", [](const KeySet& keys, const Ciphertext& a, long long step) {
    return ckks::rotate(keys, a, step);
  }, Release());
  m.def("rotate_many", [](const KeySet& keys, const Ciphertext& a, const std::vector<long long>& steps) {
    return ckks::rotate_many(keys, a, steps);
  }, Release());
  m.def("conjugate", [](const KeySet& keys, const Ciphertext& a) {
    return ckks::conjugate(keys, a);
  }, Release());
  m.def("sum_slots", [](const KeySet& keys, const Ciphertext& a, std::size_t span) {
    return ckks::sum_slots(keys, a, span);
  }, py::arg("keys"), py::arg("a"), py::arg("span"), Release());
  m.def("drop_to_level", &ckks::drop_to_level, Release());
  m.def("lower_to_level", &ckks::lower_to_level, Release());
  // The linalg layer states the layout its rotations and masks produced.
  m.def("with_layout", [](const Ciphertext& c, std::size_t length, const std::string& padding, std::size_t period,
                          std::optional<bool> is_complex) {
    Ciphertext r = c;
    r.slots_used = length;
    r.padding = parse_padding(padding);
    r.period = period;
    if (is_complex) r.is_complex = *is_complex;
    ckks::validate_layout(r, /*serialization=*/false);
    return r;
  }, py::arg("ct"), py::arg("length"), py::arg("padding"), py::arg("period") = 0, py::arg("is_complex") = py::none());
}

}  // namespace securinfer::bindings
