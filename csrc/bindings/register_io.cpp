// Serialization for the Python layer: bytes in, objects out (and back).
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <string>

#include "bindings/bindings.h"
#include "io/serialize.h"
#include "io/serialized_size.h"
#include "util/errors.h"

namespace py = pybind11;

namespace securinfer::bindings {
namespace {

// An owned copy of a bytes-like object, so parsing can run without the GIL
// while the caller's buffer could change.
std::string owned_bytes(const py::handle& obj) {
  if (py::isinstance<py::bytes>(obj)) return std::string(py::reinterpret_borrow<py::bytes>(obj));
  if (PyObject_CheckBuffer(obj.ptr())) {
    py::buffer_info info = py::reinterpret_borrow<py::buffer>(obj).request();
    if (info.ndim != 1 || info.itemsize != 1 || info.strides[0] != 1)
      throw SerializationError("expected contiguous bytes");
    return std::string(static_cast<const char*>(info.ptr), static_cast<std::size_t>(info.size));
  }
  throw SerializationError("expected bytes, bytearray or memoryview, got " +
                           std::string(py::str(py::type::of(obj).attr("__name__"))));
}

py::bytes to_py(const io::Bytes& b) { return py::bytes(reinterpret_cast<const char*>(b.data()), b.size()); }

}  // namespace

void register_io(py::module_& parent) {
  py::module_ m = parent.def_submodule("io", "Versioned binary serialization.");
  m.def("max_ciphertext_bytes", &io::max_ciphertext_bytes);
  m.def("galois_key_bytes", &io::galois_key_bytes);
  m.def("public_context_bytes", &io::public_context_bytes, py::arg("parameters"), py::arg("galois_keys"));
  m.def("save_ciphertext", [](const ckks::Ciphertext& ct) {
    io::Bytes b;
    {
      py::gil_scoped_release release;
      b = io::save_ciphertext(ct);
    }
    return to_py(b);
  });
  m.def("load_ciphertext", [](const py::handle& data, const ckks::ContextPtr& ctx, const ckks::KeySet& keys) {
    std::string bytes = owned_bytes(data);
    py::gil_scoped_release release;
    return io::load_ciphertext(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size(), ctx, keys.key_id());
  });
  m.def("save_context", [](const ckks::Context& ctx, const ckks::KeySet& keys, bool include_secret) {
    io::Bytes b;
    {
      py::gil_scoped_release release;
      b = io::save_context(ctx, keys, include_secret);
    }
    py::bytes out = to_py(b);
    secure_wipe(b.data(), b.size());
    return out;
  });
  m.def("load_context", [](const py::handle& data) {
    std::string bytes = owned_bytes(data);
    std::pair<ckks::ContextPtr, ckks::KeySet> loaded;
    {
      py::gil_scoped_release release;
      loaded = io::load_context(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
    }
    secure_wipe(bytes.data(), bytes.size());
    return py::make_tuple(std::const_pointer_cast<ckks::Context>(loaded.first), loaded.second);
  });
}

}  // namespace securinfer::bindings
