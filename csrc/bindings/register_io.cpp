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

// The input of a parse that runs without the GIL: immutable bytes are read
// in place (a public context is gigabytes; a copy would double them), a
// bytearray or memoryview is copied first, since its owner could change it
// meanwhile. Destroy it with the GIL held (it may hold a reference).
class InputBytes {
 public:
  explicit InputBytes(const py::handle& obj) {
    if (py::isinstance<py::bytes>(obj)) {
      keep_ = py::reinterpret_borrow<py::object>(obj);
      data_ = reinterpret_cast<const std::uint8_t*>(PyBytes_AS_STRING(obj.ptr()));
      size_ = static_cast<std::size_t>(PyBytes_GET_SIZE(obj.ptr()));
      return;
    }
    if (!PyObject_CheckBuffer(obj.ptr()))
      throw SerializationError("expected bytes, bytearray or memoryview, got " +
                               std::string(py::str(py::type::of(obj).attr("__name__"))));
    py::buffer_info info = py::reinterpret_borrow<py::buffer>(obj).request();
    if (info.ndim != 1 || info.itemsize != 1 || info.strides[0] != 1)
      throw SerializationError("expected contiguous bytes");
    copy_.assign(static_cast<const char*>(info.ptr), static_cast<std::size_t>(info.size));
    data_ = reinterpret_cast<const std::uint8_t*>(copy_.data());
    size_ = copy_.size();
  }
  const std::uint8_t* data() const { return data_; }
  std::size_t size() const { return size_; }
  // Wipes what this object owns (a copy); the caller's bytes are the caller's.
  void wipe_copy() { secure_wipe(copy_.data(), copy_.size()); }

 private:
  py::object keep_;
  std::string copy_;
  const std::uint8_t* data_ = nullptr;
  std::size_t size_ = 0;
};

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
    InputBytes bytes(data);
    py::gil_scoped_release release;
    return io::load_ciphertext(bytes.data(), bytes.size(), ctx, keys.key_id());
  });
  m.def("save_context", [](const ckks::Context& ctx, const ckks::KeySet& keys, bool include_secret) {
    // Sized first, then written straight into the bytes object: a public
    // context at N = 2^16 is 2.35 GB, and a vector plus its copy doubled it.
    std::size_t size;
    {
      py::gil_scoped_release release;
      size = io::context_size(ctx, keys, include_secret);
    }
    py::bytes out = py::reinterpret_steal<py::bytes>(PyBytes_FromStringAndSize(nullptr, static_cast<Py_ssize_t>(size)));
    if (!out) throw py::error_already_set();
    auto* buffer = reinterpret_cast<std::uint8_t*>(PyBytes_AS_STRING(out.ptr()));
    {
      // No other reference to `out` exists yet: nothing reads it while it is written.
      py::gil_scoped_release release;
      try {
        io::save_context_into(buffer, size, ctx, keys, include_secret);
      } catch (...) {
        secure_wipe(buffer, size);  // it may hold part of a secret key
        throw;
      }
    }
    return out;
  });
  m.def("load_context", [](const py::handle& data) {
    InputBytes bytes(data);
    std::pair<ckks::ContextPtr, ckks::KeySet> loaded;
    {
      py::gil_scoped_release release;
      loaded = io::load_context(bytes.data(), bytes.size());
    }
    bytes.wipe_copy();
    return py::make_tuple(std::const_pointer_cast<ckks::Context>(loaded.first), loaded.second);
  });
}

}  // namespace securinfer::bindings
