// Maps each C++ exception type to its class in securinfer.errors.
#include <pybind11/pybind11.h>

#include "bindings/bindings.h"
#include "util/errors.h"

namespace py = pybind11;

namespace securinfer::bindings {

void register_errors(py::module_& m) {
  // securinfer/__init__.py imports securinfer.errors before _core, so this finds
  // the module already loaded.
  py::module_ errors = py::module_::import("securinfer.errors");
  // Keep the classes alive for the translator (module objects live forever).
  static py::object base = errors.attr("SecurinferError");
  static py::object parameter = errors.attr("ParameterError");
  static py::object shape = errors.attr("ShapeError");
  static py::object security = errors.attr("SecurityError");
  static py::object missing_key = errors.attr("MissingKeyError");
  static py::object mismatch = errors.attr("ContextMismatchError");
  static py::object level = errors.attr("LevelError");
  static py::object serialization = errors.attr("SerializationError");
  (void)m;
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const ShapeError& e) {
      PyErr_SetString(shape.ptr(), e.what());
    } catch (const ParameterError& e) {
      PyErr_SetString(parameter.ptr(), e.what());
    } catch (const SecurityError& e) {
      PyErr_SetString(security.ptr(), e.what());
    } catch (const MissingKeyError& e) {
      PyErr_SetString(missing_key.ptr(), e.what());
    } catch (const ContextMismatchError& e) {
      PyErr_SetString(mismatch.ptr(), e.what());
    } catch (const LevelError& e) {
      PyErr_SetString(level.ptr(), e.what());
    } catch (const SerializationError& e) {
      PyErr_SetString(serialization.ptr(), e.what());
    } catch (const Error& e) {
      PyErr_SetString(base.ptr(), e.what());
    } catch (const std::bad_alloc&) {
      PyErr_SetString(PyExc_MemoryError, "securinfer: out of memory");
    }
  });
}

}  // namespace securinfer::bindings
